//! Humio / LogScale operator (`core.humio.com`): a HumioCluster reports the `state` of its
//! pods; every other Humio object mirrors an entity inside LogScale and reports whether it
//! `Exists`, was `NotFound` there, or has a `ConfigError`.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, missing, progressing, unknown};

pub const RULES: &[Entry] = &[
    ecosystem("core.humio.com", "HumioCluster", cluster),
    ecosystem("core.humio.com", "*", entity),
];

fn state_message(state: &str) -> String {
    format!("Component state: {state}.")
}

fn cluster(obj: &Object<'_>) -> Option<Verdict> {
    let message = obj.str(&["status", "message"]).filter(|m| !m.is_empty());
    match obj.str(&["status", "state"]) {
        None => progressing("Update in progress"),
        Some("Running") => healthy("Cluster is in a healthy running state"),
        Some("Restarting") => progressing("Cluster pods are being restarted"),
        Some("Upgrading") => progressing("Cluster pods are being upgraded"),
        Some("Pending") => progressing("Cluster is waiting on resources to be provisioned"),
        Some("ConfigError") => degraded(
            message
                .unwrap_or("User-provided cluster specification resulted in a configuration error"),
        ),
        Some(state) => unknown(state_message(state)),
    }
}

fn entity(obj: &Object<'_>) -> Option<Verdict> {
    match obj.str(&["status", "state"]) {
        None => progressing("Update in progress"),
        Some(state @ "Exists") => healthy(state_message(state)),
        Some(state @ "NotFound") => missing(state_message(state)),
        Some(state @ "ConfigError") => degraded(state_message(state)),
        Some(state) => unknown(state_message(state)),
    }
}
