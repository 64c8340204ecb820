#![allow(clippy::unwrap_used)]
//! `fieldValidation`: unknown and duplicate fields in request bodies and patches, with the
//! messages and Status shapes of the real server (apiserver's handlers `create.go`,
//! `update.go`, `patch.go`; sigs.k8s.io/json's strict errors; structured-merge-diff's
//! `field not declared in schema`).

mod common;

use ferry_schema::{
    Gvk, Registry,
    validation::{
        FieldValidation,
        prune::prune,
        strict::{self, Request},
    },
};
use serde_json::json;

const DEPLOYMENT_WITH_UNKNOWN: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
 "spec":{"foo":1,"selector":{"matchLabels":{"app":"web"}},
  "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"x","bogus":true}]}},
  "bar":2}}"#;

fn deployment_request() -> Request<'static> {
    Request::Body {
        kind: "Deployment",
        version: "v1",
    }
}

#[test]
fn unknown_fields_of_built_in_kinds_are_reported_in_document_order() {
    let reg = Registry::builtin();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    let f = strict::check_body(DEPLOYMENT_WITH_UNKNOWN.as_bytes(), false, &ts);
    assert_eq!(
        f.errors,
        [
            r#"unknown field "spec.foo""#,
            r#"unknown field "spec.template.spec.containers[0].bogus""#,
            r#"unknown field "spec.bar""#,
        ]
    );
    // Strict: 400 BadRequest, the decoder's message wrapped by the create handler.
    let err = f
        .resolve(FieldValidation::Strict, deployment_request())
        .unwrap_err();
    assert_eq!(err.code(), 400);
    assert_eq!(err.reason(), Some("BadRequest"));
    assert_eq!(
        err.message(),
        r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].bogus", unknown field "spec.bar""#
    );
    let st = err.status();
    assert_eq!(st["kind"], "Status");
    assert_eq!(st["status"], "Failure");
    assert!(st.get("details").is_none());
    // Warn: the same texts as Warning headers.
    let warnings = f
        .resolve(FieldValidation::Warn, deployment_request())
        .unwrap();
    assert_eq!(warnings, f.errors);
    // Ignore: nothing to say; the fields are dropped all the same.
    assert!(
        f.resolve(FieldValidation::Ignore, deployment_request())
            .unwrap()
            .is_empty()
    );
    let mut obj: serde_json::Value = serde_json::from_str(DEPLOYMENT_WITH_UNKNOWN).unwrap();
    let dropped = prune(&mut obj, &ts);
    assert_eq!(dropped.len(), 3);
    assert!(obj["spec"].get("foo").is_none() && obj["spec"].get("bar").is_none());
    assert!(
        obj["spec"]["template"]["spec"]["containers"][0]
            .get("bogus")
            .is_none()
    );
}

#[test]
fn duplicate_fields_in_json_and_yaml() {
    let reg = Registry::builtin();
    let ts = reg.lookup("v1", "ConfigMap").unwrap();
    let body = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","name":"b"},"data":{"k":"1","k":"2"}}"#;
    let f = strict::check_body(body, false, &ts);
    assert_eq!(
        f.errors,
        [
            r#"duplicate field "metadata.name""#,
            r#"duplicate field "data.k""#
        ]
    );
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: '1'\n  k: '2'\n";
    let f = strict::check_body(yaml.as_bytes(), true, &ts);
    assert_eq!(
        f.errors,
        ["yaml: unmarshal errors:\n  line 7: key \"k\" already set in map"]
    );
    // Unknown fields of a YAML body come in key order (the YAML goes through a Go map first).
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nzeta: 1\nalpha: 2\n";
    let f = strict::check_body(yaml.as_bytes(), true, &ts);
    assert_eq!(
        f.errors,
        [r#"unknown field "alpha""#, r#"unknown field "zeta""#]
    );
}

#[test]
fn custom_resources_report_pruned_fields_sorted_after_duplicates() {
    let reg = Registry::builtin();
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Thing", "plural": "things"},
          "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
            "type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}}}}}}]}
    });
    reg.add_crd(&crd).unwrap();
    let ts = reg.get(&Gvk::new("example.com", "v1", "Thing")).unwrap();
    let body =
        br#"{"apiVersion":"example.com/v1","kind":"Thing","metadata":{"name":"t","labelz":{}},
        "spec":{"zeta":1,"a":"x","a":"y","alpha":2}}"#;
    let f = strict::check_body(body, false, &ts);
    assert_eq!(
        f.errors,
        [
            r#"duplicate field "spec.a""#,
            r#"unknown field "metadata.labelz""#,
            r#"unknown field "spec.alpha""#,
            r#"unknown field "spec.zeta""#,
        ]
    );
    let err = f
        .resolve(
            FieldValidation::Strict,
            Request::Body {
                kind: "Thing",
                version: "v1",
            },
        )
        .unwrap_err();
    assert_eq!(
        err.message(),
        r#"Thing in version "v1" cannot be handled as a Thing: strict decoding error: duplicate field "spec.a", unknown field "metadata.labelz", unknown field "spec.alpha", unknown field "spec.zeta""#
    );
}

#[test]
fn values_a_go_type_cannot_hold_fail_whatever_the_directive() {
    let reg = Registry::builtin();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    let body = br#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":"3"}}"#;
    let f = strict::check_body(body, false, &ts);
    let err = f
        .resolve(FieldValidation::Ignore, deployment_request())
        .unwrap_err();
    assert_eq!(err.code(), 400);
    assert_eq!(
        err.message(),
        r#"Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"#
    );
    let body = br#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":{"name":"c"}}}}}"#;
    let f = strict::check_body(body, false, &ts);
    assert_eq!(
        f.type_error.as_deref(),
        Some(
            "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container"
        )
    );
    let body = br#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1.5}}"#;
    let f = strict::check_body(body, false, &ts);
    assert_eq!(
        f.type_error.as_deref(),
        Some(
            "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32"
        )
    );
    // Secret data must be base64.
    let ts = reg.lookup("v1", "Secret").unwrap();
    let body =
        br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"abc!"}}"#;
    let err = strict::check_body(body, false, &ts)
        .resolve(
            FieldValidation::Strict,
            Request::Body {
                kind: "Secret",
                version: "v1",
            },
        )
        .unwrap_err();
    assert_eq!(
        err.message(),
        r#"Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3"#
    );
    // Quantities and int-or-strings have their own decoders: numbers are fine there.
    let ts = reg.lookup("v1", "Pod").unwrap();
    let body = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i",
        "resources":{"limits":{"cpu":2}},"ports":[{"containerPort":80}],"livenessProbe":{"httpGet":{"port":8080}}}]}}"#;
    assert!(strict::check_body(body, false, &ts).is_empty());
}

#[test]
fn patches_report_strict_errors_as_invalid_patch() {
    let reg = Registry::builtin();
    let ts = reg.lookup("v1", "ConfigMap").unwrap();
    let mut patched = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "<b>"}, "foo": 1});
    let unknown = prune(&mut patched.clone(), &ts);
    let findings = ferry_schema::validation::StrictFindings::unknown(&unknown);
    let err = findings
        .resolve(
            FieldValidation::Strict,
            Request::JsonOrMergePatch { patched: &patched },
        )
        .unwrap_err();
    assert_eq!(err.code(), 422);
    assert_eq!(
        err.message(),
        r#" "" is invalid: patch: Invalid value: "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"\\u003cb\\u003e\"},\"foo\":1,\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}": strict decoding error: unknown field "foo""#
    );
    assert_eq!(err.status()["details"]["causes"][0]["field"], "patch");
    // Strategic merge patches show the patch in Go's %+v form.
    let patch = json!({"foo": 1, "data": {"a": "b"}});
    let err = findings
        .resolve(
            FieldValidation::Strict,
            Request::StrategicPatch { patch: &patch },
        )
        .unwrap_err();
    assert_eq!(
        err.message(),
        r#" "" is invalid: patch: Invalid value: "map[data:map[a:b] foo:1]": strict decoding error: unknown field "foo""#
    );
    // Warn keeps the patch and reports.
    patched.as_object_mut().unwrap().remove("foo");
    assert_eq!(
        findings
            .resolve(
                FieldValidation::Warn,
                Request::StrategicPatch { patch: &patch }
            )
            .unwrap(),
        [r#"unknown field "foo""#]
    );
    // Apply patches: duplicates are a 400 of their own.
    let dup = strict::StrictFindings {
        errors: strict::yaml_duplicates("a: 1\na: 2\n"),
        type_error: None,
    };
    let err = dup
        .resolve(FieldValidation::Strict, Request::ApplyPatch)
        .unwrap_err();
    assert_eq!(err.code(), 400);
    assert_eq!(
        err.message(),
        "error strict decoding patch: yaml: unmarshal errors:\n  line 2: key \"a\" already set in map"
    );
}

#[test]
fn apply_patches_with_undeclared_fields_fail_as_server_side_apply_does() {
    let reg = Registry::builtin();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    let applied: serde_json::Value = serde_json::from_str(DEPLOYMENT_WITH_UNKNOWN).unwrap();
    let err = strict::apply_undeclared_fields(&applied, &ts, "default", "web").unwrap();
    assert_eq!(err.code(), 500);
    assert_eq!(err.reason(), None);
    assert_eq!(
        err.message(),
        "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): errors:\n  .spec.bar: field not declared in schema\n  .spec.foo: field not declared in schema\n  .spec.template.spec.containers[name=\"c\"].bogus: field not declared in schema"
    );
    assert!(err.status().get("reason").is_none());
    let ts = reg.lookup("v1", "Service").unwrap();
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"topologyKeys": ["x"]}});
    assert_eq!(
        strict::apply_undeclared_fields(&svc, &ts, "general", "s")
            .unwrap()
            .message(),
        "failed to create typed patch object (general/s; /v1, Kind=Service): .spec.topologyKeys: field not declared in schema"
    );
    let ok = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}});
    assert!(strict::apply_undeclared_fields(&ok, &ts, "general", "s").is_none());
}

#[test]
fn the_directive_parses_as_the_server_does() {
    assert_eq!(
        FieldValidation::parse(None, "CreateOptions").unwrap(),
        FieldValidation::Warn
    );
    assert_eq!(
        FieldValidation::parse(Some("Strict"), "PatchOptions").unwrap(),
        FieldValidation::Strict
    );
    let err = FieldValidation::parse(Some("strict"), "CreateOptions").unwrap_err();
    assert_eq!(err.code(), 422);
    assert_eq!(
        err.message(),
        r#"CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn""#
    );
}
