//! `ferry cluster start|stop`: the embedded Kubernetes API server (ferry-apiserver) in the
//! foreground, with a pid file so `ferry cluster stop` can end it from another shell.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use anyhow::{Context as _, bail};
use ferry_apiserver::{ApiServer, SimulationConfig};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Verb,
}

#[derive(Debug, clap::Subcommand)]
enum Verb {
    /// Serve the Kubernetes API from SQLite (or memory) and write a kubeconfig; runs until
    /// interrupted or `ferry cluster stop`.
    Start(StartArgs),
    /// Stop the server `ferry cluster start` runs.
    Stop(StopArgs),
}

#[derive(Debug, clap::Args)]
struct StartArgs {
    /// Keep state here (SQLite database, certificates, tokens); it survives restarts.
    /// Default: $XDG_DATA_HOME/ferry/cluster (~/.local/share/ferry/cluster).
    #[arg(long, conflicts_with = "ephemeral")]
    data_dir: Option<PathBuf>,
    /// Keep everything in memory: gone when the server stops.
    #[arg(long)]
    ephemeral: bool,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 6443)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    address: std::net::IpAddr,
    /// Where to write the kubeconfig (default: kubeconfig in the state directory).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Serve plain HTTP instead of HTTPS with a generated CA. On a loopback address, requests
    /// without credentials are served as the administrator, as kube-apiserver's old insecure
    /// port did (kubectl never sends a token over plain HTTP); a wrong token is still refused.
    #[arg(long)]
    insecure_http: bool,
    /// Accept the tokens of this file (kube-apiserver --token-auth-file format: token,user,uid,"groups").
    #[arg(long)]
    token_auth_file: Option<PathBuf>,
    /// Seconds until simulated workloads become ready (or fail, for images tagged `fail`).
    #[arg(long, default_value_t = 2.0)]
    ready_delay: f64,
}

#[derive(Debug, clap::Args)]
struct StopArgs {
    /// The data directory the server was started with (default as for `start`).
    #[arg(long, conflicts_with = "ephemeral")]
    data_dir: Option<PathBuf>,
    /// Stop the server started with --ephemeral.
    #[arg(long)]
    ephemeral: bool,
}

fn home_dir(var: &str, fallback: &str) -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .context("HOME is not set: pass --data-dir")?;
    Ok(PathBuf::from(home).join(fallback))
}

/// Where state lives: the data directory, or a state directory for ephemeral servers (pid file
/// and kubeconfig only).
fn state_dir(data_dir: Option<&Path>, ephemeral: bool) -> anyhow::Result<PathBuf> {
    match (data_dir, ephemeral) {
        (Some(dir), _) => Ok(dir.to_owned()),
        (None, false) => Ok(home_dir("XDG_DATA_HOME", ".local/share")?.join("ferry/cluster")),
        (None, true) => {
            Ok(home_dir("XDG_STATE_HOME", ".local/state")?.join("ferry/cluster-ephemeral"))
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Verb::Start(start) => super::cluster_args::block_on(run_start(start))?,
        Verb::Stop(stop) => run_stop(stop),
    }
}

#[allow(clippy::print_stdout)]
async fn run_start(args: StartArgs) -> anyhow::Result<ExitCode> {
    let dir = state_dir(args.data_dir.as_deref(), args.ephemeral)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let pid_file = dir.join("ferry-cluster.pid");
    if let Some(pid) = running_pid(&pid_file) {
        bail!(
            "a server already runs from {} (pid {pid}); stop it with `ferry cluster stop`",
            dir.display()
        );
    }
    if !(0.0..=3600.0).contains(&args.ready_delay) {
        bail!(
            "--ready-delay must be between 0 and 3600 seconds, got {}",
            args.ready_delay
        );
    }
    let simulation = SimulationConfig {
        ready_delay: Duration::from_secs_f64(args.ready_delay),
        ..Default::default()
    };
    let mut builder = ApiServer::builder()
        .host(args.address)
        .port(args.port)
        .tls(!args.insecure_http)
        .simulation(simulation);
    builder = if args.ephemeral {
        builder.ephemeral()
    } else {
        builder.data_dir(&dir)
    };
    if let Some(tokens) = &args.token_auth_file {
        builder = builder.tokens_file(tokens);
    }
    let mut server = builder.start().await.context("starting the API server")?;
    let kubeconfig = args
        .kubeconfig
        .clone()
        .unwrap_or_else(|| dir.join("kubeconfig"));
    server
        .write_kubeconfig(&kubeconfig)
        .with_context(|| format!("writing kubeconfig {}", kubeconfig.display()))?;
    std::fs::write(&pid_file, std::process::id().to_string())
        .with_context(|| format!("writing {}", pid_file.display()))?;
    println!("✓ serving the Kubernetes API at {}", server.url());
    println!(
        "  kubeconfig: {}   (export KUBECONFIG={})",
        kubeconfig.display(),
        kubeconfig.display()
    );
    if args.ephemeral {
        println!("  state: in memory (gone when the server stops)");
    } else {
        println!("  state: {}", dir.join("state.db").display());
    }
    let trigger = server.shutdown_trigger();
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = tokio::signal::ctrl_c().await;
                    trigger.trigger();
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        trigger.trigger();
    });
    server.wait().await;
    server.shutdown().await;
    let _ = std::fs::remove_file(&pid_file);
    println!("✓ stopped");
    Ok(ExitCode::SUCCESS)
}

/// The pid in `pid_file` if that process still runs.
fn running_pid(pid_file: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(pid_file)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    alive(pid).then_some(pid)
}

/// Whether `pid` runs: it exists and is not a zombie (an exited server whose parent has not
/// reaped it yet has stopped serving).
fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) state ...`: comm may hold spaces and parentheses, the state follows the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X"))
}

#[allow(clippy::print_stdout)]
fn run_stop(args: StopArgs) -> anyhow::Result<ExitCode> {
    let dir = state_dir(args.data_dir.as_deref(), args.ephemeral)?;
    let pid_file = dir.join("ferry-cluster.pid");
    let Some(pid) = running_pid(&pid_file) else {
        let _ = std::fs::remove_file(&pid_file);
        bail!(
            "no server runs from {} (no live pid in {})",
            dir.display(),
            pid_file.display()
        );
    };
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("kill -TERM {pid} failed ({status})");
    }
    for _ in 0..200 {
        if !alive(pid) {
            println!("✓ stopped the server (pid {pid})");
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("the server (pid {pid}) did not stop within 10 s")
}
