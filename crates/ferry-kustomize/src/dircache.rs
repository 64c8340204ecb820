//! Builds of kustomization directories kept across builds of files that do not change.
//!
//! A GitOps controller builds a thousand overlays of one artifact, and most of them name the
//! same bases: each base would be read, parsed and built once per overlay. A [`DirCache`] keeps
//! the accumulated result of each directory an overlay names as a resource, so the next overlay
//! naming it takes a copy. kustomize builds each such directory on its own before the naming
//! kustomization transforms the result, which is what makes the result reusable.
//!
//! A result is kept only when nothing but the directory's files decided it: no file filter
//! (decryption differs between callers), the built-in schema in force before and after (an
//! `openapi:` field changes it for the rest of the build), and directories below the root the
//! cache was made for, whose files the caller promises not to change while it uses the cache
//! (an extracted artifact, named by its digest). A caller that also knows that no symlinks lie
//! below that root says so ([`DirCache::without_symlinks`]), and builds then resolve paths below
//! it without a system call per path component.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use crate::{loader::LoadRestrictions, parsed::ParseCache, target::Accumulator};

/// Results of building directories below one root; see the module documentation.
pub struct DirCache {
    root: PathBuf,
    /// The root again, when the caller promised that no symlinks lie below it.
    symlink_free: Option<Arc<Path>>,
    built: Mutex<HashMap<DirKey, Arc<Built>>>,
    /// Parses kept across the caches of successive trees.
    parsed: Option<Arc<ParseCache>>,
}

/// What decides a directory's result besides its files.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct DirKey {
    /// The directory, canonical.
    pub dir: PathBuf,
    /// Where the naming kustomization declared it (origin annotations carry it).
    pub origin: String,
    /// The top kustomization's buildMetadata, which reaches every base.
    pub build_metadata: Vec<String>,
    pub restrictions: LoadRestrictions,
}

/// A directory's result and every directory its build entered below it, which a later use
/// checks for cycles with the kustomizations that name it then.
pub(crate) struct Built {
    pub accumulated: Accumulator,
    pub entered: Vec<PathBuf>,
}

impl DirCache {
    /// A cache for directories below `root`, whose files must not change while it is in use.
    pub fn new(root: &Path) -> std::io::Result<Self> {
        Ok(Self {
            root: std::fs::canonicalize(root)?,
            symlink_free: None,
            built: Mutex::new(HashMap::new()),
            parsed: None,
        })
    }

    /// Finds the kustomization files and inline patches of builds using this cache in
    /// `parsed` first, which the caches of other trees (later revisions) may share.
    pub fn with_parse_cache(mut self, parsed: Arc<ParseCache>) -> Self {
        self.parsed = Some(parsed);
        self
    }

    pub(crate) fn parse_cache(&self) -> Option<&ParseCache> {
        self.parsed.as_deref()
    }

    /// Promises as well that no symlinks lie below the root (an artifact extracted without
    /// them), so that builds using the cache resolve the paths below it lexically instead of
    /// asking the file system about each component.
    pub fn without_symlinks(mut self) -> Self {
        self.symlink_free = Some(Arc::from(self.root.as_path()));
        self
    }

    /// The root, if no symlinks lie below it.
    pub(crate) fn symlink_free_root(&self) -> Option<Arc<Path>> {
        self.symlink_free.clone()
    }

    /// How many directory results it holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether results for `dir` (canonical) may be kept here.
    pub(crate) fn covers(&self, dir: &Path) -> bool {
        dir.starts_with(&self.root)
    }

    pub(crate) fn get(&self, key: &DirKey) -> Option<Arc<Built>> {
        self.lock().get(key).cloned()
    }

    pub(crate) fn put(&self, key: DirKey, built: Built) {
        self.lock().insert(key, Arc::new(built));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DirKey, Arc<Built>>> {
        // The map is consistent after every insert, so a panic elsewhere leaves it usable.
        self.built.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for DirCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirCache")
            .field("root", &self.root)
            .field("directories", &self.len())
            .finish()
    }
}
