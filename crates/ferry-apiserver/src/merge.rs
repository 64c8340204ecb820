//! Schema-aware merges: strategic merge patch and server-side apply.
//!
//! These belong to ferry-schema (strategic merge keys from the OpenAPI extensions, field sets and
//! managedFields ownership). Until its implementations land, this module applies the documented
//! *interim* behaviour below, which is exact for maps and scalars and treats every list as atomic:
//! - strategic merge patch = JSON merge patch after removing `$patch`/`$retainKeys`/
//!   `$setElementOrder`/`$deleteFromPrimitiveList` directives;
//! - server-side apply = create from the applied configuration, or merge it into the live object;
//!   no managedFields, no conflicts, no removal of fields a manager stopped applying.

use serde_json::Value;

use crate::{
    core::{Core, Part, WriteOptions},
    resources::ResourceInfo,
    status::ApiError,
};

fn strip_directives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| {
                !k.starts_with("$setElementOrder/")
                    && !k.starts_with("$deleteFromPrimitiveList/")
                    && k != "$patch"
                    && k != "$retainKeys"
            });
            map.values_mut().for_each(strip_directives);
        }
        Value::Array(items) => {
            items.retain(|i| i.get("$patch").and_then(Value::as_str) != Some("delete"));
            items.iter_mut().for_each(strip_directives);
        }
        _ => {}
    }
}

/// Strategic merge patch of a built-in object.
pub fn strategic(_info: &ResourceInfo, live: &Value, patch: &Value) -> Result<Value, ApiError> {
    let mut patch = patch.clone();
    strip_directives(&mut patch);
    let mut doc = live.clone();
    json_patch::merge(&mut doc, &patch);
    Ok(doc)
}

/// Server-side apply onto an existing object.
pub fn apply(
    _core: &Core,
    _info: &ResourceInfo,
    live: Option<&Value>,
    patch: &Value,
    part: Part,
    _opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let mut doc = live.cloned().unwrap_or_else(|| patch.clone());
    match part {
        Part::Status => {
            if let Some(status) = patch.get("status") {
                let mut merged = doc.get("status").cloned().unwrap_or(Value::Null);
                json_patch::merge(&mut merged, status);
                doc["status"] = merged;
            }
        }
        _ => {
            let mut applied = patch.clone();
            if let Some(meta) = applied.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("resourceVersion");
                meta.remove("managedFields");
            }
            json_patch::merge(&mut doc, &applied);
        }
    }
    Ok(doc)
}

/// Records the applier of an object that apply is about to create.
pub fn record_new_apply(
    _info: &ResourceInfo,
    _object: &mut Value,
    _opts: &WriteOptions,
) -> Result<(), ApiError> {
    Ok(())
}
