//! Reading files for a kustomization with kustomize's default load restrictions: a file must be
//! in or below the kustomization root (after resolving `..` and symlinks); kustomization
//! directories (bases, components) may live anywhere on the local disk but not form a cycle;
//! remote bases are refused unless the caller supplies a fetcher.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Largest file a kustomization may read.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Whether files may come from outside the kustomization root.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LoadRestrictions {
    /// kustomize's default (`LoadRestrictionsRootOnly`).
    #[default]
    RootOnly,
    /// `--load-restrictor LoadRestrictionsNone`.
    None,
}

/// Resolves a remote base (git URL) to a local directory, for callers that allow them.
pub trait RemoteFetcher: Send + Sync {
    /// Fetch `url` and return the local directory it denotes.
    fn fetch(&self, url: &str) -> Result<PathBuf, String>;
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("security; file '{}' is not in or below '{}'", file.display(), root.display())]
    OutsideRoot { file: PathBuf, root: PathBuf },
    #[error("'{}' must resolve to a file", path.display())]
    NotAFile { path: PathBuf },
    #[error("open {}: no such file or directory", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: {message}", path.display())]
    Filtered { path: PathBuf, message: String },
    #[error("reading '{}': {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("'{}' is larger than {MAX_FILE_BYTES} bytes", path.display())]
    TooLarge { path: PathBuf },
    #[error("new root '{}' cannot be absolute", path.display())]
    AbsoluteRoot { path: PathBuf },
    #[error("must build at directory: '{}' is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("must build at directory: not a valid directory: evalsymlink failure on '{}' : lstat {}: no such file or directory", path.display(), path.display())]
    MissingDirectory { path: PathBuf },
    #[error("cycle detected: candidate root '{}' contains visited root '{}'", candidate.display(), visited.display())]
    Cycle {
        candidate: PathBuf,
        visited: PathBuf,
    },
    #[error(
        "remote resource '{url}' refused: remote bases are disabled (ferry builds local directories only unless a fetcher is configured)"
    )]
    RemoteRefused { url: String },
    #[error("fetching remote resource '{url}': {message}")]
    RemoteFailed { url: String, message: String },
}

/// A loader rooted at one kustomization directory.
#[derive(Clone)]
pub struct Loader {
    root: PathBuf,
    restrictions: LoadRestrictions,
    /// Roots of the kustomizations that led here (cycle detection).
    ancestors: Vec<PathBuf>,
    remote: Option<Arc<dyn RemoteFetcher>>,
    filter: Option<Arc<dyn FileFilter>>,
    /// A canonical directory below which no symlinks lie (the caller promises: an extracted
    /// artifact), so that paths below it resolve lexically, without a system call per
    /// component.
    symlink_free: Option<Arc<Path>>,
}

/// A transformation of every file the build reads (resources, patches, generator inputs), in
/// memory. Flux's controller decrypts SOPS files this way, so plaintext never touches the disk.
pub trait FileFilter: Send + Sync {
    /// The bytes the build sees for `path`, or a message saying why the file cannot be used.
    fn filter(&self, path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, String>;
}

/// `filepath.Clean` of a path joined to a base, without touching the disk.
pub fn clean_join(base: &Path, rel: &Path) -> PathBuf {
    let joined = if rel.is_absolute() {
        rel.to_path_buf()
    } else {
        base.join(rel)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("/");
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Does this resource entry name a remote location rather than a local path?
pub fn is_remote(path: &str) -> bool {
    path.contains("://")
        || path.starts_with("git@")
        || path.starts_with("git::")
        || path.starts_with("github.com/")
        || path.starts_with("gitlab.com/")
        || path.starts_with("bitbucket.org/")
}

impl Loader {
    /// A loader for the kustomization in `dir`.
    pub fn new(
        dir: &Path,
        restrictions: LoadRestrictions,
        remote: Option<Arc<dyn RemoteFetcher>>,
    ) -> Result<Loader, LoadError> {
        Ok(Loader::at(confirm_dir(dir, None)?, restrictions, remote))
    }

    /// A loader at `root`, a resolved directory, with nothing above it.
    fn at(
        root: PathBuf,
        restrictions: LoadRestrictions,
        remote: Option<Arc<dyn RemoteFetcher>>,
    ) -> Loader {
        Loader {
            root,
            restrictions,
            ancestors: Vec::new(),
            remote,
            filter: None,
            symlink_free: None,
        }
    }

    /// [`Loader::new`] for a `dir` that may lie below `symlink_free`, a canonical directory
    /// below which the caller promises no symlinks lie: paths below it, this loader's root
    /// among them, resolve lexically. Its children inherit the promise.
    pub fn new_below(
        dir: &Path,
        restrictions: LoadRestrictions,
        remote: Option<Arc<dyn RemoteFetcher>>,
        symlink_free: Option<Arc<Path>>,
    ) -> Result<Loader, LoadError> {
        let lexical = symlink_free
            .as_deref()
            .filter(|_| dir.is_absolute())
            .map(|free| (free, clean_join(Path::new("/"), dir)))
            .filter(|(free, cleaned)| cleaned.starts_with(free))
            .and_then(|(free, cleaned)| confirm_dir(&cleaned, Some(free)).ok());
        let mut loader = match lexical {
            Some(root) => Loader::at(root, restrictions, remote),
            // Resolved on disk, with the messages of a plain loader when that fails.
            None => Loader::new(dir, restrictions, remote)?,
        };
        loader.symlink_free = symlink_free;
        Ok(loader)
    }

    /// The real path of `path` (already cleaned): itself when it lies below the symlink-free
    /// directory, else resolved on disk.
    fn resolve(&self, path: &Path) -> std::io::Result<Resolved> {
        resolve(path, self.symlink_free.as_deref())
    }

    /// Passes every file read through `filter`.
    pub fn with_filter(mut self, filter: Option<Arc<dyn FileFilter>>) -> Loader {
        self.filter = filter;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn restrictions(&self) -> LoadRestrictions {
        self.restrictions
    }

    /// Whether files pass through a filter (which may differ from one build to the next).
    pub fn has_filter(&self) -> bool {
        self.filter.is_some()
    }

    /// The cycle error [`Loader::child`] would give for `dir`, a directory entered beneath this
    /// root, with the kustomizations that led here (a kept result was built through others).
    pub fn check_cycle(&self, dir: &Path) -> Result<(), LoadError> {
        cycle(self.ancestors.iter(), dir)
    }

    /// The path a relative file name denotes, cleaned but not resolved (for messages).
    pub fn display_path(&self, rel: &str) -> PathBuf {
        clean_join(&self.root, Path::new(rel))
    }

    /// Read a file named relative to the root.
    pub fn load(&self, rel: &str) -> Result<Vec<u8>, LoadError> {
        let path = self.display_path(rel);
        let resolved = match self.resolve(&path) {
            Ok(resolved) => resolved,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LoadError::NotFound { path });
            }
            Err(source) => return Err(LoadError::Io { path, source }),
        };
        let real = &resolved.real;
        if self.restrictions == LoadRestrictions::RootOnly && !has_prefix(real, &self.root) {
            return Err(LoadError::OutsideRoot {
                file: path,
                root: self.root.clone(),
            });
        }
        let meta = resolved.metadata().map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        if !meta.is_file() {
            return Err(LoadError::NotAFile { path });
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(LoadError::TooLarge { path });
        }
        let bytes = std::fs::read(real).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        match &self.filter {
            Some(filter) => filter
                .filter(&path, bytes)
                .map_err(|message| LoadError::Filtered { path, message }),
            None => Ok(bytes),
        }
    }

    /// A loader for a base or component directory named relative to this root.
    pub fn child(&self, rel: &str) -> Result<Loader, LoadError> {
        let dir = if is_remote(rel) && !self.display_path(rel).exists() {
            let Some(fetcher) = &self.remote else {
                return Err(LoadError::RemoteRefused {
                    url: rel.to_string(),
                });
            };
            fetcher
                .fetch(rel)
                .map_err(|message| LoadError::RemoteFailed {
                    url: rel.to_string(),
                    message,
                })?
        } else {
            if Path::new(rel).is_absolute() {
                return Err(LoadError::AbsoluteRoot {
                    path: PathBuf::from(rel),
                });
            }
            self.display_path(rel)
        };
        let root = confirm_dir(&dir, self.symlink_free.as_deref())?;
        cycle(
            std::iter::once(&self.root).chain(self.ancestors.iter()),
            &root,
        )?;
        let mut ancestors = self.ancestors.clone();
        ancestors.push(self.root.clone());
        Ok(Loader {
            root,
            restrictions: self.restrictions,
            ancestors,
            remote: self.remote.clone(),
            filter: self.filter.clone(),
            symlink_free: self.symlink_free.clone(),
        })
    }
}

/// See [`Loader::resolve`]. A path that only appears to lie below `symlink_free` (it holds
/// `..` or `.`) is resolved on disk.
fn resolve(path: &Path, symlink_free: Option<&Path>) -> std::io::Result<Resolved> {
    let lexical = symlink_free.is_some_and(|dir| path.starts_with(dir))
        && path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !lexical {
        return Ok(Resolved {
            real: std::fs::canonicalize(path)?,
            metadata: None,
        });
    }
    // Resolving also says whether the path exists, as canonicalize does; what it read is
    // kept for the caller's next question (a directory? a file, how large?).
    let metadata = std::fs::metadata(path)?;
    Ok(Resolved {
        real: path.to_path_buf(),
        metadata: Some(metadata),
    })
}

/// A path resolved to its real location, with its metadata when resolving read it.
struct Resolved {
    real: PathBuf,
    metadata: Option<std::fs::Metadata>,
}

impl Resolved {
    fn metadata(&self) -> std::io::Result<std::fs::Metadata> {
        match &self.metadata {
            Some(metadata) => Ok(metadata.clone()),
            None => std::fs::metadata(&self.real),
        }
    }
}

fn confirm_dir(dir: &Path, symlink_free: Option<&Path>) -> Result<PathBuf, LoadError> {
    match resolve(dir, symlink_free) {
        Ok(resolved) if resolved.metadata().is_ok_and(|m| m.is_dir()) => Ok(resolved.real),
        Ok(_) => Err(LoadError::NotADirectory {
            path: dir.to_path_buf(),
        }),
        Err(_) => Err(LoadError::MissingDirectory {
            path: dir.to_path_buf(),
        }),
    }
}

/// The cycle error for entering `candidate` from the roots `visited`: one of them lies inside it.
fn cycle<'a>(
    mut visited: impl Iterator<Item = &'a PathBuf>,
    candidate: &Path,
) -> Result<(), LoadError> {
    match visited.find(|visited| has_prefix(visited, candidate)) {
        Some(visited) => Err(LoadError::Cycle {
            candidate: candidate.to_path_buf(),
            visited: visited.clone(),
        }),
        None => Ok(()),
    }
}

/// Is `path` equal to or below `root`?
fn has_prefix(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}
