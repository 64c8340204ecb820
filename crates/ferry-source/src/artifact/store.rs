//! The artifact store: a directory laid out as Flux's (`<kind>/<namespace>/<name>/<file>`),
//! written atomically (temp file + rename), keeping the last N artifacts per object.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::reuse::{PieceIndex, Reusable};
use super::{Artifact, ObjectKey};
use crate::error::SourceError;

/// Default number of artifacts kept per object (Flux's `--artifact-retention-records`).
pub const DEFAULT_RETENTION: usize = 2;

#[derive(Clone, Debug)]
pub struct ArtifactStore {
    root: PathBuf,
    base_url: String,
    retention: usize,
}

/// What we remember next to an artifact, so an unchanged source is not archived again.
#[derive(Serialize, Deserialize)]
struct Sidecar {
    fingerprint: String,
    artifact: Artifact,
}

/// An artifact being written: hashes and counts as it goes, refuses to grow past the limit.
pub struct ArtifactWriter {
    file: io::BufWriter<fs::File>,
    temp: PathBuf,
    hasher: Sha256,
    written: u64,
    limit: u64,
    pieces: Option<PieceIndex>,
}

impl ArtifactWriter {
    /// Where the artifact's compressed pieces are, stored next to it for the next artifact.
    pub fn set_piece_index(&mut self, index: PieceIndex) {
        self.pieces = Some(index);
    }
}

/// The `io::Error` payload of a write past the size limit.
#[derive(Debug, thiserror::Error)]
#[error("artifact larger than {limit} bytes")]
pub struct TooLarge {
    pub limit: u64,
}

impl Write for ArtifactWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written + buf.len() as u64 > self.limit {
            return Err(io::Error::other(TooLarge { limit: self.limit }));
        }
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl ArtifactStore {
    /// A store under `root`, its files served at `base_url` (e.g. `http://127.0.0.1:9090`).
    pub fn new(root: impl Into<PathBuf>, base_url: impl Into<String>) -> Self {
        Self {
            root: root.into(),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            retention: DEFAULT_RETENTION,
        }
    }

    /// Keep the last `n` artifacts per object (at least 1: the current one).
    pub fn with_retention(mut self, n: usize) -> Self {
        self.retention = n.max(1);
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn storage_err(path: &Path, e: impl std::fmt::Display) -> SourceError {
        SourceError::Storage {
            path: path.display().to_string(),
            cause: e.to_string(),
        }
    }

    /// The directory of `key`, refusing names that would escape the store.
    fn object_dir(&self, key: &ObjectKey) -> Result<PathBuf, SourceError> {
        let rel = format!("{}/{}/{}", key.kind, key.namespace, key.name);
        let safe = [&key.kind, &key.namespace, &key.name]
            .iter()
            .all(|p| !p.is_empty() && !p.contains(['/', '\\', '\0']) && *p != "." && *p != "..");
        if !safe {
            return Err(Self::storage_err(Path::new(&rel), "invalid object key"));
        }
        Ok(self.root.join(rel))
    }

    /// The local file of an artifact path (relative, as in `Artifact::path`).
    pub fn local_path(&self, artifact_path: &str) -> Option<PathBuf> {
        let rel = Path::new(artifact_path);
        rel.components()
            .all(|c| matches!(c, Component::Normal(_)))
            .then(|| self.root.join(rel))
    }

    /// The artifact stored for `key` under `file_name` if it was built with `fingerprint`.
    pub fn existing(
        &self,
        key: &ObjectKey,
        file_name: &str,
        fingerprint: &str,
    ) -> Option<Artifact> {
        let dir = self.object_dir(key).ok()?;
        let sidecar: Sidecar =
            serde_json::from_slice(&fs::read(dir.join(sidecar_name(file_name))).ok()?).ok()?;
        let file = dir.join(file_name);
        let size = fs::metadata(&file).ok()?.len();
        (sidecar.fingerprint == fingerprint && size == sidecar.artifact.size)
            .then_some(sidecar.artifact)
    }

    /// Starts writing a new artifact for `key`.
    pub fn create(&self, key: &ObjectKey, limit: u64) -> Result<ArtifactWriter, SourceError> {
        let dir = self.object_dir(key)?;
        fs::create_dir_all(&dir).map_err(|e| Self::storage_err(&dir, e))?;
        let temp = dir.join(format!(".tmp-{}-{}", std::process::id(), unique()));
        let file = fs::File::create(&temp).map_err(|e| Self::storage_err(&temp, e))?;
        Ok(ArtifactWriter {
            file: io::BufWriter::with_capacity(256 * 1024, file),
            temp,
            hasher: Sha256::new(),
            written: 0,
            limit,
            pieces: None,
        })
    }

    /// Moves a finished artifact into place as `file_name` and garbage-collects old ones.
    pub fn commit(
        &self,
        key: &ObjectKey,
        writer: ArtifactWriter,
        file_name: &str,
        revision: &str,
        fingerprint: &str,
        metadata: std::collections::BTreeMap<String, String>,
    ) -> Result<Artifact, SourceError> {
        let dir = self.object_dir(key)?;
        let ArtifactWriter {
            file,
            temp,
            hasher,
            written,
            pieces,
            ..
        } = writer;
        let file = file
            .into_inner()
            .map_err(|e| Self::storage_err(&temp, e.error()))?;
        file.sync_all().map_err(|e| Self::storage_err(&temp, e))?;
        drop(file);
        let target = dir.join(file_name);
        let index_path = dir.join(index_name(file_name));
        // The index names the artifact's size: one left over from an earlier artifact of the
        // same name, or written for one that never landed, is ignored when read.
        if let Some(pieces) = pieces {
            let temp_index = dir.join(format!(".tmp-{}-{}", std::process::id(), unique()));
            let written_index = fs::write(&temp_index, pieces.encode(written))
                .and_then(|()| fs::rename(&temp_index, &index_path));
            if let Err(e) = written_index {
                // Only reuse is lost; the artifact itself is fine.
                tracing::warn!(path = %index_path.display(), error = %e, "failed to write the piece index");
                let _ = fs::remove_file(&temp_index);
            }
        } else {
            let _ = fs::remove_file(&index_path);
        }
        fs::rename(&temp, &target).map_err(|e| Self::storage_err(&target, e))?;
        let path = format!("{}/{}/{}/{}", key.kind, key.namespace, key.name, file_name);
        let artifact = Artifact {
            url: format!("{}/{}", self.base_url, path),
            path,
            revision: revision.to_string(),
            digest: format!("sha256:{}", hex::encode(hasher.finalize())),
            last_update_time: jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_else(|_| jiff::Timestamp::now())
                .to_string(),
            size: written,
            metadata,
        };
        let sidecar = Sidecar {
            fingerprint: fingerprint.to_string(),
            artifact: artifact.clone(),
        };
        let sidecar_path = dir.join(sidecar_name(file_name));
        let json = serde_json::to_vec(&sidecar).map_err(|e| Self::storage_err(&sidecar_path, e))?;
        fs::write(&sidecar_path, json).map_err(|e| Self::storage_err(&sidecar_path, e))?;
        self.gc(key, file_name)?;
        Ok(artifact)
    }

    /// Discards an unfinished artifact.
    pub fn abort(&self, writer: ArtifactWriter) {
        let _ = fs::remove_file(&writer.temp);
    }

    /// Keeps the newest `retention` artifacts of `key` (always `current`), removes the rest and
    /// any temp file left by a crash.
    pub fn gc(&self, key: &ObjectKey, current: &str) -> Result<(), SourceError> {
        let dir = self.object_dir(key)?;
        let mut artifacts = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| Self::storage_err(&dir, e))? {
            let entry = entry.map_err(|e| Self::storage_err(&dir, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with(".tmp-") {
                let _ = fs::remove_file(entry.path());
            } else if !name.starts_with('.') && name != current {
                let modified = entry.metadata().and_then(|m| m.modified()).ok();
                artifacts.push((modified, name));
            }
        }
        artifacts.sort_by_key(|a| std::cmp::Reverse(a.0));
        for (_, name) in artifacts.into_iter().skip(self.retention - 1) {
            let _ = fs::remove_file(dir.join(&name));
            let _ = fs::remove_file(dir.join(sidecar_name(&name)));
            let _ = fs::remove_file(dir.join(index_name(&name)));
        }
        Ok(())
    }

    /// The compressed pieces of `key`'s retained artifacts, newest first, for a new artifact
    /// to copy from.
    pub fn reusable(&self, key: &ObjectKey) -> Reusable {
        let mut reusable = Reusable::default();
        let Ok(dir) = self.object_dir(key) else {
            return reusable;
        };
        let Ok(entries) = fs::read_dir(&dir) else {
            return reusable;
        };
        let mut artifacts: Vec<_> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().to_string();
                let modified = entry.metadata().and_then(|m| m.modified()).ok();
                (!name.starts_with('.')).then_some((modified, name))
            })
            .collect();
        artifacts.sort_by_key(|a| std::cmp::Reverse(a.0));
        for (_, name) in artifacts.into_iter().take(self.retention) {
            reusable.add(&dir.join(&name), &dir.join(index_name(&name)));
        }
        reusable
    }

    /// Touches an artifact that is reused so GC counts it as the newest.
    pub fn touch(&self, key: &ObjectKey, file_name: &str) {
        if let Ok(dir) = self.object_dir(key) {
            let path = dir.join(file_name);
            if let Ok(file) = fs::File::options().append(true).open(&path) {
                let _ = file.set_modified(std::time::SystemTime::now());
            }
        }
    }
}

fn sidecar_name(file_name: &str) -> String {
    format!(".{file_name}.json")
}

fn index_name(file_name: &str) -> String {
    format!(".{file_name}.idx")
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// sha256 of a file, `sha256:<hex>` (consumers verify downloads this way).
pub fn file_digest(path: &Path) -> io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher)?;
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}
