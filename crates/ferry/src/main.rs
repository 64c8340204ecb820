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

    /// Log lines as text for people (`console`) or one JSON object per line for log
    /// collectors (`json`, what Flux's controllers write by default).
    #[arg(long, global = true, env = "FERRY_LOG_ENCODING", value_enum, default_value_t = LogEncoding::Console)]
    log_encoding: LogEncoding,

    #[command(subcommand)]
    command: commands::Command,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogEncoding {
    Console,
    Json,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log))
        .with_writer(std::io::stderr);
    match cli.log_encoding {
        LogEncoding::Console => logs.init(),
        LogEncoding::Json => logs.json().flatten_event(true).init(),
    }
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
