//! Fetching source artifacts the way Flux's consumers do: download the tarball from
//! `status.artifact.url`, verify it against `status.artifact.digest`, and extract it. Extracted
//! trees are cached by digest and shared read-only between reconciles, so a thousand
//! Kustomizations of one revision download and unpack it once.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    hash::{Hash, Hasher},
    io::Read,
    path::{Component, Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// Largest artifact accepted (compressed), and largest tree extracted from one.
const MAX_DOWNLOAD: u64 = 512 << 20;
const MAX_EXTRACTED: u64 = 2 << 30;

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("failed to download artifact from {url}: {reason}")]
    Download { url: String, reason: String },
    #[error("artifact from {url} is larger than {MAX_DOWNLOAD} bytes")]
    TooLarge { url: String },
    #[error("artifact digest mismatch for {url}: expected {expected}, got {actual}")]
    DigestMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("unsupported artifact digest {0:?}: expected sha256:<hex>")]
    UnsupportedDigest(String),
    #[error("failed to extract artifact {digest}: {reason}")]
    Extract { digest: String, reason: String },
}

/// The hex part of a `sha256:<hex>` digest, the name of its cache directory.
fn hex_of(digest: &str) -> Result<&str, ArtifactError> {
    digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| ArtifactError::UnsupportedDigest(digest.to_owned()))
}

/// The files of an extracted artifact (relative paths) and a hash of each one's content.
pub type Contents = BTreeMap<PathBuf, u64>;

/// How many artifacts' [`Contents`] are kept: enough for the previous revision of a few
/// sources changing at once.
const CONTENTS_KEPT: usize = 8;

/// An artifact's digest and contents.
type KeptContents = (String, Arc<Contents>);

/// Downloads and caches artifacts.
#[derive(Clone)]
pub struct ArtifactFetcher {
    http: reqwest::Client,
    cache_dir: PathBuf,
    /// One gate per digest: the first reconcile that needs an artifact downloads and extracts
    /// it while the others wait for it (a thousand Kustomizations on one source would
    /// otherwise download it a thousand times); different digests proceed in parallel.
    gates: Arc<std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>>,
    /// What the latest artifacts extracted by this process hold, newest last, by digest.
    contents: Arc<std::sync::Mutex<VecDeque<KeptContents>>>,
}

impl ArtifactFetcher {
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        // reqwest is built without a bundled TLS provider (ring comes with kube, no aws-lc
        // build); make sure ring is the process default even before any kube client exists.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // An error means another thread installed one first: just as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("a reqwest client with default TLS settings builds");
        Self {
            http,
            cache_dir: cache_dir.into(),
            gates: Arc::default(),
            contents: Arc::default(),
        }
    }

    /// What an artifact this process extracted recently holds, if it is still remembered.
    pub fn contents(&self, digest: &str) -> Option<Arc<Contents>> {
        let kept = self.contents.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter()
            .find(|(d, _)| d == digest)
            .map(|(_, contents)| Arc::clone(contents))
    }

    fn remember_contents(&self, digest: &str, contents: Contents) {
        let mut kept = self.contents.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() == CONTENTS_KEPT {
            kept.pop_front();
        }
        kept.push_back((digest.to_owned(), Arc::new(contents)));
    }

    /// The directory holding the extracted artifact, if it is cached already.
    pub fn cached(&self, digest: &str) -> Option<PathBuf> {
        let dir = self.cache_dir.join(hex_of(digest).ok()?);
        dir.is_dir().then_some(dir)
    }

    /// The directory holding the extracted artifact, downloading it if it is not cached.
    pub async fn fetch(&self, url: &str, digest: &str) -> Result<PathBuf, ArtifactError> {
        let hex = hex_of(digest)?;
        let dir = self.cache_dir.join(hex);
        if dir.is_dir() {
            return Ok(dir);
        }
        let gate = self.gate(hex);
        let _only_one = gate.lock().await;
        if dir.is_dir() {
            // Extracted by the reconcile that held the gate before us.
            return Ok(dir);
        }
        let bytes = self.download(url).await?;
        let actual = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if actual != digest {
            return Err(ArtifactError::DigestMismatch {
                url: redact(url),
                expected: digest.to_owned(),
                actual,
            });
        }
        let staging = self
            .cache_dir
            .join(format!(".{hex}.{}", std::process::id()));
        let digest_owned = digest.to_owned();
        let staging_clone = staging.clone();
        let contents = tokio::task::spawn_blocking(move || extract(&bytes, &staging_clone))
            .await
            .map_err(|e| ArtifactError::Extract {
                digest: digest_owned.clone(),
                reason: e.to_string(),
            })?
            .map_err(|reason| ArtifactError::Extract {
                digest: digest_owned,
                reason,
            })?;
        if dir.is_dir() {
            // Another process sharing the cache (a restarted controller) got there first.
            let _ = std::fs::remove_dir_all(&staging);
        } else if let Err(err) = std::fs::rename(&staging, &dir) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(ArtifactError::Extract {
                digest: digest.to_owned(),
                reason: err.to_string(),
            });
        }
        self.remember_contents(digest, contents);
        Ok(dir)
    }

    fn gate(&self, hex: &str) -> Arc<Mutex<()>> {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(gates.entry(hex.to_owned()).or_default())
    }

    async fn download(&self, url: &str) -> Result<Vec<u8>, ArtifactError> {
        let fail = |reason: String| ArtifactError::Download {
            url: redact(url),
            reason,
        };
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_DOWNLOAD)
        {
            return Err(ArtifactError::TooLarge { url: redact(url) });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?
        {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > MAX_DOWNLOAD {
                return Err(ArtifactError::TooLarge { url: redact(url) });
            }
        }
        Ok(bytes)
    }
}

/// URLs never carry credentials into messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_password(None);
            let _ = parsed.set_username("");
            parsed.set_query(None);
            parsed.to_string()
        }
        Err(_) => "<invalid url>".to_owned(),
    }
}

/// Extracts a tar.gz into `dest`, refusing entries that would land outside it, links, and
/// archives that expand beyond the size limit; returns what it holds.
fn extract(bytes: &[u8], dest: &Path) -> Result<Contents, String> {
    let mut contents = Contents::new();
    std::fs::create_dir_all(dest).map_err(|e| e.to_string())?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut total: u64 = 0;
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        if path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(format!(
                "entry {} escapes the artifact root",
                path.display()
            ));
        }
        let target = dest.join(&path);
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
        } else if kind.is_file() {
            total += entry.header().size().map_err(|e| e.to_string())?;
            if total > MAX_EXTRACTED {
                return Err(format!("artifact expands beyond {MAX_EXTRACTED} bytes"));
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            let mut content = Vec::new();
            entry.read_to_end(&mut content).map_err(|e| e.to_string())?;
            contents.insert(normalized(&path), content_hash(&content));
            std::fs::write(&target, content).map_err(|e| e.to_string())?;
        }
        // Symlinks and other entry kinds are skipped: a symlink could point outside the root.
    }
    Ok(contents)
}

/// The hash of a file's content recorded in [`Contents`].
pub fn content_hash(content: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    content.hash(&mut hasher);
    hasher.finish()
}

/// A relative path without `.`, `..` or root components, as [`Contents`] names files.
pub fn normalized(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tarball(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn extracts_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tarball(&[("apps/a.yaml", b"kind: A"), ("b.yaml", b"kind: B")]);
        let contents = extract(&bytes, dir.path()).unwrap();
        assert_eq!(
            contents.keys().collect::<Vec<_>>(),
            [Path::new("apps/a.yaml"), Path::new("b.yaml")]
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("apps/a.yaml")).unwrap(),
            "kind: A"
        );
    }

    #[test]
    fn refuses_entries_escaping_the_root() {
        // tar::Builder refuses `..` itself, so write the raw header by hand.
        let mut header = tar::Header::new_gnu();
        header.as_gnu_mut().unwrap().name[..9].copy_from_slice(b"../x.yaml");
        header.set_size(1);
        header.set_mode(0o644);
        header.set_cksum();
        let mut raw = Vec::new();
        raw.extend_from_slice(header.as_bytes());
        raw.extend_from_slice(&[b'x'; 512]);
        raw.extend_from_slice(&[0; 1024]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = extract(&gz.finish().unwrap(), &dir.path().join("root")).unwrap_err();
        assert!(err.contains("escapes"), "{err}");
    }

    /// Serves `body` to every request on a loopback port, counting the requests.
    async fn serve(body: Vec<u8>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/artifact.tar.gz", listener.local_addr().unwrap());
        let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = body.clone();
                tokio::spawn(async move {
                    let mut head = [0u8; 1024];
                    let _ = stream.read(&mut head).await;
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes()).await;
                    let _ = stream.write_all(&body).await;
                });
            }
        });
        (url, requests)
    }

    /// Many reconciles asking for one new revision at once (a thousand Kustomizations on one
    /// GitRepository): one download, one extraction, every caller gets the tree.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_fetches_of_one_digest_download_it_once() {
        let bytes = tarball(&[("app/cm.yaml", b"kind: ConfigMap")]);
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        let (url, requests) = serve(bytes).await;
        let cache = tempfile::tempdir().unwrap();
        let fetcher = ArtifactFetcher::new(cache.path());
        let fetches = (0..50).map(|_| {
            let fetcher = fetcher.clone();
            let (url, digest) = (url.clone(), digest.clone());
            tokio::spawn(async move { fetcher.fetch(&url, &digest).await })
        });
        for fetch in fetches.collect::<Vec<_>>() {
            let dir = fetch.await.unwrap().unwrap();
            assert_eq!(
                std::fs::read_to_string(dir.join("app/cm.yaml")).unwrap(),
                "kind: ConfigMap"
            );
        }
        assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact("https://user:pw@host/a.tar.gz?token=x"),
            "https://host/a.tar.gz"
        );
    }
}
