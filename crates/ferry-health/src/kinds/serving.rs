//! Serverless and model serving: Knative (`serving.knative.dev`, `eventing.knative.dev`, ... and
//! its operator `operator.knative.dev`), KServe (`serving.kserve.io`), OpenFaaS
//! (`openfaas.com`) and SpinKube (`core.spinkube.dev`). Knative kinds follow the Knative
//! condition convention: `Ready` Unknown means still rolling out.

use crate::generic;
use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("operator.knative.dev", "*", knative_operator),
    ecosystem("*.knative.dev", "*", knative_object),
    ecosystem("serving.kserve.io", "InferenceService", inference_service),
    ecosystem("openfaas.com", "Function", openfaas_function),
    ecosystem("core.spinkube.dev", "SpinApp", spin_app),
];

/// Knative lists its conditions to explain a verdict: "Ready is Unknown, since X. message".
fn explain(obj: &Object<'_>, wanted: impl Fn(&crate::object::Condition<'_>) -> bool) -> String {
    obj.conditions()
        .iter()
        .filter(|c| wanted(c))
        .map(|c| {
            let mut line = format!("{} is {}", c.kind, c.status);
            if !c.reason.is_empty() {
                line.push_str(&format!(", since {}", c.reason));
            }
            if !c.message.is_empty() {
                line.push_str(&format!(". {}", c.message));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn knative_object(obj: &Object<'_>) -> Option<Verdict> {
    if obj.generation_not_observed() {
        return progressing("Waiting for the controller to observe the latest spec");
    }
    match obj.conditions().get("Ready") {
        Some(c) if c.is_true() => healthy(format!("Knative {} is healthy.", obj.kind)),
        Some(c) if c.is_false() => degraded(explain(obj, |c| c.is_false())),
        Some(_) => progressing(explain(obj, |c| !c.is_true())),
        None => progressing(format!("Waiting for Knative {}", obj.kind)),
    }
}

fn knative_operator(obj: &Object<'_>) -> Option<Verdict> {
    let listing = || {
        obj.conditions()
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}: {} | {}", i + 1, c.kind, c.status))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match obj.conditions().get("Ready") {
        Some(c) if c.is_true() => healthy(format!("{} is healthy.", obj.kind)),
        Some(c) if c.is_false() || c.is_unknown() => progressing(listing()),
        Some(_) => degraded(listing()),
        None => progressing(format!("Waiting for {}", obj.kind)),
    }
}

fn inference_service(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("Stopped")
        && c.is_true()
    {
        return suspended("InferenceService is Stopped");
    }
    let transition = obj.str_or_empty(&["status", "modelStatus", "transitionStatus"]);
    let failed = matches!(transition, "BlockedByFailedLoad" | "InvalidSpec")
        || conditions
            .iter()
            .any(|c| c.is_false() && c.reason.contains("Failed"));
    let listing = || {
        let mut lines = Vec::new();
        if !transition.is_empty() {
            lines.push(format!("0: transitionStatus | {transition}"));
        }
        for (i, c) in conditions.iter().filter(|c| !c.is_true()).enumerate() {
            lines.push(format!(
                "{}: {} | {} | {}",
                i + 1,
                c.kind,
                c.status,
                c.reason
            ));
        }
        lines.join("\n")
    };
    if failed {
        return degraded(listing());
    }
    match conditions.get("Ready") {
        Some(c) if c.is_true() && transition != "InProgress" => {
            healthy("InferenceService is healthy.")
        }
        _ => progressing(listing()),
    }
}

/// A Function scaled to zero is parked, not broken.
fn openfaas_function(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("Stalled")
        && c.is_true()
    {
        return degraded(c.message);
    }
    if let Some(c) = conditions.get("Ready")
        && c.is_true()
    {
        return match conditions.get("Healthy") {
            Some(h) if h.is_false() => suspended("No replicas available"),
            _ => healthy("Deployment and service reconciled"),
        };
    }
    progressing("Waiting for Function")
}

fn spin_app(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return progressing("Waiting for status to be available");
    }
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("Progressing") {
        if c.reason == "ProgressDeadlineExceeded" {
            return degraded(c.message);
        }
        if c.is_true() {
            return progressing(c.message);
        }
    }
    let ready = obj.int(&["status", "readyReplicas"]).unwrap_or(0);
    let wanted = obj.int(&["spec", "replicas"]).unwrap_or(1);
    if conditions.get("Available").is_some_and(|c| c.is_true()) && ready >= wanted {
        return healthy(format!(
            "Application is healthy with {ready}/{wanted} replicas ready"
        ));
    }
    generic::assess(obj).or_else(|| progressing("Waiting for the application to become available"))
}
