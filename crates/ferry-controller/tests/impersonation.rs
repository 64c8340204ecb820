//! `spec.serviceAccountName`: every request of the apply carries the impersonation headers of
//! the service account (the API server then authorizes the tenant's account, not ferry's).
//! Observed through a recording proxy in front of the embedded API server.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::time::Duration;

use common::Env;
use ferry_apiserver::ApiServer;
use ferry_test::apiserver::TestApiServer;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn applies_impersonate_the_service_account() {
    let server = TestApiServer::start_builder(ApiServer::builder().ephemeral().tls(false)).await;
    let (proxy_url, seen) = common::recording_proxy(server.server().addr(), |line| {
        line.to_ascii_lowercase().starts_with("impersonate-")
    })
    .await;
    let mut kube_config = common::kube_config(&server).await;
    kube_config.cluster_url = proxy_url.parse().unwrap();
    let env = Env::start_on(server, kube_config, |_| {}).await;

    env.repo.write(
        "app/cm.yaml",
        &common::configmap("tenant-config", "flux-system", "x"),
    );
    env.repo.commit("tenant app");
    env.create_git_repository("repo", "1m").await;
    env.create_kustomization(
        "tenant",
        json!({"interval": "1h", "path": "./app", "prune": true, "serviceAccountName": "deployer"}),
    )
    .await;
    env.wait_ready("tenant", "True", None, Duration::from_secs(30))
        .await;
    assert!(
        env.get("v1", "ConfigMap", Some("flux-system"), "tenant-config")
            .await
            .is_some()
    );

    let headers = seen.lock().unwrap().clone();
    let user = "impersonate-user: system:serviceaccount:flux-system:deployer";
    assert!(
        headers.iter().any(|h| h.to_ascii_lowercase() == user),
        "{headers:?}"
    );
    assert!(
        headers.iter().any(
            |h| h.eq_ignore_ascii_case("impersonate-group: system:serviceaccounts:flux-system")
        ),
        "{headers:?}"
    );
    env.stop().await;
}
