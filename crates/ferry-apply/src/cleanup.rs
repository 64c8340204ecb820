//! Taking back fields that `kubectl` changed on objects ferry owns. Server-side apply only
//! removes fields their applier owned before, so an extra label added with `kubectl label`
//! would survive every re-apply. As Flux does, the field sets of kubectl's managers are moved
//! into ferry's own Apply entry; the next apply, which does not carry those fields, then
//! removes them or sets them back to the values from Git.

use ferry_api::keys;
use serde_json::{Value, json};

/// The JSON patch that transfers ownership and strips client-side-apply leftovers, or `None`
/// when the live object has nothing to clean.
pub fn cleanup_patch(live: &Value, field_manager: &str, now: &str) -> Option<Value> {
    let mut ops = Vec::new();
    if let Some(managed) = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        && let Some(transferred) = transfer_ownership(managed, field_manager, live, now)
    {
        ops.push(json!({"op": "replace", "path": "/metadata/managedFields", "value": transferred}));
    }
    for (field, keys) in [
        ("annotations", keys::STRIPPED_ANNOTATIONS),
        ("labels", keys::STRIPPED_LABELS),
    ] {
        let Some(present) = live
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for key in keys.iter().filter(|k| present.contains_key(**k)) {
            ops.push(json!({"op": "remove", "path": format!("/metadata/{field}/{}", escape(key))}));
        }
    }
    (!ops.is_empty()).then_some(Value::Array(ops))
}

/// Whether [`cleanup_patch`] would change `live`: kubectl's managers own fields of it, or it
/// carries client-side-apply leftovers.
pub fn needs_cleanup(live: &Value, field_manager: &str) -> bool {
    cleanup_patch(live, field_manager, "").is_some()
}

/// Whether a managedFields entry belongs to a manager whose changes ferry overrides.
fn is_overridden(entry: &Value) -> bool {
    let manager = entry
        .get("manager")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let operation = entry
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let subresource = entry
        .get("subresource")
        .and_then(Value::as_str)
        .unwrap_or_default();
    subresource.is_empty()
        && keys::OVERRIDDEN_MANAGERS
            .iter()
            .any(|(prefix, op)| manager.starts_with(prefix) && operation == *op)
}

fn transfer_ownership(
    managed: &[Value],
    field_manager: &str,
    live: &Value,
    now: &str,
) -> Option<Vec<Value>> {
    if !managed.iter().any(is_overridden) {
        return None;
    }
    let is_ours = |e: &Value| {
        e.get("manager").and_then(Value::as_str) == Some(field_manager)
            && e.get("operation").and_then(Value::as_str) == Some("Apply")
            && e.get("subresource").is_none()
    };
    let mut ours = managed
        .iter()
        .find(|e| is_ours(e))
        .cloned()
        .unwrap_or_else(|| {
            json!({
                "manager": field_manager,
                "operation": "Apply",
                "apiVersion": live.get("apiVersion").cloned().unwrap_or(Value::Null),
                "time": now,
                "fieldsType": "FieldsV1",
                "fieldsV1": {},
            })
        });
    let mut fields = ours.get("fieldsV1").cloned().unwrap_or_else(|| json!({}));
    for entry in managed.iter().filter(|e| is_overridden(e)) {
        if let Some(theirs) = entry.get("fieldsV1") {
            union(&mut fields, theirs);
        }
    }
    ours["fieldsV1"] = fields;
    let mut result: Vec<Value> = managed
        .iter()
        .filter(|e| !is_overridden(e) && !is_ours(e))
        .cloned()
        .collect();
    result.push(ours);
    Some(result)
}

/// Union of two FieldsV1 sets (nested objects whose leaves are `{}`).
fn union(into: &mut Value, from: &Value) {
    let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) else {
        return;
    };
    for (key, value) in from {
        match into.get_mut(key) {
            Some(existing) => union(existing, value),
            None => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

/// RFC 6901 escaping of a key inside a JSON pointer.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_kubectl_fields_into_our_apply_entry() {
        let live = json!({
            "apiVersion": "apps/v1",
            "metadata": {
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "keep": "x"},
                "managedFields": [
                    {"manager": "ferry", "operation": "Apply", "apiVersion": "apps/v1",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                    {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "apps/v1",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {"f:extra": {}}}}},
                    {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}}
                ]
            }
        });
        let patch = cleanup_patch(&live, "ferry", "2026-01-01T00:00:00Z").unwrap();
        let ops = patch.as_array().unwrap();
        let managed = ops[0]["value"].as_array().unwrap();
        assert_eq!(
            managed.len(),
            2,
            "kubectl-edit's entry is gone, the status one stays"
        );
        let ours = managed.iter().find(|e| e["manager"] == "ferry").unwrap();
        assert_eq!(
            ours["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}}, "f:metadata": {"f:labels": {"f:extra": {}}}})
        );
        assert_eq!(
            ops[1],
            json!({"op": "remove", "path": "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"})
        );
    }

    #[test]
    fn leaves_clean_objects_alone() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "ferry", "operation": "Apply", "fieldsV1": {}},
            {"manager": "hpa-controller", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
        ]}});
        assert_eq!(cleanup_patch(&live, "ferry", "now"), None);
    }
}
