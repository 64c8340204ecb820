//! `ferry up [REPO]`: the whole GitOps loop on one machine. Starts the embedded control plane,
//! the artifact server and every controller in this process, serves REPO (default: the example
//! repository in `examples/`) from a local git repository, points a GitRepository and a
//! Kustomization named `flux-system` at it (as `flux bootstrap` would), and runs until Ctrl-C.
//! The data directory keeps the cluster's state, the served repository and the caches, so a
//! restart picks up where it left off.

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    time::Duration,
};

use anyhow::{Context as _, bail};
use ferry_api::{condition, keys};
use ferry_apiserver::{ApiServer, SimulationConfig};
use ferry_controller::{ControllerConfig, metrics::Metrics};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client,
    api::{DynamicObject, Patch, PatchParams},
    core::{ApiResource, GroupVersionKind},
};
use serde_json::{Value, json};

use super::cluster_args::block_on;

/// The field manager of the objects `ferry up` creates.
const MANAGER: &str = "ferry-up";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration repository: a git repository (used in place) or a plain directory
    /// (copied into a git repository under the data directory on first start).
    #[arg(default_value = "examples")]
    repo: PathBuf,
    /// Path in the repository the `flux-system` Kustomization applies.
    #[arg(long, default_value = "./clusters/local")]
    path: String,
    /// Where the cluster state, the served repository and caches live.
    #[arg(long, default_value = ".ferry")]
    data_dir: PathBuf,
    /// Port of the Kubernetes API (0 picks a free one).
    #[arg(long, default_value_t = 6443)]
    port: u16,
    /// How often the repository is checked for new commits.
    #[arg(long, default_value = "10s")]
    interval: String,
    /// Seconds until simulated workloads become ready.
    #[arg(long, default_value_t = 2.0)]
    ready_delay: f64,
    /// Address of the webhook receiver serving Receivers' `/hook/...` paths (port 0 picks a
    /// free one).
    #[arg(long, default_value = "127.0.0.1:9292")]
    receiver_addr: std::net::SocketAddr,
}

#[allow(clippy::print_stdout)]
fn say(symbol: &str, message: impl std::fmt::Display) {
    println!("{symbol} {message}");
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(up(args))?
}

async fn up(args: Args) -> anyhow::Result<ExitCode> {
    args.interval
        .parse::<ferry_api::GoDuration>()
        .map_err(|e| anyhow::anyhow!("--interval: {e}"))?;
    let data = absolute(&args.data_dir)?;
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;

    let (url, branch) = prepare_repository(&args.repo, &data.join("repo"))?;
    say("►", format!("serving {url} (branch {branch})"));

    let server = ApiServer::builder()
        .data_dir(data.join("cluster"))
        .port(args.port)
        .simulation(SimulationConfig {
            ready_delay: Duration::from_secs_f64(args.ready_delay.max(0.0)),
            ..Default::default()
        })
        .start()
        .await
        .context("starting the embedded Kubernetes API server")?;
    let kubeconfig = data.join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig)
        .with_context(|| format!("writing {}", kubeconfig.display()))?;
    say("✔", format!("Kubernetes API at {}", server.url()));

    let kube_config = {
        let file = kube::config::Kubeconfig::read_from(&kubeconfig)?;
        kube::Config::from_custom_kubeconfig(file, &Default::default()).await?
    };
    let client = Client::try_from(kube_config.clone())?;
    install(&client).await?;

    let mut config = ControllerConfig {
        artifact_cache_dir: data.join("artifacts"),
        ..ControllerConfig::default()
    };
    config.storage.path = data.join("storage");
    config.storage.bind = "127.0.0.1:0".parse().expect("a literal socket address");
    config.receiver.bind = Some(args.receiver_addr);
    let receiver_bound = config.receiver.bound.clone();
    std::fs::create_dir_all(&config.artifact_cache_dir)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let controllers = tokio::spawn(ferry_controller::run(
        kube_config,
        config,
        Metrics::new(),
        async move {
            let _ = stop_rx.await;
        },
    ));

    for _ in 0..50 {
        if let Some(addr) = receiver_bound.get() {
            say(
                "✔",
                format!("webhook receiver at http://{addr}/hook/ (Receivers' status.webhookPath)"),
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bootstrap(&client, &url, &branch, &args.path, &args.interval).await?;
    say("◎", "waiting for the flux-system Kustomization to apply");
    match wait_ready(&client, Duration::from_secs(120)).await {
        Ok(revision) => say("✔", format!("applied revision {revision}")),
        Err(err) => say(
            "✗",
            format!("{err:#} (ferry keeps reconciling; see `ferry get kustomizations`)"),
        ),
    }
    print_next_steps(&kubeconfig, &url);

    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    say("►", "stopping");
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), controllers).await;
    server.shutdown().await;
    say("✔", format!("stopped; state kept in {}", data.display()));
    Ok(ExitCode::SUCCESS)
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    })
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .context("running git (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "git {} in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The file:// URL and branch to serve. A git repository is served in place; a plain directory
/// is copied into `served` and committed once (later starts keep the commits made there).
fn prepare_repository(repo: &Path, served: &Path) -> anyhow::Result<(String, String)> {
    let repo = absolute(repo)?;
    if !repo.is_dir() {
        bail!(
            "{} is not a directory: pass the configuration repository (run from the ferry checkout to use examples/)",
            repo.display()
        );
    }
    let dir = if repo.join(".git").exists() {
        repo
    } else {
        if !served.join(".git").exists() {
            copy_tree(&repo, served)?;
            git(served, &["init", "-q", "-b", "main"])?;
            git(served, &["add", "-A"])?;
            git(
                served,
                &[
                    "-c",
                    "user.name=ferry",
                    "-c",
                    "user.email=ferry@localhost",
                    "commit",
                    "-q",
                    "-m",
                    "Initial configuration",
                ],
            )?;
        }
        served.to_path_buf()
    };
    let branch = git(&dir, &["rev-parse", "--abbrev-ref", "HEAD"])?;
    Ok((format!("file://{}", dir.display()), branch))
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn dynamic(
    client: &Client,
    api_version: &str,
    kind: &str,
    plural: &str,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

async fn apply(api: &Api<DynamicObject>, object: Value) -> anyhow::Result<()> {
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    api.patch(
        &name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&object),
    )
    .await
    .with_context(|| {
        format!(
            "applying {} {name}",
            object["kind"].as_str().unwrap_or_default()
        )
    })?;
    Ok(())
}

/// Installs ferry's CRDs and waits until they are established.
async fn install(client: &Client) -> anyhow::Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in ferry_api::crd::all() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        crds.patch(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await
        .with_context(|| format!("installing CRD {name}"))?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let established = crds
                .get(&name)
                .await?
                .status
                .and_then(|s| s.conditions)
                .is_some_and(|c| {
                    c.iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                });
            if established {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                bail!("CRD {name} was not established within 30s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    say("✔", "CRDs installed");
    Ok(())
}

/// The objects `flux bootstrap` commits: namespace, GitRepository and Kustomization `flux-system`.
async fn bootstrap(
    client: &Client,
    url: &str,
    branch: &str,
    path: &str,
    interval: &str,
) -> anyhow::Result<()> {
    apply(
        &dynamic(client, "v1", "Namespace", "namespaces", None),
        json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}
        }),
    )
    .await?;
    apply(
        &dynamic(
            client,
            "source.toolkit.fluxcd.io/v1",
            "GitRepository",
            "gitrepositories",
            Some("flux-system"),
        ),
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "flux-system", "namespace": "flux-system"},
            "spec": {"url": url, "interval": interval, "ref": {"branch": branch}},
        }),
    )
    .await?;
    apply(
        &dynamic(
            client,
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            "kustomizations",
            Some("flux-system"),
        ),
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "flux-system", "namespace": "flux-system"},
            "spec": {
                "interval": "10m",
                "path": path,
                "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
            },
        }),
    )
    .await?;
    say("✔", "GitRepository and Kustomization flux-system created");
    Ok(())
}

async fn wait_ready(client: &Client, timeout: Duration) -> anyhow::Result<String> {
    let api: Api<ferry_api::Kustomization> = Api::namespaced(client.clone(), "flux-system");
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = String::new();
    loop {
        if let Some(status) = api.get("flux-system").await?.status
            && let Some(ready) = condition::find(&status.conditions, condition::READY)
        {
            match ready.status {
                condition::ConditionStatus::True => {
                    return Ok(status.last_applied_revision.unwrap_or_default());
                }
                _ => last = ready.message.clone(),
            }
        }
        if tokio::time::Instant::now() > deadline {
            bail!("not ready after {timeout:?}: {last}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[allow(clippy::print_stdout)]
fn print_next_steps(kubeconfig: &Path, url: &str) {
    let repo = url.trim_start_matches("file://");
    println!(
        "\nferry is running. In another shell:\n\n  export KUBECONFIG={kc}\n  ferry get all -A\n  kubectl get deployments -A\n\nTry:\n  - commit a change in {repo} (e.g. replicas in apps/prod/kustomization.yaml); it is applied within the interval\n  - kubectl -n dev edit deployment podinfo   # ferry puts Git's state back within a second\n  - git rm a manifest and commit                # ferry prunes what it described\n  - ferry reconcile kustomization flux-system --with-source\n\nCtrl-C stops ferry; the state stays in the data directory for the next `ferry up`.\nDrift correction annotation opt-out: {opt_out}: disabled",
        kc = kubeconfig.display(),
        opt_out = keys::DRIFT_WATCH_ANNOTATION,
    );
}
