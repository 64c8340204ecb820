//! Fetching source artifacts the way Flux's consumers do: download the tarball from
//! `status.artifact.url`, verify it against `status.artifact.digest`, and extract it. Extracted
//! trees are cached by digest and shared read-only between reconciles, so a thousand
//! Kustomizations of one revision download and unpack it once. A new revision of a source is
//! unpacked over the tree of its previous one when nobody holds that any more ([`Tree`]), which
//! writes only the files the commit changed; trees that are neither held nor the newest of
//! their source are removed.

mod extract;
mod trees;

pub use extract::{ContentHash, Contents, Extracted, content_hash, normalized};

use trees::Trees;

use std::{
    collections::{HashMap, VecDeque},
    path::{Path, PathBuf},
    sync::{Arc, Weak},
    time::Duration,
};

use ferry_kustomize::{DirCache, ParseCache};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// Largest artifact accepted (compressed).
const MAX_DOWNLOAD: u64 = 512 << 20;

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

/// How many artifacts' [`Extracted`] records are kept: enough for the previous revision of a
/// few sources changing at once.
const CONTENTS_KEPT: usize = 8;

/// What this process extracted for one artifact.
struct Kept {
    digest: String,
    /// Where the artifact came from, without its file name: the source it belongs to, whose
    /// next artifact is unpacked over this one's tree.
    lineage: String,
    extracted: Arc<Extracted>,
}

/// How many artifacts' [`DirCache`]s are kept: the Kustomizations of a source build its latest
/// artifact, and a few sources may change at once.
const BUILDS_KEPT: usize = 4;

/// The [`DirCache`]s of the latest artifacts built, newest last, by digest.
type KeptBuilds = VecDeque<(String, Arc<DirCache>)>;

/// An extracted artifact's directory, which stays as it is while a `Tree` of it is held (a
/// later revision of the same source is unpacked over it only when none is).
#[derive(Clone, Debug)]
pub struct Tree(Arc<PathBuf>);

impl std::ops::Deref for Tree {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Tree {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

/// Downloads and caches artifacts.
#[derive(Clone)]
pub struct ArtifactFetcher {
    http: reqwest::Client,
    cache_dir: PathBuf,
    /// One gate per digest: the first reconcile that needs an artifact downloads and extracts
    /// it while the others wait for it (a thousand Kustomizations on one source would
    /// otherwise download it a thousand times); different digests proceed in parallel.
    gates: Arc<std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>>,
    /// What the latest artifacts extracted by this process hold, newest last.
    kept: Arc<std::sync::Mutex<VecDeque<Kept>>>,
    /// The trees handed out and the sources they belong to (see [`Trees`]).
    trees: Arc<std::sync::Mutex<Trees>>,
    /// What the directories of the latest artifacts built build to, newest last, by digest:
    /// the bases a thousand overlays share are built once per artifact.
    builds: Arc<std::sync::Mutex<KeptBuilds>>,
    /// The kustomization files and inline patches parsed by builds of any artifact: most of
    /// them are the same from one revision to the next.
    parsed: Arc<ParseCache>,
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
            kept: Arc::default(),
            trees: Arc::default(),
            builds: Arc::default(),
            parsed: Arc::default(),
        }
    }

    /// The [`DirCache`] of the artifact `digest`, extracted in `dir`: extracted trees never
    /// change, which is what a directory cache needs. `None` if `dir` cannot be resolved.
    pub fn dir_cache(&self, digest: &str, dir: &Path) -> Option<Arc<DirCache>> {
        let mut kept = self.builds.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = kept.iter().position(|(d, _)| d == digest) {
            // Most recently used last, so the artifacts still being built stay.
            let entry = kept.remove(at)?;
            let cache = Arc::clone(&entry.1);
            kept.push_back(entry);
            return Some(cache);
        }
        // Extraction skips symlinks (see `extract`), so none lie below the tree.
        let cache = Arc::new(
            DirCache::new(dir)
                .ok()?
                .without_symlinks()
                .with_parse_cache(Arc::clone(&self.parsed)),
        );
        if kept.len() == BUILDS_KEPT {
            kept.pop_front();
        }
        kept.push_back((digest.to_owned(), Arc::clone(&cache)));
        Some(cache)
    }

    /// What an artifact this process extracted recently holds, if it is still remembered.
    pub fn contents(&self, digest: &str) -> Option<Arc<Extracted>> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter()
            .find(|k| k.digest == digest)
            .map(|k| Arc::clone(&k.extracted))
    }

    fn remember(&self, digest: &str, lineage: &str, extracted: Extracted) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|k| k.digest != digest);
        if kept.len() == CONTENTS_KEPT {
            kept.pop_front();
        }
        kept.push_back(Kept {
            digest: digest.to_owned(),
            lineage: lineage.to_owned(),
            extracted: Arc::new(extracted),
        });
    }

    /// The extracted artifact, if it is cached already.
    pub fn cached(&self, digest: &str) -> Option<Tree> {
        let hex = hex_of(digest).ok()?;
        self.hold(hex)
    }

    /// A hold on the tree of `hex`, if it is extracted.
    fn hold(&self, hex: &str) -> Option<Tree> {
        let mut trees = self.trees.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = trees.held.get(hex).and_then(Weak::upgrade) {
            return Some(Tree(dir));
        }
        let dir = self.cache_dir.join(hex);
        if !dir.is_dir() {
            return None;
        }
        let dir = Arc::new(dir);
        trees.held.insert(hex.to_owned(), Arc::downgrade(&dir));
        Some(Tree(dir))
    }

    /// The extracted artifact, downloading it if it is not cached.
    pub async fn fetch(&self, url: &str, digest: &str) -> Result<Tree, ArtifactError> {
        let hex = hex_of(digest)?;
        if let Some(tree) = self.hold(hex) {
            return Ok(tree);
        }
        let gate = self.gate(hex);
        let _only_one = gate.lock().await;
        if let Some(tree) = self.hold(hex) {
            // Extracted by the reconcile that held the gate before us.
            return Ok(tree);
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
        let failed = |reason: String| ArtifactError::Extract {
            digest: digest.to_owned(),
            reason,
        };
        let staging = self
            .cache_dir
            .join(format!(".{hex}.{}", std::process::id()));
        let lineage = lineage(url);
        let previous = self.take_previous(&lineage, digest, &staging);
        let staging_clone = staging.clone();
        let extracted = tokio::task::spawn_blocking(move || {
            extract::extract(&bytes, &staging_clone, previous.as_deref())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|result| result);
        let extracted = match extracted {
            Ok(extracted) => extracted,
            Err(reason) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(failed(reason));
            }
        };
        let tree = self.publish(hex, &lineage, &staging).map_err(failed)?;
        self.remember(digest, &lineage, extracted);
        Ok(tree)
    }

    /// Moves the tree of the newest earlier artifact of `lineage` that nobody holds to
    /// `staging`, to be unpacked over; returns what it holds.
    fn take_previous(&self, lineage: &str, digest: &str, staging: &Path) -> Option<Arc<Extracted>> {
        let candidates: Vec<(String, Arc<Extracted>)> = {
            let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            kept.iter()
                .rev()
                .filter(|k| k.lineage == lineage && k.digest != digest)
                .map(|k| (k.digest.clone(), Arc::clone(&k.extracted)))
                .collect()
        };
        let mut trees = self.trees.lock().unwrap_or_else(|p| p.into_inner());
        for (previous, extracted) in candidates {
            let Ok(hex) = hex_of(&previous) else {
                continue;
            };
            if trees.is_held(hex) {
                continue;
            }
            let dir = self.cache_dir.join(hex);
            if !dir.is_dir() {
                continue;
            }
            let _ = std::fs::remove_dir_all(staging);
            if std::fs::rename(&dir, staging).is_ok() {
                trees.forget(hex);
                drop(trees);
                // Its directory results name files that are no longer there.
                self.forget_builds_and_gates(&[hex.to_owned()]);
                return Some(extracted);
            }
        }
        None
    }

    /// Renames the unpacked `staging` to the tree of `hex`, the newest of `lineage`, and holds
    /// it; then removes the trees that are neither held nor the newest of their source.
    fn publish(&self, hex: &str, lineage: &str, staging: &Path) -> Result<Tree, String> {
        let dir = self.cache_dir.join(hex);
        let mut trees = self.trees.lock().unwrap_or_else(|p| p.into_inner());
        if dir.is_dir() {
            // Another process sharing the cache (a restarted controller) got there first.
            let _ = std::fs::remove_dir_all(staging);
        } else if let Err(err) = std::fs::rename(staging, &dir) {
            let _ = std::fs::remove_dir_all(staging);
            return Err(err.to_string());
        }
        let dir = Arc::new(dir);
        trees.held.insert(hex.to_owned(), Arc::downgrade(&dir));
        trees.set_newest(hex, lineage);
        let stale = trees.stale();
        // Renamed away while the lock is held, so that nobody takes a hold on a tree being
        // deleted; deleting a thousand files takes longer and happens off the lock.
        let mut trash = Vec::new();
        for stale_hex in &stale {
            trees.forget(stale_hex);
            let doomed = self
                .cache_dir
                .join(format!(".trash.{stale_hex}.{}", std::process::id()));
            if std::fs::rename(self.cache_dir.join(stale_hex), &doomed).is_ok() {
                trash.push(doomed);
            }
        }
        drop(trees);
        if !stale.is_empty() {
            self.forget_builds_and_gates(&stale);
        }
        if !trash.is_empty() {
            tokio::task::spawn_blocking(move || {
                for dir in trash {
                    let _ = std::fs::remove_dir_all(dir);
                }
            });
        }
        Ok(Tree(dir))
    }

    /// Drops what is kept for the trees of `hexes`, which are gone (removed, or moved to be
    /// unpacked over).
    fn forget_builds_and_gates(&self, hexes: &[String]) {
        let gone = |digest: &str| hex_of(digest).is_ok_and(|h| hexes.iter().any(|x| x == h));
        let mut builds = self.builds.lock().unwrap_or_else(|p| p.into_inner());
        builds.retain(|(digest, _)| !gone(digest));
        drop(builds);
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        // A gate somebody waits on stays; it is dropped with a later tree of its own.
        gates.retain(|hex, gate| !hexes.contains(hex) || Arc::strong_count(gate) > 1);
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

/// The source an artifact URL belongs to: the URL without its query and last path segment
/// (Flux serves `<kind>/<namespace>/<name>/<revision>.tar.gz`).
fn lineage(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    url.rsplit_once('/').map_or(url, |(dir, _)| dir).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

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
        let contents = extract::extract(&bytes, dir.path(), None).unwrap();
        assert_eq!(
            contents.files.keys().collect::<Vec<_>>(),
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
        let err =
            extract::extract(&gz.finish().unwrap(), &dir.path().join("root"), None).unwrap_err();
        assert!(err.contains("escapes"), "{err}");
    }

    /// Serves `body` to every request on a loopback port, counting the requests.
    async fn serve(body: Vec<u8>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let (base, requests) = serve_paths(vec![("/artifact.tar.gz".to_owned(), body)]).await;
        (format!("{base}/artifact.tar.gz"), requests)
    }

    /// Serves each body at its path on a loopback port, counting the requests; returns the
    /// base URL.
    async fn serve_paths(
        bodies: Vec<(String, Vec<u8>)>,
    ) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        let bodies: Arc<HashMap<String, Vec<u8>>> = Arc::new(bodies.into_iter().collect());
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let bodies = Arc::clone(&bodies);
                tokio::spawn(async move {
                    let mut head = [0u8; 1024];
                    let n = stream.read(&mut head).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&head[..n]);
                    let path = head.split_whitespace().nth(1).unwrap_or("");
                    let body = bodies.get(path).cloned().unwrap_or_default();
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes()).await;
                    let _ = stream.write_all(&body).await;
                });
            }
        });
        (base, requests)
    }

    /// The next artifact of a source is unpacked over its previous tree when nobody holds that
    /// (the previous digest's directory is gone, the new one complete), and beside it when
    /// someone does.
    #[tokio::test]
    async fn a_new_revision_is_unpacked_over_the_previous_tree_nobody_holds() {
        let revisions: Vec<Vec<u8>> = ["one", "two", "three"]
            .iter()
            .map(|v| tarball(&[("base/cm.yaml", v.as_bytes()), ("apps/a/k.yaml", b"same")]))
            .collect();
        let digests: Vec<String> = revisions
            .iter()
            .map(|b| format!("sha256:{}", hex::encode(Sha256::digest(b))))
            .collect();
        let paths: Vec<String> = (0..3)
            .map(|i| format!("/gitrepository/ns/repo/{i}.tar.gz"))
            .collect();
        let (base, _) = serve_paths(paths.iter().cloned().zip(revisions).collect()).await;
        let cache = tempfile::tempdir().unwrap();
        let fetcher = ArtifactFetcher::new(cache.path());
        let fetch = |i: usize| {
            let fetcher = fetcher.clone();
            let (url, digest) = (format!("{base}{}", paths[i]), digests[i].clone());
            async move { fetcher.fetch(&url, &digest).await.unwrap() }
        };
        let read = |tree: &Tree| std::fs::read_to_string(tree.join("base/cm.yaml")).unwrap();

        let first = fetch(0).await;
        let first_dir = first.to_path_buf();
        drop(first);
        let second = fetch(1).await;
        assert_eq!(read(&second), "two");
        assert_eq!(
            std::fs::read_to_string(second.join("apps/a/k.yaml")).unwrap(),
            "same"
        );
        assert!(!first_dir.exists(), "the first tree was unpacked over");
        assert!(fetcher.cached(&digests[0]).is_none());

        // Held: the third revision leaves the second where it is.
        let third = fetch(2).await;
        assert_eq!(read(&third), "three");
        assert_eq!(read(&second), "two");
        assert_eq!(
            fetcher.contents(&digests[2]).unwrap().files.len(),
            2,
            "what the third holds is remembered"
        );
    }

    /// Old trees do not pile up: one that was held when a newer revision came is removed, once
    /// released, by the next publish; the newest tree of every source stays.
    #[tokio::test]
    async fn trees_neither_held_nor_newest_of_their_source_are_removed() {
        let revisions: Vec<Vec<u8>> = ["one", "two", "three", "four"]
            .iter()
            .map(|v| tarball(&[("base/cm.yaml", v.as_bytes())]))
            .collect();
        let other = tarball(&[("other.yaml", b"another source")]);
        let digest = |b: &[u8]| format!("sha256:{}", hex::encode(Sha256::digest(b)));
        let mut bodies: Vec<(String, Vec<u8>)> = revisions
            .iter()
            .enumerate()
            .map(|(i, b)| (format!("/gitrepository/ns/repo/{i}.tar.gz"), b.clone()))
            .collect();
        bodies.push(("/gitrepository/ns/other/0.tar.gz".to_owned(), other.clone()));
        let (base, _) = serve_paths(bodies.clone()).await;
        let cache = tempfile::tempdir().unwrap();
        let fetcher = ArtifactFetcher::new(cache.path());
        let fetch = |i: usize| {
            let fetcher = fetcher.clone();
            let (url, digest) = (format!("{base}{}", bodies[i].0), digest(&bodies[i].1));
            async move { fetcher.fetch(&url, &digest).await.unwrap() }
        };
        let entries = || -> BTreeSet<String> {
            std::fs::read_dir(cache.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        let hex = |b: &[u8]| digest(b).trim_start_matches("sha256:").to_owned();

        let other_tree = fetch(4).await;
        drop(other_tree);
        let first = fetch(0).await;
        // Held while the next two revisions come: they are unpacked beside it.
        let second = fetch(1).await;
        let third = fetch(2).await;
        drop(second);
        assert!(cache.path().join(hex(&revisions[0])).is_dir(), "still held");
        drop((first, third));
        let fourth = fetch(3).await;
        assert_eq!(
            std::fs::read_to_string(fourth.join("base/cm.yaml")).unwrap(),
            "four"
        );
        // The third was unpacked over; the first and second, released, were removed.
        wait_until_gone(&entries, ".trash.").await;
        assert_eq!(
            entries(),
            BTreeSet::from([hex(&revisions[3]), hex(&other)]),
            "the newest tree of each source"
        );
        assert!(fetcher.cached(&digest(&revisions[0])).is_none());
    }

    /// Waits (up to 5 s) until no entry starts with `prefix`: the removal of renamed-away trees
    /// runs in the background.
    async fn wait_until_gone(entries: &impl Fn() -> BTreeSet<String>, prefix: &str) {
        for _ in 0..100 {
            if !entries().iter().any(|e| e.starts_with(prefix)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{prefix}* still there: {:?}", entries());
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
