//! Red Hat 3scale API management: the APIManager (`apps.3scale.net`) reports `Available`; the
//! capability objects (`capabilities.3scale.net`: Product, Backend, ActiveDoc, DeveloperUser,
//! ...) report `Ready`, `Failed`, `Invalid` (including an orphan reference) and `In-progress`.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("apps.3scale.net", "APIManager", api_manager),
    ecosystem("capabilities.3scale.net", "*", capability),
];

fn waiting(obj: &Object<'_>) -> Option<Verdict> {
    progressing(format!("Waiting for 3scale {} status...", obj.kind))
}

/// While deployments are still starting, Available is False without a reason: not a failure.
fn api_manager(obj: &Object<'_>) -> Option<Verdict> {
    match obj.conditions().get("Available") {
        Some(c) if c.is_true() => healthy("3scale APIManager is available"),
        Some(c) if c.is_false() && !c.reason.is_empty() => {
            degraded(format!("3scale APIManager is degraded: {}", c.reason))
        }
        _ => waiting(obj),
    }
}

fn capability(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    for kind in ["Failed", "Invalid", "Orphan"] {
        if let Some(c) = conditions.get(kind)
            && c.is_true()
        {
            return degraded(c.message);
        }
    }
    if obj.str(&["status", "developerUserState"]) == Some("suspended") {
        return suspended("3scale Developer user is waiting for admin approval");
    }
    if obj.str(&["status", "state"]) == Some("suspended") {
        return suspended(format!("3scale {} is suspended", obj.kind));
    }
    match conditions.get("Ready") {
        Some(c) if c.is_true() => return healthy(format!("3scale {} is ready", obj.kind)),
        Some(c) if c.is_false() => {
            return degraded(if c.message.is_empty() {
                format!(
                    "Failed to synchronize {} with 3scale API",
                    obj.kind.to_lowercase()
                )
            } else {
                c.message.to_owned()
            });
        }
        _ => {}
    }
    if let Some(c) = conditions.get("Synced")
        && c.is_true()
    {
        return healthy(format!("3scale {} is synced", obj.kind));
    }
    if let Some(c) = conditions.get("In-progress")
        && c.is_true()
    {
        return progressing(c.message);
    }
    waiting(obj)
}
