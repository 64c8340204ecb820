//! The opt-in policy gate: Gatekeeper policies kept in the source or installed in the cluster
//! are checked on the rendered objects before anything is applied: `deny` stops the apply,
//! `warn` and `dryrun` only report. Referential templates see live objects, UPDATE rules see the
//! live object as `oldObject`.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::{path::Path, time::Duration};

use common::Env;
use k8s_openapi::api::core::v1::Event;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

const CONSTRAINT: &str = "apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sDisallowedTags
metadata:
  name: no-latest
spec:
  match:
    kinds:
      - apiGroups: [\"\"]
        kinds: [\"Pod\"]
  parameters:
    tags: [\"latest\"]
";

fn data(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/policies")
            .join(name),
    )
    .unwrap()
}

fn template() -> String {
    data("disallowedtags-template.yaml")
}

/// A Kustomization of `./app` with the gate on (`./policies`).
async fn create_gated_kustomization(env: &Env) {
    let api: kube::Api<ferry_api::Kustomization> =
        kube::Api::namespaced(env.client.clone(), "flux-system");
    let ks: ferry_api::Kustomization = serde_json::from_value(json!({
        "metadata": {"name": "app", "namespace": "flux-system", "annotations": {"ferry.dev/policy-path": "./policies"}},
        "spec": {"interval": "1h", "path": "./app", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "repo"}},
    }))
    .unwrap();
    api.create(&Default::default(), &ks).await.unwrap();
}

fn pod(image: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: default\nspec:\n  containers:\n  - name: web\n    image: {image}\n"
    )
}

/// Waits until the Kustomization `app` is Ready=False with PolicyViolation; returns the message.
async fn wait_denied(env: &Env) -> String {
    env.wait_ready(
        "app",
        "False",
        Some("PolicyViolation"),
        Duration::from_secs(30),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deny_violation_blocks_the_apply_until_fixed() {
    let env = Env::start().await;
    let template = template();
    env.repo.write("policies/template.yaml", &template);
    env.repo.write("policies/constraint.yaml", CONSTRAINT);
    env.repo.write("app/pod.yaml", &pod("nginx:latest"));
    env.repo.write(
        "app/cm.yaml",
        &common::configmap("settings", "default", "x"),
    );
    env.repo.commit("a pod on :latest");
    env.create_git_repository("repo", "1s").await;

    create_gated_kustomization(&env).await;

    let message = wait_denied(&env).await;
    assert!(
        message.contains("Pod/default/web") || message.contains("web"),
        "{message}"
    );
    assert!(message.contains("no-latest"), "{message}");
    assert!(
        env.get("v1", "ConfigMap", Some("default"), "settings")
            .await
            .is_none(),
        "nothing applied"
    );
    assert!(env.get("v1", "Pod", Some("default"), "web").await.is_none());

    env.repo.write("app/pod.yaml", &pod("nginx:1.27"));
    env.repo.commit("pin the tag");
    env.wait_ready("app", "True", None, Duration::from_secs(30))
        .await;
    assert!(env.get("v1", "Pod", Some("default"), "web").await.is_some());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn warn_and_dryrun_violations_only_report() {
    let env = Env::start().await;
    env.repo.write("policies/template.yaml", &template());
    for (name, action) in [("latest-warn", "warn"), ("latest-audit", "dryrun")] {
        env.repo.write(
            &format!("policies/{name}.yaml"),
            &CONSTRAINT
                .replace("name: no-latest", &format!("name: {name}"))
                .replace(
                    "spec:\n",
                    &format!("spec:\n  enforcementAction: {action}\n"),
                ),
        );
    }
    env.repo.write("app/pod.yaml", &pod("nginx:latest"));
    env.repo
        .commit("a pod on :latest, policies that only report");
    env.create_git_repository("repo", "1m").await;
    create_gated_kustomization(&env).await;

    env.wait_ready("app", "True", None, Duration::from_secs(30))
        .await;
    assert!(
        env.get("v1", "Pod", Some("default"), "web").await.is_some(),
        "warn and dryrun do not block the apply"
    );
    let events: kube::Api<Event> = kube::Api::namespaced(env.client.clone(), "flux-system");
    let reported = common::wait_for(
        "a PolicyViolation warning event",
        Duration::from_secs(10),
        || {
            let events = events.clone();
            async move {
                events
                    .list(&ListParams::default())
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .find(|e| e.reason.as_deref() == Some("PolicyViolation"))
            }
        },
    )
    .await;
    assert_eq!(reported.type_.as_deref(), Some("Warning"));
    let message = reported.message.unwrap_or_default();
    for expected in [
        "Pod/default/web",
        "latest-warn",
        "latest-audit",
        "(warn)",
        "(dryrun)",
    ] {
        assert!(message.contains(expected), "{expected} in {message}");
    }
    env.stop().await;
}

/// A Kustomization of `./app` with the given gate annotations, retried every second.
async fn create_kustomization_with(env: &Env, annotations: Value) {
    let api: kube::Api<ferry_api::Kustomization> =
        kube::Api::namespaced(env.client.clone(), "flux-system");
    let ks: ferry_api::Kustomization = serde_json::from_value(json!({
        "metadata": {"name": "app", "namespace": "flux-system", "annotations": annotations},
        "spec": {"interval": "1h", "retryInterval": "1s", "path": "./app", "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "repo"}},
    }))
    .unwrap();
    api.create(&Default::default(), &ks).await.unwrap();
}

/// Server-side applies a YAML object whose resource is `plural` (kinds whose plural is not the
/// lowercase kind plus `s`: Ingress, Gatekeeper's constraint kinds).
async fn apply(env: &Env, plural: &str, yaml: &str) {
    let object: Value = ferry_yaml::from_str(yaml).unwrap();
    let (group, version) = object["apiVersion"]
        .as_str()
        .unwrap()
        .rsplit_once('/')
        .unwrap_or(("", object["apiVersion"].as_str().unwrap()));
    let gvk = GroupVersionKind::gvk(group, version, object["kind"].as_str().unwrap());
    let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
    let api: kube::Api<DynamicObject> = match object["metadata"]["namespace"].as_str() {
        Some(ns) => kube::Api::namespaced_with(env.client.clone(), ns, &resource),
        None => kube::Api::all_with(env.client.clone(), &resource),
    };
    api.patch(
        object["metadata"]["name"].as_str().unwrap(),
        &PatchParams::apply("kubectl").force(),
        &Patch::Apply(&object),
    )
    .await
    .unwrap();
}

/// The Ingress `namespace/name`, `None` when it does not exist.
async fn get_ingress(env: &Env, namespace: &str, name: &str) -> Option<DynamicObject> {
    ingresses(env, namespace).get_opt(name).await.unwrap()
}

fn ingresses(env: &Env, namespace: &str) -> kube::Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("networking.k8s.io", "v1", "Ingress");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "ingresses");
    kube::Api::namespaced_with(env.client.clone(), namespace, &resource)
}

async fn wait_established(env: &Env, name: &str) {
    common::wait_for(
        &format!("CRD {name} established"),
        Duration::from_secs(10),
        || async move {
            let crd = env
                .get(
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    None,
                    name,
                )
                .await?;
            crd["status"]["conditions"]
                .as_array()?
                .iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
                .then_some(())
        },
    )
    .await;
}

/// The CRD Gatekeeper's controller generates for a template's constraint kind (cluster-scoped,
/// group constraints.gatekeeper.sh, plural the lowercase kind). In a real cluster Gatekeeper
/// creates it when the template is created; the embedded API server has no Gatekeeper, so the
/// test creates it as Gatekeeper would.
fn constraint_crd(kind: &str) -> String {
    let plural = kind.to_lowercase();
    let version = |name: &str, storage: bool| {
        format!(
            "  - name: {name}\n    served: true\n    storage: {storage}\n    subresources:\n      status: {{}}\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n"
        )
    };
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.constraints.gatekeeper.sh\n  labels:\n    gatekeeper.sh/constraint: \"yes\"\nspec:\n  group: constraints.gatekeeper.sh\n  names:\n    kind: {kind}\n    listKind: {kind}List\n    plural: {plural}\n    singular: {plural}\n    categories: [constraint, constraints]\n  scope: Cluster\n  versions:\n{}{}{}",
        version("v1beta1", true),
        version("v1alpha1", false),
        version("v1", false)
    )
}

fn ingress(name: &str, namespace: &str, host: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  rules:\n  - host: {host}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_object_outside_the_source_fails_a_referential_constraint() {
    let env = Env::start().await;
    // Another team's Ingress, in the cluster but in no rendered set, already holds the host.
    common::create_namespace(&env.client, "team-b").await;
    apply(
        &env,
        "ingresses",
        &ingress("storefront", "team-b", "shop.example.com"),
    )
    .await;

    env.repo.write(
        "policies/template.yaml",
        &data("uniqueingresshost-template.yaml"),
    );
    env.repo.write(
        "policies/constraint.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sUniqueIngressHost\nmetadata:\n  name: unique-ingress-host\nspec:\n  match:\n    kinds:\n      - apiGroups: [\"extensions\", \"networking.k8s.io\"]\n        kinds: [\"Ingress\"]\n",
    );
    // The rendered set alone is fine: one Ingress per host.
    env.repo.write(
        "app/ingress.yaml",
        &ingress("web", "default", "shop.example.com"),
    );
    env.repo.write(
        "app/other.yaml",
        &ingress("docs", "default", "docs.example.com"),
    );
    env.repo.commit("an ingress for shop.example.com");
    env.create_git_repository("repo", "1m").await;
    create_kustomization_with(&env, json!({"ferry.dev/policy-path": "./policies"})).await;

    let message = wait_denied(&env).await;
    assert!(message.contains("Ingress/default/web"), "{message}");
    assert!(message.contains("unique-ingress-host"), "{message}");
    assert!(
        message.contains("ingress host conflicts with an existing ingress <shop.example.com>"),
        "{message}"
    );
    assert!(!message.contains("docs"), "{message}");
    assert!(
        get_ingress(&env, "team-b", "storefront").await.is_some(),
        "the live Ingress is read where it is"
    );
    assert!(
        get_ingress(&env, "default", "docs").await.is_none(),
        "nothing applied"
    );

    // Once the live Ingress is gone the same revision applies, and re-checking the applied
    // Ingress against its own live version is no conflict.
    ingresses(&env, "team-b")
        .delete("storefront", &Default::default())
        .await
        .unwrap();
    env.wait_ready("app", "True", None, Duration::from_secs(30))
        .await;
    assert!(get_ingress(&env, "default", "web").await.is_some());
    env.stop().await;
}

fn labelled_configmap(team: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\n  labels:\n    team: {team}\ndata:\n  key: value\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_rule_sees_the_live_object_as_old_object() {
    let env = Env::start().await;
    env.repo.write(
        "policies/template.yaml",
        &data("immutablelabels-template.yaml"),
    );
    env.repo.write(
        "policies/constraint.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sImmutableLabels\nmetadata:\n  name: team-is-immutable\nspec:\n  match:\n    kinds:\n      - apiGroups: [\"\"]\n        kinds: [\"ConfigMap\"]\n  parameters:\n    labels: [\"team\"]\n",
    );
    env.repo
        .write("app/cm.yaml", &labelled_configmap("payments"));
    env.repo.commit("settings of team payments");
    env.create_git_repository("repo", "1s").await;
    create_kustomization_with(&env, json!({"ferry.dev/policy-path": "./policies"})).await;

    // No live object: a CREATE, which the rule lets through.
    env.wait_ready("app", "True", None, Duration::from_secs(30))
        .await;
    let live = env
        .get("v1", "ConfigMap", Some("default"), "settings")
        .await
        .unwrap();
    assert_eq!(live["metadata"]["labels"]["team"], "payments");

    // Now the live ConfigMap exists: an UPDATE whose oldObject carries team=payments.
    env.repo.write("app/cm.yaml", &labelled_configmap("search"));
    env.repo.commit("hand the settings to team search");
    let message = wait_denied(&env).await;
    assert!(
        message.contains("ConfigMap/default/settings violates K8sImmutableLabels/team-is-immutable (deny): label <team> is immutable: <payments> cannot become <search>"),
        "{message}"
    );
    let live = env
        .get("v1", "ConfigMap", Some("default"), "settings")
        .await
        .unwrap();
    assert_eq!(
        live["metadata"]["labels"]["team"], "payments",
        "the change was not applied"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn constraints_installed_in_the_cluster_block_the_apply() {
    let env = Env::start().await;
    env.repo.write("app/pod.yaml", &pod("nginx:latest"));
    env.repo.write(
        "app/cm.yaml",
        &common::configmap("settings", "default", "x"),
    );
    env.repo
        .commit("a pod on :latest, no policies in the source");
    env.create_git_repository("repo", "1m").await;
    create_kustomization_with(&env, json!({"ferry.dev/policy": "cluster"})).await;

    // Asking for the cluster's constraints without Gatekeeper is an error, not a pass.
    let message = wait_denied(&env).await;
    assert!(
        message.contains("does not serve templates.gatekeeper.sh/v1 ConstraintTemplate")
            && message.contains("is OPA Gatekeeper installed?"),
        "{message}"
    );
    assert!(env.get("v1", "Pod", Some("default"), "web").await.is_none());

    // Gatekeeper's ConstraintTemplate CRD, a template, the constraint CRD Gatekeeper would
    // generate from it, and a deny constraint.
    env.kubectl_apply(&data("gatekeeper-crds.yaml")).await;
    wait_established(&env, "constrainttemplates.templates.gatekeeper.sh").await;
    apply(&env, "constrainttemplates", &template()).await;
    env.kubectl_apply(&constraint_crd("K8sDisallowedTags"))
        .await;
    wait_established(&env, "k8sdisallowedtags.constraints.gatekeeper.sh").await;
    apply(&env, "k8sdisallowedtags", CONSTRAINT).await;

    let message = common::wait_for(
        "the cluster's constraint named in the Ready condition",
        Duration::from_secs(30),
        || async {
            let ks = env.kustomization("app").await;
            let ready =
                ferry_api::condition::find(&ks.status?.conditions, ferry_api::condition::READY)?
                    .clone();
            (ready.reason == "PolicyViolation" && ready.message.contains("no-latest"))
                .then_some(ready.message)
        },
    )
    .await;
    assert!(
        message.contains("Pod/default/web violates K8sDisallowedTags/no-latest (deny)"),
        "{message}"
    );
    assert!(
        env.get("v1", "ConfigMap", Some("default"), "settings")
            .await
            .is_none(),
        "nothing applied"
    );

    // The cluster's constraints are read at each check: made audit-only, it no longer blocks.
    apply(
        &env,
        "k8sdisallowedtags",
        &CONSTRAINT.replace("spec:\n", "spec:\n  enforcementAction: dryrun\n"),
    )
    .await;
    env.wait_ready("app", "True", None, Duration::from_secs(30))
        .await;
    assert!(env.get("v1", "Pod", Some("default"), "web").await.is_some());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn gatekeepers_sync_configuration_decides_which_live_objects_are_referential_data() {
    let env = Env::start().await;
    common::create_namespace(&env.client, "team-b").await;
    apply(
        &env,
        "ingresses",
        &ingress("storefront", "team-b", "shop.example.com"),
    )
    .await;
    // Gatekeeper configured to sync Namespaces only: its webhook would not see the other
    // team's Ingress, so neither does the gate.
    env.kubectl_apply(&data("gatekeeper-config-crd.yaml")).await;
    wait_established(&env, "configs.config.gatekeeper.sh").await;
    common::create_namespace(&env.client, "gatekeeper-system").await;
    apply(
        &env,
        "configs",
        "apiVersion: config.gatekeeper.sh/v1alpha1\nkind: Config\nmetadata:\n  name: config\n  namespace: gatekeeper-system\nspec:\n  sync:\n    syncOnly:\n    - group: \"\"\n      version: v1\n      kind: Namespace\n",
    )
    .await;

    env.repo.write(
        "policies/template.yaml",
        &data("uniqueingresshost-template.yaml"),
    );
    env.repo.write(
        "policies/constraint.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sUniqueIngressHost\nmetadata:\n  name: unique-ingress-host\nspec:\n  match:\n    kinds:\n      - apiGroups: [\"networking.k8s.io\"]\n        kinds: [\"Ingress\"]\n",
    );
    env.repo.write(
        "app/ingress.yaml",
        &ingress("web", "default", "shop.example.com"),
    );
    env.repo.commit("an ingress for shop.example.com");
    env.create_git_repository("repo", "1s").await;
    create_kustomization_with(&env, json!({"ferry.dev/policy-path": "./policies"})).await;
    env.wait_ready("app", "True", None, Duration::from_secs(30))
        .await;
    assert!(get_ingress(&env, "default", "web").await.is_some());

    // Once Ingresses are synced too, the same conflict blocks the next revision.
    apply(
        &env,
        "configs",
        "apiVersion: config.gatekeeper.sh/v1alpha1\nkind: Config\nmetadata:\n  name: config\n  namespace: gatekeeper-system\nspec:\n  sync:\n    syncOnly:\n    - group: \"\"\n      version: v1\n      kind: Namespace\n    - group: networking.k8s.io\n      version: v1\n      kind: Ingress\n",
    )
    .await;
    env.repo.write(
        "app/docs.yaml",
        &ingress("docs", "default", "docs.example.com"),
    );
    env.repo.commit("docs ingress");
    let message = wait_denied(&env).await;
    assert!(
        message.contains("Ingress/default/web violates K8sUniqueIngressHost/unique-ingress-host"),
        "{message}"
    );
    assert!(get_ingress(&env, "default", "docs").await.is_none());
    env.stop().await;
}
