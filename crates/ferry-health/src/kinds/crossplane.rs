//! Crossplane: packages (`pkg.crossplane.io` Provider, Configuration, Function) report
//! `Installed` and `Healthy`; managed resources of every provider (groups ending in
//! `.crossplane.io` or `.upbound.io`) report `Ready` (the external resource exists and is
//! available) and `Synced` (the last reconcile worked). Provider configurations have no status.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("pkg.crossplane.io", "Provider", package),
    ecosystem("pkg.crossplane.io", "Configuration", package),
    ecosystem("pkg.crossplane.io", "Function", package),
    ecosystem("*.crossplane.io", "*", managed_resource),
    ecosystem("*.upbound.io", "*", managed_resource),
];

fn package(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    let installed = conditions.get("Installed");
    let health = conditions.get("Healthy");
    let (Some(installed), Some(health)) = (installed, health) else {
        return progressing(format!(
            "Waiting for {} to be installed",
            obj.kind.to_lowercase()
        ));
    };
    let message = format!("{} {}", installed.reason, health.reason);
    if installed.is_true() && health.is_true() {
        healthy(message)
    } else {
        degraded(message)
    }
}

/// Kinds that only carry credentials or settings for a provider; they never get conditions.
fn is_config_kind(kind: &str) -> bool {
    kind.ends_with("ProviderConfig")
        || kind.ends_with("ProviderConfigUsage")
        || kind.ends_with("StoreConfig")
}

fn managed_resource(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    let synced = conditions.get("Synced");
    if obj.annotation("crossplane.io/paused") == Some("true")
        || synced.is_some_and(|c| c.reason == "ReconcilePaused")
    {
        return suspended("ReconcilePaused");
    }
    if let Some(c) = synced
        && c.is_false()
    {
        return degraded(c.message);
    }
    match conditions.get("Ready") {
        Some(c) if c.is_true() => healthy(c.reason),
        Some(c) if c.is_false() && matches!(c.reason, "Unavailable") => degraded(c.message),
        Some(_) => progressing(format!("Waiting for {} to be available", obj.kind)),
        None if is_config_kind(obj.kind) => healthy("Resource is up-to-date."),
        None => progressing(format!("Waiting for {} to be created", obj.kind)),
    }
}
