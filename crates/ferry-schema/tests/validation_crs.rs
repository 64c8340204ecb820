#![allow(clippy::unwrap_used)]
//! Custom resources against a structural schema that uses every keyword: one negative case per
//! rule, with the exact field errors the API server gives. The texts are those of the
//! Kubernetes sources: kube-openapi `pkg/validation/errors/schema.go` and
//! `validate/schema_messages.go`, apiextensions' `kubeOpenAPIResultToFieldErrors`,
//! `schema/cel/validation.go`, `schema/listtype`, `schema/objectmeta`, and apimachinery's
//! `util/validation/field/errors.go`.

mod common;

use std::sync::Arc;

use ferry_schema::{
    Gvk, Registry, TypeSchema,
    validation::{self, ValidationError, prune},
};
use serde_json::{Value, json};

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-validations:
        - rule: "self.metadata.name.startsWith('w')"
          message: name must start with w
        properties:
          metadata:
            type: object
            properties:
              name: {type: string, maxLength: 10}
          spec:
            type: object
            required: [size]
            x-kubernetes-validations:
            - rule: "self.minReplicas <= self.maxReplicas"
              message: minReplicas must not exceed maxReplicas
              fieldPath: .minReplicas
            - rule: "!has(self.mode) || self.mode != 'frozen' || self.size == oldSelf.size"
              message: size is frozen
            - rule: "self.size != 'xl'"
              messageExpression: "'size ' + self.size + ' is not offered'"
              reason: FieldValueForbidden
            properties:
              size: {type: string, enum: [s, m, l, xl]}
              mode: {type: string}
              replicas: {type: integer, minimum: 0, maximum: 10}
              minReplicas: {type: integer, default: 1}
              maxReplicas: {type: integer, default: 5}
              ratio: {type: number, minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true, multipleOf: 0.25}
              name: {type: string, minLength: 2, maxLength: 5, pattern: '^[a-z]+$'}
              when: {type: string, format: date-time}
              timeout: {type: string, format: duration}
              port: {x-kubernetes-int-or-string: true}
              tags:
                type: array
                minItems: 1
                maxItems: 3
                x-kubernetes-list-type: set
                items: {type: string}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    port: {type: integer}
              labels:
                type: object
                minProperties: 1
                maxProperties: 2
                additionalProperties: {type: string}
              nullableField: {type: string, nullable: true}
              plain: {type: string}
              either:
                type: object
                properties: {a: {type: string}, b: {type: string}}
                oneOf: [{required: [a]}, {required: [b]}]
              anyField:
                type: object
                properties: {a: {type: string}, b: {type: string}}
                anyOf: [{required: [a]}, {required: [b]}]
              notBoth:
                type: object
                properties: {a: {type: string}, b: {type: string}}
                not: {required: [a, b]}
              allOfField:
                type: string
                allOf: [{minLength: 2}, {maxLength: 4}]
              template:
                type: object
                x-kubernetes-embedded-resource: true
                x-kubernetes-preserve-unknown-fields: true
              free:
                type: object
                x-kubernetes-preserve-unknown-fields: true
                properties:
                  known:
                    type: object
                    properties: {x: {type: string}}
              nested:
                type: object
                default: {}
                properties:
                  inner: {type: string, default: in}
                  deep:
                    type: object
                    properties:
                      leaf: {type: string, default: leaf}
              immutableField:
                type: string
                x-kubernetes-validations:
                - rule: self == oldSelf
                  message: Value is immutable
              since:
                type: string
                x-kubernetes-validations:
                - rule: "!oldSelf.hasValue() || self >= oldSelf.value()"
                  optionalOldSelf: true
                  message: since may only move forward
              numbers:
                type: array
                maxItems: 80
                items: {type: integer}
                x-kubernetes-validations:
                - rule: "self.all(x, self.all(y, self.all(z, x + y + z >= 0)))"
                  message: sums are not negative
              missing:
                type: object
                properties: {present: {type: string}}
                x-kubernetes-validations:
                - rule: "self.absent == 1"
          status:
            type: object
            properties:
              phase: {type: string}
"#;

fn registry() -> (Registry, Arc<TypeSchema>) {
    let reg = Registry::builtin();
    let crd = common::yaml_docs_str(CRD).remove(0);
    validation::crd::validate(&crd, None).unwrap_or_else(|e| panic!("{}", e.message()));
    reg.add_crd(&crd).unwrap();
    let ts = reg.get(&Gvk::new("example.com", "v1", "Widget")).unwrap();
    (reg, ts)
}

fn widget(spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1", "namespace": "default"}, "spec": spec})
}

/// Prunes, defaults and validates as the server does; returns the error messages of the
/// causes (`field: body`) or an empty list.
fn check(ts: &TypeSchema, mut obj: Value, old: Option<&Value>) -> Vec<String> {
    prune::prune(&mut obj, ts);
    validation::default_custom_resource(&mut obj, ts);
    match validation::validate_custom_resource(ts, &obj, old) {
        Ok(_) => Vec::new(),
        Err(ValidationError::Invalid(inv)) => inv.errors.iter().map(|e| e.to_string()).collect(),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

fn assert_has(errs: &[String], want: &str) {
    assert!(
        errs.iter().any(|e| e == want),
        "missing\n  {want}\nin\n  {errs:#?}"
    );
}

#[test]
fn a_valid_widget_passes_and_is_defaulted() {
    let (_r, ts) = registry();
    let mut obj = widget(json!({"size": "s", "nested": {"deep": {}}}));
    assert!(prune::prune(&mut obj, &ts).is_empty());
    validation::default_custom_resource(&mut obj, &ts);
    assert_eq!(obj["spec"]["minReplicas"], 1);
    assert_eq!(obj["spec"]["maxReplicas"], 5);
    assert_eq!(obj["spec"]["nested"]["inner"], "in");
    assert_eq!(obj["spec"]["nested"]["deep"]["leaf"], "leaf");
    validation::validate_custom_resource(&ts, &obj, None).unwrap();
}

#[test]
fn nested_defaults_apply_only_where_the_parent_exists() {
    let (_r, ts) = registry();
    let mut obj = widget(json!({"size": "s"}));
    validation::default_custom_resource(&mut obj, &ts);
    // `nested` has a default ({}), so it is created and its own defaults apply; `deep` has
    // none, so `leaf` does not appear.
    assert_eq!(obj["spec"]["nested"], json!({"inner": "in"}));
    // Without spec, no spec defaults at all.
    let mut bare =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    validation::default_custom_resource(&mut bare, &ts);
    assert!(bare.get("spec").is_none());
}

#[test]
fn defaults_apply_when_reading_stored_objects() {
    let (_r, ts) = registry();
    // Stored before the defaults existed: reading adds them.
    let mut stored = widget(json!({"size": "m", "minReplicas": 2}));
    validation::default_custom_resource(&mut stored, &ts);
    assert_eq!(stored["spec"]["minReplicas"], 2);
    assert_eq!(stored["spec"]["maxReplicas"], 5);
}

#[test]
fn type_errors() {
    let (_r, ts) = registry();
    let errs = check(&ts, widget(json!({"size": "s", "replicas": "three"})), None);
    assert_has(
        &errs,
        r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#,
    );
    let errs = check(&ts, widget(json!({"size": "s", "replicas": 1.5})), None);
    assert_has(
        &errs,
        r#"spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number""#,
    );
    // 2.0 is an integer value in JSON terms.
    assert!(check(&ts, widget(json!({"size": "s", "replicas": 2.0})), None).is_empty());
    let errs = check(&ts, widget(json!({"size": "s", "port": true})), None);
    assert_has(
        &errs,
        r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#,
    );
    assert!(check(&ts, widget(json!({"size": "s", "port": 80})), None).is_empty());
    assert!(check(&ts, widget(json!({"size": "s", "port": "http"})), None).is_empty());
    // A type error blocks CEL rules, with the server's note.
    assert_has(
        &errs,
        "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
    );
}

#[test]
fn enum_required_and_bounds() {
    let (_r, ts) = registry();
    let errs = check(&ts, widget(json!({"size": "xxl"})), None);
    assert_has(
        &errs,
        r#"spec.size: Unsupported value: "xxl": supported values: "s", "m", "l", "xl""#,
    );
    let errs = check(&ts, widget(json!({"mode": "x"})), None);
    assert_has(&errs, "spec.size: Required value");
    let errs = check(&ts, widget(json!({"size": "s", "replicas": -1})), None);
    assert_has(
        &errs,
        "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
    );
    let errs = check(&ts, widget(json!({"size": "s", "replicas": 11})), None);
    assert_has(
        &errs,
        "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
    );
    let errs = check(&ts, widget(json!({"size": "s", "ratio": 0})), None);
    assert_has(
        &errs,
        "spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0",
    );
    let errs = check(&ts, widget(json!({"size": "s", "ratio": 1})), None);
    assert_has(
        &errs,
        "spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1",
    );
    let errs = check(&ts, widget(json!({"size": "s", "ratio": 0.3})), None);
    assert_has(
        &errs,
        "spec.ratio: Invalid value: 0.3: spec.ratio in body should be a multiple of 0.25",
    );
    assert!(check(&ts, widget(json!({"size": "s", "ratio": 0.75})), None).is_empty());
}

#[test]
fn strings_and_formats() {
    let (_r, ts) = registry();
    let errs = check(&ts, widget(json!({"size": "s", "name": "abcdef"})), None);
    assert_eq!(
        errs,
        [
            "spec.name: Too long: may not be more than 5 bytes",
            "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"
        ]
    );
    let errs = check(&ts, widget(json!({"size": "s", "name": "a"})), None);
    assert_has(
        &errs,
        r#"spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long"#,
    );
    let errs = check(&ts, widget(json!({"size": "s", "name": "AB"})), None);
    assert_has(
        &errs,
        r#"spec.name: Invalid value: "AB": spec.name in body should match '^[a-z]+$'"#,
    );
    let errs = check(&ts, widget(json!({"size": "s", "when": "tomorrow"})), None);
    assert_has(
        &errs,
        r#"spec.when: Invalid value: "tomorrow": spec.when in body must be of type date-time: "tomorrow""#,
    );
    let errs = check(&ts, widget(json!({"size": "s", "timeout": "soon"})), None);
    assert_has(
        &errs,
        r#"spec.timeout: Invalid value: "soon": spec.timeout in body must be of type duration: "soon""#,
    );
    assert!(
        check(
            &ts,
            widget(json!({"size": "s", "when": "2025-01-01T00:00:00Z", "timeout": "1m30s"})),
            None
        )
        .is_empty()
    );
}

#[test]
fn arrays_lists_and_maps() {
    let (_r, ts) = registry();
    let errs = check(&ts, widget(json!({"size": "s", "tags": []})), None);
    assert_has(
        &errs,
        "spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items",
    );
    let errs = check(
        &ts,
        widget(json!({"size": "s", "tags": ["a", "b", "c", "d"]})),
        None,
    );
    assert_has(&errs, "spec.tags: Too many: 4: must have at most 3 items");
    let errs = check(
        &ts,
        widget(json!({"size": "s", "tags": ["a", "a", "a"]})),
        None,
    );
    assert_eq!(errs, [r#"spec.tags[1]: Duplicate value: "a""#]);
    let errs = check(
        &ts,
        widget(
            json!({"size": "s", "ports": [{"name": "http", "port": 1}, {"name": "http", "port": 2}]}),
        ),
        None,
    );
    assert_eq!(errs, [r#"spec.ports[1]: Duplicate value: {"name":"http"}"#]);
    let errs = check(
        &ts,
        widget(json!({"size": "s", "ports": [{"port": 1}]})),
        None,
    );
    assert_has(&errs, "spec.ports[0].name: Required value");
    let errs = check(&ts, widget(json!({"size": "s", "labels": {}})), None);
    assert_has(
        &errs,
        "spec.labels: Invalid value: 0: spec.labels in body should have at least 1 properties",
    );
    let errs = check(
        &ts,
        widget(json!({"size": "s", "labels": {"a": "1", "b": "2", "c": "3"}})),
        None,
    );
    assert_has(&errs, "spec.labels: Too many: 3: must have at most 2 items");
    let errs = check(&ts, widget(json!({"size": "s", "labels": {"a": 1}})), None);
    assert_has(
        &errs,
        r#"spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#,
    );
}

#[test]
fn nulls() {
    let (_r, ts) = registry();
    let mut obj = widget(json!({"size": "s", "nullableField": null, "plain": null}));
    prune::prune(&mut obj, &ts);
    validation::default_custom_resource(&mut obj, &ts);
    // A null of a non-nullable field without default is dropped; nullable keeps it.
    assert!(obj["spec"].get("plain").is_none());
    assert!(obj["spec"]["nullableField"].is_null());
    validation::validate_custom_resource(&ts, &obj, None).unwrap();
    // A null of a non-nullable field with a default takes the default.
    let mut obj = widget(json!({"size": "s", "minReplicas": null}));
    validation::default_custom_resource(&mut obj, &ts);
    assert_eq!(obj["spec"]["minReplicas"], 1);
    // Nulls in lists are not pruned: they are type errors.
    let errs = check(&ts, widget(json!({"size": "s", "tags": [null]})), None);
    assert_has(
        &errs,
        r#"spec.tags[0]: Invalid value: "null": spec.tags[0] in body must be of type string: "null""#,
    );
}

#[test]
fn compositions() {
    let (_r, ts) = registry();
    let errs = check(&ts, widget(json!({"size": "s", "either": {}})), None);
    assert_has(
        &errs,
        r#"<nil>: Invalid value: "": "spec.either" must validate one and only one schema (oneOf). Found none valid"#,
    );
    assert_has(&errs, "spec.either.a: Required value");
    let errs = check(
        &ts,
        widget(json!({"size": "s", "either": {"a": "1", "b": "2"}})),
        None,
    );
    assert_eq!(
        errs,
        [
            r#"<nil>: Invalid value: "": "spec.either" must validate one and only one schema (oneOf). Found 2 valid alternatives"#
        ]
    );
    let errs = check(&ts, widget(json!({"size": "s", "anyField": {}})), None);
    assert_has(
        &errs,
        r#"<nil>: Invalid value: "": "spec.anyField" must validate at least one schema (anyOf)"#,
    );
    assert!(
        check(
            &ts,
            widget(json!({"size": "s", "anyField": {"b": "x"}})),
            None
        )
        .is_empty()
    );
    let errs = check(
        &ts,
        widget(json!({"size": "s", "notBoth": {"a": "1", "b": "2"}})),
        None,
    );
    assert_eq!(
        errs,
        [r#"<nil>: Invalid value: "": "spec.notBoth" must not validate the schema (not)"#]
    );
    let errs = check(&ts, widget(json!({"size": "s", "allOfField": "a"})), None);
    assert_eq!(
        errs,
        [
            r#"spec.allOfField: Invalid value: "a": spec.allOfField in body should be at least 2 chars long"#,
            r#"<nil>: Invalid value: "": "spec.allOfField" must validate all the schemas (allOf)"#,
        ]
    );
}

#[test]
fn embedded_resources() {
    let (_r, ts) = registry();
    let errs = check(&ts, widget(json!({"size": "s", "template": {}})), None);
    assert_eq!(
        errs,
        [
            "spec.template.apiVersion: Required value: must not be empty",
            "spec.template.kind: Required value: must not be empty",
            // Required errors keep CEL rules from running.
            "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
        ]
    );
    let errs = check(
        &ts,
        widget(json!({"size": "s", "template": {"apiVersion": "v1", "kind": "Config_Map"}})),
        None,
    );
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with(r#"spec.template.kind: Invalid value: "Config_Map": may have mixed case, but should otherwise match: a DNS-1035 label"#), "{errs:?}");
    let errs = check(
        &ts,
        widget(
            json!({"size": "s", "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a/b"}}}),
        ),
        None,
    );
    assert_eq!(
        errs,
        [r#"spec.template.metadata.name: Invalid value: "a/b": may not contain '/'"#]
    );
    assert!(check(&ts, widget(json!({"size": "s", "template": {"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}}})), None).is_empty());
}

#[test]
fn pruning_respects_preserve_unknown_fields_embedded_resources_and_object_meta() {
    let (_r, ts) = registry();
    let mut obj = widget(json!({
        "size": "s",
        "foo": 1,
        "free": {"anything": {"goes": true}, "known": {"x": "1", "y": "2"}},
        "template": {"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}, "metadata": {"name": "t", "bogus": 1}},
    }));
    obj["metadata"]["bogus"] = json!("x");
    obj["extra"] = json!(true);
    let paths = prune::prune(&mut obj, &ts);
    assert_eq!(
        paths,
        ["extra", "metadata.bogus", "spec.foo", "spec.free.known.y"]
    );
    assert_eq!(obj["spec"]["free"]["anything"]["goes"], true);
    assert!(obj["spec"]["free"]["known"].get("y").is_none());
    assert_eq!(obj["spec"]["template"]["data"]["k"], "v");
    // Unknown fields of embedded metadata are dropped without being reported.
    assert!(obj["spec"]["template"]["metadata"].get("bogus").is_none());
    assert!(obj.get("extra").is_none() && obj["metadata"].get("bogus").is_none());
}

#[test]
fn root_metadata_name_restrictions_of_the_crd_apply() {
    let (_r, ts) = registry();
    let mut obj = widget(json!({"size": "s"}));
    obj["metadata"]["name"] = json!("w-very-long-name");
    let errs = check(&ts, obj, None);
    assert_eq!(
        errs,
        [
            "metadata.name: Too long: may not be more than 10 bytes",
            "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"
        ]
    );
    let mut obj = widget(json!({"size": "s"}));
    obj["metadata"]["name"] = json!("W1");
    let errs = check(&ts, obj, None);
    assert!(
        errs[0].starts_with(
            r#"metadata.name: Invalid value: "W1": a lowercase RFC 1123 subdomain must consist of"#
        ),
        "{errs:?}"
    );
}

#[test]
fn cel_rules() {
    let (_r, ts) = registry();
    // Root rule (object: no value in the message), at the nil path.
    let mut obj = widget(json!({"size": "s"}));
    obj["metadata"]["name"] = json!("a1");
    assert_eq!(
        check(&ts, obj, None),
        ["<nil>: Invalid value: name must start with w"]
    );
    // fieldPath.
    let errs = check(&ts, widget(json!({"size": "s", "minReplicas": 6})), None);
    assert_eq!(
        errs,
        ["spec.minReplicas: Invalid value: minReplicas must not exceed maxReplicas"]
    );
    // messageExpression and reason.
    let errs = check(&ts, widget(json!({"size": "xl"})), None);
    assert_eq!(errs, ["spec: Forbidden: size xl is not offered"]);
    // A scalar node's value is in the message; no message means the default one.
    let errs = check(
        &ts,
        widget(json!({"size": "s", "missing": {"present": "x"}})),
        None,
    );
    assert_eq!(
        errs,
        [
            r#"spec.missing: Invalid value: "object": no such key: absent evaluating rule: self.absent == 1"#
        ]
    );
}

#[test]
fn transition_rules_see_the_old_object() {
    let (_r, ts) = registry();
    let old = {
        let mut o = widget(json!({"size": "s", "mode": "frozen", "immutableField": "a"}));
        validation::default_custom_resource(&mut o, &ts);
        o
    };
    // Create: transition rules are skipped.
    assert!(
        check(
            &ts,
            widget(json!({"size": "m", "mode": "frozen", "immutableField": "b"})),
            None
        )
        .is_empty()
    );
    // Update: they run against oldSelf.
    let errs = check(
        &ts,
        widget(json!({"size": "m", "mode": "frozen", "immutableField": "b"})),
        Some(&old),
    );
    assert_eq!(
        errs,
        [
            "spec: Invalid value: size is frozen",
            r#"spec.immutableField: Invalid value: "b": Value is immutable"#
        ]
    );
    assert!(
        check(
            &ts,
            widget(json!({"size": "s", "mode": "frozen", "immutableField": "a"})),
            Some(&old)
        )
        .is_empty()
    );
    // optionalOldSelf: evaluated on create too (oldSelf is an empty optional).
    assert!(check(&ts, widget(json!({"size": "s", "since": "b"})), None).is_empty());
    let old = widget(
        json!({"size": "s", "since": "b", "minReplicas": 1, "maxReplicas": 5, "nested": {"inner": "in"}}),
    );
    let errs = check(&ts, widget(json!({"size": "s", "since": "a"})), Some(&old));
    assert_eq!(
        errs,
        [r#"spec.since: Invalid value: "a": since may only move forward"#]
    );
}

#[test]
fn ratcheting_keeps_unchanged_invalid_values() {
    let (_r, ts) = registry();
    // Stored before a rule tightened: an update that leaves the value alone passes.
    let old = widget(
        json!({"size": "s", "replicas": 11, "minReplicas": 1, "maxReplicas": 5, "nested": {"inner": "in"}}),
    );
    assert!(
        check(
            &ts,
            widget(json!({"size": "m", "replicas": 11})),
            Some(&old)
        )
        .is_empty()
    );
    let errs = check(
        &ts,
        widget(json!({"size": "m", "replicas": 12})),
        Some(&old),
    );
    // (A bound violation is not one of the errors that keep CEL rules from running.)
    assert_eq!(
        errs,
        [
            "spec.replicas: Invalid value: 12: spec.replicas in body should be less than or equal to 10"
        ]
    );
    // A CEL error on an unchanged value becomes a warning.
    let old =
        widget(json!({"size": "s", "minReplicas": 9, "maxReplicas": 5, "nested": {"inner": "in"}}));
    let mut new = old.clone();
    new["metadata"]["labels"] = json!({"a": "b"});
    prune::prune(&mut new, &ts);
    validation::default_custom_resource(&mut new, &ts);
    let warnings = validation::validate_custom_resource(&ts, &new, Some(&old)).unwrap();
    assert_eq!(
        warnings,
        ["spec.minReplicas: Invalid value: minReplicas must not exceed maxReplicas"]
    );
}

#[test]
fn cel_cost_limits_stop_expensive_evaluations() {
    let (_r, ts) = registry();
    let small: Vec<i64> = (0..5).collect();
    assert!(check(&ts, widget(json!({"size": "s", "numbers": small})), None).is_empty());
    // The CRD was accepted (80³ steps fit the static limit of 10M), but 80³ steps are over
    // the runtime per-call limit of 1M: refused before running.
    let big: Vec<i64> = (0..80).collect();
    let errs = check(&ts, widget(json!({"size": "s", "numbers": big})), None);
    assert_eq!(
        errs,
        [
            r#"spec.numbers: Invalid value: "array": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: sums are not negative"#
        ]
    );
}

#[test]
fn invalid_status_body_names_the_kind_and_causes() {
    let (_r, ts) = registry();
    let mut obj = widget(json!({"size": "xxl", "replicas": "many"}));
    prune::prune(&mut obj, &ts);
    validation::default_custom_resource(&mut obj, &ts);
    let err = validation::validate_custom_resource(&ts, &obj, None).unwrap_err();
    let st = err.status();
    assert_eq!(st["code"], 422);
    assert_eq!(st["reason"], "Invalid");
    assert_eq!(st["details"]["group"], "example.com");
    assert_eq!(st["details"]["kind"], "Widget");
    assert_eq!(st["details"]["name"], "w1");
    let msg = st["message"].as_str().unwrap();
    assert!(
        msg.starts_with(r#"Widget.example.com "w1" is invalid: ["#),
        "{msg}"
    );
    let causes = st["details"]["causes"].as_array().unwrap();
    let replicas = causes
        .iter()
        .find(|c| c["field"] == "spec.replicas")
        .unwrap();
    assert_eq!(replicas["reason"], "FieldValueTypeInvalid");
    assert_eq!(
        replicas["message"],
        r#"Invalid value: "string": spec.replicas in body must be of type integer: "string""#
    );
    let size = causes.iter().find(|c| c["field"] == "spec.size").unwrap();
    assert_eq!(size["reason"], "FieldValueNotSupported");
}
