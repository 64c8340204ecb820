//! Connection flags shared by the verbs that talk to a cluster, spelled as kubectl and flux
//! spell them.

use std::path::PathBuf;

use anyhow::Context as _;
use kube::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};

#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The namespace scope of the operation.
    #[arg(short, long, global = true, default_value = "flux-system")]
    pub namespace: String,
}

impl ClusterArgs {
    /// The client configuration these flags select.
    pub async fn config(&self) -> anyhow::Result<Config> {
        let options = KubeConfigOptions {
            context: self.context.clone(),
            ..Default::default()
        };
        match &self.kubeconfig {
            Some(path) => {
                // $KUBECONFIG may list several files; the first one is the one written to.
                let first = path
                    .to_string_lossy()
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let kubeconfig = Kubeconfig::read_from(&first)
                    .with_context(|| format!("reading kubeconfig {first}"))?;
                Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .with_context(|| format!("loading kubeconfig {first}"))
            }
            None => Config::from_kubeconfig(&options)
                .await
                .context("loading kubeconfig (set --kubeconfig or KUBECONFIG)"),
        }
    }

    pub async fn client(&self) -> anyhow::Result<Client> {
        Ok(Client::try_from(self.config().await?)?)
    }
}

/// Runs an async command on a fresh multi-threaded runtime.
///
/// The blocking pool is capped at one thread per core (at least 4, as git fetches and file I/O
/// wait there): more threads add nothing but glibc malloc arenas, whose fragmentation grows the
/// controller's RSS (tokio's default allows 512 threads; 8 on 2 cores left the loop benchmark's
/// controller at 105 MiB, 4 at 97 MiB). Builds on it are further held to one per core by
/// `ferry_controller::cpu::CpuBound`.
pub fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(cores.max(4))
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok(runtime.block_on(future))
}
