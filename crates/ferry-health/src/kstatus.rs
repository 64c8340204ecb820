//! kstatus' computation (sigs.k8s.io/cli-utils `pkg/kstatus/status.Compute`), the health view of
//! Flux: deletion, then generation/observedGeneration, then the `Reconciling` and `Stalled`
//! conditions, then a kind-specific rule for the built-in kinds kstatus knows, then a `Ready`
//! condition, and otherwise Current.

use crate::object::Object;
use crate::status::KStatus;

/// kstatus' verdict: a status and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The status.
    pub status: KStatus,
    /// Why, in kstatus' words.
    pub message: String,
}

fn verdict(status: KStatus, message: impl Into<String>) -> Verdict {
    Verdict {
        status,
        message: message.into(),
    }
}

fn in_progress(message: impl Into<String>) -> Verdict {
    verdict(KStatus::InProgress, message)
}

fn current(message: impl Into<String>) -> Verdict {
    verdict(KStatus::Current, message)
}

fn failed(message: impl Into<String>) -> Verdict {
    verdict(KStatus::Failed, message)
}

/// Computes kstatus' status of any object.
pub fn compute(obj: &Object<'_>) -> Verdict {
    if obj.is_deleting() {
        return verdict(KStatus::Terminating, "Resource scheduled for deletion");
    }
    if let Some(v) = generic_properties(obj) {
        return v;
    }
    if let Some(rule) = kind_rule(obj.group, obj.kind) {
        return rule(obj);
    }
    if let Some(v) = ready_condition(obj) {
        return v;
    }
    current("Resource is current")
}

/// The generation check and the abnormal-true `Reconciling` / `Stalled` conditions.
pub fn generic_properties(obj: &Object<'_>) -> Option<Verdict> {
    if let (Some(generation), Some(observed)) = (obj.generation(), obj.observed_generation())
        && generation != observed
    {
        return Some(in_progress(format!(
            "{} generation is {generation}, but latest observed generation is {observed}",
            obj.kind
        )));
    }
    for c in obj.conditions().iter() {
        if c.kind == "Reconciling" && c.is_true() {
            return Some(in_progress(reason_message(c.reason, c.message)));
        }
        if c.kind == "Stalled" && c.is_true() {
            return Some(failed(c.message));
        }
    }
    None
}

/// The message of an in-progress verdict made from a condition: its message, else its reason.
fn reason_message(reason: &str, message: &str) -> String {
    if message.is_empty() {
        reason.to_owned()
    } else {
        message.to_owned()
    }
}

/// A `Ready` condition, which kstatus honours for kinds it has no rule for.
fn ready_condition(obj: &Object<'_>) -> Option<Verdict> {
    let ready = obj.conditions().get("Ready")?;
    if ready.is_true() {
        Some(current("Resource is Ready"))
    } else if ready.is_false() || ready.is_unknown() {
        Some(in_progress(reason_message(ready.reason, ready.message)))
    } else {
        None
    }
}

type KindRule = fn(&Object<'_>) -> Verdict;

/// kstatus' rules for built-in kinds, keyed by group and kind.
fn kind_rule(group: &str, kind: &str) -> Option<KindRule> {
    let rule: KindRule = match (group, kind) {
        ("", "Service") => service,
        ("", "Pod") => pod,
        ("", "PersistentVolumeClaim") => pvc,
        ("", "Secret" | "ConfigMap") | ("batch", "CronJob") => {
            |_| current("Resource is always ready")
        }
        ("apps", "StatefulSet") => stateful_set,
        ("apps" | "extensions", "DaemonSet") => daemon_set,
        ("apps" | "extensions", "Deployment") => deployment,
        ("apps" | "extensions", "ReplicaSet") => replica_set,
        ("policy", "PodDisruptionBudget") => pod_disruption_budget,
        ("batch", "Job") => job,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => custom_resource_definition,
        _ => return None,
    };
    Some(rule)
}

fn count(obj: &Object<'_>, path: &[&str], default: i64) -> i64 {
    obj.int(path).unwrap_or(default)
}

fn deployment(obj: &Object<'_>) -> Verdict {
    let mut progressing = false;
    let mut available = false;
    for c in obj.conditions().iter() {
        match c.kind {
            "Progressing" => {
                if c.reason == "ProgressDeadlineExceeded" {
                    return failed("Progress deadline exceeded");
                }
                if c.is_true() && c.reason == "NewReplicaSetAvailable" {
                    progressing = true;
                }
            }
            "Available" => available |= c.is_true(),
            _ => {}
        }
    }
    let spec = count(obj, &["spec", "replicas"], 1);
    let replicas = count(obj, &["status", "replicas"], 0);
    let updated = count(obj, &["status", "updatedReplicas"], 0);
    let ready = count(obj, &["status", "readyReplicas"], 0);
    let available_replicas = count(obj, &["status", "availableReplicas"], 0);
    if spec > replicas {
        return in_progress(format!("replicas: {replicas}/{spec}"));
    }
    if spec > updated {
        return in_progress(format!("Updated: {updated}/{spec}"));
    }
    if replicas > spec {
        return in_progress(format!("Pending termination: {}", replicas - spec));
    }
    if updated > available_replicas {
        return in_progress(format!("Available: {available_replicas}/{updated}"));
    }
    if spec > ready {
        return in_progress(format!("Ready: {ready}/{spec}"));
    }
    if !progressing {
        return in_progress("ReplicaSet not Available");
    }
    if !available {
        return in_progress("Deployment not Available");
    }
    current(format!("Deployment is available. Replicas: {replicas}"))
}

fn stateful_set(obj: &Object<'_>) -> Verdict {
    if obj.str(&["spec", "updateStrategy", "type"]) == Some("OnDelete") {
        return current("StatefulSet is using the ondelete update strategy");
    }
    let spec = count(obj, &["spec", "replicas"], 1);
    let ready = count(obj, &["status", "readyReplicas"], 0);
    let current_replicas = count(obj, &["status", "currentReplicas"], 0);
    let updated = count(obj, &["status", "updatedReplicas"], 0);
    let replicas = count(obj, &["status", "replicas"], 0);
    let partition = obj.int(&["spec", "updateStrategy", "rollingUpdate", "partition"]);
    if spec > replicas {
        return in_progress(format!("Replicas: {replicas}/{spec}"));
    }
    if spec > ready {
        return in_progress(format!("Ready: {ready}/{spec}"));
    }
    if replicas > spec {
        return in_progress(format!("Pending termination: {}", replicas - spec));
    }
    if let Some(partition) = partition {
        let wanted = spec.saturating_sub(partition);
        if updated < wanted {
            return in_progress(format!("updated: {updated}/{wanted}"));
        }
        return current(format!("Partition rollout complete. updated: {updated}"));
    }
    if spec > current_replicas {
        return in_progress(format!("current: {current_replicas}/{spec}"));
    }
    if obj.str_or_empty(&["status", "currentRevision"])
        != obj.str_or_empty(&["status", "updateRevision"])
    {
        return in_progress("Waiting for updated revision to match current");
    }
    current(format!(
        "All replicas scheduled as expected. Replicas: {replicas}"
    ))
}

fn daemon_set(obj: &Object<'_>) -> Verdict {
    let Some(desired) = obj.int(&["status", "desiredNumberScheduled"]) else {
        return in_progress("Missing .status.desiredNumberScheduled");
    };
    let scheduled = count(obj, &["status", "currentNumberScheduled"], 0);
    let updated = count(obj, &["status", "updatedNumberScheduled"], 0);
    let available = count(obj, &["status", "numberAvailable"], 0);
    let ready = count(obj, &["status", "numberReady"], 0);
    if desired > scheduled {
        return in_progress(format!("Current: {scheduled}/{desired}"));
    }
    if desired > updated {
        return in_progress(format!("Updated: {updated}/{desired}"));
    }
    if desired > available {
        return in_progress(format!("Available: {available}/{desired}"));
    }
    if desired > ready {
        return in_progress(format!("Ready: {ready}/{desired}"));
    }
    current(format!(
        "All replicas scheduled as expected. Replicas: {desired}"
    ))
}

fn replica_set(obj: &Object<'_>) -> Verdict {
    if obj
        .conditions()
        .iter()
        .any(|c| c.kind == "ReplicaFailure" && c.is_true())
    {
        return in_progress("Replica Failure condition. Check Pods");
    }
    let spec = count(obj, &["spec", "replicas"], 1);
    let replicas = count(obj, &["status", "replicas"], 0);
    let ready = count(obj, &["status", "readyReplicas"], 0);
    let available = count(obj, &["status", "availableReplicas"], 0);
    let labelled = count(obj, &["status", "fullyLabeledReplicas"], 0);
    if spec > labelled {
        return in_progress(format!("Labelled: {labelled}/{spec}"));
    }
    if spec > available {
        return in_progress(format!("Available: {available}/{spec}"));
    }
    if spec > ready {
        return in_progress(format!("Ready: {ready}/{spec}"));
    }
    if replicas > spec {
        return in_progress(format!("Pending termination: {}", replicas - spec));
    }
    current(format!("ReplicaSet is available. Replicas: {replicas}"))
}

fn pod_disruption_budget(obj: &Object<'_>) -> Verdict {
    let healthy = count(obj, &["status", "currentHealthy"], 0);
    let desired = count(obj, &["status", "desiredHealthy"], 0);
    if desired > healthy {
        return in_progress(format!(
            "Budget not met. healthy replicas: {healthy}/{desired}"
        ));
    }
    current(format!("Budget is met. Replicas: {healthy}/{desired}"))
}

fn job(obj: &Object<'_>) -> Verdict {
    let parallelism = count(obj, &["spec", "parallelism"], 1);
    let completions = count(obj, &["spec", "completions"], parallelism);
    let succeeded = count(obj, &["status", "succeeded"], 0);
    let active = count(obj, &["status", "active"], 0);
    let failures = count(obj, &["status", "failed"], 0);
    for c in obj.conditions().iter() {
        match c.kind {
            "Complete" if c.is_true() => {
                return current(format!(
                    "Job Completed. succeeded: {succeeded}/{completions}"
                ));
            }
            "Failed" if c.is_true() => {
                return failed(format!("Job Failed. failed: {failures}/{completions}"));
            }
            _ => {}
        }
    }
    if obj.str_or_empty(&["status", "startTime"]).is_empty() {
        return in_progress("Job not started");
    }
    in_progress(format!(
        "Job in progress. success:{succeeded}, active: {active}, failed: {failures}"
    ))
}

fn pod(obj: &Object<'_>) -> Verdict {
    match obj.str_or_empty(&["status", "phase"]) {
        "Succeeded" => return current("Pod has completed successfully"),
        "Failed" => return failed("Pod has completed, but not successfully"),
        _ => {}
    }
    let conditions = obj.conditions();
    if let Some(ready) = conditions.get("Ready") {
        if ready.is_true() {
            return current("Pod is Ready");
        }
        if ready.reason == "PodCompleted" {
            return current("Pod has completed successfully");
        }
    }
    for status in obj.list(&["status", "containerStatuses"]) {
        let reason = crate::object::lookup(status, &["state", "waiting", "reason"])
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        if reason == "CrashLoopBackOff" {
            return failed(format!(
                "Container {} is in CrashLoopBackOff",
                crate::object::field(status, "name")
            ));
        }
    }
    if let Some(scheduled) = conditions.get("PodScheduled")
        && scheduled.is_false()
        && scheduled.reason == "Unschedulable"
    {
        return in_progress("Pod could not be scheduled");
    }
    if obj.str_or_empty(&["status", "phase"]) == "Running" {
        return in_progress("Pod is running but is not Ready");
    }
    in_progress("Pod has not been scheduled or started")
}

fn pvc(obj: &Object<'_>) -> Verdict {
    let phase = obj.str_or_empty(&["status", "phase"]);
    if phase != "Bound" {
        return in_progress(format!("PVC is not Bound. phase: {phase}"));
    }
    current("PVC is Bound")
}

fn service(obj: &Object<'_>) -> Verdict {
    let kind = obj.str(&["spec", "type"]).unwrap_or("ClusterIP");
    if kind == "LoadBalancer" && obj.str_or_empty(&["spec", "clusterIP"]).is_empty() {
        return in_progress("ClusterIP not set. Service type: LoadBalancer");
    }
    current("Service is ready")
}

fn custom_resource_definition(obj: &Object<'_>) -> Verdict {
    for c in obj.conditions().iter() {
        if c.kind == "NamesAccepted" && c.is_false() {
            return failed(c.message);
        }
        if c.kind == "Established" {
            if c.is_false() && c.reason != "Installing" {
                return failed(c.message);
            }
            if c.is_true() {
                return current("CRD is established");
            }
        }
    }
    in_progress("Install in progress")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status_of(value: serde_json::Value) -> Verdict {
        compute(&Object::new(&value))
    }

    #[test]
    fn an_object_without_status_is_current() {
        let v =
            status_of(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}));
        assert_eq!(v.status, KStatus::Current);
    }

    #[test]
    fn an_unobserved_generation_is_in_progress() {
        let v = status_of(json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"generation": 3},
            "status": {"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "True"}]}
        }));
        assert_eq!(v.status, KStatus::InProgress);
        assert_eq!(
            v.message,
            "Widget generation is 3, but latest observed generation is 2"
        );
    }

    #[test]
    fn stalled_is_failed_and_reconciling_is_in_progress() {
        let stalled = status_of(json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "status": {"conditions": [{"type": "Stalled", "status": "True", "message": "bad spec"}]}
        }));
        assert_eq!(
            (stalled.status, stalled.message.as_str()),
            (KStatus::Failed, "bad spec")
        );
        let reconciling = status_of(json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "status": {"conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "Reconciling", "status": "True", "reason": "Progressing"}
            ]}
        }));
        assert_eq!(reconciling.status, KStatus::InProgress);
    }

    #[test]
    fn ready_false_is_in_progress_not_failed() {
        let v = status_of(json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "status": {"conditions": [{"type": "Ready", "status": "False", "message": "waiting"}]}
        }));
        assert_eq!(
            (v.status, v.message.as_str()),
            (KStatus::InProgress, "waiting")
        );
    }

    #[test]
    fn deletion_is_terminating() {
        let v = status_of(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}
        }));
        assert_eq!(v.status, KStatus::Terminating);
    }

    #[test]
    fn a_deployment_short_of_replicas_is_in_progress() {
        let v = status_of(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"generation": 1},
            "spec": {"replicas": 3},
            "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                       "readyReplicas": 3, "availableReplicas": 2}
        }));
        assert_eq!(
            (v.status, v.message.as_str()),
            (KStatus::InProgress, "Available: 2/3")
        );
    }

    #[test]
    fn a_partitioned_stateful_set_is_current_once_the_partition_is_updated() {
        let v = status_of(json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}},
            "status": {"replicas": 3, "readyReplicas": 3, "updatedReplicas": 1, "currentReplicas": 2}
        }));
        assert_eq!(v.status, KStatus::Current);
    }

    #[test]
    fn a_failed_job_is_failed() {
        let v = status_of(json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "spec": {"completions": 1},
            "status": {"failed": 6, "conditions": [{"type": "Failed", "status": "True"}]}
        }));
        assert_eq!(
            (v.status, v.message.as_str()),
            (KStatus::Failed, "Job Failed. failed: 6/1")
        );
    }
}
