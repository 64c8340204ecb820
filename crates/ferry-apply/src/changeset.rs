//! What an apply or a prune did to each object.

use std::fmt;

use ferry_api::ObjMetadata;

/// The action taken on one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Created,
    Configured,
    Unchanged,
    Deleted,
    Skipped,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Configured => "configured",
            Self::Unchanged => "unchanged",
            Self::Deleted => "deleted",
            Self::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One object and what happened to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSetEntry {
    pub object: ObjMetadata,
    /// The API version it was applied with.
    pub version: String,
    pub action: Action,
    /// The object's resourceVersion after this action, when known: what a health check may
    /// take a watch's view at (see [`crate::live`]).
    pub resource_version: Option<String>,
}

impl fmt::Display for ChangeSetEntry {
    /// `Deployment/default/web configured`, the line Flux's events and CLI print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.object, self.action)
    }
}

/// The entries of one apply or prune, in the order they were processed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    pub entries: Vec<ChangeSetEntry>,
}

impl ChangeSet {
    pub fn push(&mut self, object: ObjMetadata, version: impl Into<String>, action: Action) {
        self.entries.push(ChangeSetEntry {
            object,
            version: version.into(),
            action,
            resource_version: None,
        });
    }

    pub fn extend(&mut self, other: ChangeSet) {
        self.entries.extend(other.entries);
    }

    /// Whether anything was created, configured or deleted.
    pub fn has_changes(&self) -> bool {
        self.entries.iter().any(|e| {
            matches!(
                e.action,
                Action::Created | Action::Configured | Action::Deleted
            )
        })
    }

    /// The lines of the entries that changed something, for events and logs.
    pub fn changes(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| !matches!(e.action, Action::Unchanged | Action::Skipped))
            .map(ToString::to_string)
            .collect()
    }

    pub fn count(&self, action: Action) -> usize {
        self.entries.iter().filter(|e| e.action == action).count()
    }
}
