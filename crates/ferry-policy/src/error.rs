//! Errors raised while building a [`crate::PolicySet`] from templates and constraints.

use crate::constraint::ConstraintError;
use crate::template::TemplateError;

/// Why a set of ConstraintTemplates and Constraints could not be turned into a policy set.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Constraint(#[from] ConstraintError),
    #[error(
        "constraint {kind}/{name}: no ConstraintTemplate defines kind {kind} (add the template, or fix the constraint's kind)"
    )]
    NoTemplateForConstraint { kind: String, name: String },
    #[error("ConstraintTemplates {first} and {second} both define constraint kind {kind}")]
    DuplicateTemplate {
        kind: String,
        first: String,
        second: String,
    },
    #[error("constraint {kind}/{name} is defined twice")]
    DuplicateConstraint { kind: String, name: String },
    #[error("{} policy errors:\n{}", .0.len(), .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Multiple(Vec<Error>),
}

impl Error {
    /// Folds a list of errors into one: the error itself when there is one, `Multiple` otherwise.
    pub(crate) fn from_list(mut errors: Vec<Error>) -> Option<Error> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error::Multiple(errors)),
        }
    }
}
