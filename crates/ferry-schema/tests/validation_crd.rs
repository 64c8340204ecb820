#![allow(clippy::unwrap_used)]
//! CustomResourceDefinitions the server refuses, with its messages (apiextensions'
//! `apis/apiextensions/validation/validation.go`, `apiserver/schema/validation.go` and
//! `complete.go`, `schema/defaulting/validation.go`, the CEL cost messages).

use ferry_schema::validation::{ValidationError, crd};
use serde_json::{Value, json};

fn crd_with(schema: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "foos.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Foo", "plural": "foos"},
          "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": schema}}]}
    })
}

fn errors(crd_obj: &Value) -> Vec<String> {
    match crd::validate(crd_obj, None) {
        Ok(()) => Vec::new(),
        Err(ValidationError::Invalid(inv)) => {
            assert_eq!(inv.kind, "CustomResourceDefinition");
            assert_eq!(inv.group, "apiextensions.k8s.io");
            inv.errors.iter().map(|e| e.to_string()).collect()
        }
        Err(e) => panic!("{e:?}"),
    }
}

const P: &str = "spec.validation.openAPIV3Schema";

#[test]
fn a_good_crd_passes() {
    let c = crd_with(
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"replicas": {"type": "integer", "default": 1}}}}}),
    );
    assert!(errors(&c).is_empty());
}

#[test]
fn schemas_are_required_in_v1() {
    let mut c = crd_with(json!({"type": "object"}));
    c["spec"]["versions"][0]
        .as_object_mut()
        .unwrap()
        .remove("schema");
    assert_eq!(
        errors(&c),
        ["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"]
    );
}

#[test]
fn structural_schemas_need_types() {
    let c = crd_with(json!({"properties": {"spec": {"properties": {"list": {"type": "array"}}}}}));
    assert_eq!(
        errors(&c),
        [
            format!(
                "{P}.properties[spec].properties[list].items: Required value: must be specified"
            ),
            format!(
                "{P}.properties[spec].type: Required value: must not be empty for specified object fields"
            ),
            format!("{P}.type: Required value: must not be empty at the root"),
        ]
    );
    let c = crd_with(
        json!({"type": "object", "properties": {"l": {"type": "array", "items": {"properties": {}}}}}),
    );
    assert_eq!(
        errors(&c),
        [format!(
            "{P}.properties[l].items.type: Required value: must not be empty for specified array items"
        )]
    );
    let c = crd_with(json!({"type": "string"}));
    assert_eq!(
        errors(&c),
        [format!(
            r#"{P}.type: Invalid value: "string": must be object at the root"#
        )]
    );
}

#[test]
fn root_metadata_may_only_restrict_names() {
    let c = crd_with(
        json!({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}}}),
    );
    assert_eq!(
        errors(&c),
        [format!(
            "{P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"
        )]
    );
    let ok = crd_with(
        json!({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}}}}),
    );
    assert!(errors(&ok).is_empty());
    let c = crd_with(
        json!({"type": "object", "properties": {"metadata": {"type": "object", "default": {"name": "x"}}}}),
    );
    assert_eq!(
        errors(&c),
        [format!(
            "{P}.properties[metadata].default: Forbidden: must not be set in top-level metadata"
        )]
    );
}

#[test]
fn value_validations_only_under_logical_junctors() {
    let c = crd_with(
        json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"a": {"type": "string"}},
        "anyOf": [{"type": "object", "properties": {"a": {"description": "x"}}}, {"properties": {"b": {"minLength": 1}}}]}}}),
    );
    assert_eq!(
        errors(&c),
        [
            format!(
                "{P}.properties[spec].anyOf[0].properties[a].description: Forbidden: must be empty to be structural"
            ),
            format!(
                "{P}.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural"
            ),
        ]
    );
    // Fields named in the root's value validations must exist in the schema (the server checks
    // completeness from the root's allOf/anyOf/oneOf/not).
    let c = crd_with(
        json!({"type": "object", "properties": {"spec": {"type": "object"}},
        "oneOf": [{"properties": {"spec": {"properties": {"x": {"minLength": 1}}}}}]}),
    );
    assert_eq!(
        errors(&c),
        [format!(
            "{P}.properties[spec].properties[x]: Required value: because it is defined in {P}.oneOf[0].properties[spec].properties[x]"
        )]
    );
    // int-or-string's anyOf pattern is allowed.
    let ok = crd_with(
        json!({"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}}}),
    );
    assert!(errors(&ok).is_empty());
}

#[test]
fn list_and_map_extensions() {
    let c = crd_with(
        json!({"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}),
    );
    assert_eq!(
        errors(&c),
        [format!(
            "{P}.properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"
        )]
    );
    let c = crd_with(
        json!({"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
        "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}),
    );
    assert_eq!(
        errors(&c),
        [format!(
            "{P}.properties[l].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
        )]
    );
    let c = crd_with(
        json!({"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "bag", "items": {"type": "string"}}}}),
    );
    assert_eq!(
        errors(&c),
        [format!(
            r#"{P}.properties[l].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map""#
        )]
    );
    let c = crd_with(
        json!({"type": "object", "properties": {"m": {"type": "string", "x-kubernetes-map-type": "atomic"}}}),
    );
    assert_eq!(
        errors(&c),
        [format!(
            r#"{P}.properties[m].type: Invalid value: "string": must be object if x-kubernetes-map-type is specified"#
        )]
    );
    let c = crd_with(
        json!({"type": "object", "properties": {"s": {"type": "array", "uniqueItems": true, "items": {"type": "string"}}}}),
    );
    assert_eq!(
        errors(&c),
        [format!(
            "{P}.properties[s].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"
        )]
    );
    let c = crd_with(
        json!({"type": "object", "properties": {"o": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}}}),
    );
    assert_eq!(
        errors(&c),
        [format!(
            "{P}.properties[o].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"
        )]
    );
    let c = crd_with(
        json!({"type": "object", "properties": {"e": {"type": "string", "x-kubernetes-embedded-resource": true}}}),
    );
    assert_eq!(
        errors(&c),
        [
            format!(
                "{P}.properties[e].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"
            ),
            format!(
                r#"{P}.properties[e].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true"#
            ),
        ]
    );
}

#[test]
fn defaults_must_validate_and_be_pruned() {
    let c = crd_with(
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "replicas": {"type": "integer", "default": "one"},
        "obj": {"type": "object", "properties": {"x": {"type": "integer"}}, "default": {"x": 1, "y": 2}}}}}}),
    );
    let p = format!("{P}.properties[spec].properties");
    assert_eq!(
        errors(&c),
        [
            format!(
                r#"{p}[obj].default: Invalid value: {{"x":1,"y":2}}: must not have unknown fields"#
            ),
            format!(
                r#"{p}[replicas].default: Invalid value: "string": {p}[replicas].default in body must be of type integer: "string""#
            ),
        ]
    );
}

#[test]
fn cel_rules_must_compile_and_fit_the_budget() {
    let c = crd_with(
        json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [{"rule": "self.a >"}]}}}),
    );
    let errs = errors(&c);
    assert_eq!(errs.len(), 1);
    assert!(
        // (Go's json.Marshal escapes `>`.)
        errs[0].starts_with(&format!(r#"{P}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: {{"rule":"self.a \u003e"}}: compilation failed: ERROR: <input>:1:"#)),
        "{errs:?}"
    );
    let c = crd_with(
        json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [{"rule": "true", "message": "a\nb", "reason": "Nope"}]}}}),
    );
    assert_eq!(
        errors(&c),
        [
            format!(
                "{P}.properties[spec].x-kubernetes-validations[0].message: Invalid value: \"a\\nb\": message must not contain line breaks"
            ),
            format!(
                r#"{P}.properties[spec].x-kubernetes-validations[0].reason: Unsupported value: "Nope": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired""#
            ),
        ]
    );
    // Quadratic over an unbounded list of unbounded strings: refused as the server does.
    let c = crd_with(
        json!({"type": "object", "properties": {"names": {"type": "array", "items": {"type": "string"},
        "x-kubernetes-validations": [{"rule": "self.all(x, self.exists(y, x == y))"}]}}}),
    );
    let errs = errors(&c);
    assert_eq!(
        errs[0],
        format!(
            "{P}.properties[names].x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
        )
    );
    // Bounded, the same rule is fine; a linear rule over an unbounded list of integers too.
    let ok = crd_with(
        json!({"type": "object", "properties": {"names": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 63},
        "x-kubernetes-validations": [{"rule": "self.all(x, self.exists(y, x == y))"}]}}}),
    );
    assert!(errors(&ok).is_empty(), "{:?}", errors(&ok));
    let ok = crd_with(
        json!({"type": "object", "properties": {"ints": {"type": "array", "items": {"type": "integer"},
        "x-kubernetes-validations": [{"rule": "self.all(x, x == 5)"}]}}}),
    );
    assert!(errors(&ok).is_empty(), "{:?}", errors(&ok));
    let c = crd_with(
        json!({"type": "object", "properties": {"a": {"type": "string",
        "x-kubernetes-validations": [{"rule": "self == 'x'", "optionalOldSelf": true, "fieldPath": ".nope"}]}}}),
    );
    assert_eq!(
        errors(&c),
        [
            format!(
                r#"{P}.properties[a].x-kubernetes-validations[0].fieldPath: Invalid value: ".nope": fieldPath must be a valid path: does not refer to a valid field"#
            ),
            format!(
                "{P}.properties[a].x-kubernetes-validations[0].optionalOldSelf: Forbidden: may not be set if oldSelf is not used in rule"
            ),
        ]
    );
}

#[test]
fn names_group_and_versions() {
    let mut c = crd_with(json!({"type": "object"}));
    c["metadata"]["name"] = json!("bars.example.com");
    c["spec"]["group"] = json!("example");
    assert_eq!(
        errors(&c),
        [
            r#"metadata.name: Invalid value: "bars.example.com": must be spec.names.plural+"."+spec.group"#,
            r#"spec.group: Invalid value: "example": should be a domain with at least one dot"#,
        ]
    );
    let mut c = crd_with(json!({"type": "object"}));
    let v = c["spec"]["versions"][0].clone();
    let mut v2 = v.clone();
    v2["name"] = json!("v2");
    c["spec"]["versions"] = json!([v, v2]);
    let errs = errors(&c);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with("spec.versions: Invalid value: [{"),
        "{errs:?}"
    );
    assert!(
        errs[0].ends_with("]: must have exactly one version marked as storage version"),
        "{errs:?}"
    );
    // Different schemas per version are reported per version.
    let mut c = crd_with(json!({"type": "object"}));
    let mut v2 = c["spec"]["versions"][0].clone();
    v2["name"] = json!("v2");
    v2["storage"] = json!(false);
    v2["schema"]["openAPIV3Schema"] = json!({"properties": {}});
    c["spec"]["versions"].as_array_mut().unwrap().push(v2);
    assert_eq!(
        errors(&c),
        [
            "spec.versions[1].schema.openAPIV3Schema.type: Required value: must not be empty at the root"
        ]
    );
    let mut c = crd_with(json!({"type": "object"}));
    c["spec"]["scope"] = json!("Global");
    c["spec"]["names"]["kind"] = json!("foo_bar");
    let errs = errors(&c);
    assert_eq!(
        errs[0],
        r#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#
    );
    // singular and listKind default from kind, so they are invalid too.
    assert!(
        errs[1].starts_with(
            r#"spec.names.singular: Invalid value: "foo_bar": a DNS-1035 label must consist of"#
        ),
        "{errs:?}"
    );
    assert!(errs[2].starts_with(r#"spec.names.kind: Invalid value: "foo_bar": may have mixed case, but should otherwise match: a DNS-1035 label"#), "{errs:?}");
    assert!(
        errs[3].starts_with(
            r#"spec.names.listKind: Invalid value: "foo_barList": may have mixed case"#
        ),
        "{errs:?}"
    );
}

#[test]
fn subresources_and_printer_columns() {
    let mut c = crd_with(json!({"type": "object"}));
    c["spec"]["versions"][0]["subresources"] = json!({"scale": {"specReplicasPath": "spec.replicas", "statusReplicasPath": ".spec.replicas"}});
    c["spec"]["versions"][0]["additionalPrinterColumns"] =
        json!([{"name": "Age", "type": "time", "jsonPath": ".metadata.creationTimestamp"}]);
    assert_eq!(
        errors(&c),
        [
            r#"spec.versions[0].subresources.scale.specReplicasPath: Invalid value: "spec.replicas": must be a simple json path starting with ."#,
            r#"spec.versions[0].subresources.scale.statusReplicasPath: Invalid value: ".spec.replicas": should be a json path under .status"#,
            r#"spec.versions[0].additionalPrinterColumns[0].type: Invalid value: "time": must be one of boolean,date,integer,number,string"#,
        ]
    );
}

#[test]
fn updates_may_not_rename() {
    let old = crd_with(json!({"type": "object"}));
    let mut new = old.clone();
    new["spec"]["scope"] = json!("Cluster");
    let err = crd::validate(&new, Some(&old)).unwrap_err();
    assert_eq!(
        err.message(),
        r#"CustomResourceDefinition.apiextensions.k8s.io "foos.example.com" is invalid: spec.scope: Invalid value: "Cluster": field is immutable"#
    );
}

#[test]
fn absurdly_deep_schemas_are_refused_without_recursion() {
    // Built by hand: `json!` would serialize (recursively) what it interpolates.
    let mut schema = json!({"type": "string"});
    for _ in 0..1000 {
        let mut props = serde_json::Map::new();
        props.insert("a".into(), schema);
        let mut node = serde_json::Map::new();
        node.insert("type".into(), json!("object"));
        node.insert("properties".into(), Value::Object(props));
        schema = Value::Object(node);
    }
    let mut c = crd_with(json!({}));
    c["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = schema;
    let errs = errors(&c);
    assert_eq!(
        errs,
        [r#"spec: Invalid value: "": schemas may not be nested more than 200 levels deep"#]
    );
    // Dropping a value this deep recurses too.
    std::mem::forget(c);
}
