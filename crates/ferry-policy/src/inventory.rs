//! Referential data: Gatekeeper's `data.inventory`, built from objects.
//!
//! Gatekeeper syncs cluster objects into `data.inventory.cluster[groupVersion][kind][name]`
//! (cluster-scoped) and `data.inventory.namespace[ns][groupVersion][kind][name]` (namespaced).
//! ferry fills it from the other rendered objects and, in the cluster, from live objects.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::value::get_str;

/// The objects templates can look up through `data.inventory`.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    cluster: Map<String, Value>,
    namespaced: Map<String, Value>,
    namespaces: HashMap<String, Value>,
    len: usize,
}

impl Inventory {
    pub fn new() -> Inventory {
        Inventory::default()
    }

    /// An inventory holding every object of `objects` (later duplicates replace earlier ones).
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Inventory {
        let mut inventory = Inventory::new();
        for object in objects {
            inventory.add(object.clone());
        }
        inventory
    }

    /// Adds one object; objects without kind, apiVersion or name are ignored, since Gatekeeper
    /// could not have synced them either.
    pub fn add(&mut self, object: Value) {
        let api_version = get_str(&object, &["apiVersion"]).to_owned();
        let kind = get_str(&object, &["kind"]).to_owned();
        let name = get_str(&object, &["metadata", "name"]).to_owned();
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            return;
        }
        let namespace = get_str(&object, &["metadata", "namespace"]).to_owned();
        if kind == "Namespace" && api_version == "v1" {
            self.namespaces.insert(name.clone(), object.clone());
        }
        let root = if namespace.is_empty() {
            &mut self.cluster
        } else {
            object_entry(&mut self.namespaced, namespace)
        };
        let by_kind = object_entry(object_entry(root, api_version), kind);
        if by_kind.insert(name, object).is_none() {
            self.len += 1;
        }
    }

    /// Adds every object of `objects`.
    pub fn extend(&mut self, objects: impl IntoIterator<Item = Value>) {
        for object in objects {
            self.add(object);
        }
    }

    /// The Namespace object called `name`, if the inventory holds it.
    pub fn namespace(&self, name: &str) -> Option<&Value> {
        self.namespaces.get(name)
    }

    /// Number of objects held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `inventory` document: `{"cluster": {...}, "namespace": {...}}`.
    pub fn to_json(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("cluster".into(), Value::Object(self.cluster.clone()));
        doc.insert("namespace".into(), Value::Object(self.namespaced.clone()));
        Value::Object(doc)
    }
}

fn object_entry(map: &mut Map<String, Value>, key: String) -> &mut Map<String, Value> {
    let entry = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry
        .as_object_mut()
        .expect("the entry was made an object just above")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn places_objects_by_scope_group_version_kind_and_name() {
        let inv = Inventory::from_objects(&[
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "ns"}}),
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}),
            json!({"kind": "Broken"}),
        ]);
        let doc = inv.to_json();
        assert_eq!(
            doc["namespace"]["ns"]["apps/v1"]["Deployment"]["d"]["kind"],
            "Deployment"
        );
        assert_eq!(
            doc["cluster"]["storage.k8s.io/v1"]["StorageClass"]["fast"]["metadata"]["name"],
            "fast"
        );
        assert!(inv.namespace("ns").is_some());
        assert_eq!(inv.len(), 3);
    }
}
