//! Field sets as structured-merge-diff represents them, and their `FieldsV1` JSON encoding:
//! `{"f:spec":{"f:replicas":{}},"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{}}}}`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathElement {
    /// A struct field or map key: `f:<name>`.
    Field(String),
    /// An associative-list item by its key fields: `k:{"name":"a"}` (compact JSON, keys sorted).
    Key(String),
    /// A set-list item by value: `v:<json>`.
    Value(String),
    /// A list item by position (atomic lists are never split, so rarely used): `i:<n>`.
    Index(usize),
}

impl PathElement {
    fn encode(&self) -> String {
        match self {
            PathElement::Field(n) => format!("f:{n}"),
            PathElement::Key(k) => format!("k:{k}"),
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    fn decode(s: &str) -> Option<PathElement> {
        let (kind, rest) = s.split_once(':')?;
        Some(match kind {
            "f" => PathElement::Field(rest.to_owned()),
            "k" => PathElement::Key(rest.to_owned()),
            "v" => PathElement::Value(rest.to_owned()),
            "i" => PathElement::Index(rest.parse().ok()?),
            _ => return None,
        })
    }

    /// The form structured-merge-diff prints in conflict messages: `.name`, `[name="a"]`.
    pub fn display(&self) -> String {
        match self {
            PathElement::Field(n) => format!(".{n}"),
            PathElement::Key(k) => {
                let parts: Vec<String> = match serde_json::from_str::<Map<String, Value>>(k) {
                    Ok(m) => m.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                    Err(_) => vec![k.clone()],
                };
                format!("[{}]", parts.join(","))
            }
            PathElement::Value(v) => format!("[={v}]"),
            PathElement::Index(i) => format!("[{i}]"),
        }
    }
}

/// A path from the object root.
pub type Path = Vec<PathElement>;

/// Prints a path as conflict messages do: `.spec.containers[name="a"].image`.
pub fn display_path(path: &[PathElement]) -> String {
    path.iter().map(PathElement::display).collect()
}

/// A set of field paths, as a trie. `member` marks the node's own path as in the set
/// (the `"."` entry of FieldsV1 for nodes that also have children).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    member: bool,
    children: BTreeMap<PathElement, FieldSet>,
}

/// A FieldsV1 document that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid fieldsV1: {reason}")]
pub struct FieldsV1Error {
    pub reason: String,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// Whether no path is in the set.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    /// Adds a path.
    pub fn insert(&mut self, path: &[PathElement]) {
        let mut node = self;
        for pe in path {
            node = node.children.entry(pe.clone()).or_default();
        }
        node.member = true;
    }

    /// Whether the exact path is in the set.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        let mut node = self;
        for pe in path {
            match node.children.get(pe) {
                Some(n) => node = n,
                None => return false,
            }
        }
        node.member
    }

    /// Whether some member lies strictly below `path`.
    pub fn has_members_below(&self, path: &[PathElement]) -> bool {
        path.iter()
            .try_fold(self, |node, pe| node.children.get(pe))
            .is_some_and(|node| node.children.values().any(|c| !c.is_empty()))
    }

    /// The members of `self` except those with a member of `owned` below them.
    ///
    /// Removing a map or list item removes everything inside it, so a `"."` that lost its owner
    /// must not take children someone still owns along: structured-merge-diff removes what the
    /// applier stopped applying and then adds back whatever any manager still owns. Such a
    /// `"."` appears in an Apply entry after kubectl's client-side to server-side migration,
    /// which copies an Update entry (where new maps carry their own `"."`).
    pub fn without_owned_ancestors(&self, owned: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        for p in self.paths() {
            if !owned.has_members_below(&p) {
                out.insert(&p);
            }
        }
        out
    }

    /// The subtree under one child.
    pub fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    /// Takes the exact path out of the set, leaving what lies below it.
    pub fn remove_member(&mut self, path: &[PathElement]) {
        if let Some(node) = self.node_mut(path) {
            node.member = false;
        }
    }

    /// Takes the path and everything below it out of the set.
    pub fn remove_subtree(&mut self, path: &[PathElement]) {
        let Some((last, parents)) = path.split_last() else {
            *self = FieldSet::new();
            return;
        };
        if let Some(parent) = self.node_mut(parents) {
            parent.children.remove(last);
        }
    }

    /// Keeps only the members strictly below the child `pe` (not `pe` itself).
    pub fn keep_only_below(&mut self, pe: &PathElement) {
        let kept = self.children.remove(pe);
        *self = FieldSet::new();
        if let Some(mut kept) = kept {
            kept.member = false;
            self.children.insert(pe.clone(), kept);
        }
    }

    /// Drops the nodes that hold no member, which removals leave behind, so that equal sets
    /// compare equal.
    pub fn prune_empty(&mut self) {
        self.children.retain(|_, child| {
            child.prune_empty();
            child.member || !child.children.is_empty()
        });
    }

    fn node_mut(&mut self, path: &[PathElement]) -> Option<&mut FieldSet> {
        path.iter()
            .try_fold(self, |node, pe| node.children.get_mut(pe))
    }

    /// Every member path, depth first.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        let mut prefix = Vec::new();
        self.collect(&mut prefix, &mut out);
        out
    }

    fn collect(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        if self.member && !prefix.is_empty() {
            out.push(prefix.clone());
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }

    /// Set union.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.union_in_place(other);
        out
    }

    fn union_in_place(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (pe, child) in &other.children {
            self.children
                .entry(pe.clone())
                .or_default()
                .union_in_place(child);
        }
    }

    /// Paths in `self` and not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (pe, child) in &self.children {
            let d = match other.children.get(pe) {
                Some(o) => child.difference(o),
                None => child.clone(),
            };
            if !d.is_empty() {
                out.children.insert(pe.clone(), d);
            }
        }
        out
    }

    /// Paths in both.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (pe, child) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let i = child.intersection(o);
                if !i.is_empty() {
                    out.children.insert(pe.clone(), i);
                }
            }
        }
        out
    }

    /// The FieldsV1 JSON form.
    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (pe, child) in &self.children {
            if !child.is_empty() {
                m.insert(pe.encode(), child.to_fields_v1());
            }
        }
        Value::Object(m)
    }

    /// Reads the FieldsV1 JSON form.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, FieldsV1Error> {
        Self::decode(v, 0)
    }

    fn decode(v: &Value, depth: usize) -> Result<FieldSet, FieldsV1Error> {
        if depth > 128 {
            return Err(FieldsV1Error {
                reason: "nested too deeply".into(),
            });
        }
        let Value::Object(m) = v else {
            return Err(FieldsV1Error {
                reason: format!("expected an object, got {v}"),
            });
        };
        let mut out = FieldSet::default();
        for (k, child) in m {
            if k == "." {
                out.member = true;
                continue;
            }
            let pe = PathElement::decode(k).ok_or_else(|| FieldsV1Error {
                reason: format!("unknown path element {k:?}"),
            })?;
            let mut c = Self::decode(child, depth + 1)?;
            if c.children.is_empty() {
                c.member = true;
            }
            out.children.insert(pe, c);
        }
        Ok(out)
    }
}
