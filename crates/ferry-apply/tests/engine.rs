//! The apply engine against the embedded API server: staged apply with CRDs and Namespaces
//! first, the dry-run that leaves unchanged objects unwritten, kubectl's drift taken back (or
//! left alone where the `ssa` annotation says so), immutable fields (error or recreate), and a
//! prune that only deletes what carries our owner labels.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use std::collections::BTreeMap;

use ferry_api::{ObjMetadata, keys};
use ferry_apply::{
    changeset::Action,
    error::ApplyError,
    live::{LiveCache, Settled, Watched},
    manager::{ApplyOptions, ResourceManager},
    resources::Resources,
};
use ferry_test::apiserver::TestApiServer;
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams},
};
use serde_json::{Value, json};

const MANAGER: &str = "kustomize-controller";

fn manager(client: &Client) -> ResourceManager {
    ResourceManager::new(client.clone(), Resources::new(), MANAGER)
}

fn api(
    client: &Client,
    group: &str,
    version: &str,
    kind: &str,
    ns: Option<&str>,
) -> Api<DynamicObject> {
    let plural = format!("{}s", kind.to_ascii_lowercase());
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), &plural);
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

async fn live(
    client: &Client,
    group: &str,
    version: &str,
    kind: &str,
    ns: &str,
    name: &str,
) -> Option<Value> {
    api(client, group, version, kind, Some(ns))
        .get_opt(name)
        .await
        .unwrap()
        .map(|o| serde_json::to_value(o).unwrap())
}

fn deployment(ns: &str, name: &str, replicas: i64, annotations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "annotations": annotations},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "ghcr.io/stefanprodan/podinfo:6.7.1"}]}
            }
        }
    })
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// `kubectl edit`: a merge patch under kubectl's manager, recorded as an Update.
async fn kubectl_edit(client: &Client, ns: &str, name: &str, patch: Value) {
    api(client, "apps", "v1", "Deployment", Some(ns))
        .patch(
            name,
            &PatchParams {
                field_manager: Some("kubectl-edit".into()),
                ..Default::default()
            },
            &Patch::Merge(&patch),
        )
        .await
        .unwrap();
}

fn actions(changes: &ferry_apply::changeset::ChangeSet) -> Vec<String> {
    changes.entries.iter().map(ToString::to_string).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn staged_apply_creates_definitions_first_and_leaves_unchanged_objects_unwritten() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}
    });
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "namespace": "team"}, "spec": {"size": 3}});
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "team"}, "data": {"k": "v"}});
    // Ports without a protocol: the server defaults it, and re-applying must still match the
    // defaulted list item (a list-map key the configuration omits takes its default).
    let mut web = deployment("team", "web", 1, json!({}));
    web["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 9898}]);
    let service = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "team"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 9898, "targetPort": 9898}]}});
    // In the worst order: the custom resource before its definition, objects before their
    // namespace. A single-stage apply could not resolve the Widget kind.
    let objects = vec![
        widget.clone(),
        config.clone(),
        web,
        service,
        crd.clone(),
        namespace("team"),
    ];
    let manager = manager(&client);
    let changes = manager
        .apply_all_staged(objects.clone(), &ApplyOptions::default())
        .await
        .unwrap();
    let mut created = actions(&changes);
    created.sort();
    assert_eq!(
        created,
        [
            "ConfigMap/team/c created",
            "CustomResourceDefinition/widgets.example.com created",
            "Deployment/team/web created",
            "Namespace/team created",
            "Service/team/web created",
            "Widget/team/w created",
        ]
    );
    let before = live(&client, "", "v1", "ConfigMap", "team", "c")
        .await
        .unwrap();

    let again = manager
        .apply_all_staged(objects, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(again.count(Action::Unchanged), 6, "{:?}", actions(&again));
    assert!(!again.has_changes());
    let after = live(&client, "", "v1", "ConfigMap", "team", "c")
        .await
        .unwrap();
    assert_eq!(
        before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"],
        "an unchanged object is not written"
    );

    // A change is applied and reported as such.
    let mut bigger = widget;
    bigger["spec"]["size"] = json!(5);
    let changed = manager
        .apply_all_staged(vec![bigger], &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(actions(&changed), ["Widget/team/w configured"]);
    let w = live(&client, "example.com", "v1", "Widget", "team", "w")
        .await
        .unwrap();
    assert_eq!(w["spec"]["size"], 5);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_edits_are_taken_back_unless_the_ssa_annotation_says_otherwise() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let manager = manager(&client);
    let opts = ApplyOptions::default();
    manager.apply(namespace("apps"), &opts).await.unwrap();

    // Override (default): kubectl's changed value and its added field both go.
    let web = deployment("apps", "web", 2, json!({}));
    manager.apply(web.clone(), &opts).await.unwrap();
    kubectl_edit(
        &client,
        "apps",
        "web",
        json!({"spec": {"replicas": 5}, "metadata": {"annotations": {"edited": "yes"}}}),
    )
    .await;
    let entry = manager.apply(web, &opts).await.unwrap();
    assert_eq!(entry.action, Action::Configured);
    let live_web = live(&client, "apps", "v1", "Deployment", "apps", "web")
        .await
        .unwrap();
    assert_eq!(live_web["spec"]["replicas"], 2);
    assert!(
        live_web["metadata"]["annotations"].get("edited").is_none(),
        "{}",
        live_web["metadata"]
    );
    let managers: Vec<&str> = live_web["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(
        !managers.contains(&"kubectl-edit"),
        "kubectl's ownership is taken back: {managers:?}"
    );

    // Merge: fields other managers set and Git does not are left alone.
    let merged = deployment("apps", "merged", 2, json!({keys::SSA_ANNOTATION: "Merge"}));
    manager.apply(merged.clone(), &opts).await.unwrap();
    kubectl_edit(
        &client,
        "apps",
        "merged",
        json!({"metadata": {"annotations": {"edited": "yes"}}}),
    )
    .await;
    manager.apply(merged, &opts).await.unwrap();
    let live_merged = live(&client, "apps", "v1", "Deployment", "apps", "merged")
        .await
        .unwrap();
    assert_eq!(live_merged["metadata"]["annotations"]["edited"], "yes");

    // IfNotPresent: created when missing, never changed afterwards.
    let once = deployment(
        "apps",
        "once",
        1,
        json!({keys::SSA_ANNOTATION: "IfNotPresent"}),
    );
    assert_eq!(
        manager.apply(once.clone(), &opts).await.unwrap().action,
        Action::Created
    );
    let mut changed = once;
    changed["spec"]["replicas"] = json!(3);
    assert_eq!(
        manager.apply(changed, &opts).await.unwrap().action,
        Action::Skipped
    );
    let live_once = live(&client, "apps", "v1", "Deployment", "apps", "once")
        .await
        .unwrap();
    assert_eq!(live_once["spec"]["replicas"], 1);

    // Ignore: not even created.
    let ignored = deployment(
        "apps",
        "ignored",
        1,
        json!({keys::SSA_ANNOTATION: "Ignore"}),
    );
    assert_eq!(
        manager.apply(ignored, &opts).await.unwrap().action,
        Action::Skipped
    );
    assert!(
        live(&client, "apps", "v1", "Deployment", "apps", "ignored")
            .await
            .is_none()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn immutable_changes_fail_clearly_unless_forced_then_recreate() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let manager = manager(&client);
    let opts = ApplyOptions::default();
    manager.apply(namespace("apps"), &opts).await.unwrap();
    let web = deployment("apps", "web", 1, json!({}));
    manager.apply(web.clone(), &opts).await.unwrap();
    let uid = |v: &Value| v["metadata"]["uid"].as_str().unwrap().to_owned();
    let first = uid(&live(&client, "apps", "v1", "Deployment", "apps", "web")
        .await
        .unwrap());

    // apps/v1 selectors cannot change in place.
    let mut moved = web.clone();
    moved["spec"]["selector"]["matchLabels"]["app"] = json!("web2");
    moved["spec"]["template"]["metadata"]["labels"]["app"] = json!("web2");
    let err = manager.apply(moved.clone(), &opts).await.unwrap_err();
    assert!(matches!(err, ApplyError::Immutable { .. }), "{err}");
    let message = err.to_string();
    assert!(message.starts_with("Deployment/apps/web"), "{message}");
    assert!(message.contains("spec.selector"), "{message}");
    assert!(message.contains("spec.force"), "{message}");
    assert_eq!(
        uid(&live(&client, "apps", "v1", "Deployment", "apps", "web")
            .await
            .unwrap()),
        first,
        "nothing changed"
    );

    // spec.force: the object is deleted and created again.
    let forced = ApplyOptions {
        force: true,
        ..ApplyOptions::default()
    };
    let entry = manager.apply(moved, &forced).await.unwrap();
    assert_eq!(entry.action, Action::Created);
    let second = live(&client, "apps", "v1", "Deployment", "apps", "web")
        .await
        .unwrap();
    assert_ne!(uid(&second), first);
    assert_eq!(second["spec"]["selector"]["matchLabels"]["app"], "web2");

    // The object's own force annotation does the same without spec.force.
    let mut annotated = web;
    annotated["metadata"]["annotations"] = json!({keys::FORCE_ANNOTATION: "enabled"});
    let entry = manager.apply(annotated, &opts).await.unwrap();
    assert_eq!(entry.action, Action::Created);
    let third = live(&client, "apps", "v1", "Deployment", "apps", "web")
        .await
        .unwrap();
    assert_ne!(uid(&third), uid(&second));
    assert_eq!(third["spec"]["selector"]["matchLabels"]["app"], "web");
    server.shutdown().await;
}

/// A watch's view kept by hand: what the test last read of each object, and what applies left.
#[derive(Default)]
struct ReadBack {
    watched: std::sync::Mutex<std::collections::HashMap<String, Watched>>,
    settled: std::sync::Mutex<std::collections::HashMap<String, Settled>>,
}

impl ReadBack {
    /// Records `live` as the watch's latest view of it.
    fn saw(&self, object: &ObjMetadata, live: &Value) {
        let watched = Watched::of(live, MANAGER, true);
        self.watched
            .lock()
            .unwrap()
            .insert(object.to_string(), watched);
    }
}

impl LiveCache for ReadBack {
    fn lookup(&self, object: &ObjMetadata) -> Option<Watched> {
        self.watched
            .lock()
            .unwrap()
            .get(&object.to_string())
            .cloned()
    }
    fn settled(&self, object: &ObjMetadata) -> Option<Settled> {
        self.settled
            .lock()
            .unwrap()
            .get(&object.to_string())
            .cloned()
    }
    fn settle(&self, object: &ObjMetadata, settled: Settled) {
        self.settled
            .lock()
            .unwrap()
            .insert(object.to_string(), settled);
    }
}

/// With a watch's view, a manifest changed since its last apply is applied without a dry-run;
/// an immutable change made that way fails as clearly, and force still recreates.
#[tokio::test(flavor = "multi_thread")]
async fn changed_manifests_of_watched_objects_apply_without_a_dry_run() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let cache = std::sync::Arc::new(ReadBack::default());
    let manager = manager(&client).with_cache(cache.clone());
    let opts = ApplyOptions {
        trust_settled_for: std::time::Duration::from_secs(3600),
        ..ApplyOptions::default()
    };
    let meta = ObjMetadata::parse("apps_web_apps_Deployment").unwrap();
    let web = deployment("apps", "web", 1, json!({}));
    let read = || async {
        live(&client, "apps", "v1", "Deployment", "apps", "web")
            .await
            .unwrap()
    };
    manager.apply(namespace("apps"), &opts).await.unwrap();
    let created = manager.apply(web.clone(), &opts).await.unwrap();
    assert_eq!(created.action, Action::Created);
    // What the apply left, with its kstatus as the answer showed it: a Deployment just made
    // has not rolled out; a ConfigMap is Current as soon as it exists.
    let settled = cache.settled(&meta).unwrap();
    assert_eq!(
        Some(settled.resource_version.as_str()),
        created.resource_version.as_deref()
    );
    assert!(!settled.current, "{settled:?}");
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "web", "namespace": "apps"}, "data": {"k": "v"}});
    manager.apply(config, &opts).await.unwrap();
    let config_meta = ObjMetadata::parse("apps_web__ConfigMap").unwrap();
    assert!(cache.settled(&config_meta).unwrap().current);
    let first = read().await;
    cache.saw(&meta, &first);

    // The same manifest: nothing is sent; the answer is the watch's view. (The live object's
    // resourceVersion may have moved since: a controller writes the Deployment's status.)
    let same = manager.apply(web.clone(), &opts).await.unwrap();
    assert_eq!(same.action, Action::Unchanged);
    assert_eq!(
        same.resource_version.as_deref(),
        first["metadata"]["resourceVersion"].as_str()
    );

    // A changed manifest is applied as it comes.
    let scaled = deployment("apps", "web", 3, json!({}));
    let entry = manager.apply(scaled.clone(), &opts).await.unwrap();
    assert_eq!(entry.action, Action::Configured);
    let second = read().await;
    assert_eq!(second["spec"]["replicas"], 3);
    // (A controller may have written the status since.)
    assert_ne!(
        entry.resource_version.as_deref(),
        first["metadata"]["resourceVersion"].as_str()
    );
    cache.saw(&meta, &second);

    // An immutable field: refused, and the message says what to do.
    let mut moved = scaled;
    moved["spec"]["selector"]["matchLabels"]["app"] = json!("web2");
    moved["spec"]["template"]["metadata"]["labels"]["app"] = json!("web2");
    let err = manager.apply(moved.clone(), &opts).await.unwrap_err();
    assert!(matches!(err, ApplyError::Immutable { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with("Deployment/apps/web apply failed"),
        "{message}"
    );
    assert!(message.contains("spec.force"), "{message}");
    assert_eq!(read().await["metadata"]["uid"], first["metadata"]["uid"]);

    // Force recreates it.
    let forced = ApplyOptions {
        force: true,
        ..opts.clone()
    };
    let entry = manager.apply(moved, &forced).await.unwrap();
    assert_eq!(entry.action, Action::Created);
    let third = read().await;
    assert_ne!(third["metadata"]["uid"], first["metadata"]["uid"]);
    assert_eq!(third["spec"]["selector"]["matchLabels"]["app"], "web2");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_deletes_only_owned_objects_that_are_not_opted_out() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let manager = manager(&client);
    let opts = ApplyOptions::default();
    let owner = BTreeMap::from([
        (keys::OWNER_NAME_LABEL.to_owned(), "apps".to_owned()),
        (
            keys::OWNER_NAMESPACE_LABEL.to_owned(),
            "flux-system".to_owned(),
        ),
    ]);
    let config = |name: &str, labels: &BTreeMap<String, String>, annotations: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default", "labels": labels, "annotations": annotations},
            "data": {"k": "v"}})
    };
    let someone_else = BTreeMap::from([(keys::OWNER_NAME_LABEL.to_owned(), "other".to_owned())]);
    for obj in [
        config("owned", &owner, json!({})),
        config("foreign", &someone_else, json!({})),
        config("kept", &owner, json!({keys::PRUNE_ANNOTATION: "disabled"})),
    ] {
        manager.apply(obj, &opts).await.unwrap();
    }
    let meta = |name: &str| {
        (
            ObjMetadata {
                namespace: "default".into(),
                name: name.into(),
                group: String::new(),
                kind: "ConfigMap".into(),
            },
            "v1".to_owned(),
        )
    };
    let (changes, failures) = manager
        .delete_all(
            &[meta("owned"), meta("foreign"), meta("kept"), meta("gone")],
            &owner,
        )
        .await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        actions(&changes),
        [
            "ConfigMap/default/owned deleted",
            "ConfigMap/default/foreign skipped",
            "ConfigMap/default/kept skipped",
            "ConfigMap/default/gone deleted",
        ]
    );
    assert!(
        live(&client, "", "v1", "ConfigMap", "default", "owned")
            .await
            .is_none()
    );
    assert!(
        live(&client, "", "v1", "ConfigMap", "default", "foreign")
            .await
            .is_some()
    );
    assert!(
        live(&client, "", "v1", "ConfigMap", "default", "kept")
            .await
            .is_some()
    );
    server.shutdown().await;
}
