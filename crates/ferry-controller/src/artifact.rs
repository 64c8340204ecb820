//! Fetching source artifacts the way Flux's consumers do: download the tarball from
//! `status.artifact.url`, verify it against `status.artifact.digest`, and extract it. Extracted
//! trees are cached by digest and shared read-only between reconciles, so a thousand
//! Kustomizations of one revision download and unpack it once.

use std::{
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

/// Downloads and caches artifacts.
#[derive(Clone)]
pub struct ArtifactFetcher {
    http: reqwest::Client,
    cache_dir: PathBuf,
    /// Serialises extraction per process; downloads of different digests still overlap because
    /// the lock is only taken around the rename into the cache.
    extract_lock: Arc<Mutex<()>>,
}

impl ArtifactFetcher {
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("a reqwest client with default TLS settings builds");
        Self {
            http,
            cache_dir: cache_dir.into(),
            extract_lock: Arc::default(),
        }
    }

    /// The directory holding the extracted artifact, downloading it if it is not cached.
    pub async fn fetch(&self, url: &str, digest: &str) -> Result<PathBuf, ArtifactError> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| ArtifactError::UnsupportedDigest(digest.to_owned()))?;
        let dir = self.cache_dir.join(hex);
        if dir.is_dir() {
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
        tokio::task::spawn_blocking(move || extract(&bytes, &staging_clone))
            .await
            .map_err(|e| ArtifactError::Extract {
                digest: digest_owned.clone(),
                reason: e.to_string(),
            })?
            .map_err(|reason| ArtifactError::Extract {
                digest: digest_owned,
                reason,
            })?;
        let _guard = self.extract_lock.lock().await;
        if dir.is_dir() {
            // Another reconcile won the race; ours is redundant.
            let _ = std::fs::remove_dir_all(&staging);
        } else if let Err(err) = std::fs::rename(&staging, &dir) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(ArtifactError::Extract {
                digest: digest.to_owned(),
                reason: err.to_string(),
            });
        }
        Ok(dir)
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

    /// Removes cached trees other than `keep` (digests in use).
    pub fn garbage_collect(&self, keep: &[String]) -> std::io::Result<usize> {
        let keep: Vec<&str> = keep
            .iter()
            .filter_map(|d| d.strip_prefix("sha256:"))
            .collect();
        let mut removed = 0;
        let Ok(entries) = std::fs::read_dir(&self.cache_dir) else {
            return Ok(0);
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !name.starts_with('.') && !keep.contains(&name.as_ref()) {
                std::fs::remove_dir_all(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
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
/// archives that expand beyond the size limit.
fn extract(bytes: &[u8], dest: &Path) -> Result<(), String> {
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
            std::fs::write(&target, content).map_err(|e| e.to_string())?;
        }
        // Symlinks and other entry kinds are skipped: a symlink could point outside the root.
    }
    Ok(())
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
        extract(&bytes, dir.path()).unwrap();
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

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact("https://user:pw@host/a.tar.gz?token=x"),
            "https://host/a.tar.gz"
        );
    }
}
