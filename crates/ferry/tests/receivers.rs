//! `ferry get receivers` as `flux get receivers` prints it: the Receivers of a namespace with
//! their suspension, readiness and the webhook path in the message; `ferry create receiver`
//! as `flux create receiver` writes one and prints the generated webhook path.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Env, wait_for};
use ferry_api::{Receiver, condition};
use k8s_openapi::{ByteString, api::core::v1::Secret};
use kube::{Api, api::PostParams};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn get_receivers_lists_readiness_and_the_webhook_path() {
    let env = Env::start().await;
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), "flux-system");
    let secret = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some("webhook-token".to_owned()),
            ..Default::default()
        },
        data: Some(
            [("token".to_owned(), ByteString(b"s3cret".to_vec()))]
                .into_iter()
                .collect(),
        ),
        ..Default::default()
    };
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let receivers: Api<Receiver> = Api::namespaced(env.client.clone(), "flux-system");
    for (name, secret) in [("github", "webhook-token"), ("broken", "missing")] {
        let receiver: Receiver = serde_json::from_value(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1",
            "kind": "Receiver",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {
                "type": "github", "secretRef": {"name": secret},
                "resources": [{"kind": "GitRepository", "name": "repo"}],
            },
        }))
        .unwrap();
        receivers
            .create(&PostParams::default(), &receiver)
            .await
            .unwrap();
    }
    for name in ["github", "broken"] {
        wait_for(
            &format!("{name} reconciled"),
            Duration::from_secs(30),
            || {
                let receivers = receivers.clone();
                async move {
                    let r = receivers.get(name).await.ok()?;
                    condition::find(&r.status?.conditions, condition::READY).map(|_| ())
                }
            },
        )
        .await;
    }

    let out = env
        .ferry(&["get", "receivers", "-n", "flux-system"])
        .await
        .expect_code(0);
    let lines: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "SUSPENDED", "READY", "MESSAGE"]);
    let row = |name: &str| {
        lines
            .iter()
            .find(|cells| cells.first() == Some(&name))
            .unwrap_or_else(|| panic!("no row for {name} in:\n{}", out.stdout))
            .clone()
    };
    assert_eq!(row("github")[..3], ["github", "False", "True"]);
    assert!(
        out.stdout.contains("Receiver initialized for path: /hook/"),
        "{}",
        out.stdout
    );
    assert_eq!(row("broken")[..3], ["broken", "False", "False"]);
    assert!(
        out.stdout.contains("'flux-system/missing'"),
        "{}",
        out.stdout
    );
    env.stop().await;
}
