//! apps/v1 workload controllers: Deployment, StatefulSet, DaemonSet, ReplicaSet, judged as
//! gitops-engine does (rollout progress against observedGeneration, paused Deployments,
//! ProgressDeadlineExceeded, partitioned and OnDelete StatefulSets).

use crate::object::Object;
use crate::rules::{Entry, Verdict, core, degraded, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    core("apps", "Deployment", deployment),
    core("extensions", "Deployment", deployment),
    core("apps", "StatefulSet", stateful_set),
    core("apps", "DaemonSet", daemon_set),
    core("extensions", "DaemonSet", daemon_set),
    core("apps", "ReplicaSet", replica_set),
    core("extensions", "ReplicaSet", replica_set),
];

fn int(obj: &Object<'_>, path: &[&str]) -> i64 {
    obj.int(path).unwrap_or(0)
}

/// True when the controller has seen the latest spec (a missing generation counts as 0, as in
/// the typed Go objects gitops-engine converts to).
fn generation_observed(obj: &Object<'_>) -> bool {
    obj.generation().unwrap_or(0) <= obj.observed_generation().unwrap_or(0)
}

fn deployment(obj: &Object<'_>) -> Option<Verdict> {
    if obj.flag(&["spec", "paused"]) {
        return suspended("Deployment is paused");
    }
    if !generation_observed(obj) {
        return progressing(
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        );
    }
    let deadline_exceeded = obj
        .conditions()
        .get("Progressing")
        .is_some_and(|c| c.reason == "ProgressDeadlineExceeded");
    if deadline_exceeded {
        return degraded(format!(
            "Deployment {:?} exceeded its progress deadline",
            obj.name()
        ));
    }
    let replicas = int(obj, &["status", "replicas"]);
    let updated = int(obj, &["status", "updatedReplicas"]);
    let available = int(obj, &["status", "availableReplicas"]);
    if let Some(spec) = obj.int(&["spec", "replicas"])
        && updated < spec
    {
        return progressing(format!(
            "Waiting for rollout to finish: {updated} out of {spec} new replicas have been updated..."
        ));
    }
    if replicas > updated {
        return progressing(format!(
            "Waiting for rollout to finish: {} old replicas are pending termination...",
            replicas - updated
        ));
    }
    if available < updated {
        return progressing(format!(
            "Waiting for rollout to finish: {available} of {updated} updated replicas are available..."
        ));
    }
    healthy("")
}

fn stateful_set(obj: &Object<'_>) -> Option<Verdict> {
    let observed = obj.observed_generation().unwrap_or(0);
    if observed == 0 || obj.generation().unwrap_or(0) > observed {
        return progressing("Waiting for statefulset spec update to be observed...");
    }
    let spec = obj.int(&["spec", "replicas"]);
    let ready = int(obj, &["status", "readyReplicas"]);
    let updated = int(obj, &["status", "updatedReplicas"]);
    if let Some(spec) = spec
        && ready < spec
    {
        return progressing(format!("Waiting for {} pods to be ready...", spec - ready));
    }
    let strategy = obj.str_or_empty(&["spec", "updateStrategy", "type"]);
    let rolling = obj.get(&["spec", "updateStrategy", "rollingUpdate"]);
    if strategy == "RollingUpdate" && rolling.is_some_and(|r| !r.is_null()) {
        let partition = obj.int(&["spec", "updateStrategy", "rollingUpdate", "partition"]);
        if let (Some(spec), Some(partition)) = (spec, partition) {
            let wanted = spec - partition;
            if updated < wanted {
                return progressing(format!(
                    "Waiting for partitioned roll out to finish: {updated} out of {wanted} new pods have been updated..."
                ));
            }
        }
        return healthy(format!(
            "partitioned roll out complete: {updated} new pods have been updated..."
        ));
    }
    if strategy == "OnDelete" {
        return healthy(format!("statefulset has {ready} ready pods"));
    }
    let update_revision = obj.str_or_empty(&["status", "updateRevision"]);
    let current_revision = obj.str_or_empty(&["status", "currentRevision"]);
    if update_revision != current_revision {
        return progressing(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
        ));
    }
    let current = int(obj, &["status", "currentReplicas"]);
    healthy(format!(
        "statefulset rolling update complete {current} pods at revision {current_revision}..."
    ))
}

fn daemon_set(obj: &Object<'_>) -> Option<Verdict> {
    if !generation_observed(obj) {
        return progressing(
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        );
    }
    let desired = int(obj, &["status", "desiredNumberScheduled"]);
    let updated = int(obj, &["status", "updatedNumberScheduled"]);
    let available = int(obj, &["status", "numberAvailable"]);
    if obj.str(&["spec", "updateStrategy", "type"]) == Some("OnDelete") {
        return healthy(format!(
            "daemon set {updated} out of {desired} new pods have been updated"
        ));
    }
    if updated < desired {
        return progressing(format!(
            "Waiting for daemon set {:?} rollout to finish: {updated} out of {desired} new pods have been updated...",
            obj.name()
        ));
    }
    if available < desired {
        return progressing(format!(
            "Waiting for daemon set {:?} rollout to finish: {available} of {desired} updated pods are available...",
            obj.name()
        ));
    }
    healthy("")
}

fn replica_set(obj: &Object<'_>) -> Option<Verdict> {
    if !generation_observed(obj) {
        return progressing(
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        );
    }
    if let Some(failure) = obj.conditions().get("ReplicaFailure")
        && failure.is_true()
    {
        return degraded(failure.message);
    }
    let available = int(obj, &["status", "availableReplicas"]);
    if let Some(spec) = obj.int(&["spec", "replicas"])
        && available < spec
    {
        return progressing(format!(
            "Waiting for rollout to finish: {available} out of {spec} new replicas are available..."
        ));
    }
    healthy("")
}
