//! Patch bodies: JSON patch (RFC 6902), JSON merge patch (RFC 7396), strategic merge patch and
//! server-side apply. The schema-aware merges (strategic merge, apply with managedFields) come
//! from ferry-schema through [`crate::merge`].

use serde_json::Value;

use crate::{
    core::{Core, Part, WriteOptions},
    merge,
    resources::ResourceInfo,
    status::ApiError,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    /// The patch type a `Content-Type` names, or 415 for anything else.
    pub fn from_content_type(content_type: &str, info: &ResourceInfo) -> Result<Self, ApiError> {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        let patch_type = match media {
            "application/json-patch+json" => Self::Json,
            "application/merge-patch+json" => Self::Merge,
            "application/strategic-merge-patch+json" => Self::Strategic,
            "application/apply-patch+yaml" => Self::Apply,
            _ => return Err(unsupported_patch(content_type, info)),
        };
        if patch_type == Self::Strategic && info.custom.is_some() {
            return Err(unsupported_patch(content_type, info));
        }
        Ok(patch_type)
    }
}

fn unsupported_patch(content_type: &str, info: &ResourceInfo) -> ApiError {
    let accepted = if info.custom.is_some() {
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    } else {
        "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"
    };
    let mut err = ApiError::unsupported_media_type(content_type);
    err.message = format!(
        "the body of the request was in an unknown format - accepted media types include: {accepted}"
    );
    err
}

/// Parses a patch body: JSON for every type but apply, which also takes YAML.
pub fn parse_body(patch_type: PatchType, body: &[u8]) -> Result<Value, ApiError> {
    let value = if patch_type == PatchType::Apply {
        crate::body::parse_json_or_yaml(body)?
    } else {
        serde_json::from_slice::<Value>(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?
    };
    match (patch_type, &value) {
        (PatchType::Json, Value::Array(_)) => Ok(value),
        (PatchType::Json, _) => Err(ApiError::bad_request(
            "json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp",
        )),
        (_, Value::Object(_)) => Ok(value),
        (_, _) => Err(ApiError::bad_request(
            "error decoding patch: the patch must be a JSON object",
        )),
    }
}

/// Applies a patch to the live object and returns the patched object.
pub fn apply(
    core: &Core,
    info: &ResourceInfo,
    live: &Value,
    patch_type: PatchType,
    patch: &Value,
    part: Part,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    match patch_type {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let mut doc = live.clone();
            json_patch::patch(&mut doc, &ops).map_err(|e| {
                ApiError::invalid_field(
                    &info.kind,
                    &info.group,
                    crate::meta::meta_str(live, "name"),
                    "",
                    "FieldValueInvalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
            Ok(doc)
        }
        PatchType::Merge => {
            let mut doc = live.clone();
            json_patch::merge(&mut doc, patch);
            Ok(doc)
        }
        PatchType::Strategic => merge::strategic(core, info, live, patch),
        PatchType::Apply => {
            let name = crate::meta::meta_str(live, "name");
            check_apply_body(info, name, patch, opts)?;
            let namespace = crate::meta::meta_str(live, "namespace");
            crate::schema::check_apply_fields(core, info, patch, namespace, name)?;
            merge::apply(core, info, Some(live), patch, part, opts)
        }
    }
}

/// The object a server-side apply creates when nothing exists yet, with its managed fields.
pub fn apply_to_new(
    core: &Core,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
    patch: &Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    check_apply_body(info, name, patch, opts)?;
    crate::schema::check_apply_fields(core, info, patch, namespace, name)?;
    let mut applied = patch.clone();
    let meta = crate::meta::metadata_mut(&mut applied);
    meta.insert("name".into(), Value::String(name.to_owned()));
    if info.namespaced {
        meta.insert("namespace".into(), Value::String(namespace.to_owned()));
    }
    merge::apply(core, info, None, &applied, Part::Main, opts)
}

fn check_apply_body(
    info: &ResourceInfo,
    name: &str,
    patch: &Value,
    opts: &WriteOptions,
) -> Result<(), ApiError> {
    if opts.field_manager.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::invalid_field(
            "PatchOptions",
            "meta.k8s.io",
            "",
            "fieldManager",
            "FieldValueRequired",
            "Required value: is required for apply patch".into(),
        ));
    }
    let api_version = patch
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = patch
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if api_version.is_empty() || kind.is_empty() {
        return Err(ApiError::bad_request(
            "Object 'Kind' is missing in the apply patch: apiVersion and kind must be set",
        ));
    }
    if api_version != info.api_version() || kind != info.kind {
        return Err(ApiError::bad_request(format!(
            "the apply patch's {api_version}, Kind={kind} does not match the resource's {}, Kind={}",
            info.api_version(),
            info.kind
        )));
    }
    let body_name = patch
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_patch_must_be_an_array() {
        assert!(parse_body(PatchType::Json, b"{}").is_err());
        assert!(parse_body(PatchType::Json, br#"[{"op":"add","path":"/a","value":1}]"#).is_ok());
        assert_eq!(
            parse_body(PatchType::Merge, b"{oops").unwrap_err().code,
            400
        );
    }

    #[test]
    fn apply_bodies_may_be_yaml() {
        let v = parse_body(
            PatchType::Apply,
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        )
        .unwrap();
        assert_eq!(v["kind"], "ConfigMap");
    }
}
