//! Observability operators: Grafana (`grafana.integreatly.org`), OpenTelemetry
//! (`opentelemetry.io`), VictoriaMetrics (`operator.victoriametrics.com`), Coralogix
//! (`coralogix.com`), Kiali (`kiali.io`), Datadog (`datadoghq.com`) and Keptn
//! (`lifecycle.keptn.sh`, `metrics.keptn.sh`).

use serde_json::Value;

use crate::generic;
use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("grafana.integreatly.org", "Grafana", grafana),
    ecosystem("grafana.integreatly.org", "*", grafana_resource),
    ecosystem("opentelemetry.io", "OpenTelemetryCollector", otel_collector),
    ecosystem("operator.victoriametrics.com", "*", victoria_metrics),
    ecosystem("coralogix.com", "*", coralogix),
    ecosystem("kiali.io", "Kiali", ansible_operator),
    ecosystem("datadoghq.com", "DatadogMetric", datadog_metric),
    ecosystem("lifecycle.keptn.sh", "*", keptn_lifecycle),
    ecosystem("metrics.keptn.sh", "KeptnMetric", keptn_metric),
];

/// The Grafana operator walks through stages (deployment, ingress, ...) until `complete`.
fn grafana(obj: &Object<'_>) -> Option<Verdict> {
    let Some(stage) = obj.str(&["status", "stage"]) else {
        return progressing("Waiting for Grafana status info");
    };
    match obj.str_or_empty(&["status", "stageStatus"]) {
        "failed" => degraded(format!("Failed at stage {stage}")),
        "success" if stage == "complete" => healthy(""),
        _ => progressing(stage),
    }
}

/// Dashboards, datasources, folders: synced once they have a UID and a hash of what was sent.
fn grafana_resource(obj: &Object<'_>) -> Option<Verdict> {
    if obj.flag(&["status", "NoMatchingInstances"]) {
        return degraded("can't find matching grafana instance");
    }
    if let Some(v) = generic::assess(obj).filter(|_| !obj.conditions().is_empty()) {
        return Some(v);
    }
    let synced = obj.str(&["status", "uid"]).is_some_and(|u| !u.is_empty())
        || obj.str(&["status", "hash"]).is_some_and(|h| !h.is_empty());
    if synced { healthy("") } else { progressing("") }
}

fn otel_collector(obj: &Object<'_>) -> Option<Verdict> {
    if obj.str(&["spec", "mode"]) == Some("sidecar") {
        return healthy("Collector is running in sidecar mode");
    }
    let counts = obj
        .str(&["status", "scale", "statusReplicas"])
        .and_then(|s| s.split_once('/'))
        .and_then(|(ready, total)| Some((ready.parse::<i64>().ok()?, total.parse::<i64>().ok()?)));
    match counts {
        Some((0, 0)) => healthy("DaemonSet has no eligible nodes (0/0)"),
        Some((ready, total)) if ready >= total => healthy("All replicas are ready"),
        Some((0, _)) => degraded("No replicas are ready"),
        Some(_) => progressing("Replicas are starting up"),
        None => progressing("Waiting for the collector status"),
    }
}

fn victoria_metrics(obj: &Object<'_>) -> Option<Verdict> {
    if obj.generation_not_observed() {
        return progressing("Waiting for the operator to reconcile");
    }
    match obj
        .str(&["status", "updateStatus"])
        .or_else(|| obj.str(&["status", "status"]))
    {
        Some("operational") => healthy("All components are operational"),
        Some("expanding") => progressing("Reconciliation in progress"),
        Some("paused") => suspended("Reconciliation is paused"),
        Some("failed") => degraded(obj.str_or_empty(&["status", "reason"])),
        _ => generic::assess(obj).or_else(|| progressing("Waiting for the operator to reconcile")),
    }
}

fn coralogix(obj: &Object<'_>) -> Option<Verdict> {
    match obj.conditions().get("RemoteSynced") {
        Some(c) if c.is_true() => healthy("Resource is ready"),
        Some(c) if c.is_false() => degraded(c.message),
        _ => progressing("Waiting for status to be updated"),
    }
}

/// Ansible-based operators report `Running` while a reconcile loop runs (reason `Running`) and
/// after it (reason `Successful`), and `Failure` when it failed.
fn ansible_operator(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if conditions
        .iter()
        .any(|c| c.kind == "Failure" && c.is_true())
    {
        return degraded("Error Reconciling");
    }
    if conditions
        .iter()
        .any(|c| c.kind == "Successful" && c.is_true())
    {
        return healthy("Last reconciliation succeeded");
    }
    progressing("Reconciling")
}

fn datadog_metric(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("Error")
        && c.is_true()
    {
        return degraded(if c.message.is_empty() {
            c.reason
        } else {
            c.message
        });
    }
    if let Some(c) = conditions.get("Valid")
        && c.is_false()
    {
        return degraded("The metric query is invalid");
    }
    if conditions.get("Active").is_some_and(|c| c.is_true())
        && conditions.get("Valid").is_some_and(|c| c.is_true())
    {
        return healthy("DatadogMetric is healthy");
    }
    progressing("Waiting for the metric to be queried")
}

fn keptn_lifecycle(obj: &Object<'_>) -> Option<Verdict> {
    // Evaluations report overallStatus, tasks status, workload and app versions one status per
    // phase.
    let statuses: Vec<&str> = match obj.status() {
        Some(status) => {
            if let Some(s) = status.get("overallStatus").and_then(Value::as_str) {
                vec![s]
            } else if let Some(s) = status.get("status").and_then(Value::as_str) {
                vec![s]
            } else {
                status
                    .iter()
                    .filter(|(k, _)| k.ends_with("Status"))
                    .filter_map(|(_, v)| v.as_str())
                    .collect()
            }
        }
        None => Vec::new(),
    };
    let kind = obj.kind;
    if statuses.contains(&"Failed") {
        degraded(format!("{kind} is degraded"))
    } else if !statuses.is_empty() && statuses.iter().all(|s| *s == "Succeeded") {
        healthy(format!("{kind} is healthy"))
    } else {
        progressing(format!("{kind} is progressing"))
    }
}

fn keptn_metric(obj: &Object<'_>) -> Option<Verdict> {
    if obj
        .str(&["status", "errMsg"])
        .is_some_and(|e| !e.is_empty())
    {
        return degraded("KeptnMetric is degraded");
    }
    match obj.get(&["status", "value"]) {
        Some(v) if !v.is_null() => healthy("KeptnMetric is healthy"),
        _ => progressing("KeptnMetric is progressing"),
    }
}
