//! autoscaling HorizontalPodAutoscaler (v1, v2, v2beta1, v2beta2). v1 objects carry their
//! conditions in the `autoscaling.alpha.kubernetes.io/conditions` annotation; later versions in
//! `.status.conditions`. Any condition saying the autoscaler cannot read its target or metrics
//! makes it Degraded; an autoscaler able to scale (or held at its bounds) is Healthy; otherwise
//! it is waiting for its first metrics.

use serde_json::Value;

use crate::object::{Condition, Conditions, Object};
use crate::rules::{Entry, Verdict, core, degraded, healthy, progressing};

pub const RULES: &[Entry] = &[core("autoscaling", "HorizontalPodAutoscaler", hpa)];

const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
const WAITING: &str = "Waiting to Autoscale";

fn is_failure(c: &Condition<'_>) -> bool {
    match c.kind {
        "AbleToScale" => c.reason.starts_with("Failed"),
        "ScalingActive" => c.reason.starts_with("Failed") || c.reason.starts_with("Invalid"),
        _ => false,
    }
}

fn is_working(c: &Condition<'_>) -> bool {
    match c.kind {
        "AbleToScale" => c.is_true() && !c.reason.starts_with("Failed"),
        "ScalingLimited" => c.is_true() && matches!(c.reason, "TooFewReplicas" | "TooManyReplicas"),
        _ => false,
    }
}

fn judge(conditions: &Conditions<'_>) -> Option<Verdict> {
    if let Some(failure) = conditions.iter().find(is_failure) {
        return degraded(failure.message);
    }
    if let Some(working) = conditions.iter().find(is_working) {
        return healthy(working.message);
    }
    progressing(WAITING)
}

fn hpa(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if obj.version != "v1" || !conditions.is_empty() {
        return judge(conditions);
    }
    let Some(annotation) = obj.annotation(CONDITIONS_ANNOTATION) else {
        return progressing(WAITING);
    };
    match serde_json::from_str::<Value>(annotation) {
        Ok(parsed) => judge(&Conditions::at(Some(&parsed))),
        Err(error) => degraded(format!(
            "failed to convert conditions annotation to typed: {error}"
        )),
    }
}
