#![allow(clippy::unwrap_used)]
//! The points of issue 2 that the kubectl scenario does not pin down, one test each, through
//! kube-rs and raw HTTP requests (for what kube-rs hides: Status details, Warning headers,
//! content negotiation): selectors, paging, watch bookmarks and replay, generateName, deletion
//! propagation, scale subresources, dry run, generation, concurrency, fieldValidation with unknown
//! and duplicate fields, conflict causes, every built-in kind, discovery and OpenAPI with CRDs.

use std::time::Duration;

use axum::http::{Method, Request};
use ferry_test::apiserver::TestApiServer;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{ConfigMap, Namespace},
};
use kube::{
    Api, ResourceExt,
    api::{
        DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent,
        WatchParams,
    },
    core::{ApiResource, GroupVersionKind},
};
use serde_json::{Value, json};

fn cm(name: &str, labels: Value) -> ConfigMap {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}})).unwrap()
}

async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..400 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A raw answer: status code, `Warning` header texts, `Content-Type`, and the body as JSON.
struct Answer {
    code: u16,
    warnings: Vec<String>,
    content_type: String,
    body: Value,
}

async fn raw(
    client: &kube::Client,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(kube::client::Body::from(body.as_bytes().to_vec()))
        .unwrap();
    let response = client.send(request).await.unwrap();
    let code = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| {
            // `299 - "text"` with the text's quotes and backslashes escaped.
            let v = v.to_str().unwrap();
            let quoted = v.strip_prefix("299 - \"").and_then(|t| t.strip_suffix('"'));
            quoted
                .unwrap_or_else(|| panic!("a Warning header in the real server's form: {v}"))
                .replace("\\\"", "\"")
                .replace("\\\\", "\\")
        })
        .collect();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect_bytes().await.unwrap();
    Answer {
        code,
        warnings,
        content_type,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn create_namespace(client: &kube::Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
        )
        .await
        .unwrap();
}

fn names(list: &[ConfigMap]) -> Vec<String> {
    let mut out: Vec<String> = list
        .iter()
        .map(|c| format!("{}/{}", c.namespace().unwrap_or_default(), c.name_any()))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn set_based_label_selectors_and_field_selectors() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    create_namespace(&client, "a").await;
    create_namespace(&client, "b").await;
    let in_a: Api<ConfigMap> = Api::namespaced(client.clone(), "a");
    let in_b: Api<ConfigMap> = Api::namespaced(client.clone(), "b");
    let all: Api<ConfigMap> = Api::all(client.clone());
    let pp = PostParams::default();
    in_a.create(&pp, &cm("x", json!({"env": "prod", "tier": "web"})))
        .await
        .unwrap();
    in_a.create(&pp, &cm("y", json!({"env": "dev"})))
        .await
        .unwrap();
    in_a.create(&pp, &cm("z", json!({}))).await.unwrap();
    in_b.create(&pp, &cm("x", json!({"env": "prod"})))
        .await
        .unwrap();

    let select = |labels: &'static str, fields: &'static str| {
        let all = all.clone();
        async move {
            let mut lp = ListParams::default();
            if !labels.is_empty() {
                lp = lp.labels(labels);
            }
            if !fields.is_empty() {
                lp = lp.fields(fields);
            }
            names(&all.list(&lp).await.unwrap().items)
                .into_iter()
                .filter(|n| {
                    (n.starts_with("a/") || n.starts_with("b/"))
                        && !n.ends_with("/kube-root-ca.crt")
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        select("env notin (dev)", "").await,
        ["a/x", "a/z", "b/x"],
        "notin also matches objects without the key"
    );
    assert_eq!(select("!env", "").await, ["a/z"]);
    assert_eq!(select("env,env!=prod", "").await, ["a/y"]);
    assert_eq!(select("env in (prod,dev),tier", "").await, ["a/x"]);
    assert_eq!(select("env==prod", "").await, ["a/x", "b/x"]);
    assert_eq!(select("", "metadata.namespace=b").await, ["b/x"]);
    assert_eq!(
        select("", "metadata.name=x,metadata.namespace!=a").await,
        ["b/x"]
    );
    assert_eq!(
        select("env", "metadata.name!=x").await,
        ["a/y"],
        "label and field selectors combine"
    );
    assert_eq!(
        names(
            &in_a
                .list(&ListParams::default().fields("metadata.name!=x"))
                .await
                .unwrap()
                .items
        ),
        ["a/kube-root-ca.crt", "a/y", "a/z"]
    );

    // Bad selectors are 400s with the real server's messages.
    let kube::Error::Api(status) = all
        .list(&ListParams::default().fields("data.k=v"))
        .await
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!((status.code, status.reason.as_str()), (400, "BadRequest"));
    assert!(
        status.message.contains("field label not supported: data.k"),
        "{}",
        status.message
    );
    let kube::Error::Api(status) = all
        .list(&ListParams::default().labels("env in prod"))
        .await
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(status.code, 400, "{}", status.message);

    // Paging over every namespace keeps the order, counts what is left, and serves later pages
    // from the first page's revision: writes in between do not show.
    let before = names(&all.list(&ListParams::default()).await.unwrap().items);
    let first = all.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(
        first.metadata.remaining_item_count,
        Some(before.len() as i64 - 2),
        "remainingItemCount without selectors"
    );
    in_b.create(&pp, &cm("zz-late", json!({}))).await.unwrap();
    in_b.delete("x", &DeleteParams::default()).await.unwrap();
    in_a.patch(
        "z",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "later"}})),
    )
    .await
    .unwrap();
    let mut seen = names(&first.items);
    let mut token = first.metadata.continue_;
    while let Some(t) = token {
        let page = all
            .list(&ListParams::default().limit(2).continue_token(&t))
            .await
            .unwrap();
        for item in &page.items {
            if item.name_any() == "z" {
                assert_eq!(item.data.as_ref().unwrap()["k"], "v", "z as it was");
            }
        }
        seen.extend(names(&page.items));
        token = page.metadata.continue_;
    }
    seen.sort();
    assert_eq!(
        seen, before,
        "pages cover the first page's revision exactly once"
    );

    // resourceVersionMatch=Exact lists that same revision; "0" is a 422.
    let at = first.metadata.resource_version.clone().unwrap();
    let exact = all
        .list(
            &ListParams::default()
                .at(&at)
                .matching(kube::api::VersionMatch::Exact),
        )
        .await
        .unwrap();
    assert_eq!(names(&exact.items), before);
    assert_eq!(
        exact.metadata.resource_version.as_deref(),
        Some(at.as_str())
    );
    // (A future resourceVersion is a 504, which kube-rs retries: http_edges checks it with curl.)
    let answer = raw(
        &client,
        Method::GET,
        "/api/v1/configmaps?resourceVersion=0&resourceVersionMatch=Exact",
        &[],
        "",
    )
    .await;
    assert_eq!(answer.code, 422, "{}", answer.body);
    let latest = all
        .list(
            &ListParams::default()
                .at("0")
                .matching(kube::api::VersionMatch::NotOlderThan),
        )
        .await
        .unwrap();
    assert!(names(&latest.items).contains(&"b/zz-late".to_owned()));
    let kube::Error::Api(status) = all
        .list(&ListParams::default().continue_token("not-a-token"))
        .await
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(status.code, 400);
}

#[tokio::test]
async fn watches_replay_from_a_resource_version_send_bookmarks_and_follow_selectors() {
    let server = TestApiServer::start_builder(
        ferry_apiserver::ApiServer::builder().bookmark_interval(Duration::from_millis(200)),
    )
    .await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let pp = PostParams::default();
    let a = cms
        .create(&pp, &cm("a", json!({"w": "yes"})))
        .await
        .unwrap();
    let from = a.resource_version().unwrap();
    cms.create(&pp, &cm("b", json!({"w": "yes"})))
        .await
        .unwrap();
    cms.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "changed"}})),
    )
    .await
    .unwrap();

    // Replay: what happened after `from`, in order, then live events and bookmarks.
    let mut stream = cms
        .watch(&WatchParams::default().labels("w=yes"), &from)
        .await
        .unwrap()
        .boxed();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), stream.try_next())
            .await
            .expect("a watch event in time")
            .unwrap()
            .expect("the watch stays open")
    };
    match next().await {
        WatchEvent::Added(c) => assert_eq!(c.name_any(), "b"),
        other => panic!("expected ADDED b, got {other:?}"),
    }
    match next().await {
        WatchEvent::Modified(c) => assert_eq!(c.data.unwrap()["k"], "changed"),
        other => panic!("expected MODIFIED a, got {other:?}"),
    }
    // Relabelling an object out of the selector reads as DELETED to this watch.
    cms.patch(
        "b",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"w": "no"}}})),
    )
    .await
    .unwrap();
    let mut saw_deleted = false;
    let mut bookmark_rv = None;
    for _ in 0..10 {
        match next().await {
            WatchEvent::Deleted(c) => {
                assert_eq!(c.name_any(), "b");
                saw_deleted = true;
            }
            WatchEvent::Bookmark(b) => {
                bookmark_rv = Some(b.metadata.resource_version);
                if saw_deleted {
                    break;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(saw_deleted, "b leaving the selector is a DELETED event");
    let bookmark_rv: u64 = bookmark_rv.expect("a BOOKMARK").parse().unwrap();
    assert!(bookmark_rv >= from.parse::<u64>().unwrap());
}

#[tokio::test]
async fn generate_name_dry_run_and_generation() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut generated = cm("", json!({}));
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    let one = cms
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    let two = cms
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    for made in [&one, &two] {
        let name = made.name_any();
        assert!(
            name.starts_with("gen-") && name.len() == "gen-".len() + 5,
            "{name}"
        );
        assert_eq!(made.metadata.generate_name.as_deref(), Some("gen-"));
    }
    assert_ne!(one.name_any(), two.name_any());
    assert_eq!(
        one.metadata.generation, None,
        "config maps have no generation"
    );

    // dryRun=All on every write persists nothing and sends no event.
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let dry_made = cms.create(&dry, &generated).await.unwrap();
    assert!(dry_made.name_any().starts_with("gen-"));
    assert!(cms.get_opt(&dry_made.name_any()).await.unwrap().is_none());
    let mut changed = one.clone();
    changed.data = Some([("k".to_owned(), "dry".to_owned())].into());
    let shown = cms.replace(&one.name_any(), &dry, &changed).await.unwrap();
    assert_eq!(shown.data.unwrap()["k"], "dry");
    assert_eq!(
        cms.get(&one.name_any()).await.unwrap().data.unwrap()["k"],
        "v"
    );
    cms.patch(
        &one.name_any(),
        &PatchParams::default().dry_run(),
        &Patch::Merge(json!({"data": {"k": "dry"}})),
    )
    .await
    .unwrap();
    let dp = DeleteParams {
        dry_run: true,
        ..Default::default()
    };
    cms.delete(&one.name_any(), &dp).await.unwrap();
    let still = cms.get(&one.name_any()).await.unwrap();
    assert_eq!(still.data.unwrap()["k"], "v");
    assert_eq!(
        still.metadata.resource_version,
        one.metadata.resource_version
    );

    // Generation: spec changes only, not metadata or status.
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    }))
    .unwrap();
    let created = deploys.create(&PostParams::default(), &d).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let pp = PatchParams::default();
    let labelled = deploys
        .patch(
            "web",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"x": "1"}, "annotations": {"y": "2"}}})),
        )
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(1));
    let status = deploys
        .patch_status(
            "web",
            &pp,
            &Patch::Merge(json!({"status": {"observedGeneration": 1, "replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(status.metadata.generation, Some(1));
    let spec = deploys
        .patch("web", &pp, &Patch::Merge(json!({"spec": {"replicas": 3}})))
        .await
        .unwrap();
    assert_eq!(spec.metadata.generation, Some(2));
    let status_in_main = deploys
        .patch(
            "web",
            &pp,
            &Patch::Merge(json!({"status": {"replicas": 99}})),
        )
        .await
        .unwrap();
    assert_eq!(
        status_in_main.metadata.generation,
        Some(2),
        "status in a main-resource write is ignored"
    );
    assert_ne!(status_in_main.status.unwrap().replicas, Some(99));
}

fn owned_by(name: &str, owner: &ConfigMap) -> ConfigMap {
    let mut dep = cm(name, json!({}));
    dep.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: owner.name_any(),
            uid: owner.uid().unwrap(),
            block_owner_deletion: Some(true),
            ..Default::default()
        },
    ]);
    dep
}

#[tokio::test]
async fn propagation_policies_foreground_and_orphan() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let pp = PostParams::default();

    // Foreground: the owner waits, with the foregroundDeletion finalizer, for its dependents.
    let owner = cms.create(&pp, &cm("fg-owner", json!({}))).await.unwrap();
    let mut dep = owned_by("fg-dep", &owner);
    dep.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    cms.create(&pp, &dep).await.unwrap();
    cms.delete("fg-owner", &DeleteParams::foreground())
        .await
        .unwrap();
    let pending = cms.get("fg-owner").await.unwrap();
    assert!(pending.metadata.deletion_timestamp.is_some());
    assert_eq!(
        pending.metadata.finalizers.as_deref(),
        Some(&["foregroundDeletion".to_owned()][..])
    );
    wait_for("the dependent is being deleted", || {
        let cms = cms.clone();
        async move {
            cms.get("fg-dep")
                .await
                .ok()?
                .metadata
                .deletion_timestamp
                .map(|_| ())
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        cms.get_opt("fg-owner").await.unwrap().is_some(),
        "the owner stays while a dependent exists"
    );
    cms.patch(
        "fg-dep",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    wait_for("owner gone after its dependent", || {
        let cms = cms.clone();
        async move { cms.get_opt("fg-owner").await.ok()?.is_none().then_some(()) }
    })
    .await;

    // Orphan: the owner goes, the dependent stays without the owner reference.
    let owner = cms.create(&pp, &cm("or-owner", json!({}))).await.unwrap();
    cms.create(&pp, &owned_by("or-dep", &owner)).await.unwrap();
    cms.delete("or-owner", &DeleteParams::orphan())
        .await
        .unwrap();
    wait_for("orphaning owner gone", || {
        let cms = cms.clone();
        async move { cms.get_opt("or-owner").await.ok()?.is_none().then_some(()) }
    })
    .await;
    let orphan = cms.get("or-dep").await.unwrap();
    assert!(orphan.metadata.deletion_timestamp.is_none());
    assert!(
        orphan
            .metadata
            .owner_references
            .unwrap_or_default()
            .is_empty(),
        "the orphan loses its owner reference"
    );

    // Background: the owner goes at once, the dependent is collected afterwards.
    let owner = cms.create(&pp, &cm("bg-owner", json!({}))).await.unwrap();
    cms.create(&pp, &owned_by("bg-dep", &owner)).await.unwrap();
    cms.delete("bg-owner", &DeleteParams::background())
        .await
        .unwrap();
    assert!(cms.get_opt("bg-owner").await.unwrap().is_none());
    wait_for("background dependent collected", || {
        let cms = cms.clone();
        async move { cms.get_opt("bg-dep").await.ok()?.is_none().then_some(()) }
    })
    .await;

    // A dependent whose owner never existed is collected too (the GC checks owners by uid).
    let ghost = cms.create(&pp, &cm("ghost", json!({}))).await.unwrap();
    cms.delete("ghost", &DeleteParams::default()).await.unwrap();
    cms.create(&pp, &owned_by("ghost-dep", &ghost))
        .await
        .unwrap();
    wait_for("dependent of a missing owner collected", || {
        let cms = cms.clone();
        async move { cms.get_opt("ghost-dep").await.ok()?.is_none().then_some(()) }
    })
    .await;
}

const SCALED_CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "gadgets.example.com"},
  "spec": {"group": "example.com", "scope": "Namespaced",
    "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
    "versions": [
      {"name": "v1alpha1", "served": true, "storage": false,
       "schema": {"openAPIV3Schema": {"type": "object", "properties": {
         "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
         "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
       "subresources": {"status": {}}},
      {"name": "v1", "served": true, "storage": true,
       "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas", "labelSelectorPath": ".status.selector"}},
       "schema": {"openAPIV3Schema": {"type": "object", "description": "A gadget.", "properties": {
         "spec": {"type": "object",
           "x-kubernetes-validations": [{"rule": "self.min <= self.max", "message": "min must not exceed max"}],
           "properties": {
             "replicas": {"type": "integer"},
             "port": {"x-kubernetes-int-or-string": true},
             "mode": {"type": "string", "default": "fast"},
             "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
             "min": {"type": "integer", "default": 0},
             "max": {"type": "integer", "default": 10}}},
         "status": {"type": "object", "properties": {
           "replicas": {"type": "integer"}, "selector": {"type": "string"}}}}}}}
    ]}
}"#;

async fn install_gadgets(client: &kube::Client) {
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    crds.create(
        &PostParams::default(),
        &serde_json::from_str(SCALED_CRD).unwrap(),
    )
    .await
    .unwrap();
    wait_for("gadgets established", || {
        let crds = crds.clone();
        async move {
            let c = crds.get("gadgets.example.com").await.ok()?;
            c.status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
                .then_some(())
        }
    })
    .await;
}

fn gadgets(client: &kube::Client, version: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        "default",
        &ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", version, "Gadget")),
    )
}

fn gadget(version: &str, name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": format!("example.com/{version}"), "kind": "Gadget", "metadata": {"name": name}, "spec": spec})).unwrap()
}

#[tokio::test]
async fn crd_versions_schema_features_and_scale() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    install_gadgets(&client).await;
    let v1 = gadgets(&client, "v1");
    let alpha = gadgets(&client, "v1alpha1");
    let pp = PostParams::default();

    // Written through the old version, stored in the storage version, read through either.
    let made = alpha
        .create(
            &pp,
            &gadget(
                "v1alpha1",
                "old",
                json!({"replicas": 1, "min": 1, "max": 2}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        made.types.as_ref().unwrap().api_version,
        "example.com/v1alpha1"
    );
    let read = v1.get("old").await.unwrap();
    assert_eq!(read.types.as_ref().unwrap().api_version, "example.com/v1");
    assert_eq!(read.data["spec"]["replicas"], 1);
    // Admitted with v1alpha1's schema, which has no defaults: v1's show on every read.
    assert_eq!(read.data["spec"]["mode"], "fast", "{:?}", read.data);
    assert_eq!(
        v1.list(&Default::default()).await.unwrap().items[0].data["spec"]["mode"],
        "fast"
    );
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    let crd = crds.get("gadgets.example.com").await.unwrap();
    assert_eq!(
        crd.status.unwrap().stored_versions,
        Some(vec!["v1".to_owned()])
    );
    let group = raw(&client, Method::GET, "/apis/example.com", &[], "").await;
    assert_eq!(
        group.body["preferredVersion"]["version"], "v1",
        "{}",
        group.body
    );
    assert_eq!(
        group.body["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["v1", "v1alpha1"]
    );

    // int-or-string takes both, preserve-unknown-fields keeps anything, unknown fields are
    // pruned with a warning, defaults are filled in.
    let answer = raw(
        &client,
        Method::POST,
        "/apis/example.com/v1/namespaces/default/gadgets",
        &[("content-type", "application/json")],
        &json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"},
            "spec": {"replicas": 2, "port": 8080, "extra": {"any": {"thing": [1, "two"]}}, "bogus": true}})
        .to_string(),
    )
    .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert_eq!(answer.body["spec"]["port"], 8080);
    assert_eq!(
        answer.body["spec"]["extra"]["any"]["thing"],
        json!([1, "two"])
    );
    assert_eq!(answer.body["spec"]["mode"], "fast");
    assert_eq!(answer.body["spec"]["max"], 10);
    assert!(
        answer.body["spec"].get("bogus").is_none(),
        "{}",
        answer.body
    );
    assert!(
        answer
            .warnings
            .iter()
            .any(|w| w.contains("unknown field \"spec.bogus\"")),
        "{:?}",
        answer.warnings
    );
    let named = v1
        .create(&pp, &gadget("v1", "g2", json!({"port": "http"})))
        .await
        .unwrap();
    assert_eq!(named.data["spec"]["port"], "http");

    // Type errors and CEL rules are 422 Invalid with the field named.
    for (spec, needle) in [
        (json!({"port": true}), "spec.port"),
        (json!({"mode": 3}), "spec.mode"),
        (json!({"min": 5, "max": 1}), "min must not exceed max"),
    ] {
        let kube::Error::Api(status) = v1
            .create(&pp, &gadget("v1", "bad", spec.clone()))
            .await
            .unwrap_err()
        else {
            panic!()
        };
        assert_eq!(
            (status.code, status.reason.as_str()),
            (422, "Invalid"),
            "{spec}"
        );
        assert!(
            status.message.contains(needle),
            "{spec}: {}",
            status.message
        );
    }

    // The scale subresource reads and writes the CRD's paths.
    v1.patch_status(
        "g1",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"replicas": 2, "selector": "app=g1"}})),
    )
    .await
    .unwrap();
    let scale = v1.get_scale("g1").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    let status = scale.status.unwrap();
    assert_eq!(
        (status.replicas, status.selector.as_deref()),
        (2, Some("app=g1"))
    );
    let scaled = v1
        .patch_scale(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.spec.unwrap().replicas, Some(5));
    let after = v1.get("g1").await.unwrap();
    assert_eq!(after.data["spec"]["replicas"], 5);
    assert_eq!(after.metadata.generation, Some(2));
    // The old version has no scale subresource.
    let kube::Error::Api(status) = alpha.get_scale("g1").await.unwrap_err() else {
        panic!()
    };
    assert_eq!(status.code, 404);

    // Built-in scale: a stale resourceVersion conflicts.
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deploys
        .create(
            &pp,
            &serde_json::from_value(json!({"metadata": {"name": "web"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
            .unwrap(),
        )
        .await
        .unwrap();
    let mut scale = deploys.get_scale("web").await.unwrap();
    assert_eq!(
        scale.status.as_ref().unwrap().selector.as_deref(),
        Some("app=web")
    );
    scale.spec.as_mut().unwrap().replicas = Some(4);
    deploys.replace_scale("web", &pp, &scale).await.unwrap();
    assert_eq!(
        deploys.get("web").await.unwrap().spec.unwrap().replicas,
        Some(4)
    );
    let kube::Error::Api(status) = deploys.replace_scale("web", &pp, &scale).await.unwrap_err()
    else {
        panic!()
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
}

#[tokio::test]
async fn openapi_and_aggregated_discovery_include_crds() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    install_gadgets(&client).await;

    let v2 = raw(
        &client,
        Method::GET,
        "/openapi/v2",
        &[("accept", "application/json")],
        "",
    )
    .await;
    assert_eq!(v2.code, 200);
    assert!(v2.body["definitions"]["io.k8s.api.apps.v1.Deployment"].is_object());
    let gadget = &v2.body["definitions"]["com.example.v1.Gadget"];
    assert_eq!(gadget["description"], "A gadget.", "{gadget}");
    assert_eq!(
        gadget["x-kubernetes-group-version-kind"][0]["kind"],
        "Gadget"
    );

    let v3 = raw(&client, Method::GET, "/openapi/v3", &[], "").await;
    let url = v3.body["paths"]["apis/example.com/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", v3.body))
        .to_owned();
    assert!(v3.body["paths"]["apis/apps/v1"].is_object());
    let doc = raw(&client, Method::GET, &url, &[], "").await;
    assert_eq!(
        doc.body["components"]["schemas"]["com.example.v1.Gadget"]["description"],
        "A gadget."
    );
    assert!(
        doc.body["paths"]["/apis/example.com/v1/namespaces/{namespace}/gadgets/{name}/scale"]
            .is_object()
    );

    // Aggregated discovery, as kubectl 1.33 asks for it.
    let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9";
    let apis = raw(&client, Method::GET, "/apis", &[("accept", accept)], "").await;
    assert_eq!(apis.code, 200);
    assert!(
        apis.content_type.contains("as=APIGroupDiscoveryList"),
        "{}",
        apis.content_type
    );
    assert_eq!(apis.body["kind"], "APIGroupDiscoveryList");
    let example = apis.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "example.com")
        .expect("the CRD's group is discovered");
    let v1 = &example["versions"][0];
    assert_eq!(v1["version"], "v1");
    let resource = &v1["resources"][0];
    assert_eq!(resource["resource"], "gadgets");
    assert_eq!(resource["scope"], "Namespaced");
    let subresources: Vec<&str> = resource["subresources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subresource"].as_str().unwrap())
        .collect();
    assert!(subresources.contains(&"scale") && subresources.contains(&"status"));
    let core = raw(&client, Method::GET, "/api", &[("accept", accept)], "").await;
    assert_eq!(core.body["kind"], "APIGroupDiscoveryList");
    assert!(
        core.body["items"][0]["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["resource"] == "configmaps")
    );
    // The legacy documents stay available for older clients.
    let legacy = raw(
        &client,
        Method::GET,
        "/apis",
        &[("accept", "application/json")],
        "",
    )
    .await;
    assert_eq!(legacy.body["kind"], "APIGroupList");
}

#[tokio::test]
async fn field_validation_of_unknown_and_duplicate_fields() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let path = "/api/v1/namespaces/default/configmaps";
    let json_ct = [("content-type", "application/json")];
    let yaml_ct = [("content-type", "application/yaml")];

    // Unknown fields of a built-in kind.
    let unknown = |name: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}, "spec": {"x": 1}})
            .to_string()
    };
    let strict = raw(
        &client,
        Method::POST,
        &format!("{path}?fieldValidation=Strict"),
        &json_ct,
        &unknown("u1"),
    )
    .await;
    assert_eq!(strict.code, 400, "{}", strict.body);
    assert_eq!(strict.body["reason"], "BadRequest");
    assert!(
        strict.body["message"]
            .as_str()
            .unwrap()
            .contains("strict decoding error: unknown field \"spec\""),
        "{}",
        strict.body
    );
    let warn = raw(&client, Method::POST, path, &json_ct, &unknown("u2")).await;
    assert_eq!(warn.code, 201, "{}", warn.body);
    assert!(
        warn.body.get("spec").is_none(),
        "unknown fields are dropped"
    );
    assert!(
        warn.warnings
            .iter()
            .any(|w| w.contains("unknown field \"spec\"")),
        "{:?}",
        warn.warnings
    );
    let ignore = raw(
        &client,
        Method::POST,
        &format!("{path}?fieldValidation=Ignore"),
        &json_ct,
        &unknown("u3"),
    )
    .await;
    assert_eq!(ignore.code, 201);
    assert!(ignore.warnings.is_empty(), "{:?}", ignore.warnings);
    assert!(ignore.body.get("spec").is_none());
    let bad = raw(
        &client,
        Method::POST,
        &format!("{path}?fieldValidation=Sometimes"),
        &json_ct,
        &unknown("u4"),
    )
    .await;
    assert_eq!(
        (bad.code, &bad.body["details"]["kind"]),
        (422, &json!("CreateOptions")),
        "{}",
        bad.body
    );

    // Duplicate keys in YAML: the last one wins where the server accepts the body.
    let yaml = |name: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: first\n  a: second\n"
        )
    };
    let strict = raw(
        &client,
        Method::POST,
        &format!("{path}?fieldValidation=Strict"),
        &yaml_ct,
        &yaml("d1"),
    )
    .await;
    assert_eq!(strict.code, 400, "{}", strict.body);
    let message = strict.body["message"].as_str().unwrap();
    assert!(
        message.contains("strict decoding error")
            && message.contains("key \"a\" already set in map"),
        "{message}"
    );
    let warn = raw(&client, Method::POST, path, &yaml_ct, &yaml("d2")).await;
    assert_eq!(warn.code, 201, "{}", warn.body);
    assert_eq!(warn.body["data"]["a"], "second");
    assert!(
        warn.warnings
            .iter()
            .any(|w| w.contains("key \"a\" already set in map")),
        "{:?}",
        warn.warnings
    );
    let ignore = raw(
        &client,
        Method::POST,
        &format!("{path}?fieldValidation=Ignore"),
        &yaml_ct,
        &yaml("d3"),
    )
    .await;
    assert_eq!(ignore.code, 201, "{}", ignore.body);
    assert_eq!(ignore.body["data"]["a"], "second");
    assert!(ignore.warnings.is_empty(), "{:?}", ignore.warnings);

    // Duplicate keys in JSON, the same way.
    let dup_json = |name: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}"}},"data":{{"a":"first","a":"second"}}}}"#
        )
    };
    let strict = raw(
        &client,
        Method::POST,
        &format!("{path}?fieldValidation=Strict"),
        &json_ct,
        &dup_json("j1"),
    )
    .await;
    assert_eq!(strict.code, 400, "{}", strict.body);
    assert!(
        strict.body["message"]
            .as_str()
            .unwrap()
            .contains("duplicate field"),
        "{}",
        strict.body
    );
    let warn = raw(&client, Method::POST, path, &json_ct, &dup_json("j2")).await;
    assert_eq!(warn.code, 201, "{}", warn.body);
    assert_eq!(warn.body["data"]["a"], "second");
    assert!(
        warn.warnings.iter().any(|w| w.contains("duplicate field")),
        "{:?}",
        warn.warnings
    );

    // A server-side apply body in YAML with duplicates.
    let apply_path = "/api/v1/namespaces/default/configmaps/ap?fieldManager=m";
    let apply_ct = [("content-type", "application/apply-patch+yaml")];
    let strict = raw(
        &client,
        Method::PATCH,
        &format!("{apply_path}&fieldValidation=Strict"),
        &apply_ct,
        &yaml("ap"),
    )
    .await;
    assert_eq!(strict.code, 400, "{}", strict.body);
    let warn = raw(&client, Method::PATCH, apply_path, &apply_ct, &yaml("ap")).await;
    assert_eq!(warn.code, 201, "{}", warn.body);
    assert_eq!(warn.body["data"]["a"], "second");
    assert!(!warn.warnings.is_empty());

    // Unknown fields in a merge patch under Strict: 422 naming the field; under Warn: dropped.
    let merge_ct = [("content-type", "application/merge-patch+json")];
    let strict = raw(
        &client,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/d2?fieldValidation=Strict",
        &merge_ct,
        r#"{"spec":{"x":1}}"#,
    )
    .await;
    assert_eq!(strict.code, 422, "{}", strict.body);
    assert!(
        strict.body["message"]
            .as_str()
            .unwrap()
            .contains("unknown field \"spec\""),
        "{}",
        strict.body
    );
    let warn = raw(
        &client,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/d2",
        &merge_ct,
        r#"{"spec":{"x":1},"data":{"b":"2"}}"#,
    )
    .await;
    assert_eq!(warn.code, 200, "{}", warn.body);
    assert_eq!(warn.body["data"]["b"], "2");
    assert!(warn.body.get("spec").is_none());
    assert!(!warn.warnings.is_empty());
}

#[tokio::test]
async fn apply_conflicts_carry_status_causes_and_strategic_directives_work() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let deploy = |replicas: i64| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "c", "image": "nginx"}, {"name": "side", "image": "busybox"}]}}}})
        .to_string()
    };
    let ct = [("content-type", "application/apply-patch+yaml")];
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    let first = raw(
        &client,
        Method::PATCH,
        &format!("{path}?fieldManager=alice"),
        &ct,
        &deploy(2),
    )
    .await;
    assert_eq!(first.code, 201, "{}", first.body);
    let conflict = raw(
        &client,
        Method::PATCH,
        &format!("{path}?fieldManager=bob"),
        &ct,
        &deploy(3),
    )
    .await;
    assert_eq!(conflict.code, 409, "{}", conflict.body);
    let status = &conflict.body;
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "Conflict");
    assert_eq!(
        status["message"],
        "Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas"
    );
    // errors.NewApplyConflict: causes only, no name/group/kind in the details.
    assert_eq!(
        status["details"],
        json!({"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"alice\"", "field": ".spec.replicas"}]})
    );
    // An Update manager is named with its API version.
    let merge_ct = [("content-type", "application/merge-patch+json")];
    let edited = raw(
        &client,
        Method::PATCH,
        &format!("{path}?fieldManager=editor"),
        &merge_ct,
        r#"{"spec":{"minReadySeconds":5}}"#,
    )
    .await;
    assert_eq!(edited.code, 200, "{}", edited.body);
    let mut both = serde_json::from_str::<Value>(&deploy(2)).unwrap();
    both["spec"]["minReadySeconds"] = json!(7);
    let conflict = raw(
        &client,
        Method::PATCH,
        &format!("{path}?fieldManager=alice"),
        &ct,
        &both.to_string(),
    )
    .await;
    assert_eq!(conflict.code, 409, "{}", conflict.body);
    assert_eq!(
        conflict.body["details"]["causes"][0]["message"],
        "conflict with \"editor\" using apps/v1"
    );

    // Strategic merge patch directives: $patch: delete on a list item by its merge key,
    // $setElementOrder, $retainKeys.
    let smp = [("content-type", "application/strategic-merge-patch+json")];
    let deleted = raw(
        &client,
        Method::PATCH,
        path,
        &smp,
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}"#,
    )
    .await;
    assert_eq!(deleted.code, 200, "{}", deleted.body);
    let containers: Vec<&str> = deleted.body["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(containers, ["c"]);
    let ordered = raw(
        &client,
        Method::PATCH,
        path,
        &smp,
        r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"z"},{"name":"c"}],"containers":[{"name":"z","image":"alpine"}]}}}}"#,
    )
    .await;
    assert_eq!(ordered.code, 200, "{}", ordered.body);
    let containers: Vec<&str> = ordered.body["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(containers, ["z", "c"]);
    let retained = raw(
        &client,
        Method::PATCH,
        path,
        &smp,
        r#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#,
    )
    .await;
    assert_eq!(retained.code, 200, "{}", retained.body);
    assert_eq!(
        retained.body["spec"]["strategy"],
        json!({"type": "Recreate"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_keep_every_write() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(&PostParams::default(), &cm("counter", json!({})))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for worker in 0..6 {
        let cms = cms.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                // Optimistic concurrency: read, increment, write; retry on 409.
                loop {
                    let mut c = cms.get("counter").await.unwrap();
                    let n: u64 = c.data.as_ref().unwrap()["k"].parse().unwrap_or(0);
                    c.data
                        .as_mut()
                        .unwrap()
                        .insert("k".into(), (n + 1).to_string());
                    match cms.replace("counter", &PostParams::default(), &c).await {
                        Ok(_) => break,
                        Err(kube::Error::Api(s)) if s.code == 409 => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
                cms.create(
                    &PostParams::default(),
                    &cm(&format!("w{worker}-{i}"), json!({"batch": "concurrent"})),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let counter = cms.get("counter").await.unwrap();
    assert_eq!(counter.data.unwrap()["k"], "90", "no lost update");
    let made = cms
        .list(&ListParams::default().labels("batch=concurrent"))
        .await
        .unwrap()
        .items;
    assert_eq!(made.len(), 90);
    let mut rvs: Vec<u64> = made
        .iter()
        .map(|c| c.resource_version().unwrap().parse().unwrap())
        .collect();
    rvs.sort_unstable();
    rvs.dedup();
    assert_eq!(rvs.len(), 90, "every write has its own resourceVersion");
}

/// Every built-in kind the issue names, created from a minimal valid manifest through the
/// resource discovery finds, then read back and listed.
#[tokio::test]
async fn every_required_built_in_kind_is_served() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let discovery = kube::Discovery::new(client.clone())
        .run_aggregated()
        .await
        .unwrap();
    let selector = json!({"matchLabels": {"app": "x"}});
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let job_template = json!({"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
    let rule = json!({"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"]});
    let kinds: Vec<(&str, &str, Value)> = vec![
        ("v1", "Namespace", json!({})),
        ("v1", "ConfigMap", json!({"data": {"a": "b"}})),
        ("v1", "Secret", json!({"stringData": {"a": "b"}})),
        ("v1", "Service", json!({"spec": {"ports": [{"port": 80}]}})),
        ("v1", "ServiceAccount", json!({})),
        ("v1", "Pod", json!({"spec": template["spec"]})),
        (
            "v1",
            "PersistentVolumeClaim",
            json!({"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        ),
        (
            "v1",
            "Endpoints",
            json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]}),
        ),
        (
            "v1",
            "Event",
            json!({"involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "Test", "message": "m", "type": "Normal"}),
        ),
        (
            "v1",
            "LimitRange",
            json!({"spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}}),
        ),
        (
            "v1",
            "ResourceQuota",
            json!({"spec": {"hard": {"pods": "10"}}}),
        ),
        (
            "apps/v1",
            "Deployment",
            json!({"spec": {"selector": selector, "template": template}}),
        ),
        (
            "apps/v1",
            "StatefulSet",
            json!({"spec": {"serviceName": "s", "selector": selector, "template": template}}),
        ),
        (
            "apps/v1",
            "DaemonSet",
            json!({"spec": {"selector": selector, "template": template}}),
        ),
        (
            "apps/v1",
            "ReplicaSet",
            json!({"spec": {"selector": selector, "template": template}}),
        ),
        ("batch/v1", "Job", job_template.clone()),
        (
            "batch/v1",
            "CronJob",
            json!({"spec": {"schedule": "*/5 * * * *", "jobTemplate": job_template}}),
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "Role",
            json!({"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            json!({"rules": []}),
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}, "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}]}),
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"}, "subjects": [{"kind": "User", "name": "u", "apiGroup": "rbac.authorization.k8s.io"}]}),
        ),
        (
            "networking.k8s.io/v1",
            "Ingress",
            json!({"spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 80}}}}}),
        ),
        (
            "networking.k8s.io/v1",
            "IngressClass",
            json!({"spec": {"controller": "example.com/ingress"}}),
        ),
        (
            "networking.k8s.io/v1",
            "NetworkPolicy",
            json!({"spec": {"podSelector": {}}}),
        ),
        (
            "policy/v1",
            "PodDisruptionBudget",
            json!({"spec": {"minAvailable": 1, "selector": selector}}),
        ),
        (
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            json!({"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"}, "maxReplicas": 3}}),
        ),
        (
            "coordination.k8s.io/v1",
            "Lease",
            json!({"spec": {"holderIdentity": "me"}}),
        ),
        (
            "storage.k8s.io/v1",
            "StorageClass",
            json!({"provisioner": "example.com/disk"}),
        ),
        (
            "scheduling.k8s.io/v1",
            "PriorityClass",
            json!({"value": 1000}),
        ),
        (
            "events.k8s.io/v1",
            "Event",
            json!({"eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "example.com/c", "reportingInstance": "i", "action": "Act", "reason": "Why", "type": "Normal", "regarding": {"kind": "Pod", "name": "p", "namespace": "default"}}),
        ),
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
            json!({"webhooks": []}),
        ),
        (
            "admissionregistration.k8s.io/v1",
            "MutatingWebhookConfiguration",
            json!({"webhooks": []}),
        ),
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicy",
            json!({"spec": {"matchConstraints": {"resourceRules": [rule]}, "validations": [{"expression": "object.spec.replicas < 10"}]}}),
        ),
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicyBinding",
            json!({"spec": {"policyName": "p", "validationActions": ["Deny"]}}),
        ),
        (
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            serde_json::from_str::<Value>(SCALED_CRD).unwrap(),
        ),
    ];
    for (api_version, kind, mut body) in kinds {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = discovery
            .resolve_gvk(&gvk)
            .unwrap_or_else(|| panic!("{api_version} {kind} is discovered"));
        let namespaced = caps.scope == kube::discovery::Scope::Namespaced;
        let api: Api<DynamicObject> = if namespaced {
            Api::namespaced_with(client.clone(), "default", &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        let name = if kind == "CustomResourceDefinition" {
            "gadgets.example.com".to_owned()
        } else {
            format!("sample-{}", kind.to_lowercase())
        };
        body["apiVersion"] = json!(api_version);
        body["kind"] = json!(kind);
        body["metadata"] = json!({"name": name});
        let object: DynamicObject = serde_json::from_value(body).unwrap();
        let created = api
            .create(&PostParams::default(), &object)
            .await
            .unwrap_or_else(|e| panic!("creating {api_version} {kind}: {e}"));
        assert!(created.metadata.uid.is_some(), "{kind}");
        api.get(&name).await.unwrap();
        assert!(
            api.list(&ListParams::default())
                .await
                .unwrap()
                .items
                .iter()
                .any(|o| o.name_any() == name),
            "{kind} is listed"
        );
    }
}

#[tokio::test]
async fn simulation_completes_jobs_binds_claims_assigns_cluster_ips_after_the_delay() {
    let server = TestApiServer::start_with(ferry_apiserver::SimulationConfig {
        ready_delay: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let client = server.client().await;
    let create = |api_version: &str, kind: &str, name: &str, spec: Value| {
        let client = client.clone();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
        let object: DynamicObject = serde_json::from_value(
            json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec}),
        )
        .unwrap();
        async move {
            let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);
            api.create(&PostParams::default(), &object).await.unwrap();
            api
        }
    };
    let selector = json!({"matchLabels": {"app": "x"}});
    let template = |image: &str| json!({"metadata": {"labels": {"app": "x"}}, "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": image}]}});
    let started = std::time::Instant::now();
    let jobs = create(
        "batch/v1",
        "Job",
        "ok",
        json!({"template": template("busybox")}),
    )
    .await;
    create(
        "batch/v1",
        "Job",
        "broken",
        json!({"template": template("busybox:fail"), "backoffLimit": 1}),
    )
    .await;
    let claims = create(
        "v1",
        "PersistentVolumeClaim",
        "data",
        json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}),
    )
    .await;
    let services = create(
        "v1",
        "Service",
        "web",
        json!({"ports": [{"port": 80}], "selector": {"app": "x"}}),
    )
    .await;
    create(
        "v1",
        "Service",
        "headless",
        json!({"clusterIP": "None", "ports": [{"port": 80}]}),
    )
    .await;
    let always = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let sets = create(
        "apps/v1",
        "StatefulSet",
        "db",
        json!({"replicas": 3, "serviceName": "headless", "selector": selector, "template": always}),
    )
    .await;
    let daemons = create(
        "apps/v1",
        "DaemonSet",
        "agent",
        json!({"selector": selector, "template": always}),
    )
    .await;
    let deploys = create(
        "apps/v1",
        "Deployment",
        "web",
        json!({"replicas": 2, "selector": selector, "template": always}),
    )
    .await;
    let replica_sets = create(
        "apps/v1",
        "ReplicaSet",
        "rs",
        json!({"replicas": 2, "selector": selector, "template": always}),
    )
    .await;
    let annotated: Value = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "flagged", "annotations": {ferry_apiserver::FAIL_ANNOTATION: "true"}},
        "spec": {"replicas": 1, "selector": selector, "template": always}});
    deploys
        .create(
            &PostParams::default(),
            &serde_json::from_value(annotated).unwrap(),
        )
        .await
        .unwrap();

    // Services get a cluster IP at once (it is allocated on create), headless ones keep None.
    let web = services.get("web").await.unwrap();
    let ip = web.data["spec"]["clusterIP"].as_str().unwrap();
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{ip}");
    assert_eq!(web.data["spec"]["clusterIPs"], json!([ip]));
    assert_eq!(
        services.get("headless").await.unwrap().data["spec"]["clusterIP"],
        "None"
    );

    // Nothing is ready before the configured delay.
    let early = deploys.get("web").await.unwrap();
    if started.elapsed() < Duration::from_millis(1500) {
        assert_ne!(
            early.data["status"]["availableReplicas"], 2,
            "{}",
            early.data["status"]
        );
    }
    let condition = |o: &DynamicObject, t: &str| -> Option<(String, String)> {
        o.data["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == t)
            .map(|c| {
                (
                    c["status"].as_str().unwrap_or_default().to_owned(),
                    c["reason"].as_str().unwrap_or_default().to_owned(),
                )
            })
    };
    wait_for("web available", || {
        let deploys = deploys.clone();
        async move {
            let d = deploys.get("web").await.ok()?;
            (condition(&d, "Available")?.0 == "True").then_some(())
        }
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "ready only after the configured delay"
    );
    let ok = wait_for("job complete", || {
        let jobs = jobs.clone();
        async move {
            let j = jobs.get("ok").await.ok()?;
            (condition(&j, "Complete")?.0 == "True").then_some(j)
        }
    })
    .await;
    assert_eq!(ok.data["status"]["succeeded"], 1);
    assert!(ok.data["status"]["completionTime"].is_string());
    wait_for("job failed", || {
        let jobs = jobs.clone();
        async move {
            let j = jobs.get("broken").await.ok()?;
            (condition(&j, "Failed")? == ("True".into(), "BackoffLimitExceeded".into()))
                .then_some(())
        }
    })
    .await;
    let claim = wait_for("claim bound", || {
        let claims = claims.clone();
        async move {
            let c = claims.get("data").await.ok()?;
            (c.data["status"]["phase"] == "Bound").then_some(c)
        }
    })
    .await;
    assert_eq!(claim.data["status"]["capacity"]["storage"], "1Gi");
    let db = wait_for("statefulset ready", || {
        let sets = sets.clone();
        async move {
            let s = sets.get("db").await.ok()?;
            (s.data["status"]["readyReplicas"] == 3).then_some(s)
        }
    })
    .await;
    assert_eq!(db.data["status"]["observedGeneration"], 1);
    assert_eq!(
        db.data["status"]["currentRevision"],
        db.data["status"]["updateRevision"]
    );
    wait_for("daemonset ready", || {
        let daemons = daemons.clone();
        async move {
            let d = daemons.get("agent").await.ok()?;
            (d.data["status"]["numberReady"] == d.data["status"]["desiredNumberScheduled"]
                && d.data["status"]["numberReady"].as_i64()? > 0)
                .then_some(())
        }
    })
    .await;
    wait_for("replicaset ready", || {
        let replica_sets = replica_sets.clone();
        async move {
            let r = replica_sets.get("rs").await.ok()?;
            (r.data["status"]["readyReplicas"] == 2 && r.data["status"]["availableReplicas"] == 2)
                .then_some(())
        }
    })
    .await;
    wait_for("annotated deployment fails", || {
        let deploys = deploys.clone();
        async move {
            let d = deploys.get("flagged").await.ok()?;
            (condition(&d, "Progressing")? == ("False".into(), "ProgressDeadlineExceeded".into()))
                .then_some(())
        }
    })
    .await;
}

/// A default a CRD gains shows up on objects written before it, without a write, on every read
/// (an object already read once with the old schema too).
#[tokio::test]
async fn defaults_a_crd_gains_show_on_objects_written_before() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    install_gadgets(&client).await;
    let v1 = gadgets(&client, "v1");
    v1.create(
        &PostParams::default(),
        &gadget("v1", "early", json!({"min": 1, "max": 2})),
    )
    .await
    .unwrap();
    let before = v1.get("early").await.unwrap();
    assert_eq!(before.data["spec"]["mode"], "fast");
    assert!(before.data["spec"].get("tier").is_none());

    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    let mut crd: Value = serde_json::from_str(SCALED_CRD).unwrap();
    crd["spec"]["versions"][1]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["tier"] =
        json!({"type": "string", "default": "gold"});
    crds.patch(
        "gadgets.example.com",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"versions": crd["spec"]["versions"]}})),
    )
    .await
    .unwrap();
    wait_for("the new default read", || {
        let v1 = v1.clone();
        async move {
            let g = v1.get("early").await.ok()?;
            (g.data["spec"]["tier"] == "gold").then_some(())
        }
    })
    .await;
    let after = v1.get("early").await.unwrap();
    assert_eq!(
        after.metadata.resource_version, before.metadata.resource_version,
        "no write"
    );
    let listed = v1.list(&Default::default()).await.unwrap();
    assert_eq!(listed.items[0].data["spec"]["tier"], "gold");
}
