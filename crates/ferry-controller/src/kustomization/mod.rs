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
    collections::{HashMap, hash_map::DefaultHasher},
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

fn dependents_of(
    store: &Store<Kustomization>,
    dep: &Kustomization,
) -> Vec<ObjectRef<Kustomization>> {
    let namespace = dep.metadata.namespace.as_deref().unwrap_or_default();
    let name = dep.metadata.name.as_deref().unwrap_or_default();
    // Called on every readiness change of every Kustomization, so it compares in place
    // rather than building each candidate's dependency list.
    store
        .state()
        .iter()
        .filter(|ks| {
            let own = ks.metadata.namespace.as_deref().unwrap_or_default();
            ks.spec.depends_on.iter().flatten().any(|d| {
                let ns = d
                    .namespace
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(own);
                d.name == name && ns == namespace
            })
        })
        .map(|ks| ObjectRef::from_obj(ks.as_ref()))
        .collect()
}

/// Queues the dependents of a Kustomization whose readiness or applied revision changed (or
/// that was seen for the first time), as a predicate-filtered watch of it would.
struct ReadinessTracker {
    store: Store<Kustomization>,
    last: HashMap<ObjectRef<Kustomization>, u64>,
    due: UnboundedSender<ObjectRef<Kustomization>>,
}

impl ReadinessTracker {
    fn new(store: Store<Kustomization>, due: UnboundedSender<ObjectRef<Kustomization>>) -> Self {
        Self {
            store,
            last: HashMap::new(),
            due,
        }
    }

    fn observe(&mut self, event: &watcher::Event<Kustomization>) {
        match event {
            watcher::Event::Apply(ks) | watcher::Event::InitApply(ks) => {
                let Some(hash) = readiness_changed(ks) else {
                    return;
                };
                if self.last.insert(ObjectRef::from_obj(ks), hash) == Some(hash) {
                    return;
                }
                for dependent in dependents_of(&self.store, ks) {
                    // The receiver lives as long as the controller that reads it.
                    let _ = self.due.unbounded_send(dependent);
                }
            }
            watcher::Event::Delete(ks) => {
                self.last.remove(&ObjectRef::from_obj(ks));
            }
            watcher::Event::Init | watcher::Event::InitDone => {}
        }
    }
}

/// Runs the Kustomization controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<crate::Context>,
    drifted: impl Stream<Item = ObjectRef<Kustomization>> + Send + 'static,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let (reader, writer) = reflector::store();
    // One watch of the Kustomizations serves both the controller's own triggers and their
    // dependents' (a second watch would have every status write sent and decoded twice).
    let (dependents, dependents_due) = futures::channel::mpsc::unbounded();
    let mut readiness = ReadinessTracker::new(reader.clone(), dependents);
    let main = reflector::reflector(
        writer,
        watcher(
            Api::<Kustomization>::all(client.clone()),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .inspect_ok(move |event| readiness.observe(event))
    .touched_objects()
    .predicate_filter(reconcile_relevant, PredicateConfig::default());
    let sources = watcher(
        Api::<GitRepository>::all(client),
        watcher::Config::default(),
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
}
