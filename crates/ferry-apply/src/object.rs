//! Accessors for objects held as JSON values: the engine applies whatever kinds the manifests
//! contain, so it works on unstructured objects rather than typed ones.

use std::{collections::BTreeMap, fmt};

use ferry_api::ObjMetadata;
use serde_json::Value;

/// Group, version and kind of an object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    /// Splits an `apiVersion` (`apps/v1`, `v1`) and a kind.
    pub fn from_api_version(api_version: &str, kind: &str) -> Self {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        Self {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
        }
    }

    /// The kind of an inventory entry, with the version it was applied with.
    pub fn of(meta: &ObjMetadata, version: &str) -> Self {
        Self {
            group: meta.group.clone(),
            version: version.to_owned(),
            kind: meta.kind.clone(),
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl fmt::Display for Gvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, Kind={}", self.api_version(), self.kind)
    }
}

/// An object without the fields every object needs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ObjectError {
    #[error("object has no {0}")]
    Missing(&'static str),
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub fn api_version(obj: &Value) -> Option<&str> {
    str_at(obj, "/apiVersion")
}

pub fn kind(obj: &Value) -> Option<&str> {
    str_at(obj, "/kind")
}

pub fn name(obj: &Value) -> Option<&str> {
    str_at(obj, "/metadata/name")
}

pub fn namespace(obj: &Value) -> Option<&str> {
    str_at(obj, "/metadata/namespace")
}

pub fn resource_version(obj: &Value) -> Option<&str> {
    str_at(obj, "/metadata/resourceVersion")
}

pub fn gvk(obj: &Value) -> Result<Gvk, ObjectError> {
    let api_version = api_version(obj).ok_or(ObjectError::Missing("apiVersion"))?;
    let kind = kind(obj).ok_or(ObjectError::Missing("kind"))?;
    Ok(Gvk::from_api_version(api_version, kind))
}

/// The object's identity in inventory form.
pub fn obj_metadata(obj: &Value) -> Result<ObjMetadata, ObjectError> {
    let gvk = gvk(obj)?;
    Ok(ObjMetadata {
        namespace: namespace(obj).unwrap_or_default().to_owned(),
        name: name(obj)
            .ok_or(ObjectError::Missing("metadata.name"))?
            .to_owned(),
        group: gvk.group,
        kind: gvk.kind,
    })
}

pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

pub fn label<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/labels")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// Sets labels on an object, creating `metadata.labels` when needed.
pub fn set_labels(obj: &mut Value, labels: &BTreeMap<String, String>) {
    let Some(metadata) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let entry = metadata
        .entry("labels")
        .or_insert_with(|| Value::Object(Default::default()));
    if !entry.is_object() {
        *entry = Value::Object(Default::default());
    }
    if let Some(map) = entry.as_object_mut() {
        for (k, v) in labels {
            map.insert(k.clone(), Value::String(v.clone()));
        }
    }
}

/// `Kind/namespace/name` (or `Kind/name`), the form messages use.
pub fn display(obj: &Value) -> String {
    match obj_metadata(obj) {
        Ok(meta) => meta.to_string(),
        Err(_) => "<invalid object>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_identity() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod"}});
        let meta = obj_metadata(&obj).unwrap();
        assert_eq!(meta.id(), "prod_web_apps_Deployment");
        assert_eq!(display(&obj), "Deployment/prod/web");
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}});
        assert_eq!(gvk(&ns).unwrap().group, "");
        assert_eq!(
            obj_metadata(&json!({"kind": "X"})),
            Err(ObjectError::Missing("apiVersion"))
        );
    }

    #[test]
    fn sets_labels_on_objects_without_any() {
        let mut obj = json!({"metadata": {"name": "a"}});
        let labels = BTreeMap::from([("k".to_owned(), "v".to_owned())]);
        set_labels(&mut obj, &labels);
        assert_eq!(label(&obj, "k"), Some("v"));
    }
}
