//! The ordered resource list of a build and kustomize's id-based operations on it.

use crate::error::Error;
use crate::resid::ResId;
use crate::resource::{Behavior, Resource};

#[derive(Clone, Debug, Default)]
pub struct ResMap {
    pub list: Vec<Resource>,
}

impl ResMap {
    /// Append, refusing a resource whose current id is already present.
    pub fn append(&mut self, r: Resource) -> Result<(), Error> {
        let key = r.id_ref().key();
        if self.list.iter().any(|o| o.id_ref().key() == key) {
            return Err(Error::msg(format!(
                "may not add resource with an already registered id: {}",
                r.cur_id()
            )));
        }
        self.list.push(r);
        Ok(())
    }

    pub fn append_all(&mut self, other: Vec<Resource>) -> Result<(), Error> {
        if other.is_empty() {
            return Ok(());
        }
        let mut seen = self.id_index();
        self.append_all_indexed(other, &mut seen)
    }

    /// The hashes of the current ids, for a run of appends.
    pub fn id_index(&self) -> std::collections::HashSet<u64> {
        self.list.iter().map(id_hash).collect()
    }

    /// Append with an index of current ids kept by the caller across several appends (only
    /// valid while nothing but appends changes the list).
    pub fn append_all_indexed(
        &mut self,
        other: Vec<Resource>,
        seen: &mut std::collections::HashSet<u64>,
    ) -> Result<(), Error> {
        for r in other {
            if !seen.insert(id_hash(&r)) {
                let key = r.id_ref().key();
                if self.list.iter().any(|o| o.id_ref().key() == key) {
                    return Err(Error::msg(format!(
                        "may not add resource with an already registered id: {}",
                        r.cur_id()
                    )));
                }
            }
            self.list.push(r);
        }
        Ok(())
    }

    /// Indices of resources that have (or had) exactly this id.
    pub fn matching_id(&self, id: &ResId) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, r) in self.list.iter().enumerate() {
            if r.id_ref().equals(id) || r.prev_ids.iter().any(|p| p.equals(id)) {
                out.push(i);
            }
        }
        out
    }

    /// Indices of resources any of whose ids (previous or current) satisfies `f`.
    pub fn matching_any_id(&self, f: impl Fn(&ResId) -> bool) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, r) in self.list.iter().enumerate() {
            if r.prev_ids.iter().any(&f) || f(&r.cur_id()) {
                out.push(i);
            }
        }
        out
    }

    /// kustomize's GetById: exactly one resource with this id among previous and current ids.
    pub fn get_by_id(&self, id: &ResId) -> Result<usize, Error> {
        let m = self.matching_id(id);
        match m.len() {
            1 => Ok(m[0]),
            0 => Err(Error::msg(format!("no matches for Id {id}"))),
            _ => Err(Error::msg(format!("multiple matches for Id {id}"))),
        }
    }

    /// Add generated resources: create, or merge into / replace the resource with the same id.
    pub fn absorb(&mut self, mut r: Resource) -> Result<(), Error> {
        let id = r.cur_id();
        let matches = self.matching_id(&id);
        let behavior = r.behavior.unwrap_or_default();
        match matches.len() {
            0 => match behavior {
                Behavior::Merge | Behavior::Replace => Err(Error::msg(format!(
                    "id {} does not exist; cannot merge or replace",
                    go_id(&id)
                ))),
                Behavior::Create => self.append(r),
            },
            1 => {
                let idx = matches[0];
                let old = &self.list[idx];
                match behavior {
                    Behavior::Replace => copy_merge_metadata(&mut r, old),
                    Behavior::Merge => {
                        let origin = old.origin.clone();
                        copy_merge_metadata(&mut r, old);
                        merge_string_field(&mut r, old, "data");
                        merge_string_field(&mut r, old, "binaryData");
                        if origin.is_some() {
                            r.origin = origin;
                        }
                    }
                    Behavior::Create => {
                        return Err(Error::msg(format!(
                            "id {} exists; behavior must be merge or replace",
                            go_id(&id)
                        )));
                    }
                }
                self.list[idx] = r;
                Ok(())
            }
            _ => Err(Error::msg(format!(
                "found multiple objects that could accept merge of {id}"
            ))),
        }
    }
}

pub fn id_hash(r: &Resource) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    r.id_ref().key().hash(&mut h);
    h.finish()
}

/// Go's `%#v` of a ResId, as kustomize prints it in generator errors.
fn go_id(id: &ResId) -> String {
    format!(
        "resid.ResId{{Gvk:resid.Gvk{{Group:\"{}\", Version:\"{}\", Kind:\"{}\", isClusterScoped:{}}}, Name:\"{}\", Namespace:\"{}\"}}",
        id.gvk.group,
        id.gvk.version,
        id.gvk.kind,
        id.gvk.is_cluster_scoped(),
        id.name,
        id.namespace
    )
}

/// kustomize's CopyMergeMetaDataFieldsFrom: labels and annotations merged (the new object
/// wins), name and namespace and build bookkeeping taken from the old one; the hash suffix
/// stays only if both want it.
fn copy_merge_metadata(r: &mut Resource, old: &Resource) {
    let mut labels = old.labels();
    for (k, v) in r.labels() {
        labels.insert(k, v);
    }
    r.set_string_map("labels", labels);
    let mut annotations = old.annotations();
    for (k, v) in r.annotations() {
        annotations.insert(k, v);
    }
    r.set_string_map("annotations", annotations);
    r.set_name(old.name());
    r.set_namespace(old.namespace());
    r.prev_ids = old.prev_ids.clone();
    r.prefixes = old.prefixes.clone();
    r.suffixes = old.suffixes.clone();
    r.needs_hash = r.needs_hash && old.needs_hash;
    r.behavior = old.behavior;
    r.ref_var_names = old.ref_var_names.clone();
}

fn merge_string_field(r: &mut Resource, old: &Resource, field: &str) {
    let mut merged = match old.obj.get(field) {
        Some(serde_json::Value::Object(m)) => m.clone(),
        _ => serde_json::Map::new(),
    };
    if let Some(serde_json::Value::Object(m)) = r.obj.get(field) {
        for (k, v) in m {
            merged.insert(k.clone(), v.clone());
        }
    }
    if merged.is_empty() {
        r.obj.remove(field);
    } else {
        r.obj
            .insert(field.to_string(), serde_json::Value::Object(merged));
    }
}
