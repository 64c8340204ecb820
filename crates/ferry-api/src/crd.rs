//! The CustomResourceDefinitions ferry installs, generated from the types of this crate.
//!
//! They match Flux's own CRDs (controller-gen output of source-controller,
//! kustomize-controller and notification-controller) in names, categories, scope, versions,
//! printer columns, property names, types, formats, required fields, enums, defaults, patterns,
//! lengths and CEL rules, so that every object Flux accepts is accepted unchanged and defaulted
//! the same way. The test `tests/crd_compat.rs` compares them field by field with Flux's files.
//!
//! Where ferry deliberately accepts more than Flux:
//! - `GitRepository.spec.url` also accepts `git://` and `file://` addresses (Flux: `http`,
//!   `https`, `ssh`), since ferry runs from local repositories on one machine (`ferry up`).
//!
//! Where the generated schema differs in form only:
//! - descriptions are ferry's own (from the Rust doc comments), not Flux's texts.
//!
//! Two adjustments turn kube-derive's output into controller-gen's shape (see
//! [`flux_shaped`]): Go's optional fields are never `nullable` (a `null` sent for them is dropped
//! by the API server rather than stored), and the root schema declares `apiVersion`, `kind` and
//! `metadata` without requiring `spec`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube_core::CustomResourceExt;
use serde_json::{Map, Value, json};

/// Every CRD of the kinds ferry reconciles, in apply order.
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![
        flux_shaped(crate::GitRepository::crd()),
        flux_shaped(crate::Kustomization::crd()),
        flux_shaped(crate::Receiver::crd()),
    ]
}

/// Rewrites a kube-derive CRD into the shape controller-gen gives Flux's CRDs.
fn flux_shaped(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    let mut value = serde_json::to_value(&crd).expect("a CustomResourceDefinition serialises");
    // The API server defaults it; controller-gen writes it.
    if let Some(names) = value
        .pointer_mut("/spec/names")
        .and_then(Value::as_object_mut)
        && let Some(kind) = names.get("kind").and_then(Value::as_str)
    {
        let list_kind = format!("{kind}List");
        names.insert("listKind".to_owned(), Value::String(list_kind));
    }
    if let Some(versions) = value
        .pointer_mut("/spec/versions")
        .and_then(Value::as_array_mut)
    {
        for version in versions {
            if let Some(schema) = version.pointer_mut("/schema/openAPIV3Schema") {
                drop_nullable(schema);
                shape_root(schema);
            }
        }
    }
    serde_json::from_value(value).expect("the rewritten CRD keeps the CRD's shape")
}

/// Removes `nullable: true` everywhere: schemars marks every `Option` field nullable, while Go's
/// `omitempty` fields are not.
fn drop_nullable(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    map.remove("nullable");
    // Only the keywords that hold subschemas: `default` and `enum` hold data.
    for (key, child) in map.iter_mut() {
        match (key.as_str(), child) {
            ("properties" | "patternProperties", Value::Object(properties)) => {
                properties.values_mut().for_each(drop_nullable);
            }
            ("allOf" | "anyOf" | "oneOf", Value::Array(schemas)) => {
                schemas.iter_mut().for_each(drop_nullable);
            }
            ("items" | "additionalProperties" | "not", child) => drop_nullable(child),
            _ => {}
        }
    }
}

/// The root as controller-gen writes it: `apiVersion`, `kind` and `metadata` declared, nothing
/// required, no title.
fn shape_root(schema: &mut Value) {
    let Some(root) = schema.as_object_mut() else {
        return;
    };
    root.remove("required");
    root.remove("title");
    let properties = root
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(properties) = properties.as_object_mut() {
        properties.insert(
            "apiVersion".to_owned(),
            json!({"type": "string", "description": "The versioned schema of this object."}),
        );
        properties.insert(
            "kind".to_owned(),
            json!({"type": "string", "description": "The REST resource this object represents."}),
        );
        properties.insert("metadata".to_owned(), json!({"type": "object"}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_of(crd: &CustomResourceDefinition) -> Value {
        serde_json::to_value(&crd.spec.versions[0].schema).unwrap()["openAPIV3Schema"].clone()
    }

    #[test]
    fn no_schema_is_nullable_and_the_root_requires_nothing() {
        for crd in all() {
            let schema = schema_of(&crd);
            let text = schema.to_string();
            assert!(!text.contains("\"nullable\""), "{text}");
            assert!(schema.get("required").is_none());
            assert_eq!(schema["properties"]["metadata"], json!({"type": "object"}));
        }
    }

    #[test]
    fn defaults_survive_the_rewrite() {
        let git = &all()[0];
        let schema = schema_of(git);
        assert_eq!(
            schema["properties"]["spec"]["properties"]["timeout"]["default"],
            json!("60s")
        );
        assert_eq!(
            schema["properties"]["status"]["default"],
            json!({"observedGeneration": -1})
        );
    }
}
