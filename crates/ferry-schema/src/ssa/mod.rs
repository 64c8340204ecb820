//! Server-side apply and managed fields, as sigs.k8s.io/structured-merge-diff and the API
//! server's field manager do them.
//!
//! - [`apply`]: merge an applied configuration into the live object (granular/atomic maps, list
//!   types atomic/set/map), detect conflicts with other managers (409 unless `force`, which takes
//!   ownership), remove fields the applier owned before and omits now unless someone else owns
//!   them, and record the `Apply` entry in `metadata.managedFields`.
//! - [`record_update`]: for create/update/patch, give the manager (operation `Update`) the fields it
//!   changed, taking them from other managers.
//!
//! Relationships come from the schema: `x-kubernetes-list-type` (else a `merge` patch strategy
//! with a merge key makes a map list, without one a set), `x-kubernetes-map-type`; without a
//! schema maps are granular and lists atomic (structured-merge-diff's "deduced" type).

pub mod fieldset;

use serde_json::{Map, Value, json};

pub use fieldset::{FieldSet, FieldsV1Error, Path, PathElement, display_path};

use crate::model::{ListType, MapType, Schema};

/// Who is writing and how.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The field manager (`kubectl`, `helm`, `kube-controller-manager`...).
    pub manager: &'a str,
    /// `None` for the main resource, `Some("status")` / `Some("scale")` for subresources.
    pub subresource: Option<&'a str>,
    /// `apps/v1`: recorded in the entry (the version of the request).
    pub api_version: &'a str,
    /// RFC 3339 time to record (`2025-01-02T03:04:05Z`).
    pub now: &'a str,
    /// The kind has a status subresource: `status` is not owned through the main resource.
    pub status_subresource: bool,
}

/// One conflict: a field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The manager as the API server prints it: `"kubectl" using apps/v1`.
    pub manager: String,
    /// The raw manager name.
    pub manager_name: String,
    /// `.spec.replicas`.
    pub field: String,
}

/// An apply refused because of conflicts (HTTP 409, reason `Conflict`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", conflict_message(.conflicts))]
pub struct Conflicts {
    pub conflicts: Vec<Conflict>,
}

impl Conflicts {
    /// The `details.causes` of the Status, as `metav1.StatusCause` serializes them: reason
    /// `FieldManagerConflict`, message `conflict with "m"`, field `.spec.replicas`.
    pub fn causes(&self) -> Vec<Value> {
        self.conflicts
            .iter()
            .map(|c| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {}", c.manager), "field": c.field}))
            .collect()
    }
}

fn conflict_message(conflicts: &[Conflict]) -> String {
    if conflicts.len() == 1 {
        let c = &conflicts[0];
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager, c.field
        );
    }
    let mut managers: Vec<&str> = conflicts.iter().map(|c| c.manager.as_str()).collect();
    managers.sort();
    managers.dedup();
    let mut lines = Vec::new();
    for m in managers {
        lines.push(format!("conflicts with {m}:"));
        for c in conflicts.iter().filter(|c| c.manager == m) {
            lines.push(format!("- {}", c.field));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// An apply or update that cannot be processed.
#[derive(Debug, thiserror::Error)]
pub enum SsaError {
    #[error(transparent)]
    Conflicts(#[from] Conflicts),
    #[error("metadata.managedFields: {0}")]
    ManagedFields(String),
    #[error("applied configuration must be an object")]
    NotAnObject,
}

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Option<String>,
    subresource: Option<String>,
    set: FieldSet,
}

impl Entry {
    fn decode(v: &Value) -> Result<Entry, SsaError> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let set = match v.get("fieldsV1") {
            Some(f) => {
                FieldSet::from_fields_v1(f).map_err(|e| SsaError::ManagedFields(e.to_string()))?
            }
            None => FieldSet::new(),
        };
        Ok(Entry {
            manager: s("manager").unwrap_or_default(),
            operation: s("operation")
                .ok_or_else(|| SsaError::ManagedFields("entry without operation".into()))?,
            api_version: s("apiVersion").unwrap_or_default(),
            time: s("time"),
            subresource: s("subresource").filter(|s| !s.is_empty()),
            set,
        })
    }

    fn encode(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), json!(self.manager));
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        if let Some(t) = &self.time {
            m.insert("time".into(), json!(t));
        }
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), self.set.to_fields_v1());
        if let Some(s) = &self.subresource {
            m.insert("subresource".into(), json!(s));
        }
        Value::Object(m)
    }

    fn is(&self, manager: &str, operation: &str, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }

    /// As the API server prints a manager in conflict messages.
    fn display(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            s = format!("{s} with subresource {sub:?}");
        }
        if self.operation == "Update" {
            // kubectl shows `conflict with "kubectl-client-side-apply" using apps/v1`.
            s = format!("{s} using {}", self.api_version);
        }
        s
    }
}

fn decode_entries(obj: Option<&Value>) -> Result<Option<Vec<Entry>>, SsaError> {
    match obj.and_then(|o| o.pointer("/metadata/managedFields")) {
        Some(Value::Array(items)) => Ok(Some(
            items.iter().map(Entry::decode).collect::<Result<_, _>>()?,
        )),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(SsaError::ManagedFields("must be a list".into())),
    }
}

/// The API server's order: operation, then time, then manager, then apiVersion.
fn sort_entries(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        a.operation
            .cmp(&b.operation)
            .then_with(|| a.time.cmp(&b.time))
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| a.api_version.cmp(&b.api_version))
    });
}

fn write_entries(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.set.is_empty());
    sort_entries(&mut entries);
    let encoded: Vec<Value> = entries.iter().map(Entry::encode).collect();
    if let Value::Object(o) = obj {
        let meta = o.entry("metadata").or_insert_with(|| json!({}));
        if let Value::Object(meta) = meta {
            if encoded.is_empty() {
                meta.remove("managedFields");
            } else {
                meta.insert("managedFields".into(), Value::Array(encoded));
            }
        }
    }
}

/// Fields never owned: identity and server-set metadata.
const IGNORED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// Leaves out of `set` what a manager never owns: identity and server-set metadata, and the
/// part of the object the request's (sub)resource does not write.
fn strip(set: &mut FieldSet, req: &Request<'_>) {
    let field = |name: &str| PathElement::Field(name.to_owned());
    for top in ["apiVersion", "kind", "metadata"] {
        set.remove_member(&[field(top)]);
    }
    // The ignored fields go with their subtrees (managedFields content, for instance).
    for f in IGNORED_METADATA {
        set.remove_subtree(&[field("metadata"), field(f)]);
    }
    let status = field("status");
    match req.subresource {
        // The status subresource owns status only.
        Some("status") => set.keep_only_below(&status),
        None if req.status_subresource => set.remove_subtree(&[status]),
        _ => {}
    }
    set.prune_empty();
}

/// How a list is merged.
#[derive(Clone, Debug, PartialEq)]
enum ListKind<'a> {
    Atomic,
    Set,
    /// Key fields with the item schema's default for each, which stands in for a key an item
    /// omits (as structured-merge-diff does: `{containerPort: 80}` is the item
    /// `{containerPort: 80, protocol: TCP}`, not a second one).
    Map(Vec<(&'a str, Option<&'a Value>)>),
}

fn list_kind<'a>(s: Option<Schema<'a>>) -> ListKind<'a> {
    let Some(s) = s else { return ListKind::Atomic };
    let n = s.node();
    match n.list_type {
        Some(ListType::Atomic) => ListKind::Atomic,
        Some(ListType::Set) => ListKind::Set,
        Some(ListType::Map) => ListKind::Map(
            n.list_map_keys
                .iter()
                .map(|k| (&**k, key_default(s, k)))
                .collect(),
        ),
        None if s.has_patch_strategy("merge") => match s.patch_merge_key() {
            Some(k) => ListKind::Map(vec![(k, key_default(s, k))]),
            None => ListKind::Set,
        },
        None => ListKind::Atomic,
    }
}

/// The default the item schema of list `s` gives key field `key`.
fn key_default<'a>(s: Schema<'a>, key: &str) -> Option<&'a Value> {
    s.items()?.property(key)?.node().default.as_ref()
}

fn map_is_atomic(s: Option<Schema<'_>>) -> bool {
    s.is_some_and(|s| s.node().map_type == Some(MapType::Atomic))
}

/// Whether a map key is a declared struct field (no "." of its own in field sets).
fn is_declared(s: Option<Schema<'_>>, key: &str) -> bool {
    s.is_some_and(|s| s.property(key).is_some())
}

/// A struct field the server always has (a non-pointer Go struct: `default: {}` at its site),
/// so it never appears as "added" with its own ".".
fn always_present(s: Option<Schema<'_>>, key: &str) -> bool {
    s.is_some_and(|s| s.node().site_defaults.iter().any(|(k, _)| &**k == key))
}

fn child_schema<'a>(s: Option<Schema<'a>>, key: &str) -> Option<Schema<'a>> {
    // Below a node that preserves unknown fields and declares nothing, the type is deduced.
    s.and_then(|s| s.field(key))
}

/// The path element of a list item, or `None` if it lacks its key fields.
fn item_element(kind: &ListKind<'_>, item: &Value, index: usize) -> Option<PathElement> {
    match kind {
        ListKind::Atomic => Some(PathElement::Index(index)),
        ListKind::Set => Some(PathElement::Value(item.to_string())),
        ListKind::Map(keys) => {
            let mut m = Map::new();
            for (k, default) in keys {
                if let Some(v) = item.get(*k).or(*default) {
                    m.insert((*k).to_owned(), v.clone());
                }
            }
            if m.is_empty() {
                return None;
            }
            Some(PathElement::Key(Value::Object(m).to_string()))
        }
    }
}

/// The fields an object sets (structured-merge-diff's `ToFieldSet`).
pub fn field_set(obj: &Value, schema: Option<Schema<'_>>) -> FieldSet {
    let mut set = FieldSet::new();
    let mut path = Vec::new();
    to_set(obj, schema, &mut path, &mut set, 0);
    set
}

fn to_set(v: &Value, s: Option<Schema<'_>>, path: &mut Path, set: &mut FieldSet, depth: usize) {
    if depth > 100 {
        set.insert(path);
        return;
    }
    match v {
        Value::Object(m) => {
            if map_is_atomic(s) {
                set.insert(path);
                return;
            }
            for (k, val) in m {
                let cs = child_schema(s, k);
                path.push(PathElement::Field(k.clone()));
                to_set(val, cs, path, set, depth + 1);
                let empty_map = matches!(val, Value::Object(o) if o.is_empty());
                if val.is_null() || empty_map || !is_declared(s, k) {
                    set.insert(path);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let kind = list_kind(s);
            if kind == ListKind::Atomic {
                set.insert(path);
                return;
            }
            let item_schema = s.and_then(|s| s.items());
            for (i, item) in items.iter().enumerate() {
                let Some(pe) = item_element(&kind, item, i) else {
                    continue;
                };
                path.push(pe);
                if kind != ListKind::Set {
                    to_set(item, item_schema, path, set, depth + 1);
                }
                set.insert(path);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
}

/// Merges an applied configuration into the live object (structured-merge-diff `Merge`).
pub fn merge(live: &Value, applied: &Value, schema: Option<Schema<'_>>) -> Value {
    merge_at(live, applied, schema, 0)
}

fn merge_at(live: &Value, applied: &Value, s: Option<Schema<'_>>, depth: usize) -> Value {
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) if !map_is_atomic(s) && depth < 100 => {
            let mut out = l.clone();
            for (k, av) in a {
                let cs = child_schema(s, k);
                let merged = match l.get(k) {
                    Some(lv) => merge_at(lv, av, cs, depth + 1),
                    None => av.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(a)) if depth < 100 => {
            let kind = list_kind(s);
            if kind == ListKind::Atomic {
                return applied.clone();
            }
            let item_schema = s.and_then(|s| s.items());
            Value::Array(merge_lists(l, a, &kind, item_schema, depth))
        }
        _ => applied.clone(),
    }
}

/// Merges associative lists keeping both relative orders: live-only items stay where they
/// are, applied items come in applied order.
fn merge_lists(
    l: &[Value],
    a: &[Value],
    kind: &ListKind<'_>,
    item: Option<Schema<'_>>,
    depth: usize,
) -> Vec<Value> {
    let lk: Vec<Option<PathElement>> = l
        .iter()
        .enumerate()
        .map(|(i, v)| item_element(kind, v, i))
        .collect();
    let ak: Vec<Option<PathElement>> = a
        .iter()
        .enumerate()
        .map(|(i, v)| item_element(kind, v, i))
        .collect();
    let in_applied = |k: &Option<PathElement>| k.is_some() && ak.contains(k);
    let mut out = Vec::with_capacity(l.len() + a.len());
    let mut emitted_live = vec![false; l.len()];
    let (mut li, mut ai) = (0, 0);
    while li < l.len() || ai < a.len() {
        if li < l.len() {
            if emitted_live[li] {
                li += 1;
                continue;
            }
            if !in_applied(&lk[li]) {
                out.push(l[li].clone());
                li += 1;
                continue;
            }
        }
        if ai < a.len() {
            let pos = ak[ai]
                .as_ref()
                .and_then(|k| lk.iter().position(|x| x.as_ref() == Some(k)));
            match pos {
                Some(p) => {
                    emitted_live[p] = true;
                    out.push(merge_at(&l[p], &a[ai], item, depth + 1));
                }
                None => out.push(a[ai].clone()),
            }
            ai += 1;
        } else {
            li += 1;
        }
    }
    out
}

/// Fields added or changed (with `"."` for new maps and list items, as the API server records
/// them) and fields removed between two versions of an object, its managed fields left out.
fn compare(
    old: Option<&Value>,
    new: Option<&Value>,
    s: Option<Schema<'_>>,
) -> (FieldSet, FieldSet) {
    let (mut changed, mut removed) = (FieldSet::new(), FieldSet::new());
    let mut path = Vec::new();
    cmp(old, new, s, &mut path, &mut changed, &mut removed, 0);
    (changed, removed)
}

#[allow(clippy::too_many_arguments)]
fn cmp(
    old: Option<&Value>,
    new: Option<&Value>,
    s: Option<Schema<'_>>,
    path: &mut Path,
    changed: &mut FieldSet,
    removed: &mut FieldSet,
    depth: usize,
) {
    let leaf = |changed: &mut FieldSet, removed: &mut FieldSet, path: &Path| match (old, new) {
        (None, None) => {}
        (None, Some(_)) => changed.insert(path),
        (Some(_), None) => removed.insert(path),
        (Some(a), Some(b)) if a != b => changed.insert(path),
        _ => {}
    };
    let om = old.and_then(Value::as_object);
    let nm = new.and_then(Value::as_object);
    let oa = old.and_then(Value::as_array);
    let na = new.and_then(Value::as_array);
    if depth > 100 {
        leaf(changed, removed, path);
        return;
    }
    if (om.is_some() || nm.is_some())
        && (old.is_none() || om.is_some())
        && (new.is_none() || nm.is_some())
    {
        let empty = om.is_none_or(Map::is_empty) && nm.is_none_or(Map::is_empty);
        if map_is_atomic(s) || empty {
            leaf(changed, removed, path);
            return;
        }
        let mut keys: Vec<&String> = om.map(|m| m.keys().collect()).unwrap_or_default();
        for k in nm.map(|m| m.keys().collect::<Vec<_>>()).unwrap_or_default() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let in_metadata =
            depth == 1 && matches!(path.as_slice(), [PathElement::Field(f)] if f == "metadata");
        for k in keys {
            let ov = om.and_then(|m| m.get(k));
            let nv = nm.and_then(|m| m.get(k));
            // Equal members hold no change, and are most of an object; managed fields are
            // bookkeeping about the fields, never fields themselves.
            if ov == nv || (in_metadata && k == "managedFields") {
                continue;
            }
            path.push(PathElement::Field(k.clone()));
            // A map or item that appears gets its own "." (not struct fields).
            if ov.is_none() && nv.is_some_and(Value::is_object) && !always_present(s, k) {
                changed.insert(path);
            }
            cmp(
                ov,
                nv,
                child_schema(s, k),
                path,
                changed,
                removed,
                depth + 1,
            );
            path.pop();
        }
        return;
    }
    if (oa.is_some() || na.is_some())
        && (old.is_none() || oa.is_some())
        && (new.is_none() || na.is_some())
    {
        let kind = list_kind(s);
        if kind == ListKind::Atomic {
            leaf(changed, removed, path);
            return;
        }
        let item_schema = s.and_then(|s| s.items());
        let (ol, nl) = (keyed_items(&kind, oa), keyed_items(&kind, na));
        let mut keys: Vec<&PathElement> = ol.iter().map(|(k, _)| k).collect();
        for (k, _) in &nl {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        for k in keys {
            let ov = ol.iter().find(|(x, _)| x == k).map(|(_, v)| *v);
            let nv = nl.iter().find(|(x, _)| x == k).map(|(_, v)| *v);
            if ov == nv {
                continue;
            }
            path.push(k.clone());
            match (ov, nv) {
                (None, Some(_)) => changed.insert(path),
                (Some(_), None) => removed.insert(path),
                _ => {}
            }
            if kind != ListKind::Set {
                cmp(ov, nv, item_schema, path, changed, removed, depth + 1);
            }
            path.pop();
        }
        return;
    }
    leaf(changed, removed, path);
}

/// The items of a list with the path element that names each.
fn keyed_items<'v>(kind: &ListKind, list: Option<&'v Vec<Value>>) -> Vec<(PathElement, &'v Value)> {
    list.map(|l| {
        l.iter()
            .enumerate()
            .filter_map(|(i, v)| item_element(kind, v, i).map(|k| (k, v)))
            .collect()
    })
    .unwrap_or_default()
}

/// Removes the member paths of `set` from an object.
fn remove_paths(obj: &mut Value, set: &FieldSet, s: Option<Schema<'_>>) {
    for path in set.paths() {
        remove_path(obj, &path, s);
    }
}

fn remove_path(obj: &mut Value, path: &[PathElement], s: Option<Schema<'_>>) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match (obj, first) {
        (Value::Object(m), PathElement::Field(k)) => {
            if rest.is_empty() {
                m.remove(k);
            } else if let Some(child) = m.get_mut(k) {
                remove_path(child, rest, child_schema(s, k));
            }
        }
        (Value::Array(items), pe) => {
            let kind = list_kind(s);
            let pos = items
                .iter()
                .enumerate()
                .position(|(i, v)| item_element(&kind, v, i).as_ref() == Some(pe));
            if let Some(p) = pos {
                if rest.is_empty() {
                    items.remove(p);
                } else {
                    remove_path(&mut items[p], rest, s.and_then(|s| s.items()));
                }
            }
        }
        _ => {}
    }
}

fn without_managed_fields(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(Value::Object(meta)) = v.get_mut("metadata") {
        meta.remove("managedFields");
    }
    v
}

/// Server-side apply: the new object, or the conflicts that refuse it.
///
/// `live` is the stored object (`None` when the apply creates it); `applied` the configuration
/// the client sent (`application/apply-patch+yaml`, parsed to JSON). With `force`, conflicting
/// fields change owner instead of failing. The result carries the updated
/// `metadata.managedFields`; the caller sets server fields (uid, resourceVersion, ...).
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    req: &Request<'_>,
    force: bool,
    schema: Option<Schema<'_>>,
) -> Result<Value, SsaError> {
    if !applied.is_object() {
        return Err(SsaError::NotAnObject);
    }
    let mut entries = match (decode_entries(live)?, live) {
        (Some(e), _) => e,
        // An object that nobody tracked yet: what exists belongs to "before-first-apply".
        (None, Some(l)) => {
            let mut set = field_set(&without_managed_fields(l), schema);
            strip(&mut set, req);
            vec![Entry {
                manager: "before-first-apply".into(),
                operation: "Update".into(),
                api_version: l
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or(req.api_version)
                    .to_owned(),
                time: Some(req.now.to_owned()),
                subresource: None,
                set,
            }]
        }
        (None, None) => Vec::new(),
    };
    let live_obj = live
        .map(without_managed_fields)
        .unwrap_or_else(|| json!({}));
    let applied_obj = without_managed_fields(applied);
    let mut applied_set = field_set(&applied_obj, schema);
    strip(&mut applied_set, req);

    let mut merged = merge(&live_obj, &applied_obj, schema);
    let (mut changed, _) = compare(Some(&live_obj), Some(&merged), schema);
    strip(&mut changed, req);

    let me = |e: &Entry| e.is(req.manager, "Apply", req.subresource);
    let mut conflicts = Vec::new();
    for e in entries.iter().filter(|e| !me(e)) {
        for p in e.set.intersection(&changed).paths() {
            conflicts.push((e.display(), e.manager.clone(), p));
        }
    }
    if !conflicts.is_empty() {
        if !force {
            return Err(Conflicts {
                conflicts: conflicts
                    .into_iter()
                    .map(|(manager, manager_name, p)| Conflict {
                        manager,
                        manager_name,
                        field: display_path(&p),
                    })
                    .collect(),
            }
            .into());
        }
        for e in entries.iter_mut().filter(|e| !me(e)) {
            e.set = e.set.difference(&changed);
        }
    }

    // Fields the applier owned and no longer applies go, unless someone else owns them.
    if let Some(last) = entries.iter().find(|e| me(e)) {
        let mut owned = applied_set.clone();
        for e in entries.iter().filter(|e| !me(e)) {
            owned = owned.union(&e.set);
        }
        let removed = last.set.difference(&owned);
        remove_paths(
            &mut merged,
            &removed.without_owned_ancestors(&owned),
            schema,
        );
    }

    entries.retain(|e| !me(e));
    entries.push(Entry {
        manager: req.manager.to_owned(),
        operation: "Apply".into(),
        api_version: applied
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or(req.api_version)
            .to_owned(),
        time: Some(req.now.to_owned()),
        subresource: req.subresource.map(str::to_owned),
        set: applied_set,
    });
    write_entries(&mut merged, entries);
    Ok(merged)
}

/// Records a create/update/patch by `req.manager` (operation `Update`) in `new`'s
/// `metadata.managedFields`: the manager gains the fields it added or changed, other managers
/// lose them, removed fields are dropped everywhere. `old` is `None` on create. Managed fields
/// the client sent in `new` replace the stored ones (an empty list resets them), as on the
/// server.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    req: &Request<'_>,
    schema: Option<Schema<'_>>,
) -> Result<(), SsaError> {
    // Managed fields the client sent replace the stored ones; most writes send back what
    // they read, which is decoded only once then.
    let sent_other = old.and_then(|o| o.pointer("/metadata/managedFields"))
        != new.pointer("/metadata/managedFields");
    let sent = if sent_other {
        decode_entries(Some(new))?
    } else {
        None
    };
    let stored = match sent {
        Some(_) => None,
        None => decode_entries(old)?,
    };
    let mut entries = match (sent, stored) {
        (Some(sent), _) => sent,
        (_, Some(stored)) => stored,
        (_, None) => match old {
            Some(o) => {
                let mut set = field_set(&without_managed_fields(o), schema);
                strip(&mut set, req);
                vec![Entry {
                    manager: "before-first-apply".into(),
                    operation: "Update".into(),
                    api_version: req.api_version.to_owned(),
                    time: Some(req.now.to_owned()),
                    subresource: None,
                    set,
                }]
            }
            None => Vec::new(),
        },
    };
    let (mut changed, mut removed) = compare(old, Some(new), schema);
    strip(&mut changed, req);
    strip(&mut removed, req);
    let me = |e: &Entry| e.is(req.manager, "Update", req.subresource);
    for e in entries.iter_mut() {
        e.set = e.set.difference(&removed);
        if !me(e) {
            e.set = e.set.difference(&changed);
        }
    }
    if changed.is_empty() && !entries.iter().any(me) {
        write_entries(new, entries);
        return Ok(());
    }
    match entries.iter_mut().find(|e| me(e)) {
        Some(e) => {
            e.set = e.set.union(&changed);
            if !changed.is_empty() {
                e.time = Some(req.now.to_owned());
                e.api_version = req.api_version.to_owned();
            }
        }
        None => entries.push(Entry {
            manager: req.manager.to_owned(),
            operation: "Update".into(),
            api_version: req.api_version.to_owned(),
            time: Some(req.now.to_owned()),
            subresource: req.subresource.map(str::to_owned),
            set: changed,
        }),
    }
    write_entries(new, entries);
    Ok(())
}
