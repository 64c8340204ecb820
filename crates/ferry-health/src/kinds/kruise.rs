//! OpenKruise (`apps.kruise.io`, `game.kruise.io`): Kruise's workloads extend the built-in
//! ones with pausing and partitioned rollouts. A paused rollout, or a partitioned one that has
//! updated every pod it may, waits for a person: Suspended.

use serde_json::Value;

use crate::object::{Object, field, lookup};
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended, unknown};

pub const RULES: &[Entry] = &[
    ecosystem("apps.kruise.io", "AdvancedCronJob", advanced_cron_job),
    ecosystem("apps.kruise.io", "BroadcastJob", broadcast_job),
    ecosystem("apps.kruise.io", "DaemonSet", daemon_set),
    ecosystem("game.kruise.io", "GameServer", game_server),
    ecosystem("game.kruise.io", "GameServerSet", game_server_set),
];

fn advanced_cron_job(obj: &Object<'_>) -> Option<Verdict> {
    if obj.flag(&["spec", "paused"]) {
        return suspended("AdvancedCronJob is Paused");
    }
    if !obj.list(&["status", "active"]).is_empty() {
        return progressing("AdvancedCronJobs has active jobs");
    }
    if obj.str(&["status", "lastScheduleTime"]).is_some() {
        return healthy("AdvancedCronJobs has run successfully");
    }
    degraded("AdvancedCronJobs has not run successfully")
}

fn broadcast_job(obj: &Object<'_>) -> Option<Verdict> {
    match obj.str_or_empty(&["status", "phase"]) {
        "completed" => healthy("BroadcastJob is completed successfully"),
        "failed" => degraded("BroadcastJob failed"),
        "paused" => suspended("BroadcastJob is Paused"),
        _ => progressing("BroadcastJob is still running"),
    }
}

fn daemon_set(obj: &Object<'_>) -> Option<Verdict> {
    let desired = obj.int(&["status", "desiredNumberScheduled"]).unwrap_or(0);
    if obj.has_no_status() || obj.generation_not_observed() || desired == 0 {
        return progressing("Waiting for initialization");
    }
    let rolling = ["spec", "updateStrategy", "rollingUpdate"];
    if obj.flag(&[rolling[0], rolling[1], rolling[2], "paused"]) {
        return suspended("Daemonset is paused");
    }
    let updated = obj.int(&["status", "updatedNumberScheduled"]).unwrap_or(0);
    let ready = obj.int(&["status", "numberReady"]).unwrap_or(0);
    let available = obj.int(&["status", "numberAvailable"]).unwrap_or(0);
    if ready < desired || available < desired {
        return degraded("Some pods are not ready or available");
    }
    if let Some(partition) = obj.int(&[rolling[0], rolling[1], rolling[2], "partition"])
        && partition > 0
    {
        if updated >= desired - partition {
            return suspended("Daemonset needs manual intervention");
        }
        return progressing("Waiting for the partitioned rollout to finish");
    }
    if updated < desired {
        return progressing("Waiting for all pods to be updated");
    }
    healthy("All Daemonset workloads are ready and updated")
}

fn game_server(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return unknown("Waiting for GameServer to be ready");
    }
    let pod_conditions = obj.list(&["status", "podStatus", "conditions"]);
    let not_ready = pod_conditions
        .iter()
        .find(|c| field(c, "status") == "False");
    if let Some(c) = not_ready {
        return degraded(format!("Pod is not ready: {}", field(c, "type")));
    }
    let broken = obj
        .conditions()
        .iter()
        .find(|c| c.is_false() && (c.kind == "PodNormal" || c.kind == "NodeNormal"));
    if let Some(c) = broken {
        return degraded(format!("{} is False: {}", c.kind, c.message));
    }
    let current = obj.str_or_empty(&["status", "currentState"]);
    let desired = obj.str_or_empty(&["status", "desiredState"]);
    if current != desired {
        return progressing(format!("State change: {current} → {desired}"));
    }
    if current == "Ready" {
        return healthy("GameServer is Ready");
    }
    progressing(format!("GameServer is {current}"))
}

fn int_at(value: Option<&Value>, key: &str) -> Option<i64> {
    value
        .and_then(|v| lookup(v, &[key]))
        .and_then(crate::object::as_int)
}

fn game_server_set(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() || obj.generation_not_observed() {
        return progressing("Waiting for GameServerSet initialization");
    }
    let rolling = obj.get(&["spec", "updateStrategy", "rollingUpdate"]);
    if rolling
        .and_then(|r| r.get("paused"))
        .and_then(Value::as_bool)
        == Some(true)
    {
        return suspended("GameServerSet is paused");
    }
    let spec = obj.int(&["spec", "replicas"]).unwrap_or(1);
    let updated = obj.int(&["status", "updatedReplicas"]).unwrap_or(0);
    if let Some(partition) = int_at(rolling, "partition")
        && partition > 0
        && updated >= spec - partition
        && updated < spec
    {
        return suspended(format!(
            "Partition={partition}, waiting for manual intervention"
        ));
    }
    let ready = obj.int(&["status", "readyReplicas"]).unwrap_or(0);
    let updated_ready = obj.int(&["status", "updatedReadyReplicas"]).unwrap_or(0);
    if ready < spec || updated_ready < spec {
        return progressing(format!("ReadyReplicas {ready}/{spec}, still progressing"));
    }
    healthy("All GameServerSet replicas are updated and ready")
}
