//! The one error type of a source reconciliation, with the Flux condition reason each case maps
//! to. Every message is built from redacted text: no variant ever holds a credential.

use std::time::Duration;

/// Flux's condition reasons (source-controller `api/v1/condition_types.go`, fluxcd/pkg meta),
/// plus ferry's own where Flux has none (`SizeLimitExceeded`).
pub mod reason {
    pub const GIT_OPERATION_FAILED: &str = "GitOperationFailed";
    pub const AUTHENTICATION_FAILED: &str = "AuthenticationFailed";
    pub const URL_INVALID: &str = "URLInvalid";
    pub const INVALID_COMMIT_SIGNATURE: &str = "InvalidCommitSignature";
    pub const INVALID_TAG_SIGNATURE: &str = "InvalidTagSignature";
    pub const VERIFICATION_ERROR: &str = "VerificationError";
    pub const INCLUDE_UNAVAILABLE: &str = "IncludeUnavailable";
    pub const ARCHIVE_OPERATION_FAILED: &str = "ArchiveOperationFailed";
    pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
    pub const SIZE_LIMIT_EXCEEDED: &str = "SizeLimitExceeded";
    pub const SUCCEEDED: &str = "Succeeded";
}

/// The Flux condition a failure is reported under (besides Ready=False).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureCondition {
    /// `FetchFailed=True`
    FetchFailed,
    /// `SourceVerified=False`
    SourceVerified,
    /// `IncludeUnavailable=True`
    IncludeUnavailable,
    /// `StorageOperationFailed=True`
    StorageOperationFailed,
}

impl FailureCondition {
    pub fn condition_type(self) -> &'static str {
        match self {
            Self::FetchFailed => "FetchFailed",
            Self::SourceVerified => "SourceVerified",
            Self::IncludeUnavailable => "IncludeUnavailable",
            Self::StorageOperationFailed => "StorageOperationFailed",
        }
    }
}

/// Why a git source could not be turned into an artifact. URLs in here are redacted.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("invalid repository url '{url}': {cause}")]
    InvalidUrl { url: String, cause: String },
    #[error("invalid credentials for '{url}': {cause}")]
    InvalidCredentials { url: String, cause: String },
    #[error("authentication to '{url}' failed: {cause}")]
    Authentication { url: String, cause: String },
    #[error("ssh host key of '{host}' refused: {cause}")]
    HostKey { host: String, cause: String },
    #[error("tls certificate of '{host}' refused: {cause}")]
    Certificate { host: String, cause: String },
    #[error("failed to fetch '{url}': {cause}")]
    Fetch { url: String, cause: String },
    #[error("{kind} '{reference}' not found in '{url}'")]
    RefNotFound {
        url: String,
        kind: &'static str,
        reference: String,
    },
    #[error("invalid reference '{reference}': {cause}")]
    InvalidReference { reference: String, cause: String },
    #[error("no tag of '{url}' matches the semver range '{range}'")]
    NoMatchingTag { url: String, range: String },
    #[error("invalid semver range '{range}': {cause}")]
    InvalidSemver { range: String, cause: String },
    #[error("fetching '{url}' timed out after {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("'{url}' exceeds the size limit of {limit} bytes ({what})")]
    SizeLimit {
        url: String,
        limit: u64,
        what: &'static str,
    },
    #[error("git object cache '{path}': {cause}")]
    Cache { path: String, cause: String },
    #[error(transparent)]
    Verify(#[from] crate::verify::VerifyError),
    #[error("include of '{name}' unavailable: {cause}")]
    Include { name: String, cause: String },
    #[error("archiving '{url}' at {commit}: {cause}")]
    Archive {
        url: String,
        commit: String,
        cause: String,
    },
    #[error("artifact storage '{path}': {cause}")]
    Storage { path: String, cause: String },
}

impl SourceError {
    /// The Flux reason for Ready=False and the failure condition.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => reason::URL_INVALID,
            Self::InvalidCredentials { .. } | Self::Authentication { .. } => {
                reason::AUTHENTICATION_FAILED
            }
            Self::HostKey { .. }
            | Self::Certificate { .. }
            | Self::Fetch { .. }
            | Self::RefNotFound { .. }
            | Self::NoMatchingTag { .. }
            | Self::InvalidSemver { .. }
            | Self::InvalidReference { .. }
            | Self::Timeout { .. }
            | Self::Cache { .. } => reason::GIT_OPERATION_FAILED,
            Self::SizeLimit { .. } => reason::SIZE_LIMIT_EXCEEDED,
            Self::Verify(e) => e.reason(),
            Self::Include { .. } => reason::INCLUDE_UNAVAILABLE,
            Self::Archive { .. } => reason::ARCHIVE_OPERATION_FAILED,
            Self::Storage { .. } => reason::STORAGE_OPERATION_FAILED,
        }
    }

    /// The condition, besides Ready, that carries the failure.
    pub fn condition(&self) -> FailureCondition {
        match self {
            Self::Verify(_) => FailureCondition::SourceVerified,
            Self::Include { .. } => FailureCondition::IncludeUnavailable,
            Self::Archive { .. } | Self::Storage { .. } => FailureCondition::StorageOperationFailed,
            _ => FailureCondition::FetchFailed,
        }
    }

    /// A spec problem that retrying cannot fix: the object should be marked Stalled and wait for
    /// a spec change instead of backing off.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::InvalidUrl { .. }
                | Self::InvalidSemver { .. }
                | Self::InvalidReference { .. }
                | Self::InvalidCredentials { .. }
        ) || matches!(self, Self::Verify(e) if e.is_terminal())
    }
}
