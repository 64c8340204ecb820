//! Numaflow (`numaflow.numaproj.io`) and its rollout manager Numaplane
//! (`numaplane.numaproj.io`). Both report conditions about their child resources; Numaplane
//! marks a failed progressive upgrade with the `numaplane.numaproj.io/progressive-result-state`
//! label on the Numaflow object, and with `ProgressiveUpgradeSucceeded` on its own rollouts.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing};

pub const RULES: &[Entry] = &[
    ecosystem("numaflow.numaproj.io", "*", numaflow_object),
    ecosystem("numaplane.numaproj.io", "*", numaplane_rollout),
];

const PROGRESSIVE_RESULT: &str = "numaplane.numaproj.io/progressive-result-state";

fn numaflow_object(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() || obj.generation_not_observed() {
        return progressing(format!("Waiting for {} status", obj.kind));
    }
    let failed_upgrade = obj
        .get(&["metadata", "labels", PROGRESSIVE_RESULT])
        .and_then(serde_json::Value::as_str)
        == Some("failed");
    if failed_upgrade {
        return degraded("Failed progressive upgrade");
    }
    match obj.str_or_empty(&["status", "phase"]) {
        "Failed" => return degraded(obj.str_or_empty(&["status", "message"])),
        "Paused" => return healthy(format!("{} is paused", obj.kind)),
        _ => {}
    }
    let conditions = obj.conditions();
    if let Some(c) = conditions.iter().find(|c| c.is_false()) {
        // A Pipeline aggregates its parts; the others say what is wrong themselves.
        if obj.kind == "Pipeline" {
            return degraded("Subresources are unhealthy");
        }
        return degraded(if c.message.is_empty() {
            c.reason
        } else {
            c.message
        });
    }
    if conditions.iter().any(|c| c.is_unknown()) {
        return progressing(format!("Waiting for {} status", obj.kind));
    }
    healthy(format!("{} is healthy", obj.kind))
}

fn numaplane_rollout(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() || obj.generation_not_observed() {
        return progressing("Not yet reconciled");
    }
    let child = obj.kind.strip_suffix("Rollout").unwrap_or(obj.kind);
    if obj.str(&["status", "phase"]) == Some("Failed") {
        return degraded(obj.str_or_empty(&["status", "message"]));
    }
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("ProgressiveUpgradeSucceeded")
        && c.is_false()
    {
        return degraded("Progressive upgrade failed");
    }
    if obj.str(&["status", "phase"]) == Some("Pending")
        || obj
            .str(&["status", "upgradeInProgress"])
            .is_some_and(|u| !u.is_empty())
    {
        return progressing("Update in progress");
    }
    if conditions
        .iter()
        .any(|c| c.is_true() && c.kind.ends_with("PausingOrPaused"))
    {
        return healthy(format!("{child} paused"));
    }
    if let Some(c) = conditions.get("ChildResourcesHealthy") {
        if c.is_false() && c.reason == "Progressing" {
            return progressing("Child Progressing");
        }
        if c.is_false() {
            return degraded(format!("{child} Failed"));
        }
        if c.is_unknown() {
            return progressing("Child Progressing");
        }
    }
    healthy("Healthy")
}
