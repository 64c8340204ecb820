//! `spec.serviceAccountName`: every request of the apply carries the impersonation headers of
//! the service account (the API server then authorizes the tenant's account, not ferry's).
//! Observed through a recording proxy in front of the embedded API server.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use common::Env;
use ferry_apiserver::ApiServer;
use ferry_test::apiserver::TestApiServer;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// Forwards TCP to `upstream`, recording the request header lines clients send.
async fn recording_proxy(upstream: std::net::SocketAddr) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let upstream_copy = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        for line in String::from_utf8_lossy(&buf[..n]).lines() {
                            if line.to_ascii_lowercase().starts_with("impersonate-") {
                                record.lock().unwrap().push(line.to_owned());
                            }
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let downstream_copy = async move {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                };
                tokio::join!(upstream_copy, downstream_copy);
            });
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_impersonate_the_service_account() {
    let server = TestApiServer::start_builder(ApiServer::builder().ephemeral().tls(false)).await;
    let (proxy_url, seen) = recording_proxy(server.server().addr()).await;
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
