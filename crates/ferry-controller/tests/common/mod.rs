//! Shared setup of the controller's end-to-end tests: the embedded API server with ferry's
//! CRDs, the controllers running in-process, and a git repository on disk served as a
//! `file://` GitRepository.

#![allow(dead_code)] // each test binary uses its own subset

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use ferry_api::{GitRepository, Kustomization, condition};
use ferry_controller::{ControllerConfig, metrics::Metrics};
use ferry_test::apiserver::TestApiServer;
// Re-exported for the test binaries; each uses a subset.
#[allow(unused_imports)]
pub use ferry_test::{
    cluster::{create_namespace, dynamic_api, install_crds, wait_for},
    repo::GitRepo,
};
use kube::{
    Api, Client,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// A running control plane with ferry's controllers.
pub struct Env {
    pub server: TestApiServer,
    pub client: Client,
    pub repo: GitRepo,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    controllers: Option<tokio::task::JoinHandle<()>>,
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut ControllerConfig)) -> Self {
        let server = TestApiServer::start().await;
        let kube_config = kube_config(&server).await;
        Self::start_on(server, kube_config, adjust).await
    }

    /// Runs the controllers on `server`, reaching it through `kube_config` (which may point
    /// at something in between, such as a recording proxy).
    pub async fn start_on(
        server: TestApiServer,
        kube_config: kube::Config,
        adjust: impl FnOnce(&mut ControllerConfig),
    ) -> Self {
        let client = Client::try_from(kube_config.clone()).expect("a client for the test server");
        install_crds(&client).await;
        create_namespace(&client, "flux-system").await;
        let dir = tempfile::tempdir().expect("temporary directory");
        let repo = GitRepo::init(&dir.path().join("repo"));
        let mut config = ControllerConfig {
            artifact_cache_dir: dir.path().join("artifacts"),
            interval_jitter: 0.0,
            requeue_dependency: Duration::from_secs(2),
            ..ControllerConfig::default()
        };
        config.storage.path = dir.path().join("storage");
        config.storage.bind = "127.0.0.1:0".parse().expect("a socket address");
        adjust(&mut config);
        std::fs::create_dir_all(&config.artifact_cache_dir).expect("artifact cache directory");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let controllers = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            ferry_controller::run(kube_config, config, Metrics::new(), shutdown)
                .await
                .expect("controllers run");
        });
        Self {
            server,
            client,
            repo,
            dir,
            shutdown: Some(tx),
            controllers: Some(controllers),
        }
    }

    /// Creates the GitRepository `flux-system/<name>` for the test repository.
    pub async fn create_git_repository(&self, name: &str, interval: &str) {
        let repo: GitRepository = serde_json::from_value(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"url": self.repo.url(), "interval": interval, "ref": {"branch": "main"}},
        }))
        .expect("a valid GitRepository");
        let api: Api<GitRepository> = Api::namespaced(self.client.clone(), "flux-system");
        api.create(&PostParams::default(), &repo)
            .await
            .expect("GitRepository created");
    }

    /// Creates a Kustomization in flux-system from a spec (sourceRef defaults to the
    /// GitRepository `repo`).
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

    pub async fn kustomization(&self, name: &str) -> Kustomization {
        let api: Api<Kustomization> = Api::namespaced(self.client.clone(), "flux-system");
        api.get(name).await.expect("the Kustomization exists")
    }

    /// Waits until the Kustomization's Ready condition has `status` (and, if given, the reason),
    /// returning its message.
    pub async fn wait_ready(
        &self,
        name: &str,
        status: &str,
        reason: Option<&str>,
        timeout: Duration,
    ) -> String {
        let api: Api<Kustomization> = Api::namespaced(self.client.clone(), "flux-system");
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let ks = api.get_opt(name).await.ok().flatten();
            let conditions = ks
                .and_then(|ks| ks.status)
                .map(|s| s.conditions)
                .unwrap_or_default();
            if let Some(ready) = condition::find(&conditions, condition::READY)
                && ready.status.as_str() == status
                && reason.is_none_or(|r| r == ready.reason)
            {
                return ready.message.clone();
            }
            // The last conditions seen say why the wait failed.
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {timeout:?} waiting for Kustomization {name} Ready={status} \
                 {reason:?}; its conditions: {conditions:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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

    /// Patches an object as kubectl would (merge patch, kubectl's field manager).
    pub async fn kubectl_patch(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        patch: Value,
    ) {
        let api = dynamic_api(&self.client, api_version, kind, namespace);
        let params = PatchParams {
            field_manager: Some("kubectl-edit".to_owned()),
            ..Default::default()
        };
        api.patch(name, &params, &Patch::Merge(patch))
            .await
            .expect("patch succeeds");
    }

    /// `kubectl apply --server-side` of one YAML object, as someone outside ferry would.
    pub async fn kubectl_apply(&self, yaml: &str) {
        let obj: Value = ferry_yaml::from_str(yaml).expect("a YAML object");
        let api_version = obj["apiVersion"].as_str().expect("apiVersion").to_owned();
        let kind = obj["kind"].as_str().expect("kind").to_owned();
        let name = obj["metadata"]["name"].as_str().expect("name").to_owned();
        let namespace = obj["metadata"]["namespace"].as_str().map(str::to_owned);
        let api = dynamic_api(&self.client, &api_version, &kind, namespace.as_deref());
        api.patch(
            &name,
            &PatchParams::apply("kubectl").force(),
            &Patch::Apply(&obj),
        )
        .await
        .expect("apply succeeds");
    }

    pub async fn delete(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) {
        let api = dynamic_api(&self.client, api_version, kind, namespace);
        api.delete(name, &Default::default())
            .await
            .expect("delete succeeds");
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

pub async fn kube_config(server: &TestApiServer) -> kube::Config {
    let kubeconfig =
        kube::config::Kubeconfig::read_from(server.kubeconfig_path()).expect("kubeconfig parses");
    kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("kubeconfig valid")
}

pub fn configmap(name: &str, namespace: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\ndata:\n  key: \"{data}\"\n"
    )
}

pub fn deployment(name: &str, namespace: &str, image: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: app\n        image: {image}\n"
    )
}

/// Forwards TCP to `upstream`, recording the lines of client requests that `keep` selects
/// (request lines, headers). The server must serve plain HTTP.
pub async fn recording_proxy(
    upstream: std::net::SocketAddr,
    keep: fn(&str) -> bool,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port for the proxy");
    let url = format!(
        "http://{}",
        listener.local_addr().expect("the bound address")
    );
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let upstream_copy = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        for line in String::from_utf8_lossy(&buf[..n]).lines() {
                            if keep(line) {
                                record
                                    .lock()
                                    .expect("the recorder lock is never poisoned")
                                    .push(line.to_owned());
                            }
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let downstream_copy = async move {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                };
                tokio::join!(upstream_copy, downstream_copy);
            });
        }
    });
    (url, seen)
}
