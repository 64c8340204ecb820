//! Structural defaulting of custom resources (apiextensions' `structuraldefaulting`): nulls of
//! non-nullable fields without a default are dropped, then each missing (or non-nullable
//! `null`) field that has a `default` gets a copy of it, and defaulting continues inside,
//! so nested defaults apply only where their parent exists (or was just defaulted).

use serde_json::Value;

use super::compiled::Compiled;
use crate::model::Schema;

const MAX_DEPTH: usize = 512;

fn is_non_nullable_null(v: &Value, s: Schema<'_>) -> bool {
    v.is_null() && !s.node().nullable
}

/// `PruneNonNullableNullsWithoutDefaults`.
pub(crate) fn prune_nulls(v: &mut Value, s: Schema<'_>, root: bool, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            map.retain(|k, child| {
                let Some(cs) = s.property(k).or_else(|| s.additional_properties()) else {
                    return true;
                };
                if root && k == "metadata" {
                    return true;
                }
                !(is_non_nullable_null(child, cs) && cs.node().default.is_none())
            });
            for (k, child) in map.iter_mut() {
                if root && k == "metadata" {
                    continue;
                }
                if let Some(cs) = s.property(k).or_else(|| s.additional_properties()) {
                    prune_nulls(child, cs, false, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.items() {
                for item in items {
                    prune_nulls(item, is, false, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// `structuraldefaulting.Default`.
pub(crate) fn apply(v: &mut Value, s: Schema<'_>, compiled: &Compiled, root: bool, depth: usize) {
    if depth > MAX_DEPTH || !compiled.defaults_below(s.id()) {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, prop) in s.properties() {
                if root && k == "metadata" {
                    continue;
                }
                let Some(default) = prop.node().default.as_ref() else {
                    continue;
                };
                match map.get(k) {
                    Some(existing) if !is_non_nullable_null(existing, prop) => {}
                    _ => {
                        map.insert(k.to_owned(), default.clone());
                    }
                }
            }
            for (k, child) in map.iter_mut() {
                if root && k == "metadata" {
                    continue;
                }
                if let Some(prop) = s.property(k) {
                    apply(child, prop, compiled, false, depth + 1);
                } else if let Some(ap) = s.additional_properties() {
                    if is_non_nullable_null(child, ap)
                        && let Some(d) = ap.node().default.as_ref()
                    {
                        *child = d.clone();
                    }
                    apply(child, ap, compiled, false, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.items() {
                for item in items.iter_mut() {
                    if is_non_nullable_null(item, is)
                        && let Some(d) = is.node().default.as_ref()
                    {
                        *item = d.clone();
                    }
                    apply(item, is, compiled, false, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Whether any node reachable from `s` declares a default (skips the walk when none does).
pub(crate) fn has_defaults(s: Schema<'_>) -> bool {
    let set = s.set();
    let mut seen = vec![false; set.len()];
    let mut stack = vec![s.id()];
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id as usize], true) {
            continue;
        }
        let node = set.get(id);
        if node.node().default.is_some() {
            return true;
        }
        stack.extend(node.properties().map(|(_, p)| p.id()));
        stack.extend(node.items().map(|i| i.id()));
        stack.extend(node.additional_properties().map(|a| a.id()));
    }
    false
}
