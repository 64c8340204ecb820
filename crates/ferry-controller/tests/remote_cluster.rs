//! `spec.kubeConfig.secretRef`: a hub applies to a spoke cluster with the kubeconfig kept in a
//! Secret; nothing lands on the hub.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::time::Duration;

use common::{Env, dynamic_api};
use ferry_test::apiserver::TestApiServer;
use k8s_openapi::api::core::v1::Secret;
use kube::api::PostParams;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn applies_to_the_cluster_of_the_kubeconfig_secret() {
    let env = Env::start().await;
    let spoke = TestApiServer::start().await;
    let spoke_client = spoke.client().await;
    common::create_namespace(&spoke_client, "edge").await;

    env.repo.write(
        "edge/cm.yaml",
        &common::configmap("edge-settings", "edge", "spoke"),
    );
    env.repo.commit("edge config");
    env.create_git_repository("repo", "1m").await;
    let kubeconfig = std::fs::read_to_string(spoke.kubeconfig_path()).unwrap();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "spoke-kubeconfig", "namespace": "flux-system"},
        "stringData": {"value": kubeconfig},
    }))
    .unwrap();
    let secrets: kube::Api<Secret> = kube::Api::namespaced(env.client.clone(), "flux-system");
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();

    env.create_kustomization(
        "edge",
        json!({"interval": "1h", "path": "./edge", "prune": true, "kubeConfig": {"secretRef": {"name": "spoke-kubeconfig"}}}),
    )
    .await;
    env.wait_ready("edge", "True", None, Duration::from_secs(30))
        .await;
    let on_spoke = dynamic_api(&spoke_client, "v1", "ConfigMap", Some("edge"))
        .get_opt("edge-settings")
        .await
        .unwrap();
    assert!(on_spoke.is_some(), "the ConfigMap is on the spoke");
    assert!(
        env.get("v1", "ConfigMap", Some("edge"), "edge-settings")
            .await
            .is_none(),
        "and not on the hub"
    );

    // A missing kubeconfig Secret is reported by name.
    env.create_kustomization(
        "lost",
        json!({"interval": "1h", "path": "./edge", "prune": true, "kubeConfig": {"secretRef": {"name": "nope"}}}),
    )
    .await;
    let message = env
        .wait_ready(
            "lost",
            "False",
            Some("ReconciliationFailed"),
            Duration::from_secs(30),
        )
        .await;
    assert!(message.contains("flux-system/nope"), "{message}");
    env.stop().await;
}
