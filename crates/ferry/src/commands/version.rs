//! `ferry version`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print as JSON.
    #[arg(short, long)]
    output: Option<String>,
}

#[allow(clippy::print_stdout)]
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let version = env!("CARGO_PKG_VERSION");
    match args.output.as_deref() {
        Some("json") => println!("{}", serde_json::json!({ "ferry": version })),
        Some(other) => anyhow::bail!("unknown output format {other:?}: use json"),
        None => println!("ferry: v{version}"),
    }
    Ok(ExitCode::SUCCESS)
}
