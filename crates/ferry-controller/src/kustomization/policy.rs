//! The opt-in policy gate (ferry's addition; neither Flux nor Argo CD has one): OPA Gatekeeper
//! ConstraintTemplates and constraints are evaluated on the rendered objects before anything is
//! applied, as Gatekeeper's admission webhook would evaluate them on each apply request. A
//! `deny` violation (or an evaluation that could not run) stops the apply with reason
//! PolicyViolation naming the object and the constraint; `warn` and `dryrun` violations are
//! reported in an event and the apply goes on.
//!
//! # Opting in
//!
//! Per Kustomization, with one or both annotations (a Flux configuration without them behaves
//! exactly as under Flux):
//! - `ferry.dev/policy-path: <dir in the source>`: the templates and constraints kept in that
//!   directory of the source (as `ferry policy check --policies` reads them). Policies travel
//!   with the manifests: a pull request changes both, and the gate works without Gatekeeper.
//! - `ferry.dev/policy: cluster`: the templates and constraints installed in the cluster the
//!   Kustomization applies to, read as Gatekeeper holds them (`templates.gatekeeper.sh/v1`
//!   ConstraintTemplates, then for each template's kind the `constraints.gatekeeper.sh/v1beta1`
//!   objects of that kind). This is the choice of an operator who already runs Gatekeeper: the
//!   apply is refused before it starts instead of failing half-way in the webhook, and audit-only
//!   (`dryrun`) or `warn` constraints show up in the Kustomization's events. Asking for the
//!   cluster's constraints where Gatekeeper is not installed is an error, never a silent pass.
//!
//! With both, the two sets are evaluated together (a template kind defined in both places is an
//! error, as two templates of one kind would be in Gatekeeper).
//!
//! # What templates see
//!
//! Each rendered object is reviewed as Gatekeeper's webhook would see ferry's apply: `UPDATE`
//! with the live object as `oldObject` when an object with the same group, kind, namespace and
//! name exists in the cluster, else `CREATE`. Referential data (`data.inventory`) holds the live
//! objects Gatekeeper would have synced, then the rendered objects replacing their live
//! versions (the inventory as it will be once the apply is done). The kinds synced are those of
//! Gatekeeper's `gatekeeper-system/config` `spec.sync.syncOnly` and of its SyncSets when the
//! cluster has them, else the kinds of the rendered objects; Namespaces are always read (for
//! `namespaceSelector`). Live objects are read with one paginated list per kind, bounded by
//! [`MAX_LIVE_OBJECTS`], without `metadata.managedFields` (bulk no policy reads). Live objects
//! are read only for templates that use `data.inventory`, besides the rendered kinds' own
//! (for `oldObject`).
//!
//! In the controller's own cluster the reads use the controller's identity (as Gatekeeper's
//! sync uses its own), so a Kustomization impersonating a narrow service account is still
//! checked against the whole inventory; on a remote cluster (`spec.kubeConfig`) they use the
//! kubeconfig's identity.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    path::Path,
};

use ferry_apply::{
    Resources,
    object::Gvk,
    resources::{ResolveError, ResolvedKind},
};
use ferry_policy::{Inventory, Outcome, PolicySet, Review};
use kube::{
    Api, Client,
    api::{DynamicObject, ListParams},
};
use serde_json::Value;

use crate::cpu::CpuBound;

/// The annotation that names the policies directory in the source.
pub const POLICY_PATH_ANNOTATION: &str = "ferry.dev/policy-path";
/// The annotation that takes the constraints of the cluster (value [`POLICY_FROM_CLUSTER`]).
pub const POLICY_ANNOTATION: &str = "ferry.dev/policy";
/// The value of [`POLICY_ANNOTATION`] that reads Gatekeeper's objects from the cluster.
pub const POLICY_FROM_CLUSTER: &str = "cluster";

/// Most live objects kept for one check (inventory plus old objects). Past it the check fails:
/// a truncated inventory would let referential violations through. Narrow what is synced with
/// Gatekeeper's Config `spec.sync.syncOnly` if a cluster has more.
pub const MAX_LIVE_OBJECTS: usize = 50_000;
/// Most ConstraintTemplates plus constraints read from the cluster.
pub const MAX_CLUSTER_POLICIES: usize = 10_000;
/// Objects asked for per list request.
const PAGE_SIZE: u32 = 500;
/// Where Gatekeeper keeps its Config (`config.gatekeeper.sh/v1alpha1`, named `config`).
const GATEKEEPER_NAMESPACE: &str = "gatekeeper-system";

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "annotation {POLICY_ANNOTATION} has the unknown value {value:?} (the only value is \"{POLICY_FROM_CLUSTER}\")"
    )]
    UnknownSource { value: String },
    #[error("policy path {path}: {reason}")]
    PolicyPath { path: String, reason: String },
    #[error(transparent)]
    Load(#[from] ferry_policy::load::LoadError),
    #[error(
        "the cluster does not serve templates.gatekeeper.sh/v1 ConstraintTemplate, so its constraints cannot be read: is OPA Gatekeeper installed?"
    )]
    GatekeeperMissing,
    #[error("discovery of {kind} failed: {source}")]
    Discovery { kind: String, source: ResolveError },
    #[error("listing {kind} failed: {source}")]
    List {
        kind: String,
        source: Box<kube::Error>,
    },
    #[error("reading {object} failed: {source}")]
    Get {
        object: String,
        source: Box<kube::Error>,
    },
    #[error(
        "more than {limit} {what} to read from the cluster for the policy check (narrow Gatekeeper's sync.syncOnly)"
    )]
    TooMany { what: String, limit: usize },
    #[error(transparent)]
    Policies(#[from] ferry_policy::Error),
    #[error("the policy check task failed: {0}")]
    Task(String),
}

/// Where a Kustomization's gate takes its policies from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// A directory of the source ([`POLICY_PATH_ANNOTATION`]).
    pub path: Option<String>,
    /// The cluster's templates and constraints ([`POLICY_ANNOTATION`]: `cluster`).
    pub cluster: bool,
}

impl Gate {
    /// The gate the annotations ask for; `None` when it is off.
    pub fn from_annotations(
        annotations: &BTreeMap<String, String>,
    ) -> Result<Option<Gate>, PolicyError> {
        let cluster = match annotations.get(POLICY_ANNOTATION).map(|v| v.trim()) {
            None => false,
            Some(POLICY_FROM_CLUSTER) => true,
            Some(other) => {
                return Err(PolicyError::UnknownSource {
                    value: other.to_owned(),
                });
            }
        };
        let path = annotations.get(POLICY_PATH_ANNOTATION).cloned();
        Ok((cluster || path.is_some()).then_some(Gate { path, cluster }))
    }
}

/// What the gate decided.
pub enum Verdict {
    /// Nothing blocks; the messages of non-blocking violations, if any, to report.
    Pass(Vec<String>),
    /// The apply must not happen.
    Deny(String),
}

/// Runs the gate: reads the policies (`artifact/<path>` and/or the cluster's), the live objects
/// they need, and evaluates them on `objects`, the rendered objects about to be applied.
pub async fn check(
    cpu: &CpuBound,
    gate: &Gate,
    artifact: &Path,
    client: &Client,
    resources: &Resources,
    objects: &[Value],
) -> Result<Verdict, PolicyError> {
    let mut documents = Vec::new();
    if gate.cluster {
        documents.extend(cluster_policies(client, resources).await?);
    }
    let path = gate.path.clone();
    let artifact = artifact.to_path_buf();
    let set = blocking(cpu, move || {
        if let Some(path) = path {
            documents.extend(source_policies(&artifact, &path)?);
        }
        Ok(PolicySet::from_objects(documents)?)
    })
    .await?;
    let live = live_objects(client, resources, objects, uses_inventory(&set)).await?;
    let objects = objects.to_vec();
    blocking(cpu, move || {
        let (reviews, inventory) = live.reviews_and_inventory(objects);
        Ok(verdict(&set.evaluate(&reviews, &inventory)))
    })
    .await
}

async fn blocking<T: Send + 'static>(
    cpu: &CpuBound,
    work: impl FnOnce() -> Result<T, PolicyError> + Send + 'static,
) -> Result<T, PolicyError> {
    cpu.run(work)
        .await
        .map_err(|e| PolicyError::Task(e.to_string()))?
}

/// The templates and constraints of `artifact/<policy_path>` (every YAML file under it).
pub fn source_policies(artifact: &Path, policy_path: &str) -> Result<Vec<Value>, PolicyError> {
    let dir = super::build::build_dir(artifact, Some(policy_path)).map_err(|e| {
        PolicyError::PolicyPath {
            path: policy_path.to_owned(),
            reason: e.to_string(),
        }
    })?;
    let documents = ferry_policy::load::read_dir(&dir, Some(artifact))?;
    Ok(documents.into_iter().map(|d| d.value).collect())
}

/// Whether any template reads `data.inventory`, so that live objects beyond the rendered
/// objects' own are worth reading.
pub fn uses_inventory(set: &PolicySet) -> bool {
    set.templates().iter().any(|t| t.uses_inventory())
}

/// The ConstraintTemplates of the cluster and, for each, the constraints of its kind, as
/// Gatekeeper holds them. [`PolicyError::GatekeeperMissing`] when the cluster does not serve
/// ConstraintTemplates. A template whose constraint kind is not served yet (Gatekeeper creates
/// that CRD once the template compiles) has no constraints.
pub async fn cluster_policies(
    client: &Client,
    resources: &Resources,
) -> Result<Vec<Value>, PolicyError> {
    let template_gvk = Gvk::from_api_version("templates.gatekeeper.sh/v1", "ConstraintTemplate");
    let resolved = match resources.resolve(client, &template_gvk).await {
        Ok(resolved) => resolved,
        Err(ResolveError::NotServed { .. }) => return Err(PolicyError::GatekeeperMissing),
        Err(source) => {
            return Err(PolicyError::Discovery {
                kind: template_gvk.to_string(),
                source,
            });
        }
    };
    let mut budget = Budget::new("ConstraintTemplates and constraints", MAX_CLUSTER_POLICIES);
    let templates = list(client, &resolved, &template_gvk, &mut budget, |_| true).await?;
    let mut documents = Vec::with_capacity(templates.len());
    for template in &templates {
        let kind = template
            .pointer("/spec/crd/spec/names/kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if kind.is_empty() {
            continue;
        }
        let gvk = Gvk::from_api_version("constraints.gatekeeper.sh/v1beta1", kind);
        match resources.resolve(client, &gvk).await {
            Ok(resolved) => {
                documents.extend(list(client, &resolved, &gvk, &mut budget, |_| true).await?);
            }
            Err(ResolveError::NotServed { .. }) => {
                tracing::debug!(%kind, "no constraint CRD for this template yet: no constraints");
            }
            Err(source) => {
                return Err(PolicyError::Discovery {
                    kind: gvk.to_string(),
                    source,
                });
            }
        }
    }
    documents.splice(0..0, templates);
    Ok(documents)
}

/// Identity of an object across its versions: group, kind, namespace (empty when
/// cluster-scoped), name.
type Identity = (String, String, String, String);

/// Live objects read for one check: those for `data.inventory` and the live versions of the
/// rendered objects (`oldObject`).
#[derive(Debug, Default)]
pub struct LiveObjects {
    /// Live objects Gatekeeper would have synced.
    inventory: Vec<Value>,
    /// Live versions of rendered objects whose kind is not synced (kept for `oldObject` only).
    counterparts: Vec<Value>,
    /// Index of every object above by identity (`true`: in `inventory`).
    by_identity: HashMap<Identity, (bool, usize)>,
    /// Kinds the cluster serves cluster-scoped (rendered namespaces on them are dropped, as the
    /// apply drops them).
    cluster_scoped: HashSet<(String, String)>,
}

impl LiveObjects {
    /// Number of live objects held.
    pub fn len(&self) -> usize {
        self.inventory.len() + self.counterparts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live object with the identity of `object`, if any.
    pub fn live_version_of(&self, object: &Value) -> Option<&Value> {
        let (in_inventory, index) = *self.by_identity.get(&self.identity(object)?)?;
        if in_inventory {
            self.inventory.get(index)
        } else {
            self.counterparts.get(index)
        }
    }

    /// The reviews of the rendered objects (`UPDATE` against their live version, else
    /// `CREATE`), in `rendered` order, and the inventory: live objects, then the rendered ones
    /// replacing them.
    pub fn reviews_and_inventory(&self, rendered: Vec<Value>) -> (Vec<Review>, Inventory) {
        let rendered: Vec<Value> = rendered.into_iter().map(|o| self.normalise(o)).collect();
        let mut inventory = Inventory::new();
        inventory.extend(self.inventory.iter().cloned());
        inventory.extend(rendered.iter().cloned());
        let reviews = rendered
            .into_iter()
            .map(|object| match self.live_version_of(&object) {
                Some(live) => {
                    let live = live.clone();
                    Review::update(object, live)
                }
                None => Review::create(object),
            })
            .collect();
        (reviews, inventory)
    }

    fn identity(&self, object: &Value) -> Option<Identity> {
        let gvk = ferry_apply::object::gvk(object).ok()?;
        let name = ferry_apply::object::name(object)?;
        let namespace = if self
            .cluster_scoped
            .contains(&(gvk.group.clone(), gvk.kind.clone()))
        {
            ""
        } else {
            ferry_apply::object::namespace(object).unwrap_or_default()
        };
        Some((gvk.group, gvk.kind, namespace.to_owned(), name.to_owned()))
    }

    /// Drops the namespace of a cluster-scoped object, as the apply does.
    fn normalise(&self, mut object: Value) -> Value {
        if let Ok(gvk) = ferry_apply::object::gvk(&object)
            && self.cluster_scoped.contains(&(gvk.group, gvk.kind))
            && let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.remove("namespace");
        }
        object
    }
}

/// Reads the live objects the check needs: the kinds of `rendered` (for `oldObject` and, unless
/// Gatekeeper's sync configuration says otherwise, the inventory) and Namespaces; with
/// `referential`, also the kinds Gatekeeper is configured to sync.
pub async fn live_objects(
    client: &Client,
    resources: &Resources,
    rendered: &[Value],
    referential: bool,
) -> Result<LiveObjects, PolicyError> {
    let rendered_kinds: BTreeSet<Gvk> = rendered
        .iter()
        .filter_map(|o| ferry_apply::object::gvk(o).ok())
        .collect();
    let namespace_gvk = Gvk::from_api_version("v1", "Namespace");
    let synced: BTreeSet<Gvk> = match referential {
        true => sync_kinds(client, resources)
            .await?
            .unwrap_or_else(|| rendered_kinds.clone()),
        false => BTreeSet::new(),
    };
    let mut to_list: BTreeSet<Gvk> = rendered_kinds.clone();
    to_list.extend(synced.iter().cloned());
    to_list.insert(namespace_gvk.clone());

    let mut live = LiveObjects::default();
    let mut resolved_kinds = Vec::with_capacity(to_list.len());
    for gvk in to_list {
        match resources.resolve(client, &gvk).await {
            Ok(resolved) => {
                if !resolved.namespaced {
                    live.cluster_scoped
                        .insert((gvk.group.clone(), gvk.kind.clone()));
                }
                resolved_kinds.push((gvk, resolved));
            }
            // Not served (yet): a CRD among the rendered objects, say. Nothing live to read.
            Err(ResolveError::NotServed { .. }) => {}
            Err(source) => {
                return Err(PolicyError::Discovery {
                    kind: gvk.to_string(),
                    source,
                });
            }
        }
    }
    let wanted: HashSet<Identity> = rendered.iter().filter_map(|o| live.identity(o)).collect();
    let mut budget = Budget::new("live objects", MAX_LIVE_OBJECTS);
    for (gvk, resolved) in resolved_kinds {
        let in_inventory = gvk == namespace_gvk || synced.contains(&gvk);
        let objects = if in_inventory {
            list(client, &resolved, &gvk, &mut budget, |_| true).await?
        } else {
            list(client, &resolved, &gvk, &mut budget, |o| {
                live.identity(o).is_some_and(|id| wanted.contains(&id))
            })
            .await?
        };
        for object in objects {
            let Some(identity) = live.identity(&object) else {
                continue;
            };
            let held = if in_inventory {
                &mut live.inventory
            } else {
                &mut live.counterparts
            };
            live.by_identity
                .insert(identity, (in_inventory, held.len()));
            held.push(object);
        }
    }
    Ok(live)
}

/// The kinds Gatekeeper is configured to sync into its inventory: `spec.sync.syncOnly` of the
/// Config `gatekeeper-system/config` and `spec.gvks` of every SyncSet. `None` when the cluster
/// configures no sync (no Config with `spec.sync`, no SyncSet).
async fn sync_kinds(
    client: &Client,
    resources: &Resources,
) -> Result<Option<BTreeSet<Gvk>>, PolicyError> {
    let mut configured = false;
    let mut kinds = BTreeSet::new();
    let config_gvk = Gvk::from_api_version("config.gatekeeper.sh/v1alpha1", "Config");
    if let Some(resolved) = resolve_optional(client, resources, &config_gvk).await? {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), GATEKEEPER_NAMESPACE, &resolved.resource);
        let config = api
            .get_opt("config")
            .await
            .map_err(|source| PolicyError::Get {
                object: format!("Config {GATEKEEPER_NAMESPACE}/config"),
                source: Box::new(source),
            })?;
        if let Some(sync) = config.as_ref().and_then(|c| c.data.pointer("/spec/sync")) {
            configured = true;
            kinds.extend(gvks(sync.get("syncOnly")));
        }
    }
    let syncset_gvk = Gvk::from_api_version("syncset.gatekeeper.sh/v1alpha1", "SyncSet");
    if let Some(resolved) = resolve_optional(client, resources, &syncset_gvk).await? {
        let mut budget = Budget::new("SyncSets", MAX_CLUSTER_POLICIES);
        for syncset in list(client, &resolved, &syncset_gvk, &mut budget, |_| true).await? {
            configured = true;
            kinds.extend(gvks(syncset.pointer("/spec/gvks")));
        }
    }
    Ok(configured.then_some(kinds))
}

/// `[{group, version, kind}]` as Gatekeeper's sync configuration lists kinds.
fn gvks(list: Option<&Value>) -> impl Iterator<Item = Gvk> + '_ {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let field = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or_default();
            let (version, kind) = (field("version"), field("kind"));
            (!version.is_empty() && !kind.is_empty()).then(|| Gvk {
                group: field("group").to_owned(),
                version: version.to_owned(),
                kind: kind.to_owned(),
            })
        })
}

async fn resolve_optional(
    client: &Client,
    resources: &Resources,
    gvk: &Gvk,
) -> Result<Option<ResolvedKind>, PolicyError> {
    match resources.resolve(client, gvk).await {
        Ok(resolved) => Ok(Some(resolved)),
        Err(ResolveError::NotServed { .. }) => Ok(None),
        Err(source) => Err(PolicyError::Discovery {
            kind: gvk.to_string(),
            source,
        }),
    }
}

/// How many more objects may be kept.
struct Budget {
    what: &'static str,
    limit: usize,
    left: usize,
}

impl Budget {
    fn new(what: &'static str, limit: usize) -> Self {
        Self {
            what,
            limit,
            left: limit,
        }
    }

    fn take(&mut self) -> Result<(), PolicyError> {
        self.left = self.left.checked_sub(1).ok_or(PolicyError::TooMany {
            what: self.what.to_owned(),
            limit: self.limit,
        })?;
        Ok(())
    }
}

/// Every object of a kind in all namespaces, page by page, with apiVersion and kind set (list
/// items of built-in kinds come without them) and without managedFields; only those `keep`
/// accepts are kept and counted against `budget`.
async fn list(
    client: &Client,
    resolved: &ResolvedKind,
    gvk: &Gvk,
    budget: &mut Budget,
    keep: impl Fn(&Value) -> bool,
) -> Result<Vec<Value>, PolicyError> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resolved.resource);
    let api_version = gvk.api_version();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    let mut kept = Vec::new();
    loop {
        let page = api
            .list(&params)
            .await
            .map_err(|source| PolicyError::List {
                kind: gvk.to_string(),
                source: Box::new(source),
            })?;
        for item in page.items {
            let mut object =
                serde_json::to_value(item).expect("a DynamicObject always serialises to JSON");
            if let Some(fields) = object.as_object_mut() {
                fields.insert("apiVersion".into(), Value::String(api_version.clone()));
                fields.insert("kind".into(), Value::String(gvk.kind.clone()));
            }
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
            if keep(&object) {
                budget.take()?;
                kept.push(object);
            }
        }
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(kept),
        }
    }
}

/// The verdict of an evaluation: deny when any `deny` violation or evaluation error occurred.
pub fn verdict(outcome: &Outcome) -> Verdict {
    let lines: Vec<String> = outcome
        .violations
        .iter()
        .map(|v| {
            format!(
                "{} violates {}/{} ({}): {}",
                v.object, v.constraint_kind, v.constraint, v.action, v.message
            )
        })
        .chain(outcome.errors.iter().map(|e| e.to_string()))
        .collect();
    if outcome.denies() {
        Verdict::Deny(lines.join("\n"))
    } else {
        Verdict::Pass(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_annotations_choose_the_gate() {
        assert_eq!(Gate::from_annotations(&annotations(&[])).unwrap(), None);
        assert_eq!(
            Gate::from_annotations(&annotations(&[(POLICY_PATH_ANNOTATION, "./policies")]))
                .unwrap(),
            Some(Gate {
                path: Some("./policies".into()),
                cluster: false
            })
        );
        assert_eq!(
            Gate::from_annotations(&annotations(&[
                (POLICY_ANNOTATION, "cluster"),
                (POLICY_PATH_ANNOTATION, "p")
            ]))
            .unwrap(),
            Some(Gate {
                path: Some("p".into()),
                cluster: true
            })
        );
        let err = Gate::from_annotations(&annotations(&[(POLICY_ANNOTATION, "clutser")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"clutser\""), "{err}");
    }

    #[test]
    fn rendered_objects_with_a_live_version_are_updates_and_replace_it_in_the_inventory() {
        let live_cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "ns", "labels": {"team": "old"}}});
        let live_ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}});
        let mut live = LiveObjects::default();
        live.cluster_scoped
            .insert((String::new(), "Namespace".to_owned()));
        for (i, object) in [live_cm, live_ns].into_iter().enumerate() {
            let id = live.identity(&object).unwrap();
            live.by_identity.insert(id, (true, i));
            live.inventory.push(object);
        }
        let rendered = vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "a", "namespace": "ns", "labels": {"team": "new"}}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "ns"}}),
            // A namespace on a cluster-scoped kind is dropped, as the apply drops it.
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns", "namespace": "x"}}),
        ];
        let (reviews, inventory) = live.reviews_and_inventory(rendered);
        assert_eq!(reviews[0].operation_str(), "UPDATE");
        assert_eq!(
            reviews[0].old_object.as_ref().unwrap()["metadata"]["labels"]["team"],
            "old"
        );
        assert_eq!(reviews[1].operation_str(), "CREATE");
        assert_eq!(reviews[2].operation_str(), "UPDATE");
        assert!(reviews[2].object["metadata"].get("namespace").is_none());
        let doc = inventory.to_json();
        assert_eq!(
            doc["namespace"]["ns"]["v1"]["ConfigMap"]["a"]["metadata"]["labels"]["team"],
            "new"
        );
        assert_eq!(inventory.len(), 3);
    }

    #[test]
    fn sync_kinds_are_read_as_gatekeeper_lists_them() {
        let list = json!([{"group": "networking.k8s.io", "version": "v1", "kind": "Ingress"},
            {"group": "", "version": "v1", "kind": "Namespace"}, {"kind": "NoVersion"}]);
        let kinds: Vec<Gvk> = gvks(Some(&list)).collect();
        assert_eq!(
            kinds,
            vec![
                Gvk::from_api_version("networking.k8s.io/v1", "Ingress"),
                Gvk::from_api_version("v1", "Namespace")
            ]
        );
    }
}
