//! The GitRepository controller end to end on the embedded API server: Ready with the artifact
//! served at status.artifact.url, a failure that keeps the last artifact, a requestedAt
//! reconcile, and suspend.

mod common;

use std::time::Duration;

use common::{Env, wait_for};
use ferry_api::{GitRepository, condition};
use kube::Api;
use serde_json::json;
use sha2::Digest;

const WAIT: Duration = Duration::from_secs(30);

async fn wait_repo(
    env: &Env,
    name: &str,
    what: &str,
    check: impl Fn(&GitRepository) -> bool,
) -> GitRepository {
    let api: Api<GitRepository> = Api::namespaced(env.client.clone(), "flux-system");
    wait_for(what, WAIT, || {
        let api = api.clone();
        let check = &check;
        async move { api.get(name).await.ok().filter(|r| check(r)) }
    })
    .await
}

/// Merge-patches the GitRepository `flux-system/repo` as kubectl would.
async fn patch(env: &Env, patch: serde_json::Value) {
    let api: Api<GitRepository> = Api::namespaced(env.client.clone(), "flux-system");
    let params = kube::api::PatchParams {
        field_manager: Some("kubectl-edit".to_owned()),
        ..Default::default()
    };
    api.patch("repo", &params, &kube::api::Patch::Merge(patch))
        .await
        .expect("patch succeeds");
}

fn ready(repo: &GitRepository) -> Option<(String, String)> {
    let status = repo.status.as_ref()?;
    let c = condition::find(&status.conditions, condition::READY)?;
    Some((c.status.as_str().to_owned(), c.reason.clone()))
}

fn revision(repo: &GitRepository) -> Option<String> {
    repo.status
        .as_ref()?
        .artifact
        .as_ref()
        .map(|a| a.revision.clone())
}

#[tokio::test]
async fn fetches_serves_fails_recovers_and_suspends() {
    let env = Env::start().await;
    env.repo
        .write("deploy/cm.yaml", &common::configmap("a", "default", "1"));
    let first = env.repo.commit("first");
    env.create_git_repository("repo", "10m").await;

    let repo = wait_repo(&env, "repo", "Ready=True", |r| {
        ready(r).is_some_and(|(s, _)| s == "True")
    })
    .await;
    let status = repo.status.clone().expect("status");
    let artifact = status.artifact.clone().expect("artifact");
    assert_eq!(artifact.revision, format!("main@sha1:{first}"));
    assert_eq!(status.observed_generation, repo.metadata.generation);
    assert!(condition::is_true(
        &status.conditions,
        condition::ARTIFACT_IN_STORAGE
    ));
    assert!(condition::find(&status.conditions, condition::RECONCILING).is_none());
    let body = reqwest::get(&artifact.url)
        .await
        .expect("artifact served")
        .bytes()
        .await
        .expect("body");
    assert_eq!(
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&body))),
        artifact.digest
    );

    // A missing branch: Ready=False with Flux's reason, the last artifact stays.
    patch(&env, json!({"spec": {"ref": {"branch": "nope"}}})).await;
    let repo = wait_repo(&env, "repo", "Ready=False GitOperationFailed", |r| {
        ready(r).is_some_and(|(s, reason)| s == "False" && reason == "GitOperationFailed")
    })
    .await;
    let status = repo.status.clone().expect("status");
    assert_eq!(
        status.artifact.as_ref().map(|a| a.revision.clone()),
        Some(artifact.revision.clone())
    );
    assert!(condition::is_true(
        &status.conditions,
        condition::FETCH_FAILED
    ));
    assert!(condition::is_true(
        &status.conditions,
        condition::RECONCILING
    ));
    assert!(
        reqwest::get(&artifact.url)
            .await
            .expect("still served")
            .status()
            .is_success()
    );
    // Events are recorded right after the status write: wait for both.
    let events: Api<k8s_openapi::api::core::v1::Event> =
        Api::namespaced(env.client.clone(), "flux-system");
    wait_for("NewArtifact and GitOperationFailed events", WAIT, || {
        let events = events.clone();
        async move {
            let items = events.list(&Default::default()).await.ok()?.items;
            let has = |reason: &str, type_: &str| {
                items.iter().any(|e| {
                    e.involved_object.name.as_deref() == Some("repo")
                        && e.reason.as_deref() == Some(reason)
                        && e.type_.as_deref() == Some(type_)
                })
            };
            (has("NewArtifact", "Normal") && has("GitOperationFailed", "Warning")).then_some(())
        }
    })
    .await;

    // Back to main with a new commit, picked up at once through requestedAt.
    patch(&env, json!({"spec": {"ref": {"branch": "main"}}})).await;
    wait_repo(&env, "repo", "recovered", |r| {
        ready(r).is_some_and(|(s, _)| s == "True")
    })
    .await;
    env.repo
        .write("deploy/cm.yaml", &common::configmap("a", "default", "2"));
    let second = env.repo.commit("second");
    let token = "token-1";
    patch(
        &env,
        json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}}),
    )
    .await;
    let repo = wait_repo(&env, "repo", "requestedAt handled", |r| {
        r.status
            .as_ref()
            .and_then(|s| s.last_handled_reconcile_at.as_deref())
            == Some(token)
    })
    .await;
    assert_eq!(revision(&repo), Some(format!("main@sha1:{second}")));

    // Suspended: a request is not acted upon.
    patch(&env, json!({"spec": {"suspend": true}})).await;
    env.repo
        .write("deploy/cm.yaml", &common::configmap("a", "default", "3"));
    env.repo.commit("third");
    patch(
        &env,
        json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "token-2"}}}),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let api: Api<GitRepository> = Api::namespaced(env.client.clone(), "flux-system");
    let repo = api.get("repo").await.expect("repo");
    assert_eq!(
        revision(&repo),
        Some(format!("main@sha1:{second}")),
        "suspended: no new revision"
    );
    env.stop().await;
}

/// A spec error cannot be fixed by retrying: Stalled=True with the reason, no Reconciling, no
/// artifact; fixing the spec reconciles at once and clears Stalled.
#[tokio::test]
async fn an_invalid_spec_stalls_until_it_is_fixed() {
    let env = Env::start().await;
    env.repo
        .write("deploy/cm.yaml", &common::configmap("a", "default", "1"));
    env.repo.commit("first");
    env.create_git_repository("repo", "10m").await;
    wait_repo(&env, "repo", "Ready=True", |r| {
        ready(r).is_some_and(|(s, _)| s == "True")
    })
    .await;

    patch(&env, json!({"spec": {"ref": {"semver": "not a range"}}})).await;
    let repo = wait_repo(&env, "repo", "Stalled=True", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| condition::is_true(&s.conditions, condition::STALLED))
    })
    .await;
    assert_eq!(ready(&repo).map(|(s, _)| s), Some("False".to_owned()));
    let status = repo.status.clone().expect("status");
    let stalled = condition::find(&status.conditions, condition::STALLED).expect("Stalled");
    assert!(
        stalled.message.contains("not a range"),
        "{}",
        stalled.message
    );
    assert!(condition::find(&status.conditions, condition::RECONCILING).is_none());
    assert_eq!(
        status.observed_generation, repo.metadata.generation,
        "a stalled object is up to date"
    );

    patch(
        &env,
        json!({"spec": {"ref": {"semver": null, "branch": "main"}}}),
    )
    .await;
    let repo = wait_repo(&env, "repo", "Ready=True again", |r| {
        ready(r).is_some_and(|(s, _)| s == "True")
    })
    .await;
    let status = repo.status.expect("status");
    assert!(condition::find(&status.conditions, condition::STALLED).is_none());
    env.stop().await;
}

/// The size guard: a repository whose artifact exceeds the configured limit fails with
/// SizeLimitExceeded and is not stored.
#[tokio::test]
async fn a_repository_over_the_size_limit_is_refused() {
    let env = Env::start_with(|c| c.storage.limits.max_artifact_bytes = 4096).await;
    // Incompressible content well above 4 KiB once packed: a chain of SHA-256 digests in hex.
    let mut block = sha2::Sha256::digest(b"ferry");
    let mut noise = String::new();
    for _ in 0..400 {
        noise.push_str(&hex::encode(block));
        block = sha2::Sha256::digest(block);
    }
    env.repo.write("deploy/big.txt", &noise);
    env.repo.commit("big");
    env.create_git_repository("repo", "10m").await;
    let repo = wait_repo(&env, "repo", "Ready=False SizeLimitExceeded", |r| {
        ready(r).is_some_and(|(s, reason)| s == "False" && reason == "SizeLimitExceeded")
    })
    .await;
    assert!(revision(&repo).is_none(), "nothing stored");
    env.stop().await;
}
