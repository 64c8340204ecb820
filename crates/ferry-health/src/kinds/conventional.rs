//! Custom resources whose controllers follow the common conventions (a `Ready` or similar
//! condition, or a `phase`) closely enough for the generic rule, but which always get a status
//! from their controller: until it appears they are Progressing, not "no health".
//! Also Spark applications and Gardener shoots, which report their own state words.

use crate::generic;
use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, unknown};

pub const RULES: &[Entry] = &[
    ecosystem("jaegertracing.io", "Jaeger", operated),
    ecosystem("kyverno.io", "Policy", operated),
    ecosystem("kyverno.io", "ClusterPolicy", operated),
    ecosystem("onepassword.com", "OnePasswordItem", operated),
    ecosystem("bitnami.com", "SealedSecret", operated),
    ecosystem("iammanager.keikoproj.io", "Iamrole", iam_role),
    ecosystem("karpenter.sh", "*", operated),
    ecosystem("karpenter.k8s.aws", "*", operated),
    ecosystem("pulumi.com", "Stack", operated),
    ecosystem("install.istio.io", "IstioOperator", operated),
    ecosystem("camel.apache.org", "*", operated),
    ecosystem("db.atlasgo.io", "*", operated),
    ecosystem("objectbucket.io", "ObjectBucketClaim", operated),
    ecosystem("objectbucket.io", "ObjectBucket", operated),
    ecosystem(
        "grafana-org-operator.kubitus-project.gitlab.io",
        "*",
        operated,
    ),
    ecosystem(
        "sparkoperator.k8s.io",
        "SparkApplication",
        spark_application,
    ),
    ecosystem(
        "sparkoperator.k8s.io",
        "ScheduledSparkApplication",
        operated,
    ),
    ecosystem("core.gardener.cloud", "Shoot", gardener_shoot),
    ecosystem(
        "proclaim.dogmatiq.io",
        "DNSSDServiceInstance",
        dns_sd_instance,
    ),
];

fn operated(obj: &Object<'_>) -> Option<Verdict> {
    let waiting = || progressing(format!("Waiting for {}", obj.kind));
    if obj.has_no_status() {
        return waiting();
    }
    if obj.generation_not_observed() {
        return progressing("Waiting for the operator to observe the latest spec change");
    }
    generic::assess(obj).or_else(waiting)
}

fn spark_application(obj: &Object<'_>) -> Option<Verdict> {
    let state = obj.str_or_empty(&["status", "applicationState", "state"]);
    let error = obj.str_or_empty(&["status", "applicationState", "errorMessage"]);
    match state {
        "RUNNING" => healthy("SparkApplication is Running"),
        "COMPLETED" => healthy("SparkApplication is Completed"),
        "FAILED" | "SUBMISSION_FAILED" | "FAILING" => degraded(error),
        "" => progressing("Waiting for SparkApplication"),
        "PENDING_RERUN" => progressing("SparkApplication is Pending Rerun"),
        other => progressing(format!("SparkApplication is {other}")),
    }
}

/// A Shoot reports five health conditions once its control plane exists. Gardener says the API
/// server condition fails while the cluster is being (re)created, so that one means progress.
fn gardener_shoot(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if let Some(state) = obj.str(&["status", "lastOperation", "state"])
        && matches!(state, "Failed" | "Error" | "Aborted")
    {
        return degraded(format!("Component state: {state}"));
    }
    if conditions.is_empty() {
        return degraded("Component state: Unhealthy");
    }
    if conditions
        .iter()
        .any(|c| c.kind == "APIServerAvailable" && !c.is_true())
        || conditions.iter().any(|c| c.status == "Progressing")
    {
        return progressing("Component state: Update in progress");
    }
    if conditions.iter().all(|c| c.is_true()) {
        return healthy("Component state: Healthy");
    }
    unknown("Component state: Unknown")
}

/// The IAM role manager reports a `state` and, when reconciling failed, an `errorDescription`.
fn iam_role(obj: &Object<'_>) -> Option<Verdict> {
    let state = obj.str(&["status", "state"]);
    let error = obj.str_or_empty(&["status", "errorDescription"]);
    match state {
        None => progressing("Waiting for Iamrole to be reconciled"),
        Some("Ready") => healthy(format!(
            "Role '{}' exists with ARN '{}'",
            obj.str_or_empty(&["status", "roleName"]),
            obj.str_or_empty(&["status", "roleARN"])
        )),
        Some(_) if !error.is_empty() => degraded(error),
        Some(state) => progressing(state),
    }
}

/// Proclaim advertises DNS-SD records: the instance must be adopted by a provider, advertised,
/// and then discoverable through DNS.
fn dns_sd_instance(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    for kind in ["Adopted", "Advertised"] {
        if let Some(c) = conditions.get(kind)
            && c.is_false()
        {
            return degraded(c.message);
        }
    }
    match conditions.get("Discoverable") {
        Some(c) if c.is_true() => healthy(c.message),
        Some(c) if c.is_false() => progressing(c.message),
        Some(c) => unknown(c.message),
        None => progressing("Waiting for the instance to be advertised"),
    }
}
