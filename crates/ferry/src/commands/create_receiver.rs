//! `ferry create receiver NAME --type TYPE --secret-ref SECRET --resource KIND/NAME[.NS]...
//! [--event E...]`: writes a Receiver as `flux create receiver` does (server-side apply, wait for
//! Ready, print the generated webhook path), or prints it with `--export`.

use std::{process::ExitCode, time::Duration};

use anyhow::{Context as _, bail};
use ferry_api::{GoDuration, Receiver, condition};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::{Value, json};

use super::cluster_args::{ClusterArgs, block_on};

#[derive(Debug, clap::Args)]
pub struct Args {
    name: String,
    /// Sender of the webhooks: generic, generic-hmac, github, gitlab, bitbucket, harbor,
    /// dockerhub, quay, gcr, nexus, acr, cdevents.
    #[arg(long = "type")]
    receiver_type: String,
    /// Event type to handle (repeatable), e.g. push for GitHub, "Push Hook" for GitLab.
    #[arg(long = "event")]
    events: Vec<String>,
    /// Object to reconcile on a webhook (repeatable): Kind/name or Kind/name.namespace.
    #[arg(long = "resource", required = true)]
    resources: Vec<String>,
    /// Secret holding the `token` that authenticates the webhooks.
    #[arg(long)]
    secret_ref: String,
    /// How often the token Secret is read again (10m when unset).
    #[arg(long)]
    interval: Option<String>,
    /// Print the object as YAML instead of applying it.
    #[arg(long)]
    export: bool,
    /// How long to wait for the Receiver to be ready.
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    timeout: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<GoDuration>()
        .map(|d| d.0)
        .map_err(|e| e.to_string())
}

#[allow(clippy::print_stdout)]
fn say(symbol: &str, message: impl std::fmt::Display) {
    println!("{symbol} {message}");
}

/// `Kind/name` or `Kind/name.namespace`, as flux reads `--resource`.
fn resource(text: &str) -> anyhow::Result<Value> {
    let Some((kind, rest)) = text.split_once('/') else {
        bail!("--resource {text:?}: expected Kind/name or Kind/name.namespace");
    };
    if kind.is_empty() || rest.is_empty() {
        bail!("--resource {text:?}: expected Kind/name or Kind/name.namespace");
    }
    Ok(match rest.split_once('.') {
        Some((name, namespace)) if !name.is_empty() && !namespace.is_empty() => {
            json!({"kind": kind, "name": name, "namespace": namespace})
        }
        Some(_) => bail!("--resource {text:?}: expected Kind/name or Kind/name.namespace"),
        None => json!({"kind": kind, "name": rest}),
    })
}

/// The Receiver as `flux create receiver` builds it.
fn receiver(args: &Args, namespace: &str) -> anyhow::Result<Value> {
    if let Some(interval) = &args.interval {
        interval
            .parse::<GoDuration>()
            .map_err(|e| anyhow::anyhow!("--interval {interval:?}: {e}"))?;
    }
    let resources = args
        .resources
        .iter()
        .map(|r| resource(r))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut spec = json!({
        "type": args.receiver_type,
        "resources": resources,
        "secretRef": {"name": args.secret_ref},
    });
    if !args.events.is_empty() {
        spec["events"] = json!(args.events);
    }
    if let Some(interval) = &args.interval {
        spec["interval"] = json!(interval);
    }
    Ok(json!({
        "apiVersion": "notification.toolkit.fluxcd.io/v1",
        "kind": "Receiver",
        "metadata": {"name": args.name, "namespace": namespace},
        "spec": spec,
    }))
}

pub fn run(args: &Args, cluster: &ClusterArgs) -> anyhow::Result<ExitCode> {
    let object = receiver(args, &cluster.namespace)?;
    if args.export {
        #[allow(clippy::print_stdout)]
        {
            print!("---\n{}", ferry_yaml::to_string(&object));
        }
        return Ok(ExitCode::SUCCESS);
    }
    block_on(async {
        let client = cluster.client().await?;
        let api: Api<Receiver> = Api::namespaced(client, &cluster.namespace);
        say("►", "applying Receiver");
        api.patch(
            &args.name,
            &PatchParams::apply("ferry").force(),
            &Patch::Apply(&object),
        )
        .await
        .with_context(|| format!("applying Receiver {}/{}", cluster.namespace, args.name))?;
        say("✔", "Receiver created");
        say("◎", "waiting for Receiver reconciliation");
        let deadline = tokio::time::Instant::now() + args.timeout;
        loop {
            let current = api.get(&args.name).await?;
            let status = current.status.unwrap_or_default();
            let observed = status.observed_generation.is_some()
                && status.observed_generation == current.metadata.generation;
            if let Some(ready) =
                condition::find(&status.conditions, condition::READY).filter(|_| observed)
            {
                match ready.status {
                    condition::ConditionStatus::True => {
                        say("✔", "Receiver reconciliation completed");
                        if let Some(path) = status.webhook_path {
                            say("✔", format!("generated webhook URL {path}"));
                        }
                        return Ok(ExitCode::SUCCESS);
                    }
                    condition::ConditionStatus::False
                        if condition::find(&status.conditions, condition::STALLED).is_some() =>
                    {
                        bail!("Receiver {} failed: {}", args.name, ready.message);
                    }
                    _ => {}
                }
            }
            if tokio::time::Instant::now() > deadline {
                let why = condition::find(&status.conditions, condition::READY)
                    .map(|c| c.message.clone())
                    .unwrap_or_default();
                bail!(
                    "timed out waiting for Receiver {} to be ready: {why}",
                    args.name
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn object(argv: &[&str]) -> anyhow::Result<Value> {
        let cli = Cli::parse_from(["receiver"].iter().chain(argv));
        receiver(&cli.args, "flux-system")
    }

    #[test]
    fn builds_the_receiver_flux_create_builds() {
        let o = object(&[
            "gh",
            "--type",
            "github",
            "--event",
            "ping",
            "--event",
            "push",
            "--secret-ref",
            "webhook-token",
            "--resource",
            "GitRepository/podinfo",
            "--resource",
            "Kustomization/apps.tenants",
        ])
        .unwrap();
        assert_eq!(
            o["metadata"],
            json!({"name": "gh", "namespace": "flux-system"})
        );
        assert_eq!(
            o["spec"],
            json!({
                "type": "github",
                "events": ["ping", "push"],
                "secretRef": {"name": "webhook-token"},
                "resources": [
                    {"kind": "GitRepository", "name": "podinfo"},
                    {"kind": "Kustomization", "name": "apps", "namespace": "tenants"},
                ],
            })
        );
        // The object is one ferry's types read back unchanged.
        let typed: Receiver = serde_json::from_value(o.clone()).unwrap();
        assert_eq!(serde_json::to_value(typed).unwrap(), o);
        for bad in ["GitRepository", "/x", "GitRepository/", "GitRepository/x."] {
            let err = object(&[
                "r",
                "--type",
                "generic",
                "--secret-ref",
                "s",
                "--resource",
                bad,
            ])
            .unwrap_err();
            assert!(err.to_string().contains("--resource"), "{err}");
        }
        assert!(
            object(&[
                "r",
                "--type",
                "generic",
                "--secret-ref",
                "s",
                "--resource",
                "GitRepository/x",
                "--interval",
                "soon"
            ])
            .is_err()
        );
    }
}
