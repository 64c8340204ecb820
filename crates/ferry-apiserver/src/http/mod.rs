//! The HTTP surface: authentication, routing of Kubernetes API paths, content negotiation and
//! the verbs. One fallback handler parses the path itself because API paths are dynamic (CRDs
//! add groups at runtime).

mod discovery;
mod openapi;
mod table;
mod verbs;
mod watch;

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;

use crate::{auth::Auth, core::Core, resources::ResourceInfo, status::ApiError};

/// Everything a request handler needs.
pub struct AppState {
    pub core: Arc<Core>,
    pub auth: Arc<Auth>,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    pub bookmark_interval: Duration,
    pub discovery: discovery::Cache,
    pub openapi: openapi::Cache,
}

/// Builds the router serving the whole API.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// Query parameters, last value wins (as Go's `url.Values.Get` takes the first; clients send one).
pub struct Query(HashMap<String, String>);

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

/// What kind of body the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    Object,
    Table,
    PartialMetadata,
}

fn negotiate(headers: &HeaderMap) -> Result<Representation, ApiError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.trim().is_empty() {
        return Ok(Representation::Object);
    }
    for clause in accept.split(',') {
        let mut parts = clause.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        let params: HashMap<&str, &str> = parts.filter_map(|p| p.split_once('=')).collect();
        if !matches!(
            media,
            "application/json" | "*/*" | "application/*" | "application/yaml"
        ) {
            continue;
        }
        match params.get("as").copied() {
            Some("Table") if params.get("g").copied() == Some("meta.k8s.io") => {
                return Ok(Representation::Table);
            }
            Some("PartialObjectMetadata" | "PartialObjectMetadataList")
                if params.get("g").copied() == Some("meta.k8s.io")
                    && params.get("v").copied() == Some("v1") =>
            {
                return Ok(Representation::PartialMetadata);
            }
            Some(_) => continue,
            None => return Ok(Representation::Object),
        }
    }
    Err(ApiError::not_acceptable(accept))
}

pub fn json_bytes(code: StatusCode, body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = code;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub fn json_value(code: StatusCode, value: &serde_json::Value) -> Response {
    json_bytes(
        code,
        serde_json::to_vec(value).unwrap_or_default(),
        "application/json",
    )
}

pub fn error_response(err: &ApiError) -> Response {
    let code = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_value(code, &err.to_status())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(&self)
    }
}

/// Adds `Warning: 299 - "..."` headers, as the real server reports non-fatal problems. Line
/// breaks (YAML duplicate-key messages have them) become spaces, as Go's header writer does.
pub fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let escaped = w
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace(['\r', '\n'], " ");
        if let Ok(v) = HeaderValue::from_bytes(format!("299 - \"{escaped}\"").as_bytes()) {
            response.headers_mut().append(header::WARNING, v);
        }
    }
    response
}

/// A resource path, parsed.
pub struct Target {
    pub info: Arc<ResourceInfo>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// The legacy `/watch/` path prefix was used.
    pub watch_prefix: bool,
}

enum Route {
    Target(Target),
    Discovery(discovery::Route),
    OpenApi(openapi::Route),
    Health,
    Version,
    NotFound,
}

fn route(state: &AppState, path: &str) -> Route {
    let trimmed = path.trim_end_matches('/');
    match trimmed {
        "/healthz" | "/livez" | "/readyz" => return Route::Health,
        "/version" => return Route::Version,
        "" | "/api" => {
            return if trimmed.is_empty() {
                Route::Discovery(discovery::Route::Root)
            } else {
                Route::Discovery(discovery::Route::Api)
            };
        }
        "/apis" => return Route::Discovery(discovery::Route::Apis),
        "/api/v1" => {
            return Route::Discovery(discovery::Route::GroupVersion(String::new(), "v1".into()));
        }
        _ => {}
    }
    if let Some(rest) = trimmed.strip_prefix("/openapi/") {
        return Route::OpenApi(openapi::Route::parse(rest));
    }
    let (group, version, rest) = if let Some(rest) = trimmed.strip_prefix("/api/v1/") {
        (String::new(), "v1".to_owned(), rest)
    } else if let Some(rest) = trimmed.strip_prefix("/apis/") {
        let mut parts = rest.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(g), None, None) => {
                return Route::Discovery(discovery::Route::Group(g.to_owned()));
            }
            (Some(g), Some(v), None) => {
                return Route::Discovery(discovery::Route::GroupVersion(
                    g.to_owned(),
                    v.to_owned(),
                ));
            }
            (Some(g), Some(v), Some(rest)) => (g.to_owned(), v.to_owned(), rest),
            _ => return Route::NotFound,
        }
    } else {
        return Route::NotFound;
    };
    let (watch_prefix, rest) = match rest.strip_prefix("watch/") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Route::NotFound;
    }
    let (namespace, segs) = match segs.as_slice() {
        ["namespaces", ns, sub] if group.is_empty() && matches!(*sub, "status" | "finalize") => {
            let info = state.core.registry.lookup("", "v1", "namespaces");
            return match info {
                Some(info) => Route::Target(Target {
                    info,
                    namespace: None,
                    name: Some((*ns).to_owned()),
                    subresource: Some((*sub).to_owned()),
                    watch_prefix,
                }),
                None => Route::NotFound,
            };
        }
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => {
            (Some((*ns).to_owned()), tail.to_vec())
        }
        _ => (None, segs),
    };
    let (resource, name, subresource) = match segs.as_slice() {
        [r] => (*r, None, None),
        [r, n] => (*r, Some((*n).to_owned()), None),
        [r, n, s] => (*r, Some((*n).to_owned()), Some((*s).to_owned())),
        _ => return Route::NotFound,
    };
    let Some(info) = state.core.registry.lookup(&group, &version, resource) else {
        return Route::NotFound;
    };
    if namespace.is_some() && !info.namespaced {
        return Route::NotFound;
    }
    Route::Target(Target {
        info,
        namespace,
        name,
        subresource,
        watch_prefix,
    })
}

async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = Query::parse(request.uri().query());
    let route = route(&state, &path);
    let public = matches!(route, Route::Health | Route::Version);
    if !public && let Err(err) = state.auth.authenticate(request.headers()) {
        return error_response(&err);
    }
    let response = match route {
        Route::Health => json_bytes(StatusCode::OK, "ok", "text/plain; charset=utf-8"),
        Route::Version => json_value(StatusCode::OK, &discovery::version()),
        Route::NotFound => error_response(&ApiError::no_route()),
        Route::Discovery(r) => discovery::serve(&state, r, request.headers()),
        Route::OpenApi(r) => openapi::serve(&state, r, request.headers(), &query),
        Route::Target(target) => verbs::serve(state.clone(), target, query, request).await,
    };
    tracing::debug!(%path, status = response.status().as_u16(), "request");
    response
}

/// Reads a request body, refusing anything over the limit with 413. An oversized body is still
/// drained (up to a bound) before answering, so HTTP/2 clients see the 413 rather than a reset
/// stream.
pub async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
    let limit = crate::body::MAX_BODY_BYTES;
    let mut body = body;
    let mut collected = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("reading request body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen <= limit {
            collected.extend_from_slice(&data);
        } else if seen > DRAIN_LIMIT {
            break;
        }
    }
    if seen > limit {
        return Err(ApiError::too_large(limit));
    }
    Ok(collected.freeze())
}

pub fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "unknown",
    }
}
