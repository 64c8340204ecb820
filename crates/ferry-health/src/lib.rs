//! Health assessment: one pure function from a Kubernetes object to its health, in Argo CD's
//! vocabulary (Healthy, Progressing, Degraded, Suspended, Missing, Unknown, with a message) and
//! in kstatus' (Current, InProgress, Failed, Terminating), plus user-defined checks (Flux CEL
//! expressions, Argo CD Lua scripts).
//!
//! ```
//! let deployment = serde_json::json!({
//!     "apiVersion": "apps/v1", "kind": "Deployment",
//!     "metadata": {"name": "web", "generation": 2},
//!     "spec": {"replicas": 2},
//!     "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 2}
//! });
//! let health = ferry_health::assess(&deployment);
//! assert_eq!(health.status, Some(ferry_health::Status::Progressing));
//! assert_eq!(health.kstatus, ferry_health::KStatus::InProgress);
//! ```
//!
//! The Argo CD view comes from, in order: the "Pending deletion" rule, a rule for the object's
//! kind (Kubernetes built-ins and well-known custom resources, one module per family under
//! `kinds`), or the generic rule of conventions. The kstatus view is kstatus' own algorithm,
//! computed independently, because that is what Flux waits on.

mod checks;
mod generic;
mod kinds;
mod kstatus;
mod object;
mod rules;
mod status;
mod time;

pub use checks::cel::json_to_cel;
pub use checks::{
    CelError, CheckError, Checks, HealthCheckExprs, LuaError, LuaHealthScript, LuaLimits,
    lua_scripts_from_argocd_cm, lua_scripts_from_legacy_customizations,
};
pub use status::{Basis, Health, KStatus, Status};

use object::Object;
use serde_json::Value;

/// The finalizer Argo CD puts on hooks it still has to clean up; such objects are judged by
/// their kind even while being deleted.
const HOOK_FINALIZER: &str = "argocd.argoproj.io/hook-finalizer";

/// The health of one object.
pub fn assess(object: &Value) -> Health {
    assess_object(&Object::new(object), true)
}

/// The health of one object with user checks (Flux CEL expressions, Argo CD Lua scripts)
/// applied over the built-in rules; the same as [`Checks::assess`].
pub fn assess_with(object: &Value, checks: &Checks) -> Health {
    checks.assess(object)
}

/// The health of one object as its kind's rule alone judges it, without Argo CD's "Pending
/// deletion" override. Argo CD's own per-kind tests call their scripts this way; the apply
/// engine wants [`assess`].
pub fn assess_ignoring_deletion(object: &Value) -> Health {
    assess_object(&Object::new(object), false)
}

fn has_hook_finalizer(obj: &Object<'_>) -> bool {
    obj.list(&["metadata", "finalizers"])
        .iter()
        .any(|f| f.as_str() == Some(HOOK_FINALIZER))
}

fn assess_object(obj: &Object<'_>, deletion_override: bool) -> Health {
    let k = kstatus::compute(obj);
    let (status, message, basis) = argo_view(obj, deletion_override);
    Health {
        status,
        message,
        kstatus: k.status,
        kstatus_message: k.message,
        basis,
    }
}

/// Argo CD's view: status, message and what decided it.
fn argo_view(obj: &Object<'_>, deletion_override: bool) -> (Option<Status>, String, Basis) {
    if deletion_override && obj.is_deleting() && !has_hook_finalizer(obj) {
        return (
            Some(Status::Progressing),
            "Pending deletion".to_owned(),
            Basis::PendingDeletion,
        );
    }
    let (verdict, basis) = match rules::lookup(obj.group, obj.kind) {
        Some((rule, basis)) => (rule(obj), basis),
        None => (generic::assess(obj), Basis::Conventions),
    };
    match verdict {
        Some(v) => (Some(v.status), v.message, basis),
        None => (None, String::new(), Basis::None),
    }
}
