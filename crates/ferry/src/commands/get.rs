//! `ferry get kustomizations|sources git|receivers|all`: the objects and their readiness, as `flux get`
//! prints them.

use std::process::ExitCode;

use ferry_api::{GitRepository, Kustomization, Receiver, condition};
use kube::{Api, ResourceExt, api::ListParams};

use super::{
    cluster_args::{ClusterArgs, block_on},
    table,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    /// List the objects of all namespaces.
    #[arg(short = 'A', long, global = true)]
    all_namespaces: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Kustomizations.
    #[command(alias = "ks", alias = "kustomization")]
    Kustomizations,
    /// Sources.
    #[command(subcommand, alias = "source")]
    Sources(SourceKind),
    /// Webhook Receivers.
    #[command(alias = "receiver", alias = "rcv")]
    Receivers,
    /// Every object ferry reconciles.
    All,
}

#[derive(Debug, clap::Subcommand)]
enum SourceKind {
    /// GitRepositories.
    Git,
    /// Every kind of source.
    All,
}

/// One row of `flux get`.
struct Row {
    namespace: String,
    name: String,
    revision: String,
    suspended: bool,
    ready: String,
    message: String,
}

fn ready_of(conditions: &[ferry_api::Condition]) -> (String, String) {
    match condition::find(conditions, condition::READY) {
        Some(c) => (c.status.as_str().to_owned(), c.message.clone()),
        None => ("Unknown".to_owned(), "waiting to be reconciled".to_owned()),
    }
}

fn print(kind_title: Option<&str>, rows: Vec<Row>, all_namespaces: bool) {
    print_table(kind_title, rows, all_namespaces, true);
}

fn print_table(kind_title: Option<&str>, rows: Vec<Row>, all_namespaces: bool, revisions: bool) {
    let mut headers = vec!["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"];
    if !revisions {
        headers.remove(1);
    }
    if all_namespaces {
        headers.insert(0, "NAMESPACE");
    }
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            let name = match kind_title {
                Some(kind) => format!("{kind}/{}", r.name),
                None => r.name,
            };
            let mut cells = vec![
                name,
                r.revision,
                if r.suspended { "True" } else { "False" }.to_owned(),
                r.ready,
                r.message,
            ];
            if !revisions {
                cells.remove(1);
            }
            if all_namespaces {
                cells.insert(0, r.namespace);
            }
            cells
        })
        .collect();
    #[allow(clippy::print_stdout)]
    {
        print!("{}", table::render(&headers, &cells));
    }
}

async fn kustomizations(args: &Args) -> anyhow::Result<Vec<Row>> {
    let client = args.cluster.client().await?;
    let api: Api<Kustomization> = if args.all_namespaces {
        Api::all(client)
    } else {
        Api::namespaced(client, &args.cluster.namespace)
    };
    let list = api.list(&ListParams::default()).await?;
    Ok(list
        .items
        .into_iter()
        .map(|ks| {
            let status = ks.status.clone().unwrap_or_default();
            let (ready, message) = ready_of(&status.conditions);
            Row {
                namespace: ks.namespace().unwrap_or_default(),
                name: ks.name_any(),
                revision: status.last_applied_revision.unwrap_or_default(),
                suspended: ks.spec.suspended(),
                ready,
                message,
            }
        })
        .collect())
}

async fn git_repositories(args: &Args) -> anyhow::Result<Vec<Row>> {
    let client = args.cluster.client().await?;
    let api: Api<GitRepository> = if args.all_namespaces {
        Api::all(client)
    } else {
        Api::namespaced(client, &args.cluster.namespace)
    };
    let list = api.list(&ListParams::default()).await?;
    Ok(list
        .items
        .into_iter()
        .map(|repo| {
            let status = repo.status.clone().unwrap_or_default();
            let (ready, message) = ready_of(&status.conditions);
            Row {
                namespace: repo.namespace().unwrap_or_default(),
                name: repo.name_any(),
                revision: status.artifact.map(|a| a.revision).unwrap_or_default(),
                suspended: repo.spec.suspend.unwrap_or(false),
                ready,
                message,
            }
        })
        .collect())
}

async fn receivers(args: &Args) -> anyhow::Result<Vec<Row>> {
    let client = args.cluster.client().await?;
    let api: Api<Receiver> = if args.all_namespaces {
        Api::all(client)
    } else {
        Api::namespaced(client, &args.cluster.namespace)
    };
    let list = api.list(&ListParams::default()).await?;
    Ok(list
        .items
        .into_iter()
        .map(|receiver| {
            let status = receiver.status.clone().unwrap_or_default();
            let (ready, message) = ready_of(&status.conditions);
            Row {
                namespace: receiver.namespace().unwrap_or_default(),
                name: receiver.name_any(),
                revision: String::new(),
                suspended: receiver.spec.suspended(),
                ready,
                message,
            }
        })
        .collect())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async {
        match &args.what {
            What::Kustomizations => print(None, kustomizations(&args).await?, args.all_namespaces),
            What::Sources(SourceKind::Git) => {
                print(None, git_repositories(&args).await?, args.all_namespaces)
            }
            What::Receivers => {
                print_table(None, receivers(&args).await?, args.all_namespaces, false)
            }
            What::Sources(SourceKind::All) => print(
                Some("gitrepository"),
                git_repositories(&args).await?,
                args.all_namespaces,
            ),
            What::All => {
                print(
                    Some("gitrepository"),
                    git_repositories(&args).await?,
                    args.all_namespaces,
                );
                #[allow(clippy::print_stdout)]
                {
                    println!();
                }
                print(
                    Some("kustomization"),
                    kustomizations(&args).await?,
                    args.all_namespaces,
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })?
}
