//! The CRD controller: registers the resources of established CRDs, reports NamesAccepted and
//! Established, and on deletion removes every custom resource before letting the CRD go.

use serde_json::{Value, json};

use crate::{
    core::{Core, DeleteOptions, Part},
    meta,
    resources::crd_resources,
    store::{Event, EventType},
};

/// The finalizer the real server puts on CRDs so their instances are cleaned up first.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

const CRD_RESOURCE: &str = "apiextensions.k8s.io/customresourcedefinitions";

pub fn register_existing(core: &Core) {
    for crd in core.store.list(CRD_RESOURCE, None).items {
        reconcile(core, &crd.value);
    }
}

pub fn on_event(core: &Core, event: &Event) {
    if event.key.resource != CRD_RESOURCE {
        return;
    }
    match event.kind {
        EventType::Deleted => {
            core.registry.remove_crd(&event.key.name);
            core.schemas.remove_crd(&event.key.name);
        }
        _ => reconcile(core, &event.object.value),
    }
}

fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    previous: Option<&Value>,
) -> Value {
    let transition = previous
        .and_then(|conds| conds.as_array())
        .and_then(|conds| {
            conds
                .iter()
                .find(|c| c["type"] == type_ && c["status"] == status)
        })
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or_else(|| json!(meta::now()));
    json!({"type": type_, "status": status, "reason": reason, "message": message, "lastTransitionTime": transition})
}

fn reconcile(core: &Core, crd: &Value) {
    let Some(info) =
        core.registry
            .lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    else {
        return;
    };
    let name = meta::meta_str(crd, "name").to_owned();
    if meta::is_deleting(crd) {
        cleanup(core, crd, &name);
        return;
    }
    if !meta::finalizers(crd).iter().any(|f| f == CLEANUP_FINALIZER) {
        let _ = core.edit(&info, "", &name, Part::Main, |obj| {
            let mut f = meta::finalizers(obj);
            if f.iter().any(|x| x == CLEANUP_FINALIZER) {
                return false;
            }
            f.push(CLEANUP_FINALIZER.to_owned());
            meta::set_finalizers(obj, &f);
            true
        });
        return;
    }
    let resources = match crd_resources(crd) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "crd not served");
            return;
        }
    };
    let group = crd
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let plural = crd
        .pointer("/spec/names/plural")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = crd
        .pointer("/spec/names/kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let conflict = core.registry.conflicts_with(&name, group, plural, kind);
    if !conflict {
        if let Err(e) = core.schemas.add_crd(crd) {
            tracing::warn!(error = %e, crd = name, "crd schema not usable for apply and patch");
        }
        core.registry.set_crd(&name, resources);
    }
    let storage = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        })
        .and_then(|v| v.get("name").cloned())
        .unwrap_or(Value::Null);
    let names = crd
        .pointer("/spec/names")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let _ = core.edit(&info, "", &name, Part::Status, |obj| {
        let previous = obj.pointer("/status/conditions").cloned();
        let conditions = if conflict {
            json!([
                condition("NamesAccepted", "False", "NameConflict", &format!("\"{plural}\" is already in use"), previous.as_ref()),
                condition("Established", "False", "NotAccepted", "not all names are accepted", previous.as_ref()),
            ])
        } else {
            json!([
                condition("NamesAccepted", "True", "NoConflicts", "no conflicts found", previous.as_ref()),
                condition("Established", "True", "InitialNamesAccepted", "the initial names have been accepted", previous.as_ref()),
            ])
        };
        let mut stored_versions: Vec<Value> =
            obj.pointer("/status/storedVersions").and_then(Value::as_array).cloned().unwrap_or_default();
        if !storage.is_null() && !stored_versions.contains(&storage) {
            stored_versions.push(storage.clone());
        }
        let status = json!({
            "conditions": conditions,
            "acceptedNames": if conflict { json!({"plural": "", "kind": ""}) } else { names.clone() },
            "storedVersions": stored_versions,
        });
        if obj.get("status") == Some(&status) {
            return false;
        }
        obj["status"] = status;
        true
    });
}

fn cleanup(core: &Core, crd: &Value, name: &str) {
    let Some(crd_info) =
        core.registry
            .lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    else {
        return;
    };
    let resources = crd_resources(crd).unwrap_or_default();
    let Some(storage) = resources
        .iter()
        .find(|r| r.version == r.storage_version)
        .or(resources.first())
    else {
        let _ = remove_finalizer(core, &crd_info, name);
        return;
    };
    let remaining = core.store.list(&storage.storage_key(), None).items;
    if remaining.is_empty() {
        let _ = remove_finalizer(core, &crd_info, name);
        return;
    }
    for item in remaining {
        if meta::is_deleting(&item.value) {
            continue;
        }
        let ns = meta::meta_str(&item.value, "namespace").to_owned();
        let item_name = meta::meta_str(&item.value, "name").to_owned();
        if let Err(e) = core.delete(storage, &ns, &item_name, &DeleteOptions::default())
            && e.code != 404
        {
            tracing::warn!(error = %e, crd = name, "deleting custom resource during CRD cleanup");
        }
    }
}

fn remove_finalizer(
    core: &Core,
    info: &crate::resources::ResourceInfo,
    name: &str,
) -> Result<(), crate::status::ApiError> {
    core.edit(info, "", name, Part::Main, |obj| {
        let mut f = meta::finalizers(obj);
        let before = f.len();
        f.retain(|x| x != CLEANUP_FINALIZER);
        meta::set_finalizers(obj, &f);
        f.len() != before
    })
    .map(|_| ())
}

/// Whether a CRD's instances are all gone (for its cleanup finalizer), used by tests.
pub fn instances_left(core: &Core, crd: &Value) -> usize {
    crd_resources(crd)
        .ok()
        .and_then(|rs| rs.into_iter().next())
        .map_or(0, |r| core.store.count(&r.storage_key(), None))
}

/// Re-runs cleanup of CRDs being deleted (instances may have been held by finalizers).
pub fn sweep(core: &Core) {
    for crd in core.store.list(CRD_RESOURCE, None).items {
        if meta::is_deleting(&crd.value) {
            cleanup(core, &crd.value, meta::meta_str(&crd.value, "name"));
        }
    }
}
