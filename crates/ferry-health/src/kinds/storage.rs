//! Storage operators: Rook (`ceph.rook.io` CephCluster, `cassandra.rook.io` Cluster), OpenShift
//! Data Foundation (`ocs.openshift.io`), MinIO tenants (`minio.min.io`), NetApp Trident
//! (`trident.netapp.io`) and Astra (`astra.netapp.io`), and CSI snapshots
//! (`snapshot.storage.k8s.io`).

use serde_json::Value;

use crate::generic;
use crate::object::{Object, field, lookup};
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("ceph.rook.io", "CephCluster", ceph_cluster),
    ecosystem("cassandra.rook.io", "Cluster", cassandra_cluster),
    ecosystem("ocs.openshift.io", "StorageCluster", operator_conditions),
    ecosystem("minio.min.io", "Tenant", minio_tenant),
    ecosystem("trident.netapp.io", "TridentBackendConfig", trident_backend),
    ecosystem(
        "trident.netapp.io",
        "TridentOrchestrator",
        trident_orchestrator,
    ),
    ecosystem("snapshot.storage.k8s.io", "VolumeSnapshot", volume_snapshot),
    ecosystem(
        "snapshot.storage.k8s.io",
        "VolumeSnapshotContent",
        volume_snapshot,
    ),
    ecosystem("astra.netapp.io", "AppVault", astra_app_vault),
    ecosystem("astra.netapp.io", "Application", astra_application),
    ecosystem("astra.netapp.io", "ExecHook", astra_exec_hook),
    ecosystem("astra.netapp.io", "*", astra_run),
];

const NO_STATUS: &str = "No status available";

fn ceph_cluster(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return progressing("Waiting for status to be reported");
    }
    let state = obj.str_or_empty(&["status", "state"]);
    let message = obj.str_or_empty(&["status", "message"]);
    if let Some(health) = obj.str(&["status", "ceph", "health"]) {
        let details: Vec<&str> = obj
            .get(&["status", "ceph", "details"])
            .and_then(Value::as_object)
            .map(|d| d.values().map(|v| field(v, "message")).collect())
            .unwrap_or_default();
        let health = if details.is_empty() {
            health.to_owned()
        } else {
            format!("{health} ({})", details.join("; "))
        };
        let summary = format!("Ceph health is {health} - {message}");
        if health.starts_with("HEALTH_OK") {
            return healthy(format!(
                "Ceph health is {health} - Ceph cluster state is {state} - {message}"
            ));
        }
        return degraded(summary);
    }
    match state {
        "Error" => degraded(message),
        _ => progressing(message),
    }
}

fn cassandra_cluster(obj: &Object<'_>) -> Option<Verdict> {
    let racks = obj
        .get(&["status", "racks"])
        .and_then(Value::as_object)
        .filter(|r| !r.is_empty());
    let ready = racks.is_some_and(|racks| {
        racks.values().all(|rack| {
            let int = |key| {
                lookup(rack, &[key])
                    .and_then(crate::object::as_int)
                    .unwrap_or(0)
            };
            int("members") > 0 && int("members") == int("readyMembers")
        })
    });
    if ready {
        healthy("")
    } else {
        progressing("Waiting for Cassandra Cluster")
    }
}

/// Operators following the OpenShift convention (Available / Progressing / Degraded).
fn operator_conditions(obj: &Object<'_>) -> Option<Verdict> {
    if obj.conditions().is_empty() {
        return progressing(format!("Waiting for {} status", obj.kind));
    }
    generic::assess(obj).or_else(|| progressing(format!("Waiting for {} status", obj.kind)))
}

/// MinIO writes a sentence as its state; these are the ones its operator documents as errors.
fn minio_tenant(obj: &Object<'_>) -> Option<Verdict> {
    const FAILURES: &[&str] = &[
        "Statefulset not controlled by operator",
        "Another MinIO Tenant already exists in the namespace",
        "Tenant credentials are not set properly",
        "Different versions across MinIO Pools",
        "Pool Decommissioning Not Allowed",
    ];
    match obj.str(&["status", "currentState"]) {
        None => progressing("No status info available"),
        Some(state @ "Initialized") => healthy(state),
        Some(state) if FAILURES.contains(&state) => degraded(state),
        Some(state) => progressing(state),
    }
}

fn trident_backend(obj: &Object<'_>) -> Option<Verdict> {
    let message = obj.str_or_empty(&["status", "message"]);
    match obj.str_or_empty(&["status", "lastOperationStatus"]) {
        "Success" => healthy(message),
        "Failed" => degraded(message),
        _ => progressing("Waiting for backend creation"),
    }
}

fn trident_orchestrator(obj: &Object<'_>) -> Option<Verdict> {
    let message = obj.str_or_empty(&["status", "message"]);
    match obj.str_or_empty(&["status", "status"]) {
        "Installed" => healthy(message),
        "Error" | "Failed" => degraded(message),
        _ => progressing("Waiting for trident installation"),
    }
}

fn volume_snapshot(obj: &Object<'_>) -> Option<Verdict> {
    if let Some(error) = obj.get(&["status", "error"]).filter(|e| !e.is_null()) {
        return degraded(field(error, "message"));
    }
    match obj.get(&["status", "readyToUse"]).and_then(Value::as_bool) {
        Some(true) => healthy("Ready to use"),
        _ => progressing("Waiting for status"),
    }
}

fn astra_app_vault(obj: &Object<'_>) -> Option<Verdict> {
    match obj.str(&["status", "state"]) {
        None => progressing(NO_STATUS),
        Some("available") => healthy("AppVault Available"),
        Some("failed" | "error") => degraded("AppVault Failed"),
        Some(other) => progressing(format!("AppVault {other}")),
    }
}

fn astra_application(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return progressing(NO_STATUS);
    }
    let protection = obj.str_or_empty(&["status", "protectionState"]);
    match obj.conditions().get("Ready") {
        Some(c) if c.is_true() => healthy(format!(
            "Astra Application Ready, protectionState: {protection}"
        )),
        Some(c) if c.is_false() => degraded(format!("Astra Application Degraded, {}", c.message)),
        _ => progressing(NO_STATUS),
    }
}

fn astra_exec_hook(obj: &Object<'_>) -> Option<Verdict> {
    match obj.get(&["spec", "enabled"]).and_then(Value::as_bool) {
        Some(true) => healthy("ExecHook enabled"),
        Some(false) => suspended("ExecHook disabled"),
        None => progressing(NO_STATUS),
    }
}

/// Backups, restores, snapshots and hook runs report a `state` and a `Completed` condition; a
/// run whose first step failed has failed.
fn astra_run(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return progressing(NO_STATUS);
    }
    let conditions = obj.conditions();
    let state = obj.str_or_empty(&["status", "state"]);
    if state.eq_ignore_ascii_case("failed")
        || state.eq_ignore_ascii_case("error")
        || conditions
            .iter()
            .any(|c| c.is_false() && c.reason == "Done")
    {
        return degraded("Failed");
    }
    if state.eq_ignore_ascii_case("completed")
        || conditions.get("Completed").is_some_and(|c| c.is_true())
    {
        return healthy(format!("{} Completed", obj.kind));
    }
    progressing(format!("{} Running", obj.kind))
}
