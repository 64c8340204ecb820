//! The embedded Kubernetes API server for tests: in memory, on a free loopback port, over
//! HTTPS with a generated CA, with short simulation delays.
//!
//! ```no_run
//! # async fn demo() {
//! let server = ferry_test::apiserver::TestApiServer::start().await;
//! let client = server.client().await;                  // kube::Client
//! let kubeconfig = server.kubeconfig_path();            // for kubectl / helm
//! # let _ = (client, kubeconfig);
//! # }
//! ```
//! Dropping the server stops it.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use ferry_apiserver::{ApiServer, RunningApiServer, SimulationConfig};

/// A running server plus a kubeconfig file for it.
pub struct TestApiServer {
    server: Option<RunningApiServer>,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl TestApiServer {
    /// Starts an ephemeral server whose workloads become ready after 200 ms.
    ///
    /// Panics if the server cannot start: tests cannot continue without it.
    pub async fn start() -> Self {
        Self::start_with(SimulationConfig {
            ready_delay: Duration::from_millis(200),
            ..Default::default()
        })
        .await
    }

    /// Starts an ephemeral server with the given simulation settings.
    pub async fn start_with(simulation: SimulationConfig) -> Self {
        Self::start_builder(ApiServer::builder().ephemeral().simulation(simulation)).await
    }

    /// Starts a server from a builder (port 0 is forced: tests run in parallel).
    pub async fn start_builder(builder: ferry_apiserver::ApiServerBuilder) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory for the kubeconfig");
        let server = builder
            .port(0)
            .start()
            .await
            .expect("the embedded API server starts");
        let kubeconfig = dir.path().join("kubeconfig");
        server
            .write_kubeconfig(&kubeconfig)
            .expect("the kubeconfig is written to a fresh temporary directory");
        Self {
            server: Some(server),
            dir,
            kubeconfig,
        }
    }

    fn running(&self) -> &RunningApiServer {
        self.server
            .as_ref()
            .expect("the server runs until the harness is dropped or shut down")
    }

    /// The server's base URL, `https://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        self.running().url()
    }

    /// A kubeconfig file for kubectl and Helm (context `ferry`, namespace `default`).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// A scratch directory that lives as long as the server.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The administrator's bearer token.
    pub fn token(&self) -> &str {
        self.running().token()
    }

    /// The underlying server.
    pub fn server(&self) -> &RunningApiServer {
        self.running()
    }

    /// A kube client for this server, built from the kubeconfig as any program would.
    pub async fn client(&self) -> kube::Client {
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig)
            .expect("the kubeconfig this harness wrote parses");
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .expect("the kubeconfig this harness wrote is valid");
        kube::Client::try_from(config).expect("a kube client for the embedded server")
    }

    /// Stops the server gracefully.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}
