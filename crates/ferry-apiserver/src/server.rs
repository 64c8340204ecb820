//! Starting and stopping the server: storage, PKI, tokens, controllers and the HTTP(S) listener.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::{
    auth::{Auth, AuthError},
    controllers::{self, SimulationConfig},
    core::Core,
    http::{self, AppState},
    resources::{Registry, builtin_resources},
    store::{Store, StoreError},
    strategy::Strategy,
    tls::{self, TlsError},
};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the embedded OpenAPI document is not valid JSON: {0}")]
    OpenApi(serde_json::Error),
}

/// Entry point: `ApiServer::builder()`.
pub struct ApiServer;

impl ApiServer {
    /// A builder with the defaults: in memory, `127.0.0.1`, a random port, HTTPS, simulation on.
    pub fn builder() -> ApiServerBuilder {
        ApiServerBuilder::default()
    }
}

/// Configures and starts an API server.
#[derive(Debug, Clone)]
pub struct ApiServerBuilder {
    data_dir: Option<PathBuf>,
    host: IpAddr,
    port: u16,
    tls: bool,
    simulation: SimulationConfig,
    tokens_file: Option<PathBuf>,
    watch_history: usize,
    bookmark_interval: Duration,
}

impl Default for ApiServerBuilder {
    fn default() -> Self {
        Self {
            data_dir: None,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            tls: true,
            simulation: SimulationConfig::default(),
            tokens_file: None,
            watch_history: 100_000,
            bookmark_interval: Duration::from_secs(60),
        }
    }
}

impl ApiServerBuilder {
    /// Keeps state (SQLite `state.db`), certificates (`pki/`) and tokens (`tokens.csv`) in `dir`,
    /// so a restart finds everything again.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Keeps everything in memory (the default): gone when the server stops.
    pub fn ephemeral(mut self) -> Self {
        self.data_dir = None;
        self
    }

    /// The address to listen on (default 127.0.0.1).
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// The port to listen on; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// HTTPS with a generated CA (default), or plain HTTP when false. Plain HTTP on a loopback
    /// address serves requests without credentials as the administrator, as kube-apiserver's
    /// insecure port did (kubectl and client-go never send a token over plain HTTP); on other
    /// addresses the token stays required.
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// How workloads get simulated status.
    pub fn simulation(mut self, simulation: SimulationConfig) -> Self {
        self.simulation = simulation;
        self
    }

    /// Accept the tokens of this file (kube-apiserver `--token-auth-file` format) instead of a
    /// generated one; the kubeconfig then uses its first token.
    pub fn tokens_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tokens_file = Some(path.into());
        self
    }

    /// How many recent events watches can resume from (older resourceVersions get 410).
    pub fn watch_history(mut self, events: usize) -> Self {
        self.watch_history = events;
        self
    }

    /// How often watches that allow bookmarks get one (default 60 s).
    pub fn bookmark_interval(mut self, every: Duration) -> Self {
        self.bookmark_interval = every;
        self
    }

    fn tokens(&self) -> Result<(Auth, String), StartError> {
        let first_token = |path: &Path| -> Result<String, StartError> {
            let text = std::fs::read_to_string(path).map_err(|source| StartError::Io {
                path: path.to_owned(),
                source,
            })?;
            Ok(text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .and_then(|l| l.split(',').next())
                .unwrap_or_default()
                .to_owned())
        };
        if let Some(path) = &self.tokens_file {
            return Ok((Auth::load(path)?, first_token(path)?));
        }
        match &self.data_dir {
            Some(dir) => {
                let path = dir.join("tokens.csv");
                if !path.exists() {
                    let token = crate::meta::new_token();
                    std::fs::write(&path, format!("{token},admin,admin,\"system:masters\"\n"))
                        .map_err(|source| StartError::Io {
                            path: path.clone(),
                            source,
                        })?;
                    tls::restrict(&path)?;
                }
                Ok((Auth::load(&path)?, first_token(&path)?))
            }
            None => {
                let token = crate::meta::new_token();
                Ok((Auth::single_admin(&token), token))
            }
        }
    }

    /// Opens storage, starts the controllers and the listener on the current tokio runtime.
    pub async fn start(self) -> Result<RunningApiServer, StartError> {
        if let Some(dir) = &self.data_dir {
            std::fs::create_dir_all(dir).map_err(|source| StartError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        let swagger: serde_json::Value =
            serde_json::from_slice(ferry_schema::openapi::v2()).map_err(StartError::OpenApi)?;
        let registry = Registry::new(builtin_resources(&swagger));
        drop(swagger);
        let db_path = self.data_dir.as_ref().map(|d| d.join("state.db"));
        let store = Store::open(db_path.as_deref(), self.watch_history)?;
        let core = Arc::new(Core::new(registry, store, Strategy::default()));
        let pki = if self.tls {
            Some(tls::load_or_generate(
                self.data_dir.as_ref().map(|d| d.join("pki")).as_deref(),
            )?)
        } else {
            None
        };
        if let Some(pki) = &pki {
            let _ = core.ca_pem.set(pki.ca_pem.clone());
        }
        let (mut auth, token) = self.tokens()?;
        if !self.tls && self.host.is_loopback() {
            // kubectl sends no token over plain HTTP (see Auth::allow_anonymous_admin).
            auth = auth.allow_anonymous_admin();
        }
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let controllers =
            controllers::spawn_all(core.clone(), self.simulation.clone(), shutdown_rx.clone());

        let addr = SocketAddr::new(self.host, self.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let state = Arc::new(AppState {
            core: core.clone(),
            auth: Arc::new(auth),
            shutdown: shutdown_rx.clone(),
            bookmark_interval: self.bookmark_interval,
            discovery: Default::default(),
            openapi: Default::default(),
        });
        let router = http::router(state);
        let tls_config = pki.as_ref().map(tls::server_config).transpose()?;
        let server = tokio::spawn(serve(listener, router, tls_config, shutdown_rx));
        let scheme = if self.tls { "https" } else { "http" };
        let host = match local.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        tracing::info!(url = %format!("{scheme}://{host}:{}", local.port()), "kubernetes API server listening");
        Ok(RunningApiServer {
            addr: local,
            url: format!("{scheme}://{host}:{}", local.port()),
            ca_pem: pki.map(|p| p.ca_pem),
            token,
            shutdown: shutdown_tx,
            server: Some(server),
            controllers,
            core,
        })
    }
}

async fn serve(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let watcher = graceful.watcher();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            let result = match acceptor {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls_stream) => {
                        watcher
                            .watch(
                                builder
                                    .serve_connection_with_upgrades(
                                        TokioIo::new(tls_stream),
                                        service,
                                    )
                                    .into_owned(),
                            )
                            .await
                    }
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                },
                None => {
                    watcher
                        .watch(
                            builder
                                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                                .into_owned(),
                        )
                        .await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Open watches end on the shutdown signal; give in-flight requests a moment to finish.
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

/// A running server. Dropping it stops the listener (without waiting); call
/// [`RunningApiServer::shutdown`] to stop gracefully.
pub struct RunningApiServer {
    addr: SocketAddr,
    url: String,
    ca_pem: Option<String>,
    token: String,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    controllers: tokio::task::JoinSet<()>,
    core: Arc<Core>,
}

impl RunningApiServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` (or `http://` without TLS).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA that signed the serving certificate (PEM), when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The administrator's bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A kubeconfig for this server (cluster, user and context all named `ferry`).
    pub fn kubeconfig(&self) -> String {
        crate::kubeconfig::render(&self.url, self.ca_pem.as_deref(), &self.token)
    }

    /// Writes [`Self::kubeconfig`] to `path` (readable by its owner only).
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, self.kubeconfig())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }

    /// The API core, for in-process callers that want to skip HTTP (benchmarks, embedding).
    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// Stops accepting, ends watches, lets in-flight requests finish (up to 5 s) and stops the
    /// controllers.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        while self.controllers.join_next().await.is_some() {}
    }

    /// Waits until the server stops (after [`Self::shutdown`] is triggered elsewhere or it fails).
    pub async fn wait(&mut self) {
        if let Some(server) = self.server.as_mut() {
            let _ = server.await;
            self.server = None;
        }
    }

    /// A handle that triggers shutdown from another task (signal handlers).
    pub fn shutdown_trigger(&self) -> ShutdownTrigger {
        ShutdownTrigger(self.shutdown.clone())
    }
}

/// Triggers a graceful shutdown of a [`RunningApiServer`] from elsewhere.
#[derive(Clone)]
pub struct ShutdownTrigger(watch::Sender<bool>);

impl ShutdownTrigger {
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

impl Drop for RunningApiServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            server.abort();
        }
        self.controllers.abort_all();
    }
}
