//! What the API server checks on a write, with its messages: unknown and duplicate fields
//! (`fieldValidation`), structural schemas of custom resources (validation, pruning,
//! defaulting, CEL rules), CustomResourceDefinitions themselves, and the few validations of
//! built-in kinds clients depend on (names, selectors, immutable fields).
//!
//! Messages follow Kubernetes 1.35, the version of the embedded OpenAPI documents. Every
//! refusal is a [`ValidationError`]; [`ValidationError::status`] is the response body,
//! [`ValidationError::code`] its HTTP status.
//!
//! # On a write
//! 1. Strict decoding, which depends on what the client sent:
//!    - POST/PUT body: [`strict::check_body`]`(body, is_yaml, ts)`;
//!    - JSON, merge or strategic merge patch: after patching,
//!      [`StrictFindings::unknown`]`(&`[`prune::unknown_fields`]`(&patched, ts))`;
//!    - apply patch: [`strict::apply_undeclared_fields`] (a 500 in every mode, as server-side
//!      apply answers) and [`strict::yaml_duplicates`] on the patch.
//!
//!    then [`StrictFindings::resolve`]`(directive, request)`: the `Warning` headers to send, or
//!    the error (400 for bodies, 422 `patch: Invalid value` for patches).
//! 2. [`admit`]`(ts, &mut object, old)`: drops what the schema does not declare (every
//!    directive drops it), applies defaults to custom resources, validates (custom resources:
//!    metadata, schema with ratcheting, embedded resources, list types, CEL; built-in kinds and
//!    CRDs: [`builtin::validate`]). Returns warnings (CEL errors ratcheted on unchanged values).
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

/// Everything a write needs after decoding: unknown fields dropped, custom resources defaulted
/// and validated against their schema (with CEL rules), built-in kinds and CRDs validated by
/// [`builtin::validate`] (after [`builtin::prepare_for_update`] on update). `old` is the stored
/// object on update, with the system metadata (uid, creationTimestamp, ...) already carried over
/// to `object`. Returns the warnings to send.
pub fn admit(
    ts: &TypeSchema,
    object: &mut Value,
    old: Option<&Value>,
) -> Result<Vec<String>, ValidationError> {
    prune::prune(object, ts);
    match ts.source() {
        SchemaSource::Crd => {
            default_custom_resource(object, ts);
            validate_custom_resource(ts, object, old)
        }
        SchemaSource::Builtin | SchemaSource::Custom => {
            if let Some(o) = old {
                builtin::prepare_for_update(ts.gvk(), object, o);
            }
            builtin::validate(ts.gvk(), object, old).map(|()| Vec::new())
        }
    }
}

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
