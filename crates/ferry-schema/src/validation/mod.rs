//! What the API server checks on a write, with its messages: unknown and duplicate fields
//! (`fieldValidation`), structural schemas of custom resources (validation, pruning,
//! defaulting, CEL rules), CustomResourceDefinitions themselves, and the few validations of
//! built-in kinds clients depend on (names, selectors, immutable fields).
//!
//! Messages follow Kubernetes 1.35, the version of the embedded OpenAPI documents.
//!
//! # On a write (create, update, patch, apply)
//! 1. [`strict::check_body`] on the request body (or [`prune::unknown_fields`] /
//!    [`prune::prune`] on the patched object), then [`strict::StrictFindings::resolve`] with the
//!    `fieldValidation` directive: warnings to send, or the 400/422 error. For apply patches,
//!    [`strict::apply_undeclared_fields`] gives the 500 server-side apply answers.
//! 2. [`prune::prune`]: drop what the schema does not declare (every directive drops).
//! 3. Custom resources: [`default_custom_resource`], then [`validate_custom_resource`].
//!    Built-in kinds: [`builtin::validate`]. CRDs additionally: [`crd::validate`].
//! 4. Turn a [`ValidationError`] into the response with [`ValidationError::status`].
//!
//! # On a read
//! [`default_custom_resource`] on each custom resource read from storage (defaults added to a
//! CRD later show up without a write, as on a real server).

pub mod builtin;
pub mod cel;
pub(crate) mod compiled;
pub mod cost;
pub mod crd;
pub mod defaults;
pub mod field;
pub mod formats;
pub mod gofmt;
pub mod meta;
pub mod names;
pub mod prune;
pub mod status;
pub mod strict;
pub mod structure;
pub mod values;

use serde_json::Value;

pub use field::{BadValue, ErrorType, FieldError, FieldPath};
pub use status::{Invalid, ValidationError};
pub use strict::{FieldValidation, StrictFindings};

use crate::registry::{SchemaSource, TypeSchema};

/// Drops non-nullable nulls and applies the schema's `default`s to a custom resource, as the
/// server does on create/update and when reading from storage. Does nothing for kinds that are
/// not custom resources.
pub fn default_custom_resource(object: &mut Value, ts: &TypeSchema) {
    if ts.source() != SchemaSource::Crd {
        return;
    }
    let compiled = ts.compiled();
    defaults::prune_nulls(object, ts.root(), true, 0);
    if compiled.has_defaults {
        defaults::apply(object, ts.root(), compiled, true, 0);
    }
}

/// Validates a custom resource the way apiextensions does on create (`old` = `None`) and update:
/// metadata, the structural schema (with ratcheting on update), embedded resources,
/// `x-kubernetes-list-type` uniqueness and the CEL rules (skipped, with the server's note,
/// when an earlier error would make them meaningless). The object must already be pruned and
/// defaulted. Returns the warnings to send (CEL errors ratcheted on unchanged values).
pub fn validate_custom_resource(
    ts: &TypeSchema,
    object: &Value,
    old: Option<&Value>,
) -> Result<Vec<String>, ValidationError> {
    let gvk = ts.gvk();
    let compiled = ts.compiled();
    let meta_path = FieldPath::root().child("metadata");
    let mut errs = match old {
        None => meta::validate_object_meta(
            object.get("metadata"),
            names::NameRule::Dns1123Subdomain,
            &meta_path,
        ),
        Some(o) => {
            meta::validate_object_meta_update(object.get("metadata"), o.get("metadata"), &meta_path)
        }
    };
    errs.extend(values::validate(ts.root(), object, old, compiled));
    if compiled.embedded_below(ts.root().id()) {
        structure::embedded_resources(ts.root(), object, &FieldPath::nil(), &mut errs, compiled, 0);
    }
    if compiled.lists_below(ts.root().id()) {
        // On update, list uniqueness is only checked if the old object had no such errors.
        let old_list_errors = old.map(|o| {
            let mut e = Vec::new();
            structure::list_sets_and_maps(ts.root(), o, &FieldPath::nil(), &mut e, compiled, 0);
            e.len()
        });
        if old_list_errors.unwrap_or(0) == 0 {
            structure::list_sets_and_maps(
                ts.root(),
                object,
                &FieldPath::nil(),
                &mut errs,
                compiled,
                0,
            );
        }
    }
    let mut warnings = Vec::new();
    if compiled.has_rules() {
        if errs.iter().any(blocks_cel) {
            errs.push(FieldError::invalid(
                &FieldPath::nil(),
                BadValue::Json(Value::Null),
                "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
            ));
        } else {
            let outcome = cel::validate(&compiled.cel, ts.root(), object, old, &FieldPath::nil());
            errs.extend(outcome.errors);
            warnings = outcome.warnings;
        }
    }
    if errs.is_empty() {
        Ok(warnings)
    } else {
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        Err(Invalid::new(&gvk.kind, &gvk.group, name, errs).into())
    }
}

/// `hasBlockingErr`: OpenAPI errors after which CEL rules are not evaluated.
fn blocks_cel(e: &FieldError) -> bool {
    matches!(
        e.error_type,
        ErrorType::NotSupported
            | ErrorType::Required
            | ErrorType::TooLong
            | ErrorType::TooMany
            | ErrorType::TypeInvalid
    )
}
