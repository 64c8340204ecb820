//! Multi-cluster placement: Karmada bindings (`work.karmada.io`) aggregate the health of the
//! object in each member cluster; Open Cluster Management policies
//! (`policy.open-cluster-management.io`) report compliance per cluster or per template.

use serde_json::Value;

use crate::object::{Conditions, Object, field};
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing};

pub const RULES: &[Entry] = &[
    ecosystem("work.karmada.io", "ResourceBinding", karmada_binding),
    ecosystem("work.karmada.io", "ClusterResourceBinding", karmada_binding),
    ecosystem("policy.open-cluster-management.io", "Policy", ocm_policy),
    ecosystem(
        "policy.open-cluster-management.io",
        "*",
        ocm_template_policy,
    ),
];

fn karmada_binding(obj: &Object<'_>) -> Option<Verdict> {
    let aggregated = obj.list(&["status", "aggregatedStatus"]);
    let unhealthy = aggregated.iter().any(|member| {
        member.get("applied").and_then(Value::as_bool) == Some(false)
            || field(member, "health") == "Unhealthy"
    });
    if unhealthy {
        return degraded("Current resource status is unhealthy");
    }
    let applied = obj
        .conditions()
        .get("FullyApplied")
        .is_some_and(|c| c.is_true());
    let targets = obj.list(&["spec", "clusters"]).len();
    if !applied || aggregated.len() < targets {
        return progressing("Current resource status is insufficient");
    }
    healthy("")
}

fn names_with(
    entries: &[Value],
    compliant_key: &str,
    name: impl Fn(&Value) -> String,
) -> Vec<String> {
    entries
        .iter()
        .filter(|e| field(e, compliant_key) == "NonCompliant")
        .map(name)
        .collect()
}

fn ocm_policy(obj: &Object<'_>) -> Option<Verdict> {
    if obj.flag(&["spec", "disabled"]) {
        return healthy("Policy is disabled");
    }
    let waiting = "Waiting for the status to be reported";
    let Some(status) = obj.status().filter(|s| !s.is_empty()) else {
        return progressing(waiting);
    };
    let clusters = obj.list(&["status", "status"]);
    let templates = obj.list(&["status", "details"]);
    match status.get("compliant").and_then(Value::as_str) {
        Some("Compliant") if !templates.is_empty() => healthy("All templates are compliant"),
        Some("Compliant") => healthy("All clusters are compliant"),
        Some("NonCompliant") if !clusters.is_empty() => {
            let names = names_with(clusters, "compliant", |c| {
                field(c, "clustername").to_owned()
            });
            degraded(format!("NonCompliant clusters: {}", names.join(", ")))
        }
        Some("NonCompliant") => {
            let names = names_with(templates, "compliant", |t| {
                crate::object::lookup(t, &["templateMeta", "name"])
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            });
            degraded(format!("NonCompliant templates: {}", names.join(", ")))
        }
        Some("Pending") => progressing("Policy templates are pending"),
        _ if status.contains_key("placement") => healthy("No clusters match this policy"),
        _ => progressing(waiting),
    }
}

/// ConfigurationPolicy and the other template kinds: per-object compliance details, each with
/// its own conditions.
fn ocm_template_policy(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return progressing("Waiting for the status to be reported");
    }
    if obj.generation_not_observed()
        || obj
            .get(&["status", "lastEvaluatedGeneration"])
            .and_then(crate::object::as_int)
            .zip(obj.generation())
            .is_some_and(|(seen, generation)| seen != generation)
    {
        return progressing("Waiting for the status to be updated");
    }
    let details = obj.list(&["status", "compliancyDetails"]);
    let messages: Vec<String> = details
        .iter()
        .flat_map(|d| {
            Conditions::at(d.get("conditions"))
                .iter()
                .collect::<Vec<_>>()
        })
        .map(|c| format!("{} - {}", c.kind, c.message))
        .collect();
    match obj.str(&["status", "compliant"]) {
        Some("Compliant") => healthy(messages.join("; ")),
        Some("NonCompliant") => degraded(messages.join("; ")),
        _ => progressing("Waiting for the status to be updated"),
    }
}
