//! One module per verb. Each module exposes an `Args` type (clap) and a `run` function
//! returning the process exit code.

use std::process::ExitCode;

mod build;
mod health;
mod policy;
mod sops;
mod version;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Render manifests locally (kustomize, ...).
    Build(build::Args),
    /// Show the health of objects saved in files, as Argo CD and kstatus judge it.
    Health(health::Args),
    /// Check manifests against Gatekeeper policies (ConstraintTemplates and constraints).
    Policy(policy::Args),
    /// Decrypt sops files (age and PGP keys) exactly as sops does; encrypt for age recipients.
    Sops(sops::Args),
    /// Print the client version.
    Version(version::Args),
    // Add one variant per verb here, in alphabetical order.
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Build(args) => build::run(args),
        Command::Health(args) => health::run(args),
        Command::Policy(args) => policy::run(args),
        Command::Sops(args) => sops::run(args),
        Command::Version(args) => version::run(args),
    }
}
