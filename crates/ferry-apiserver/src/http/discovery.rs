//! Discovery: `/version`, the legacy documents (`/api`, `/api/v1`, `/apis`, `/apis/G`, `/apis/G/V`)
//! and aggregated discovery (`apidiscovery.k8s.io/v2` and `v2beta1`), which kubectl 1.33 and
//! kube-rs ask for first.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use serde_json::{Value, json};

use super::{AppState, error_response, json_bytes, json_value};
use crate::{resources::ResourceInfo, status::ApiError};

/// The Kubernetes version this server implements (its OpenAPI documents are 1.35's).
pub const KUBE_MINOR: &str = "35";
pub const GIT_VERSION: &str = "v1.35.0";

pub enum Route {
    Root,
    Api,
    Apis,
    Group(String),
    GroupVersion(String, String),
}

/// Discovery documents, rebuilt when the resource table changes.
#[derive(Default)]
pub struct Cache {
    inner: Mutex<Option<(u64, Arc<Documents>)>>,
}

/// The resources of one group-version.
type VersionResources = (String, Vec<Arc<ResourceInfo>>);

struct Documents {
    /// group -> versions in preference order -> resources.
    groups: Vec<(String, Vec<VersionResources>)>,
}

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": KUBE_MINOR,
        "emulationMajor": "1",
        "emulationMinor": KUBE_MINOR,
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "34",
        "gitVersion": GIT_VERSION,
        "gitCommit": "ferry",
        "gitTreeState": "clean",
        "buildDate": "2025-12-17T00:00:00Z",
        "goVersion": "go1.25.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// Kubernetes' version ordering: GA before beta before alpha, higher numbers first.
pub fn version_priority(version: &str) -> (u8, i64, i64) {
    let rest = version.strip_prefix('v').unwrap_or(version);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(major) = digits.parse::<i64>() else {
        return (0, 0, 0);
    };
    let tail = &rest[digits.len()..];
    if tail.is_empty() {
        return (3, major, 0);
    }
    for (prefix, rank) in [("beta", 2u8), ("alpha", 1u8)] {
        if let Some(n) = tail.strip_prefix(prefix)
            && let Ok(minor) = n.parse::<i64>()
        {
            return (rank, major, minor);
        }
    }
    (0, 0, 0)
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
        let mut groups: BTreeMap<String, BTreeMap<String, Vec<Arc<ResourceInfo>>>> =
            BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for info in state.core.registry.all() {
            if !groups.contains_key(&info.group) {
                order.push(info.group.clone());
            }
            groups
                .entry(info.group.clone())
                .or_default()
                .entry(info.version.clone())
                .or_default()
                .push(info);
        }
        let docs = Arc::new(Documents {
            groups: order
                .into_iter()
                .filter_map(|g| {
                    let versions = groups.remove(&g)?;
                    let mut versions: Vec<VersionResources> = versions.into_iter().collect();
                    versions.sort_by_key(|v| std::cmp::Reverse(version_priority(&v.0)));
                    for (_, resources) in &mut versions {
                        resources.sort_by(|a, b| a.plural.cmp(&b.plural));
                    }
                    Some((g, versions))
                })
                .collect(),
        });
        *guard = Some((generation, docs.clone()));
        docs
    }
}

fn wants_aggregated(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for clause in accept.split(',') {
        let params: Vec<&str> = clause.split(';').map(str::trim).collect();
        if params.contains(&"g=apidiscovery.k8s.io") && params.contains(&"as=APIGroupDiscoveryList")
        {
            if params.contains(&"v=v2") {
                return Some("v2");
            }
            if params.contains(&"v=v2beta1") {
                return Some("v2beta1");
            }
        }
    }
    None
}

fn verbs(info: &ResourceInfo) -> Vec<String> {
    info.verbs.clone()
}

fn subresources(info: &ResourceInfo) -> Vec<(&'static str, Value, Vec<&'static str>)> {
    let own = json!({"group": info.group, "version": info.version, "kind": info.kind});
    let mut subs = Vec::new();
    if info.is_namespace() {
        subs.push(("finalize", own.clone(), vec!["update"]));
    }
    if info.scale.is_some() {
        subs.push((
            "scale",
            json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}),
            vec!["get", "patch", "update"],
        ));
    }
    if info.status_subresource {
        subs.push(("status", own, vec!["get", "patch", "update"]));
    }
    subs
}

fn aggregated_resource(info: &ResourceInfo) -> Value {
    let mut r = json!({
        "resource": info.plural,
        "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
        "scope": if info.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": info.singular,
        "verbs": verbs(info),
    });
    if !info.short_names.is_empty() {
        r["shortNames"] = json!(info.short_names);
    }
    if !info.categories.is_empty() {
        r["categories"] = json!(info.categories);
    }
    let subs: Vec<Value> = subresources(info)
        .into_iter()
        .map(|(name, kind, verbs)| json!({"subresource": name, "responseKind": kind, "verbs": verbs}))
        .collect();
    if !subs.is_empty() {
        r["subresources"] = json!(subs);
    }
    r
}

fn aggregated(docs: &Documents, legacy: bool, version: &str) -> Value {
    let items: Vec<Value> = docs
        .groups
        .iter()
        .filter(|(g, _)| g.is_empty() == legacy)
        .map(|(g, versions)| {
            json!({
                "metadata": {"name": g, "creationTimestamp": null},
                "versions": versions.iter().map(|(v, resources)| json!({
                    "version": v,
                    "resources": resources.iter().map(|r| aggregated_resource(r)).collect::<Vec<_>>(),
                    "freshness": "Current",
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

fn group_document(name: &str, versions: &[(String, Vec<Arc<ResourceInfo>>)]) -> Value {
    let listed: Vec<Value> = versions
        .iter()
        .map(|(v, _)| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({
        "name": name,
        "versions": listed,
        "preferredVersion": listed.first().cloned().unwrap_or(Value::Null),
    })
}

fn resource_list(group_version: &str, resources: &[Arc<ResourceInfo>]) -> Value {
    let mut out = Vec::new();
    for info in resources {
        let mut r = json!({
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": verbs(info),
        });
        if !info.short_names.is_empty() {
            r["shortNames"] = json!(info.short_names);
        }
        if !info.categories.is_empty() {
            r["categories"] = json!(info.categories);
        }
        out.push(r);
        for (sub, kind, verbs) in subresources(info) {
            let mut s = json!({
                "name": format!("{}/{sub}", info.plural),
                "singularName": "",
                "namespaced": info.namespaced,
                "kind": kind["kind"],
                "verbs": verbs,
            });
            if kind["group"] != json!(info.group) {
                s["group"] = kind["group"].clone();
                s["version"] = kind["version"].clone();
            }
            out.push(s);
        }
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": out})
}

pub fn serve(state: &AppState, route: Route, headers: &HeaderMap) -> Response {
    let docs = state.discovery.documents(state);
    match route {
        Route::Root => {
            let mut paths = vec!["/api".to_owned(), "/api/v1".to_owned(), "/apis".to_owned()];
            for (g, versions) in docs.groups.iter().filter(|(g, _)| !g.is_empty()) {
                paths.push(format!("/apis/{g}"));
                for (v, _) in versions {
                    paths.push(format!("/apis/{g}/{v}"));
                }
            }
            paths.extend(
                [
                    "/healthz",
                    "/livez",
                    "/openapi/v2",
                    "/openapi/v3",
                    "/readyz",
                    "/version",
                ]
                .map(str::to_owned),
            );
            json_value(StatusCode::OK, &json!({"paths": paths}))
        }
        Route::Api | Route::Apis => {
            let legacy = matches!(route, Route::Api);
            if let Some(version) = wants_aggregated(headers) {
                let body =
                    serde_json::to_vec(&aggregated(&docs, legacy, version)).unwrap_or_default();
                let content_type = if version == "v2" {
                    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
                } else {
                    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
                };
                return json_bytes(StatusCode::OK, body, content_type);
            }
            if legacy {
                json_value(
                    StatusCode::OK,
                    &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}),
                )
            } else {
                let groups: Vec<Value> = docs
                    .groups
                    .iter()
                    .filter(|(g, _)| !g.is_empty())
                    .map(|(g, versions)| group_document(g, versions))
                    .collect();
                json_value(
                    StatusCode::OK,
                    &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
                )
            }
        }
        Route::Group(group) => match docs
            .groups
            .iter()
            .find(|(g, _)| *g == group && !g.is_empty())
        {
            Some((g, versions)) => {
                let mut doc = group_document(g, versions);
                doc["kind"] = json!("APIGroup");
                doc["apiVersion"] = json!("v1");
                json_value(StatusCode::OK, &doc)
            }
            None => error_response(&ApiError::no_route()),
        },
        Route::GroupVersion(group, version) => {
            let found = docs
                .groups
                .iter()
                .find(|(g, _)| *g == group)
                .and_then(|(_, versions)| versions.iter().find(|(v, _)| *v == version));
            match found {
                Some((_, resources)) => {
                    let gv = if group.is_empty() {
                        version.clone()
                    } else {
                        format!("{group}/{version}")
                    };
                    json_value(StatusCode::OK, &resource_list(&gv, resources))
                }
                None => error_response(&ApiError::no_route()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_like_kubernetes() {
        let mut v = vec!["v1alpha1", "v1", "v2beta1", "v1beta2", "v2", "foo"];
        v.sort_by_key(|x| std::cmp::Reverse(version_priority(x)));
        assert_eq!(v, ["v2", "v1", "v2beta1", "v1beta2", "v1alpha1", "foo"]);
    }
}
