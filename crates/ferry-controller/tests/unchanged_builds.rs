//! A new revision that leaves a Kustomization's build unchanged (a commit elsewhere in the
//! repository) is recorded without a server-side dry-run of every object, when the drift watcher
//! vouches that nobody touched them since the last full apply; a changed build, and an edit by
//! someone else, still go through the apply: an object whose manifest changed is applied without
//! a dry-run, one whose live state changed is dry-run first (and whose health the answer to the
//! apply shows); a requested reconcile dry-runs them all. Requests are observed through a recording proxy in front of the embedded API server.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use common::Env;
use ferry_api::condition;
use ferry_apiserver::ApiServer;
use ferry_test::apiserver::TestApiServer;
use serde_json::json;

fn is_request_line(line: &str) -> bool {
    ["GET ", "PATCH ", "POST ", "PUT ", "DELETE "]
        .iter()
        .any(|m| line.starts_with(m))
}

/// Dry-run requests for the app's objects seen since the recorder was last cleared.
fn dry_runs(seen: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("dryRun=All") && l.contains("/web"))
        .cloned()
        .collect()
}

async fn wait_applied(env: &Env, name: &str, commit: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let ks = env.kustomization(name).await;
        let status = ks.status.unwrap_or_default();
        let applied = status
            .last_applied_revision
            .as_deref()
            .is_some_and(|r| r.ends_with(commit));
        if applied && condition::is_true(&status.conditions, condition::READY) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{commit} not applied: {:?}",
            status.conditions
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unchanged_builds_skip_the_dry_run_until_someone_else_changes_an_object() {
    let server = TestApiServer::start_builder(ApiServer::builder().ephemeral().tls(false)).await;
    let (proxy_url, seen) = common::recording_proxy(server.server().addr(), is_request_line).await;
    let mut kube_config = common::kube_config(&server).await;
    kube_config.cluster_url = proxy_url.parse().unwrap();
    // Progress is reported only by reconciles that outlast this, which none here does.
    let env = Env::start_on(server, kube_config, |config| {
        config.progress_report_delay = Duration::from_secs(60);
    })
    .await;

    env.repo.write(
        "app/cm.yaml",
        &common::configmap("web-config", "flux-system", "one"),
    );
    env.repo.write(
        "app/deploy.yaml",
        &common::deployment(
            "web",
            "flux-system",
            "ghcr.io/stefanprodan/podinfo:6.7.0",
            1,
        ),
    );
    env.repo.write("README.md", "v1\n");
    let first = env.repo.commit("app");
    env.create_git_repository("repo", "1s").await;
    env.create_kustomization(
        "web",
        json!({"interval": "1h", "path": "./app", "prune": true, "wait": true}),
    )
    .await;
    wait_applied(&env, "web", &first).await;

    // The first apply started the watches of the app's kinds; the next one, made while they
    // run, is the one the watcher can vouch for.
    env.repo.write("README.md", "v2\n");
    let second = env.repo.commit("docs");
    wait_applied(&env, "web", &second).await;
    assert!(!dry_runs(&seen).is_empty(), "the objects were applied");

    seen.lock().unwrap().clear();
    env.repo.write("README.md", "v3\n");
    let third = env.repo.commit("docs again");
    wait_applied(&env, "web", &third).await;
    assert_eq!(dry_runs(&seen), Vec::<String>::new());
    let ks = env.kustomization("web").await;
    let status = ks.status.unwrap();
    assert_eq!(status.inventory.unwrap().entries.len(), 2);
    let healthy = condition::find(&status.conditions, "Healthy").unwrap();
    assert_eq!(healthy.status.as_str(), "True", "{healthy:?}");

    // Someone else edits the ConfigMap: the drift watcher has it put back with a full apply.
    seen.lock().unwrap().clear();
    env.kubectl_patch(
        "v1",
        "ConfigMap",
        Some("flux-system"),
        "web-config",
        json!({"data": {"key": "edited"}}),
    )
    .await;
    common::wait_for("the edit put back", Duration::from_secs(5), || async {
        let cm = env
            .get("v1", "ConfigMap", Some("flux-system"), "web-config")
            .await;
        cm.filter(|cm| cm["data"]["key"] == "one")
    })
    .await;
    assert!(
        !dry_runs(&seen).is_empty(),
        "the correction applied in full"
    );

    // A change of the app's own files is applied without reading the objects the watcher has
    // seen, and without any dry-run: the changed ConfigMap, whose manifest differs from the
    // one last applied, is applied straight away; the Deployment, whose manifest is as last
    // applied and which the watch still sees as that apply left it, is neither read, dry-run
    // nor applied, and its health is what the watch saw (Current).
    seen.lock().unwrap().clear();
    env.repo.write(
        "app/cm.yaml",
        &common::configmap("web-config", "flux-system", "two"),
    );
    let fourth = env.repo.commit("new value");
    wait_applied(&env, "web", &fourth).await;
    let requests = |path: &str| -> Vec<String> {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(path))
            .cloned()
            .collect()
    };
    // One apply, and no read for the health check: the answer to the apply showed the
    // ConfigMap Current at the version it made, whether or not the watch had seen it yet.
    let cm_requests = requests("/configmaps/web-config");
    assert_eq!(cm_requests.len(), 1, "{cm_requests:?}");
    assert!(cm_requests[0].starts_with("PATCH "), "{cm_requests:?}");
    assert_eq!(dry_runs(&seen), Vec::<String>::new());
    let cm = env
        .get("v1", "ConfigMap", Some("flux-system"), "web-config")
        .await
        .unwrap();
    assert_eq!(cm["data"]["key"], "two");
    assert_eq!(requests("/deployments/web"), Vec::<String>::new());
    // A reconcile that ends before the progress report is due writes its status once.
    let status_writes = requests("/kustomizations/web/status");
    assert_eq!(status_writes.len(), 1, "{status_writes:?}");
    // The new artifact came from the store of the GitRepository watch, not a read.
    let source_reads: Vec<String> = requests("/gitrepositories/repo ")
        .into_iter()
        .filter(|l| l.starts_with("GET "))
        .collect();
    assert_eq!(source_reads, Vec::<String>::new());

    // A reconcile someone asks for (`flux reconcile`) dry-runs every object again.
    seen.lock().unwrap().clear();
    env.kubectl_patch(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        Some("flux-system"),
        "web",
        json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}}),
    )
    .await;
    common::wait_for("the request handled", Duration::from_secs(10), || async {
        let status = env.kustomization("web").await.status.unwrap_or_default();
        (status.last_handled_reconcile_at.as_deref() == Some("now")).then_some(())
    })
    .await;
    assert_eq!(dry_runs(&seen).len(), 2, "both objects dry-run");
    env.stop().await;
}
