//! One module per verb. Each module exposes an `Args` type (clap) and a `run` function
//! returning the process exit code.

use std::process::ExitCode;

mod build;
mod cluster;
mod cluster_args;
mod controller;
mod create;
mod create_kustomization;
mod create_receiver;
mod diff;
mod events;
mod export;
mod get;
mod health;
mod install;
mod kustomization_build;
mod metrics_server;
mod policy;
mod reconcile;
mod sops;
mod suspend;
mod table;
mod tree;
mod up;
mod version;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Render manifests locally (kustomize, ...).
    Build(build::Args),
    /// Run the embedded Kubernetes API server (start in the foreground, stop).
    Cluster(cluster::Args),
    /// Run every reconciler against a cluster (leader-elected, with metrics).
    Controller(controller::Args),
    /// Create or update a source (GitRepository) and wait for its first artifact.
    Create(create::Args),
    /// Show what applying a local directory for a Kustomization would change in the cluster.
    Diff(diff::Args),
    /// Show the Kubernetes events of Flux's objects.
    Events(events::Args),
    /// Print objects as YAML without status, to commit to Git.
    Export(export::Args),
    /// List Kustomizations and sources with their readiness.
    Get(get::Args),
    /// Show the health of objects saved in files, as Argo CD and kstatus judge it.
    Health(health::Args),
    /// Install (or print with --export) the CRDs and the controller's manifests.
    Install(install::Args),
    /// Check manifests against Gatekeeper policies (ConstraintTemplates and constraints).
    Policy(policy::Args),
    /// Reconcile an object now.
    Reconcile(reconcile::Args),
    /// Resume a suspended object and wait for its reconcile.
    Resume(suspend::Args),
    /// Decrypt sops files (age and PGP keys) exactly as sops does; encrypt for age recipients.
    Sops(sops::Args),
    /// Suspend reconciling an object.
    Suspend(suspend::Args),
    /// Show the objects a Kustomization applied, as a tree.
    Tree(tree::Args),
    /// Run the whole GitOps loop on this machine: control plane, sources, controllers.
    Up(up::Args),
    /// Print the client version.
    Version(version::Args),
    // Add one variant per verb here, in alphabetical order.
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Build(args) => build::run(args),
        Command::Cluster(args) => cluster::run(args),
        Command::Controller(args) => controller::run(args),
        Command::Create(args) => create::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Events(args) => events::run(args),
        Command::Export(args) => export::run(args),
        Command::Get(args) => get::run(args),
        Command::Health(args) => health::run(args),
        Command::Install(args) => install::run(args),
        Command::Policy(args) => policy::run(args),
        Command::Reconcile(args) => reconcile::run(args),
        Command::Resume(args) => suspend::run(args, false),
        Command::Sops(args) => sops::run(args),
        Command::Suspend(args) => suspend::run(args, true),
        Command::Tree(args) => tree::run(args),
        Command::Up(args) => up::run(args),
        Command::Version(args) => version::run(args),
    }
}
