//! What every reconcile shares: the controller's own client, the discovery cache, the event
//! recorder, the artifact cache, metrics, the drift watcher and the settings.

use std::{path::PathBuf, time::Duration};

use ferry_apply::Resources;
use kube::Client;

use crate::{
    artifact::ArtifactFetcher, clients::ClientCache, drift::DriftWatcher, events::Recorder,
    metrics::Metrics,
};

/// Settings of the controllers, Flux's flags where Flux has one.
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// Reconciles of one kind run at once (`--concurrent`).
    pub concurrency: usize,
    /// Objects dry-run and applied at once per reconcile (`--concurrent-ssa`).
    pub apply_concurrency: usize,
    /// How long to wait before re-checking dependencies that are not ready
    /// (`--requeue-dependency`); ferry also re-checks as soon as a dependency changes.
    pub requeue_dependency: Duration,
    /// Refuse sourceRefs and dependsOn in other namespaces (`--no-cross-namespace-refs`).
    pub no_cross_namespace_refs: bool,
    /// Service account impersonated when a Kustomization names none (`--default-service-account`).
    pub default_service_account: Option<String>,
    /// Where extracted artifacts are cached.
    pub artifact_cache_dir: PathBuf,
    /// Jitter applied to intervals, as a fraction (`--interval-jitter-percentage` / 100).
    pub interval_jitter: f64,
    /// Watch applied objects and correct drift at once (ferry's addition; each Kustomization
    /// can opt out with the `ferry.dev/drift-watch: disabled` annotation).
    pub drift_watch: bool,
    /// First delay between health polls.
    pub health_poll: Duration,
    /// How long a reconcile of a new revision runs before its `Reconciling` status is written;
    /// one that ends sooner writes only its result (see [`crate::status::DeferredStatus`]).
    pub progress_report_delay: Duration,
    /// A post-build variable without a value or default fails the build instead of becoming
    /// empty (Flux's `StrictPostBuildSubstitutions` feature gate, off by default).
    pub strict_substitution: bool,
    /// Artifact storage of the source controllers (GitRepository).
    pub storage: crate::gitrepository::StorageConfig,
    /// Webhook server of the Receivers (notification-controller's `--receiver-addr`).
    pub receiver: crate::receiver::ReceiverConfig,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            apply_concurrency: 4,
            requeue_dependency: Duration::from_secs(30),
            no_cross_namespace_refs: false,
            default_service_account: None,
            artifact_cache_dir: std::env::temp_dir().join("ferry-artifacts"),
            interval_jitter: 0.05,
            drift_watch: true,
            health_poll: Duration::from_millis(100),
            progress_report_delay: Duration::from_secs(1),
            strict_substitution: false,
            storage: crate::gitrepository::StorageConfig::default(),
            receiver: crate::receiver::ReceiverConfig::default(),
        }
    }
}

/// Shared state of the reconcilers.
pub struct Context {
    pub client: Client,
    pub config: ControllerConfig,
    pub resources: Resources,
    pub recorder: Recorder,
    pub artifacts: ArtifactFetcher,
    pub metrics: Metrics,
    pub drift: DriftWatcher,
    pub clients: ClientCache,
    /// Where builds run.
    pub cpu: crate::cpu::CpuBound,
    /// The GitRepositories as the running Kustomization controller's watch of them sees them
    /// (none while it is not running: a store nobody feeds would go stale).
    pub sources:
        std::sync::RwLock<Option<kube::runtime::reflector::Store<ferry_api::GitRepository>>>,
}

impl Context {
    pub fn new(
        kube_config: kube::Config,
        client: Client,
        resources: Resources,
        config: ControllerConfig,
        metrics: Metrics,
        drift: DriftWatcher,
    ) -> Self {
        Self {
            recorder: Recorder::new(client.clone(), "kustomize-controller"),
            artifacts: ArtifactFetcher::new(config.artifact_cache_dir.clone()),
            clients: ClientCache::new(kube_config, client.clone(), resources.clone()),
            cpu: crate::cpu::CpuBound::per_core(),
            client,
            config,
            resources,
            metrics,
            drift,
            sources: std::sync::RwLock::new(None),
        }
    }
}
