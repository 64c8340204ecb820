//! Artifacts: the tar.gz of a source revision, its digest and revision, the store that keeps
//! them and the HTTP server other controllers download them from.

pub mod archive;
pub mod gzip;
pub mod ignore;
pub mod reuse;
pub mod server;
pub mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Flux's `meta.Artifact`, field for field (`fluxcd/pkg/apis/meta/artifact.go`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Path relative to the store root, e.g. `gitrepository/ns/name/<sha>.tar.gz`.
    pub path: String,
    /// Where consumers download it.
    pub url: String,
    /// `main@sha1:<hash>` and friends.
    pub revision: String,
    /// `sha256:<hex>` of the tar.gz.
    pub digest: String,
    /// RFC 3339.
    pub last_update_time: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// Which object an artifact belongs to: its directory in the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    /// Lower-case kind, e.g. `gitrepository`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn git_repository(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind: "gitrepository".into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}
