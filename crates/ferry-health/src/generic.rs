//! The generic rule for kinds ferry has no specific rule for, built on the conventions most
//! controllers follow: `status.observedGeneration` against `metadata.generation`, the standard
//! conditions (`Stalled`, `Ready`, `Reconciling`, `Available`, and the common `Synced`,
//! `Healthy`, `Succeeded`, ... with abnormal-true `Failed`/`Error`/`Degraded`), then a
//! `status.phase` or `status.state` word with a well-known meaning.

use crate::object::{Condition, Conditions, Object};
use crate::rules::{Verdict, degraded, healthy, progressing, suspended};
use crate::status::Status;

/// Judges an object by conventions; `None` when the object gives no signal at all (no status,
/// or a status with nothing recognisable), where Argo CD would show no health either.
pub fn assess(obj: &Object<'_>) -> Option<Verdict> {
    obj.status()?;
    if obj.generation_not_observed() {
        return progressing(format!(
            "Waiting for the controller to observe generation {}",
            obj.generation().unwrap_or(0)
        ));
    }
    let conditions = obj.conditions();
    if let Some(verdict) = by_conditions(obj, conditions) {
        return Some(verdict);
    }
    for path in [
        ["status", "phase"],
        ["status", "state"],
        ["status", "status"],
    ] {
        if let Some(word) = obj.str(&path)
            && let Some(status) = phase_meaning(word)
        {
            let message = obj
                .str(&["status", "message"])
                .or_else(|| obj.str(&["status", "reason"]))
                .unwrap_or(word);
            return Some(Verdict::new(status, message));
        }
    }
    None
}

/// Condition types whose True means the object works.
const POSITIVE: &[&str] = &[
    "Ready",
    "Available",
    "Healthy",
    "Synced",
    "Succeeded",
    "Complete",
    "Completed",
    "Established",
    "Running",
    "Active",
    "Accepted",
    "Programmed",
    "Reconciled",
    "Deployed",
    "Valid",
    "Admitted",
    "Installed",
];

/// Condition types whose True means the object failed (abnormal-true).
const NEGATIVE: &[&str] = &[
    "Stalled",
    "Failed",
    "Failure",
    "Error",
    "Degraded",
    "ReconcileError",
    "Invalid",
];

/// Condition types whose True means the object is still on its way (abnormal-true).
const IN_PROGRESS: &[&str] = &[
    "Reconciling",
    "Progressing",
    "Pending",
    "Creating",
    "Updating",
    "In-progress",
    "InProgress",
];

/// Reasons on a not-yet-true positive condition that say "still working on it", not "failed".
pub fn reason_means_progress(reason: &str) -> bool {
    const WORDS: &[&str] = &[
        "progress",
        "reconcil",
        "pending",
        "creat",
        "provision",
        "waiting",
        "install",
        "initializ",
        "updat",
        "upgrad",
        "deploying",
        "starting",
        "scaling",
        "notobserved",
        "inprogress",
        "unknown",
    ];
    let lower = reason.to_ascii_lowercase();
    WORDS.iter().any(|w| lower.contains(w))
}

fn message_of(c: &Condition<'_>) -> String {
    if c.message.is_empty() {
        c.reason.to_owned()
    } else {
        c.message.to_owned()
    }
}

fn by_conditions(obj: &Object<'_>, conditions: &Conditions<'_>) -> Option<Verdict> {
    let mut in_progress: Option<Condition<'_>> = None;
    for c in conditions.iter() {
        if c.is_true() && NEGATIVE.contains(&c.kind) {
            return degraded(message_of(&c));
        }
        if c.is_true() && IN_PROGRESS.contains(&c.kind) && in_progress.is_none() {
            in_progress = Some(c);
        }
    }
    if let Some(c) = conditions
        .iter()
        .find(|c| c.reason == "ProgressDeadlineExceeded")
    {
        return degraded(message_of(&c));
    }
    if let Some(c) = in_progress {
        return progressing(message_of(&c));
    }
    // `Ready` is the summary condition where it exists: it alone decides. Without it, every
    // positive condition must hold.
    if let Some(ready) = conditions.get("Ready") {
        if let Some(generation) = obj.generation()
            && ready.observed_generation.is_some_and(|o| o != generation)
        {
            return progressing(format!(
                "Waiting for Ready to be reported for generation {generation}"
            ));
        }
        return judge_positive(&ready);
    }
    let positives = || conditions.iter().filter(|c| POSITIVE.contains(&c.kind));
    if let Some(c) = positives().find(|c| !c.is_true()) {
        return judge_positive(&c);
    }
    let first = positives().next()?;
    healthy(first.message)
}

/// A positive condition's verdict: true is healthy; false is a failure unless its reason says
/// the controller is still working (or the object is parked); unknown is in progress.
fn judge_positive(c: &Condition<'_>) -> Option<Verdict> {
    if c.is_true() {
        return healthy(c.message);
    }
    if c.is_unknown() || reason_means_progress(c.reason) {
        return progressing(message_of(c));
    }
    if c.reason.eq_ignore_ascii_case("suspended") || c.reason.eq_ignore_ascii_case("paused") {
        return suspended(message_of(c));
    }
    degraded(message_of(c))
}

/// The meaning of a common phase or state word, `None` for words with no general meaning.
pub fn phase_meaning(word: &str) -> Option<Status> {
    let lower = word.to_ascii_lowercase();
    let status = match lower.as_str() {
        "running" | "ready" | "succeeded" | "success" | "successful" | "completed" | "complete"
        | "active" | "available" | "bound" | "healthy" | "deployed" | "established" | "synced"
        | "online" | "up" | "ok" | "done" | "reconciled" | "provisioned" | "created" => {
            Status::Healthy
        }
        "pending" | "creating" | "provisioning" | "updating" | "progressing" | "initializing"
        | "initialising" | "reconciling" | "inprogress" | "in progress" | "deploying"
        | "scaling" | "upgrading" | "starting" | "waiting" | "installing" | "deleting"
        | "terminating" | "new" | "unknown" | "" => Status::Progressing,
        "failed" | "failure" | "error" | "errored" | "degraded" | "unhealthy" | "invalid"
        | "crashloopbackoff" | "broken" => Status::Degraded,
        "suspended" | "paused" | "stopped" | "disabled" => Status::Suspended,
        _ => return None,
    };
    Some(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn judge(value: serde_json::Value) -> Option<(Status, String)> {
        assess(&Object::new(&value)).map(|v| (v.status, v.message))
    }

    #[test]
    fn no_status_means_no_opinion() {
        assert_eq!(
            judge(json!({"apiVersion": "x.io/v1", "kind": "Thing", "spec": {}})),
            None
        );
    }

    #[test]
    fn ready_outranks_other_positive_conditions() {
        let got = judge(
            json!({"apiVersion": "x.io/v1", "kind": "Thing", "status": {"conditions": [
                {"type": "Available", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "BackendDown", "message": "backend down"}
            ]}}),
        );
        assert_eq!(got, Some((Status::Degraded, "backend down".to_owned())));
    }

    #[test]
    fn a_waiting_reason_is_progress_not_failure() {
        let got = judge(
            json!({"apiVersion": "x.io/v1", "kind": "Thing", "status": {"conditions": [
                {"type": "Ready", "status": "False", "reason": "Provisioning"}
            ]}}),
        );
        assert_eq!(got, Some((Status::Progressing, "Provisioning".to_owned())));
    }

    #[test]
    fn an_unobserved_generation_is_progressing() {
        let got = judge(json!({"apiVersion": "x.io/v1", "kind": "Thing",
            "metadata": {"generation": 2},
            "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]}}));
        assert_eq!(got.map(|g| g.0), Some(Status::Progressing));
    }

    #[test]
    fn phases_have_their_common_meaning() {
        let got = judge(
            json!({"apiVersion": "x.io/v1", "kind": "Thing", "status": {"phase": "Failed", "message": "boom"}}),
        );
        assert_eq!(got, Some((Status::Degraded, "boom".to_owned())));
        assert_eq!(
            judge(json!({"apiVersion": "x.io/v1", "kind": "Thing", "status": {"phase": "Weird"}})),
            None
        );
    }
}
