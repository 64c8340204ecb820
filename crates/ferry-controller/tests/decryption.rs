//! SOPS decryption in the loop: a Secret encrypted with age stays encrypted in Git and reaches
//! the cluster decrypted, as do the SOPS files kustomize secret generators read; a file that
//! cannot be decrypted fails the reconcile naming the file, with nothing applied; the plaintext
//! never shows in logs, events, status or the files the controller writes.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
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
/// Another published test identity (sops' age unit tests): it opens none of these files.
const OTHER_AGE_KEY: &str =
    "AGE-SECRET-KEY-1432K5YRNSC44GC4986NXMX6GVZ52WTMT9C79CLUVWYY4DKDHD5JSNDP4MC\n";

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

/// The debug logs of every test in this binary (one global subscriber, installed once).
fn captured_logs() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        logs
    })
    .clone()
}

fn encrypted_secret() -> String {
    encrypted_secret_named("db")
}

fn encrypted_secret_named(name: &str) -> String {
    let plain = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: flux-system\nstringData:\n  password: {PLAINTEXT}\n"
    );
    String::from_utf8(encrypt(
        plain.as_bytes(),
        Format::Yaml,
        Some("^(data|stringData)$"),
    ))
    .expect("YAML")
}

/// `plain` encrypted with sops for the published test recipient.
fn encrypt(plain: &[u8], format: Format, encrypted_regex: Option<&str>) -> Vec<u8> {
    let options = EncryptOptions {
        age_recipients: vec![AGE_RECIPIENT.to_owned()],
        encrypted_regex: encrypted_regex.map(str::to_owned),
        ..Default::default()
    };
    ferry_sops::encrypt(plain, format, &options).expect("sops encryption")
}

async fn create_age_secret(env: &Env, name: &str, key: &str) {
    let keys: Secret = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "flux-system"},
        "stringData": {"identity.agekey": key},
    }))
    .unwrap();
    let secrets: kube::Api<Secret> = kube::Api::namespaced(env.client.clone(), "flux-system");
    secrets.create(&PostParams::default(), &keys).await.unwrap();
}

/// The value of `key` in a Secret (data decoded, or stringData).
fn secret_value(secret: &Secret, key: &str) -> Option<String> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|v| String::from_utf8(v.0.clone()).unwrap())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key).cloned())
        })
}

/// Every regular file under `dir`.
fn collect_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect_files(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// No event, status, log line or file written by the controller shows the plaintext (or its
/// base64).
async fn assert_nothing_leaks(env: &Env, kustomizations: &[&str], logs: &Captured) {
    let events: kube::Api<Event> = kube::Api::namespaced(env.client.clone(), "flux-system");
    // Events are posted after the reconcile that queued them: wait for one of each object.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = events.list(&ListParams::default()).await.unwrap();
        let about = |name: &str| {
            events
                .items
                .iter()
                .any(|e| e.involved_object.name.as_deref() == Some(name))
        };
        if kustomizations.iter().all(|ks| about(ks)) {
            break events;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no event of each of {kustomizations:?} after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(PLAINTEXT);
    for event in &events.items {
        let text = serde_json::to_string(event).unwrap();
        assert!(
            !text.contains(PLAINTEXT) && !text.contains(&b64),
            "event leaks the secret: {text}"
        );
    }
    for ks in kustomizations {
        let status = serde_json::to_string(&env.kustomization(ks).await.status).unwrap();
        assert!(
            !status.contains(PLAINTEXT) && !status.contains(&b64),
            "status of {ks} leaks the secret"
        );
    }
    // Nor any file the controller wrote: the checkout, the artifact cache and storage (the
    // Git repository beside them holds only the encrypted files).
    let mut files = Vec::new();
    collect_files(env.dir.path(), &mut files);
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(env.dir.path().join("artifacts"))
                || f.starts_with(env.dir.path().join("storage"))),
        "the controller wrote artifacts under the test directory: {files:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(PLAINTEXT) && !text.contains(&b64),
            "{} holds the decrypted secret",
            file.display()
        );
    }
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.len() > 1000, "debug logs were captured");
    assert!(
        !logs.contains(PLAINTEXT) && !logs.contains(&b64),
        "logs leak the secret"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn encrypted_secret_is_applied_decrypted_and_never_logged() {
    let logs = captured_logs();

    let env = Env::start().await;
    let secret_yaml = encrypted_secret();
    assert!(
        !secret_yaml.contains(PLAINTEXT),
        "the file in Git is encrypted"
    );
    env.repo.write("secrets/db.yaml", &secret_yaml);
    env.repo.commit("an encrypted secret");
    env.create_git_repository("repo", "1m").await;

    create_age_secret(&env, "sops-age", AGE_KEY).await;
    let secrets: kube::Api<Secret> = kube::Api::namespaced(env.client.clone(), "flux-system");

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
    assert_eq!(secret_value(&db, "password").as_deref(), Some(PLAINTEXT));

    // A decryption Secret that does not exist fails the reconcile naming it.
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

    assert_nothing_leaks(&env, &["plain", "secrets", "wrong-key"], &logs).await;
    env.stop().await;
}

/// As in Flux: the files a kustomize secretGenerator reads (`envs` as dotenv, `files` in the
/// format their extension names, binary otherwise) are decrypted before the Secret is
/// generated; a file the keys cannot open fails the reconcile naming the file, and nothing of
/// that Kustomization is applied.
#[tokio::test(flavor = "multi_thread")]
async fn generator_files_are_decrypted_and_an_undecryptable_file_applies_nothing() {
    let logs = captured_logs();
    let env = Env::start().await;
    let env_file = encrypt(
        format!("PASSWORD={PLAINTEXT}\nUSER=app\n").as_bytes(),
        Format::Dotenv,
        None,
    );
    let token_file = encrypt(PLAINTEXT.as_bytes(), Format::Binary, None);
    let json_file = encrypt(
        format!("{{\"password\": \"{PLAINTEXT}\"}}").as_bytes(),
        Format::Json,
        None,
    );
    for encrypted in [&env_file, &token_file, &json_file] {
        assert!(
            !String::from_utf8_lossy(encrypted).contains(PLAINTEXT),
            "the files in Git are encrypted"
        );
    }
    env.repo.write(
        "gen/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: flux-system\n\
         generatorOptions:\n  disableNameSuffixHash: true\nsecretGenerator:\n\
         - name: app-env\n  envs:\n  - app.env\n\
         - name: app-files\n  files:\n  - token.txt\n  - config.json\n",
    );
    env.repo
        .write("gen/app.env", &String::from_utf8(env_file).unwrap());
    env.repo
        .write("gen/token.txt", &String::from_utf8(token_file).unwrap());
    env.repo
        .write("gen/config.json", &String::from_utf8(json_file).unwrap());
    env.repo.write(
        "broken/settings.yaml",
        &common::configmap("broken-settings", "flux-system", "x"),
    );
    env.repo
        .write("broken/db.yaml", &encrypted_secret_named("broken-db"));
    env.repo.commit("generated secrets from encrypted files");
    env.create_git_repository("repo", "1m").await;
    create_age_secret(&env, "sops-age", AGE_KEY).await;
    create_age_secret(&env, "sops-other", OTHER_AGE_KEY).await;

    env.create_kustomization(
        "gen",
        json!({"interval": "1h", "path": "./gen", "prune": true,
               "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}}}),
    )
    .await;
    env.wait_ready("gen", "True", None, Duration::from_secs(30))
        .await;
    let secrets: kube::Api<Secret> = kube::Api::namespaced(env.client.clone(), "flux-system");
    let from_env = secrets.get("app-env").await.unwrap();
    assert_eq!(
        secret_value(&from_env, "PASSWORD").as_deref(),
        Some(PLAINTEXT)
    );
    assert_eq!(secret_value(&from_env, "USER").as_deref(), Some("app"));
    let from_files = secrets.get("app-files").await.unwrap();
    assert_eq!(
        secret_value(&from_files, "token.txt").as_deref(),
        Some(PLAINTEXT)
    );
    // sops writes JSON with its own indentation.
    let config: serde_json::Value =
        serde_json::from_str(&secret_value(&from_files, "config.json").unwrap()).unwrap();
    assert_eq!(config, json!({"password": PLAINTEXT}));

    // The wrong key: the reconcile fails naming the file; neither the Secret nor the
    // ConfigMap beside it is applied.
    env.create_kustomization(
        "broken",
        json!({"interval": "1h", "path": "./broken", "prune": true,
               "decryption": {"provider": "sops", "secretRef": {"name": "sops-other"}}}),
    )
    .await;
    let message = env
        .wait_ready(
            "broken",
            "False",
            Some("BuildFailed"),
            Duration::from_secs(30),
        )
        .await;
    assert!(
        message.contains("broken/db.yaml") && message.contains("cannot recover the data key"),
        "{message}"
    );
    assert!(!message.contains(PLAINTEXT), "{message}");
    assert!(
        env.get("v1", "ConfigMap", Some("flux-system"), "broken-settings")
            .await
            .is_none(),
        "nothing of the Kustomization is applied"
    );
    assert!(secrets.get_opt("broken-db").await.unwrap().is_none());
    assert!(
        env.kustomization("broken")
            .await
            .status
            .and_then(|s| s.inventory)
            .is_none_or(|i| i.entries.is_empty()),
        "no inventory recorded"
    );

    assert_nothing_leaks(&env, &["gen", "broken"], &logs).await;
    env.stop().await;
}
