//! Shared building blocks of Flux's APIs (`fluxcd/pkg/apis/meta`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A reference to an object in the same namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LocalObjectReference {
    pub name: String,
}

/// A key of a Secret in the same namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecretKeyReference {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// An object of a given kind, possibly in another namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedObjectKindReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A reference to another object of the same kind, possibly in another namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedObjectReference {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The output of a source reconcile: a tarball in the artifact store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Path relative to the storage root.
    pub path: String,
    /// HTTP address the artifact is served from.
    pub url: String,
    /// Human-readable identifier, e.g. `main@sha1:<hash>`.
    pub revision: String,
    /// `sha256:<hex>` of the tarball.
    #[schemars(regex(pattern = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"))]
    pub digest: String,
    /// RFC 3339.
    #[schemars(extend("format" = "date-time"))]
    pub last_update_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// A label/annotation set applied to every object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommonMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// A kustomize-style selector of objects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
}

/// The parts of a revision string `<ref>@<algo>:<digest>` (RFC-0005).
pub fn revision_digest(revision: &str) -> &str {
    revision
        .rsplit_once('@')
        .map_or(revision, |(_, digest)| digest)
}

/// A revision shortened for display: the ref and the first 7 characters of the checksum
/// (`main@sha1:1eabc9a`), as Flux prints it in events.
pub fn short_revision(revision: &str) -> String {
    let (name, digest) = match revision.rsplit_once('@') {
        Some((name, digest)) => (Some(name), digest),
        None => (None, revision),
    };
    let short = match digest.split_once(':') {
        Some((algo, sum)) => format!("{algo}:{}", &sum[..sum.len().min(7)]),
        None => digest.to_owned(),
    };
    match name {
        Some(name) => format!("{name}@{short}"),
        None => short,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_shorten_like_flux() {
        let rev = "main@sha1:1eabc9a41ea6b5b0e3a1e2cb1e1e6b8c3b3f8e21";
        assert_eq!(
            revision_digest(rev),
            "sha1:1eabc9a41ea6b5b0e3a1e2cb1e1e6b8c3b3f8e21"
        );
        assert_eq!(short_revision(rev), "main@sha1:1eabc9a");
        assert_eq!(short_revision("sha256:abcdef0123"), "sha256:abcdef0");
        assert_eq!(short_revision("6.0.3"), "6.0.3");
    }
}
