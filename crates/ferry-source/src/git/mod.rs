//! Git sources: one call turns a GitRepository's spec into a stored, verified artifact.
//!
//! ```text
//! parse URL -> fetch the ref into the object cache (shallow, incremental) -> resolve commit
//!   -> verify signatures -> archive the tree from the object database -> store + GC
//! ```
//! The reconciler is thin: it converts the Kubernetes object and its Secrets into a [`GitSpec`]
//! and [`Credentials`], calls [`reconcile_git`], and maps the [`Outcome`] or [`SourceError`]
//! (which carries Flux's reason) to status conditions and events.

pub mod cache;
pub mod fetch;
pub mod known_hosts;
pub mod reference;
pub mod transport;
pub mod url;

use std::time::Duration;

use sha2::{Digest, Sha256};

pub use cache::GitCache;
pub use reference::{Checkout, GitReference};
pub use transport::FetchStats;
pub use url::{RepoUrl, Transport};

use crate::artifact::archive::{ArchiveError, ArchiveStats, IncludedArchive, write_tree_archive};
use crate::artifact::store::{ArtifactStore, TooLarge};
use crate::artifact::{Artifact, ObjectKey};
use crate::credentials::Credentials;
use crate::error::SourceError;
use crate::redact::Redactor;
use crate::verify::{TrustedKeys, Verified, VerifyMode};

/// Flux's default `spec.timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything about one GitRepository that decides its artifact, as plain Rust values.
#[derive(Clone, Debug)]
pub struct GitSpec {
    /// Whose artifact this is (its directory in the store).
    pub object: ObjectKey,
    pub url: String,
    pub reference: GitReference,
    pub verify: Option<Verification>,
    /// `spec.ignore` (gitignore syntax).
    pub ignore: Option<String>,
    pub include: Vec<Include>,
    pub timeout: Duration,
    pub limits: Limits,
}

impl GitSpec {
    /// A spec with Flux's defaults: branch `master`, 60 s timeout, no verification or includes.
    pub fn new(object: ObjectKey, url: impl Into<String>) -> Self {
        Self {
            object,
            url: url.into(),
            reference: GitReference::default(),
            verify: None,
            ignore: None,
            include: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            limits: Limits::default(),
        }
    }
}

/// `spec.verify` with its Secret already read.
#[derive(Clone, Debug)]
pub struct Verification {
    pub mode: VerifyMode,
    pub keys: TrustedKeys,
}

/// One `spec.include[]` entry, with the included GitRepository's current artifact.
#[derive(Clone, Debug)]
pub struct Include {
    /// The included GitRepository's name (`toPath` defaults to it).
    pub name: String,
    pub artifact: Artifact,
    pub from_path: Option<String>,
    pub to_path: Option<String>,
}

/// Size limits: a repository or artifact above them is refused (`SizeLimitExceeded`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes received by one fetch.
    pub max_fetch_bytes: u64,
    /// Bytes of the tar.gz.
    pub max_artifact_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_fetch_bytes: 2 << 30,
            max_artifact_bytes: 1 << 30,
        }
    }
}

/// A successful reconciliation.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub artifact: Artifact,
    /// A new artifact was written (false: the stored one still matches commit and config).
    pub changed: bool,
    pub commit: CommitInfo,
    pub verified: Option<Verified>,
    pub fetch: FetchStats,
    /// The included artifacts, for `status.includedArtifacts`.
    pub included: Vec<Artifact>,
    /// What packing the new artifact took (none when the stored one was reused).
    pub archive: Option<ArchiveStats>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    pub hash: String,
    /// First line of the message (bounded), for events.
    pub subject: String,
}

/// Fetches, verifies and archives `spec` into `store`, on a blocking thread, within
/// `spec.timeout`.
pub async fn reconcile_git(
    spec: &GitSpec,
    creds: &Credentials,
    store: &ArtifactStore,
    cache: &GitCache,
) -> Result<Outcome, SourceError> {
    let (spec_c, creds_c, store_c, cache_c) =
        (spec.clone(), creds.clone(), store.clone(), cache.clone());
    let task = tokio::task::spawn_blocking(move || {
        reconcile_git_blocking(&spec_c, &creds_c, &store_c, &cache_c)
    });
    // The callbacks enforce the deadline inside libgit2; this outer bound covers a connect
    // that hangs before any callback runs.
    let grace = Duration::from_secs(2);
    match tokio::time::timeout(spec.timeout + grace, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(SourceError::Fetch {
            url: crate::redact::redact_url(&spec.url),
            cause: format!("fetch task failed: {join}"),
        }),
        Err(_) => Err(SourceError::Timeout {
            url: crate::redact::redact_url(&spec.url),
            after: spec.timeout,
        }),
    }
}

/// [`reconcile_git`] on the calling thread.
pub fn reconcile_git_blocking(
    spec: &GitSpec,
    creds: &Credentials,
    store: &ArtifactStore,
    cache: &GitCache,
) -> Result<Outcome, SourceError> {
    let url = RepoUrl::parse(&spec.url)?;
    check_credentials(&url, creds)?;
    let redactor = Redactor::new(creds.secret_values());
    let session = transport::Session::new(
        &url,
        creds,
        &redactor,
        spec.timeout,
        spec.limits.max_fetch_bytes,
    )?;
    let checkout = spec.reference.checkout();
    let includes = resolve_includes(spec, store)?;

    cache.with_repo(&url.redacted(), spec.timeout, |cached| {
        let resolved = fetch::fetch(cached, &session, &checkout)?;
        let repo = &cached.repo;
        let hash = resolved.commit.to_string();
        let revision = reference::revision(resolved.pointer.as_deref(), &hash);
        let verified = match &spec.verify {
            Some(v) => {
                let shown = resolved.pointer.clone().unwrap_or_else(|| hash.clone());
                Some(crate::verify::verify(
                    repo,
                    &v.keys,
                    v.mode,
                    resolved.commit,
                    resolved.tag,
                    &shown,
                )?)
            }
            None => None,
        };
        let commit = commit_info(repo, resolved.commit);
        let included: Vec<Artifact> = spec.include.iter().map(|i| i.artifact.clone()).collect();
        let file_name = format!("{hash}.tar.gz");
        let fingerprint = fingerprint(spec);
        if let Some(existing) = store.existing(&spec.object, &file_name, &fingerprint)
            && existing.revision == revision
        {
            store.touch(&spec.object, &file_name);
            return Ok(Outcome {
                artifact: existing,
                changed: false,
                commit,
                verified,
                fetch: resolved.stats,
                included,
                archive: None,
            });
        }
        let archive_err = |cause: String| SourceError::Archive {
            url: url.redacted(),
            commit: hash.clone(),
            cause,
        };
        let reuse = store.reusable(&spec.object);
        let writer = store.create(&spec.object, spec.limits.max_artifact_bytes)?;
        let written = write_tree_archive(
            repo,
            resolved.commit,
            spec.ignore.as_deref(),
            &includes,
            &reuse,
            writer,
        );
        let (writer, stats) = match written {
            Ok(archive) => {
                let stats = archive.stats;
                tracing::debug!(
                    object = %spec.object, files = stats.files, bytes = stats.bytes,
                    reused = stats.reused_pieces, compressed = stats.compressed_pieces, "archived"
                );
                let mut writer = archive.writer;
                writer.set_piece_index(archive.index);
                (writer, stats)
            }
            Err(e) => {
                return Err(match e {
                    ArchiveError::Io(io)
                        if io.get_ref().is_some_and(|inner| inner.is::<TooLarge>()) =>
                    {
                        SourceError::SizeLimit {
                            url: url.redacted(),
                            limit: spec.limits.max_artifact_bytes,
                            what: "artifact",
                        }
                    }
                    ArchiveError::Include { name, cause } => SourceError::Include { name, cause },
                    other => archive_err(other.to_string()),
                });
            }
        };
        let artifact = store.commit(
            &spec.object,
            writer,
            &file_name,
            &revision,
            &fingerprint,
            Default::default(),
        )?;
        Ok(Outcome {
            artifact,
            changed: true,
            commit,
            verified,
            fetch: resolved.stats,
            included,
            archive: Some(stats),
        })
    })
}

/// Values that would break a header or a C string are refused before libgit2 sees them.
fn check_credentials(url: &RepoUrl, creds: &Credentials) -> Result<(), SourceError> {
    let fields = [
        ("username", creds.username.as_deref()),
        ("password", creds.password.as_deref()),
        ("bearerToken", creds.bearer_token.as_deref()),
    ];
    for (key, value) in fields {
        if value.is_some_and(|v| v.contains(['\0', '\r', '\n'])) {
            return Err(SourceError::InvalidCredentials {
                url: url.redacted(),
                cause: format!("'{key}' contains a NUL or line break"),
            });
        }
    }
    if creds.identity.as_deref().is_some_and(|v| v.contains('\0')) {
        return Err(SourceError::InvalidCredentials {
            url: url.redacted(),
            cause: "'identity' contains a NUL".into(),
        });
    }
    Ok(())
}

fn resolve_includes(
    spec: &GitSpec,
    store: &ArtifactStore,
) -> Result<Vec<IncludedArchive>, SourceError> {
    spec.include
        .iter()
        .map(|include| {
            let tarball = store
                .local_path(&include.artifact.path)
                .filter(|p| p.is_file())
                .ok_or_else(|| SourceError::Include {
                    name: include.name.clone(),
                    cause: format!("artifact '{}' is not in storage", include.artifact.path),
                })?;
            Ok(IncludedArchive {
                name: include.name.clone(),
                tarball,
                from_path: include.from_path.clone().unwrap_or_default(),
                to_path: include
                    .to_path
                    .clone()
                    .unwrap_or_else(|| include.name.clone()),
            })
        })
        .collect()
}

/// What besides the commit shapes the artifact's content.
fn fingerprint(spec: &GitSpec) -> String {
    let mut h = Sha256::new();
    h.update(b"ferry-git-artifact-v1\n");
    h.update(spec.ignore.as_deref().unwrap_or("<none>").as_bytes());
    for include in &spec.include {
        for part in [
            include.name.as_str(),
            include.artifact.digest.as_str(),
            include.from_path.as_deref().unwrap_or(""),
            include.to_path.as_deref().unwrap_or(""),
        ] {
            h.update(b"\0");
            h.update(part.as_bytes());
        }
    }
    hex::encode(h.finalize())
}

fn commit_info(repo: &git2::Repository, oid: git2::Oid) -> CommitInfo {
    let subject = repo
        .find_commit(oid)
        .ok()
        .and_then(|c| {
            c.summary()
                .ok()
                .flatten()
                .map(|s| s.chars().take(200).collect())
        })
        .unwrap_or_default();
    CommitInfo {
        hash: oid.to_string(),
        subject,
    }
}
