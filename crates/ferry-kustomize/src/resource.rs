//! A resource in the build: the object plus what kustomize tracks about it while building
//! (kustomize keeps these in `internal.config.kubernetes.io/*` annotations; they are typed
//! fields here and never reach the output).

use serde_json::{Map, Value};

use crate::resid::{Gvk, ResId};

/// How a generated object combines with an existing one of the same id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Behavior {
    #[default]
    Create,
    Merge,
    Replace,
}

#[derive(Clone, Debug, Default)]
pub struct Resource {
    /// The object (always a JSON object).
    pub obj: Map<String, Value>,
    /// Earlier ids, oldest first (kustomize's previousNames/Namespaces/Kinds).
    pub prev_ids: Vec<ResId>,
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    /// Set by generators.
    pub behavior: Option<Behavior>,
    pub needs_hash: bool,
    /// A patch that may rename / re-kind its target.
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
    /// Names of vars whose objref resolved to this resource.
    pub ref_var_names: Vec<String>,
    /// buildMetadata originAnnotations / transformerAnnotations (YAML text of the annotation).
    pub origin: Option<String>,
    pub transformations: Vec<String>,
}

pub fn str_at<'a>(obj: &'a Map<String, Value>, path: &[&str]) -> &'a str {
    let mut cur = obj;
    for (i, key) in path.iter().enumerate() {
        match cur.get(*key) {
            Some(Value::String(s)) if i + 1 == path.len() => return s,
            Some(Value::Object(m)) if i + 1 < path.len() => cur = m,
            _ => return "",
        }
    }
    ""
}

impl Resource {
    pub fn new(obj: Map<String, Value>) -> Resource {
        Resource {
            obj,
            ..Default::default()
        }
    }

    pub fn api_version(&self) -> &str {
        str_at(&self.obj, &["apiVersion"])
    }
    pub fn kind(&self) -> &str {
        str_at(&self.obj, &["kind"])
    }
    pub fn name(&self) -> &str {
        str_at(&self.obj, &["metadata", "name"])
    }
    pub fn namespace(&self) -> &str {
        str_at(&self.obj, &["metadata", "namespace"])
    }
    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(self.api_version(), self.kind())
    }
    /// The current id without allocating.
    pub fn id_ref(&self) -> crate::resid::IdRef<'_> {
        let (group, version) = crate::resid::parse_group_version(self.api_version());
        crate::resid::IdRef {
            group,
            version,
            kind: self.kind(),
            name: self.name(),
            namespace: self.namespace(),
        }
    }

    pub fn cur_id(&self) -> ResId {
        ResId::new(self.gvk(), self.name(), self.namespace())
    }
    /// The original id: the oldest previous id, or the current one.
    pub fn org_id(&self) -> ResId {
        self.prev_ids
            .first()
            .cloned()
            .unwrap_or_else(|| self.cur_id())
    }
    /// Record the current id as a previous one (kustomize's StorePreviousId): the namespace is
    /// stored in its effective form, and the group/version are those of the object when read.
    pub fn store_previous_id(&mut self) {
        let id = self.cur_id();
        let ns = id.effective_namespace().to_string();
        self.prev_ids.push(ResId {
            gvk: id.gvk,
            name: id.name,
            namespace: ns,
        });
    }

    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let md = self
            .obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !md.is_object() {
            *md = Value::Object(Map::new());
        }
        md.as_object_mut()
            .expect("metadata was made an object just above")
    }

    pub fn set_name(&mut self, name: &str) {
        self.metadata_mut()
            .insert("name".into(), Value::String(name.to_string()));
    }
    pub fn set_namespace(&mut self, ns: &str) {
        if ns.is_empty() {
            if let Some(Value::Object(md)) = self.obj.get_mut("metadata") {
                md.remove("namespace");
            }
        } else {
            self.metadata_mut()
                .insert("namespace".into(), Value::String(ns.to_string()));
        }
    }
    pub fn set_kind(&mut self, kind: &str) {
        self.obj
            .insert("kind".into(), Value::String(kind.to_string()));
    }

    pub fn labels(&self) -> Map<String, Value> {
        string_map_at(&self.obj, "labels")
    }
    pub fn annotations(&self) -> Map<String, Value> {
        string_map_at(&self.obj, "annotations")
    }
    pub fn set_string_map(&mut self, field: &str, map: Map<String, Value>) {
        if map.is_empty() {
            if let Some(Value::Object(md)) = self.obj.get_mut("metadata") {
                md.remove(field);
            }
        } else {
            self.metadata_mut().insert(field.into(), Value::Object(map));
        }
    }

    /// Does the resource carry `config.kubernetes.io/local-config: "true"`?
    pub fn is_local_config(&self) -> bool {
        matches!(
            self.annotations().get("config.kubernetes.io/local-config"),
            Some(Value::String(s)) if s == "true"
        )
    }
}

fn string_map_at(obj: &Map<String, Value>, field: &str) -> Map<String, Value> {
    match obj.get("metadata").and_then(|m| m.get(field)) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    }
}
