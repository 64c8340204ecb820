//! `ferry create source git NAME --url ... [--branch|--tag|--tag-semver|--commit|--ref-name]`:
//! writes a GitRepository as `flux create source git` does (server-side apply, then wait for
//! Ready and print the fetched revision), or prints it with `--export`.

use std::{process::ExitCode, time::Duration};

use anyhow::{Context as _, bail};
use ferry_api::{GitRepository, condition};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::{Value, json};

use super::cluster_args::{ClusterArgs, block_on};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// A source.
    #[command(subcommand)]
    Source(SourceKind),
    /// A Kustomization.
    #[command(alias = "ks")]
    Kustomization(super::create_kustomization::Args),
    /// A webhook Receiver.
    Receiver(super::create_receiver::Args),
}

#[derive(Debug, clap::Subcommand)]
enum SourceKind {
    /// A GitRepository.
    Git(GitArgs),
}

#[derive(Debug, clap::Args)]
struct GitArgs {
    name: String,
    /// Repository address: https://, ssh://, git:// or file://.
    #[arg(long)]
    url: String,
    /// Branch to follow.
    #[arg(long, default_value = "master")]
    branch: String,
    /// Tag to check out (instead of the branch).
    #[arg(long)]
    tag: Option<String>,
    /// Semver range over tags, e.g. ">=1.0.0 <2.0.0".
    #[arg(long)]
    tag_semver: Option<String>,
    /// Commit SHA-1 to check out.
    #[arg(long)]
    commit: Option<String>,
    /// Any reference, e.g. refs/pull/1/head.
    #[arg(long)]
    ref_name: Option<String>,
    /// Secret with the credentials (username/password, bearerToken, identity/known_hosts, ca.crt).
    #[arg(long)]
    secret_ref: Option<String>,
    /// Poll interval.
    #[arg(long, default_value = "1m0s")]
    interval: String,
    /// `.sourceignore` patterns, comma separated.
    #[arg(long, value_delimiter = ',')]
    ignore_paths: Vec<String>,
    /// Print the object as YAML instead of applying it.
    #[arg(long)]
    export: bool,
    /// How long to wait for the first reconcile.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    timeout: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<ferry_api::GoDuration>()
        .map(|d| d.0)
        .map_err(|e| e.to_string())
}

#[allow(clippy::print_stdout)]
fn say(symbol: &str, message: impl std::fmt::Display) {
    println!("{symbol} {message}");
}

/// The GitRepository as `flux create source git` builds it: one ref kind, in Flux's order.
fn git_repository(args: &GitArgs, namespace: &str) -> anyhow::Result<Value> {
    args.interval
        .parse::<ferry_api::GoDuration>()
        .map_err(|e| anyhow::anyhow!("--interval {:?}: {e}", args.interval))?;
    let reference = if let Some(commit) = &args.commit {
        json!({"commit": commit})
    } else if let Some(range) = &args.tag_semver {
        json!({"semver": range})
    } else if let Some(tag) = &args.tag {
        json!({"tag": tag})
    } else if let Some(name) = &args.ref_name {
        json!({"name": name})
    } else {
        json!({"branch": args.branch})
    };
    let mut spec = json!({"url": args.url, "interval": args.interval, "ref": reference});
    if let Some(secret) = &args.secret_ref {
        spec["secretRef"] = json!({"name": secret});
    }
    if !args.ignore_paths.is_empty() {
        spec["ignore"] = Value::String(args.ignore_paths.join("\n"));
    }
    Ok(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": args.name, "namespace": namespace},
        "spec": spec,
    }))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let git = match &args.what {
        What::Source(SourceKind::Git(git)) => git,
        What::Kustomization(ks) => return super::create_kustomization::run(ks, &args.cluster),
        What::Receiver(receiver) => return super::create_receiver::run(receiver, &args.cluster),
    };
    let object = git_repository(git, &args.cluster.namespace)?;
    if git.export {
        #[allow(clippy::print_stdout)]
        {
            print!("---\n{}", ferry_yaml::to_string(&object));
        }
        return Ok(ExitCode::SUCCESS);
    }
    block_on(async {
        let client = args.cluster.client().await?;
        let api: Api<GitRepository> = Api::namespaced(client, &args.cluster.namespace);
        say("►", "applying GitRepository source");
        api.patch(
            &git.name,
            &PatchParams::apply("ferry").force(),
            &Patch::Apply(&object),
        )
        .await
        .with_context(|| {
            format!(
                "applying GitRepository {}/{}",
                args.cluster.namespace, git.name
            )
        })?;
        say("✔", "GitRepository source created");
        say("◎", "waiting for GitRepository source reconciliation");
        let deadline = tokio::time::Instant::now() + git.timeout;
        loop {
            let repo = api.get(&git.name).await?;
            let status = repo.status.unwrap_or_default();
            let current = status.observed_generation.is_some()
                && status.observed_generation == repo.metadata.generation;
            if let Some(ready) =
                condition::find(&status.conditions, condition::READY).filter(|_| current)
            {
                match ready.status {
                    condition::ConditionStatus::True => {
                        say("✔", "GitRepository source reconciliation completed");
                        if let Some(artifact) = status.artifact {
                            say("✔", format!("fetched revision: {}", artifact.revision));
                        }
                        return Ok(ExitCode::SUCCESS);
                    }
                    condition::ConditionStatus::False
                        if condition::find(&status.conditions, condition::STALLED).is_some() =>
                    {
                        bail!("GitRepository {} failed: {}", git.name, ready.message);
                    }
                    _ => {}
                }
            }
            if tokio::time::Instant::now() > deadline {
                let why = condition::find(&status.conditions, condition::READY)
                    .map(|c| c.message.clone())
                    .unwrap_or_default();
                bail!(
                    "timed out waiting for GitRepository {} to be ready: {why}",
                    git.name
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
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

    fn object(argv: &[&str]) -> Value {
        let cli = Cli::parse_from(["create"].iter().chain(argv));
        let What::Source(SourceKind::Git(git)) = &cli.args.what else {
            panic!("a git source was parsed");
        };
        git_repository(git, &cli.args.cluster.namespace).expect("valid flags")
    }

    #[test]
    fn builds_the_object_flux_create_builds() {
        let o = object(&[
            "source",
            "git",
            "podinfo",
            "--url",
            "https://example.com/r",
            "-n",
            "apps",
        ]);
        assert_eq!(
            o["metadata"],
            json!({"name": "podinfo", "namespace": "apps"})
        );
        assert_eq!(
            o["spec"],
            json!({"url": "https://example.com/r", "interval": "1m0s", "ref": {"branch": "master"}})
        );
        let o = object(&[
            "source",
            "git",
            "p",
            "--url",
            "ssh://git@h/r",
            "--tag-semver",
            ">=1.0.0",
            "--tag",
            "v1",
            "--secret-ref",
            "creds",
        ]);
        assert_eq!(o["spec"]["ref"], json!({"semver": ">=1.0.0"}));
        assert_eq!(o["spec"]["secretRef"], json!({"name": "creds"}));
        let o = object(&[
            "source",
            "git",
            "p",
            "--url",
            "u://x",
            "--commit",
            "abc",
            "--ignore-paths",
            "a/,*.md",
        ]);
        assert_eq!(o["spec"]["ref"], json!({"commit": "abc"}));
        assert_eq!(o["spec"]["ignore"], json!("a/\n*.md"));
    }
}
