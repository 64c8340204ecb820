//! The registry of Argo CD-view rules: which rule judges which group and kind, and the verdict
//! type every rule returns.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::object::Object;
use crate::status::{Basis, Status};

/// A rule's verdict in Argo CD's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The status.
    pub status: Status,
    /// Why ("" when there is nothing to add).
    pub message: String,
}

impl Verdict {
    /// A verdict with a message.
    pub fn new(status: Status, message: impl Into<String>) -> Verdict {
        Verdict {
            status,
            message: message.into(),
        }
    }
}

/// `Some(Healthy)` with a message.
pub fn healthy(message: impl Into<String>) -> Option<Verdict> {
    Some(Verdict::new(Status::Healthy, message))
}

/// `Some(Progressing)` with a message.
pub fn progressing(message: impl Into<String>) -> Option<Verdict> {
    Some(Verdict::new(Status::Progressing, message))
}

/// `Some(Degraded)` with a message.
pub fn degraded(message: impl Into<String>) -> Option<Verdict> {
    Some(Verdict::new(Status::Degraded, message))
}

/// `Some(Suspended)` with a message.
pub fn suspended(message: impl Into<String>) -> Option<Verdict> {
    Some(Verdict::new(Status::Suspended, message))
}

/// `Some(Unknown)` with a message.
pub fn unknown(message: impl Into<String>) -> Option<Verdict> {
    Some(Verdict::new(Status::Unknown, message))
}

/// `Some(Missing)` with a message (a few operators report a vanished backing resource so).
pub fn missing(message: impl Into<String>) -> Option<Verdict> {
    Some(Verdict::new(Status::Missing, message))
}

/// A rule: the Argo CD view of one object, or `None` for "no health".
pub type Rule = fn(&Object<'_>) -> Option<Verdict>;

/// One registration: the objects a rule judges.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The API group: exact, or `*.suffix` for every group ending in `.suffix`.
    pub group: &'static str,
    /// The kind: exact, or `*` for every kind of the group.
    pub kind: &'static str,
    /// The rule.
    pub rule: Rule,
    /// What kind of rule it is.
    pub basis: Basis,
}

/// Shorthand for a rule for a well-known custom resource.
pub const fn ecosystem(group: &'static str, kind: &'static str, rule: Rule) -> Entry {
    Entry {
        group,
        kind,
        rule,
        basis: Basis::Ecosystem,
    }
}

/// Shorthand for a rule for a Kubernetes built-in kind.
pub const fn core(group: &'static str, kind: &'static str, rule: Rule) -> Entry {
    Entry {
        group,
        kind,
        rule,
        basis: Basis::Core,
    }
}

struct Registry {
    /// Exact kinds, each with its groups (exact or suffix patterns).
    by_kind: HashMap<&'static str, Vec<Entry>>,
    /// Entries whose kind is `*`.
    any_kind: Vec<Entry>,
}

fn group_matches(pattern: &str, group: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => group.len() > suffix.len() && group.ends_with(suffix),
        None => pattern == group,
    }
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut by_kind: HashMap<&'static str, Vec<Entry>> = HashMap::new();
    let mut any_kind = Vec::new();
    for entry in crate::kinds::all() {
        if entry.kind == "*" {
            any_kind.push(entry);
        } else {
            by_kind.entry(entry.kind).or_default().push(entry);
        }
    }
    // Exact groups before suffix patterns, so a specific rule wins over a family rule.
    for entries in by_kind.values_mut() {
        entries.sort_by_key(|e| e.group.starts_with('*'));
    }
    any_kind.sort_by_key(|e| e.group.starts_with('*'));
    Registry { by_kind, any_kind }
});

/// The rule for a group and kind, if ferry has one.
pub fn lookup(group: &str, kind: &str) -> Option<(Rule, Basis)> {
    let registry = &*REGISTRY;
    registry
        .by_kind
        .get(kind)
        .and_then(|entries| entries.iter().find(|e| group_matches(e.group, group)))
        .or_else(|| {
            registry
                .any_kind
                .iter()
                .find(|e| group_matches(e.group, group))
        })
        .map(|e| (e.rule, e.basis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_patterns_need_a_label_before_the_suffix() {
        assert!(group_matches("*.crossplane.io", "rds.aws.crossplane.io"));
        assert!(!group_matches("*.crossplane.io", ".crossplane.io"));
        assert!(!group_matches("*.crossplane.io", "crossplane.io.evil"));
        assert!(group_matches("apps", "apps"));
        assert!(!group_matches("apps", "apps.kruise.io"));
    }

    #[test]
    fn the_registry_has_no_duplicate_registration() {
        let mut seen = std::collections::HashSet::new();
        for e in crate::kinds::all() {
            assert!(
                seen.insert((e.group, e.kind)),
                "{}/{} registered twice",
                e.group,
                e.kind
            );
        }
    }
}
