//! KEDA (`keda.sh`): ScaledObject and ScaledJob report `Ready`, `Active`, `Fallback` and
//! `Paused` conditions. A paused scaler is Suspended; a scaler whose triggers fail (Ready not
//! true) or that fell back to its fallback replicas is Degraded. TriggerAuthentications have
//! no status.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("keda.sh", "ScaledObject", scaler),
    ecosystem("keda.sh", "ScaledJob", scaler),
];

fn scaler(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    let paused_annotation = obj.annotation("autoscaling.keda.sh/paused") == Some("true")
        || obj
            .annotation("autoscaling.keda.sh/paused-replicas")
            .is_some();
    if let Some(c) = conditions.get("Paused")
        && c.is_true()
    {
        return suspended(c.message);
    }
    if paused_annotation {
        return suspended(format!("{} is paused", obj.kind));
    }
    let ready = conditions.get("Ready");
    if let Some(c) = ready
        && !c.is_true()
    {
        return degraded(c.message);
    }
    if let Some(c) = conditions.get("Fallback")
        && c.is_true()
    {
        return degraded(c.message);
    }
    if let Some(c) = ready {
        return healthy(c.message);
    }
    match conditions.get("Running") {
        Some(c) => progressing(c.message),
        None => progressing(format!("Waiting for {}", obj.kind)),
    }
}
