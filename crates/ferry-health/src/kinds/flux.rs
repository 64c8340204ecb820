//! Flux (`*.toolkit.fluxcd.io`): every Flux object reports kstatus-compatible conditions. A
//! suspended object is Suspended; otherwise `Stalled`, then `Ready` decide, and while `Ready`
//! is Unknown (reason `Progressing`) the object is still reconciling. The message is the
//! condition's reason, as Argo CD shows Flux objects.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("*.toolkit.fluxcd.io", "*", flux_object),
    ecosystem(
        "source.toolkit.fluxcd.io",
        "HelmRepository",
        helm_repository,
    ),
];

fn flux_object(obj: &Object<'_>) -> Option<Verdict> {
    if obj.flag(&["spec", "suspend"]) {
        return suspended("Suspended");
    }
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("Stalled")
        && c.is_true()
    {
        return degraded(c.reason);
    }
    let Some(ready) = conditions.get("Ready") else {
        return progressing("Waiting for the controller to report readiness");
    };
    if let (Some(generation), Some(observed)) = (obj.generation(), ready.observed_generation)
        && observed != generation
        && !ready.is_false()
    {
        return progressing("Progressing");
    }
    if ready.is_true() {
        healthy(ready.reason)
    } else if ready.is_false() {
        degraded(ready.reason)
    } else {
        progressing(if ready.reason.is_empty() {
            "Progressing"
        } else {
            ready.reason
        })
    }
}

/// A HelmRepository of type `oci` is only a pointer: its controller writes no status at all.
fn helm_repository(obj: &Object<'_>) -> Option<Verdict> {
    if obj.str(&["spec", "type"]) == Some("oci") && obj.conditions().is_empty() {
        return healthy(
            "Helm repositories of type 'oci' do not contain any information in the status.",
        );
    }
    flux_object(obj)
}
