#![allow(clippy::unwrap_used)]
//! The real Helm SDK (Helm 4: server-side apply, a watcher for --wait) installs, upgrades, rolls
//! back and uninstalls a chart against the embedded API server.

use std::{path::PathBuf, process::Command};

use ferry_test::apiserver::TestApiServer;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::Secret};
use kube::{Api, api::ListParams};
use serde_json::Value;

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

fn helm(server: &TestApiServer, args: &[&str]) -> Value {
    let out = Command::new(data("helm-oracle/helm-cluster"))
        .args(args)
        .arg("--kubeconfig")
        .arg(server.kubeconfig_path())
        .output()
        .expect("the helm-cluster oracle runs (python3 and PyPI access for its first download)");
    assert!(
        out.status.success(),
        "helm {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_installs_upgrades_rolls_back_and_uninstalls() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let chart = data("charts/podinfo");
    let chart = chart.to_str().unwrap();
    let values = server.dir().join("values-v2.yaml");
    std::fs::write(&values, "replicaCount: 2\n").unwrap();
    let values = values.to_str().unwrap().to_owned();

    let installed = tokio::task::block_in_place(|| {
        helm(
            &server,
            &[
                "install",
                "demo",
                chart,
                "--namespace",
                "apps",
                "--create-namespace",
                "--wait",
                "watcher",
                "--timeout",
                "60",
            ],
        )
    });
    assert_eq!(
        (installed["status"].as_str(), installed["revision"].as_i64()),
        (Some("deployed"), Some(1))
    );
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "apps");
    let d = deploys.get("demo-podinfo").await.unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(1));
    assert_eq!(
        d.status.unwrap().available_replicas,
        Some(1),
        "helm waited for the simulated rollout"
    );
    // Helm 4 applies server-side: an Apply entry owns the fields it rendered.
    let entries = deploys
        .get("demo-podinfo")
        .await
        .unwrap()
        .metadata
        .managed_fields
        .unwrap();
    assert!(
        entries
            .iter()
            .any(|m| m.operation.as_deref() == Some("Apply")),
        "{entries:?}"
    );

    let upgraded = tokio::task::block_in_place(|| {
        helm(
            &server,
            &[
                "upgrade",
                "demo",
                chart,
                "--namespace",
                "apps",
                "--values",
                &values,
                "--wait",
                "watcher",
                "--timeout",
                "60",
            ],
        )
    });
    assert_eq!(upgraded["revision"].as_i64(), Some(2));
    assert_eq!(
        deploys
            .get("demo-podinfo")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas,
        Some(2)
    );

    tokio::task::block_in_place(|| helm(&server, &["rollback", "demo", "--namespace", "apps"]));
    assert_eq!(
        deploys
            .get("demo-podinfo")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas,
        Some(1)
    );
    let history =
        tokio::task::block_in_place(|| helm(&server, &["history", "demo", "--namespace", "apps"]));
    let revisions: Vec<(i64, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        revisions,
        [
            (1, "superseded".into()),
            (2, "superseded".into()),
            (3, "deployed".into())
        ]
    );
    // Release records are Secrets Helm wrote through client-go's protobuf clientset.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "apps");
    let releases = secrets
        .list(&ListParams::default().labels("owner=helm,name=demo"))
        .await
        .unwrap();
    assert_eq!(releases.items.len(), 3);

    tokio::task::block_in_place(|| helm(&server, &["uninstall", "demo", "--namespace", "apps"]));
    assert!(deploys.get_opt("demo-podinfo").await.unwrap().is_none());
    let releases = secrets
        .list(&ListParams::default().labels("owner=helm,name=demo"))
        .await
        .unwrap();
    assert!(releases.items.is_empty());
}
