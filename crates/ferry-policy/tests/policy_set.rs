//! The policy-set API as the CLI and the Kustomization controller use it: templates and
//! constraints from the library copy, objects as a rendered repository would hold them.

use std::path::Path;

use ferry_policy::load::read_file;
use ferry_policy::{EnforcementAction, Error, Inventory, PolicySet, RegoRuntime, Review};
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

/// A template (Rego v0 syntax, engine Rego in `code[]` with a helper in `libs`) whose one
/// violation spells out the review Gatekeeper would build, so each field can be checked.
fn echo_template() -> Value {
    let rego = r#"package k8sechoreview

import data.lib.describe.describe

violation[{"msg": msg, "details": {"operation": input.review.operation}}] {
  msg := describe(input.review, input.parameters)
}
"#;
    let lib = r#"package lib.describe

old_label(review) = v {
  v := review.oldObject.metadata.labels.v
}

old_label(review) = "none" {
  not review.oldObject
}

describe(review, params) = msg {
  msg := sprintf("op=%v gvk=%v/%v/%v name=%v ns=%v user=%v groups=%v old=%v new=%v param=%v", [
    review.operation, review.kind.group, review.kind.version, review.kind.kind,
    review.name, review.namespace, review.userInfo.username, review.userInfo.groups,
    old_label(review), review.object.metadata.labels.v, params.label])
}
"#;
    json!({
        "apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
        "metadata": {"name": "k8sechoreview"},
        "spec": {"crd": {"spec": {"names": {"kind": "K8sEchoReview"}}},
                 "targets": [{"target": "admission.k8s.gatekeeper.sh",
                              "code": [{"engine": "Rego", "source": {"rego": rego, "libs": [lib]}}]}]}})
}

fn deployment(labels_v: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"v": labels_v}},
        "spec": {}})
}

#[test]
fn the_review_carries_operation_kind_user_old_object_and_parameters() {
    let set = PolicySet::from_objects(vec![
        echo_template(),
        constraint(
            "K8sEchoReview",
            "echo",
            json!({"parameters": {"label": "p1"}}),
        ),
    ])
    .expect("policies compile");
    let alice = json!({"username": "alice", "groups": ["dev"]});
    let mut create = Review::create(deployment("1"));
    create.user_info = Some(alice.clone());
    let mut update = Review::update(deployment("2"), deployment("1"));
    update.user_info = Some(alice);
    let outcome = set.evaluate(&[create, update], &Inventory::new());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let messages: Vec<&str> = outcome
        .violations
        .iter()
        .map(|v| v.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "op=CREATE gvk=apps/v1/Deployment name=web ns=shop user=alice groups=[\"dev\"] old=none new=1 param=p1",
            "op=UPDATE gvk=apps/v1/Deployment name=web ns=shop user=alice groups=[\"dev\"] old=1 new=2 param=p1",
        ]
    );
    assert_eq!(
        outcome.violations[1].details,
        json!({"operation": "UPDATE"})
    );
}

#[test]
fn dryrun_and_warn_violations_are_reported_but_never_deny() {
    let mut docs = library("disallowedtags/template.yaml");
    let spec = |action: &str| {
        json!({"enforcementAction": action,
               "match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]},
               "parameters": {"tags": ["latest"], "exemptImages": []}})
    };
    docs.push(constraint(
        "K8sDisallowedTags",
        "audit-only",
        spec("dryrun"),
    ));
    docs.push(constraint("K8sDisallowedTags", "heads-up", spec("warn")));
    let set = PolicySet::from_objects(docs).expect("policies compile");
    let outcome = set.evaluate(
        &[Review::create(pod("a", "web", "nginx:latest"))],
        &Inventory::new(),
    );
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let mut seen: Vec<(String, EnforcementAction)> = outcome
        .violations
        .iter()
        .map(|v| (v.constraint.clone(), v.action))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("audit-only".to_string(), EnforcementAction::Dryrun),
            ("heads-up".to_string(), EnforcementAction::Warn)
        ]
    );
    assert!(!outcome.denies(), "dryrun and warn only report");

    // An unknown action is refused when the constraint is loaded, not treated as deny or allow.
    let mut docs = library("disallowedtags/template.yaml");
    docs.push(constraint("K8sDisallowedTags", "typo", spec("block")));
    let err = PolicySet::from_objects(docs).expect_err("unknown enforcementAction");
    assert!(err.to_string().contains("typo"), "{err}");
}

#[test]
fn scope_selects_cluster_scoped_or_namespaced_objects() {
    let template = json!({
        "apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
        "metadata": {"name": "k8sdenyall"},
        "spec": {"crd": {"spec": {"names": {"kind": "K8sDenyAll"}}},
                 "targets": [{"target": "admission.k8s.gatekeeper.sh",
                              "rego": "package k8sdenyall\n\nviolation[{\"msg\": \"denied\"}] {\n  true\n}\n"}]}});
    let docs = vec![
        template,
        constraint(
            "K8sDenyAll",
            "cluster",
            json!({"match": {"scope": "Cluster"}}),
        ),
        constraint(
            "K8sDenyAll",
            "namespaced",
            json!({"match": {"scope": "Namespaced"}}),
        ),
        constraint("K8sDenyAll", "all", json!({"match": {"scope": "*"}})),
    ];
    let set = PolicySet::from_objects(docs).expect("policies compile");
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "reader"}});
    let outcome = set.evaluate(
        &[
            Review::create(role),
            Review::create(pod("a", "web", "nginx")),
        ],
        &Inventory::new(),
    );
    let mut seen: Vec<(String, String)> = outcome
        .violations
        .iter()
        .map(|v| (v.object.to_string(), v.constraint.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("ClusterRole/reader".to_string(), "all".to_string()),
            ("ClusterRole/reader".to_string(), "cluster".to_string()),
            ("Pod/a/web".to_string(), "all".to_string()),
            ("Pod/a/web".to_string(), "namespaced".to_string()),
        ]
    );
}

#[test]
fn live_objects_join_the_inventory_and_rendered_ones_replace_them() {
    let mut docs = library("uniqueingresshost/template.yaml");
    docs.extend(library(
        "uniqueingresshost/samples/unique-ingress-host/constraint.yaml",
    ));
    let set = PolicySet::from_objects(docs).expect("policies compile");
    // Live in the cluster: an Ingress of another team on the same host, and the previous
    // version of the Ingress being rendered (it held that host too).
    let live = vec![
        ingress("other", "legacy", "shop.example.com"),
        ingress("a", "web", "old.example.com"),
    ];
    let rendered = vec![ingress("a", "web", "shop.example.com")];
    let mut inventory = Inventory::new();
    inventory.extend(live.clone());
    inventory.extend(rendered.clone());
    assert_eq!(
        inventory.len(),
        2,
        "the rendered Ingress replaced its live version"
    );
    let reviews = vec![Review::update(rendered[0].clone(), live[1].clone())];
    let outcome = set.evaluate(&reviews, &inventory);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.violations.len(), 1, "{:?}", outcome.violations);
    assert_eq!(outcome.violations[0].object.to_string(), "Ingress/a/web");
    // Only the rendered objects: nothing to conflict with.
    let alone = set.evaluate(&reviews, &Inventory::from_objects(&rendered));
    assert!(alone.violations.is_empty(), "{:?}", alone.violations);
    // A namespaceSelector reads live Namespaces too.
    let mut docs = library("disallowedtags/template.yaml");
    docs.push(constraint(
        "K8sDisallowedTags",
        "prod-only",
        json!({"match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}],
                         "namespaceSelector": {"matchLabels": {"env": "prod"}}},
               "parameters": {"tags": ["latest"], "exemptImages": []}}),
    ));
    let set = PolicySet::from_objects(docs).expect("policies compile");
    let mut inventory = Inventory::new();
    inventory.extend([
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"env": "prod"}}}),
    ]);
    let outcome = set.evaluate(
        &[Review::create(pod("shop", "web", "nginx:latest"))],
        &inventory,
    );
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.violations.len(), 1);
}

#[test]
fn a_reference_argument_of_a_negated_call_is_bound_first_as_in_opa() {
    // OPA runs `not f(input.parameters.ranges)` as `x = input.parameters.ranges; not f(x)`:
    // with no `ranges` the body is undefined, so nothing is reported (the library's
    // k8spspallowedusers with `rule: RunAsAny` relies on it). Both Rego runtimes agree.
    let rego = "package k8sneg\n\nin_range(r) {\n  r.min == 1\n}\n\nviolation[{\"msg\": \"out of range\"}] {\n  not in_range(input.parameters.ranges)\n}\n";
    let template = json!({"apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
        "metadata": {"name": "k8sneg"},
        "spec": {"crd": {"spec": {"names": {"kind": "K8sNeg"}}},
                 "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego": rego}]}});
    for runtime in [RegoRuntime::Interpreter, RegoRuntime::Bytecode] {
        for (parameters, expected) in [
            (json!({}), 0),
            (json!({"ranges": {"min": 1}}), 0),
            (json!({"ranges": {"min": 2}}), 1),
        ] {
            let set = PolicySet::from_objects(vec![
                template.clone(),
                constraint("K8sNeg", "n", json!({"parameters": parameters})),
            ])
            .expect("compiles")
            .with_rego_runtime(runtime);
            let outcome =
                set.evaluate(&[Review::create(pod("a", "p", "nginx"))], &Inventory::new());
            assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
            assert_eq!(
                outcome.violations.len(),
                expected,
                "{runtime:?} with parameters {parameters}"
            );
        }
    }
}
