//! `/openapi/v2` and `/openapi/v3`: the official documents of the built-in API (from
//! ferry-schema) plus documents generated from installed CRDs, the way the real server's CRD
//! OpenAPI controller builds them (so `kubectl explain` and kubectl's field-validation probe
//! work for custom resources too).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

use super::{AppState, Query, error_response, json_bytes};
use crate::{resources::ResourceInfo, status::ApiError};

pub enum Route {
    V2,
    V3Index,
    V3(String),
    Unknown,
}

impl Route {
    pub fn parse(rest: &str) -> Self {
        match rest {
            "v2" => Self::V2,
            "v3" => Self::V3Index,
            other => match other.strip_prefix("v3/") {
                Some(path) => Self::V3(path.to_owned()),
                None => Self::Unknown,
            },
        }
    }
}

struct Documents {
    v2: Bytes,
    /// group-version path (`apis/apps/v1`) -> (hash, document).
    v3: BTreeMap<String, (String, Bytes)>,
}

#[derive(Default)]
pub struct Cache {
    inner: Mutex<Option<(u64, Arc<Documents>)>>,
}

fn hash(bytes: &[u8]) -> String {
    hex::encode_upper(Sha512::digest(bytes))
}

/// `source.toolkit.fluxcd.io` -> `io.fluxcd.toolkit.source`, the real server's definition prefix.
fn reversed_group(group: &str) -> String {
    group.split('.').rev().collect::<Vec<_>>().join(".")
}

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

fn definition_name(info: &ResourceInfo, kind: &str) -> String {
    format!("{}.{}.{}", reversed_group(&info.group), info.version, kind)
}

/// The schema of one custom resource kind, with the standard fields and the GVK extension.
fn custom_schema(info: &ResourceInfo, ref_prefix: &str) -> Value {
    let mut schema = info
        .custom
        .as_ref()
        .and_then(|c| c.schema.clone())
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    if let Some(map) = schema.as_object_mut() {
        let props = map.entry("properties").or_insert_with(|| json!({}));
        if let Some(props) = props.as_object_mut() {
            props.insert("apiVersion".into(), json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"}));
            props.insert("kind".into(), json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"}));
            props.insert(
                "metadata".into(),
                json!({"description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", "allOf": [{"$ref": format!("{ref_prefix}{META}.ObjectMeta")}]}),
            );
        }
        map.insert(
            "x-kubernetes-group-version-kind".into(),
            json!([{"group": info.group, "kind": info.kind, "version": info.version}]),
        );
    }
    schema
}

fn list_schema(info: &ResourceInfo, ref_prefix: &str) -> Value {
    json!({
        "description": format!("{} is a list of {}", info.list_kind, info.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": format!("{ref_prefix}{}", definition_name(info, &info.kind))}},
            "kind": {"type": "string"},
            "metadata": {"allOf": [{"$ref": format!("{ref_prefix}{META}.ListMeta")}]},
        },
        "x-kubernetes-group-version-kind": [{"group": info.group, "kind": info.list_kind, "version": info.version}],
    })
}

fn query_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

/// Operations on a custom resource's paths, carrying the parameters clients probe for.
fn custom_paths(info: &ResourceInfo) -> Map<String, Value> {
    let gvk = json!({"group": info.group, "version": info.version, "kind": info.kind});
    let obj_ref =
        json!({"$ref": format!("#/components/schemas/{}", definition_name(info, &info.kind))});
    let list_ref =
        json!({"$ref": format!("#/components/schemas/{}", definition_name(info, &info.list_kind))});
    let ok = |r: &Value| json!({"200": {"description": "OK", "content": {"application/json": {"schema": r}}}});
    let write_params = vec![
        query_param(
            "dryRun",
            "When present, indicates that modifications should not be persisted.",
        ),
        query_param(
            "fieldManager",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
        ),
        query_param(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.",
        ),
    ];
    let mut patch_params = write_params.clone();
    patch_params.push(query_param(
        "force",
        "Force is going to \"force\" Apply requests.",
    ));
    let base = if info.namespaced {
        format!(
            "/apis/{}/{}/namespaces/{{namespace}}/{}",
            info.group, info.version, info.plural
        )
    } else {
        format!("/apis/{}/{}/{}", info.group, info.version, info.plural)
    };
    let op = |action: &str, id: &str, params: &Vec<Value>, response: Value| {
        json!({
            "operationId": format!("{id}{}", info.kind),
            "parameters": params,
            "responses": response,
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        })
    };
    let body = json!({"content": {"application/json": {"schema": obj_ref}}, "required": true});
    let patch_body = json!({"content": {
        "application/apply-patch+yaml": {"schema": {"type": "object"}},
        "application/json-patch+json": {"schema": {"type": "object"}},
        "application/merge-patch+json": {"schema": {"type": "object"}},
    }, "required": true});
    let mut create = op("post", "create", &write_params, ok(&obj_ref));
    create["requestBody"] = body.clone();
    let mut replace = op("put", "replace", &write_params, ok(&obj_ref));
    replace["requestBody"] = body;
    let mut patch = op("patch", "patch", &patch_params, ok(&obj_ref));
    patch["requestBody"] = patch_body;
    let mut paths = Map::new();
    paths.insert(
        base.clone(),
        json!({
            "get": op("list", "list", &vec![], ok(&list_ref)),
            "post": create,
            "delete": op("deletecollection", "deletecollection", &vec![], ok(&json!({"$ref": format!("#/components/schemas/{META}.Status")}))),
        }),
    );
    let mut item = json!({
        "get": op("get", "read", &vec![], ok(&obj_ref)),
        "put": replace.clone(),
        "patch": patch.clone(),
        "delete": op("delete", "delete", &vec![], ok(&json!({"$ref": format!("#/components/schemas/{META}.Status")}))),
        "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}],
    });
    if info.namespaced
        && let Some(params) = item["parameters"].as_array_mut()
    {
        params.push(json!({"name": "namespace", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}));
    }
    paths.insert(format!("{base}/{{name}}"), item.clone());
    if info.status_subresource {
        let mut status = item.clone();
        if let Some(m) = status.as_object_mut() {
            m.remove("post");
            m.remove("delete");
        }
        paths.insert(format!("{base}/{{name}}/status"), status);
    }
    if info.scale.is_some() {
        // The scale subresource reads and writes autoscaling/v1 Scale, as on the real server.
        let scale_ref = json!({"$ref": format!("#/components/schemas/{SCALE}")});
        let scale_gvk = json!({"group": "autoscaling", "version": "v1", "kind": "Scale"});
        let mut scale = item;
        if let Some(m) = scale.as_object_mut() {
            m.remove("post");
            m.remove("delete");
        }
        for (verb, id) in [("get", "read"), ("put", "replace"), ("patch", "patch")] {
            scale[verb]["operationId"] = json!(format!("{id}{}Scale", info.kind));
            scale[verb]["responses"] = ok(&scale_ref);
            scale[verb]["x-kubernetes-group-version-kind"] = scale_gvk.clone();
        }
        scale["put"]["requestBody"] =
            json!({"content": {"application/json": {"schema": scale_ref}}, "required": true});
        paths.insert(format!("{base}/{{name}}/scale"), scale);
    }
    paths
}

/// The schema the scale subresource uses, with the two it references.
const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";
const SCALE_SCHEMAS: [&str; 3] = [
    SCALE,
    "io.k8s.api.autoscaling.v1.ScaleSpec",
    "io.k8s.api.autoscaling.v1.ScaleStatus",
];

/// Meta schemas (and the scale subresource's) a CRD document references, copied from the
/// built-in apps/v1 document.
fn meta_schemas(builtin_v3: &Value) -> Map<String, Value> {
    let wanted = [
        "ObjectMeta",
        "ListMeta",
        "ManagedFieldsEntry",
        "OwnerReference",
        "Time",
        "FieldsV1",
        "Status",
        "StatusDetails",
        "StatusCause",
        "DeleteOptions",
        "Preconditions",
        "Patch",
    ];
    let mut out = Map::new();
    if let Some(schemas) = builtin_v3
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        let keys = wanted
            .iter()
            .map(|name| format!("{META}.{name}"))
            .chain(SCALE_SCHEMAS.iter().map(|k| (*k).to_owned()));
        for key in keys {
            if let Some(s) = schemas.get(&key) {
                out.insert(key, s.clone());
            }
        }
    }
    out
}

impl Cache {
    fn documents(&self, state: &AppState) -> Arc<Documents> {
        let generation = state.core.registry.generation();
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((g, docs)) = guard.as_ref()
            && *g == generation
        {
            return docs.clone();
        }
        let docs = Arc::new(build(state));
        *guard = Some((generation, docs.clone()));
        docs
    }
}

fn build(state: &AppState) -> Documents {
    let resources = state.core.registry.all();
    let served_builtin: std::collections::BTreeSet<String> = resources
        .iter()
        .filter(|r| r.custom.is_none())
        .map(|r| {
            if r.group.is_empty() {
                "api/v1".to_owned()
            } else {
                format!("apis/{}/{}", r.group, r.version)
            }
        })
        .collect();
    let mut v3 = BTreeMap::new();
    for path in ferry_schema::openapi::v3_paths() {
        if served_builtin.contains(path)
            && let Some(doc) = ferry_schema::openapi::v3(path)
        {
            v3.insert(path.to_owned(), (hash(doc), Bytes::from_static(doc)));
        }
    }
    let customs: Vec<&Arc<ResourceInfo>> =
        resources.iter().filter(|r| r.custom.is_some()).collect();
    if customs.is_empty() {
        return Documents {
            v2: Bytes::from_static(ferry_schema::openapi::v2()),
            v3,
        };
    }
    let meta_doc: Value = ferry_schema::openapi::v3("apis/apps/v1")
        .and_then(|d| serde_json::from_slice(d).ok())
        .unwrap_or(Value::Null);
    let metas = meta_schemas(&meta_doc);
    let mut per_gv: BTreeMap<String, Vec<&Arc<ResourceInfo>>> = BTreeMap::new();
    for info in &customs {
        per_gv
            .entry(format!("apis/{}/{}", info.group, info.version))
            .or_default()
            .push(info);
    }
    for (path, infos) in per_gv {
        let mut schemas = metas.clone();
        let mut paths = Map::new();
        for info in infos {
            schemas.insert(
                definition_name(info, &info.kind),
                custom_schema(info, "#/components/schemas/"),
            );
            schemas.insert(
                definition_name(info, &info.list_kind),
                list_schema(info, "#/components/schemas/"),
            );
            paths.extend(custom_paths(info));
        }
        let doc = json!({
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
            "paths": paths,
            "components": {"schemas": schemas},
        });
        let bytes = serde_json::to_vec(&doc).unwrap_or_default();
        v3.insert(path, (hash(&bytes), Bytes::from(bytes)));
    }
    // v2: the built-in document plus one definition per custom kind.
    let mut v2: Value =
        serde_json::from_slice(ferry_schema::openapi::v2()).unwrap_or_else(|_| json!({}));
    if let Some(defs) = v2.get_mut("definitions").and_then(Value::as_object_mut) {
        for info in &customs {
            defs.insert(
                definition_name(info, &info.kind),
                v2_schema(custom_schema(info, "#/definitions/")),
            );
            defs.insert(
                definition_name(info, &info.list_kind),
                list_schema(info, "#/definitions/"),
            );
        }
    }
    Documents {
        v2: Bytes::from(serde_json::to_vec(&v2).unwrap_or_default()),
        v3,
    }
}

/// OpenAPI v2 has no `nullable`, `anyOf`/`oneOf` handling like v3; the real server strips them.
fn v2_schema(mut schema: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("nullable");
                map.remove("anyOf");
                map.remove("oneOf");
                map.remove("not");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut schema);
    schema
}

pub fn serve(state: &AppState, route: Route, headers: &HeaderMap, _query: &Query) -> Response {
    let docs = state.openapi.documents(state);
    match route {
        Route::V2 => {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let json_ok = accept.is_empty()
                || accept.split(',').any(|c| {
                    let media = c.split(';').next().unwrap_or_default().trim();
                    matches!(media, "application/json" | "*/*" | "application/*")
                });
            if !json_ok {
                return error_response(&ApiError::not_acceptable(accept));
            }
            json_bytes(StatusCode::OK, docs.v2.clone(), "application/json")
        }
        Route::V3Index => {
            let paths: Map<String, Value> = docs
                .v3
                .iter()
                .map(|(p, (h, _))| {
                    (
                        p.clone(),
                        json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={h}")}),
                    )
                })
                .collect();
            json_bytes(
                StatusCode::OK,
                serde_json::to_vec(&json!({"paths": paths})).unwrap_or_default(),
                "application/json",
            )
        }
        Route::V3(path) => match docs.v3.get(&path) {
            Some((_, doc)) => {
                let mut response = json_bytes(StatusCode::OK, doc.clone(), "application/json");
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, immutable"),
                );
                response
            }
            None => error_response(&ApiError::no_route()),
        },
        Route::Unknown => error_response(&ApiError::no_route()),
    }
}
