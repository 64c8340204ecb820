//! RabbitMQ cluster and messaging-topology operators (`rabbitmq.com`): a RabbitmqCluster
//! reports `ReconcileSuccess`, `ClusterAvailable` and `AllReplicasReady`; topology objects
//! (Queue, Exchange, Binding, User, Vhost, Policy, Permission, Shovel, Federation, ...) report
//! `Ready` once created in the broker.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, unknown};

pub const RULES: &[Entry] = &[
    ecosystem("rabbitmq.com", "RabbitmqCluster", cluster),
    ecosystem("rabbitmq.com", "*", topology_object),
];

fn cluster(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if conditions.is_empty() {
        return progressing("Waiting for RabbitMQ Operator");
    }
    if let Some(c) = conditions.get("ReconcileSuccess")
        && c.is_false()
    {
        return degraded(c.message);
    }
    let available = conditions.get("ClusterAvailable");
    let replicas = conditions.get("AllReplicasReady");
    if available.is_some_and(|c| c.is_unknown()) || replicas.is_some_and(|c| c.is_unknown()) {
        return progressing("Waiting for RabbitMQ cluster readiness (conditions unknown)");
    }
    if available.is_some_and(|c| c.is_false()) {
        return progressing("Waiting for RabbitMQ cluster formation");
    }
    if replicas.is_some_and(|c| c.is_false()) {
        return progressing("Waiting for RabbitMQ instances ready");
    }
    healthy("RabbitMQ cluster ready")
}

fn topology_object(obj: &Object<'_>) -> Option<Verdict> {
    let what = obj.kind.to_lowercase();
    match obj.conditions().get("Ready") {
        Some(c) if c.is_true() => healthy(format!("RabbitMQ {what} ready")),
        Some(c) if c.is_false() => {
            degraded(format!("RabbitMQ {what} failed to be created or updated"))
        }
        _ => unknown(format!("RabbitMQ {what} status is unknown")),
    }
}
