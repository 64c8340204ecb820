//! What a watch of the applied objects already knows about them. A [`crate::ResourceManager`]
//! given a [`LiveCache`] compares a dry-run result with the watched state instead of reading
//! the live object first, and a health check can take a watched verdict instead of reading it
//! again: the reads that dominate a reconcile whose objects mostly did not change.
//!
//! The cache also remembers what the last apply of each object left ([`Settled`]): applying
//! the same manifest again to an object the watch still sees as that apply left it would
//! change nothing, so even the dry-run is skipped. And an object whose manifest changed since
//! that apply will change, so it is applied without asking a dry-run first.

use std::time::{Duration, Instant};

use ferry_api::ObjMetadata;

/// A watch's latest view of objects, and what ferry's last apply of each left.
pub trait LiveCache: Send + Sync {
    /// The object's state as of its latest watch event, or `None` when the watch of its kind
    /// is not listing (or never saw it): the caller then reads the object itself.
    fn lookup(&self, object: &ObjMetadata) -> Option<Watched>;

    /// What the last apply (or dry-run found unchanged) of the object left, if remembered.
    fn settled(&self, object: &ObjMetadata) -> Option<Settled>;

    /// Remembers what an apply (or a dry-run found unchanged) of the object left.
    fn settle(&self, object: &ObjMetadata, settled: Settled);
}

/// What applying one manifest to an object left: the manifest's hash and the resulting
/// object's [`crate::drift::fingerprint`], resourceVersion and kstatus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    /// [`crate::drift::manifest_hash`] of the object as submitted.
    pub manifest: u64,
    pub fingerprint: u64,
    pub resource_version: String,
    /// Whether the object the API server answered with was Current by kstatus: a health check
    /// of that version needs no read of its own before the watch reports it.
    pub current: bool,
    pub at: Instant,
}

impl Settled {
    /// Whether applying the manifest hashed `manifest` to the object `watched` would change
    /// nothing, without asking the API server: the same manifest was applied less than
    /// `max_age` ago, and the watch has seen the result of that apply (or later) with the same
    /// fingerprint, so nobody changed what an apply sets (a status write may have happened).
    /// Server-side apply of the same input onto the same fields gives the same fields; `max_age`
    /// bounds how long that is trusted across changes the watch cannot see (a CRD's defaults,
    /// admission), as Flux's full re-apply every interval does.
    pub fn still_holds(&self, manifest: u64, watched: &Watched, max_age: Duration) -> bool {
        self.manifest == manifest
            && self.fingerprint == watched.fingerprint
            && at_least(&watched.resource_version, &self.resource_version)
            && self.at.elapsed() < max_age
    }
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

    fn watched(resource_version: &str, fingerprint: u64) -> Watched {
        Watched {
            resource_version: resource_version.to_owned(),
            fingerprint,
            needs_cleanup: false,
            current: true,
        }
    }

    #[test]
    fn a_settled_apply_holds_only_for_the_same_manifest_and_fields() {
        let settled = Settled {
            manifest: 7,
            fingerprint: 42,
            resource_version: "10".to_owned(),
            current: true,
            at: Instant::now(),
        };
        let hour = Duration::from_secs(3600);
        // A later status write leaves the fingerprint: still holds.
        assert!(settled.still_holds(7, &watched("12", 42), hour));
        assert!(settled.still_holds(7, &watched("10", 42), hour));
        // Another manifest, someone else's change, a watch not yet at the apply, too old.
        assert!(!settled.still_holds(8, &watched("12", 42), hour));
        assert!(!settled.still_holds(7, &watched("12", 43), hour));
        assert!(!settled.still_holds(7, &watched("9", 42), hour));
        assert!(!settled.still_holds(7, &watched("12", 42), Duration::ZERO));
    }
}
