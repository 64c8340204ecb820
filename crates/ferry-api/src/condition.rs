//! Status conditions as Kubernetes' `metav1.Condition` and the types and reasons Flux uses,
//! with kstatus' conventions: `Reconciling` and `Stalled` are present only while true.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Condition types.
pub const READY: &str = "Ready";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";
pub const HEALTHY: &str = "Healthy";
pub const ARTIFACT_IN_STORAGE: &str = "ArtifactInStorage";
pub const FETCH_FAILED: &str = "FetchFailed";
pub const SOURCE_VERIFIED: &str = "SourceVerified";
pub const INCLUDE_UNAVAILABLE: &str = "IncludeUnavailable";
pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";

/// Condition reasons (Flux's spellings).
pub mod reason {
    pub const SUCCEEDED: &str = "Succeeded";
    pub const FAILED: &str = "Failed";
    pub const PROGRESSING: &str = "Progressing";
    pub const PROGRESSING_WITH_RETRY: &str = "ProgressingWithRetry";
    pub const RECONCILIATION_SUCCEEDED: &str = "ReconciliationSucceeded";
    pub const RECONCILIATION_FAILED: &str = "ReconciliationFailed";
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
    pub const BUILD_FAILED: &str = "BuildFailed";
    pub const HEALTH_CHECK_FAILED: &str = "HealthCheckFailed";
    pub const HEALTH_CHECK_CANCELED: &str = "HealthCheckCanceled";
    pub const PRUNE_FAILED: &str = "PruneFailed";
    pub const DELETION_FAILED: &str = "DeletionFailed";
    pub const INVALID_CEL_EXPRESSION: &str = "InvalidCELExpression";
    pub const POLICY_VIOLATION: &str = "PolicyViolation";
    pub const SUSPENDED: &str = "Suspended";
    pub const ACCESS_DENIED: &str = "AccessDenied";
    pub const INVALID_SPEC: &str = "InvalidSpec";
    // Source reasons.
    pub const GIT_OPERATION_FAILED: &str = "GitOperationFailed";
    pub const GIT_OPERATION_SUCCEEDED: &str = "GitOperationSucceeded";
    pub const AUTHENTICATION_FAILED: &str = "AuthenticationFailed";
    pub const VERIFICATION_ERROR: &str = "VerificationError";
    pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
    pub const NEW_REVISION: &str = "NewRevision";
    pub const URL_INVALID: &str = "URLInvalid";
    pub const INVALID_URL: &str = "InvalidURL";
}

/// `True`, `False` or `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl ConditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::True => "True",
            Self::False => "False",
            Self::Unknown => "Unknown",
        }
    }
}

/// One condition, as `metav1.Condition` serialises.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Ready`, `Reconciling`, ... or `example.com/Type`.
    #[serde(rename = "type")]
    #[schemars(
        length(max = 316),
        regex(
            pattern = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
        )
    )]
    pub type_: String,
    pub status: ConditionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,
    /// RFC 3339, seconds precision.
    #[schemars(extend("format" = "date-time"))]
    pub last_transition_time: String,
    /// CamelCase identifier of the cause.
    #[schemars(
        length(min = 1, max = 1024),
        regex(pattern = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    )]
    pub reason: String,
    #[schemars(length(max = 32768))]
    pub message: String,
}

/// Finds a condition by type.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of this type is `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == ConditionStatus::True)
}

/// Sets a condition, keeping `lastTransitionTime` when the status does not change, as
/// `meta.SetStatusCondition` does. `now` is RFC 3339.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: &str,
) {
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(existing) => {
            if existing.status != status {
                existing.status = status;
                existing.last_transition_time = now.to_owned();
            }
            existing.reason = reason.to_owned();
            existing.message = message.to_owned();
            existing.observed_generation = generation;
        }
        None => conditions.push(Condition {
            type_: type_.to_owned(),
            status,
            observed_generation: generation,
            last_transition_time: now.to_owned(),
            reason: reason.to_owned(),
            message: message.to_owned(),
        }),
    }
}

/// Removes the condition of this type.
pub fn remove(conditions: &mut Vec<Condition>, type_: &str) {
    conditions.retain(|c| c.type_ != type_);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_moves_only_on_status_change() {
        let mut conds = Vec::new();
        set(
            &mut conds,
            READY,
            ConditionStatus::False,
            "A",
            "m1",
            Some(1),
            "t1",
        );
        set(
            &mut conds,
            READY,
            ConditionStatus::False,
            "B",
            "m2",
            Some(2),
            "t2",
        );
        assert_eq!(conds[0].last_transition_time, "t1");
        assert_eq!(conds[0].reason, "B");
        set(
            &mut conds,
            READY,
            ConditionStatus::True,
            "C",
            "m3",
            Some(2),
            "t3",
        );
        assert_eq!(conds[0].last_transition_time, "t3");
        assert!(is_true(&conds, READY));
        remove(&mut conds, READY);
        assert!(conds.is_empty());
    }
}
