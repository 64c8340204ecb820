//! End-to-end tests of the GitOps loop on the embedded control plane: a git repository on disk,
//! the GitRepository and Kustomization controllers running in-process, real API calls.

mod common;

use std::time::Duration;

use common::{Env, configmap, deployment, wait_for};
use ferry_api::{condition, keys};
use serde_json::json;

const READY: Duration = Duration::from_secs(30);

async fn env_with_app() -> Env {
    let env = Env::start().await;
    env.repo.write(
        "apps/namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
    );
    env.repo
        .write("apps/config.yaml", &configmap("settings", "apps", "v1"));
    env.repo
        .write("apps/web.yaml", &deployment("web", "apps", "nginx:1.27", 1));
    env.repo.commit("app");
    env.create_git_repository("repo", "1s").await;
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_from_git_then_follows_commits_and_prunes() {
    let env = env_with_app().await;
    env.create_kustomization(
        "apps",
        json!({"interval": "10m", "path": "./apps", "prune": true, "wait": true}),
    )
    .await;
    let message = env
        .wait_ready("apps", "True", Some("ReconciliationSucceeded"), READY)
        .await;
    assert!(
        message.starts_with("Applied revision: main@sha1:"),
        "{message}"
    );

    let cm = env
        .get("v1", "ConfigMap", Some("apps"), "settings")
        .await
        .expect("ConfigMap applied");
    assert_eq!(cm["data"]["key"], "v1");
    assert_eq!(cm["metadata"]["labels"][keys::OWNER_NAME_LABEL], "apps");
    assert_eq!(
        cm["metadata"]["labels"][keys::OWNER_NAMESPACE_LABEL],
        "flux-system"
    );
    let ks = env.kustomization("apps").await;
    let ids: Vec<String> = ks
        .status
        .unwrap()
        .inventory
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert!(
        ids.contains(&"apps_settings__ConfigMap".to_owned()),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"apps_web_apps_Deployment".to_owned()),
        "{ids:?}"
    );
    assert!(ids.contains(&"_apps__Namespace".to_owned()), "{ids:?}");

    // A new commit is applied within the source's interval.
    env.repo
        .write("apps/config.yaml", &configmap("settings", "apps", "v2"));
    env.repo.remove("apps/web.yaml");
    let commit = env.repo.commit("update settings, remove web");
    wait_for("the new revision applied", READY, || async {
        let ks = env.kustomization("apps").await;
        ks.status?
            .last_applied_revision
            .filter(|r| r.ends_with(&commit))
    })
    .await;
    let cm = env
        .get("v1", "ConfigMap", Some("apps"), "settings")
        .await
        .unwrap();
    assert_eq!(cm["data"]["key"], "v2");
    // The Deployment left Git: pruned.
    wait_for("the Deployment pruned", READY, || async {
        env.get("apps/v1", "Deployment", Some("apps"), "web")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn corrects_out_of_band_edits_and_deletions_within_two_seconds() {
    let env = env_with_app().await;
    env.create_kustomization(
        "apps",
        json!({"interval": "1h", "path": "./apps", "prune": true}),
    )
    .await;
    env.wait_ready("apps", "True", None, READY).await;

    // kubectl edit: the replicas and an extra label are put back as Git says.
    env.kubectl_patch(
        "apps/v1",
        "Deployment",
        Some("apps"),
        "web",
        json!({"spec": {"replicas": 5}, "metadata": {"labels": {"edited": "yes"}}}),
    )
    .await;
    let started = std::time::Instant::now();
    wait_for("the edit reverted", Duration::from_secs(2), || async {
        let d = env
            .get("apps/v1", "Deployment", Some("apps"), "web")
            .await?;
        (d["spec"]["replicas"] == 1 && d["metadata"]["labels"].get("edited").is_none())
            .then_some(())
    })
    .await;
    let reverted_in = started.elapsed();

    // kubectl delete: recreated.
    env.delete("v1", "ConfigMap", Some("apps"), "settings")
        .await;
    wait_for(
        "the deleted ConfigMap recreated",
        Duration::from_secs(2),
        || async {
            env.get("v1", "ConfigMap", Some("apps"), "settings")
                .await
                .map(|_| ())
        },
    )
    .await;
    eprintln!("edit reverted in {reverted_in:?}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_deployment_is_reported_by_name() {
    let env = Env::start().await;
    env.repo.write(
        "app/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: broken\n",
    );
    env.repo.write(
        "app/web.yaml",
        &deployment("web", "broken", "nginx:fail", 1),
    );
    env.repo.commit("a deployment that cannot become ready");
    env.create_git_repository("repo", "1m").await;
    env.create_kustomization(
        "broken",
        json!({"interval": "1h", "path": "./app", "prune": true, "wait": true, "timeout": "20s"}),
    )
    .await;
    // While the health check waits, the reconcile shows as in progress (written after the
    // progress report delay), as Flux's does.
    wait_for("progress reported", Duration::from_secs(20), || async {
        let status = env.kustomization("broken").await.status.unwrap_or_default();
        let reconciling = condition::find(&status.conditions, condition::RECONCILING)?;
        let ready = condition::find(&status.conditions, condition::READY)?;
        (reconciling.reason == "Progressing"
            && ready.status == condition::ConditionStatus::Unknown
            && ready.message == "Reconciliation in progress")
            .then_some(())
    })
    .await;
    let message = env
        .wait_ready(
            "broken",
            "False",
            Some("HealthCheckFailed"),
            Duration::from_secs(40),
        )
        .await;
    assert!(message.contains("Deployment/broken/web"), "{message}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn depends_on_orders_kustomizations() {
    let env = Env::start().await;
    env.repo.write(
        "infra/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: infra\n",
    );
    env.repo.write(
        "infra/db.yaml",
        &deployment("db", "infra", "postgres:16", 1),
    );
    env.repo
        .write("app/cfg.yaml", &configmap("app", "infra", "uses-db"));
    env.repo.commit("infra and app");
    env.create_git_repository("repo", "1m").await;
    env.create_kustomization(
        "app",
        json!({"interval": "1h", "path": "./app", "prune": true, "dependsOn": [{"name": "infra"}]}),
    )
    .await;
    let message = env
        .wait_ready("app", "False", Some("DependencyNotReady"), READY)
        .await;
    assert!(message.contains("'flux-system/infra'"), "{message}");
    assert!(
        env.get("v1", "ConfigMap", Some("infra"), "app")
            .await
            .is_none(),
        "nothing applied before the dependency"
    );

    env.create_kustomization(
        "infra",
        json!({"interval": "1h", "path": "./infra", "prune": true, "wait": true}),
    )
    .await;
    env.wait_ready("infra", "True", None, READY).await;
    env.wait_ready("app", "True", None, READY).await;
    assert!(
        env.get("v1", "ConfigMap", Some("infra"), "app")
            .await
            .is_some()
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn suspend_stops_changes_until_resumed() {
    let env = env_with_app().await;
    env.create_kustomization(
        "apps",
        json!({"interval": "1h", "path": "./apps", "prune": true}),
    )
    .await;
    env.wait_ready("apps", "True", None, READY).await;

    let api: kube::Api<ferry_api::Kustomization> =
        kube::Api::namespaced(env.client.clone(), "flux-system");
    let suspend = |s: bool| kube::api::Patch::Merge(json!({"spec": {"suspend": s}}));
    api.patch("apps", &Default::default(), &suspend(true))
        .await
        .unwrap();
    env.repo.write(
        "apps/config.yaml",
        &configmap("settings", "apps", "while-suspended"),
    );
    let commit = env.repo.commit("change while suspended");
    // The source follows the commit, the suspended Kustomization does not.
    wait_for("the source fetched the commit", READY, || async {
        let api: kube::Api<ferry_api::GitRepository> =
            kube::Api::namespaced(env.client.clone(), "flux-system");
        let repo = api.get("repo").await.ok()?;
        repo.status?
            .artifact
            .filter(|a| a.revision.ends_with(&commit))
            .map(|_| ())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cm = env
        .get("v1", "ConfigMap", Some("apps"), "settings")
        .await
        .unwrap();
    assert_eq!(
        cm["data"]["key"], "v1",
        "a suspended Kustomization applies nothing"
    );

    api.patch("apps", &Default::default(), &suspend(false))
        .await
        .unwrap();
    wait_for("the change applied after resume", READY, || async {
        let cm = env.get("v1", "ConfigMap", Some("apps"), "settings").await?;
        (cm["data"]["key"] == "while-suspended").then_some(())
    })
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn post_build_substitution_fills_variables() {
    let env = Env::start().await;
    env.repo.write("app/cfg.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: flux-system\ndata:\n  cluster: ${cluster_name}\n  region: ${region:=westeurope}\n  escaped: $${literal}\n");
    env.repo.commit("variables");
    env.create_git_repository("repo", "1m").await;
    env.create_kustomization(
        "vars",
        json!({"interval": "1h", "path": "./app", "prune": true, "postBuild": {"substitute": {"cluster_name": "prod-1"}}}),
    )
    .await;
    env.wait_ready("vars", "True", None, READY).await;
    let cm = env
        .get("v1", "ConfigMap", Some("flux-system"), "cfg")
        .await
        .unwrap();
    assert_eq!(
        cm["data"],
        json!({"cluster": "prod-1", "region": "westeurope", "escaped": "${literal}"})
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_kustomization_prunes_its_objects() {
    let env = env_with_app().await;
    env.create_kustomization(
        "apps",
        json!({"interval": "1h", "path": "./apps", "prune": true}),
    )
    .await;
    env.wait_ready("apps", "True", None, READY).await;
    assert!(
        env.get("v1", "ConfigMap", Some("apps"), "settings")
            .await
            .is_some()
    );
    let api: kube::Api<ferry_api::Kustomization> =
        kube::Api::namespaced(env.client.clone(), "flux-system");
    api.delete("apps", &Default::default()).await.unwrap();
    wait_for("the Kustomization gone", READY, || async {
        api.get_opt("apps").await.ok()?.is_none().then_some(())
    })
    .await;
    assert!(
        env.get("v1", "ConfigMap", Some("apps"), "settings")
            .await
            .is_none()
    );
    assert!(
        env.get("apps/v1", "Deployment", Some("apps"), "web")
            .await
            .is_none()
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_expressions_judge_custom_states() {
    let env = Env::start().await;
    env.repo.write("app/job.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: job\n  namespace: flux-system\ndata:\n  phase: broken\n");
    env.repo
        .commit("a ConfigMap whose phase the expressions judge");
    env.create_git_repository("repo", "1s").await;
    let exprs = json!([{
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "current": "data.phase == 'done'",
        "inProgress": "data.phase == 'running'",
        "failed": "data.phase == 'broken'",
    }]);
    env.create_kustomization(
        "cel",
        json!({"interval": "1h", "path": "./app", "prune": true, "wait": true, "timeout": "10s", "healthCheckExprs": exprs}),
    )
    .await;
    let message = env
        .wait_ready("cel", "False", Some("HealthCheckFailed"), READY)
        .await;
    assert!(message.contains("ConfigMap/flux-system/job"), "{message}");

    env.repo.write("app/job.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: job\n  namespace: flux-system\ndata:\n  phase: done\n");
    env.repo.commit("done");
    env.wait_ready("cel", "True", None, READY).await;
    env.stop().await;
}

/// `substituteFrom` ConfigMaps and Secrets in order, `substitute` last; an optional source that
/// does not exist is skipped; a variable nobody sets becomes empty (Flux's default), and with
/// the StrictPostBuildSubstitutions gate fails the build naming it, applying nothing.
#[tokio::test(flavor = "multi_thread")]
async fn substitute_from_config_maps_and_secrets_then_strict_mode() {
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\n  namespace: flux-system\ndata:\n  region: ${region}\n  tier: ${tier}\n  password: ${password}\n  unset: \"[${unset}]\"\n";
    let spec = json!({"interval": "1h", "path": "./app", "prune": true, "postBuild": {
    "substitute": {"tier": "from-substitute"},
    "substituteFrom": [
        {"kind": "ConfigMap", "name": "cluster-vars"},
        {"kind": "Secret", "name": "cluster-secrets"},
        {"kind": "ConfigMap", "name": "absent", "optional": true}
    ]}});
    let seed = |env: &Env| {
        env.repo.write("app/vars.yaml", template);
        env.repo.commit("variables");
    };
    let sources = |env: &Env| {
        let client = env.client.clone();
        async move {
            let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
                kube::Api::namespaced(client.clone(), "flux-system");
            cms.create(
                &Default::default(),
                &serde_json::from_value(json!({"metadata": {"name": "cluster-vars"},
                    "data": {"region": "westeurope", "tier": "from-configmap"}}))
                .unwrap(),
            )
            .await
            .unwrap();
            let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
                kube::Api::namespaced(client, "flux-system");
            secrets
                .create(
                    &Default::default(),
                    &serde_json::from_value(
                        json!({"metadata": {"name": "cluster-secrets"}, "stringData": {"password": "s3cret"}}),
                    )
                    .unwrap(),
                )
                .await
                .unwrap();
        }
    };

    let env = Env::start().await;
    seed(&env);
    sources(&env).await;
    env.create_git_repository("repo", "1m").await;
    env.create_kustomization("vars", spec.clone()).await;
    env.wait_ready("vars", "True", None, READY).await;
    let cm = env
        .get("v1", "ConfigMap", Some("flux-system"), "vars")
        .await
        .unwrap();
    assert_eq!(
        cm["data"],
        json!({"region": "westeurope", "tier": "from-substitute", "password": "s3cret", "unset": "[]"})
    );
    env.stop().await;

    let strict = Env::start_with(|c| c.strict_substitution = true).await;
    seed(&strict);
    sources(&strict).await;
    strict.create_git_repository("repo", "1m").await;
    strict.create_kustomization("vars", spec).await;
    let message = strict
        .wait_ready("vars", "False", Some("BuildFailed"), READY)
        .await;
    assert!(message.contains("unset"), "{message}");
    assert!(
        strict
            .get("v1", "ConfigMap", Some("flux-system"), "vars")
            .await
            .is_none()
    );
    strict.stop().await;
}

/// `ferry.dev/drift-watch: disabled` keeps Flux's behaviour: an out-of-band edit stays until
/// the next reconcile (here requested explicitly), which then reverts it.
#[tokio::test(flavor = "multi_thread")]
async fn drift_watch_can_be_disabled_per_kustomization() {
    let env = env_with_app().await;
    let ks: ferry_api::Kustomization = serde_json::from_value(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system",
            "annotations": {keys::DRIFT_WATCH_ANNOTATION: "disabled"}},
        "spec": {"interval": "1h", "path": "./apps", "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "repo"}}
    }))
    .unwrap();
    let api: kube::Api<ferry_api::Kustomization> =
        kube::Api::namespaced(env.client.clone(), "flux-system");
    api.create(&Default::default(), &ks).await.unwrap();
    env.wait_ready("apps", "True", None, READY).await;

    env.kubectl_patch(
        "apps/v1",
        "Deployment",
        Some("apps"),
        "web",
        json!({"spec": {"replicas": 5}}),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let web = env
        .get("apps/v1", "Deployment", Some("apps"), "web")
        .await
        .unwrap();
    assert_eq!(web["spec"]["replicas"], 5, "no drift watch: the edit stays");

    api.patch(
        "apps",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"metadata": {"annotations": {
            keys::REQUESTED_AT_ANNOTATION: "now"}}})),
    )
    .await
    .unwrap();
    wait_for("the next reconcile reverts the edit", READY, || async {
        let web = env
            .get("apps/v1", "Deployment", Some("apps"), "web")
            .await?;
        (web["spec"]["replicas"] == 1).then_some(())
    })
    .await;
    env.stop().await;
}
