//! The Kustomization controller (kustomize.toolkit.fluxcd.io/v1).
//!
//! Triggers: a change of a Kustomization's spec, annotations asking for a reconcile, or its
//! deletion; a new artifact of its source; a dependency becoming ready; drift of an applied
//! object; and the interval.

pub mod build;
mod changed_first;
pub mod decryption;
mod deps;
pub mod policy;
mod reconcile;
mod source;

use std::{
    collections::{HashMap, HashSet, hash_map::DefaultHasher},
    future::Future,
    hash::{Hash, Hasher},
    sync::Arc,
};

use ferry_api::{GitRepository, Kustomization, keys};
use futures::{Stream, StreamExt, TryStreamExt, channel::mpsc::UnboundedSender};
use kube::{
    Api, ResourceExt,
    runtime::{
        Controller, PredicateConfig, WatchStreamExt, controller,
        reflector::{self, ObjectRef, Store},
        watcher,
    },
};

pub use reconcile::readiness;

/// What makes a Kustomization worth reconciling again when it changes: its spec (generation),
/// an explicit request, deletion, and ferry's drift-watch opt-out. Status writes are not.
fn reconcile_relevant(ks: &Kustomization) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    ks.metadata.generation.hash(&mut hasher);
    ks.annotations()
        .get(keys::REQUESTED_AT_ANNOTATION)
        .hash(&mut hasher);
    ks.annotations()
        .get(keys::DRIFT_WATCH_ANNOTATION)
        .hash(&mut hasher);
    ks.metadata.deletion_timestamp.is_some().hash(&mut hasher);
    Some(hasher.finish())
}

/// A source matters to its Kustomizations only when its artifact changes.
fn artifact_changed(repo: &GitRepository) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    repo.status
        .as_ref()
        .and_then(|s| s.artifact.as_ref())
        .map(|a| (&a.revision, &a.digest))
        .hash(&mut hasher);
    Some(hasher.finish())
}

/// A Kustomization matters to its dependents when its readiness or applied revision changes.
fn readiness_changed(ks: &Kustomization) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    if let Some(status) = &ks.status {
        status.last_applied_revision.hash(&mut hasher);
        status.observed_generation.hash(&mut hasher);
        ferry_api::condition::find(&status.conditions, ferry_api::condition::READY)
            .map(|c| c.status.as_str())
            .hash(&mut hasher);
    }
    Some(hasher.finish())
}

fn users_of_source(
    store: &Store<Kustomization>,
    repo: &GitRepository,
) -> Vec<ObjectRef<Kustomization>> {
    let key = (
        "GitRepository".to_owned(),
        repo.namespace().unwrap_or_default(),
        repo.name_any(),
    );
    store
        .state()
        .iter()
        .filter(|ks| source::source_key(ks) == key)
        .map(|ks| ObjectRef::from_obj(ks.as_ref()))
        .collect()
}

/// Queues the dependents of a Kustomization whose readiness or applied revision changed (or
/// that was seen for the first time), as a predicate-filtered watch of it would. Dependents
/// are found through an index kept from the same events: a fleet-wide commit changes the
/// readiness of every Kustomization twice, and scanning all of them for each change was
/// quadratic.
struct ReadinessTracker {
    last: HashMap<ObjectRef<Kustomization>, u64>,
    /// What each Kustomization depends on, and the reverse.
    depends_on: HashMap<ObjectRef<Kustomization>, Vec<(String, String)>>,
    dependents: HashMap<(String, String), HashSet<ObjectRef<Kustomization>>>,
    /// The Kustomizations listed so far while the watch (re)lists; the others are gone.
    relisted: Option<HashSet<ObjectRef<Kustomization>>>,
    due: UnboundedSender<ObjectRef<Kustomization>>,
}

impl ReadinessTracker {
    fn new(due: UnboundedSender<ObjectRef<Kustomization>>) -> Self {
        Self {
            last: HashMap::new(),
            depends_on: HashMap::new(),
            dependents: HashMap::new(),
            relisted: None,
            due,
        }
    }

    fn observe(&mut self, event: &watcher::Event<Kustomization>) {
        match event {
            watcher::Event::Apply(ks) | watcher::Event::InitApply(ks) => {
                let key = ObjectRef::from_obj(ks);
                if let Some(relisted) = &mut self.relisted {
                    relisted.insert(key.clone());
                }
                self.index(&key, deps::dependencies(ks));
                let Some(hash) = readiness_changed(ks) else {
                    return;
                };
                if self.last.insert(key, hash) == Some(hash) {
                    return;
                }
                let id = (
                    ks.metadata.namespace.clone().unwrap_or_default(),
                    ks.metadata.name.clone().unwrap_or_default(),
                );
                for dependent in self.dependents.get(&id).into_iter().flatten() {
                    // The receiver lives as long as the controller that reads it.
                    let _ = self.due.unbounded_send(dependent.clone());
                }
            }
            watcher::Event::Delete(ks) => self.forget(&ObjectRef::from_obj(ks)),
            watcher::Event::Init => self.relisted = Some(HashSet::new()),
            watcher::Event::InitDone => {
                let relisted = self.relisted.take().unwrap_or_default();
                let gone: Vec<ObjectRef<Kustomization>> = self
                    .depends_on
                    .keys()
                    .chain(self.last.keys())
                    .filter(|k| !relisted.contains(*k))
                    .cloned()
                    .collect();
                for key in gone {
                    self.forget(&key);
                }
            }
        }
    }

    /// Records `key`'s dependencies, replacing what it had.
    fn index(&mut self, key: &ObjectRef<Kustomization>, dependencies: Vec<(String, String)>) {
        if self.depends_on.get(key) == Some(&dependencies) {
            return;
        }
        self.unindex(key);
        for dependency in &dependencies {
            self.dependents
                .entry(dependency.clone())
                .or_default()
                .insert(key.clone());
        }
        if !dependencies.is_empty() {
            self.depends_on.insert(key.clone(), dependencies);
        }
    }

    fn unindex(&mut self, key: &ObjectRef<Kustomization>) {
        for dependency in self.depends_on.remove(key).unwrap_or_default() {
            if let Some(set) = self.dependents.get_mut(&dependency) {
                set.remove(key);
                if set.is_empty() {
                    self.dependents.remove(&dependency);
                }
            }
        }
    }

    fn forget(&mut self, key: &ObjectRef<Kustomization>) {
        self.last.remove(key);
        self.unindex(key);
    }
}

/// Runs the Kustomization controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<crate::Context>,
    drifted: impl Stream<Item = ObjectRef<Kustomization>> + Send + 'static,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let after_run = Arc::clone(&ctx);
    let (reader, writer) = reflector::store();
    // One watch of the Kustomizations serves both the controller's own triggers and their
    // dependents' (a second watch would have every status write sent and decoded twice).
    let (dependents, dependents_due) = futures::channel::mpsc::unbounded();
    let mut readiness = ReadinessTracker::new(dependents);
    let main = reflector::reflector(
        writer,
        crate::watch::without_managed_fields(Api::<Kustomization>::all(client.clone())),
    )
    .default_backoff()
    .inspect_ok(move |event| readiness.observe(event))
    .touched_objects()
    .predicate_filter(reconcile_relevant, PredicateConfig::default());
    // The store of the watch whose events trigger the reconciles of a new artifact: it holds
    // that artifact before those reconciles read it there.
    let (sources_reader, sources_writer) = reflector::store();
    *ctx.sources.write().unwrap_or_else(|p| p.into_inner()) = Some(sources_reader);
    let sources = reflector::reflector(
        sources_writer,
        crate::watch::without_managed_fields(Api::<GitRepository>::all(client)),
    )
    .default_backoff()
    .applied_objects()
    .predicate_filter(artifact_changed, PredicateConfig::default())
    .filter_map(|repo| async move { repo.ok() });
    let new_revisions = changed_first::ordered(sources, reader.clone(), ctx.artifacts.clone());
    let concurrency = u16::try_from(ctx.config.concurrency).unwrap_or(u16::MAX);
    Controller::for_stream(main, reader)
        .reconcile_on(new_revisions)
        .reconcile_on(dependents_due)
        .reconcile_on(drifted)
        .with_config(controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .for_each(|result| async move {
            if let Err(err) = result {
                tracing::debug!(error = %err, "kustomization controller");
            }
        })
        .await;
    *after_run.sources.write().unwrap_or_else(|p| p.into_inner()) = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(name: &str, depends_on: &[&str], ready: &str) -> Kustomization {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": "apps"},
            "spec": {
                "interval": "1m",
                "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": "repo"},
                "dependsOn": depends_on.iter().map(|d| serde_json::json!({"name": d})).collect::<Vec<_>>(),
            },
            "status": {"conditions": [{"type": "Ready", "status": ready, "reason": "x",
                "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]},
        }))
        .unwrap()
    }

    fn queued(
        rx: &mut futures::channel::mpsc::UnboundedReceiver<ObjectRef<Kustomization>>,
    ) -> Vec<String> {
        let mut names = Vec::new();
        while let Ok(r) = rx.try_recv() {
            names.push(r.name);
        }
        names.sort();
        names
    }

    #[test]
    fn readiness_changes_queue_the_current_dependents_only() {
        let (tx, mut rx) = futures::channel::mpsc::unbounded();
        let mut tracker = ReadinessTracker::new(tx);
        tracker.observe(&watcher::Event::Init);
        tracker.observe(&watcher::Event::InitApply(ks("web", &["db"], "True")));
        tracker.observe(&watcher::Event::InitApply(ks(
            "api",
            &["db", "cache"],
            "True",
        )));
        tracker.observe(&watcher::Event::InitApply(ks("db", &[], "False")));
        tracker.observe(&watcher::Event::InitDone);
        assert_eq!(
            queued(&mut rx),
            ["api", "web"],
            "db seen for the first time"
        );

        tracker.observe(&watcher::Event::Apply(ks("db", &[], "True")));
        assert_eq!(queued(&mut rx), ["api", "web"]);
        tracker.observe(&watcher::Event::Apply(ks("db", &[], "True")));
        assert_eq!(
            queued(&mut rx),
            Vec::<String>::new(),
            "no change, nothing queued"
        );

        // web no longer depends on db; api is deleted; a relist drops what was not listed.
        tracker.observe(&watcher::Event::Apply(ks("web", &[], "True")));
        tracker.observe(&watcher::Event::Delete(ks("api", &["db", "cache"], "True")));
        tracker.observe(&watcher::Event::Apply(ks("db", &[], "False")));
        assert_eq!(queued(&mut rx), Vec::<String>::new());
        tracker.observe(&watcher::Event::Apply(ks("cache", &[], "True")));
        assert_eq!(queued(&mut rx), Vec::<String>::new());

        tracker.observe(&watcher::Event::Apply(ks("web", &["cache"], "True")));
        tracker.observe(&watcher::Event::Init);
        tracker.observe(&watcher::Event::InitApply(ks("cache", &[], "True")));
        tracker.observe(&watcher::Event::InitDone);
        assert!(tracker.dependents.is_empty(), "web was not relisted");
    }
}
