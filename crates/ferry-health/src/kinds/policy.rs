//! policy/v1 PodDisruptionBudget: Healthy while disruptions are allowed, Degraded when the
//! budget cannot be met.

use crate::object::Object;
use crate::rules::{Entry, Verdict, core, degraded, healthy, progressing};

pub const RULES: &[Entry] = &[core("policy", "PodDisruptionBudget", pod_disruption_budget)];

fn pod_disruption_budget(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return progressing("Waiting for status");
    }
    // The disruption controller appends a SyncFailed entry after the budget entry when it
    // cannot compute the budget: the last DisruptionAllowed entry is the current one.
    let last = obj
        .conditions()
        .iter()
        .filter(|c| c.kind == "DisruptionAllowed")
        .last();
    match last {
        Some(c) if c.is_true() => healthy(format!("PodDisruptionBudget has {}", c.reason)),
        Some(c) => degraded(format!("PodDisruptionBudget has {}", c.reason)),
        None => {
            let healthy_pods = obj.int(&["status", "currentHealthy"]).unwrap_or(0);
            let desired = obj.int(&["status", "desiredHealthy"]).unwrap_or(0);
            if healthy_pods >= desired {
                healthy(format!(
                    "Budget is met: {healthy_pods}/{desired} healthy pods"
                ))
            } else {
                degraded(format!(
                    "Budget not met: {healthy_pods}/{desired} healthy pods"
                ))
            }
        }
    }
}
