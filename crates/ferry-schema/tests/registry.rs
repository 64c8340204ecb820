#![allow(clippy::unwrap_used)]
//! The schema model and registry: facts read from the official documents and from real CRDs.

mod common;

use ferry_schema::{Gvk, JsonType, ListType, MapType, Registry, SchemaSource};
use serde_json::json;

#[test]
fn deployment_merge_keys_come_from_the_openapi_documents() {
    let reg = Registry::builtin();
    let dep = reg
        .lookup("apps/v1", "Deployment")
        .expect("Deployment is built in");
    assert_eq!(dep.source(), SchemaSource::Builtin);
    let pod = dep
        .root()
        .property("spec")
        .unwrap()
        .property("template")
        .unwrap()
        .property("spec")
        .unwrap();
    let containers = pod.property("containers").unwrap();
    assert_eq!(containers.patch_merge_key(), Some("name"));
    assert!(containers.has_patch_strategy("merge"));
    assert_eq!(containers.node().list_type, Some(ListType::Map));
    assert_eq!(
        &*containers.node().list_map_keys,
        &["name".into()] as &[Box<str>]
    );
    let volumes = pod.property("volumes").unwrap();
    assert!(volumes.has_patch_strategy("retainKeys") && volumes.has_patch_strategy("merge"));
    let ports = containers.items().unwrap().property("ports").unwrap();
    assert_eq!(ports.patch_merge_key(), Some("containerPort"));
    assert_eq!(
        &*ports.node().list_map_keys,
        &["containerPort".into(), "protocol".into()] as &[Box<str>]
    );
    // IntOrString and atomic maps.
    let strategy = dep
        .root()
        .property("spec")
        .unwrap()
        .property("strategy")
        .unwrap();
    let max_surge = strategy
        .property("rollingUpdate")
        .unwrap()
        .property("maxSurge")
        .unwrap();
    assert!(max_surge.node().int_or_string);
    let selector = dep
        .root()
        .property("spec")
        .unwrap()
        .property("selector")
        .unwrap();
    assert_eq!(selector.node().map_type, Some(MapType::Atomic));
    let labels = dep
        .root()
        .property("metadata")
        .unwrap()
        .property("labels")
        .unwrap();
    assert_eq!(
        labels.additional_properties().unwrap().ty(),
        Some(JsonType::String)
    );
    // Kinds of other groups listed in a document are not taken as its own.
    assert!(reg.lookup("apps/v1", "Pod").is_none());
    assert!(reg.lookup("v1", "Pod").is_some());
    assert!(reg.lookup("v1", "Nope").is_none());
    assert!(reg.is_builtin(&Gvk::new("", "v1", "ConfigMap")));
}

#[test]
fn crds_are_added_and_removed_at_runtime() {
    let reg = Registry::builtin();
    let crd = &common::yaml_docs(
        &common::data_dir().join("crds/kustomize.toolkit.fluxcd.io_kustomizations.yaml"),
    )[0];
    let gvks = reg.add_crd(crd).unwrap();
    assert_eq!(
        gvks,
        vec![Gvk::new(
            "kustomize.toolkit.fluxcd.io",
            "v1",
            "Kustomization"
        )]
    );
    let ks = reg
        .lookup("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
        .unwrap();
    assert_eq!(ks.source(), SchemaSource::Crd);
    assert!(ks.crd_schema().is_some());
    let spec = ks.root().property("spec").unwrap();
    assert!(spec.node().required.iter().any(|r| &**r == "sourceRef"));
    assert_eq!(
        spec.property("interval").unwrap().ty(),
        Some(JsonType::String)
    );
    // metadata is ObjectMeta, as on the server.
    let meta = ks.root().property("metadata").unwrap();
    assert!(meta.property("managedFields").is_some());
    assert_eq!(
        reg.remove_crd("kustomizations.kustomize.toolkit.fluxcd.io"),
        gvks
    );
    assert!(
        reg.lookup("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
            .is_none()
    );
}

#[test]
fn every_fixture_crd_converts() {
    let reg = Registry::empty();
    let dir = common::data_dir().join("crds");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            for doc in common::yaml_docs(&path) {
                n += reg
                    .add_crd(&doc)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                    .len();
            }
        }
    }
    assert!(n >= 17, "{n} versions registered");
}

#[test]
fn custom_openapi_documents_in_v2_form() {
    // The form of kustomize's `openapi:` files: swagger 2 definitions with GVK extensions.
    let doc = json!({
        "definitions": {
            "v1alpha1.MyKind": {
                "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1alpha1", "kind": "MyKind"}],
                "properties": {"spec": {"$ref": "#/definitions/v1alpha1.Spec"}}
            },
            "v1alpha1.Spec": {
                "properties": {"items": {
                    "type": "array",
                    "items": {"$ref": "#/definitions/v1alpha1.Item"},
                    "x-kubernetes-patch-merge-key": "id",
                    "x-kubernetes-patch-strategy": "merge"
                }}
            },
            "v1alpha1.Item": {"properties": {"id": {"type": "string"}, "child": {"$ref": "#/definitions/v1alpha1.Spec"}}}
        }
    });
    let reg = Registry::empty();
    assert_eq!(
        reg.add_openapi_document(&doc).unwrap(),
        vec![Gvk::new("example.com", "v1alpha1", "MyKind")]
    );
    let ts = reg.lookup("example.com/v1alpha1", "MyKind").unwrap();
    let items = ts
        .root()
        .property("spec")
        .unwrap()
        .property("items")
        .unwrap();
    assert_eq!(items.patch_merge_key(), Some("id"));
    // Recursive references resolve to the same node.
    let child = items.items().unwrap().property("child").unwrap();
    assert_eq!(child.id(), ts.root().property("spec").unwrap().id());
    assert!(
        reg.lookup("apps/v1", "Deployment").is_none(),
        "empty registry has no built-ins"
    );
    assert!(reg.add_openapi_document(&json!({"x": 1})).is_err());
    let bad = json!({"definitions": {"A": {"x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "A"}], "$ref": "#/definitions/Missing"}}});
    assert!(
        reg.add_openapi_document(&bad)
            .unwrap_err()
            .to_string()
            .contains("Missing")
    );
}

#[test]
fn deeply_nested_schemas_are_refused_not_overflowing() {
    let mut schema = json!({"type": "string"});
    for _ in 0..150 {
        schema = json!({"type": "object", "properties": {"a": schema}});
    }
    let crd = json!({
        "metadata": {"name": "deep.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "Deep"}, "versions": [{"name": "v1", "schema": {"openAPIV3Schema": schema}}]}
    });
    let err = Registry::builtin().add_crd(&crd).unwrap_err().to_string();
    assert!(err.contains("deeper than"), "{err}");
}
