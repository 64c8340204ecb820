//! SOPS decryption in the loop: a Secret encrypted with age stays encrypted in Git and reaches
//! the cluster decrypted; the plaintext never shows in logs, events or status.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::Engine;
use common::Env;
use ferry_sops::{EncryptOptions, Format};
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{ListParams, PostParams};
use serde_json::json;

/// The published test key of Flux's and sops' test suites (not a secret).
const AGE_KEY: &str =
    "AGE-SECRET-KEY-1RH87A5Z54ZGUR9S0AS3R6WHFSEFNPLYMAKF5Z2CEU7R06VRJ0A3Q7242AM\n";
const AGE_RECIPIENT: &str = "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29";
const PLAINTEXT: &str = "s3cr3t-plaintext-value";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn encrypted_secret() -> String {
    let plain = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: flux-system\nstringData:\n  password: {PLAINTEXT}\n"
    );
    let options = EncryptOptions {
        age_recipients: vec![AGE_RECIPIENT.to_owned()],
        encrypted_regex: Some("^(data|stringData)$".to_owned()),
        ..Default::default()
    };
    let out =
        ferry_sops::encrypt(plain.as_bytes(), Format::Yaml, &options).expect("sops encryption");
    String::from_utf8(out).expect("YAML")
}

#[tokio::test(flavor = "multi_thread")]
async fn encrypted_secret_is_applied_decrypted_and_never_logged() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let env = Env::start().await;
    let secret_yaml = encrypted_secret();
    assert!(
        !secret_yaml.contains(PLAINTEXT),
        "the file in Git is encrypted"
    );
    env.repo.write("secrets/db.yaml", &secret_yaml);
    env.repo.commit("an encrypted secret");
    env.create_git_repository("repo", "1m").await;

    let keys: Secret = serde_json::from_value(json!({
        "metadata": {"name": "sops-age", "namespace": "flux-system"},
        "stringData": {"identity.agekey": AGE_KEY},
    }))
    .unwrap();
    let secrets: kube::Api<Secret> = kube::Api::namespaced(env.client.clone(), "flux-system");
    secrets.create(&PostParams::default(), &keys).await.unwrap();

    // Without decryption settings, the encrypted Secret is refused and nothing is applied.
    env.create_kustomization(
        "plain",
        json!({"interval": "1h", "path": "./secrets", "prune": true}),
    )
    .await;
    let message = env
        .wait_ready(
            "plain",
            "False",
            Some("BuildFailed"),
            Duration::from_secs(30),
        )
        .await;
    assert!(
        message.contains("Secret/flux-system/db") && message.contains("SOPS"),
        "{message}"
    );
    assert!(secrets.get_opt("db").await.unwrap().is_none());

    // With them, it is applied decrypted.
    env.create_kustomization(
        "secrets",
        json!({"interval": "1h", "path": "./secrets", "prune": true,
               "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}}}),
    )
    .await;
    env.wait_ready("secrets", "True", None, Duration::from_secs(30))
        .await;
    let db = secrets.get("db").await.unwrap();
    let value = db
        .data
        .as_ref()
        .and_then(|d| d.get("password"))
        .map(|v| String::from_utf8(v.0.clone()).unwrap())
        .or_else(|| {
            db.string_data
                .as_ref()
                .and_then(|d| d.get("password").cloned())
        });
    assert_eq!(value.as_deref(), Some(PLAINTEXT));

    // A key that cannot decrypt fails the reconcile naming the file, not the value.
    env.create_kustomization(
        "wrong-key",
        json!({"interval": "1h", "path": "./secrets", "prune": false,
               "decryption": {"provider": "sops", "secretRef": {"name": "missing"}}}),
    )
    .await;
    let message = env
        .wait_ready(
            "wrong-key",
            "False",
            Some("BuildFailed"),
            Duration::from_secs(30),
        )
        .await;
    assert!(message.contains("missing"), "{message}");

    let events: kube::Api<Event> = kube::Api::namespaced(env.client.clone(), "flux-system");
    let events = events.list(&ListParams::default()).await.unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(PLAINTEXT);
    for event in &events.items {
        let text = serde_json::to_string(event).unwrap();
        assert!(
            !text.contains(PLAINTEXT) && !text.contains(&b64),
            "event leaks the secret: {text}"
        );
    }
    for ks in ["plain", "secrets", "wrong-key"] {
        let status = serde_json::to_string(&env.kustomization(ks).await.status).unwrap();
        assert!(
            !status.contains(PLAINTEXT),
            "status of {ks} leaks the secret"
        );
    }
    env.stop().await;
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.len() > 1000, "debug logs were captured");
    assert!(
        !logs.contains(PLAINTEXT) && !logs.contains(&b64),
        "logs leak the secret"
    );
}
