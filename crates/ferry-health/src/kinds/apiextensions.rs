//! apiextensions.k8s.io CustomResourceDefinition: Healthy once Established with its names
//! accepted and a structural schema; Progressing while installing or terminating.

use crate::object::Object;
use crate::rules::{Entry, Verdict, core, degraded, healthy, progressing};

pub const RULES: &[Entry] = &[core(
    "apiextensions.k8s.io",
    "CustomResourceDefinition",
    custom_resource_definition,
)];

fn custom_resource_definition(obj: &Object<'_>) -> Option<Verdict> {
    if obj.is_deleting() {
        return progressing("CRD is terminating");
    }
    let conditions = obj.conditions();
    if conditions.is_empty() {
        return progressing("Status conditions not found");
    }
    if let Some(c) = conditions.get("Terminating")
        && c.is_true()
    {
        return progressing(format!("CRD is terminating: {}", c.message));
    }
    if let Some(c) = conditions.get("NamesAccepted")
        && c.is_false()
    {
        return degraded(format!("CRD names have not been accepted: {}", c.message));
    }
    if let Some(c) = conditions.get("NonStructuralSchema")
        && c.is_true()
    {
        return degraded(format!("Schema violations found: {}", c.message));
    }
    match conditions.get("Established") {
        Some(c) if c.is_true() => healthy("CRD is healthy"),
        Some(c) if c.reason == "Installing" => progressing("CRD is being installed"),
        Some(_) => degraded("CRD is not established"),
        None => progressing("CRD is being installed"),
    }
}
