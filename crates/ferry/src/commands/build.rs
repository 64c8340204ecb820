//! `ferry build <target>`: render manifests locally, one subcommand per renderer.

use std::process::ExitCode;

mod helm;
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
    /// Build a kustomization directory, printing what `kustomize build` prints.
    Kustomize(kustomize::Args),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.target {
        Target::Helm(a) => helm::run(a),
        Target::Kustomize(a) => kustomize::run(a),
    }
}
