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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use serde_json::json;

    fn verdict(value: serde_json::Value) -> (Status, String) {
        let obj = Object::new(&value);
        let (rule, _) = crate::rules::lookup(obj.group, obj.kind).expect("a rule");
        let v = rule(&obj).expect("a verdict");
        (v.status, v.message)
    }

    #[test]
    fn a_partitioned_stateful_set_waits_for_its_partition_only() {
        let rolling = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"generation": 2},
            "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}},
            "status": {"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 1}});
        assert_eq!(
            verdict(rolling.clone()),
            (
                Status::Progressing,
                "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...".to_owned()
            )
        );
        let mut done = rolling;
        done["status"]["updatedReplicas"] = json!(2);
        assert_eq!(verdict(done).0, Status::Healthy);
    }

    #[test]
    fn a_stateful_set_rolls_until_revisions_match() {
        let value = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"generation": 1},
            "spec": {"replicas": 2, "updateStrategy": {"type": "RollingUpdate"}},
            "status": {"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 1,
                       "currentReplicas": 1, "currentRevision": "web-1", "updateRevision": "web-2"}});
        assert_eq!(verdict(value).0, Status::Progressing);
    }

    #[test]
    fn a_replica_set_with_a_failure_is_degraded() {
        let value = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "spec": {"replicas": 2},
            "status": {"availableReplicas": 0, "conditions": [
                {"type": "ReplicaFailure", "status": "True", "message": "pods \"web-\" is forbidden: quota"}]}});
        assert_eq!(
            verdict(value),
            (
                Status::Degraded,
                "pods \"web-\" is forbidden: quota".to_owned()
            )
        );
    }
}
