//! The GitRepository controller (source.toolkit.fluxcd.io/v1), source-controller's job: fetch,
//! verify and archive each repository with `ferry_source`, store the artifact, serve it over
//! HTTP at `status.artifact.url`, and report Flux's conditions and events.
//!
//! Triggers: a spec change (generation), a `reconcile.fluxcd.io/requestedAt` request, deletion,
//! a new artifact of an included GitRepository, and the interval (with jitter).

mod reconcile;

use std::{
    collections::{HashMap, hash_map::DefaultHasher},
    future::Future,
    hash::{Hash, Hasher},
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use ferry_api::{GitRepository, keys};
use ferry_source::{ArtifactStore, GitCache};
use futures::StreamExt;
use kube::{
    Api, ResourceExt,
    runtime::{
        Controller, PredicateConfig, WatchStreamExt, controller,
        reflector::{self, ObjectRef, Store},
        watcher,
    },
};

use crate::events::Recorder;

/// Where artifacts live and how they are served (source-controller's `--storage-path`,
/// `--storage-addr`, `--storage-adv-addr`, `--artifact-retention-records`).
#[derive(Clone, Debug)]
pub struct StorageConfig {
    pub path: PathBuf,
    pub bind: SocketAddr,
    /// Base URL consumers use; `http://<bind>` when unset.
    pub advertised_url: Option<String>,
    pub retention: usize,
    /// Largest fetch and artifact accepted; a repository above them fails with
    /// SizeLimitExceeded (ferry's guard; Flux has none).
    pub limits: ferry_source::Limits,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            path: std::env::temp_dir().join("ferry-storage"),
            bind: SocketAddr::from(([127, 0, 0, 1], 9090)),
            advertised_url: None,
            retention: ferry_source::artifact::store::DEFAULT_RETENTION,
            limits: ferry_source::Limits::default(),
        }
    }
}

/// The source controller's own state, shared by its reconciles.
pub struct Sources {
    pub store: ArtifactStore,
    pub cache: GitCache,
    recorder: Recorder,
    /// Consecutive failures per object, for the retry backoff.
    failures: Mutex<HashMap<(String, String), u32>>,
}

impl Sources {
    /// Store under `config.path/artifacts`, object caches under `config.path/git-cache`.
    pub fn new(recorder: Recorder, config: &StorageConfig, advertised_url: String) -> Self {
        Self {
            store: ArtifactStore::new(config.path.join("artifacts"), advertised_url)
                .with_retention(config.retention),
            cache: GitCache::new(config.path.join("git-cache")),
            recorder,
            failures: Mutex::default(),
        }
    }
}

/// What makes a GitRepository worth reconciling again: its spec, a reconcile request, deletion.
fn reconcile_relevant(repo: &GitRepository) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    repo.metadata.generation.hash(&mut hasher);
    repo.annotations()
        .get(keys::REQUESTED_AT_ANNOTATION)
        .hash(&mut hasher);
    repo.metadata.deletion_timestamp.is_some().hash(&mut hasher);
    Some(hasher.finish())
}

/// An included repository matters to its includers only when its artifact changes.
fn artifact_changed(repo: &GitRepository) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    repo.status
        .as_ref()
        .and_then(|s| s.artifact.as_ref())
        .map(|a| (&a.revision, &a.digest))
        .hash(&mut hasher);
    Some(hasher.finish())
}

fn includers_of(
    store: &Store<GitRepository>,
    included: &GitRepository,
) -> Vec<ObjectRef<GitRepository>> {
    let namespace = included.namespace().unwrap_or_default();
    let name = included.name_any();
    store
        .state()
        .iter()
        .filter(|r| r.namespace().unwrap_or_default() == namespace)
        .filter(|r| {
            r.spec
                .include
                .iter()
                .flatten()
                .any(|i| i.repository.name == name)
        })
        .map(|r| ObjectRef::from_obj(r.as_ref()))
        .collect()
}

/// Serves the artifact store and runs the GitRepository controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<crate::Context>,
    config: StorageConfig,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let advertised = config.advertised_url.clone().unwrap_or_else(|| {
        format!(
            "http://{}",
            listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default()
        )
    });
    let sources = Arc::new(Sources::new(
        ctx.recorder.for_component("source-controller"),
        &config,
        advertised,
    ));
    let server = tokio::spawn(ferry_source::artifact::server::serve(
        sources.store.root().to_path_buf(),
        listener,
    ));

    let client = ctx.client.clone();
    let (reader, writer) = reflector::store();
    let main = reflector::reflector(
        writer,
        crate::watch::without_managed_fields(Api::<GitRepository>::all(client.clone())),
    )
    .default_backoff()
    .touched_objects()
    .predicate_filter(reconcile_relevant, PredicateConfig::default());
    let included = watcher(
        Api::<GitRepository>::all(client),
        watcher::Config::default(),
    )
    .default_backoff()
    .applied_objects()
    .predicate_filter(artifact_changed, PredicateConfig::default());
    let for_includes = reader.clone();
    let concurrency = u16::try_from(ctx.config.concurrency).unwrap_or(u16::MAX);
    let state = Arc::new(reconcile::State { ctx, sources });
    Controller::for_stream(main, reader)
        .watches_stream(included, move |repo| includers_of(&for_includes, &repo))
        .with_config(controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile::reconcile, reconcile::error_policy, state)
        .for_each(|result| async move {
            if let Err(err) = result {
                tracing::debug!(error = %err, "gitrepository controller");
            }
        })
        .await;
    server.abort();
    Ok(())
}
