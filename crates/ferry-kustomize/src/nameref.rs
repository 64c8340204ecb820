//! Name references: after prefixes, suffixes, namespaces and hashes changed names, update every
//! field that refers to a renamed object (configMapRef, secretRef, volumes, serviceAccountName,
//! roleRef, subjects, ingress backends, HPA targets, ... as the nameReference table lists).
//!
//! A referral is matched by its earlier names (kustomize's sieve: previous name, previous kind,
//! roleRef kind, reachable namespace, then same prefixes/suffixes). Candidates are found through
//! an index of earlier names, so the pass stays linear in the number of references.

use serde_json::Value;
use std::collections::HashMap;

use crate::config::NameBackRefs;
use crate::error::Error;
use crate::fieldspec::{CreateKind, FieldSpec, apply_selected};
use crate::resid::{Gvk, ResId};
use crate::resmap::ResMap;
use crate::resource::Resource;

struct Snapshot {
    cur: ResId,
    prev: Vec<ResId>,
    name: String,
    namespace: String,
    kind: String,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

fn snapshot(r: &Resource) -> Snapshot {
    Snapshot {
        cur: r.cur_id(),
        prev: r.prev_ids.clone(),
        name: r.name().to_string(),
        namespace: r.namespace().to_string(),
        kind: r.kind().to_string(),
        prefixes: r.prefixes.clone(),
        suffixes: r.suffixes.clone(),
    }
}

struct Referrer<'a> {
    cur: ResId,
    prefixes: &'a [String],
    suffixes: &'a [String],
    /// Namespaces of ServiceAccount subjects (RoleBinding only).
    binding_namespaces: Vec<String>,
    role_ref: Option<Gvk>,
}

fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() > b.len() { (b, a) } else { (a, b) };
    let diff = long.len() - short.len();
    if short.is_empty() {
        return diff == 0;
    }
    short.iter().enumerate().all(|(i, s)| &long[i + diff] == s)
}

fn prefix_suffix_equal(a: &Snapshot, r: &Referrer, allow_empty: bool) -> bool {
    if allow_empty {
        let pe = a.prefixes.is_empty() || r.prefixes.is_empty();
        let se = a.suffixes.is_empty() || r.suffixes.is_empty();
        (pe || same_ending(&a.prefixes, r.prefixes)) && (se || same_ending(&a.suffixes, r.suffixes))
    } else {
        same_ending(&a.prefixes, r.prefixes) && same_ending(&a.suffixes, r.suffixes)
    }
}

/// kustomize's SubsetThatCouldBeReferencedByResource, as a predicate.
fn could_be_referenced(referrer: &Referrer, target: &Snapshot) -> bool {
    if referrer.cur.gvk.is_cluster_scoped() || target.cur.gvk.is_cluster_scoped() {
        return true;
    }
    if target.cur.is_ns_equals(&referrer.cur) {
        return true;
    }
    referrer.binding_namespaces.contains(&target.namespace)
}

struct Index<'a> {
    all: &'a [Snapshot],
    /// Earlier name -> resources that had it.
    by_prev_name: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Index<'a> {
    fn new(all: &'a [Snapshot]) -> Index<'a> {
        let mut by_prev_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, s) in all.iter().enumerate() {
            for p in &s.prev {
                let v = by_prev_name.entry(p.name.as_str()).or_default();
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
        }
        Index { all, by_prev_name }
    }

    /// kustomize's selectReferral over the candidates this referrer may reach.
    fn select(
        &self,
        referrer: &Referrer,
        target: &Gvk,
        old_name: &str,
        namespace_filter: Option<&str>,
        role_ref_path: bool,
        compare_namespaces: bool,
    ) -> Result<Option<usize>, Error> {
        let Some(by_name) = self.by_prev_name.get(old_name) else {
            return Ok(None);
        };
        // A `namespace` next to the name picks kustomize's candidates grouped by original
        // namespace when that group exists among the reachable objects, else by current one.
        let by_original = namespace_filter.is_some_and(|ns| {
            self.all.iter().any(|s| {
                !s.cur.gvk.is_cluster_scoped()
                    && could_be_referenced(referrer, s)
                    && original_namespace(s) == ns
            })
        });
        let mut c: Vec<usize> = by_name
            .iter()
            .copied()
            .filter(|&i| {
                let s = &self.all[i];
                if !could_be_referenced(referrer, s) {
                    return false;
                }
                if let Some(ns) = namespace_filter {
                    if s.cur.gvk.is_cluster_scoped() {
                        return false;
                    }
                    let have = if by_original {
                        original_namespace(s)
                    } else {
                        s.cur.effective_namespace()
                    };
                    if have != ns {
                        return false;
                    }
                }
                if !s.prev.iter().any(|p| p.gvk.is_selected(target)) {
                    return false;
                }
                if role_ref_path
                    && let Some(rr) = &referrer.role_ref
                    && !s.prev.iter().any(|p| p.gvk.is_selected(rr))
                {
                    return false;
                }
                // Same current namespace as the referrer (cluster-scoped and service accounts
                // pass).
                referrer.cur.gvk.is_cluster_scoped()
                    || s.cur.gvk.is_cluster_scoped()
                    || s.kind == "ServiceAccount"
                    || referrer.cur.is_ns_equals(&s.cur)
            })
            .collect();
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        c.retain(|&i| prefix_suffix_equal(&self.all[i], referrer, true));
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        if c.len() > 1 {
            let exact: Vec<usize> = c
                .iter()
                .copied()
                .filter(|&i| prefix_suffix_equal(&self.all[i], referrer, false))
                .collect();
            if exact.len() == 1 {
                return Ok(Some(exact[0]));
            }
            if !exact.is_empty() {
                c = exact;
            }
        }
        if c.is_empty() {
            return Ok(None);
        }
        let first = &self.all[c[0]];
        let identical = c.iter().all(|&i| {
            let s = &self.all[i];
            s.name == first.name && (!compare_namespaces || s.namespace == first.namespace)
        });
        if identical {
            return Ok(Some(c[0]));
        }
        let ids: Vec<String> = c.iter().map(|&i| self.all[i].cur.to_string()).collect();
        Err(Error::msg(format!(
            " found multiple possible referrals: {}\n**** Too many possible referral targets to referrer:\n{}\n",
            ids.join(", "),
            referrer.cur
        )))
    }
}

/// The effective namespace of an object's original id.
fn original_namespace(s: &Snapshot) -> &str {
    s.prev
        .first()
        .map_or_else(|| s.cur.effective_namespace(), |p| p.effective_namespace())
}

fn binding_namespaces(r: &Resource) -> Result<Vec<String>, Error> {
    if r.kind() != "RoleBinding" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    if let Some(Value::Array(subjects)) = r.obj.get("subjects") {
        for s in subjects {
            let Value::Object(s) = s else { continue };
            if let (Some(ns), Some(Value::String(kind))) = (s.get("namespace"), s.get("kind"))
                && kind == "ServiceAccount"
            {
                match ns {
                    Value::String(n) => out.push(n.clone()),
                    _ => {
                        return Err(Error::msg(format!(
                            "Invalid Input: namespace is blank for resource \"{}\"\n",
                            r.cur_id()
                        )));
                    }
                }
            }
        }
    }
    Ok(out)
}

fn role_ref(r: &Resource) -> Option<Gvk> {
    let rr = r.obj.get("roleRef")?.as_object()?;
    let group = rr.get("apiGroup")?.as_str()?;
    let kind = rr.get("kind")?.as_str()?;
    Some(Gvk::new(group, "", kind))
}

/// Update every name reference of the build.
pub fn fix(m: &mut ResMap, back_refs: &[NameBackRefs]) -> Result<(), Error> {
    if back_refs.is_empty() {
        return Ok(());
    }
    let snaps: Vec<Snapshot> = m.list.iter().map(snapshot).collect();
    let index = Index::new(&snaps);
    // Every (referrer field, referral kind) pair.
    struct Spec<'a> {
        selector: &'a Gvk,
        field: &'a FieldSpec,
        target: &'a Gvk,
        role_ref_path: bool,
    }
    let specs: Vec<Spec> = back_refs
        .iter()
        .flat_map(|br| {
            br.referrers.iter().map(move |spec| Spec {
                selector: &spec.gvk,
                field: spec,
                target: &br.gvk,
                role_ref_path: spec.path.ends_with("roleRef/name"),
            })
        })
        .collect();
    // Specs by the kind they select (most name one), so each object looks at its own only.
    let mut by_kind: HashMap<&str, Vec<&Spec>> = HashMap::new();
    let mut any_kind: Vec<&Spec> = Vec::new();
    for spec in &specs {
        if spec.selector.kind.is_empty() {
            any_kind.push(spec);
        } else {
            by_kind
                .entry(spec.selector.kind.as_str())
                .or_default()
                .push(spec);
        }
    }
    // Names of referrals only change here through the referrer fields themselves, never through
    // metadata.name, so one snapshot serves the whole pass.
    for (ri, res) in m.list.iter_mut().enumerate() {
        let org_gvk = res.org_id().gvk;
        let mut referrer: Option<Referrer> = None;
        let candidates = by_kind
            .get(org_gvk.kind.as_str())
            .into_iter()
            .flatten()
            .chain(any_kind.iter());
        for spec in candidates {
            if !org_gvk.is_selected(spec.selector) {
                continue;
            }
            if referrer.is_none() {
                referrer = Some(Referrer {
                    cur: snaps[ri].cur.clone(),
                    prefixes: &snaps[ri].prefixes,
                    suffixes: &snaps[ri].suffixes,
                    binding_namespaces: binding_namespaces(res)?,
                    role_ref: role_ref(res),
                });
            }
            let Some(referrer) = referrer.as_ref() else {
                continue;
            };
            let index = &index;
            let snaps = &snaps;
            // The selector already picked this referrer by its original id, which its
            // current apiVersion and kind need not match.
            apply_selected(
                &mut res.obj,
                spec.field,
                CreateKind::None,
                &mut |node: &mut Value| {
                    set_reference(
                        node,
                        referrer,
                        index,
                        snaps,
                        spec.target,
                        spec.role_ref_path,
                    )
                    .map_err(|e| e.to_string())
                },
            )
            .map_err(|e| {
                Error::msg(format!(
                    "updating name reference in '{}' field of '{}': {e}",
                    spec.field.path, referrer.cur
                ))
            })?;
        }
    }
    Ok(())
}

fn set_reference(
    node: &mut Value,
    referrer: &Referrer,
    index: &Index,
    snaps: &[Snapshot],
    target: &Gvk,
    role_ref_path: bool,
) -> Result<(), Error> {
    match node {
        Value::Null => Ok(()),
        Value::String(_) => set_scalar(node, referrer, index, snaps, target, role_ref_path),
        Value::Object(_) => set_mapping(node, referrer, index, snaps, target, role_ref_path),
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Null => {}
                    Value::Object(_) => {
                        set_mapping(item, referrer, index, snaps, target, role_ref_path)?;
                    }
                    Value::Array(_) => {
                        return Err(Error::msg(
                            "is expected to be either a string or a map of string",
                        ));
                    }
                    _ => set_scalar(item, referrer, index, snaps, target, role_ref_path)?,
                }
            }
            Ok(())
        }
        // Numbers and booleans: kyaml treats them as scalars with their text.
        _ => set_scalar(node, referrer, index, snaps, target, role_ref_path),
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn set_scalar(
    node: &mut Value,
    referrer: &Referrer,
    index: &Index,
    snaps: &[Snapshot],
    target: &Gvk,
    role_ref_path: bool,
) -> Result<(), Error> {
    let old = scalar_text(node);
    if let Some(i) = index.select(referrer, target, &old, None, role_ref_path, false)? {
        let new_name = &snaps[i].name;
        if *new_name != old {
            *node = Value::String(new_name.clone());
        }
    }
    Ok(())
}

fn set_mapping(
    node: &mut Value,
    referrer: &Referrer,
    index: &Index,
    snaps: &[Snapshot],
    target: &Gvk,
    role_ref_path: bool,
) -> Result<(), Error> {
    let Value::Object(map) = node else {
        return Err(Error::msg("expect a mapping node"));
    };
    let Some(name_node) = map.get("name") else {
        return Err(Error::msg("path config error; no 'name' field in node"));
    };
    let old = scalar_text(name_node);
    let ns_filter = map.get("namespace").map(scalar_text);
    let Some(i) = index.select(
        referrer,
        target,
        &old,
        ns_filter.as_deref(),
        role_ref_path,
        true,
    )?
    else {
        return Ok(());
    };
    let referral = &snaps[i];
    if referral.name == old && referral.namespace.is_empty() {
        return Ok(());
    }
    map.insert("name".into(), Value::String(referral.name.clone()));
    if !referral.namespace.is_empty() {
        map.insert(
            "namespace".into(),
            Value::String(referral.namespace.clone()),
        );
    }
    Ok(())
}
