//! `ferry build <target>`: render manifests locally, one subcommand per renderer.

use std::process::ExitCode;

mod helm;
mod kustomization;
mod kustomize;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    target: Target,
}

#[derive(Debug, clap::Subcommand)]
enum Target {
    /// Render a Helm chart, printing what `helm template` prints.
    Helm(helm::Args),
    /// Build a local directory as the controller would for a Kustomization (overrides,
    /// post-build substitution, owner labels).
    #[command(alias = "ks")]
    Kustomization(kustomization::Args),
    /// Build a kustomization directory, printing what `kustomize build` prints.
    Kustomize(kustomize::Args),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.target {
        Target::Helm(a) => helm::run(a),
        Target::Kustomization(a) => kustomization::run(a),
        Target::Kustomize(a) => kustomize::run(a),
    }
}
