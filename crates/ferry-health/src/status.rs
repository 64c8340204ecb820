//! The two vocabularies of health: Argo CD's six statuses and kstatus' computed statuses, and the
//! result of one assessment carrying both.

use serde::{Deserialize, Serialize};

/// Argo CD's health status (`HealthStatusCode` in gitops-engine).
///
/// The declaration order is Argo CD's `healthOrder`: an application is as healthy as its least
/// healthy resource, so `Ord` ranks from best to worst (`Healthy < Suspended < Progressing <
/// Missing < Degraded < Unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// The object is in its desired state and working.
    Healthy,
    /// The object is paused or suspended on purpose (a paused Deployment, a suspended CronJob).
    Suspended,
    /// The object is moving towards its desired state.
    Progressing,
    /// The object does not exist in the cluster (decided by the caller, never from an object).
    Missing,
    /// The object failed, or cannot reach its desired state without help.
    Degraded,
    /// The health could not be worked out (a check failed, or the status is contradictory).
    Unknown,
}

impl Status {
    /// Every status, in Argo CD's order.
    pub const ALL: [Status; 6] = [
        Status::Healthy,
        Status::Suspended,
        Status::Progressing,
        Status::Missing,
        Status::Degraded,
        Status::Unknown,
    ];

    /// The name Argo CD uses (`"Healthy"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Healthy => "Healthy",
            Status::Suspended => "Suspended",
            Status::Progressing => "Progressing",
            Status::Missing => "Missing",
            Status::Degraded => "Degraded",
            Status::Unknown => "Unknown",
        }
    }

    /// Parses Argo CD's name of a status, exactly as spelled (Argo CD is case-sensitive too).
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The kstatus status that means the same thing, for objects judged by an Argo CD rule.
    ///
    /// `Suspended` maps to `Current`: the object is where its owner asked it to stay, so a wait
    /// on it is over (kstatus has no suspended state; a paused Deployment is `Current` there).
    pub fn to_kstatus(self) -> KStatus {
        match self {
            Status::Healthy | Status::Suspended => KStatus::Current,
            Status::Progressing => KStatus::InProgress,
            Status::Degraded => KStatus::Failed,
            Status::Missing => KStatus::NotFound,
            Status::Unknown => KStatus::Unknown,
        }
    }

    /// The worst status of many, by Argo CD's order (`None` when there is none).
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Option<Status> {
        statuses.into_iter().max()
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// kstatus' computed status (sigs.k8s.io/cli-utils `pkg/kstatus/status`), the view Flux's
/// `wait`, `healthChecks` and `dependsOn` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KStatus {
    /// The object has not reached its desired state yet.
    InProgress,
    /// The object failed to reach its desired state.
    Failed,
    /// The object reached its desired state.
    Current,
    /// The object is being deleted.
    Terminating,
    /// The object does not exist (decided by the caller, never from an object).
    NotFound,
    /// The status could not be computed.
    Unknown,
}

impl KStatus {
    /// The name kstatus uses (`"Current"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            KStatus::InProgress => "InProgress",
            KStatus::Failed => "Failed",
            KStatus::Current => "Current",
            KStatus::Terminating => "Terminating",
            KStatus::NotFound => "NotFound",
            KStatus::Unknown => "Unknown",
        }
    }

    /// The Argo CD status that means the same thing, for objects judged by kstatus' rules.
    pub fn to_status(self) -> Status {
        match self {
            KStatus::Current => Status::Healthy,
            KStatus::InProgress | KStatus::Terminating => Status::Progressing,
            KStatus::Failed => Status::Degraded,
            KStatus::NotFound => Status::Missing,
            KStatus::Unknown => Status::Unknown,
        }
    }
}

impl std::fmt::Display for KStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What decided the Argo CD view of an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Basis {
    /// A rule for a Kubernetes built-in kind, the checks gitops-engine has in Go.
    Core,
    /// A rule for a well-known custom resource (where Argo CD bundles a Lua customization).
    Ecosystem,
    /// The generic rule: generation, standard conditions and common phase names.
    Conventions,
    /// `metadata.deletionTimestamp` is set: Argo CD shows "Pending deletion" whatever the kind.
    PendingDeletion,
    /// A user's Argo CD Lua health script.
    Lua,
    /// A user's Flux CEL health expressions.
    Cel,
    /// Nothing: Argo CD shows no health for this object (a ConfigMap, an Application).
    None,
}

/// The health of one object, in both vocabularies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Argo CD's view; `None` where Argo CD shows no health (objects without any status, like a
    /// ConfigMap, and Argo CD Applications, whose built-in health check Argo CD removed in 1.8).
    pub status: Option<Status>,
    /// Argo CD's message ("" when the rule gives none).
    pub message: String,
    /// kstatus' view.
    pub kstatus: KStatus,
    /// kstatus' message.
    pub kstatus_message: String,
    /// What decided the Argo CD view.
    pub basis: Basis,
}

impl Health {
    /// The health of an object the cluster does not have.
    pub fn missing() -> Health {
        Health {
            status: Some(Status::Missing),
            message: String::new(),
            kstatus: KStatus::NotFound,
            kstatus_message: "Resource not found".to_owned(),
            basis: Basis::None,
        }
    }
}
