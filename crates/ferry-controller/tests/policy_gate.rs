//! The opt-in policy gate: Gatekeeper policies kept in the source are checked on the rendered
//! objects before anything is applied: `deny` stops the apply, `warn` and `dryrun` only report.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::{path::Path, time::Duration};

use common::Env;
use k8s_openapi::api::core::v1::Event;
use kube::api::ListParams;
use serde_json::json;

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

fn template() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/policies/disallowedtags-template.yaml"),
    )
    .unwrap()
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

    let message = env
        .wait_ready(
            "app",
            "False",
            Some("PolicyViolation"),
            Duration::from_secs(30),
        )
        .await;
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
