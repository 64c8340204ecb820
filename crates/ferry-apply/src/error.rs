//! Errors of the apply engine. Every message starts with the object it concerns
//! (`Deployment/apps/web ...`), as Flux's do, so a user can find the culprit in Git.

use crate::{object::ObjectError, resources::ResolveError};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{object}: {source}")]
    InvalidObject { object: String, source: ObjectError },
    #[error("{object}: {source}")]
    Resolve {
        object: String,
        source: ResolveError,
    },
    #[error(
        "{object} namespace not specified: set metadata.namespace or the Kustomization's targetNamespace"
    )]
    NamespaceMissing { object: String },
    /// The API server refused the object: `verb` is "dry-run", or "apply" when the object was
    /// applied without one.
    #[error("{object} {verb} failed ({reason}): {message}")]
    Rejected {
        object: String,
        verb: &'static str,
        reason: String,
        message: String,
    },
    #[error(
        "{object} {verb} failed ({reason}): {message}; the field cannot be changed in place: set spec.force \
         on the Kustomization or annotate the object with kustomize.toolkit.fluxcd.io/force: enabled to recreate it"
    )]
    Immutable {
        object: String,
        verb: &'static str,
        reason: String,
        message: String,
    },
    #[error("{object} {verb} failed: {source}")]
    Api {
        object: String,
        verb: &'static str,
        source: Box<kube::Error>,
    },
    #[error("{object} was not deleted within {timeout:?} before being recreated")]
    RecreateTimeout {
        object: String,
        timeout: std::time::Duration,
    },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many(Vec<ApplyError>),
    #[error("timeout waiting for {stage}: [{}]", .pending.join(", "))]
    StageTimeout {
        stage: &'static str,
        pending: Vec<String>,
    },
}

impl ApplyError {
    /// Joins several errors into one, or returns the single one.
    pub fn join(mut errors: Vec<ApplyError>) -> Option<ApplyError> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(ApplyError::Many(errors)),
        }
    }
}

/// The reason and message of an API error response, or a transport description.
pub(crate) fn api_reason(err: &kube::Error) -> (String, String) {
    match err {
        kube::Error::Api(status) => (
            if status.reason.is_empty() {
                status.code.to_string()
            } else {
                status.reason.clone()
            },
            status.message.clone(),
        ),
        other => ("Unknown".to_owned(), other.to_string()),
    }
}

pub(crate) fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}

/// Whether a dry-run error says an immutable field would change (the server's words for
/// it vary by kind: Jobs, Services, StatefulSets, RoleBindings...).
pub(crate) fn is_immutable(err: &kube::Error) -> bool {
    let kube::Error::Api(status) = err else {
        return false;
    };
    if status.code != 422 {
        return false;
    }
    let message = status.message.to_ascii_lowercase();
    [
        "field is immutable",
        "is immutable",
        "cannot change roleref",
        "may not be changed",
        "updates to statefulset spec for fields other than",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}
