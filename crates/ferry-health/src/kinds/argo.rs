//! argoproj.io: Argo Workflows (Workflow, CronWorkflow), Argo Rollouts (Rollout, AnalysisRun,
//! Experiment), Argo Events (EventBus), Argo CD (Application, ApplicationSet).

use crate::object::Object;
use crate::rules::{
    Entry, Verdict, core, degraded, ecosystem, healthy, progressing, suspended, unknown,
};

pub const RULES: &[Entry] = &[
    // gitops-engine judges Workflows in Go; the others are Lua customizations in Argo CD.
    core("argoproj.io", "Workflow", workflow),
    core("argoproj.io", "Application", application),
    ecosystem("argoproj.io", "CronWorkflow", cron_workflow),
    ecosystem("argoproj.io", "Rollout", rollout),
    ecosystem("argoproj.io", "AnalysisRun", analysis_run),
    ecosystem("argoproj.io", "Experiment", experiment),
    ecosystem("argoproj.io", "ApplicationSet", application_set),
    ecosystem("argoproj.io", "EventBus", event_bus),
];

/// Argo CD removed the health of Applications in 1.8: a parent app must not turn Degraded
/// because a child is. App-of-apps users who want it back write a Lua check.
fn application(_: &Object<'_>) -> Option<Verdict> {
    None
}

fn workflow(obj: &Object<'_>) -> Option<Verdict> {
    let message = obj.str_or_empty(&["status", "message"]);
    match obj.str_or_empty(&["status", "phase"]) {
        "" | "Pending" | "Running" => progressing(message),
        "Succeeded" => healthy(message),
        "Failed" | "Error" => degraded(message),
        _ => unknown(message),
    }
}

fn cron_workflow(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    for c in conditions.iter() {
        if c.is_true() && matches!(c.kind, "SpecError" | "SubmissionError") {
            return degraded(c.message);
        }
    }
    if let Some(c) = conditions.get("Completed")
        && c.is_true()
    {
        return healthy(c.message);
    }
    healthy("CronWorkflow is healthy.")
}

/// The observed generation of a Rollout is a string: a number since v0.10, a pod-template hash
/// before (which says nothing about the generation).
fn rollout_generation_observed(obj: &Object<'_>) -> bool {
    let observed = match obj.get(&["status", "observedGeneration"]) {
        Some(serde_json::Value::String(s)) => s.parse::<i64>().ok(),
        Some(other) => crate::object::as_int(other),
        None => None,
    };
    match (observed, obj.generation()) {
        (Some(observed), Some(generation)) => observed >= generation,
        _ => true,
    }
}

const SPEC_NOT_OBSERVED: &str = "Waiting for rollout spec update to be observed";

fn rollout(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() || !rollout_generation_observed(obj) {
        return progressing(SPEC_NOT_OBSERVED);
    }
    // A Rollout referencing a Deployment (workloadRef) records the Deployment generation it saw.
    if let Some(workload) = obj.annotation("rollout.argoproj.io/workload-generation")
        && let Some(observed) = obj.str(&["status", "workloadObservedGeneration"])
        && workload != observed
    {
        return progressing(SPEC_NOT_OBSERVED);
    }
    // Since v1.0 the controller computes the phase itself.
    let message = obj.str_or_empty(&["status", "message"]);
    match obj.str_or_empty(&["status", "phase"]) {
        "Healthy" => return healthy(""),
        "Degraded" => return degraded(message),
        "Paused" => return suspended(message),
        "Progressing" => return progressing(message),
        _ => {}
    }
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("InvalidSpec")
        && c.is_true()
    {
        return degraded(c.message);
    }
    let progressing_condition = conditions.get("Progressing");
    if obj.flag(&["status", "abort"])
        || progressing_condition.is_some_and(|c| c.reason == "RolloutAborted")
    {
        return degraded("Rollout is aborted");
    }
    if let Some(c) = progressing_condition
        && c.reason == "ProgressDeadlineExceeded"
    {
        return degraded(c.message);
    }
    let paused = obj.flag(&["spec", "paused"])
        || obj.flag(&["status", "controllerPause"])
        || obj
            .get(&["status", "pauseStartTime"])
            .is_some_and(|v| !v.is_null())
        || !obj.list(&["status", "pauseConditions"]).is_empty()
        || progressing_condition.is_some_and(|c| c.reason == "RolloutPaused");
    if paused {
        return suspended("Rollout is paused");
    }
    let spec = obj.int(&["spec", "replicas"]).unwrap_or(1);
    let replicas = obj.int(&["status", "replicas"]).unwrap_or(0);
    let updated = obj.int(&["status", "updatedReplicas"]).unwrap_or(0);
    let available = obj.int(&["status", "availableReplicas"]).unwrap_or(0);
    if updated < spec {
        return progressing("Waiting for roll out to finish: More replicas need to be updated");
    }
    if available < updated {
        return progressing(
            "Waiting for roll out to finish: updated replicas are still becoming available",
        );
    }
    if replicas > updated {
        return progressing("Waiting for roll out to finish: old replicas are pending termination");
    }
    let pod_hash = obj.str_or_empty(&["status", "currentPodHash"]);
    if obj.get(&["spec", "strategy", "blueGreen"]).is_some() {
        let active = obj
            .str(&["status", "blueGreen", "activeSelector"])
            .or_else(|| obj.str(&["status", "activeSelector"]))
            .unwrap_or("");
        if active != pod_hash {
            return progressing("Waiting for roll out to finish: switching the active service");
        }
    } else if obj.get(&["spec", "strategy", "canary"]).is_some() {
        let stable = obj
            .str(&["status", "stableRS"])
            .or_else(|| obj.str(&["status", "canary", "stableRS"]))
            .unwrap_or("");
        if stable != pod_hash {
            return progressing("Waiting for roll out to finish: the canary is not yet stable");
        }
    }
    healthy("")
}

fn analysis_run(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return progressing("Waiting for analysis run to finish: status has not been reconciled.");
    }
    let message = obj.str(&["status", "message"]).filter(|m| !m.is_empty());
    match obj.str_or_empty(&["status", "phase"]) {
        "Successful" => healthy(message.unwrap_or("Analysis run completed successfully")),
        "Failed" => degraded(message.unwrap_or("Analysis run failed")),
        "Error" => degraded(message.unwrap_or("Analysis run had an error")),
        "Inconclusive" => unknown(message.unwrap_or("Analysis run was inconclusive")),
        _ => progressing("Analysis run is running"),
    }
}

fn experiment(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return progressing("Waiting for experiment to finish: status has not been reconciled.");
    }
    match obj.str_or_empty(&["status", "phase"]) {
        "Pending" => progressing("Experiment is pending"),
        "Running" => progressing("Experiment is running"),
        "Successful" => healthy("Experiment is successful"),
        "Failed" => degraded("Experiment has failed"),
        "Error" => degraded("Experiment had an error"),
        "Inconclusive" => unknown("Experiment was inconclusive"),
        _ => progressing("Waiting for experiment to finish: status has not been reconciled."),
    }
}

fn application_set(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if obj.has_no_status() || conditions.is_empty() {
        return progressing("Waiting for the status to be reported");
    }
    if let Some(c) = conditions.get("ErrorOccurred")
        && c.is_true()
    {
        return degraded(c.message);
    }
    let up_to_date = conditions.get("ResourcesUpToDate");
    if let Some(c) = up_to_date
        && c.is_false()
    {
        return degraded(c.message);
    }
    if let Some(c) = conditions.get("RolloutProgressing")
        && c.is_true()
    {
        return progressing(c.message);
    }
    match up_to_date {
        Some(c) if c.is_true() => healthy(c.message),
        _ => progressing("Waiting for the status to be reported"),
    }
}

fn event_bus(obj: &Object<'_>) -> Option<Verdict> {
    match obj.conditions().get("Deployed") {
        Some(c) if c.is_true() => healthy(c.message),
        Some(c) if c.is_false() => degraded(c.message),
        _ => progressing("Waiting for the event bus to be deployed"),
    }
}
