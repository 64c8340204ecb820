//! `ferry reconcile kustomization NAME [--with-source]` and `ferry reconcile source git NAME`:
//! ask for an immediate reconcile with the `reconcile.fluxcd.io/requestedAt` annotation and wait
//! for it to be handled, printing progress as `flux reconcile` does.

use std::{process::ExitCode, time::Duration};

use anyhow::{Context as _, bail};
use ferry_api::{GitRepository, Kustomization, condition, keys};
use kube::{
    Api, Client,
    api::{Patch, PatchParams},
};
use serde_json::json;

use super::cluster_args::{ClusterArgs, block_on};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    /// How long to wait for the reconcile.
    #[arg(long, global = true, default_value = "5m", value_parser = parse_duration)]
    timeout: Duration,
    #[command(flatten)]
    cluster: ClusterArgs,
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<ferry_api::GoDuration>()
        .map(|d| d.0)
        .map_err(|e| e.to_string())
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// A Kustomization.
    #[command(alias = "ks")]
    Kustomization {
        name: String,
        /// Reconcile its source first.
        #[arg(long)]
        with_source: bool,
    },
    /// A source.
    #[command(subcommand)]
    Source(SourceKind),
}

#[derive(Debug, clap::Subcommand)]
enum SourceKind {
    /// A GitRepository.
    Git { name: String },
}

#[allow(clippy::print_stdout)]
fn say(symbol: &str, message: impl std::fmt::Display) {
    println!("{symbol} {message}");
}

/// Sets requestedAt to a fresh token and returns it.
pub async fn request<K>(
    api: &Api<K>,
    kind: &str,
    name: &str,
    namespace: &str,
) -> anyhow::Result<String>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    say(
        "►",
        format!("annotating {kind} {name} in {namespace} namespace"),
    );
    let token = jiff::Timestamp::now().to_string();
    let patch = json!({"metadata": {"annotations": {keys::REQUESTED_AT_ANNOTATION: token}}});
    api.patch(
        name,
        &PatchParams::apply(keys::CLIENT_SIDE_APPLY_MANAGER),
        &Patch::Merge(patch),
    )
    .await
    .with_context(|| format!("annotating {kind} {namespace}/{name}"))?;
    say("✔", format!("{kind} annotated"));
    Ok(token)
}

async fn wait_git(
    api: &Api<GitRepository>,
    name: &str,
    token: &str,
    timeout: Duration,
) -> anyhow::Result<String> {
    say("◎", "waiting for GitRepository reconciliation");
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let repo = api.get(name).await?;
        let status = repo.status.clone().unwrap_or_default();
        if status.last_handled_reconcile_at.as_deref() == Some(token)
            && let Some(c) = condition::find(&status.conditions, condition::READY)
        {
            if c.status == condition::ConditionStatus::False {
                bail!("{}", c.message);
            }
            if c.status == condition::ConditionStatus::True {
                let revision = status.artifact.map(|a| a.revision).unwrap_or_default();
                say("✔", format!("fetched revision {revision}"));
                return Ok(revision);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("timeout waiting for GitRepository {name} to be reconciled");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn wait_kustomization(
    api: &Api<Kustomization>,
    name: &str,
    token: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<()> {
    say("◎", "waiting for Kustomization reconciliation");
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let ks = api.get(name).await?;
        let status = ks.status.clone().unwrap_or_default();
        let handled = token.is_none_or(|t| status.last_handled_reconcile_at.as_deref() == Some(t));
        let current = status.observed_generation == ks.metadata.generation;
        let ready = condition::find(&status.conditions, condition::READY);
        // A terminal failure (Stalled) of this generation ends the wait; a failure the
        // controller retries (Reconciling) does not, as kstatus reads them.
        let stalled = condition::find(&status.conditions, condition::STALLED).filter(|c| {
            c.status == condition::ConditionStatus::True
                && c.observed_generation == ks.metadata.generation
        });
        let retrying = condition::find(&status.conditions, condition::RECONCILING).is_some();
        if handled {
            match (ready, stalled) {
                (_, Some(stalled)) => bail!("{}", stalled.message),
                (Some(c), None) if current && c.status == condition::ConditionStatus::True => {
                    say(
                        "✔",
                        format!(
                            "applied revision {}",
                            status.last_applied_revision.unwrap_or_default()
                        ),
                    );
                    return Ok(());
                }
                (Some(c), None)
                    if current && !retrying && c.status == condition::ConditionStatus::False =>
                {
                    bail!("{}", c.message)
                }
                _ => {}
            }
        }
        if tokio::time::Instant::now() >= deadline {
            let last = ready
                .map(|c| format!(": {}", c.message))
                .unwrap_or_default();
            bail!("timeout waiting for Kustomization {name} to be reconciled{last}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn reconcile(args: &Args, client: Client) -> anyhow::Result<()> {
    let ns = &args.cluster.namespace;
    match &args.what {
        What::Source(SourceKind::Git { name }) => {
            let api: Api<GitRepository> = Api::namespaced(client, ns);
            let token = request(&api, "GitRepository", name, ns).await?;
            wait_git(&api, name, &token, args.timeout).await?;
        }
        What::Kustomization { name, with_source } => {
            let api: Api<Kustomization> = Api::namespaced(client.clone(), ns);
            let ks = api
                .get(name)
                .await
                .with_context(|| format!("Kustomization {ns}/{name}"))?;
            if ks.spec.suspended() {
                bail!("resource is suspended");
            }
            if *with_source {
                let source = &ks.spec.source_ref;
                let source_ns = source.namespace.clone().unwrap_or_else(|| ns.clone());
                if source.kind != "GitRepository" {
                    bail!("source kind {} is not supported", source.kind);
                }
                let repos: Api<GitRepository> = Api::namespaced(client, &source_ns);
                let token = request(&repos, "GitRepository", &source.name, &source_ns).await?;
                wait_git(&repos, &source.name, &token, args.timeout).await?;
            }
            let token = request(&api, "Kustomization", name, ns).await?;
            wait_kustomization(&api, name, Some(&token), args.timeout).await?;
        }
    }
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async {
        let client = args.cluster.client().await?;
        reconcile(&args, client).await?;
        Ok(ExitCode::SUCCESS)
    })?
}
