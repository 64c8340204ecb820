//! The table of served resources: built-ins derived from the official OpenAPI v2 document (paths,
//! actions and group-version-kinds) plus a few facts the spec lacks (short names, categories,
//! which kinds carry `metadata.generation`), and CustomResourceDefinitions added at runtime.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, RwLock},
};

use serde_json::Value;

/// Where the scale subresource reads and writes replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleInfo {
    /// JSON path of the desired replicas, e.g. `.spec.replicas`.
    pub spec_replicas_path: String,
    /// JSON path of the observed replicas, e.g. `.status.replicas`.
    pub status_replicas_path: String,
    /// JSON path of a label selector string (CRDs), or empty for built-ins whose selector is the
    /// structured `.spec.selector`.
    pub label_selector_path: String,
}

/// An additional printer column of a CRD version (`kubectl get` columns).
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

/// One served (group, version, resource).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub list_kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub status_subresource: bool,
    pub scale: Option<ScaleInfo>,
    /// Version objects are stored in (the CRD's storage version; the served version for built-ins).
    pub storage_version: String,
    /// `metadata.generation` is maintained (set to 1 on create, bumped on spec changes).
    pub has_generation: bool,
    /// Set for custom resources: the CRD's name and this version's schema and columns.
    pub custom: Option<Arc<CustomVersion>>,
}

/// What a CRD says about one of its versions.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomVersion {
    pub crd_name: String,
    /// `spec.versions[].schema.openAPIV3Schema`, if any.
    pub schema: Option<Value>,
    pub printer_columns: Vec<PrinterColumn>,
    /// All served versions of this CRD, storage version included.
    pub served_versions: Vec<String>,
}

impl ResourceInfo {
    /// The storage key shared by every version of this resource: `apps/deployments`, `/configmaps`.
    pub fn storage_key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn group_version(&self) -> String {
        self.api_version()
    }

    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    pub fn is_namespace(&self) -> bool {
        self.group.is_empty() && self.plural == "namespaces"
    }
}

/// Facts the OpenAPI document does not carry, as `kubectl api-resources` shows them on a real
/// 1.35 cluster: `(group, plural, short names, categories)`.
const FACTS: &[(&str, &str, &[&str], &[&str])] = &[
    ("", "configmaps", &["cm"], &[]),
    ("", "endpoints", &["ep"], &[]),
    ("", "events", &["ev"], &[]),
    ("", "limitranges", &["limits"], &[]),
    ("", "namespaces", &["ns"], &[]),
    ("", "nodes", &["no"], &[]),
    ("", "persistentvolumeclaims", &["pvc"], &[]),
    ("", "persistentvolumes", &["pv"], &[]),
    ("", "pods", &["po"], &["all"]),
    ("", "replicationcontrollers", &["rc"], &["all"]),
    ("", "resourcequotas", &["quota"], &[]),
    ("", "serviceaccounts", &["sa"], &[]),
    ("", "services", &["svc"], &["all"]),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicies",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicybindings",
        &[],
        &["api-extensions"],
    ),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        &["crd", "crds"],
        &["api-extensions"],
    ),
    (
        "apiregistration.k8s.io",
        "apiservices",
        &[],
        &["api-extensions"],
    ),
    ("apps", "daemonsets", &["ds"], &["all"]),
    ("apps", "deployments", &["deploy"], &["all"]),
    ("apps", "replicasets", &["rs"], &["all"]),
    ("apps", "statefulsets", &["sts"], &["all"]),
    (
        "autoscaling",
        "horizontalpodautoscalers",
        &["hpa"],
        &["all"],
    ),
    ("batch", "cronjobs", &["cj"], &["all"]),
    ("batch", "jobs", &[], &["all"]),
    (
        "certificates.k8s.io",
        "certificatesigningrequests",
        &["csr"],
        &[],
    ),
    ("events.k8s.io", "events", &["ev"], &[]),
    ("networking.k8s.io", "ingresses", &["ing"], &[]),
    ("networking.k8s.io", "networkpolicies", &["netpol"], &[]),
    ("policy", "poddisruptionbudgets", &["pdb"], &[]),
    ("scheduling.k8s.io", "priorityclasses", &["pc"], &[]),
    ("storage.k8s.io", "storageclasses", &["sc"], &[]),
];

/// Built-in kinds whose registry strategy sets `metadata.generation` (the rest leave it unset).
const GENERATION_KINDS: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "ReplicationController"),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apps", "DaemonSet"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("batch", "CronJob"),
    ("batch", "Job"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
];

/// Resources that exist in the spec but are not stored objects, or that need machinery this
/// server does not have (node-level or aggregated APIs): left out of discovery entirely.
const NOT_SERVED: &[(&str, &str)] = &[("", "componentstatuses"), ("", "bindings")];

#[derive(Default)]
struct Collected {
    kind: String,
    namespaced: bool,
    verbs: BTreeSet<String>,
    status: bool,
    scale: bool,
    watch: bool,
}

fn is_ga(version: &str) -> bool {
    version
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn version_number(version: &str) -> u32 {
    version.trim_start_matches('v').parse().unwrap_or(0)
}

/// Derives the built-in resource table from the OpenAPI v2 document: every GA resource that can be
/// created, read and listed, in its newest GA version (HorizontalPodAutoscaler is served as
/// autoscaling/v2 only: the server does not convert between versions of built-ins).
pub fn builtin_resources(swagger: &Value) -> Vec<ResourceInfo> {
    let mut collected: BTreeMap<(String, String, String), Collected> = BTreeMap::new();
    let Some(paths) = swagger.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    for (path, item) in paths {
        let (group, version, rest) = if let Some(rest) = path.strip_prefix("/api/v1/") {
            (String::new(), "v1".to_owned(), rest)
        } else if let Some(rest) = path.strip_prefix("/apis/") {
            let mut parts = rest.splitn(3, '/');
            let (Some(g), Some(v), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            (g.to_owned(), v.to_owned(), rest)
        } else {
            continue;
        };
        if !is_ga(&version) {
            continue;
        }
        let (watch, rest) = match rest.strip_prefix("watch/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let segments: Vec<&str> = rest.split('/').collect();
        let (namespaced, segments) = match segments.as_slice() {
            ["namespaces", "{namespace}", tail @ ..] if !tail.is_empty() => (true, tail.to_vec()),
            _ => (false, segments),
        };
        let (plural, subresource) = match segments.as_slice() {
            [plural] => (*plural, None),
            [plural, "{name}"] => (*plural, None),
            [plural, "{name}", sub] => (*plural, Some(*sub)),
            _ => continue,
        };
        if plural.is_empty() || plural.starts_with('{') {
            continue;
        }
        let entry = collected
            .entry((group.clone(), version.clone(), plural.to_owned()))
            .or_default();
        if watch {
            entry.watch = true;
            continue;
        }
        let Some(ops) = item.as_object() else {
            continue;
        };
        for op in ops.values() {
            let Some(action) = op.get("x-kubernetes-action").and_then(Value::as_str) else {
                continue;
            };
            match subresource {
                Some("status") => entry.status = true,
                Some("scale") => entry.scale = true,
                Some(_) => {}
                None => {
                    if let Some(kind) = op
                        .get("x-kubernetes-group-version-kind")
                        .and_then(|gvk| gvk.get("kind"))
                        .and_then(Value::as_str)
                        && entry.kind.is_empty()
                    {
                        entry.kind = kind.to_owned();
                    }
                    if namespaced {
                        entry.namespaced = true;
                    }
                    let verb = match action {
                        "put" => "update",
                        "post" => "create",
                        "watchlist" => "watch",
                        other => other,
                    };
                    entry.verbs.insert(verb.to_owned());
                }
            }
        }
    }

    // Keep the newest GA version of each (group, plural).
    let mut newest: BTreeMap<(String, String), String> = BTreeMap::new();
    for ((group, version, plural), c) in &collected {
        if c.kind.is_empty()
            || !(c.verbs.contains("get") && c.verbs.contains("list") && c.verbs.contains("create"))
        {
            continue;
        }
        let slot = newest
            .entry((group.clone(), plural.clone()))
            .or_insert_with(|| version.clone());
        if version_number(version) > version_number(slot) {
            *slot = version.clone();
        }
    }

    let mut out = Vec::new();
    for ((group, plural), version) in newest {
        if NOT_SERVED.contains(&(group.as_str(), plural.as_str())) {
            continue;
        }
        let Some(c) = collected.get(&(group.clone(), version.clone(), plural.clone())) else {
            continue;
        };
        let mut verbs: Vec<String> = c.verbs.iter().cloned().collect();
        if c.watch && !verbs.iter().any(|v| v == "watch") {
            verbs.push("watch".into());
        }
        verbs.sort_by_key(|v| verb_order(v));
        let (short_names, categories) = FACTS
            .iter()
            .find(|(g, p, _, _)| *g == group && *p == plural)
            .map(|(_, _, s, c)| (to_strings(s), to_strings(c)))
            .unwrap_or_default();
        let scale = c.scale.then(|| ScaleInfo {
            spec_replicas_path: ".spec.replicas".into(),
            status_replicas_path: ".status.replicas".into(),
            label_selector_path: String::new(),
        });
        out.push(ResourceInfo {
            has_generation: GENERATION_KINDS.contains(&(group.as_str(), c.kind.as_str())),
            list_kind: format!("{}List", c.kind),
            singular: c.kind.to_lowercase(),
            kind: c.kind.clone(),
            namespaced: c.namespaced,
            verbs,
            short_names,
            categories,
            status_subresource: c.status,
            scale,
            storage_version: version.clone(),
            group,
            version,
            plural,
            custom: None,
        });
    }
    out
}

fn to_strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The order the real server lists verbs in.
fn verb_order(verb: &str) -> usize {
    [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ]
    .iter()
    .position(|v| *v == verb)
    .unwrap_or(99)
}

/// Why a CRD cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("customresourcedefinition {name}: {reason}")]
pub struct CrdError {
    pub name: String,
    pub reason: String,
}

/// The resources a CRD object serves: one entry per served version.
pub fn crd_resources(crd: &Value) -> Result<Vec<ResourceInfo>, CrdError> {
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let err = |reason: &str| CrdError {
        name: name.clone(),
        reason: reason.to_owned(),
    };
    let spec = crd.get("spec").ok_or_else(|| err("spec is missing"))?;
    let group = spec
        .get("group")
        .and_then(Value::as_str)
        .ok_or_else(|| err("spec.group is missing"))?;
    let names = spec
        .get("names")
        .ok_or_else(|| err("spec.names is missing"))?;
    let plural = names
        .get("plural")
        .and_then(Value::as_str)
        .ok_or_else(|| err("spec.names.plural is missing"))?;
    let kind = names
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| err("spec.names.kind is missing"))?;
    let singular = names
        .get("singular")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| kind.to_lowercase());
    let list_kind = names
        .get("listKind")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{kind}List"));
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let short_names = strings(names.get("shortNames"));
    let categories = strings(names.get("categories"));
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .ok_or_else(|| err("spec.versions is missing"))?;
    let storage_version = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .and_then(|v| v.get("name").and_then(Value::as_str))
        .ok_or_else(|| err("no version is marked storage: true"))?
        .to_owned();
    let served: Vec<String> = versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let top_subresources = spec.get("subresources");
    let top_columns = spec.get("additionalPrinterColumns");
    let mut out = Vec::new();
    for v in versions {
        if v.get("served").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let Some(version) = v.get("name").and_then(Value::as_str) else {
            continue;
        };
        let subresources = v.get("subresources").or(top_subresources);
        let status_subresource = subresources.and_then(|s| s.get("status")).is_some();
        let scale = subresources
            .and_then(|s| s.get("scale"))
            .map(|s| ScaleInfo {
                spec_replicas_path: s
                    .get("specReplicasPath")
                    .and_then(Value::as_str)
                    .unwrap_or(".spec.replicas")
                    .to_owned(),
                status_replicas_path: s
                    .get("statusReplicasPath")
                    .and_then(Value::as_str)
                    .unwrap_or(".status.replicas")
                    .to_owned(),
                label_selector_path: s
                    .get("labelSelectorPath")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            });
        let columns = v.get("additionalPrinterColumns").or(top_columns);
        let printer_columns = columns
            .and_then(Value::as_array)
            .map(|cols| {
                cols.iter()
                    .map(|c| PrinterColumn {
                        name: c
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        type_: c
                            .get("type")
                            .and_then(Value::as_str)
                            .unwrap_or("string")
                            .to_owned(),
                        format: c
                            .get("format")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        description: c
                            .get("description")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                        json_path: c
                            .get("jsonPath")
                            .or_else(|| c.get("JSONPath"))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let schema = v
            .pointer("/schema/openAPIV3Schema")
            .or_else(|| spec.pointer("/validation/openAPIV3Schema"))
            .cloned();
        out.push(ResourceInfo {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            list_kind: list_kind.clone(),
            plural: plural.to_owned(),
            singular: singular.clone(),
            namespaced,
            verbs: to_strings(&[
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "create",
                "update",
                "watch",
            ]),
            short_names: short_names.clone(),
            categories: categories.clone(),
            status_subresource,
            scale,
            storage_version: storage_version.clone(),
            has_generation: true,
            custom: Some(Arc::new(CustomVersion {
                crd_name: name.clone(),
                schema,
                printer_columns,
                served_versions: served.clone(),
            })),
        });
    }
    Ok(out)
}

#[derive(Default)]
struct RegistryState {
    builtins: Vec<Arc<ResourceInfo>>,
    /// CRD name -> its served versions.
    crds: BTreeMap<String, Vec<Arc<ResourceInfo>>>,
    by_path: HashMap<(String, String, String), Arc<ResourceInfo>>,
    by_kind: HashMap<(String, String, String), Arc<ResourceInfo>>,
    generation: u64,
}

impl RegistryState {
    fn reindex(&mut self) {
        self.by_path.clear();
        self.by_kind.clear();
        let all = self.builtins.iter().chain(self.crds.values().flatten());
        for info in all {
            self.by_path
                .entry((
                    info.group.clone(),
                    info.version.clone(),
                    info.plural.clone(),
                ))
                .or_insert_with(|| info.clone());
            self.by_kind
                .entry((info.group.clone(), info.version.clone(), info.kind.clone()))
                .or_insert_with(|| info.clone());
        }
        self.generation += 1;
    }
}

/// The live resource table: built-ins plus established CRDs. Cheap to clone.
#[derive(Clone, Default)]
pub struct Registry {
    state: Arc<RwLock<RegistryState>>,
}

impl Registry {
    pub fn new(builtins: Vec<ResourceInfo>) -> Self {
        let mut state = RegistryState {
            builtins: builtins.into_iter().map(Arc::new).collect(),
            ..Default::default()
        };
        state.reindex();
        Self {
            state: Arc::new(RwLock::new(state)),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, RegistryState> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, RegistryState> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Looks a resource up by URL parts.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        self.read()
            .by_path
            .get(&(group.to_owned(), version.to_owned(), plural.to_owned()))
            .cloned()
    }

    /// Looks a resource up by apiVersion and kind (owner references, apply bodies).
    pub fn lookup_kind(&self, group: &str, version: &str, kind: &str) -> Option<Arc<ResourceInfo>> {
        self.read()
            .by_kind
            .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))
            .cloned()
    }

    /// Any served version of a (group, kind), preferring the storage version.
    pub fn lookup_group_kind(&self, group: &str, kind: &str) -> Option<Arc<ResourceInfo>> {
        let state = self.read();
        let mut found: Option<Arc<ResourceInfo>> = None;
        for info in state.by_kind.values() {
            if info.group == group && info.kind == kind {
                if info.version == info.storage_version {
                    return Some(info.clone());
                }
                found.get_or_insert_with(|| info.clone());
            }
        }
        found
    }

    /// Every served resource, built-ins first, in a stable order.
    pub fn all(&self) -> Vec<Arc<ResourceInfo>> {
        let state = self.read();
        state
            .builtins
            .iter()
            .chain(state.crds.values().flatten())
            .cloned()
            .collect()
    }

    /// One entry per stored resource (storage version), for controllers that scan everything.
    pub fn storage_resources(&self) -> Vec<Arc<ResourceInfo>> {
        self.all()
            .into_iter()
            .filter(|r| r.version == r.storage_version)
            .collect()
    }

    /// Installs or replaces the resources a CRD serves.
    pub fn set_crd(&self, crd_name: &str, resources: Vec<ResourceInfo>) {
        let mut state = self.write();
        state.crds.insert(
            crd_name.to_owned(),
            resources.into_iter().map(Arc::new).collect(),
        );
        state.reindex();
    }

    pub fn remove_crd(&self, crd_name: &str) {
        let mut state = self.write();
        if state.crds.remove(crd_name).is_some() {
            state.reindex();
        }
    }

    /// Whether a (group, plural) is already served by something other than this CRD.
    pub fn conflicts_with(&self, crd_name: &str, group: &str, plural: &str, kind: &str) -> bool {
        let state = self.read();
        state
            .builtins
            .iter()
            .any(|r| r.group == group && (r.plural == plural || r.kind == kind))
            || state
                .crds
                .iter()
                .filter(|(name, _)| name.as_str() != crd_name)
                .flat_map(|(_, rs)| rs)
                .any(|r| r.group == group && (r.plural == plural || r.kind == kind))
    }

    /// Changes every time the table changes; discovery and OpenAPI caches key on it.
    pub fn generation(&self) -> u64 {
        self.read().generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtins() -> Vec<ResourceInfo> {
        let swagger: Value = serde_json::from_slice(ferry_schema::openapi::v2()).unwrap();
        builtin_resources(&swagger)
    }

    #[test]
    fn derives_the_kinds_the_issue_requires() {
        let all = builtins();
        let find = |g: &str, p: &str| all.iter().find(|r| r.group == g && r.plural == p).cloned();
        for (g, p) in [
            ("", "namespaces"),
            ("", "configmaps"),
            ("", "secrets"),
            ("", "services"),
            ("", "serviceaccounts"),
            ("", "pods"),
            ("", "persistentvolumeclaims"),
            ("", "endpoints"),
            ("", "events"),
            ("", "limitranges"),
            ("", "resourcequotas"),
            ("apps", "deployments"),
            ("apps", "statefulsets"),
            ("apps", "daemonsets"),
            ("apps", "replicasets"),
            ("batch", "jobs"),
            ("batch", "cronjobs"),
            ("rbac.authorization.k8s.io", "roles"),
            ("rbac.authorization.k8s.io", "clusterroles"),
            ("rbac.authorization.k8s.io", "rolebindings"),
            ("rbac.authorization.k8s.io", "clusterrolebindings"),
            ("networking.k8s.io", "ingresses"),
            ("networking.k8s.io", "ingressclasses"),
            ("networking.k8s.io", "networkpolicies"),
            ("policy", "poddisruptionbudgets"),
            ("autoscaling", "horizontalpodautoscalers"),
            ("coordination.k8s.io", "leases"),
            ("storage.k8s.io", "storageclasses"),
            ("scheduling.k8s.io", "priorityclasses"),
            ("events.k8s.io", "events"),
            (
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations",
            ),
            (
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
            ),
            (
                "admissionregistration.k8s.io",
                "validatingadmissionpolicies",
            ),
            (
                "admissionregistration.k8s.io",
                "validatingadmissionpolicybindings",
            ),
            ("apiextensions.k8s.io", "customresourcedefinitions"),
        ] {
            assert!(find(g, p).is_some(), "{g}/{p} is served");
        }
        let deploy = find("apps", "deployments").unwrap();
        assert_eq!(deploy.kind, "Deployment");
        assert!(
            deploy.namespaced
                && deploy.status_subresource
                && deploy.scale.is_some()
                && deploy.has_generation
        );
        assert_eq!(deploy.short_names, ["deploy"]);
        assert_eq!(
            deploy.verbs,
            [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch"
            ]
        );
        assert_eq!(
            find("autoscaling", "horizontalpodautoscalers")
                .unwrap()
                .version,
            "v2"
        );
        let ns = find("", "namespaces").unwrap();
        assert!(!ns.namespaced && ns.status_subresource && !ns.has_generation);
        assert!(!find("", "configmaps").unwrap().status_subresource);
        assert!(find("", "componentstatuses").is_none());
        assert!(
            find("authentication.k8s.io", "tokenreviews").is_none(),
            "create-only virtual resources are not served"
        );
    }

    #[test]
    fn crd_versions_become_resources() {
        let crd = serde_json::json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}}},
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1alpha1", "served": false, "storage": false}
                ]}
        });
        let rs = crd_resources(&crd).unwrap();
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0].storage_version, "v1");
        assert!(rs[0].status_subresource && !rs[1].status_subresource);
        assert_eq!(rs[0].list_kind, "WidgetList");
        assert_eq!(rs[0].singular, "widget");
    }
}
