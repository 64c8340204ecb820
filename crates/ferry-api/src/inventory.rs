//! The inventory of applied objects in Flux's format: entries `{id, v}` where the id is
//! `<namespace>_<name>_<group>_<kind>` (cli-utils' ObjMetadata string) and `v` the version.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `status.inventory`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceInventory {
    pub entries: Vec<ResourceRef>,
}

/// One inventory entry.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ResourceRef {
    pub id: String,
    pub v: String,
}

/// The identity of an object: namespace, name, group and kind (no version: an object keeps its
/// identity across API versions).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjMetadata {
    pub namespace: String,
    pub name: String,
    pub group: String,
    pub kind: String,
}

/// An inventory id that does not have four `_`-separated fields.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid inventory entry id {0:?}: expected <namespace>_<name>_<group>_<kind>")]
pub struct InvalidId(pub String);

impl ObjMetadata {
    /// Parses an inventory id as cli-utils does: the namespace up to the first `_`, the kind after
    /// the last, the group before that, and the name in between (where `__` stands for `:`, as
    /// in RBAC names like `system:controller`).
    pub fn parse(id: &str) -> Result<Self, InvalidId> {
        let invalid = || InvalidId(id.to_owned());
        let (namespace, rest) = id.split_once('_').ok_or_else(invalid)?;
        let (rest, kind) = rest.rsplit_once('_').ok_or_else(invalid)?;
        let (name, group) = rest.rsplit_once('_').ok_or_else(invalid)?;
        if name.is_empty() || kind.is_empty() {
            return Err(invalid());
        }
        Ok(Self {
            namespace: namespace.to_owned(),
            name: name.replace("__", ":"),
            group: group.to_owned(),
            kind: kind.to_owned(),
        })
    }

    /// The inventory id (`__` for `:` in names, as cli-utils writes RBAC names like
    /// `system:controller`).
    pub fn id(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.namespace,
            self.name.replace(':', "__"),
            self.group,
            self.kind
        )
    }
}

impl fmt::Display for ObjMetadata {
    /// `Kind/namespace/name`, the form Flux's messages use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl ResourceInventory {
    /// The objects of this inventory with their versions; invalid entries are reported.
    pub fn objects(&self) -> Result<Vec<(ObjMetadata, String)>, InvalidId> {
        self.entries
            .iter()
            .map(|e| Ok((ObjMetadata::parse(&e.id)?, e.v.clone())))
            .collect()
    }

    /// Builds an inventory from objects and versions, sorted by id for stable status.
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = (&'a ObjMetadata, &'a str)>) -> Self {
        let mut entries: Vec<ResourceRef> = objects
            .into_iter()
            .map(|(o, v)| ResourceRef {
                id: o.id(),
                v: v.to_owned(),
            })
            .collect();
        entries.sort();
        entries.dedup();
        Self { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_in_flux_format() {
        let dep = ObjMetadata::parse("default_podinfo_apps_Deployment").unwrap();
        assert_eq!(dep.group, "apps");
        assert_eq!(dep.to_string(), "Deployment/default/podinfo");
        let ns = ObjMetadata::parse("_flux-system__Namespace").unwrap();
        assert_eq!((ns.namespace.as_str(), ns.group.as_str()), ("", ""));
        assert_eq!(ns.id(), "_flux-system__Namespace");
        let role = ObjMetadata {
            namespace: String::new(),
            name: "system:aggregate".into(),
            group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
        };
        assert_eq!(ObjMetadata::parse(&role.id()).unwrap(), role);
        assert!(ObjMetadata::parse("a_b_c").is_err());
    }
}
