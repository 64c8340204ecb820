//! The webhook Receiver end to end on the embedded API server, with the webhook server on a
//! loopback port: a signed GitHub push makes a GitRepository with a one-hour interval fetch,
//! and its Kustomization apply, within seconds; forged, unknown and unhandled requests change
//! nothing; generic-hmac, gitlab, wildcard references, CEL filters, missing tokens and
//! cross-namespace refusals behave as notification-controller's.

mod common;

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use common::{Env, wait_for};
use ferry_api::{GitRepository, Receiver, condition};
use ferry_controller::receiver::ReceiverConfig;
use hmac::{Hmac, Mac};
use k8s_openapi::{ByteString, api::core::v1::Secret};
use kube::{
    Api,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const WAIT: Duration = Duration::from_secs(30);
const NS: &str = "flux-system";
const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";

/// Starts the controllers with the webhook server on a free loopback port.
async fn start(no_cross_namespace_refs: bool) -> (Env, SocketAddr) {
    let bound: Arc<OnceLock<SocketAddr>> = Arc::default();
    let config = ReceiverConfig {
        bind: Some("127.0.0.1:0".parse().expect("an address")),
        bound: bound.clone(),
    };
    let env = Env::start_with(move |c| {
        c.receiver = config;
        c.no_cross_namespace_refs = no_cross_namespace_refs;
    })
    .await;
    let addr = wait_for("the webhook server listens", WAIT, || {
        let bound = bound.clone();
        async move { bound.get().copied() }
    })
    .await;
    (env, addr)
}

async fn create_secret(env: &Env, name: &str, token: &str) {
    let api: Api<Secret> = Api::namespaced(env.client.clone(), NS);
    let secret = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        data: Some(
            [("token".to_owned(), ByteString(token.as_bytes().to_vec()))]
                .into_iter()
                .collect(),
        ),
        ..Default::default()
    };
    api.create(&PostParams::default(), &secret)
        .await
        .expect("Secret created");
}

async fn create_receiver(env: &Env, name: &str, spec: Value) {
    let receiver: Receiver = serde_json::from_value(json!({
        "apiVersion": "notification.toolkit.fluxcd.io/v1",
        "kind": "Receiver",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }))
    .expect("a valid Receiver");
    let api: Api<Receiver> = Api::namespaced(env.client.clone(), NS);
    api.create(&PostParams::default(), &receiver)
        .await
        .expect("Receiver created");
}

/// Waits for the Receiver's Ready condition to have `status` and `reason`; returns it.
async fn wait_receiver(env: &Env, name: &str, status: &str, reason: &str) -> Receiver {
    let api: Api<Receiver> = Api::namespaced(env.client.clone(), NS);
    wait_for(
        &format!("Receiver {name} Ready={status} {reason}"),
        WAIT,
        || {
            let api = api.clone();
            async move {
                let r = api.get(name).await.ok()?;
                let ready = condition::find(&r.status.as_ref()?.conditions, condition::READY)?;
                (ready.status.as_str() == status && ready.reason == reason).then_some(r)
            }
        },
    )
    .await
}

/// The webhook path computed here from Flux's documented formula.
fn expected_path(token: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{token}{name}{NS}").as_bytes());
    format!("/hook/{}", hex::encode(digest))
}

fn sign_sha256(token: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    let mut request = reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .body(body.to_vec());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request
        .send()
        .await
        .expect("the webhook server answers")
        .status()
        .as_u16()
}

async fn requested_at(env: &Env, name: &str) -> Option<String> {
    let api: Api<GitRepository> = Api::namespaced(env.client.clone(), NS);
    api.get(name)
        .await
        .expect("the GitRepository exists")
        .metadata
        .annotations
        .and_then(|a| a.get(REQUESTED_AT).cloned())
}

async fn create_repo(env: &Env, name: &str, labels: Value) {
    env.create_git_repository(name, "1h").await;
    let api: Api<GitRepository> = Api::namespaced(env.client.clone(), NS);
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": labels}})),
    )
    .await
    .expect("labels set");
}

fn push_payload() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "ref": "refs/heads/main",
        "repository": {"name": "repo", "full_name": "org/repo"},
        "head_commit": {"id": "0000000000000000000000000000000000000000"},
    }))
    .expect("serialisable")
}

/// The whole point: a push reaches the cluster in seconds, not at the next poll (1h here).
#[tokio::test]
async fn a_signed_github_push_applies_the_new_commit_at_once() {
    let (env, addr) = start(false).await;
    env.repo
        .write("deploy/cm.yaml", &common::configmap("web", "default", "1"));
    env.repo.commit("first");
    env.create_git_repository("repo", "1h").await;
    env.create_kustomization(
        "apps",
        json!({"interval": "1h", "path": "./deploy", "prune": true}),
    )
    .await;
    env.wait_ready("apps", "True", None, WAIT).await;

    let token = "github-s3cret";
    create_secret(&env, "github-token", token).await;
    create_receiver(
        &env,
        "github",
        json!({
            "type": "github",
            "events": ["push"],
            "secretRef": {"name": "github-token"},
            "resources": [{"kind": "GitRepository", "name": "repo"}],
        }),
    )
    .await;
    let receiver = wait_receiver(&env, "github", "True", "Succeeded").await;
    let path = expected_path(token, "github");
    let status = receiver.status.expect("status");
    assert_eq!(status.webhook_path.as_deref(), Some(path.as_str()));
    assert_eq!(status.observed_generation, receiver.metadata.generation);
    let ready = condition::find(&status.conditions, condition::READY).expect("Ready");
    assert_eq!(
        ready.message,
        format!("Receiver initialized for path: {path}")
    );

    env.repo
        .write("deploy/cm.yaml", &common::configmap("web", "default", "2"));
    let second = env.repo.commit("second");
    let body = push_payload();
    let signature = sign_sha256(token, &body);
    let pushed = Instant::now();
    let code = post(
        addr,
        &path,
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", &signature),
            ("Content-Type", "application/json"),
        ],
        &body,
    )
    .await;
    assert_eq!(code, 200);
    assert!(requested_at(&env, "repo").await.is_some());

    let api: Api<ferry_api::Kustomization> = Api::namespaced(env.client.clone(), NS);
    wait_for("the new commit applied", Duration::from_secs(20), || {
        let api = api.clone();
        let second = second.clone();
        async move {
            let ks = api.get("apps").await.ok()?;
            let applied = ks.status?.last_applied_revision?;
            (applied == format!("main@sha1:{second}")).then_some(())
        }
    })
    .await;
    let latency = pushed.elapsed();
    let cm = env
        .get("v1", "ConfigMap", Some("default"), "web")
        .await
        .expect("the ConfigMap exists");
    assert_eq!(cm["data"]["key"], json!("2"));
    // Far below the one-hour interval; generous for a loaded 2-core machine.
    assert!(
        latency < Duration::from_secs(20),
        "applied after {latency:?}"
    );
    env.stop().await;
}

#[tokio::test]
async fn forged_unknown_and_unhandled_requests_change_nothing() {
    let (env, addr) = start(false).await;
    env.repo
        .write("deploy/cm.yaml", &common::configmap("web", "default", "1"));
    env.repo.commit("first");
    create_repo(&env, "repo", json!({})).await;
    create_repo(&env, "labelled-a", json!({"team": "a"})).await;
    create_repo(&env, "labelled-b", json!({"team": "b"})).await;
    create_repo(&env, "other", json!({})).await;

    let token = "t0ken";
    create_secret(&env, "token", token).await;
    create_receiver(
        &env,
        "github",
        json!({
            "type": "github", "events": ["push"], "secretRef": {"name": "token"},
            "resources": [{"kind": "GitRepository", "name": "repo"}],
        }),
    )
    .await;
    let path = expected_path(token, "github");
    wait_receiver(&env, "github", "True", "Succeeded").await;
    let body = push_payload();

    // A wrong signature: 400 as Flux answers, nothing annotated.
    let forged = sign_sha256("not-the-token", &body);
    let headers = [
        ("X-GitHub-Event", "push"),
        ("X-Hub-Signature-256", forged.as_str()),
    ];
    assert_eq!(post(addr, &path, &headers, &body).await, 400);
    // No signature at all.
    assert_eq!(
        post(addr, &path, &[("X-GitHub-Event", "push")], &body).await,
        400
    );
    // An authentic event the Receiver does not handle: refused (400), as Flux does.
    let signature = sign_sha256(token, &body);
    let issues = [
        ("X-GitHub-Event", "issues"),
        ("X-Hub-Signature-256", signature.as_str()),
    ];
    assert_eq!(post(addr, &path, &issues, &body).await, 400);
    // GitHub's ping when the webhook is created: 200, nothing to reconcile.
    let ping = [
        ("X-GitHub-Event", "ping"),
        ("X-Hub-Signature-256", signature.as_str()),
    ];
    assert_eq!(post(addr, &path, &ping, &body).await, 200);
    // An unknown path.
    let unknown = expected_path("other-token", "github");
    let push = [
        ("X-GitHub-Event", "push"),
        ("X-Hub-Signature-256", signature.as_str()),
    ];
    assert_eq!(post(addr, &unknown, &push, &body).await, 404);
    assert_eq!(requested_at(&env, "repo").await, None);

    // generic-hmac: X-Signature over the body.
    create_receiver(
        &env,
        "hmac",
        json!({
            "type": "generic-hmac", "secretRef": {"name": "token"},
            "resources": [{"kind": "GitRepository", "name": "other"}],
        }),
    )
    .await;
    wait_receiver(&env, "hmac", "True", "Succeeded").await;
    let hmac_path = expected_path(token, "hmac");
    let bad = sign_sha256("wrong", b"{}");
    assert_eq!(
        post(addr, &hmac_path, &[("X-Signature", &bad)], b"{}").await,
        400
    );
    assert_eq!(requested_at(&env, "other").await, None);
    let good = sign_sha256(token, b"{}");
    assert_eq!(
        post(addr, &hmac_path, &[("X-Signature", &good)], b"{}").await,
        200
    );
    assert!(requested_at(&env, "other").await.is_some());

    // gitlab: the token in X-Gitlab-Token, events filtered; a wildcard reference with labels.
    create_receiver(
        &env,
        "gitlab",
        json!({
            "type": "gitlab", "events": ["Push Hook"], "secretRef": {"name": "token"},
            "resources": [{"kind": "GitRepository", "name": "*", "matchLabels": {"team": "a"}}],
        }),
    )
    .await;
    wait_receiver(&env, "gitlab", "True", "Succeeded").await;
    let gitlab_path = expected_path(token, "gitlab");
    let wrong = [("X-Gitlab-Token", "t0ke"), ("X-Gitlab-Event", "Push Hook")];
    assert_eq!(post(addr, &gitlab_path, &wrong, b"{}").await, 400);
    let tag = [
        ("X-Gitlab-Token", token),
        ("X-Gitlab-Event", "Tag Push Hook"),
    ];
    assert_eq!(post(addr, &gitlab_path, &tag, b"{}").await, 400);
    assert_eq!(requested_at(&env, "labelled-a").await, None);
    let right = [("X-Gitlab-Token", token), ("X-Gitlab-Event", "Push Hook")];
    assert_eq!(post(addr, &gitlab_path, &right, b"{}").await, 200);
    assert!(requested_at(&env, "labelled-a").await.is_some());
    assert_eq!(requested_at(&env, "labelled-b").await, None);
    assert_eq!(
        requested_at(&env, "repo").await,
        None,
        "the GitHub one untouched"
    );

    // A CEL filter over the request: only the object it names.
    create_receiver(
        &env,
        "filtered",
        json!({
            "type": "generic", "secretRef": {"name": "token"},
            "resourceFilter": "res.metadata.name == req.target",
            "resources": [{"kind": "GitRepository", "name": "*", "matchLabels": {"team": "b"}},
                          {"kind": "GitRepository", "name": "repo"}],
        }),
    )
    .await;
    wait_receiver(&env, "filtered", "True", "Succeeded").await;
    let filtered_path = expected_path(token, "filtered");
    let json_type = [("Content-Type", "application/json")];
    assert_eq!(
        post(
            addr,
            &filtered_path,
            &json_type,
            br#"{"target": "labelled-b"}"#
        )
        .await,
        200
    );
    assert!(requested_at(&env, "labelled-b").await.is_some());
    assert_eq!(requested_at(&env, "repo").await, None);

    // An expression that does not parse: Stalled, no path, requests find nothing.
    create_receiver(
        &env,
        "bad-cel",
        json!({
            "type": "generic", "secretRef": {"name": "token"},
            "resourceFilter": "res.metadata.name ==",
            "resources": [{"kind": "GitRepository", "name": "repo"}],
        }),
    )
    .await;
    let stalled = wait_receiver(&env, "bad-cel", "False", "InvalidCELExpression").await;
    let status = stalled.status.expect("status");
    assert!(condition::is_true(&status.conditions, condition::STALLED));
    assert_eq!(status.webhook_path, None);
    assert_eq!(
        post(addr, &expected_path(token, "bad-cel"), &[], b"{}").await,
        404
    );

    // A type ferry does not implement: named in a 501, never accepted unchecked.
    create_receiver(
        &env,
        "gcr",
        json!({
            "type": "gcr", "secretRef": {"name": "token"},
            "resources": [{"kind": "GitRepository", "name": "repo"}],
        }),
    )
    .await;
    wait_receiver(&env, "gcr", "True", "Succeeded").await;
    assert_eq!(
        post(addr, &expected_path(token, "gcr"), &[], b"{}").await,
        501
    );
    assert_eq!(requested_at(&env, "repo").await, None);
    env.stop().await;
}

#[tokio::test]
async fn a_missing_token_is_reported_and_cross_namespace_refs_can_be_refused() {
    let (env, addr) = start(true).await;
    env.repo
        .write("deploy/cm.yaml", &common::configmap("web", "default", "1"));
    env.repo.commit("first");
    create_repo(&env, "repo", json!({})).await;

    create_receiver(
        &env,
        "early",
        json!({
            "type": "generic", "secretRef": {"name": "later"},
            "resources": [{"kind": "GitRepository", "name": "repo"}],
        }),
    )
    .await;
    let waiting = wait_receiver(&env, "early", "False", "TokenNotFound").await;
    let status = waiting.status.expect("status");
    let ready = condition::find(&status.conditions, condition::READY).expect("Ready");
    assert!(ready.message.contains("later"), "{}", ready.message);
    assert_eq!(status.webhook_path, None);

    // The Secret without the key is no better.
    let api: Api<Secret> = Api::namespaced(env.client.clone(), NS);
    let empty = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some("later".to_owned()),
            ..Default::default()
        },
        data: Some(
            [("password".to_owned(), ByteString(b"x".to_vec()))]
                .into_iter()
                .collect(),
        ),
        ..Default::default()
    };
    api.create(&PostParams::default(), &empty)
        .await
        .expect("Secret created");
    let api_r: Api<Receiver> = Api::namespaced(env.client.clone(), NS);
    wait_for("the missing key reported", WAIT, || {
        let api_r = api_r.clone();
        async move {
            let r = api_r.get("early").await.ok()?;
            let ready = condition::find(&r.status?.conditions, condition::READY)?.clone();
            ready.message.contains("'token'").then_some(())
        }
    })
    .await;
    // With the token, retried with backoff: Ready and served.
    api.patch(
        "later",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"token": "czNjcmV0"}})),
    )
    .await
    .expect("token added");
    wait_receiver(&env, "early", "True", "Succeeded").await;
    assert_eq!(
        post(addr, &expected_path("s3cret", "early"), &[], b"{}").await,
        200
    );
    assert!(requested_at(&env, "repo").await.is_some());

    // --no-cross-namespace-refs: a reference into another namespace is refused (500, as
    // Flux answers an object it could not notify), the object is left alone.
    common::create_namespace(&env.client, "apps").await;
    let elsewhere: GitRepository = serde_json::from_value(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "repo", "namespace": "apps"},
        "spec": {"url": env.repo.url(), "interval": "1h", "ref": {"branch": "main"}},
    }))
    .expect("a valid GitRepository");
    Api::<GitRepository>::namespaced(env.client.clone(), "apps")
        .create(&PostParams::default(), &elsewhere)
        .await
        .expect("GitRepository created");
    create_receiver(
        &env,
        "cross",
        json!({
            "type": "generic", "secretRef": {"name": "later"},
            "resources": [{"kind": "GitRepository", "name": "repo", "namespace": "apps"}],
        }),
    )
    .await;
    wait_receiver(&env, "cross", "True", "Succeeded").await;
    assert_eq!(
        post(addr, &expected_path("s3cret", "cross"), &[], b"{}").await,
        500
    );
    let apps: Api<GitRepository> = Api::namespaced(env.client.clone(), "apps");
    let repo = apps.get("repo").await.expect("the GitRepository exists");
    assert!(
        !repo
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key(REQUESTED_AT),
        "a refused cross-namespace reference is not annotated"
    );
    env.stop().await;
}
