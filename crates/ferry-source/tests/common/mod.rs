//! Shared helpers of the git integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use ferry_source::{
    ArtifactStore, Credentials, GitCache, GitReference, GitSpec, ObjectKey, Outcome, SourceError,
};
use tempfile::TempDir;

/// An artifact store and object cache in a temp dir.
pub struct Env {
    pub dir: TempDir,
    pub store: ArtifactStore,
    pub cache: GitCache,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ArtifactStore::new(dir.path().join("store"), "http://127.0.0.1:1");
        let cache = GitCache::new(dir.path().join("cache"));
        Self { dir, store, cache }
    }

    pub fn with_store(store: ArtifactStore, dir: TempDir) -> Self {
        let cache = GitCache::new(dir.path().join("cache"));
        Self { dir, store, cache }
    }

    pub async fn run(&self, spec: &GitSpec, creds: &Credentials) -> Result<Outcome, SourceError> {
        ferry_source::reconcile_git(spec, creds, &self.store, &self.cache).await
    }

    /// Files of a stored artifact: path -> content (directories left out).
    pub fn files(&self, outcome: &Outcome) -> BTreeMap<String, Vec<u8>> {
        let path = self
            .store
            .local_path(&outcome.artifact.path)
            .expect("artifact path is relative");
        untar(&path)
    }
}

pub fn spec(name: &str, url: &str, reference: GitReference) -> GitSpec {
    let mut spec = GitSpec::new(ObjectKey::git_repository("default", name), url);
    spec.reference = reference;
    spec.timeout = std::time::Duration::from_secs(30);
    spec
}

pub fn untar(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let file = std::fs::File::open(path).expect("artifact exists");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = BTreeMap::new();
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        if entry.header().entry_type().is_file() {
            let name = entry.path().expect("path").to_string_lossy().to_string();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read entry");
            out.insert(name, data);
        }
    }
    out
}

pub fn basic(username: &str, password: &str) -> Credentials {
    Credentials {
        username: Some(username.into()),
        password: Some(password.into()),
        ..Credentials::none()
    }
}

/// Asserts that none of `secrets` appears in the error's message or debug output.
pub fn assert_redacted(err: &SourceError, secrets: &[&str]) {
    let shown = format!("{err} {err:?}");
    for secret in secrets {
        assert!(
            !shown.contains(secret),
            "secret '{secret}' leaked in: {shown}"
        );
    }
}

/// GET over plain HTTP/1.1 on loopback: (status, body).
pub async fn http_get(url: &str) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("http url");
    let (hostport, path) = rest.split_once('/').expect("url has a path");
    let mut stream = tokio::net::TcpStream::connect(hostport)
        .await
        .expect("connect");
    let req = format!("GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, raw[split + 4..].to_vec())
}
