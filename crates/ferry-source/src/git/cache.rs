//! The local object cache: one bare repository per remote URL, reused across reconciliations so
//! a new commit costs only its new objects. A process-wide lock per cache directory keeps two
//! reconciliations of the same URL from fetching into it at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::SourceError;

/// Where the per-repository object caches live (not served over HTTP).
#[derive(Clone, Debug)]
pub struct GitCache {
    root: PathBuf,
}

impl GitCache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The cache directory for a (redacted) URL: a hash, so no URL text reaches the filesystem.
    pub fn dir_for(&self, redacted_url: &str) -> PathBuf {
        let digest = Sha256::digest(redacted_url.as_bytes());
        self.root.join(hex::encode(&digest[..12]))
    }

    /// Runs `f` on the bare repository for `redacted_url` (created when missing) while holding
    /// the process-wide lock of its directory.
    ///
    /// Waits for the lock at most `wait`: a fetch stuck on a server that never answers must
    /// not queue every later reconciliation of the same URL behind it.
    pub fn with_repo<R>(
        &self,
        redacted_url: &str,
        wait: Duration,
        f: impl FnOnce(&mut CachedRepo) -> Result<R, SourceError>,
    ) -> Result<R, SourceError> {
        let dir = self.dir_for(redacted_url);
        let lock = lock_for(&dir);
        let deadline = Instant::now() + wait;
        let _guard = loop {
            match lock.try_lock() {
                Ok(guard) => break guard,
                Err(TryLockError::Poisoned(poisoned)) => break poisoned.into_inner(),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(SourceError::Timeout {
                        url: redacted_url.to_string(),
                        after: wait,
                    });
                }
            }
        };
        let repo = open_or_init(&dir)?;
        let mut cached = CachedRepo { repo, dir };
        f(&mut cached)
    }
}

/// A cached bare repository, used under its lock.
pub struct CachedRepo {
    pub repo: git2::Repository,
    pub dir: PathBuf,
}

impl CachedRepo {
    /// Throws the cache away and starts empty (after corruption or an unusable shallow state).
    pub fn reset(&mut self) -> Result<(), SourceError> {
        let _ = std::fs::remove_dir_all(&self.dir);
        self.repo = open_or_init(&self.dir)?;
        Ok(())
    }
}

fn lock_for(dir: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    locks.entry(dir.to_path_buf()).or_default().clone()
}

fn open_or_init(dir: &Path) -> Result<git2::Repository, SourceError> {
    let err = |e: git2::Error| SourceError::Cache {
        path: dir.display().to_string(),
        cause: e.message().to_string(),
    };
    match git2::Repository::open_bare(dir) {
        Ok(repo) => Ok(repo),
        Err(_) => {
            // Missing or unreadable: start over rather than fail forever.
            let _ = std::fs::remove_dir_all(dir);
            std::fs::create_dir_all(dir).map_err(|e| SourceError::Cache {
                path: dir.display().to_string(),
                cause: e.to_string(),
            })?;
            git2::Repository::init_bare(dir).map_err(err)
        }
    }
}
