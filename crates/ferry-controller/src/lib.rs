//! Reconcilers for ferry's kinds, their watch wiring, events, metrics and leader election.
//! One process runs them all: [`run`] starts every controller on a client once this replica
//! holds the leader Lease.

pub mod artifact;
pub mod clients;
mod clock;
pub mod context;
pub mod cpu;
pub mod drift;
pub mod envsubst;
pub mod events;
pub mod gitrepository;
pub mod kustomization;
pub mod leader;
pub mod metrics;
pub mod receiver;
pub mod status;
#[cfg(test)]
mod test_support;
mod watch;

use std::{future::Future, sync::Arc};

pub use context::{Context, ControllerConfig};

use kube::{Client, Config};

/// Runs every controller until `shutdown` resolves.
pub async fn run(
    kube_config: Config,
    config: ControllerConfig,
    metrics: metrics::Metrics,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), kube::Error> {
    let client = Client::try_from(kube_config.clone())?;
    let resources = ferry_apply::Resources::new();
    let (drift, drifted) = drift::DriftWatcher::new(
        client.clone(),
        resources.clone(),
        ferry_api::keys::FIELD_MANAGER,
    );
    let ctx = Arc::new(Context::new(
        kube_config,
        client,
        resources,
        config,
        metrics,
        drift,
    ));
    // One shutdown signal for every controller.
    let shutdown = futures::FutureExt::shared(shutdown);
    let storage = ctx.config.storage.clone();
    let receivers = ctx.config.receiver.clone();
    let recorder = ctx.recorder.clone();
    let (_, sources, webhooks) = tokio::join!(
        kustomization::run(ctx.clone(), drifted, shutdown.clone()),
        gitrepository::run(ctx.clone(), storage, shutdown.clone()),
        receiver::run(ctx, receivers, shutdown)
    );
    if let Err(err) = sources {
        tracing::error!(error = %err, "the GitRepository controller could not serve its artifact storage");
    }
    if let Err(err) = webhooks {
        tracing::error!(error = %err, "the Receiver controller could not serve its webhooks");
    }
    // Events are posted after the reconciles that queued them; the last ones still get out.
    if !recorder.flush(std::time::Duration::from_secs(5)).await {
        tracing::warn!("events still queued after 5 s at shutdown are dropped");
    }
    Ok(())
}
