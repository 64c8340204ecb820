//! What an apply would change, without changing anything (`ferry diff`, like `flux diff`):
//! each object is applied with a server-side dry-run, under the field manager and force of the
//! real apply, and the result is compared with the live object. Secret values can be masked
//! before the two are shown.
//!
//! Limits, as in Flux's dry-run diff: fields that `kubectl` added to a live object and that
//! the manifests do not set show no drift here, because the real apply first takes them back
//! (a write the dry-run cannot make).

use ferry_api::ObjMetadata;
use futures::{StreamExt, stream};
use kube::{
    Api, Client,
    api::{DynamicObject, Patch, PatchParams},
};
use serde_json::{Map, Value};

use crate::{
    drift,
    error::{ApplyError, api_reason, is_not_found},
    object, order,
    policy::SsaPolicy,
    resources::{ResolveError, Resources},
};

/// What applying one object would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffAction {
    /// The object does not exist yet.
    Created,
    /// The object exists and the apply would change it.
    Drifted,
    /// The apply would leave the object as it is.
    Unchanged,
    /// The object opts out of apply (`kustomize.toolkit.fluxcd.io/reconcile: disabled`,
    /// `ssa: Ignore`, or `ssa: IfNotPresent` on an existing object).
    Skipped,
}

impl DiffAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Drifted => "drifted",
            Self::Unchanged => "unchanged",
            Self::Skipped => "skipped",
        }
    }
}

/// The outcome for one object: the live object and what the apply would make of it.
#[derive(Clone, Debug)]
pub struct ObjectDiff {
    pub object: ObjMetadata,
    pub version: String,
    pub action: DiffAction,
    /// The object in the cluster, if it exists.
    pub live: Option<Value>,
    /// The dry-run result; for an object whose kind or namespace does not exist yet (its CRD
    /// or Namespace is created by the same apply), the object as given.
    pub merged: Option<Value>,
}

/// Dry-runs objects against a cluster.
#[derive(Clone)]
pub struct Differ {
    client: Client,
    resources: Resources,
    field_manager: String,
    concurrency: usize,
}

impl Differ {
    pub fn new(client: Client, resources: Resources, field_manager: impl Into<String>) -> Self {
        Self {
            client,
            resources,
            field_manager: field_manager.into(),
            concurrency: 4,
        }
    }

    /// How many objects are dry-run at once.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Dry-runs every object, in apply order. Objects that fail are reported separately.
    pub async fn diff_all(&self, mut objects: Vec<Value>) -> (Vec<ObjectDiff>, Vec<ApplyError>) {
        order::sort(&mut objects);
        let results: Vec<Result<ObjectDiff, ApplyError>> = stream::iter(objects)
            .map(|obj| self.diff(obj))
            .buffered(self.concurrency)
            .collect()
            .await;
        let mut diffs = Vec::new();
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok(diff) => diffs.push(diff),
                Err(err) => errors.push(err),
            }
        }
        (diffs, errors)
    }

    /// Dry-runs one object.
    pub async fn diff(&self, mut obj: Value) -> Result<ObjectDiff, ApplyError> {
        let display = object::display(&obj);
        let gvk = object::gvk(&obj).map_err(|source| ApplyError::InvalidObject {
            object: display.clone(),
            source,
        })?;
        let resolved = match self.resources.resolve(&self.client, &gvk).await {
            Ok(resolved) => Some(resolved),
            // A kind whose CRD the same apply creates: nothing to compare with yet.
            Err(ResolveError::NotServed { .. }) => None,
            Err(source) => {
                return Err(ApplyError::Resolve {
                    object: display,
                    source,
                });
            }
        };
        if let Some(resolved) = &resolved {
            if !resolved.namespaced {
                if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("namespace");
                }
            } else if object::namespace(&obj).is_none() {
                return Err(ApplyError::NamespaceMissing { object: display });
            }
        }
        let meta = object::obj_metadata(&obj).map_err(|source| ApplyError::InvalidObject {
            object: display,
            source,
        })?;
        let outcome = |action, live, merged| ObjectDiff {
            object: meta.clone(),
            version: gvk.version.clone(),
            action,
            live,
            merged,
        };
        let Some(resolved) = resolved else {
            return Ok(outcome(DiffAction::Created, None, Some(obj)));
        };
        let api: Api<DynamicObject> = if resolved.namespaced {
            Api::namespaced_with(self.client.clone(), &meta.namespace, &resolved.resource)
        } else {
            Api::all_with(self.client.clone(), &resolved.resource)
        };
        let policy = SsaPolicy::of(&obj);
        if policy == SsaPolicy::Ignore {
            return Ok(outcome(DiffAction::Skipped, None, None));
        }
        let live = api
            .get_opt(&meta.name)
            .await
            .map_err(|source| ApplyError::Api {
                object: meta.to_string(),
                verb: "get",
                source: Box::new(source),
            })?
            .map(to_value);
        if live.is_some() && policy == SsaPolicy::IfNotPresent {
            return Ok(outcome(DiffAction::Skipped, live, None));
        }
        let params = PatchParams::apply(&self.field_manager).force().dry_run();
        let merged = match api.patch(&meta.name, &params, &Patch::Apply(&obj)).await {
            Ok(merged) => to_value(merged),
            // The object's Namespace is created by the same apply.
            Err(err) if live.is_none() && is_not_found(&err) && namespace_missing(&err) => {
                return Ok(outcome(DiffAction::Created, None, Some(obj)));
            }
            Err(err) => {
                let (reason, message) = api_reason(&err);
                return Err(ApplyError::Rejected {
                    verb: "dry-run",
                    object: meta.to_string(),
                    reason,
                    message,
                });
            }
        };
        let action = match &live {
            None => DiffAction::Created,
            Some(live) if drift::has_drifted(live, &merged) => DiffAction::Drifted,
            Some(_) => DiffAction::Unchanged,
        };
        Ok(outcome(action, live, Some(merged)))
    }
}

/// Whether a 404 from a dry-run names a missing Namespace rather than the object.
fn namespace_missing(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status)
        if status.details.as_ref().is_some_and(|d| d.kind == "namespaces")
            || status.message.starts_with("namespaces "))
}

fn to_value(obj: DynamicObject) -> Value {
    serde_json::to_value(obj).expect("a DynamicObject always serialises")
}

/// Metadata the server sets on every write; not part of what Git declares.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
];

/// The object without status and server-set metadata: what a diff shows.
pub fn comparable(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(map) = out.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in SERVER_METADATA {
                meta.remove(*field);
            }
            if meta
                .get("annotations")
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
            {
                meta.remove("annotations");
            }
        }
    }
    out
}

/// The placeholder of a Secret value both sides share.
pub const MASK: &str = "***";
/// The placeholders of a Secret value that differs between the live object and the apply.
pub const MASK_BEFORE: &str = "*** (before)";
pub const MASK_AFTER: &str = "*** (after)";

/// Replaces the values of a Secret's `data` and `stringData` with placeholders on both sides,
/// so that a diff shows which keys change without showing any value. Other kinds are untouched.
pub fn mask_secrets(diff: &mut ObjectDiff) {
    if diff.object.kind != "Secret" || !diff.object.group.is_empty() {
        return;
    }
    for field in ["data", "stringData"] {
        let before = diff.live.as_ref().and_then(|o| o.get(field)).cloned();
        let after = diff.merged.as_ref().and_then(|o| o.get(field)).cloned();
        mask_values(diff.live.as_mut(), field, after.as_ref(), MASK_BEFORE);
        mask_values(diff.merged.as_mut(), field, before.as_ref(), MASK_AFTER);
    }
}

/// Masks the values under `field`; a value the other side holds differently gets `changed`.
fn mask_values(side: Option<&mut Value>, field: &str, other: Option<&Value>, changed: &str) {
    let Some(values) = side
        .and_then(|o| o.get_mut(field))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (key, value) in values.iter_mut() {
        let differs = other.and_then(|o| o.get(key)).is_some_and(|v| v != value);
        *value = Value::String(if differs { changed } else { MASK }.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"}, "data": data})
    }

    #[test]
    fn secret_values_never_show_but_changes_do() {
        let mut diff = ObjectDiff {
            object: ObjMetadata::parse("n_s__Secret").unwrap(),
            version: "v1".into(),
            action: DiffAction::Drifted,
            live: Some(secret(
                json!({"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}),
            )),
            merged: Some(secret(
                json!({"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}),
            )),
        };
        mask_secrets(&mut diff);
        assert_eq!(
            diff.live.unwrap()["data"],
            json!({"same": MASK, "changed": MASK_BEFORE, "gone": MASK})
        );
        assert_eq!(
            diff.merged.unwrap()["data"],
            json!({"same": MASK, "changed": MASK_AFTER, "new": MASK})
        );
    }

    #[test]
    fn other_kinds_are_left_alone() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
        let mut diff = ObjectDiff {
            object: ObjMetadata::parse("_c__ConfigMap").unwrap(),
            version: "v1".into(),
            action: DiffAction::Created,
            live: None,
            merged: Some(cm.clone()),
        };
        mask_secrets(&mut diff);
        assert_eq!(diff.merged, Some(cm));
    }

    #[test]
    fn comparable_drops_what_the_server_sets() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "uid": "u", "resourceVersion": "4", "managedFields": [], "annotations": {}, "labels": {"a": "b"}},
            "data": {"k": "v"}, "status": {}});
        assert_eq!(
            comparable(&live),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "b"}}, "data": {"k": "v"}})
        );
    }
}
