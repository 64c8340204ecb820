//! `ferry controller`: runs every reconciler in one process against a cluster, with leader
//! election on a Lease (so two replicas never apply at once) and Prometheus metrics.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use ferry_controller::{ControllerConfig, leader, metrics::Metrics};

use super::cluster_args::{ClusterArgs, block_on};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Reconciles of one kind running at once.
    #[arg(long, default_value_t = 4)]
    concurrent: usize,
    /// Objects applied at once per reconcile.
    #[arg(long, default_value_t = 4)]
    concurrent_ssa: usize,
    /// Refuse references to sources and dependencies in other namespaces.
    #[arg(long)]
    no_cross_namespace_refs: bool,
    /// Service account impersonated when a Kustomization names none.
    #[arg(long)]
    default_service_account: Option<String>,
    /// Correct drift only at each interval, as Flux does, instead of as soon as it happens.
    #[arg(long)]
    no_drift_watch: bool,
    /// Where extracted artifacts are cached.
    #[arg(long)]
    artifact_cache: Option<PathBuf>,
    /// Where source artifacts are stored.
    #[arg(long)]
    storage_path: Option<PathBuf>,
    /// Address the artifact server listens on (port 0 picks a free one).
    #[arg(long, default_value = "0.0.0.0:9090")]
    storage_addr: SocketAddr,
    /// Base URL consumers fetch artifacts from (default: http://<storage-addr>).
    #[arg(long)]
    storage_adv_addr: Option<String>,
    /// Largest git fetch accepted, in bytes (a bigger repository fails with SizeLimitExceeded).
    #[arg(long, default_value_t = ferry_source::Limits::default().max_fetch_bytes)]
    max_fetch_bytes: u64,
    /// Largest artifact (tar.gz) written, in bytes.
    #[arg(long, default_value_t = ferry_source::Limits::default().max_artifact_bytes)]
    max_artifact_bytes: u64,
    /// Address of the /metrics endpoint.
    #[arg(long, default_value = "127.0.0.1:8080")]
    metrics_addr: SocketAddr,
    /// Address the webhook receiver listens on for Receivers' `/hook/...` paths
    /// (notification-controller's port; port 0 picks a free one).
    #[arg(long, default_value = "0.0.0.0:9292")]
    receiver_addr: SocketAddr,
    /// Take part in leader election (off: this replica applies unconditionally).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    enable_leader_election: bool,
    /// Feature gates as Flux's controllers take them (`Name=true,Other=false`); ferry knows
    /// `StrictPostBuildSubstitutions`.
    #[arg(long, value_parser = parse_feature_gates, default_value = "")]
    feature_gates: FeatureGates,
    /// Namespace of the leader election Lease.
    #[arg(long, default_value = "flux-system")]
    leader_election_namespace: String,
    #[command(flatten)]
    cluster: ClusterArgs,
}

impl Args {
    fn controller_config(&self) -> ControllerConfig {
        let mut config = ControllerConfig {
            concurrency: self.concurrent,
            apply_concurrency: self.concurrent_ssa,
            no_cross_namespace_refs: self.no_cross_namespace_refs,
            default_service_account: self.default_service_account.clone(),
            drift_watch: !self.no_drift_watch,
            strict_substitution: self.feature_gates.strict_post_build_substitutions,
            ..ControllerConfig::default()
        };
        if let Some(dir) = &self.artifact_cache {
            config.artifact_cache_dir = dir.clone();
        }
        if let Some(dir) = &self.storage_path {
            config.storage.path = dir.clone();
        }
        config.storage.bind = self.storage_addr;
        config.storage.advertised_url = self.storage_adv_addr.clone();
        config.receiver.bind = Some(self.receiver_addr);
        config.storage.limits = ferry_source::Limits {
            max_fetch_bytes: self.max_fetch_bytes,
            max_artifact_bytes: self.max_artifact_bytes,
        };
        config
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async {
        let kube_config = args.cluster.config().await?;
        let client = kube::Client::try_from(kube_config.clone())?;
        let metrics = Metrics::new();
        super::metrics_server::serve(args.metrics_addr, metrics.clone()).await?;
        let config = args.controller_config();
        report_receiver_address(&config.receiver);
        std::fs::create_dir_all(&config.artifact_cache_dir)
            .with_context(|| format!("creating {}", config.artifact_cache_dir.display()))?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        if args.enable_leader_election {
            let identity = format!("{}-{}", hostname(), std::process::id());
            let lease = leader::LeaseConfig::new(&args.leader_election_namespace, identity);
            leader::acquire(&client, &lease).await;
            let lost = {
                let client = client.clone();
                let lease = lease.clone();
                async move { leader::hold(&client, &lease).await }
            };
            tokio::select! {
                result = ferry_controller::run(kube_config, config, metrics, shutdown) => result?,
                () = lost => anyhow::bail!("leadership lost: stopping so that another replica takes over"),
            }
        } else {
            ferry_controller::run(kube_config, config, metrics, shutdown).await?;
        }
        Ok(ExitCode::SUCCESS)
    })?
}

/// Prints the webhook receiver's address once it listens (port 0 resolved).
#[allow(clippy::print_stdout)]
fn report_receiver_address(receiver: &ferry_controller::receiver::ReceiverConfig) {
    let bound = receiver.bound.clone();
    tokio::spawn(async move {
        for _ in 0..600 {
            if let Some(addr) = bound.get() {
                println!("webhook receiver listening on http://{addr}/hook/");
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
}

/// The feature gates ferry implements.
#[derive(Clone, Debug, Default)]
struct FeatureGates {
    strict_post_build_substitutions: bool,
}

fn parse_feature_gates(text: &str) -> Result<FeatureGates, String> {
    let mut gates = FeatureGates::default();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| format!("feature gate {item:?} is not NAME=true|false"))?;
        let enabled: bool = value
            .parse()
            .map_err(|_| format!("feature gate {name}: {value:?} is not true or false"))?;
        match name {
            "StrictPostBuildSubstitutions" => gates.strict_post_build_substitutions = enabled,
            other => return Err(format!("unknown feature gate {other:?}")),
        }
    }
    Ok(gates)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "ferry".to_owned())
}
