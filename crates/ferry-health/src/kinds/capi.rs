//! Cluster API (`cluster.x-k8s.io` and its provider groups): conditions carry a `severity`; a
//! false condition of severity Error is a failure, of severity Info or Warning a step still in
//! progress. `failureMessage` reports a terminal failure, `spec.paused` pauses reconciliation.
//! Cluster, Machine and MachineDeployment also report a `phase`.

use serde_json::Value;

use crate::object::{Object, field};
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("cluster.x-k8s.io", "Cluster", cluster),
    ecosystem("cluster.x-k8s.io", "Machine", machine),
    ecosystem("cluster.x-k8s.io", "MachineDeployment", machine_deployment),
    ecosystem("cluster.x-k8s.io", "MachineSet", machine_deployment),
    ecosystem(
        "cluster.x-k8s.io",
        "MachineHealthCheck",
        machine_health_check,
    ),
    ecosystem("controlplane.cluster.x-k8s.io", "*", control_plane),
];

/// Messages of the false conditions of severity Error (entries without a type included: some
/// providers write them).
fn errors<'a>(obj: &Object<'a>) -> Vec<&'a str> {
    obj.list(&["status", "conditions"])
        .iter()
        .filter(|c| field(c, "severity") == "Error" && field(c, "status") == "False")
        .map(|c| field(c, "message"))
        .filter(|m| !m.is_empty())
        .collect()
}

fn failure_message<'a>(obj: &Object<'a>) -> Option<&'a str> {
    obj.str(&["status", "failureMessage"])
        .filter(|m| !m.is_empty())
}

fn ready_message<'a>(obj: &Object<'a>) -> &'a str {
    obj.conditions().get("Ready").map_or("", |c| c.message)
}

fn paused(obj: &Object<'_>) -> Option<Verdict> {
    obj.flag(&["spec", "paused"])
        .then(|| suspended(format!("{} is paused", obj.kind)))
        .flatten()
}

fn cluster(obj: &Object<'_>) -> Option<Verdict> {
    if let Some(v) = paused(obj) {
        return Some(v);
    }
    if let Some(message) = failure_message(obj) {
        return degraded(message);
    }
    let errors = errors(obj);
    if let Some(first) = errors.first() {
        return degraded(*first);
    }
    match obj.str_or_empty(&["status", "phase"]) {
        "Failed" => degraded(ready_message(obj)),
        "Provisioned" => healthy("Cluster is running"),
        _ => progressing("Waiting for clusters"),
    }
}

fn machine(obj: &Object<'_>) -> Option<Verdict> {
    if let Some(message) = failure_message(obj) {
        return degraded(message);
    }
    if let Some(first) = errors(obj).first() {
        return degraded(*first);
    }
    match obj.str_or_empty(&["status", "phase"]) {
        "Failed" => degraded(ready_message(obj)),
        "Running" => healthy("Machine is running"),
        _ => {
            let message = ready_message(obj);
            progressing(if message.is_empty() {
                "Waiting for machine"
            } else {
                message
            })
        }
    }
}

fn machine_deployment(obj: &Object<'_>) -> Option<Verdict> {
    if let Some(v) = paused(obj) {
        return Some(v);
    }
    if obj.generation_not_observed() {
        return progressing(format!("Waiting for the {} spec to be observed", obj.kind));
    }
    match obj.str_or_empty(&["status", "phase"]) {
        "ScalingUp" => progressing("Cluster is spawning machines"),
        "ScalingDown" => progressing("Cluster is stopping machines"),
        "Failed" => degraded(format!("{} is failed", obj.kind)),
        "Running" => healthy("Machines are running under this deployment"),
        _ => progressing(format!("Waiting for the {} to report its phase", obj.kind)),
    }
}

fn machine_health_check(obj: &Object<'_>) -> Option<Verdict> {
    let expected = obj.int(&["status", "expectedMachines"]).unwrap_or(0);
    let current = obj.int(&["status", "currentHealthy"]).unwrap_or(0);
    if current < expected {
        degraded("")
    } else {
        healthy("")
    }
}

fn control_plane(obj: &Object<'_>) -> Option<Verdict> {
    if let Some(v) = paused(obj) {
        return Some(v);
    }
    if let Some(message) = failure_message(obj) {
        return degraded(message);
    }
    if obj.generation_not_observed() {
        return progressing("Waiting for the control plane spec to be reconciled");
    }
    let errors = errors(obj);
    if !errors.is_empty() {
        return degraded(errors.join(" "));
    }
    let conditions = obj.conditions();
    if let Some(c) = conditions
        .iter()
        .find(|c| c.is_true() && c.kind.ends_with("Updating"))
    {
        return progressing(if c.message.is_empty() {
            "EKS control plane is updating".to_owned()
        } else {
            c.message.to_owned()
        });
    }
    let ready_flag = obj.get(&["status", "ready"]).and_then(Value::as_bool);
    match conditions.get("Ready") {
        Some(c) if c.is_true() && ready_flag != Some(false) => healthy("Control plane is ready"),
        _ if ready_flag == Some(false) => {
            progressing("Control plane is not ready (.status.ready is false)")
        }
        _ => progressing("Control plane is not ready"),
    }
}
