//! Gateway API (`gateway.networking.k8s.io`). A GatewayClass and a Gateway report `Accepted`,
//! `ResolvedRefs` and `Programmed` conditions (a Gateway also per listener); routes report
//! conditions per parent Gateway (`status.parents`) and policies per ancestor
//! (`status.ancestors`). Any of them false is a failure, except `Programmed` false with a
//! pending reason.

use serde_json::Value;

use crate::object::{Condition, Conditions, Object, lookup};
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing};

pub const RULES: &[Entry] = &[
    ecosystem("gateway.networking.k8s.io", "GatewayClass", gateway_class),
    ecosystem("gateway.networking.k8s.io", "Gateway", gateway),
    ecosystem("gateway.networking.k8s.io", "*", route_or_policy),
];

fn is_pending(c: &Condition<'_>) -> bool {
    matches!(c.reason, "Pending" | "ProgrammingInProgress" | "Waiting")
}

fn gateway_class(obj: &Object<'_>) -> Option<Verdict> {
    match obj.conditions().get("Accepted") {
        Some(c) if c.is_true() => healthy("GatewayClass is accepted"),
        Some(c) if c.is_false() && !is_pending(&c) => degraded(c.message),
        _ => progressing("Waiting for a controller to accept the GatewayClass"),
    }
}

/// The first failing condition of a list, as a verdict: `Accepted` and `ResolvedRefs` false are
/// failures; `Programmed` false is a failure unless its reason says it is pending.
fn failing<'a>(conditions: &Conditions<'a>) -> Option<(bool, Condition<'a>)> {
    conditions.iter().find_map(|c| {
        if !c.is_false() {
            return None;
        }
        match c.kind {
            "Accepted" | "ResolvedRefs" | "Conflicted" => Some((true, c)),
            "Programmed" | "Ready" => Some((!is_pending(&c), c)),
            _ => None,
        }
    })
}

fn gateway(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if conditions.is_empty() {
        return progressing("Waiting for the Gateway to be programmed");
    }
    if let Some(generation) = obj.generation()
        && conditions
            .iter()
            .any(|c| c.observed_generation.is_some_and(|o| o < generation))
    {
        return progressing("Waiting for the controller to observe the Gateway's latest spec");
    }
    if let Some((failed, c)) = failing(conditions) {
        return if failed {
            degraded(c.message)
        } else {
            progressing(c.message)
        };
    }
    for listener in obj.list(&["status", "listeners"]) {
        if let Some((failed, c)) = failing(&Conditions::at(listener.get("conditions"))) {
            let message = format!("Listener: {}", c.message);
            return if failed {
                degraded(message)
            } else {
                progressing(message)
            };
        }
    }
    healthy("Gateway is healthy")
}

/// Routes list their parents (`status.parents[].parentRef`), policies their ancestors
/// (`status.ancestors[].ancestorRef`).
fn route_or_policy(obj: &Object<'_>) -> Option<Verdict> {
    let (entries, label, reference) = if obj.get(&["status", "ancestors"]).is_some() {
        (
            obj.list(&["status", "ancestors"]),
            "Ancestor",
            "ancestorRef",
        )
    } else {
        (obj.list(&["status", "parents"]), "Parent", "parentRef")
    };
    if entries.is_empty() {
        return if obj.has_no_status() {
            progressing(format!("Waiting for {} status", obj.kind))
        } else {
            healthy(format!("{} is healthy", obj.kind))
        };
    }
    let generation = obj.generation();
    let mut waiting = None;
    for entry in entries {
        let name = lookup(entry, &[reference, "name"])
            .and_then(Value::as_str)
            .unwrap_or("");
        let conditions = Conditions::at(entry.get("conditions"));
        if let Some((failed, c)) = failing(&conditions) {
            let message = format!("{label} {name}: {}", c.message);
            return if failed {
                degraded(message)
            } else {
                progressing(message)
            };
        }
        if conditions.is_empty() {
            waiting.get_or_insert_with(|| format!("Waiting for {} status", obj.kind));
        } else if let Some(generation) = generation
            && conditions
                .iter()
                .any(|c| c.observed_generation.is_some_and(|o| o < generation))
        {
            waiting.get_or_insert_with(|| {
                format!("Waiting for {label} {name} to update {} status", obj.kind)
            });
        }
    }
    if let Some(message) = waiting {
        return progressing(message);
    }
    healthy(format!("{} is healthy", obj.kind))
}
