//! GitOps Promoter (`promoter.argoproj.io`): every object reports a `Ready` condition with the
//! generation it was computed for. Commit-status kinds add per-environment `phase`s (success,
//! pending, failure); a ChangeTransferPolicy compares the active and proposed dry commits.

use serde_json::Value;

use crate::object::{Object, field, lookup};
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing};

pub const RULES: &[Entry] = &[
    ecosystem(
        "promoter.argoproj.io",
        "ChangeTransferPolicy",
        change_transfer_policy,
    ),
    ecosystem("promoter.argoproj.io", "*", promoter_object),
];

/// The common part: deletion, missing status, stale or failing `Ready`.
fn base(obj: &Object<'_>) -> Option<Option<Verdict>> {
    if obj.is_deleting() {
        return Some(progressing(format!("{} is being deleted", obj.kind)));
    }
    if obj.has_no_status() {
        return Some(progressing(format!("Initializing {}", obj.kind)));
    }
    let Some(ready) = obj.conditions().get("Ready") else {
        return Some(progressing(format!(
            "{} Ready condition is missing",
            obj.kind
        )));
    };
    if let (Some(generation), Some(observed)) = (obj.generation(), ready.observed_generation)
        && observed < generation
    {
        return Some(progressing(format!(
            "Waiting for {} spec update to be observed",
            obj.kind
        )));
    }
    if ready.is_false() {
        return Some(degraded(format!(
            "{} reconciliation failed ({}): {}",
            obj.kind, ready.reason, ready.message
        )));
    }
    if !ready.is_true() {
        return Some(progressing(format!(
            "{} readiness unknown ({}): {}",
            obj.kind, ready.reason, ready.message
        )));
    }
    None
}

fn branches(environments: &[Value], phase: &str) -> Vec<String> {
    environments
        .iter()
        .filter(|e| field(e, "phase") == phase)
        .map(|e| field(e, "branch").to_owned())
        .collect()
}

fn promoter_object(obj: &Object<'_>) -> Option<Verdict> {
    if let Some(verdict) = base(obj) {
        return verdict;
    }
    let environments = obj.list(&["status", "environments"]);
    let failed = branches(environments, "failure");
    if !failed.is_empty() {
        return degraded(format!(
            "Validation failed for branch(es): {}",
            failed.join(", ")
        ));
    }
    let pending = branches(environments, "pending");
    if !pending.is_empty() {
        return progressing(format!(
            "Validation pending for branch(es): {}",
            pending.join(", ")
        ));
    }
    if environments.is_empty() {
        healthy(format!("{} is ready", obj.kind))
    } else {
        healthy(format!(
            "Validation passed for {} environment(s)",
            environments.len()
        ))
    }
}

fn dry_sha<'a>(obj: &Object<'a>, side: &str) -> &'a str {
    obj.get(&["status", side])
        .and_then(|s| lookup(s, &["dry", "sha"]))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn change_transfer_policy(obj: &Object<'_>) -> Option<Verdict> {
    if let Some(verdict) = base(obj) {
        return verdict;
    }
    let active = dry_sha(obj, "active");
    let proposed = dry_sha(obj, "proposed");
    if active.is_empty() {
        return progressing("The active commit DRY SHA is missing or empty.");
    }
    if proposed.is_empty() {
        return progressing("The proposed commit DRY SHA is missing or empty.");
    }
    if active != proposed {
        return progressing(format!(
            "Promotion in progress from '{active}' to '{proposed}'"
        ));
    }
    let statuses = obj.list(&["status", "active", "commitStatuses"]);
    let unsuccessful = statuses
        .iter()
        .filter(|s| field(s, "phase") != "success")
        .count();
    if unsuccessful > 0 {
        return healthy(format!(
            "Environment is up-to-date, but {unsuccessful} active commit status(es) are not successful"
        ));
    }
    healthy(format!("Environment is up-to-date on commit {active}."))
}
