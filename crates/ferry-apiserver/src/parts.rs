//! Comparing and merging the parts of an object a write changes, without copying the rest.
//!
//! A status write of a custom resource reads the stored object, merges the status into it,
//! compares the result with it more than once (managed fields, generation, no-op writes) and
//! stores it. Copying the whole object for each of these steps cost more than the write itself,
//! so these helpers compare in place and clone only the members that differ.

use serde_json::{Map, Value};

/// Makes `object` the stored `old` with only `part` (`"status"`) taken from `object`: every
/// other member comes from `old`, except the managed fields `object` carries, which the write
/// records from.
pub fn keep_only(object: &mut Value, old: &Value, part: &str) {
    let sent_managed_fields = object.pointer("/metadata/managedFields").is_some();
    let (Some(new), Some(old)) = (object.as_object_mut(), old.as_object()) else {
        let kept = object.get_mut(part).map(Value::take);
        *object = old.clone();
        if let (Some(kept), Some(map)) = (kept, object.as_object_mut()) {
            map.insert(part.to_owned(), kept);
        }
        return;
    };
    restore_members(new, old, |k| k == part || k == "metadata");
    match (new.get_mut("metadata"), old.get("metadata")) {
        (Some(Value::Object(new_meta)), Some(Value::Object(old_meta))) => {
            restore_members(new_meta, old_meta, |k| {
                sent_managed_fields && k == "managedFields"
            });
        }
        (_, old_meta) => {
            let managed_fields = new
                .get_mut("metadata")
                .and_then(|m| m.get_mut("managedFields"))
                .map(Value::take);
            match old_meta {
                Some(old_meta) => new.insert("metadata".to_owned(), old_meta.clone()),
                None => new.remove("metadata"),
            };
            if let (Some(mf), Some(Value::Object(meta))) = (managed_fields, new.get_mut("metadata"))
            {
                meta.insert("managedFields".to_owned(), mf);
            }
        }
    }
}

/// Sets `object`'s member `field` to `old`'s, or removes it when `old` has none.
pub fn restore(object: &mut Value, old: &Value, field: &str) {
    let Some(map) = object.as_object_mut() else {
        return;
    };
    match old.get(field) {
        Some(value) => restore_member(map, field, value),
        None => {
            map.remove(field);
        }
    }
}

/// Whether the parts of two objects whose change bumps `metadata.generation` are equal: all
/// but metadata, apiVersion, kind and (with a status subresource) status.
pub fn same_generation_relevant(status_subresource: bool, a: &Value, b: &Value) -> bool {
    same_except(a, b, |k| {
        matches!(k, "metadata" | "apiVersion" | "kind") || (status_subresource && k == "status")
    })
}

/// Whether `object` equals the `stored` one but for the stored resourceVersion: a write of it
/// changes nothing.
pub fn same_but_resource_version(stored: &Value, object: &Value) -> bool {
    if !same_except(stored, object, |k| k == "metadata") {
        return false;
    }
    let empty = Map::new();
    match (metadata_or(stored, &empty), metadata_or(object, &empty)) {
        (Some(stored), Some(object)) => stored
            .iter()
            .filter(|(k, _)| *k != "resourceVersion")
            .eq(object.iter()),
        _ => stored.get("metadata") == object.get("metadata"),
    }
}

/// An object's metadata, `empty` when it has none (as a write gives it), `None` when it is not a
/// map.
fn metadata_or<'v>(
    object: &'v Value,
    empty: &'v Map<String, Value>,
) -> Option<&'v Map<String, Value>> {
    match object.get("metadata") {
        None => Some(empty),
        Some(meta) => meta.as_object(),
    }
}

/// Whether `a` and `b` are equal but for the top-level members `skip` names.
fn same_except(a: &Value, b: &Value, skip: impl Fn(&str) -> bool) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => a
            .iter()
            .filter(|(k, _)| !skip(k))
            .eq(b.iter().filter(|(k, _)| !skip(k))),
        _ => a == b,
    }
}

/// Makes `new`'s members equal `old`'s, but for those `skip` names.
fn restore_members(
    new: &mut Map<String, Value>,
    old: &Map<String, Value>,
    skip: impl Fn(&str) -> bool,
) {
    new.retain(|k, _| skip(k) || old.contains_key(k));
    for (k, value) in old {
        if !skip(k) {
            restore_member(new, k, value);
        }
    }
}

fn restore_member(map: &mut Map<String, Value>, field: &str, value: &Value) {
    match map.get_mut(field) {
        Some(current) if current == value => {}
        Some(current) => *current = value.clone(),
        None => {
            map.insert(field.to_owned(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stored() -> Value {
        json!({
            "apiVersion": "v1", "kind": "X",
            "metadata": {"name": "a", "resourceVersion": "7", "labels": {"l": "1"},
                         "managedFields": [{"manager": "old"}]},
            "spec": {"n": 1},
            "status": {"phase": "old"},
        })
    }

    #[test]
    fn a_status_write_keeps_only_the_status_and_the_managed_fields_it_sent() {
        let mut written = json!({
            "apiVersion": "v1", "kind": "X",
            "metadata": {"name": "a", "labels": {"l": "2"}, "annotations": {"x": "y"},
                         "managedFields": [{"manager": "new"}]},
            "spec": {"n": 2},
            "extra": true,
            "status": {"phase": "new"},
        });
        keep_only(&mut written, &stored(), "status");
        let mut want = stored();
        want["status"] = json!({"phase": "new"});
        want["metadata"]["managedFields"] = json!([{"manager": "new"}]);
        assert_eq!(written, want);
    }

    #[test]
    fn a_status_write_without_managed_fields_or_status_keeps_the_stored_fields_and_drops_the_status()
     {
        let mut written = json!({"metadata": {"name": "a"}, "spec": {"n": 2}});
        keep_only(&mut written, &stored(), "status");
        let mut want = stored();
        want.as_object_mut().unwrap().remove("status");
        assert_eq!(written, want);
    }

    #[test]
    fn restore_copies_or_removes_one_member() {
        let mut object = json!({"spec": {}, "status": {"phase": "sent"}});
        restore(&mut object, &stored(), "status");
        assert_eq!(object["status"], json!({"phase": "old"}));
        restore(&mut object, &json!({}), "status");
        assert_eq!(object, json!({"spec": {}}));
    }

    #[test]
    fn generation_relevant_parts_leave_out_metadata_and_a_subresource_status() {
        let mut other = stored();
        other["metadata"]["labels"] = json!({});
        other["status"] = json!({});
        assert!(same_generation_relevant(true, &stored(), &other));
        assert!(!same_generation_relevant(false, &stored(), &other));
        other["spec"]["n"] = json!(2);
        assert!(!same_generation_relevant(true, &stored(), &other));
    }

    #[test]
    fn a_write_equal_but_for_the_stored_resource_version_changes_nothing() {
        let mut written = stored();
        written["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        assert!(same_but_resource_version(&stored(), &written));
        written["metadata"]["labels"]["l"] = json!("2");
        assert!(!same_but_resource_version(&stored(), &written));
        // A resourceVersion in the written object is a difference (writes remove it first).
        assert!(!same_but_resource_version(&stored(), &stored()));
    }
}
