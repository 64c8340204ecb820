//! One module per verb. Each module exposes an `Args` type (clap) and a `run` function
//! returning the process exit code.

use std::process::ExitCode;

mod version;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the client version.
    Version(version::Args),
    // Add one variant per verb here, in alphabetical order.
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Version(args) => version::run(args),
    }
}
