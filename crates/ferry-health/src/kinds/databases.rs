//! Database and data-store operators: CloudNativePG (`postgresql.cnpg.io`), Zalando's Postgres
//! operator (`acid.zalan.do`), MariaDB (`k8s.mariadb.com`), Altinity ClickHouse
//! (`clickhouse.altinity.com`, `clickhouse-keeper.altinity.com`), Solr (`solr.apache.org`) and
//! Pravega's ZooKeeper (`zookeeper.pravega.io`).

use crate::generic;
use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("postgresql.cnpg.io", "Cluster", cnpg_cluster),
    ecosystem("acid.zalan.do", "postgresql", zalando_postgresql),
    ecosystem("k8s.mariadb.com", "*", mariadb_object),
    ecosystem(
        "clickhouse.altinity.com",
        "ClickHouseInstallation",
        clickhouse,
    ),
    ecosystem(
        "clickhouse-keeper.altinity.com",
        "ClickHouseKeeperInstallation",
        clickhouse,
    ),
    ecosystem("solr.apache.org", "SolrCloud", solr_cloud),
    ecosystem(
        "zookeeper.pravega.io",
        "ZookeeperCluster",
        zookeeper_cluster,
    ),
];

/// CloudNativePG phases that need an operator's attention (its documented error phases).
const CNPG_FAILURES: &[&str] = &[
    "Failing over",
    "Cluster cannot create a instance",
    "Not enough disk space",
    "Unable to create required cluster objects",
    "Cluster cannot proceed to reconciliation due to an unknown plugin being required",
    "Image Catalog is not found",
    "Cluster cannot execute instance online upgrade due to missing architecture binary",
    "Primary instance is being restarted without a switchover",
];

fn cnpg_cluster(obj: &Object<'_>) -> Option<Verdict> {
    let hibernated = obj.annotation("cnpg.io/hibernation") == Some("on")
        || obj
            .conditions()
            .get("cnpg.io/hibernation")
            .is_some_and(|c| c.is_true());
    if hibernated {
        return suspended("Cluster has been hibernated");
    }
    if obj.annotation("cnpg.io/reconciliationLoop") == Some("disabled") {
        return suspended("Cluster reconciliation is suspended");
    }
    let phase = obj.str_or_empty(&["status", "phase"]);
    let reason = obj.str_or_empty(&["status", "phaseReason"]);
    let message = if reason.is_empty() { phase } else { reason };
    if phase == "Cluster in healthy state" {
        return healthy("");
    }
    if CNPG_FAILURES.contains(&phase) {
        return degraded(message);
    }
    progressing(if message.is_empty() {
        "Waiting for the cluster status"
    } else {
        message
    })
}

fn zalando_postgresql(obj: &Object<'_>) -> Option<Verdict> {
    match obj.str(&["status", "PostgresClusterStatus"]) {
        None => progressing("Waiting for postgres cluster status..."),
        Some(state @ "Running") => healthy(state),
        Some(state) if state.ends_with("Failed") => degraded(state),
        Some(state) => progressing(state),
    }
}

/// Jobs (Backup, Restore, SqlJob) report `Complete`; the rest a `Ready` condition.
fn mariadb_object(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("Complete") {
        if c.reason.contains("Failed") || c.is_false() {
            return degraded(format!("{} Failed", c.reason));
        }
        return healthy(format!("{} Success", c.reason));
    }
    match conditions.get("Ready") {
        Some(c) if c.is_true() => healthy(c.reason),
        Some(_) => generic::assess(obj),
        None => progressing(format!("Waiting for {}", obj.kind)),
    }
}

fn clickhouse(obj: &Object<'_>) -> Option<Verdict> {
    let what = if obj.kind.starts_with("ClickHouseKeeper") {
        "ClickHouseKeeper"
    } else {
        "ClickHouse"
    };
    match obj.str(&["status", "status"]) {
        None => progressing(format!("{what} status not yet available")),
        Some("Completed") => healthy(format!("{what} installation completed successfully")),
        Some("Failed" | "Aborted") => degraded(format!("{what} Failed")),
        Some(_) => progressing(format!("{what} installation in progress")),
    }
}

fn solr_cloud(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return progressing("Waiting for solr to exist");
    }
    let replicas = obj.int(&["status", "replicas"]).unwrap_or(0);
    let ready = obj.int(&["status", "readyReplicas"]).unwrap_or(0);
    if ready < replicas || replicas == 0 {
        return progressing("Not all replicas are ready");
    }
    healthy("Solr is ready")
}

fn zookeeper_cluster(obj: &Object<'_>) -> Option<Verdict> {
    let replicas = obj.int(&["status", "replicas"]).unwrap_or(0);
    let ready = obj.int(&["status", "readyReplicas"]).unwrap_or(0);
    if replicas > 0 && ready >= replicas {
        healthy("All ZK Nodes have joined the ensemble")
    } else {
        progressing("Waiting for ZK Nodes to join the ensemble")
    }
}
