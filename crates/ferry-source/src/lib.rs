//! Sources fetched into verified, content-addressed artifacts (tar.gz + sha256 + revision).
//!
//! Git is the first source: [`git::reconcile_git`] takes a [`GitSpec`], [`Credentials`], an
//! [`ArtifactStore`] and a [`GitCache`] and returns an [`Outcome`] holding Flux's
//! [`Artifact`], or a [`SourceError`] whose [`SourceError::reason`] is Flux's condition reason.
//!
//! Why git2 (libgit2) and not gix: image automation needs push, which gix does not have;
//! libssh2 hands the raw host key to our certificate callback so known_hosts is enforced by us
//! (not by an external `ssh` program and the user's `~/.ssh`); shallow and incremental fetch
//! work over every network transport; one git library keeps the build lean.

pub mod artifact;
pub mod credentials;
pub mod error;
pub mod git;
pub mod redact;
pub mod verify;

pub use artifact::store::ArtifactStore;
pub use artifact::{Artifact, ObjectKey};
pub use credentials::Credentials;
pub use error::{FailureCondition, SourceError};
pub use git::{
    GitCache, GitReference, GitSpec, Include, Limits, Outcome, Verification, reconcile_git,
    reconcile_git_blocking,
};
pub use verify::{TrustedKeys, VerifyMode};
