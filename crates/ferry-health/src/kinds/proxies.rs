//! Proxies and their policies outside the Gateway API: Contour (`projectcontour.io`) HTTPProxy
//! and ExtensionService report a `Valid` condition; Airlock Microgateway
//! (`microgateway.airlock.com`) policies report `Accepted` per ancestor Gateway.

use serde_json::Value;

use crate::object::{Conditions, Object, lookup};
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing};

pub const RULES: &[Entry] = &[
    ecosystem("projectcontour.io", "HTTPProxy", contour_object),
    ecosystem("projectcontour.io", "ExtensionService", contour_object),
    ecosystem("microgateway.airlock.com", "*", airlock_policy),
];

const WAITING: &str = "Waiting for status";

fn contour_object(obj: &Object<'_>) -> Option<Verdict> {
    if obj.has_no_status() {
        return progressing(WAITING);
    }
    if obj.str(&["status", "currentStatus"]) == Some("NotReconciled") {
        return progressing(
            obj.str(&["status", "description"])
                .unwrap_or("Waiting for controller"),
        );
    }
    let valid = obj.conditions().get("Valid");
    if let (Some(c), Some(generation)) = (valid, obj.generation())
        && c.observed_generation.is_some_and(|o| o != generation)
    {
        return progressing(WAITING);
    }
    // An HTTPProxy without a virtual host is included by another one: its validity is the
    // root's business.
    if obj.kind == "HTTPProxy" && obj.get(&["spec", "virtualhost"]).is_none() {
        return healthy("HTTPProxy inclusions cannot be health checked");
    }
    match valid {
        Some(c) if c.is_true() => healthy(if c.message.is_empty() {
            format!("Valid {}", obj.kind)
        } else {
            c.message.to_owned()
        }),
        Some(c) if c.is_false() => degraded(c.message),
        _ => progressing(WAITING),
    }
}

fn airlock_policy(obj: &Object<'_>) -> Option<Verdict> {
    let ancestors = obj.list(&["status", "ancestors"]);
    if ancestors.is_empty() {
        return progressing(format!("Waiting for {} status", obj.kind));
    }
    let generation = obj.generation();
    let mut waiting = None;
    for ancestor in ancestors {
        let name = lookup(ancestor, &["ancestorRef", "name"])
            .and_then(Value::as_str)
            .unwrap_or("");
        let conditions = Conditions::at(ancestor.get("conditions"));
        if conditions.is_empty() {
            continue;
        }
        for c in conditions.iter() {
            let failed = match c.kind {
                "Accepted" | "ResolvedRefs" => c.is_false(),
                "Conflicted" => c.is_true(),
                _ => false,
            };
            if failed {
                return degraded(format!("Ancestor {name}: {}", c.message));
            }
        }
        match conditions.get("Accepted") {
            None => {
                return degraded(format!("Ancestor {name}: {} is not accepted", obj.kind));
            }
            Some(c) => {
                if let Some(generation) = generation
                    && c.observed_generation.is_some_and(|o| o < generation)
                {
                    waiting.get_or_insert_with(|| {
                        format!("Waiting for Ancestor {name} to update {} status", obj.kind)
                    });
                }
            }
        }
    }
    match waiting {
        Some(message) => progressing(message),
        None => healthy(format!("{} is healthy", obj.kind)),
    }
}
