//! What a watch of the applied objects already knows about them. A [`crate::ResourceManager`]
//! given a [`LiveCache`] compares a dry-run result with the watched state instead of reading
//! the live object first, and a health check can take a watched verdict instead of reading it
//! again: the reads that dominate a reconcile whose objects mostly did not change.

use ferry_api::ObjMetadata;

/// A watch's latest view of objects.
pub trait LiveCache: Send + Sync {
    /// The object's state as of its latest watch event, or `None` when the watch of its kind
    /// is not listing (or never saw it): the caller then reads the object itself.
    fn lookup(&self, object: &ObjMetadata) -> Option<Watched>;
}

/// One object as a watch last saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    pub resource_version: String,
    /// [`crate::drift::fingerprint`] of the object.
    pub fingerprint: u64,
    /// Whether it holds fields of kubectl's managers or client-side-apply leftovers that an
    /// apply must first take back (see [`crate::cleanup`]).
    pub needs_cleanup: bool,
    /// Whether it is Current by kstatus.
    pub current: bool,
}

impl Watched {
    /// What the watch knows of `live` (an object as the API returned it), for the field manager
    /// `field_manager`.
    pub fn of(live: &serde_json::Value, field_manager: &str, current: bool) -> Self {
        Self {
            resource_version: crate::object::resource_version(live)
                .unwrap_or_default()
                .to_owned(),
            fingerprint: crate::drift::fingerprint(live),
            needs_cleanup: crate::cleanup::needs_cleanup(live, field_manager),
            current,
        }
    }
}

/// Whether resourceVersion `seen` is the same as or later than `wanted`. Kubernetes calls
/// resourceVersions opaque, but etcd's revisions and ferry's are increasing integers, which is
/// what watch caches compare; anything else counts as later only when equal.
pub fn at_least(seen: &str, wanted: &str) -> bool {
    match (seen.parse::<u64>(), wanted.parse::<u64>()) {
        (Ok(seen), Ok(wanted)) => seen >= wanted,
        _ => seen == wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_numeric_versions_by_value() {
        assert!(at_least("10", "9"));
        assert!(at_least("9", "9"));
        assert!(!at_least("9", "10"));
        assert!(at_least("abc", "abc"));
        assert!(!at_least("abd", "abc"));
    }
}
