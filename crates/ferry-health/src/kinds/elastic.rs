//! Elastic Cloud on Kubernetes (`*.k8s.elastic.co`): every Elastic resource reports the
//! `health` colour of what it runs (green, yellow, red); Elasticsearch adds a `phase` and the
//! node count it has, Beats and Agents the node count they expect.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, unknown};

pub const RULES: &[Entry] = &[
    ecosystem(
        "elasticsearch.k8s.elastic.co",
        "Elasticsearch",
        elasticsearch,
    ),
    ecosystem("beat.k8s.elastic.co", "Beat", beat),
    ecosystem("agent.k8s.elastic.co", "Agent", beat),
    ecosystem("*.k8s.elastic.co", "*", health_colour),
];

const BUG: &str = "Ensure your ArgoCD is current and then check for/file a bug report: https://github.com/argoproj/argo-cd/issues";

fn elasticsearch(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return unknown(format!("Elasticsearch Cluster status is unknown. {BUG}"));
    }
    match obj.str_or_empty(&["status", "phase"]) {
        "Invalid" => return degraded("Elasticsearch phase is Invalid"),
        phase @ ("ApplyingChanges" | "MigratingData") => {
            return progressing(format!("Elasticsearch phase is {phase}"));
        }
        _ => {}
    }
    let desired: i64 = obj
        .list(&["spec", "nodeSets"])
        .iter()
        .filter_map(|set| set.get("count").and_then(crate::object::as_int))
        .sum();
    let available = obj.int(&["status", "availableNodes"]).unwrap_or(0);
    if desired > available {
        return progressing(format!(
            "The desired amount of availableNodes is {desired} but the current amount is {available}"
        ));
    }
    match obj.str_or_empty(&["status", "health"]) {
        "green" => healthy("Elasticsearch Cluster status is Green"),
        "yellow" => progressing(
            "Elasticsearch Cluster status is Yellow. Check the status of indices, replicas and shards",
        ),
        "red" => degraded(
            "Elasticsearch Cluster status is Red. Check the status of indices, replicas and shards",
        ),
        _ => unknown(format!("Elasticsearch Cluster status is unknown. {BUG}")),
    }
}

fn beat(obj: &Object<'_>) -> Option<Verdict> {
    let what = format!("Elastic {}", obj.kind);
    let expected = obj.int(&["status", "expectedNodes"]);
    let available = obj.int(&["status", "availableNodes"]);
    match obj.str(&["status", "health"]) {
        Some("green") => healthy(format!("{what} status is Green")),
        Some("red") => degraded(format!("{what} status is Red")),
        Some("yellow") => match (available, expected) {
            (Some(available), Some(expected)) if available < expected => progressing(format!(
                "{what} status is deploying, there is {available} instance(s) on {expected} expected"
            )),
            _ => progressing(format!("{what} phase is progressing")),
        },
        None if expected.is_some() => progressing(format!("{what} phase is progressing")),
        _ => unknown(format!("{what} status is unknown. {BUG}")),
    }
}

fn health_colour(obj: &Object<'_>) -> Option<Verdict> {
    match obj.str_or_empty(&["status", "health"]) {
        "green" => healthy(format!("{} status is Green", obj.kind)),
        "yellow" => progressing(format!("{} status is Yellow", obj.kind)),
        "red" => degraded(format!("{} status is Red", obj.kind)),
        _ => progressing(format!("Waiting for {}", obj.kind)),
    }
}
