//! Google Cloud: Config Connector resources (groups ending in `.cnrm.cloud.google.com`) report
//! a `Ready` condition whose reason tells apart failure, updates in progress and waiting on a
//! dependency; its own ConfigConnector / ConfigConnectorContext objects report `healthy`. GKE
//! ManagedCertificates report the provisioning status of the certificate.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("*.cnrm.cloud.google.com", "*", config_connector_resource),
    ecosystem(
        "networking.gke.io",
        "ManagedCertificate",
        managed_certificate,
    ),
];

const UPDATING: &str = "Update in progress";

fn config_connector_resource(obj: &Object<'_>) -> Option<Verdict> {
    if obj.generation_not_observed() {
        return progressing(UPDATING);
    }
    if let Some(is_healthy) = obj.get(&["status", "healthy"]).and_then(|v| v.as_bool()) {
        return if is_healthy {
            healthy(format!("{} is healthy", obj.kind))
        } else {
            degraded(format!("{} is not healthy", obj.kind))
        };
    }
    match obj.conditions().get("Ready") {
        Some(c) if c.is_true() => healthy(c.message),
        // A dependency is not ready yet: the resource waits on purpose, it has not failed.
        Some(c) if c.reason == "DependencyNotReady" => suspended(c.message),
        Some(c) if matches!(c.reason, "Updating" | "UpdateInProgress" | "Creating") => {
            progressing(c.message)
        }
        Some(c) if c.is_false() => degraded(c.message),
        _ => progressing(UPDATING),
    }
}

/// A ManagedCertificate covers several domains, each provisioned on its own: any failed domain
/// fails it, any domain still provisioning keeps it in progress.
fn managed_certificate(obj: &Object<'_>) -> Option<Verdict> {
    let domains = obj.list(&["status", "domainStatus"]);
    fn state(domain: &serde_json::Value) -> &str {
        crate::object::field(domain, "status")
    }
    if domains.iter().any(|d| state(d).starts_with("Failed")) {
        return degraded("At least one certificate has failed to be provisioned");
    }
    if domains.is_empty() || domains.iter().any(|d| state(d) != "Active") {
        return progressing("At least one certificate is still being provisioned");
    }
    healthy("All certificates are active")
}
