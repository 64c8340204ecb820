//! Which extracted trees are held, and which is the newest of each source.

use std::{collections::HashMap, path::PathBuf, sync::Weak};

/// The trees this process extracted: which are held, and which is the newest of each source.
/// A tree that is neither is removed when a newer one of any source is published, so the
/// cache holds about one tree per source however many revisions pass.
#[derive(Default)]
pub(super) struct Trees {
    /// The trees handed out, by digest hex: one that is held is never unpacked over or removed.
    pub(super) held: HashMap<String, Weak<PathBuf>>,
    /// The source (lineage) of each tree extracted here, by digest hex.
    lineage_of: HashMap<String, String>,
    /// The newest tree of each source.
    newest: HashMap<String, String>,
}

impl Trees {
    pub(super) fn is_held(&self, hex: &str) -> bool {
        self.held.get(hex).is_some_and(|w| w.strong_count() > 0)
    }

    pub(super) fn set_newest(&mut self, hex: &str, lineage: &str) {
        self.lineage_of.insert(hex.to_owned(), lineage.to_owned());
        self.newest.insert(lineage.to_owned(), hex.to_owned());
    }

    /// The trees extracted here that are neither held nor the newest of their source.
    pub(super) fn stale(&self) -> Vec<String> {
        self.lineage_of
            .iter()
            .filter(|(hex, lineage)| self.newest.get(*lineage) != Some(*hex) && !self.is_held(hex))
            .map(|(hex, _)| hex.clone())
            .collect()
    }

    /// Forgets the tree of `hex` (moved or removed).
    pub(super) fn forget(&mut self, hex: &str) {
        self.held.remove(hex);
        self.lineage_of.remove(hex);
    }
}
