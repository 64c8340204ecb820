//! The repository Microsoft's AKS GitOps docs cite, fluxcd/flux2-kustomize-helm-example (its
//! GitRepository-based layout), reconciled unchanged from a local git repository: the cluster
//! entry point builds `clusters/staging` (no kustomization.yaml there: one is generated), which
//! creates the infra-controllers, infra-configs and apps Kustomizations with their dependsOn
//! chain. Without a Helm controller, the HelmRelease objects are applied as plain objects; the
//! chain stops where a chart's CRDs would be needed (cert-manager's ClusterIssuer).
//!
//! Flux's CRDs default `status.observedGeneration` to -1, so a HelmRelease or HelmRepository
//! nobody reconciles stays in progress and `wait: true` would never end; the test stands in for
//! helm-controller and source-controller's Helm side by writing the Ready status they would.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::{path::Path, time::Duration};

use common::{Env, wait_for};
use ferry_api::{Kustomization, condition};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams},
};
use serde_json::json;

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn flux2_kustomize_helm_example_reconciles_up_to_the_helm_releases() {
    let env = Env::start().await;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    // What `flux install` adds besides the kinds ferry reconciles.
    let crds: Api<CustomResourceDefinition> = Api::all(env.client.clone());
    for file in [
        "helm.toolkit.fluxcd.io_helmreleases.yaml",
        "source.toolkit.fluxcd.io_helmrepositories.yaml",
        "source.toolkit.fluxcd.io_ocirepositories.yaml",
    ] {
        let crd: CustomResourceDefinition = ferry_yaml::from_str(
            &std::fs::read_to_string(data.join("flux-crds").join(file)).unwrap(),
        )
        .map(|v| serde_json::from_value(v).unwrap())
        .unwrap();
        let name = crd.metadata.name.clone().unwrap();
        crds.patch(
            &name,
            &PatchParams::apply("flux-install").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
    }
    let stand_in = tokio::spawn(mark_helm_objects_ready(env.client.clone()));
    copy_tree(&data.join("flux2-kustomize-helm-example"), &env.repo.dir);
    env.repo.commit("flux2-kustomize-helm-example a484a05");

    // What `flux bootstrap` creates: the GitRepository and Kustomization named flux-system.
    env.create_git_repository("flux-system", "1m").await;
    env.create_kustomization(
        "flux-system",
        json!({"interval": "10m", "path": "./clusters/staging", "prune": true,
               "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}),
    )
    .await;
    let long = Duration::from_secs(60);
    env.wait_ready("flux-system", "True", None, long).await;
    for name in ["infra-controllers", "infra-configs", "apps"] {
        wait_for(
            &format!("Kustomization {name} created by flux-system"),
            long,
            || async {
                let api: Api<Kustomization> = Api::namespaced(env.client.clone(), "flux-system");
                api.get_opt(name).await.ok().flatten().map(|_| ())
            },
        )
        .await;
    }

    // infra-controllers: HelmRepositories and HelmReleases of cert-manager and ingress-nginx,
    // applied as objects (with `wait`, judged by kstatus).
    env.wait_ready("infra-controllers", "True", None, long)
        .await;
    let release = env
        .get(
            "helm.toolkit.fluxcd.io/v2",
            "HelmRelease",
            Some("cert-manager"),
            "cert-manager",
        )
        .await;
    assert!(release.is_some(), "the cert-manager HelmRelease is applied");
    assert!(
        env.get(
            "helm.toolkit.fluxcd.io/v2",
            "HelmRelease",
            Some("ingress-nginx"),
            "ingress-nginx"
        )
        .await
        .is_some()
    );

    // infra-configs needs cert-manager's CRDs, which only the cert-manager chart installs.
    // (Ready=False DependencyNotReady may come first, while infra-controllers is not Ready yet.)
    let message = env
        .wait_ready("infra-configs", "False", Some("ReconciliationFailed"), long)
        .await;
    assert!(message.contains("ClusterIssuer"), "{message}");
    // apps waits for infra-configs.
    let message = env
        .wait_ready("apps", "False", Some("DependencyNotReady"), long)
        .await;
    assert!(message.contains("infra-configs"), "{message}");

    let ks = env.kustomization("flux-system").await;
    let status = ks.status.unwrap();
    assert!(condition::is_true(&status.conditions, condition::READY));
    let inventory: Vec<String> = status
        .inventory
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert!(
        inventory
            .contains(&"flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization".to_owned()),
        "{inventory:?}"
    );
    stand_in.abort();
    env.stop().await;
}

/// What helm-controller and source-controller would report once they had done their part:
/// every HelmRelease and HelmRepository gets Ready=True for its current generation.
async fn mark_helm_objects_ready(client: Client) {
    let kinds = [
        (
            "helm.toolkit.fluxcd.io",
            "v2",
            "HelmRelease",
            "helmreleases",
        ),
        (
            "source.toolkit.fluxcd.io",
            "v1",
            "HelmRepository",
            "helmrepositories",
        ),
    ];
    loop {
        for (group, version, kind, plural) in kinds {
            let resource = ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk(group, version, kind),
                plural,
            );
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            let Ok(list) = api.list(&ListParams::default()).await else {
                continue;
            };
            for obj in list {
                let generation = obj.metadata.generation.unwrap_or(1);
                if obj.data["status"]["observedGeneration"] == generation {
                    continue;
                }
                let status = json!({"status": {
                    "observedGeneration": generation,
                    "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
                        "message": "marked ready by the test", "observedGeneration": generation,
                        "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
                let namespaced: Api<DynamicObject> = Api::namespaced_with(
                    client.clone(),
                    obj.metadata.namespace.as_deref().unwrap_or_default(),
                    &resource,
                );
                let name = obj.metadata.name.clone().unwrap_or_default();
                let _ = namespaced
                    .patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                    .await;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
