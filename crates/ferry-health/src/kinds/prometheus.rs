//! Prometheus operator (`monitoring.coreos.com`): Prometheus, PrometheusAgent, Alertmanager
//! and ThanosRuler report `Available` (True, False, or Degraded while some pods are not ready)
//! and `Reconciled` conditions. Rules, monitors and probes have no status.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("monitoring.coreos.com", "Prometheus", workload),
    ecosystem("monitoring.coreos.com", "PrometheusAgent", workload),
    ecosystem("monitoring.coreos.com", "Alertmanager", workload),
    ecosystem("monitoring.coreos.com", "ThanosRuler", workload),
];

fn workload(obj: &Object<'_>) -> Option<Verdict> {
    if obj.flag(&["spec", "paused"]) || obj.flag(&["status", "paused"]) {
        return suspended(format!("{} is paused", obj.kind));
    }
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("Reconciled")
        && c.is_false()
    {
        return degraded(c.message);
    }
    match conditions.get("Available") {
        Some(c) if c.is_true() => healthy("All instances are available"),
        Some(c) if c.status == "Degraded" => progressing(if c.message.is_empty() {
            c.reason
        } else {
            c.message
        }),
        Some(c) if c.is_false() => degraded(c.message),
        _ => progressing(format!("Waiting for the {} instances", obj.kind)),
    }
}
