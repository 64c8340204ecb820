//! Whether applying an object would change it: the server-side dry-run result compared with
//! the live object. Unchanged objects are not written, so their resourceVersion stays and no
//! watch event is caused.

use std::hash::{Hash, Hasher};

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

/// A hash of exactly what [`has_drifted`] compares: two objects with equal fingerprints have
/// not drifted from each other (barring a 64-bit collision). Lets a watch keep one number per
/// object instead of the object.
pub fn fingerprint(obj: &Value) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    if let Some(map) = obj.as_object() {
        // serde_json's maps are sorted, so equal objects serialise and hash alike.
        for (key, value) in map {
            if key != "metadata" && key != "status" {
                key.hash(&mut hasher);
                hash_json(&mut hasher, value);
            }
        }
        let metadata = map.get("metadata");
        for field in COMPARED_METADATA {
            0xffu8.hash(&mut hasher);
            if let Some(value) = normalize_empty(metadata.and_then(|m| m.get(*field)).cloned()) {
                hash_json(&mut hasher, &value);
            }
        }
    }
    hasher.finish()
}

/// A hash of a whole manifest as it is submitted: two equal hashes mean the same apply request
/// (barring a 64-bit collision).
pub fn manifest_hash(obj: &Value) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    hash_json(&mut hasher, obj);
    hasher.finish()
}

/// Feeds the JSON text of `value` to `hasher` without building the string.
fn hash_json(hasher: &mut impl Hasher, value: &Value) {
    struct Feed<'a, H>(&'a mut H);
    impl<H: Hasher> std::io::Write for Feed<'_, H> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // Writing a Value into a sink that never fails cannot fail.
    let _ = serde_json::to_writer(Feed(hasher), value);
    // A separator, so that adjacent values cannot run together.
    0xfeu8.hash(hasher);
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

        // The fingerprint agrees with has_drifted on every pair above.
        for (a, b) in [
            (&live, &same),
            (&live, &data),
            (&live, &labels),
            (&no_labels, &absent),
        ] {
            assert_eq!(
                fingerprint(a) == fingerprint(b),
                !has_drifted(a, b),
                "{a} / {b}"
            );
        }
        let mut finalizers = live.clone();
        finalizers["metadata"]["finalizers"] = json!(["x"]);
        assert_ne!(fingerprint(&live), fingerprint(&finalizers));
        let mut field_added = live.clone();
        field_added["binaryData"] = json!({});
        assert!(has_drifted(&live, &field_added));
        assert_ne!(fingerprint(&live), fingerprint(&field_added));
    }
}
