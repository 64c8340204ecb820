//! What validation prepares once per schema and keeps with it (in its [`TypeSchema`]): the CEL
//! programs of `x-kubernetes-validations`, the regular expressions of `pattern`s, whether the
//! schema has defaults, and the restrictions a CRD puts on the root's `metadata.name`.

use std::collections::HashMap;

use regex::Regex;
use serde_json::Map;

use super::{cel, defaults};
use crate::{
    model::{Converter, ListType, NodeId, Schema, SchemaSet},
    registry::TypeSchema,
};

/// Per-schema compiled validation data.
#[derive(Debug, Default)]
pub struct Compiled {
    pub(crate) cel: cel::CelRules,
    patterns: HashMap<NodeId, Option<Regex>>,
    /// `metadata` of the CRD's schema as written (name and generateName restrictions).
    root_meta: Option<(SchemaSet, NodeId)>,
    pub(crate) has_defaults: bool,
    /// Nodes whose subtree has `set`/`map` lists, or embedded resources: the walks that check
    /// them skip the rest.
    below_lists: HashMap<NodeId, bool>,
    below_embedded: HashMap<NodeId, bool>,
    /// Nodes with defaults below them (in a property, item or map value).
    below_defaults: HashMap<NodeId, bool>,
}

impl Compiled {
    pub(crate) fn build(ts: &TypeSchema) -> Compiled {
        let mut c = Compiled {
            has_defaults: defaults::has_defaults(ts.root()),
            ..Compiled::default()
        };
        let root = ts.root();
        let set = root.set();
        // Reachable nodes, each once, children before parents for the `below` flags.
        let mut order: Vec<NodeId> = Vec::new();
        let mut seen = vec![false; set.len()];
        let mut stack = vec![(root.id(), false)];
        while let Some((id, done)) = stack.pop() {
            if done {
                order.push(id);
                continue;
            }
            if std::mem::replace(&mut seen[id as usize], true) {
                continue;
            }
            stack.push((id, true));
            for child in children(set.get(id)) {
                if !seen[child as usize] {
                    stack.push((child, false));
                }
            }
        }
        for &id in &order {
            let s = set.get(id);
            let n = s.node();
            if !n.validations.is_empty() {
                c.cel.by_node.insert(id, cel::compile_node(s));
            }
            if let Some(p) = n.limits.pattern.as_deref() {
                c.patterns.insert(id, Regex::new(p).ok());
            }
        }
        // `below`: a node holds rules itself or in a child (children were ordered first;
        // recursive schemas settle on what was known when they were reached).
        for &id in &order {
            let s = set.get(id);
            let n = s.node();
            let mut has = c.cel.by_node.contains_key(&id);
            if !has {
                has = children(s).any(|ch| c.cel.below.get(&ch).copied().unwrap_or(false));
            }
            c.cel.below.insert(id, has);
            let lists = matches!(n.list_type, Some(ListType::Set | ListType::Map))
                || children(s).any(|ch| c.below_lists.get(&ch).copied().unwrap_or(false));
            c.below_lists.insert(id, lists);
            let embedded = n.embedded_resource
                || children(s).any(|ch| c.below_embedded.get(&ch).copied().unwrap_or(false));
            c.below_embedded.insert(id, embedded);
            let defaults = children(s).any(|ch| {
                set.get(ch).node().default.is_some()
                    || c.below_defaults.get(&ch).copied().unwrap_or(false)
            });
            c.below_defaults.insert(id, defaults);
        }
        if let Some(meta) = ts
            .crd_schema()
            .and_then(|s| s.pointer("/properties/metadata"))
        {
            let empty = Map::new();
            let mut conv = Converter::new(&empty, None);
            if let Ok(id) = conv.convert(meta, "metadata") {
                c.root_meta = Some((conv.finish(), id));
            }
        }
        c
    }

    /// The compiled `pattern` of a node (`None` when it has none or it does not compile).
    pub(crate) fn pattern(&self, id: NodeId) -> Option<&Regex> {
        self.patterns.get(&id).and_then(Option::as_ref)
    }

    /// The root `metadata` schema as the CRD wrote it.
    pub(crate) fn root_meta(&self) -> Option<Schema<'_>> {
        self.root_meta.as_ref().map(|(set, id)| set.get(*id))
    }

    /// Whether `set`/`map` lists occur at or below the node.
    pub(crate) fn lists_below(&self, id: NodeId) -> bool {
        self.below_lists.get(&id).copied().unwrap_or(false)
    }

    /// Whether a property, item or map value at or below the node declares a default.
    pub(crate) fn defaults_below(&self, id: NodeId) -> bool {
        self.below_defaults.get(&id).copied().unwrap_or(false)
    }

    /// Whether embedded resources occur at or below the node.
    pub(crate) fn embedded_below(&self, id: NodeId) -> bool {
        self.below_embedded.get(&id).copied().unwrap_or(false)
    }

    /// Whether any `x-kubernetes-validations` rule exists.
    pub(crate) fn has_rules(&self) -> bool {
        !self.cel.is_empty()
    }
}

/// The nodes a value at `s` is validated against: properties, items, additional properties and
/// allOf/anyOf/oneOf/not branches.
pub(crate) fn children(s: Schema<'_>) -> std::vec::IntoIter<NodeId> {
    let mut out: Vec<NodeId> = s.properties().map(|(_, p)| p.id()).collect();
    out.extend(s.items().map(|i| i.id()));
    out.extend(s.additional_properties().map(|a| a.id()));
    out.extend(s.all_of().map(|b| b.id()));
    out.extend(s.any_of().map(|b| b.id()));
    out.extend(s.one_of().map(|b| b.id()));
    out.extend(s.not().map(|b| b.id()));
    out.into_iter()
}
