//! apiregistration.k8s.io APIService: Healthy when the aggregated API is Available.

use crate::object::Object;
use crate::rules::{Entry, Verdict, core, healthy, progressing};

pub const RULES: &[Entry] = &[core("apiregistration.k8s.io", "APIService", api_service)];

fn api_service(obj: &Object<'_>) -> Option<Verdict> {
    match obj.conditions().get("Available") {
        Some(c) if c.is_true() => healthy(format!("{}: {}", c.reason, c.message)),
        Some(c) => progressing(format!("{}: {}", c.reason, c.message)),
        None => progressing("Waiting to be processed"),
    }
}
