//! `ferry suspend|resume kustomization|source git NAME`: stop or restart reconciling, as
//! `flux suspend` and `flux resume` do (resume waits for the next reconcile).

use std::{process::ExitCode, time::Duration};

use anyhow::Context as _;
use ferry_api::{GitRepository, Kustomization};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::json;

use super::{
    cluster_args::{ClusterArgs, block_on},
    reconcile::{parse_duration, request, wait_kustomization},
};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    /// How long `resume` waits for the reconcile.
    #[arg(long, global = true, default_value = "5m", value_parser = parse_duration)]
    timeout: Duration,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// A Kustomization.
    #[command(alias = "ks")]
    Kustomization { name: String },
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

pub fn run(args: Args, suspend: bool) -> anyhow::Result<ExitCode> {
    block_on(async {
        let client = args.cluster.client().await?;
        let ns = &args.cluster.namespace;
        let patch = Patch::Merge(json!({"spec": {"suspend": suspend}}));
        let params = PatchParams::default();
        let verb = if suspend { "suspending" } else { "resuming" };
        match &args.what {
            What::Kustomization { name } => {
                let api: Api<Kustomization> = Api::namespaced(client, ns);
                say(
                    "►",
                    format!("{verb} Kustomization {name} in {ns} namespace"),
                );
                api.patch(name, &params, &patch)
                    .await
                    .with_context(|| format!("Kustomization {ns}/{name}"))?;
                if suspend {
                    say("✔", "Kustomization suspended");
                } else {
                    say("✔", "Kustomization resumed");
                    let token = request(&api, "Kustomization", name, ns).await?;
                    wait_kustomization(&api, name, Some(&token), args.timeout).await?;
                }
            }
            What::Source(SourceKind::Git { name }) => {
                let api: Api<GitRepository> = Api::namespaced(client, ns);
                say(
                    "►",
                    format!("{verb} GitRepository {name} in {ns} namespace"),
                );
                api.patch(name, &params, &patch)
                    .await
                    .with_context(|| format!("GitRepository {ns}/{name}"))?;
                say(
                    "✔",
                    if suspend {
                        "GitRepository suspended"
                    } else {
                        "GitRepository resumed"
                    },
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })?
}
