//! The webhook server: `POST /hook/<digest>`, answered as notification-controller answers it:
//! 404 when no Receiver has that path, 503 when it is suspended or not ready, 400 when the
//! request is not authentic or its event is not handled, 500 when an object could not be
//! annotated, 200 otherwise. ferry adds 501 for the types it does not implement (Flux answers
//! 400) and answers GitHub's `ping` with 200 without notifying anything.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{Path as UrlPath, State},
    http::{HeaderMap, StatusCode, header},
    routing::post,
};
use ferry_api::{
    Receiver, condition, keys,
    receiver::{ReceiverResource, WEBHOOK_PATH_PREFIX},
};
use ferry_apply::object::Gvk;
use kube::{
    Api, ResourceExt,
    api::{DynamicObject, ListParams, Patch, PatchParams},
    runtime::reflector::Store,
};
use serde_json::{Value, json};

use super::{
    filter::Filter,
    read_token,
    validate::{Verdict, validate},
    webhook_path,
};
use crate::events::{EventType, Recorder};

/// What the handler needs: the controller's context (client, discovery cache, settings), the
/// Receivers the controller watches, and an event recorder.
pub struct ServerState {
    pub ctx: Arc<crate::Context>,
    pub store: Store<Receiver>,
    pub recorder: Recorder,
}

/// The routes of the webhook server.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/hook/{digest}", post(handle))
        .with_state(Arc::new(state))
}

type Reply = (StatusCode, String);

fn reply(code: StatusCode, message: impl Into<String>) -> Reply {
    let mut message = message.into();
    message.push('\n');
    (code, message)
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    UrlPath(digest): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let path = format!("{WEBHOOK_PATH_PREFIX}{digest}");
    let Some(receiver) =
        state.store.state().into_iter().find(|r| {
            r.status.as_ref().and_then(|s| s.webhook_path.as_deref()) == Some(path.as_str())
        })
    else {
        tracing::info!(%path, "webhook for no receiver");
        return reply(StatusCode::NOT_FOUND, "no receiver for this path");
    };
    let key = format!(
        "{}/{}",
        receiver.namespace().unwrap_or_default(),
        receiver.name_any()
    );
    let ready = receiver
        .status
        .as_ref()
        .is_some_and(|s| condition::is_true(&s.conditions, condition::READY));
    if receiver.spec.suspended() || !ready {
        let why = if ready { "suspended" } else { "not ready" };
        tracing::warn!(receiver = %key, "unable to process request: receiver is {why}");
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("receiver {key} is {why}"),
        );
    }
    let outcome = handle_for(&state, &receiver, &path, &headers, &body).await;
    match &outcome {
        Ok(message) => {
            tracing::info!(receiver = %key, "{message}");
            // Queued: posted off the response path.
            state.recorder.publish(
                receiver.as_ref(),
                EventType::Normal,
                "ReconciliationRequested",
                message,
                Default::default(),
            );
        }
        Err((code, message)) => {
            tracing::warn!(receiver = %key, status = code.as_u16(), "{message}");
        }
    }
    match outcome {
        Ok(message) => reply(StatusCode::OK, message),
        Err((code, message)) => reply(code, message),
    }
}

/// Validates the request and notifies the resources: the message of a 200, or the status
/// code and message of a failure.
async fn handle_for(
    state: &ServerState,
    receiver: &Receiver,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, Reply> {
    let namespace = receiver.namespace().unwrap_or_default();
    let name = receiver.name_any();
    let token = read_token(&state.ctx.client, receiver).await.map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("unable to read token: {e}"),
        )
    })?;
    // The Secret changed since the path was computed: the old path no longer authenticates.
    if webhook_path(&token, &name, &namespace) != path {
        return Err((
            StatusCode::NOT_FOUND,
            "no receiver for this path".to_owned(),
        ));
    }
    let events = receiver.spec.events.clone().unwrap_or_default();
    let event = match validate(&receiver.spec.type_, &events, &token, headers, body) {
        Verdict::Accept(event) => event,
        Verdict::Ping => return Ok("ping received; nothing to reconcile".to_owned()),
        Verdict::Reject(message) => {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("unable to validate payload: {message}"),
            ));
        }
        Verdict::Unsupported(message) => return Err((StatusCode::NOT_IMPLEMENTED, message)),
    };

    let internal = |m: String| (StatusCode::INTERNAL_SERVER_ERROR, m);
    let global = match receiver.spec.resource_filter.as_deref() {
        Some(source) => Some(
            Filter::parse(source).map_err(|e| internal(format!("invalid resourceFilter: {e}")))?,
        ),
        None => None,
    };
    let uses_filters =
        global.is_some() || receiver.spec.resources.iter().any(|r| r.filter.is_some());
    let req = if uses_filters && is_json(headers) {
        serde_json::from_slice::<Value>(body).map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                format!("failed to parse request body as JSON: {e}"),
            )
        })?
    } else {
        json!({})
    };

    let now = jiff::Timestamp::now().to_string();
    let mut annotated = Vec::new();
    let mut errors = Vec::new();
    for resource in &receiver.spec.resources {
        let local = match resource.filter.as_deref().map(Filter::parse).transpose() {
            Ok(local) => local,
            Err(e) => {
                errors.push(format!("invalid filter of {}: {e}", resource.kind));
                continue;
            }
        };
        let filters: Vec<&Filter> = global.iter().chain(local.iter()).collect();
        match notify(state, &namespace, resource, &filters, &req, &now).await {
            Ok(names) => annotated.extend(names),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(internal(format!(
            "unable to request reconciliation: {}",
            errors.join("; ")
        )));
    }
    let what = event.map_or_else(|| "request".to_owned(), |e| format!("'{e}' event"));
    Ok(if annotated.is_empty() {
        format!("handled {what}: no object to annotate")
    } else {
        format!(
            "handled {what}: reconciliation requested for {}",
            annotated.join(", ")
        )
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|t| {
                t.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            })
        })
}

/// The API group of a Flux kind named without apiVersion.
fn default_group(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Bucket" | "GitRepository" | "HelmRepository" | "HelmChart" | "OCIRepository"
        | "ExternalArtifact" => "source.toolkit.fluxcd.io",
        "Kustomization" => "kustomize.toolkit.fluxcd.io",
        "HelmRelease" => "helm.toolkit.fluxcd.io",
        "ImageRepository" | "ImagePolicy" | "ImageUpdateAutomation" => "image.toolkit.fluxcd.io",
        "ArtifactGenerator" => "source.extensions.fluxcd.io",
        _ => return None,
    })
}

/// The API of the objects a reference names, resolved through discovery.
async fn api_for(
    ctx: &crate::Context,
    resource: &ReceiverResource,
    namespace: &str,
) -> Result<Api<DynamicObject>, String> {
    let client = ctx.client.clone();
    let kind = &resource.kind;
    let api_resource = match resource.api_version.as_deref() {
        Some(api_version) => {
            let gvk = Gvk::from_api_version(api_version, kind);
            ctx.resources
                .resolve(&client, &gvk)
                .await
                .map_err(|e| e.to_string())?
                .resource
        }
        None => {
            let group = default_group(kind)
                .ok_or_else(|| format!("apiVersion must be specified for kind '{kind}'"))?;
            let discovered = kube::discovery::group(&client, group)
                .await
                .map_err(|e| format!("discovery of {group} failed: {e}"))?;
            discovered
                .recommended_kind(kind)
                .map(|(resource, _)| resource)
                .ok_or_else(|| format!("no matches for kind \"{kind}\" in group \"{group}\""))?
        }
    };
    Ok(Api::namespaced_with(client, namespace, &api_resource))
}

/// Annotates the object(s) one reference names; returns `Kind ns/name` of each annotated.
async fn notify(
    state: &ServerState,
    receiver_namespace: &str,
    resource: &ReceiverResource,
    filters: &[&Filter],
    req: &Value,
    now: &str,
) -> Result<Vec<String>, String> {
    let namespace = resource.namespace.as_deref().unwrap_or(receiver_namespace);
    let kind = &resource.kind;
    if state.ctx.config.no_cross_namespace_refs && namespace != receiver_namespace {
        return Err(format!(
            "{kind} {namespace}/{}: cross-namespace references are not allowed",
            resource.name
        ));
    }
    let api = api_for(&state.ctx, resource, namespace).await?;
    let objects = if resource.name == "*" {
        let Some(labels) = resource.match_labels.as_ref().filter(|l| !l.is_empty()) else {
            return Err(format!(
                "{kind} in {namespace}: matchLabels field not set when using wildcard '*' as name"
            ));
        };
        let selector = labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let list = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| {
                format!("failed listing {kind} in {namespace} by labels {selector}: {e}")
            })?;
        if list.items.is_empty() {
            tracing::info!(%kind, %namespace, %selector, "no objects match the receiver's labels");
        }
        list.items
    } else {
        match api.get_opt(&resource.name).await {
            Ok(Some(object)) => vec![object],
            Ok(None) => return Err(format!("{kind} '{namespace}/{}' not found", resource.name)),
            Err(e) => {
                return Err(format!(
                    "unable to read {kind} '{namespace}/{}': {e}",
                    resource.name
                ));
            }
        }
    };
    let mut annotated = Vec::new();
    let patch = json!({"metadata": {"annotations": {keys::REQUESTED_AT_ANNOTATION: now}}});
    let params = PatchParams {
        field_manager: Some(keys::CLIENT_SIDE_APPLY_MANAGER.to_owned()),
        ..Default::default()
    };
    for object in objects {
        let name = object.name_any();
        let value = serde_json::to_value(&object).map_err(|e| e.to_string())?;
        let mut accepted = true;
        for filter in filters {
            accepted &= filter
                .evaluate(&value, req)
                .map_err(|e| format!("{kind} '{namespace}/{name}': {e}"))?;
        }
        if !accepted {
            tracing::info!(%kind, %namespace, %name, "not annotated: the CEL filter is false");
            continue;
        }
        api.patch(&name, &params, &Patch::Merge(&patch))
            .await
            .map_err(|e| format!("unable to annotate {kind} '{namespace}/{name}': {e}"))?;
        annotated.push(format!("{kind} {namespace}/{name}"));
    }
    Ok(annotated)
}
