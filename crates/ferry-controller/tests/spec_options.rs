//! Kustomization options beyond the main loop, end to end: `spec.healthChecks` on objects the
//! Kustomization does not apply, `spec.force` recreating an object whose immutable field changed
//! in Git, `deletionPolicy: Orphan`, and `--no-cross-namespace-refs`.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::time::Duration;

use common::{Env, configmap, create_namespace, deployment, wait_for};
use kube::{
    Api,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::json;

const READY: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn health_checks_judge_objects_the_kustomization_does_not_apply() {
    let env = Env::start().await;
    env.repo
        .write("app/config.yaml", &configmap("settings", "default", "v1"));
    env.repo.commit("config only");
    // A Deployment someone else runs, which never becomes available.
    env.kubectl_apply(&deployment("backend", "default", "nginx:fail", 1))
        .await;
    env.create_git_repository("repo", "1m").await;
    env.create_kustomization(
        "app",
        json!({"interval": "1h", "path": "./app", "prune": true, "timeout": "5s",
               "healthChecks": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                 "name": "backend", "namespace": "default"}]}),
    )
    .await;
    let message = env
        .wait_ready("app", "False", Some("HealthCheckFailed"), READY)
        .await;
    assert!(message.contains("Deployment/default/backend"), "{message}");
    // The ConfigMap itself was applied; only the health verdict failed.
    assert!(
        env.get("v1", "ConfigMap", Some("default"), "settings")
            .await
            .is_some()
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn force_recreates_objects_whose_immutable_fields_changed_in_git() {
    let env = Env::start().await;
    env.repo.write(
        "app/web.yaml",
        &deployment("web", "default", "nginx:1.27", 1),
    );
    env.repo.commit("web");
    env.create_git_repository("repo", "1s").await;
    env.create_kustomization(
        "app",
        json!({"interval": "1h", "path": "./app", "prune": true}),
    )
    .await;
    env.wait_ready("app", "True", None, READY).await;
    let uid = |d: &serde_json::Value| d["metadata"]["uid"].as_str().unwrap().to_owned();
    let first = uid(&env
        .get("apps/v1", "Deployment", Some("default"), "web")
        .await
        .unwrap());

    // A new selector cannot be applied in place: the reconcile fails and says how to fix it.
    let moved = deployment("web", "default", "nginx:1.27", 1).replace("app: web", "app: web-v2");
    env.repo.write("app/web.yaml", &moved);
    env.repo.commit("new selector");
    let message = env
        .wait_ready("app", "False", Some("ReconciliationFailed"), READY)
        .await;
    assert!(message.contains("Deployment/default/web"), "{message}");
    assert!(message.contains("spec.force"), "{message}");

    // spec.force: the Deployment is deleted and created with the new selector.
    let api: Api<ferry_api::Kustomization> = Api::namespaced(env.client.clone(), "flux-system");
    api.patch(
        "app",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"force": true}})),
    )
    .await
    .unwrap();
    env.wait_ready("app", "True", None, READY).await;
    let web = env
        .get("apps/v1", "Deployment", Some("default"), "web")
        .await
        .unwrap();
    assert_ne!(uid(&web), first, "recreated");
    assert_eq!(web["spec"]["selector"]["matchLabels"]["app"], "web-v2");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_policy_orphan_leaves_the_objects() {
    let env = Env::start().await;
    env.repo
        .write("app/config.yaml", &configmap("settings", "default", "v1"));
    env.repo.commit("config");
    env.create_git_repository("repo", "1m").await;
    env.create_kustomization(
        "app",
        json!({"interval": "1h", "path": "./app", "prune": true, "deletionPolicy": "Orphan"}),
    )
    .await;
    env.wait_ready("app", "True", None, READY).await;
    let api: Api<ferry_api::Kustomization> = Api::namespaced(env.client.clone(), "flux-system");
    api.delete("app", &Default::default()).await.unwrap();
    wait_for("the Kustomization gone", READY, || async {
        api.get_opt("app").await.ok()?.is_none().then_some(())
    })
    .await;
    assert!(
        env.get("v1", "ConfigMap", Some("default"), "settings")
            .await
            .is_some(),
        "Orphan keeps what was applied"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_namespace_references_can_be_forbidden() {
    let env = Env::start_with(|c| c.no_cross_namespace_refs = true).await;
    env.repo
        .write("app/config.yaml", &configmap("settings", "team", "v1"));
    env.repo.commit("config");
    env.create_git_repository("repo", "1m").await;
    create_namespace(&env.client, "team").await;
    let ks: ferry_api::Kustomization = serde_json::from_value(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "team-app", "namespace": "team"},
        "spec": {"interval": "1h", "path": "./app", "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "repo", "namespace": "flux-system"}}
    }))
    .unwrap();
    let api: Api<ferry_api::Kustomization> = Api::namespaced(env.client.clone(), "team");
    api.create(&PostParams::default(), &ks).await.unwrap();
    let message = wait_for("the reference refused", READY, || async {
        let ks = api.get("team-app").await.ok()?;
        let ready =
            ferry_api::condition::find(&ks.status?.conditions, ferry_api::condition::READY)?
                .clone();
        (ready.status == ferry_api::ConditionStatus::False).then_some(ready.message)
    })
    .await;
    assert!(
        message.contains("cannot access GitRepository/flux-system/repo, cross-namespace references have been disabled"),
        "{message}"
    );
    assert!(
        env.get("v1", "ConfigMap", Some("team"), "settings")
            .await
            .is_none()
    );
    env.stop().await;
}
