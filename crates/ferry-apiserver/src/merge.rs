//! Schema-aware merges, from ferry-schema: strategic merge patch (merge keys and directives from
//! the OpenAPI extensions) and server-side apply with `metadata.managedFields` (field ownership,
//! conflicts, force, removal of fields a manager stopped applying), plus the `Update` entries
//! every other write records.

use std::sync::Arc;

use ferry_schema::{TypeSchema, smp, ssa};
use serde_json::Value;

use crate::{
    core::{Core, Part, WriteOptions},
    meta,
    resources::ResourceInfo,
    status::ApiError,
};

/// The schema of a resource's kind in its served version, if ferry-schema knows it.
pub fn schema_for(core: &Core, info: &ResourceInfo) -> Option<Arc<TypeSchema>> {
    core.schemas.lookup(&info.api_version(), &info.kind)
}

fn subresource(part: Part) -> Option<&'static str> {
    match part {
        Part::Main => None,
        Part::Status => Some("status"),
        Part::Finalize => Some("finalize"),
    }
}

/// The manager name of a write: the request's `fieldManager`, else the user agent's product
/// name, else `unknown`, as the real server records it.
fn manager(opts: &WriteOptions) -> &str {
    opts.field_manager
        .as_deref()
        .filter(|m| !m.is_empty())
        .unwrap_or("unknown")
}

fn ssa_error(info: &ResourceInfo, name: &str, err: ssa::SsaError) -> ApiError {
    match err {
        ssa::SsaError::Conflicts(conflicts) => {
            let mut details = serde_json::Map::new();
            details.insert("causes".into(), Value::Array(conflicts.causes()));
            ApiError {
                code: 409,
                reason: "Conflict",
                message: conflicts.to_string(),
                details: Some(details),
            }
        }
        ssa::SsaError::NotAnObject => ApiError::bad_request("the apply patch must be an object"),
        ssa::SsaError::ManagedFields(why) => ApiError::invalid_field(
            &info.kind,
            &info.group,
            name,
            "metadata.managedFields",
            "FieldValueInvalid",
            format!("Invalid value: {why}"),
        ),
    }
}

/// Strategic merge patch of a built-in object, as `kubectl patch --type strategic` expects.
pub fn strategic(
    core: &Core,
    info: &ResourceInfo,
    live: &Value,
    patch: &Value,
) -> Result<Value, ApiError> {
    let schema = schema_for(core, info);
    let mut doc = live.clone();
    smp::strategic_merge(
        &mut doc,
        patch,
        schema.as_ref().map(|s| s.root()),
        smp::Flavor::Apimachinery,
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(doc)
}

/// Server-side apply onto `live` (or onto nothing, creating), returning the merged object with
/// its managed fields.
pub fn apply(
    core: &Core,
    info: &ResourceInfo,
    live: Option<&Value>,
    applied: &Value,
    part: Part,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let schema = schema_for(core, info);
    let now = meta::now();
    let api_version = info.api_version();
    let req = ssa::Request {
        manager: manager(opts),
        subresource: subresource(part),
        api_version: &api_version,
        now: &now,
        status_subresource: info.status_subresource,
    };
    let name = live
        .map(|l| meta::meta_str(l, "name"))
        .unwrap_or_else(|| meta::meta_str(applied, "name"));
    let root = schema.as_ref().map(|s| s.root());
    match ssa::apply(live, applied, &req, opts.force, root) {
        Err(ssa::SsaError::Conflicts(conflicts)) if req.manager == "kubectl" && !opts.force => {
            // The real server's last-applied manager: `kubectl apply --server-side` may take over
            // fields that client-side apply recorded in the last-applied annotation.
            let allowed = live
                .map(|l| last_applied_fields(l, root))
                .unwrap_or_default();
            if conflicts
                .conflicts
                .iter()
                .all(|c| allowed.contains(&c.field))
            {
                ssa::apply(live, applied, &req, true, root).map_err(|e| ssa_error(info, name, e))
            } else {
                let rest = conflicts
                    .conflicts
                    .into_iter()
                    .filter(|c| !allowed.contains(&c.field))
                    .collect();
                Err(ssa_error(
                    info,
                    name,
                    ssa::SsaError::Conflicts(ssa::Conflicts { conflicts: rest }),
                ))
            }
        }
        other => other.map_err(|e| ssa_error(info, name, e)),
    }
}

/// The fields (as conflict paths, `.spec.replicas`) of an object's
/// `kubectl.kubernetes.io/last-applied-configuration`.
fn last_applied_fields(
    live: &Value,
    schema: Option<ferry_schema::Schema<'_>>,
) -> std::collections::HashSet<String> {
    let Some(text) = live
        .pointer("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration")
        .and_then(Value::as_str)
    else {
        return Default::default();
    };
    let Ok(config) = serde_json::from_str::<Value>(text) else {
        return Default::default();
    };
    ssa::field_set(&config, schema)
        .paths()
        .iter()
        .map(|p| ssa::display_path(p))
        .collect()
}

/// Records a non-apply write (`Update` operation) in `new`'s managed fields.
pub fn record_update(
    core: &Core,
    info: &ResourceInfo,
    old: Option<&Value>,
    new: &mut Value,
    part: Part,
    opts: &WriteOptions,
) -> Result<(), ApiError> {
    let schema = schema_for(core, info);
    let now = meta::now();
    let api_version = info.api_version();
    let req = ssa::Request {
        manager: manager(opts),
        subresource: subresource(part),
        api_version: &api_version,
        now: &now,
        status_subresource: info.status_subresource,
    };
    let name = meta::meta_str(new, "name").to_owned();
    ssa::record_update(old, new, &req, schema.as_ref().map(|s| s.root()))
        .map_err(|e| ssa_error(info, &name, e))
}
