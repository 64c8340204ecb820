//! Kafka operators: Strimzi (`kafka.strimzi.io`) reports `Ready` / `NotReady` conditions on every
//! kind; Koperator (`kafka.banzaicloud.io`) reports a cluster state and per-broker
//! configuration; Confluent for Kubernetes (`platform.confluent.io`) reports a `phase`.

use serde_json::Value;

use crate::object::{Object, field, lookup};
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("kafka.strimzi.io", "*", strimzi),
    ecosystem("kafka.banzaicloud.io", "KafkaCluster", koperator_cluster),
    ecosystem("platform.confluent.io", "Connector", confluent_connector),
    ecosystem("platform.confluent.io", "*", confluent_component),
];

/// "KafkaTopic" reads "Kafka Topic", as Strimzi's documentation names its kinds.
fn strimzi_name(kind: &str) -> String {
    match kind {
        "Kafka" => "Kafka Cluster".to_owned(),
        "KafkaBridge" => kind.to_owned(),
        _ => match kind.strip_prefix("Kafka") {
            Some(rest) if !rest.is_empty() => format!("Kafka {rest}"),
            _ => kind.to_owned(),
        },
    }
}

fn strimzi(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("ReconciliationPaused")
        && c.is_true()
    {
        return suspended("Reconciliation is paused");
    }
    if let Some(c) = conditions.get("NotReady")
        && c.is_true()
    {
        return degraded(c.message);
    }
    match conditions.get("Ready") {
        Some(c) if c.is_true() => healthy(""),
        Some(c) if c.is_false() => degraded(c.message),
        _ => progressing(format!("Waiting for {}", strimzi_name(obj.kind))),
    }
}

fn koperator_cluster(obj: &Object<'_>) -> Option<Verdict> {
    let state = obj.str_or_empty(&["status", "state"]);
    match state {
        "ClusterReconciling" => return progressing("Kafka Cluster is Reconciling."),
        "ClusterRollingUpgrading" => return progressing("Kafka Cluster is Rolling Upgrading."),
        "ClusterRunning" => {}
        _ => return progressing("Waiting for KafkaCluster"),
    }
    if obj.str(&["status", "cruiseControlTopicStatus"]) != Some("CruiseControlTopicReady") {
        return progressing("Waiting for KafkaCluster");
    }
    let brokers = obj
        .get(&["status", "brokersState"])
        .and_then(Value::as_object);
    let out_of_sync = brokers.is_some_and(|brokers| {
        brokers.values().any(|b| {
            field(b, "configurationState") != "ConfigInSync"
                || lookup(b, &["gracefulActionState", "cruiseControlState"])
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.ends_with("Succeeded") && !s.ends_with("Ready"))
        })
    });
    if out_of_sync {
        return degraded("Broker Config is out of Sync or CruiseControlState is not Ready");
    }
    healthy("Kafka Brokers, CruiseControl and cluster are in Healthy State.")
}

fn confluent_component(obj: &Object<'_>) -> Option<Verdict> {
    match obj.str_or_empty(&["status", "phase"]) {
        "RUNNING" => healthy(format!("{} running", obj.kind)),
        "FAILED" | "ERROR" => degraded(format!("{} failed", obj.kind)),
        _ => progressing(format!("{} provisioning", obj.kind)),
    }
}

fn confluent_connector(obj: &Object<'_>) -> Option<Verdict> {
    let app_ready = obj.conditions().get("platform.confluent.io/app-ready");
    if obj.str(&["status", "state"]) == Some("ERROR") || app_ready.is_some_and(|c| c.is_false()) {
        return degraded(app_ready.map_or("Connector failed", |c| c.message));
    }
    if obj.int(&["status", "failedTasksCount"]).unwrap_or(0) > 0 {
        return degraded("Connector has failed tasks");
    }
    match obj.str_or_empty(&["status", "connectorState"]) {
        "RUNNING" => healthy("Connector running"),
        "PAUSED" => suspended("Connector paused"),
        "FAILED" => degraded("Connector failed"),
        _ => progressing("Connector provisioning"),
    }
}
