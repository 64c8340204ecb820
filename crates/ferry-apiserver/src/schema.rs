//! Schema checks on writes, delegated to ferry-schema: unknown-field detection for
//! `fieldValidation` (built-ins and CRDs) and, for custom resources, structural validation,
//! pruning, defaulting and `x-kubernetes-validations` (CEL).
//!
//! ferry-schema is being built alongside this crate; the checks run here as its modules land
//! (see the crate's report for which are wired).

use serde_json::Value;

use crate::{
    core::{Core, WriteOptions},
    resources::ResourceInfo,
    status::ApiError,
};

/// Validates (and for custom resources prunes and defaults) `object` before it is stored.
pub fn check(
    _core: &Core,
    _info: &ResourceInfo,
    _old: Option<&Value>,
    _object: &mut Value,
    _opts: &WriteOptions,
    _warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    Ok(())
}
