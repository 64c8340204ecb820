//! The policy-set API as the CLI and the Kustomization controller use it: templates and
//! constraints from the library copy, objects as a rendered repository would hold them.

use std::path::Path;

use ferry_policy::load::read_file;
use ferry_policy::{EnforcementAction, Error, Inventory, PolicySet, Review};
use serde_json::{Value, json};

fn library(path: &str) -> Vec<Value> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gatekeeper")
        .join(path);
    read_file(&file, path)
        .expect("library file reads")
        .into_iter()
        .map(|d| d.value)
        .collect()
}

fn ingress(namespace: &str, name: &str, host: &str) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"rules": [{"host": host, "http": {"paths": []}}]}})
}

fn pod(namespace: &str, name: &str, image: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "main", "image": image}]}})
}

fn constraint(kind: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": kind,
        "metadata": {"name": name}, "spec": spec})
}

#[test]
fn referential_constraints_see_the_other_rendered_objects() {
    let mut docs = library("uniqueingresshost/template.yaml");
    docs.extend(library(
        "uniqueingresshost/samples/unique-ingress-host/constraint.yaml",
    ));
    let set = PolicySet::from_objects(docs).expect("policies compile");
    let objects = vec![
        ingress("a", "web", "shop.example.com"),
        ingress("b", "web", "shop.example.com"),
        ingress("a", "api", "api.example.com"),
    ];
    let inventory = Inventory::from_objects(&objects);
    let reviews: Vec<Review> = objects.into_iter().map(Review::create).collect();
    let outcome = set.evaluate(&reviews, &inventory);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let mut hit: Vec<String> = outcome
        .violations
        .iter()
        .map(|v| v.object.to_string())
        .collect();
    hit.sort();
    assert_eq!(hit, ["Ingress/a/web", "Ingress/b/web"]);
    assert!(
        outcome.violations[0]
            .message
            .contains("ingress host conflicts with an existing ingress <shop.example.com>")
    );
    assert!(outcome.denies());
    // Without the inventory nothing conflicts.
    let alone = set.evaluate(&reviews, &Inventory::new());
    assert!(alone.violations.is_empty());
}

#[test]
fn enforcement_actions_and_match_rules_select_what_is_reported() {
    let mut docs = library("disallowedtags/template.yaml");
    let params = json!({"tags": ["latest"], "exemptImages": []});
    docs.push(constraint(
        "K8sDisallowedTags",
        "warn-everywhere",
        json!({
        "enforcementAction": "warn",
        "match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]},
        "parameters": params}),
    ));
    docs.push(constraint(
        "K8sDisallowedTags",
        "deny-in-prod",
        json!({
        "match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}],
                  "namespaceSelector": {"matchLabels": {"env": "prod"}},
                  "excludedNamespaces": ["kube-*"]},
        "parameters": params}),
    ));
    let set = PolicySet::from_objects(docs).expect("policies compile");
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"env": "prod"}}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lab", "labels": {"env": "dev"}}}),
        pod("shop", "web", "nginx:latest"),
        pod("lab", "try", "nginx:latest"),
        pod("shop", "ok", "nginx:1.27"),
    ];
    let reviews: Vec<Review> = objects.iter().cloned().map(Review::create).collect();
    let outcome = set.evaluate(&reviews, &Inventory::new());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let mut seen: Vec<(String, String, EnforcementAction)> = outcome
        .violations
        .iter()
        .map(|v| (v.object.to_string(), v.constraint.clone(), v.action))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "Pod/lab/try".into(),
                "warn-everywhere".into(),
                EnforcementAction::Warn
            ),
            (
                "Pod/shop/web".into(),
                "deny-in-prod".into(),
                EnforcementAction::Deny
            ),
            (
                "Pod/shop/web".into(),
                "warn-everywhere".into(),
                EnforcementAction::Warn
            ),
        ]
    );
    // Only warnings: nothing blocks.
    let lab_only = set.evaluate(&reviews[3..4], &Inventory::from_objects(&objects));
    assert!(!lab_only.violations.is_empty() && !lab_only.denies());
    // A namespaceSelector with no Namespace object to read is an error, not a silent pass.
    let orphan = set.evaluate(
        &[Review::create(pod("ghost", "x", "nginx"))],
        &Inventory::new(),
    );
    assert_eq!(orphan.errors.len(), 1, "{:?}", orphan.errors);
    assert!(orphan.errors[0].message.contains("\"ghost\""));
}

#[test]
fn updates_carry_the_old_object_and_operation() {
    // The PSP templates skip UPDATE (their fields are immutable); CREATE is checked.
    let mut docs = library("privileged-containers/template.yaml");
    docs.push(constraint(
        "K8sPSPPrivilegedContainer",
        "no-privileged",
        json!({}),
    ));
    let set = PolicySet::from_objects(docs).expect("policies compile");
    let mut privileged = pod("a", "p", "nginx");
    privileged["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    let create = set.evaluate(&[Review::create(privileged.clone())], &Inventory::new());
    assert_eq!(create.violations.len(), 1);
    let update = set.evaluate(
        &[Review::update(privileged.clone(), privileged)],
        &Inventory::new(),
    );
    assert!(update.violations.is_empty(), "{:?}", update.violations);
}

#[test]
fn a_template_that_does_not_compile_is_named_with_the_position() {
    let template = json!({
        "apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
        "metadata": {"name": "k8sbroken"},
        "spec": {"crd": {"spec": {"names": {"kind": "K8sBroken"}}},
                 "targets": [{"target": "admission.k8s.gatekeeper.sh",
                              "rego": "package k8sbroken\n\nviolation[{\"msg\": msg}] {\n  msg := \n}\n"}]}});
    let err = PolicySet::from_objects(vec![template, constraint("K8sBroken", "b", json!({}))])
        .expect_err("broken Rego is refused");
    let text = err.to_string();
    assert!(text.contains("ConstraintTemplate k8sbroken"), "{text}");
    assert!(text.contains("--> k8sbroken/template.rego:3:25"), "{text}");
    // Its constraint is not reported a second time.
    assert!(matches!(err, Error::Template(_)), "{err:?}");

    let cel = json!({
        "apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
        "metadata": {"name": "k8sbadcel"},
        "spec": {"crd": {"spec": {"names": {"kind": "K8sBadCel"}}},
                 "targets": [{"target": "admission.k8s.gatekeeper.sh", "code": [
                     {"engine": "K8sNativeValidation", "source": {"validations": [{"expression": "object.(("}]}}]}]}});
    let err = PolicySet::from_objects(vec![cel]).expect_err("broken CEL is refused");
    assert!(
        err.to_string()
            .contains("ConstraintTemplate k8sbadcel: CEL validation"),
        "{err}"
    );
}

#[test]
fn a_constraint_without_template_is_an_error() {
    let err = PolicySet::from_objects(vec![constraint("K8sNowhere", "lost", json!({}))])
        .expect_err("no template");
    assert!(matches!(err, Error::NoTemplateForConstraint { .. }));
    assert_eq!(
        err.to_string(),
        "constraint K8sNowhere/lost: no ConstraintTemplate defines kind K8sNowhere (add the template, or fix the constraint's kind)"
    );
}
