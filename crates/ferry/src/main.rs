//! The `ferry` command: a thin shell over the library crates. Argument parsing lives here,
//! one module per verb under `commands/`; this is the only crate that prints or uses anyhow.

mod commands;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    about = "GitOps continuous delivery for Kubernetes"
)]
struct Cli {
    /// Log filter, e.g. `info` or `ferry_controller=debug` (also FERRY_LOG).
    #[arg(long, global = true, env = "FERRY_LOG", default_value = "warn")]
    log: String,

    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log))
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("✗ {err:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
