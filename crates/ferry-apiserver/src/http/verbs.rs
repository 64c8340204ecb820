//! The resource verbs over HTTP: get, list, create, update, patch, delete, deletecollection, and
//! the status, scale and finalize subresources.

use std::sync::Arc;

use axum::{
    extract::Request,
    http::{HeaderMap, Method, StatusCode, header},
    response::Response,
};
use serde_json::{Value, json};

use super::{
    AppState, Query, Representation, Target, error_response, json_value, negotiate, table,
    with_warnings,
};
use crate::{
    core::{
        Core, DeleteOptions, DeleteOutcome, FieldValidation, ListOptions, Part, Propagation,
        WriteOptions, subject,
    },
    meta,
    patch::PatchType,
    resources::ResourceInfo,
    schema::{self, Reader},
    selector::{FieldSelector, LabelSelector},
    status::{self, ApiError},
};

pub async fn serve(
    state: Arc<AppState>,
    target: Target,
    query: Query,
    request: Request,
) -> Response {
    match serve_inner(state, target, query, request).await {
        Ok(response) => response,
        Err(err) => error_response(&err),
    }
}

fn part_of(info: &ResourceInfo, sub: Option<&str>) -> Result<Option<Part>, ApiError> {
    match sub {
        None => Ok(Some(Part::Main)),
        Some("status") if info.status_subresource => Ok(Some(Part::Status)),
        Some("finalize") if info.is_namespace() => Ok(Some(Part::Finalize)),
        Some("scale") if info.scale.is_some() => Ok(None),
        Some(_) => Err(ApiError::no_route()),
    }
}

async fn serve_inner(
    state: Arc<AppState>,
    target: Target,
    query: Query,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let headers = parts.headers;
    let info = target.info.clone();
    let namespace = target.namespace.clone().unwrap_or_default();
    let core = &state.core;
    let part = part_of(&info, target.subresource.as_deref())?;
    let verb_denied = |verb: &str| {
        ApiError::method_not_allowed(
            verb,
            &subject(&info, target.name.as_deref().unwrap_or_default()),
        )
    };
    let watch = target.watch_prefix || query.flag("watch");
    match (&method, target.name.as_deref()) {
        (&Method::GET, _) if watch => {
            if !info.supports("watch") {
                return Err(verb_denied("watch"));
            }
            let representation = negotiate(&headers)?;
            super::watch::serve(state.clone(), &target, &query, representation)
        }
        (&Method::GET, None) => {
            if !info.supports("list") {
                return Err(verb_denied("list"));
            }
            let representation = negotiate(&headers)?;
            let mut opts = list_options(&info, &query)?;
            opts.exact = exact_resource_version(&query, opts.continue_token.is_some())?;
            let ns = target.namespace.as_deref();
            let result = core.list(&info, ns, &opts)?;
            let reader = Reader::new(core, &info);
            Ok(match representation {
                Representation::Table => json_value(
                    StatusCode::OK,
                    &table::list_table(&info, &reader, &result, &query),
                ),
                Representation::PartialMetadata => {
                    json_value(StatusCode::OK, &partial_list(&result))
                }
                Representation::Object => list_response(&info, &reader, &result),
            })
        }
        (&Method::GET, Some(name)) => {
            let representation = negotiate(&headers)?;
            let stored = core.get(&info, &namespace, name)?;
            let reader = Reader::new(core, &info);
            if part.is_none() {
                return Ok(json_value(
                    StatusCode::OK,
                    &scale_of(&info, &reader.value(&stored))?,
                ));
            }
            Ok(match representation {
                Representation::Table => json_value(
                    StatusCode::OK,
                    &table::object_table(&info, &[reader.value(&stored)], stored.rv, &query),
                ),
                Representation::PartialMetadata => {
                    json_value(StatusCode::OK, &partial(&stored.value))
                }
                Representation::Object => {
                    super::json_bytes(StatusCode::OK, reader.json(&stored), "application/json")
                }
            })
        }
        (&Method::POST, None) => {
            if !info.supports("create") {
                return Err(verb_denied("create"));
            }
            let opts = write_options(&query, &headers, "CreateOptions")?;
            let body = super::read_body(body).await?;
            let content_type = content_type(&headers);
            let object = crate::body::parse_object(&content_type, &body)?;
            let strict =
                schema::check_body(core, &info, &content_type, &body, opts.field_validation)?;
            let outcome = core
                .create(&info, &namespace, object, &opts)?
                .with_earlier_warnings(strict);
            Ok(with_warnings(
                super::json_bytes(
                    StatusCode::CREATED,
                    outcome.object.json(core, &info),
                    "application/json",
                ),
                &outcome.warnings,
            ))
        }
        (&Method::PUT, Some(name)) => {
            if !info.supports("update") {
                return Err(verb_denied("update"));
            }
            let opts = write_options(&query, &headers, "UpdateOptions")?;
            let body = super::read_body(body).await?;
            let content_type = content_type(&headers);
            let object = crate::body::parse_object(&content_type, &body)?;
            let outcome = match part {
                Some(part) => {
                    let strict = schema::check_body(
                        core,
                        &info,
                        &content_type,
                        &body,
                        opts.field_validation,
                    )?;
                    core.update(&info, &namespace, name, object, part, &opts)?
                        .with_earlier_warnings(strict)
                }
                None => return update_scale(core, &info, &namespace, name, object, &opts),
            };
            let code = if outcome.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(with_warnings(
                super::json_bytes(code, outcome.object.json(core, &info), "application/json"),
                &outcome.warnings,
            ))
        }
        (&Method::PATCH, Some(name)) => {
            if !info.supports("patch") {
                return Err(verb_denied("patch"));
            }
            let patch_type = PatchType::from_content_type(&content_type(&headers), &info)?;
            let opts = write_options(&query, &headers, "PatchOptions")?;
            let body = super::read_body(body).await?;
            let outcome = match part {
                Some(part) => {
                    core.patch(&info, &namespace, name, patch_type, &body, part, &opts)?
                }
                None => {
                    return patch_scale(core, &info, &namespace, name, patch_type, &body, &opts);
                }
            };
            let code = if outcome.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(with_warnings(
                super::json_bytes(code, outcome.object.json(core, &info), "application/json"),
                &outcome.warnings,
            ))
        }
        (&Method::DELETE, Some(name)) if part == Some(Part::Main) => {
            if !info.supports("delete") {
                return Err(verb_denied("delete"));
            }
            let body = super::read_body(body).await?;
            let opts = delete_options(&query, &content_type(&headers), &body)?;
            let orphan_false = opts.orphan_dependents == Some(false);
            match core.delete(&info, &namespace, name, &opts)? {
                DeleteOutcome::Deleted(object) => {
                    if returns_deleted_object(&info) {
                        Ok(json_value(StatusCode::OK, &object))
                    } else {
                        let uid = meta::meta_str(&object, "uid");
                        Ok(json_value(
                            StatusCode::OK,
                            &status::success_status(&subject(&info, name), uid),
                        ))
                    }
                }
                DeleteOutcome::Pending(object) => {
                    let code = if orphan_false {
                        StatusCode::ACCEPTED
                    } else {
                        StatusCode::OK
                    };
                    Ok(json_value(code, &object))
                }
            }
        }
        (&Method::DELETE, None) => {
            if !info.supports("deletecollection") {
                return Err(verb_denied("deletecollection"));
            }
            let body = super::read_body(body).await?;
            let opts = delete_options(&query, &content_type(&headers), &body)?;
            let list_opts = list_options(&info, &query)?;
            let deleted =
                core.delete_collection(&info, target.namespace.as_deref(), &list_opts, &opts)?;
            Ok(json_value(
                StatusCode::OK,
                &json!({
                    "kind": info.list_kind,
                    "apiVersion": info.api_version(),
                    "metadata": {"resourceVersion": core.store.current_rv().to_string()},
                    "items": deleted,
                }),
            ))
        }
        (m, _) => Err(verb_denied(super::method_name(m))),
    }
}

/// Kinds whose registry returns the deleted object rather than a Status.
fn returns_deleted_object(info: &ResourceInfo) -> bool {
    info.group.is_empty() && matches!(info.plural.as_str(), "pods" | "services" | "namespaces")
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned()
}

pub fn list_options(info: &ResourceInfo, query: &Query) -> Result<ListOptions, ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or_default())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let selectable: Vec<String> = Vec::new();
    let fields = FieldSelector::parse(
        query.get("fieldSelector").unwrap_or_default(),
        &info.group,
        &info.kind,
        &selectable,
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let limit = match query.get("limit") {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {raw}")))?
                .max(0) as usize,
        ),
    };
    Ok(ListOptions {
        labels,
        fields,
        limit,
        continue_token: query
            .get("continue")
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        // Lists only (watches check resourceVersionMatch with sendInitialEvents).
        exact: None,
    })
}

/// `resourceVersionMatch`, checked as ValidateListOptions does: `Exact` yields the version to
/// list at; `NotOlderThan` (and no match) serve the latest state, which is never older.
fn exact_resource_version(query: &Query, has_continue: bool) -> Result<Option<u64>, ApiError> {
    let Some(matching) = query.get("resourceVersionMatch").filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    let rv = query.get("resourceVersion").unwrap_or_default();
    let forbidden = |message: String| {
        ApiError::invalid_field(
            "ListOptions",
            "meta.k8s.io",
            "",
            "resourceVersionMatch",
            "FieldValueForbidden",
            format!("Forbidden: {message}"),
        )
    };
    if rv.is_empty() {
        return Err(forbidden(
            "resourceVersionMatch is forbidden unless resourceVersion is provided".into(),
        ));
    }
    if has_continue {
        return Err(forbidden(
            "resourceVersionMatch is forbidden when continue is provided".into(),
        ));
    }
    match matching {
        "NotOlderThan" => Ok(None),
        "Exact" if rv == "0" => Err(forbidden(
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"".into(),
        )),
        "Exact" => crate::core::parse_rv(rv).map(Some),
        other => Err(ApiError::invalid_field(
            "ListOptions",
            "meta.k8s.io",
            "",
            "resourceVersionMatch",
            "FieldValueNotSupported",
            format!(
                "Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\", \"\""
            ),
        )),
    }
}

/// The options of a write; `options_kind` names them in errors (`CreateOptions`,
/// `UpdateOptions`, `PatchOptions`).
fn write_options(
    query: &Query,
    headers: &HeaderMap,
    options_kind: &str,
) -> Result<WriteOptions, ApiError> {
    let apply = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/apply-patch+yaml"))
        && options_kind == "PatchOptions";
    let dry_run = match query.get("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::invalid_field(
                "CreateOptions",
                "meta.k8s.io",
                "",
                "dryRun",
                "FieldValueNotSupported",
                format!("Unsupported value: {other:?}: supported values: \"All\""),
            ));
        }
    };
    let field_validation = FieldValidation::parse(query.get("fieldValidation"), options_kind)?;
    let mut field_manager = query
        .get("fieldManager")
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    if field_manager.as_ref().is_some_and(|m| m.len() > 128) {
        return Err(ApiError::invalid_field(
            "PatchOptions",
            "meta.k8s.io",
            "",
            "fieldManager",
            "FieldValueTooLong",
            "Too long: may not be more than 128 bytes".into(),
        ));
    }
    if field_manager.is_none() && !apply {
        // The real server names an unnamed updater after its user agent, up to the first '/'.
        field_manager = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.split('/').next().unwrap_or(ua).to_owned())
            .filter(|m| !m.is_empty());
    }
    let force = match query.get("force") {
        None | Some("" | "false") => false,
        Some("true") if apply => true,
        Some("true") => {
            return Err(ApiError::invalid_field(
                "PatchOptions",
                "meta.k8s.io",
                "",
                "force",
                "FieldValueForbidden",
                "Forbidden: may not be specified for non-apply patch".into(),
            ));
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid force value: {other}"
            )));
        }
    };
    Ok(WriteOptions {
        dry_run,
        field_manager,
        field_validation,
        force,
    })
}

fn delete_options(
    query: &Query,
    content_type: &str,
    body: &[u8],
) -> Result<DeleteOptions, ApiError> {
    let mut opts = DeleteOptions::default();
    let parsed: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else if crate::protobuf::is_protobuf(content_type) {
        crate::protobuf::decode(body).map_err(|e| ApiError::bad_request(e.to_string()))?
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    let propagation = parsed
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| query.get("propagationPolicy").map(str::to_owned));
    opts.propagation = match propagation.as_deref() {
        None | Some("") => None,
        Some("Orphan") => Some(Propagation::Orphan),
        Some("Background") => Some(Propagation::Background),
        Some("Foreground") => Some(Propagation::Foreground),
        Some(other) => {
            return Err(ApiError::invalid_field(
                "DeleteOptions",
                "meta.k8s.io",
                "",
                "propagationPolicy",
                "FieldValueNotSupported",
                format!(
                    "Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
                ),
            ));
        }
    };
    let orphan = parsed.get("orphanDependents").and_then(Value::as_bool).or(
        match query.get("orphanDependents") {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        },
    );
    opts.orphan_dependents = orphan;
    if let Some(orphan) = orphan {
        if opts.propagation.is_some() {
            return Err(ApiError::invalid_field(
                "DeleteOptions",
                "meta.k8s.io",
                "",
                "propagationPolicy",
                "FieldValueInvalid",
                "Invalid value: \"\": orphanDependents and deletionPropagation cannot be both set"
                    .into(),
            ));
        }
        opts.propagation = Some(if orphan {
            Propagation::Orphan
        } else {
            Propagation::Background
        });
    }
    let dry_run_body = parsed
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "All"));
    opts.dry_run = dry_run_body || query.get("dryRun") == Some("All");
    opts.precondition_uid = parsed
        .pointer("/preconditions/uid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    opts.precondition_rv = parsed
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(opts)
}

fn list_response(
    info: &ResourceInfo,
    reader: &Reader<'_>,
    result: &crate::core::ListResult,
) -> Response {
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "resourceVersion".into(),
        Value::String(result.rv.to_string()),
    );
    if let Some(token) = &result.continue_token {
        metadata.insert("continue".into(), Value::String(token.clone()));
    }
    if let Some(remaining) = result.remaining {
        metadata.insert("remainingItemCount".into(), json!(remaining));
    }
    let head =
        json!({"kind": info.list_kind, "apiVersion": info.api_version(), "metadata": metadata});
    let head = serde_json::to_vec(&head).unwrap_or_default();
    // `{"kind":..,"metadata":{..}}` -> `{"kind":..,"metadata":{..},"items":[...]}` without re-encoding items.
    let mut out = Vec::with_capacity(
        head.len() + result.items.iter().map(|s| s.json.len() + 1).sum::<usize>() + 16,
    );
    out.extend_from_slice(&head[..head.len() - 1]);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in result.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&reader.json(item));
    }
    out.extend_from_slice(b"]}");
    super::json_bytes(StatusCode::OK, out, "application/json")
}

pub fn partial(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn partial_list(result: &crate::core::ListResult) -> Value {
    let mut metadata = json!({"resourceVersion": result.rv.to_string()});
    if let Some(token) = &result.continue_token {
        metadata["continue"] = json!(token);
    }
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "items": result.items.iter().map(|s| partial(&s.value)).collect::<Vec<_>>(),
    })
}

fn json_path_pointer(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |acc, seg| format!("{acc}/{seg}"))
}

/// The autoscaling/v1 Scale view of an object.
fn scale_of(info: &ResourceInfo, object: &Value) -> Result<Value, ApiError> {
    let scale = info.scale.as_ref().ok_or_else(ApiError::no_route)?;
    let spec = object
        .pointer(&json_path_pointer(&scale.spec_replicas_path))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let status = object
        .pointer(&json_path_pointer(&scale.status_replicas_path))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let selector = if scale.label_selector_path.is_empty() {
        object
            .pointer("/spec/selector")
            .map(|s| {
                if s.get("matchLabels").is_some() || s.get("matchExpressions").is_some() {
                    LabelSelector::from_object(s)
                        .map(|l| l.to_selector_string())
                        .unwrap_or_default()
                } else {
                    // ReplicationController: a plain map selector.
                    s.as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default()
                }
            })
            .unwrap_or_default()
    } else {
        object
            .pointer(&json_path_pointer(&scale.label_selector_path))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let m = object.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let mut metadata = serde_json::Map::new();
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = m.get(field) {
            metadata.insert(field.into(), v.clone());
        }
    }
    let mut status_obj = json!({"replicas": status});
    if !selector.is_empty() {
        status_obj["selector"] = json!(selector);
    }
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": spec},
        "status": status_obj,
    }))
}

fn write_replicas(
    core: &Core,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
    replicas: i64,
    rv: Option<&str>,
    opts: &WriteOptions,
) -> Result<Response, ApiError> {
    let scale = info.scale.as_ref().ok_or_else(ApiError::no_route)?;
    if replicas < 0 {
        return Err(ApiError::invalid_field(
            "Scale",
            "autoscaling",
            name,
            "spec.replicas",
            "FieldValueInvalid",
            format!("Invalid value: {replicas}: must be greater than or equal to 0"),
        ));
    }
    let current = core.get(info, namespace, name)?;
    let mut object = core.present(info, &current);
    if let Some(rv) = rv.filter(|r| !r.is_empty()) {
        meta::metadata_mut(&mut object).insert("resourceVersion".into(), json!(rv));
    } else {
        meta::metadata_mut(&mut object)
            .insert("resourceVersion".into(), json!(current.rv.to_string()));
    }
    let pointer = json_path_pointer(&scale.spec_replicas_path);
    set_pointer(&mut object, &pointer, json!(replicas));
    let outcome = core.update(info, namespace, name, object, Part::Main, opts)?;
    Ok(json_value(
        StatusCode::OK,
        &scale_of(info, &outcome.object.into_value(core, info))?,
    ))
}

fn set_pointer(object: &mut Value, pointer: &str, value: Value) {
    let mut cursor = object;
    let segs: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, seg) in segs.iter().enumerate() {
        if i + 1 == segs.len() {
            if let Some(map) = cursor.as_object_mut() {
                map.insert((*seg).to_owned(), value);
            }
            return;
        }
        if !cursor.get(*seg).is_some_and(Value::is_object) {
            cursor[*seg] = json!({});
        }
        cursor = &mut cursor[*seg];
    }
}

fn update_scale(
    core: &Core,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
    body: Value,
    opts: &WriteOptions,
) -> Result<Response, ApiError> {
    let replicas = body
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let rv = body
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    write_replicas(core, info, namespace, name, replicas, rv.as_deref(), opts)
}

fn patch_scale(
    core: &Core,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
    patch_type: PatchType,
    body: &[u8],
    opts: &WriteOptions,
) -> Result<Response, ApiError> {
    let current = core.get(info, namespace, name)?;
    let scale = scale_of(info, &core.present(info, &current))?;
    let doc = crate::patch::parse_body(patch_type, body)?;
    let patched = match patch_type {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(doc)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let mut s = scale.clone();
            json_patch::patch(&mut s, &ops).map_err(|e| ApiError::bad_request(e.to_string()))?;
            s
        }
        _ => {
            let mut s = scale.clone();
            json_patch::merge(&mut s, &doc);
            s
        }
    };
    let replicas = patched
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let rv = patched
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    write_replicas(core, info, namespace, name, replicas, rv.as_deref(), opts)
}
