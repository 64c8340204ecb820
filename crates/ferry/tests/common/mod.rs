//! Shared setup of the CLI's end-to-end tests: the embedded API server with ferry's CRDs, the
//! controllers running in-process (as in ferry-controller's own tests), a git repository on disk
//! served as a `file://` GitRepository, and a runner for the `ferry` binary.

#![allow(dead_code, clippy::unwrap_used)] // each test binary uses its own subset

use std::{
    process::{Command, Output},
    time::Duration,
};

use ferry_api::{GitRepository, Kustomization, condition};
use ferry_controller::{ControllerConfig, metrics::Metrics};
use ferry_test::apiserver::TestApiServer;
// Re-exported for the test binaries; each uses a subset.
#[allow(unused_imports)]
pub use ferry_test::{
    cluster::{create_namespace, dynamic_api, install_crds, wait_for},
    repo::{GitRepo, write},
};
use kube::{Api, Client, api::PostParams};
use serde_json::{Value, json};

/// What a run of the binary printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with everything printed unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code {} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// Runs `ferry ARGS` without a cluster (no kubeconfig in the environment).
pub async fn ferry(args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_ferry"))
            .args(&args)
            .env_remove("KUBECONFIG")
            .env("NO_COLOR", "1")
            .output()
            .expect("the ferry binary runs");
        Run::from(output)
    })
    .await
    .unwrap()
}

/// Runs `ferry ARGS --kubeconfig <server's kubeconfig>`.
pub async fn ferry_on(server: &TestApiServer, args: &[&str]) -> Run {
    let kubeconfig = server.kubeconfig_path().display().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--kubeconfig", &kubeconfig]);
    ferry(&all).await
}

/// A running control plane with ferry's CRDs and, if started, its controllers.
pub struct Env {
    pub server: TestApiServer,
    pub client: Client,
    pub repo: GitRepo,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    controllers: Option<tokio::task::JoinHandle<()>>,
}

impl Env {
    /// The API server with ferry's CRDs and the flux-system namespace, no controllers.
    pub async fn without_controllers() -> Self {
        let server = TestApiServer::start().await;
        let client = server.client().await;
        install_crds(&client).await;
        create_namespace(&client, "flux-system").await;
        let dir = tempfile::tempdir().expect("temporary directory");
        let repo = GitRepo::init(&dir.path().join("repo"));
        Self {
            server,
            client,
            repo,
            dir,
            shutdown: None,
            controllers: None,
        }
    }

    /// The same with the controllers running in this process.
    pub async fn start() -> Self {
        let mut env = Self::without_controllers().await;
        let mut config = ControllerConfig {
            artifact_cache_dir: env.dir.path().join("artifacts"),
            interval_jitter: 0.0,
            requeue_dependency: Duration::from_secs(2),
            ..ControllerConfig::default()
        };
        config.storage.path = env.dir.path().join("storage");
        config.storage.bind = "127.0.0.1:0".parse().expect("a socket address");
        std::fs::create_dir_all(&config.artifact_cache_dir).expect("artifact cache directory");
        let kubeconfig = kube::config::Kubeconfig::read_from(env.server.kubeconfig_path())
            .expect("kubeconfig parses");
        let kube_config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("kubeconfig valid");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        env.controllers = Some(tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            ferry_controller::run(kube_config, config, Metrics::new(), shutdown)
                .await
                .expect("controllers run");
        }));
        env.shutdown = Some(tx);
        env
    }

    pub async fn ferry(&self, args: &[&str]) -> Run {
        ferry_on(&self.server, args).await
    }

    /// Creates the GitRepository `flux-system/<name>` for the test repository (branch main).
    pub async fn create_git_repository(&self, name: &str) {
        let repo: GitRepository = serde_json::from_value(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"url": self.repo.url(), "interval": "1m", "ref": {"branch": "main"}},
        }))
        .expect("a valid GitRepository");
        let api: Api<GitRepository> = Api::namespaced(self.client.clone(), "flux-system");
        api.create(&PostParams::default(), &repo)
            .await
            .expect("GitRepository created");
    }

    /// Creates a Kustomization in flux-system (sourceRef defaults to the GitRepository `repo`).
    pub async fn create_kustomization(&self, name: &str, mut spec: Value) {
        if spec.get("sourceRef").is_none() {
            spec["sourceRef"] = json!({"kind": "GitRepository", "name": "repo"});
        }
        let ks: Kustomization = serde_json::from_value(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": spec,
        }))
        .expect("a valid Kustomization");
        let api: Api<Kustomization> = Api::namespaced(self.client.clone(), "flux-system");
        api.create(&PostParams::default(), &ks)
            .await
            .expect("Kustomization created");
    }

    /// Waits until the Kustomization is Ready=True at its current generation.
    pub async fn wait_ready(&self, name: &str) {
        let api: Api<Kustomization> = Api::namespaced(self.client.clone(), "flux-system");
        wait_for(
            &format!("Kustomization {name} ready"),
            Duration::from_secs(60),
            || {
                let api = api.clone();
                async move {
                    let ks = api.get(name).await.ok()?;
                    let status = ks.status?;
                    (status.observed_generation == ks.metadata.generation
                        && condition::is_true(&status.conditions, condition::READY))
                    .then_some(())
                }
            },
        )
        .await;
    }

    /// Reads an object, `None` when it does not exist.
    pub async fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let api = dynamic_api(&self.client, api_version, kind, namespace);
        api.get_opt(name)
            .await
            .expect("get succeeds")
            .map(|o| serde_json::to_value(o).expect("serialisable"))
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.controllers.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
    }
}
