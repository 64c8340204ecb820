//! Whether applying an object would change it: the server-side dry-run result compared with
//! the live object. Unchanged objects are not written, so their resourceVersion stays and no
//! watch event is caused.

use serde_json::Value;

/// Metadata fields that matter for drift; the rest (resourceVersion, managedFields, timestamps,
/// uid, generation) changes on every write or is owned by the server.
const COMPARED_METADATA: &[&str] = &["labels", "annotations", "finalizers", "ownerReferences"];

/// Whether the dry-run result differs from the live object in anything but server-owned
/// metadata and status.
pub fn has_drifted(live: &Value, dry_run: &Value) -> bool {
    let (Some(live), Some(dry)) = (live.as_object(), dry_run.as_object()) else {
        return true;
    };
    for key in live.keys().chain(dry.keys()) {
        if key == "metadata" || key == "status" {
            continue;
        }
        if live.get(key) != dry.get(key) {
            return true;
        }
    }
    COMPARED_METADATA.iter().any(|field| {
        let get = |o: &serde_json::Map<String, Value>| {
            o.get("metadata").and_then(|m| m.get(*field)).cloned()
        };
        normalize_empty(get(live)) != normalize_empty(get(dry))
    })
}

/// An absent map or list and an empty one are the same thing to the API.
fn normalize_empty(value: Option<Value>) -> Option<Value> {
    value.filter(|v| match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Null => false,
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ignores_server_owned_fields_only() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "resourceVersion": "1", "labels": {"x": "1"}},
            "data": {"k": "v"}, "status": {"s": 1}});
        let mut same = live.clone();
        same["metadata"]["resourceVersion"] = json!("2");
        same["status"] = json!({"s": 2});
        assert!(!has_drifted(&live, &same));

        let mut data = live.clone();
        data["data"]["k"] = json!("changed");
        assert!(has_drifted(&live, &data));

        let mut labels = live.clone();
        labels["metadata"]["labels"]["x"] = json!("2");
        assert!(has_drifted(&live, &labels));

        let mut no_labels = live.clone();
        no_labels["metadata"]["labels"] = json!({});
        let mut absent = no_labels.clone();
        absent["metadata"].as_object_mut().unwrap().remove("labels");
        assert!(!has_drifted(&no_labels, &absent));
    }
}
