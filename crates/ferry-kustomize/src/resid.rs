//! Resource identity as kustomize sees it: group/version/kind, name and namespace, with
//! kustomize's notion of cluster scope, equality and selection.

use std::fmt;

/// A group/version/kind. Empty components are wildcards when used as a selector.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// Split an apiVersion into group and version (`apps/v1` -> `apps`, `v1`; `v1` -> ``, `v1`).
pub fn parse_group_version(api_version: &str) -> (&str, &str) {
    match api_version.find('/') {
        Some(i) => (&api_version[..i], &api_version[i + 1..]),
        None => ("", api_version),
    }
}

impl Gvk {
    pub fn new(group: &str, version: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (g, v) = parse_group_version(api_version);
        Gvk::new(g, v, kind)
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Does `selector` select this GVK? Empty selector fields match anything.
    pub fn is_selected(&self, selector: &Gvk) -> bool {
        (selector.group.is_empty() || selector.group == self.group)
            && (selector.version.is_empty() || selector.version == self.version)
            && (selector.kind.is_empty() || selector.kind == self.kind)
    }

    /// Kinds kustomize knows to be cluster-scoped (from the Kubernetes OpenAPI it embeds).
    /// Anything else, custom kinds included, is treated as namespaced.
    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped(&self.group, &self.kind)
    }
}

pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    // Most objects are namespaced: reject quickly on the kind's first letter before scanning.
    let Some(first) = kind.as_bytes().first() else {
        return false;
    };
    if !CLUSTER_SCOPED_INITIALS.contains(first) {
        return false;
    }
    CLUSTER_SCOPED
        .iter()
        .any(|(g, k)| *k == kind && *g == group)
}

const CLUSTER_SCOPED_INITIALS: &[u8] = b"ACDFIMNPRSTV";

/// A resource's current id, borrowed from the object (no allocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IdRef<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
}

impl<'a> IdRef<'a> {
    pub fn effective_namespace(&self) -> &'a str {
        if is_cluster_scoped(self.group, self.kind) {
            NOT_A_NAMESPACE
        } else if self.namespace.is_empty() || self.namespace == DEFAULT_NAMESPACE {
            DEFAULT_NAMESPACE
        } else {
            self.namespace
        }
    }

    /// kustomize's ResId.Equals against an owned id.
    pub fn equals(&self, o: &ResId) -> bool {
        self.name == o.name
            && self.kind == o.gvk.kind
            && self.group == o.gvk.group
            && self.version == o.gvk.version
            && self.effective_namespace() == o.effective_namespace()
    }

    /// The identity kustomize compares: GVK, name and effective namespace.
    pub fn key(&self) -> (&'a str, &'a str, &'a str, &'a str, &'a str) {
        (
            self.group,
            self.version,
            self.kind,
            self.name,
            self.effective_namespace(),
        )
    }
}

/// (group, kind) of the cluster-scoped kinds of the Kubernetes API (1.35 OpenAPI: the kinds
/// whose paths carry no `/namespaces/{namespace}/` segment), plus older groups kustomize's
/// schema still knows.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "ComponentStatus"),
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"),
    ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("policy", "PodSecurityPolicy"),
    ("extensions", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "DeviceTaintRule"),
    ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
];

impl fmt::Display for Gvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or = |s: &str, d: &'static str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        write!(
            f,
            "{}.{}.{}",
            or(&self.kind, "[noKind]"),
            or(&self.version, "[noVer]"),
            or(&self.group, "[noGrp]")
        )
    }
}

/// A resource id: GVK, name and namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResId {
    pub gvk: Gvk,
    pub name: String,
    pub namespace: String,
}

pub const DEFAULT_NAMESPACE: &str = "default";
/// What kustomize records as the namespace of a cluster-scoped object.
pub const NOT_A_NAMESPACE: &str = "_non_namespaceable_";

impl ResId {
    pub fn new(gvk: Gvk, name: &str, namespace: &str) -> ResId {
        ResId {
            gvk,
            name: name.to_string(),
            namespace: namespace.to_string(),
        }
    }

    /// kustomize's effective namespace: a fixed marker for cluster-scoped kinds, `default` for
    /// an empty namespace.
    pub fn effective_namespace(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            NOT_A_NAMESPACE
        } else if self.namespace.is_empty() || self.namespace == DEFAULT_NAMESPACE {
            DEFAULT_NAMESPACE
        } else {
            &self.namespace
        }
    }

    pub fn is_ns_equals(&self, o: &ResId) -> bool {
        self.effective_namespace() == o.effective_namespace()
    }

    pub fn gvkn_equals(&self, o: &ResId) -> bool {
        self.name == o.name && self.gvk == o.gvk
    }

    pub fn equals(&self, o: &ResId) -> bool {
        self.is_ns_equals(o) && self.gvkn_equals(o)
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        write!(f, "{}/{}.{}", self.gvk, self.name, ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_like_kustomize() {
        let id = ResId::new(Gvk::from_api_version("apps/v1", "Deployment"), "banana", "");
        assert_eq!(id.to_string(), "Deployment.v1.apps/banana.[noNs]");
        let id = ResId::new(Gvk::from_api_version("v1", "Deployment"), "proxy", "");
        assert_eq!(id.to_string(), "Deployment.v1.[noGrp]/proxy.[noNs]");
    }

    #[test]
    fn namespaces_compare_effectively() {
        let a = ResId::new(Gvk::from_api_version("v1", "ConfigMap"), "a", "");
        let b = ResId::new(Gvk::from_api_version("v1", "ConfigMap"), "a", "default");
        assert!(a.equals(&b));
        let c = ResId::new(Gvk::from_api_version("v1", "Namespace"), "a", "x");
        let d = ResId::new(Gvk::from_api_version("v1", "Namespace"), "a", "");
        assert!(c.equals(&d));
    }
}
