//! `ferry build kustomization NAME --path DIR [--kustomization-file F] [--dry-run]`: builds a
//! local directory exactly as the controller would for that Kustomization (its overrides,
//! post-build substitution, owner labels) and prints the YAML, as `flux build kustomization`
//! does.
//!
//! The Kustomization is read from the cluster, or from `--kustomization-file`. With
//! `--dry-run` (which needs the file) the cluster is not contacted at all, and the variables of
//! `postBuild.substituteFrom` are left out.

use std::{path::PathBuf, process::ExitCode};

use anyhow::bail;

use super::super::{
    cluster_args::{ClusterArgs, block_on},
    kustomization_build,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the Kustomization.
    name: String,
    /// Directory of the manifests to build (replaces the Kustomization's spec.path).
    #[arg(long)]
    path: PathBuf,
    /// Read the Kustomization from this file instead of the cluster.
    #[arg(long)]
    kustomization_file: Option<PathBuf>,
    /// Do not contact the cluster: needs --kustomization-file; substituteFrom is left out.
    #[arg(long)]
    dry_run: bool,
    /// Fail on post-build variables that have neither a value nor a default (otherwise they
    /// become empty, as in the controller's default).
    #[arg(long)]
    strict_substitute: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let namespace = &args.cluster.namespace;
    if args.dry_run && args.kustomization_file.is_none() {
        bail!(
            "--dry-run needs --kustomization-file: the Kustomization cannot be read from the cluster"
        );
    }
    block_on(async {
        let client = if args.dry_run {
            None
        } else {
            Some(args.cluster.client().await?)
        };
        let ks = match (&args.kustomization_file, &client) {
            (Some(file), _) => kustomization_build::from_file(file, namespace, &args.name)?,
            (None, Some(client)) => {
                kustomization_build::from_cluster(client, namespace, &args.name).await?
            }
            (None, None) => bail!("--dry-run needs --kustomization-file"),
        };
        let substitution =
            kustomization_build::substitution(client.as_ref(), &ks, args.strict_substitute).await?;
        let objects = kustomization_build::render(&args.path, &ks, substitution).await?;
        #[allow(clippy::print_stdout)]
        {
            print!("{}", ferry_yaml::to_string_multi(&objects));
        }
        Ok(ExitCode::SUCCESS)
    })?
}
