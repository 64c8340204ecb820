#![allow(clippy::unwrap_used)]
//! The embedded API server driven by kube-rs, as the rest of ferry uses it.

use std::time::Duration;

use ferry_test::apiserver::TestApiServer;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{ConfigMap, Namespace},
};
use kube::{
    Api, ResourceExt,
    api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams},
    core::{ApiResource, GroupVersionKind},
    runtime::{WatchStreamExt, reflector, watcher},
};
use serde_json::json;

fn cm(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}})).unwrap()
}

async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn create_get_list_update_delete_with_kubernetes_errors() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let created = cms
        .create(
            &PostParams::default(),
            &cm("a", json!({"app": "web", "tier": "front"})),
        )
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    cms.create(&PostParams::default(), &cm("b", json!({"app": "api"})))
        .await
        .unwrap();

    let dup = cms
        .create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = dup else {
        panic!("expected a Status")
    };
    assert_eq!(
        (status.code, status.reason.as_str()),
        (409, "AlreadyExists")
    );
    assert_eq!(status.message, "configmaps \"a\" already exists");

    let missing = cms.get("nope").await.unwrap_err();
    let kube::Error::Api(status) = missing else {
        panic!()
    };
    assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"));

    let web = cms
        .list(&ListParams::default().labels("app in (web),tier"))
        .await
        .unwrap();
    assert_eq!(
        web.items.iter().map(|c| c.name_any()).collect::<Vec<_>>(),
        ["a"]
    );
    let by_name = cms
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);

    // Optimistic concurrency: a stale resourceVersion is a 409 Conflict.
    let mut stale = created.clone();
    let mut fresh = cms.get("a").await.unwrap();
    fresh.data = Some([("k".to_owned(), "v2".to_owned())].into());
    let updated = cms
        .replace("a", &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert_ne!(updated.resource_version(), created.resource_version());
    stale.data = Some([("k".to_owned(), "v3".to_owned())].into());
    let kube::Error::Api(status) = cms
        .replace("a", &PostParams::default(), &stale)
        .await
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));

    // Paging with limit/continue.
    for i in 0..5 {
        cms.create(
            &PostParams::default(),
            &cm(&format!("page-{i}"), json!({"page": "yes"})),
        )
        .await
        .unwrap();
    }
    let first = cms
        .list(&ListParams::default().labels("page").limit(2))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let token = first.metadata.continue_.clone().expect("a continue token");
    let second = cms
        .list(
            &ListParams::default()
                .labels("page")
                .limit(10)
                .continue_token(&token),
        )
        .await
        .unwrap();
    assert_eq!(second.items.len(), 3);
    assert!(second.metadata.continue_.is_none());

    cms.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(cms.get_opt("a").await.unwrap().is_none());

    // A namespace that does not exist.
    let other: Api<ConfigMap> = Api::namespaced(client, "nowhere");
    let kube::Error::Api(status) = other
        .create(&PostParams::default(), &cm("x", json!({})))
        .await
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(
        (status.code, status.message.as_str()),
        (404, "namespaces \"nowhere\" not found")
    );
}

#[tokio::test]
async fn server_side_apply_creates_and_updates() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let params = PatchParams::apply("ferry-test");
    let applied = cms
        .patch("cfg", &params, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}})))
        .await
        .unwrap();
    assert_eq!(applied.data.unwrap()["a"], "1");
    let again = cms
        .patch("cfg", &params, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "2"}})))
        .await
        .unwrap();
    assert_eq!(again.data.unwrap()["a"], "2");
    // dryRun=All changes nothing.
    cms.patch(
        "cfg",
        &PatchParams::apply("ferry-test").dry_run(),
        &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "3"}})),
    )
    .await
    .unwrap();
    assert_eq!(cms.get("cfg").await.unwrap().data.unwrap()["a"], "2");
    // Merge and JSON patches.
    cms.patch(
        "cfg",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
    )
    .await
    .unwrap();
    let patched = cms
        .patch(
            "cfg",
            &PatchParams::default(),
            &Patch::<()>::Json(
                serde_json::from_value(json!([{"op": "replace", "path": "/data/a", "value": "9"}]))
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(patched.labels()["x"], "y");
    assert_eq!(patched.data.unwrap()["a"], "9");
}

#[tokio::test]
async fn watcher_and_reflector_follow_changes() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let (reader, writer) = reflector::store::<ConfigMap>();
    let stream = reflector(
        writer,
        watcher(
            cms.clone(),
            watcher::Config::default().labels("watched=yes"),
        ),
    )
    .applied_objects()
    .boxed();
    let collected = tokio::spawn(async move { stream.take(3).try_collect::<Vec<_>>().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    cms.create(&PostParams::default(), &cm("w1", json!({"watched": "yes"})))
        .await
        .unwrap();
    cms.create(
        &PostParams::default(),
        &cm("ignored", json!({"watched": "no"})),
    )
    .await
    .unwrap();
    cms.create(&PostParams::default(), &cm("w2", json!({"watched": "yes"})))
        .await
        .unwrap();
    cms.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "changed"}})),
    )
    .await
    .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(10), collected)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        seen.iter().map(|c| c.name_any()).collect::<Vec<_>>(),
        ["w1", "w2", "w1"]
    );
    let names: Vec<String> = reader.state().iter().map(|c| c.name_any()).collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // Streaming lists (sendInitialEvents) work too.
    let initial = watcher(
        cms,
        watcher::Config::default()
            .labels("watched=yes")
            .streaming_lists(),
    )
    .default_backoff()
    .take(4)
    .try_collect::<Vec<_>>()
    .await
    .unwrap();
    assert!(
        matches!(initial.last(), Some(watcher::Event::InitDone)),
        "{initial:?}"
    );
}

#[tokio::test]
async fn crds_register_resources_dynamically() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    let crd = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}, "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}
    }))
    .unwrap();
    crds.create(&PostParams::default(), &crd).await.unwrap();
    wait_for("Established", || {
        let crds = crds.clone();
        async move {
            let c = crds.get("widgets.example.com").await.ok()?;
            let ok = c
                .status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            ok.then_some(())
        }
    })
    .await;
    let discovery = kube::Discovery::new(client.clone())
        .run_aggregated()
        .await
        .unwrap();
    let (ar, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"))
        .expect("discovered");
    assert_eq!(ar.plural, "widgets");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    let widgets: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "default",
        &ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget")),
    );
    let w: DynamicObject = serde_json::from_value(json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3}, "status": {"ignored": true}})).unwrap();
    let created = widgets.create(&PostParams::default(), &w).await.unwrap();
    assert_eq!(created.data["spec"]["size"], 3);
    assert!(
        created.data.get("status").is_none(),
        "status is dropped on create with a status subresource"
    );
    assert_eq!(created.metadata.generation, Some(1));
    let status = widgets
        .patch_status(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"ready": true}})),
        )
        .await
        .unwrap();
    assert_eq!(status.data["status"]["ready"], true);
    assert_eq!(
        status.metadata.generation,
        Some(1),
        "status writes do not bump generation"
    );
    let spec = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 4}})),
        )
        .await
        .unwrap();
    assert_eq!(spec.metadata.generation, Some(2));

    // Deleting the CRD removes its instances and its API.
    crds.delete("widgets.example.com", &DeleteParams::default())
        .await
        .unwrap();
    wait_for("CRD gone", || {
        let crds = crds.clone();
        async move {
            crds.get_opt("widgets.example.com")
                .await
                .ok()?
                .is_none()
                .then_some(())
        }
    })
    .await;
    let kube::Error::Api(status) = widgets.get("w").await.unwrap_err() else {
        panic!()
    };
    assert_eq!(status.code, 404);
}

#[tokio::test]
async fn deployments_get_simulated_status_and_failures() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let deployment = |name: &str, image: &str| -> Deployment {
        serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": image}]}}}
        }))
        .unwrap()
    };
    deploys
        .create(&PostParams::default(), &deployment("good", "nginx:1.27"))
        .await
        .unwrap();
    deploys
        .create(&PostParams::default(), &deployment("bad", "nginx:fail"))
        .await
        .unwrap();
    let condition = |d: &Deployment, t: &str| {
        d.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == t)
            .map(|c| (c.status.clone(), c.reason.clone().unwrap_or_default()))
    };
    let good = wait_for("good available", || {
        let deploys = deploys.clone();
        async move {
            let d = deploys.get("good").await.ok()?;
            (condition(&d, "Available")? == ("True".into(), "MinimumReplicasAvailable".into()))
                .then_some(d)
        }
    })
    .await;
    let status = good.status.unwrap();
    assert_eq!(
        (
            status.ready_replicas,
            status.available_replicas,
            status.observed_generation
        ),
        (Some(2), Some(2), Some(1))
    );
    wait_for("bad fails", || {
        let deploys = deploys.clone();
        async move {
            let d = deploys.get("bad").await.ok()?;
            (condition(&d, "Progressing")? == ("False".into(), "ProgressDeadlineExceeded".into()))
                .then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn finalizers_namespaces_and_garbage_collection() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "team"}})).unwrap();
    let created = namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    assert_eq!(created.status.unwrap().phase.as_deref(), Some("Active"));
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "team");

    // Finalizers hold deletion until removed.
    let mut held = cm("held", json!({}));
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    let held = cms.create(&PostParams::default(), &held).await.unwrap();
    cms.delete("held", &DeleteParams::default()).await.unwrap();
    let pending = cms.get("held").await.unwrap();
    assert!(pending.metadata.deletion_timestamp.is_some());

    // Owner references: deleting the owner collects the dependent.
    let owner = cms
        .create(&PostParams::default(), &cm("owner", json!({})))
        .await
        .unwrap();
    let mut dep = cm("dependent", json!({}));
    dep.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "owner".into(),
            uid: owner.uid().unwrap(),
            ..Default::default()
        },
    ]);
    cms.create(&PostParams::default(), &dep).await.unwrap();
    cms.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    wait_for("dependent collected", || {
        let cms = cms.clone();
        async move { cms.get_opt("dependent").await.ok()?.is_none().then_some(()) }
    })
    .await;

    // Namespace deletion: Terminating until its content is gone.
    namespaces
        .delete("team", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces.get("team").await.unwrap();
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    let kube::Error::Api(status) = cms
        .create(&PostParams::default(), &cm("late", json!({})))
        .await
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        namespaces.get_opt("team").await.unwrap().is_some(),
        "held by the finalized config map"
    );
    let _ = held;
    cms.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    wait_for("namespace gone", || {
        let namespaces = namespaces.clone();
        async move {
            namespaces
                .get_opt("team")
                .await
                .ok()?
                .is_none()
                .then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn server_side_apply_tracks_owners_and_conflicts() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let manifest = |replicas: i64, image: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": image}]}}}})
    };
    let first = deploys
        .patch(
            "web",
            &PatchParams::apply("alice"),
            &Patch::Apply(manifest(2, "nginx:1")),
        )
        .await
        .unwrap();
    let managers: Vec<_> = first
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .map(|m| (m.manager.unwrap(), m.operation.unwrap()))
        .collect();
    assert_eq!(managers, [("alice".to_owned(), "Apply".to_owned())]);

    // Another manager changing alice's field conflicts, naming her and the field.
    let err = deploys
        .patch(
            "web",
            &PatchParams::apply("bob"),
            &Patch::Apply(manifest(3, "nginx:1")),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!()
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert!(
        status.message.contains("conflict with \"alice\""),
        "{}",
        status.message
    );
    assert!(
        status.message.contains(".spec.replicas"),
        "{}",
        status.message
    );
    // With force, bob takes the field over.
    let forced = deploys
        .patch(
            "web",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(manifest(3, "nginx:1")),
        )
        .await
        .unwrap();
    assert_eq!(forced.spec.unwrap().replicas, Some(3));

    // Strategic merge keeps other containers (merge key: name).
    let patched = deploys
        .patch("web", &PatchParams::default(), &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}}})))
        .await
        .unwrap();
    let names: Vec<String> = patched
        .spec
        .unwrap()
        .template
        .spec
        .unwrap()
        .containers
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let managers: Vec<String> = patched
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.len() >= 3, "{managers:?}");
}

#[tokio::test]
async fn state_survives_a_restart_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let start =
        || TestApiServer::start_builder(ferry_apiserver::ApiServer::builder().data_dir(dir.path()));
    let server = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await, "default");
    let created = cms
        .create(&PostParams::default(), &cm("kept", json!({"k": "v"})))
        .await
        .unwrap();
    let token = server.token().to_owned();
    server.shutdown().await;

    let server = start().await;
    assert_eq!(
        server.token(),
        token,
        "the token file in the data dir is reused"
    );
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await, "default");
    let again = cms.get("kept").await.unwrap();
    assert_eq!(again.metadata.uid, created.metadata.uid);
    assert_eq!(
        again.metadata.resource_version,
        created.metadata.resource_version
    );
    // New writes continue the resourceVersion sequence.
    let next = cms
        .create(&PostParams::default(), &cm("next", json!({})))
        .await
        .unwrap();
    let rv = |c: &ConfigMap| {
        c.metadata
            .resource_version
            .as_ref()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv(&next) > rv(&again));
}

#[tokio::test]
async fn dry_run_deletecollection_and_expired_watches() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let dry = cms
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &cm("dry", json!({})),
        )
        .await
        .unwrap();
    assert_eq!(dry.metadata.name.as_deref(), Some("dry"));
    assert!(
        cms.get_opt("dry").await.unwrap().is_none(),
        "dryRun=All persists nothing"
    );

    for i in 0..3 {
        cms.create(
            &PostParams::default(),
            &cm(&format!("gone-{i}"), json!({"batch": "x"})),
        )
        .await
        .unwrap();
    }
    cms.create(&PostParams::default(), &cm("stays", json!({"batch": "y"})))
        .await
        .unwrap();
    cms.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("batch=x"),
    )
    .await
    .unwrap();
    let left: Vec<String> = cms
        .list(&ListParams::default().labels("batch"))
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| c.name_any())
        .collect();
    assert_eq!(left, ["stays"]);

    // A watch from a resourceVersion older than the retained history gets 410 Expired.
    let small =
        TestApiServer::start_builder(ferry_apiserver::ApiServer::builder().watch_history(16)).await;
    let cms: Api<ConfigMap> = Api::namespaced(small.client().await, "default");
    let first = cms
        .create(&PostParams::default(), &cm("first", json!({})))
        .await
        .unwrap();
    for i in 0..40 {
        cms.create(
            &PostParams::default(),
            &cm(&format!("filler-{i}"), json!({})),
        )
        .await
        .unwrap();
    }
    let mut stream = cms
        .watch(
            &kube::api::WatchParams::default(),
            first.metadata.resource_version.as_deref().unwrap(),
        )
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap() {
        Some(kube::api::WatchEvent::Error(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"))
        }
        other => panic!("expected 410 Expired, got {other:?}"),
    }
}
