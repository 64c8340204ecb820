//! `.Capabilities`: the Kubernetes version, the API versions and the Helm build Helm v4.2.3
//! reports when rendering without a cluster.

use std::rc::Rc;

use crate::object::{Object, Sig};
use crate::value::{Entries, ListKind, Value};

/// Helm v4.2.3's default Kubernetes version (client-go v0.36).
pub const DEFAULT_KUBE_VERSION: &str = "v1.36.0";

/// Helm v4.2.3's default API versions (`DefaultVersionSet`), in its order.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha2",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// The Helm build the SDK reports (`.Capabilities.HelmVersion`), as the v4.2.3 SDK library
/// reports it.
pub const HELM_VERSION: &str = "v4.2";
pub const HELM_GO_VERSION: &str = "go1.26.6";
pub const HELM_KUBE_CLIENT_VERSION: &str = "v1.36";

/// `common.KubeVersion`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeVersion {
    pub version: String,
    pub major: String,
    pub minor: String,
}

impl KubeVersion {
    /// Helm's `ParseKubeVersion`: any semver, printed as `v<major>.<minor>.<patch>...`.
    pub fn parse(s: &str) -> Result<KubeVersion, String> {
        let v = crate::funcs::semver::Version::parse(s)
            .map_err(|e| format!("invalid kube version {s:?}: {e}"))?;
        Ok(KubeVersion {
            version: format!("v{}", v.canonical()),
            major: v.major.to_string(),
            minor: v.minor.to_string(),
        })
    }
}

struct KubeVersionObj(KubeVersion);

impl Object for KubeVersionObj {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn type_name(&self) -> &'static str {
        "common.KubeVersion"
    }
    fn kind_name(&self) -> &'static str {
        "struct"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::str(&self.0.version)),
            "Major" => Some(Value::str(&self.0.major)),
            "Minor" => Some(Value::str(&self.0.minor)),
            _ => None,
        }
    }
    fn method(&self, name: &str) -> Option<Sig> {
        matches!(name, "String" | "GitVersion").then_some(Sig::NONE)
    }
    fn call(&self, _name: &str, _args: &[Value]) -> Result<Value, String> {
        Ok(Value::str(&self.0.version))
    }
    fn stringer(&self) -> Option<String> {
        Some(self.0.version.clone())
    }
    fn json(&self) -> Value {
        let mut e = Entries::new();
        e.insert(Rc::from("Version"), Value::str(&self.0.version));
        e.insert(Rc::from("Major"), Value::str(&self.0.major));
        e.insert(Rc::from("Minor"), Value::str(&self.0.minor));
        Value::map(e)
    }
    fn json_struct(&self) -> Option<Vec<(&'static str, Value)>> {
        Some(vec![
            ("Version", Value::str(&self.0.version)),
            ("Major", Value::str(&self.0.major)),
            ("Minor", Value::str(&self.0.minor)),
        ])
    }
}

struct BuildInfo;

impl Object for BuildInfo {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn type_name(&self) -> &'static str {
        "version.BuildInfo"
    }
    fn kind_name(&self) -> &'static str {
        "struct"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::str(HELM_VERSION)),
            "GitCommit" | "GitTreeState" => Some(Value::str("")),
            "GoVersion" => Some(Value::str(HELM_GO_VERSION)),
            "KubeClientVersion" => Some(Value::str(HELM_KUBE_CLIENT_VERSION)),
            _ => None,
        }
    }
    fn format_fields(&self) -> String {
        format!("{{{HELM_VERSION}   {HELM_GO_VERSION} {HELM_KUBE_CLIENT_VERSION}}}")
    }
    fn json(&self) -> Value {
        let mut e = Entries::new();
        e.insert(Rc::from("version"), Value::str(HELM_VERSION));
        e.insert(Rc::from("go_version"), Value::str(HELM_GO_VERSION));
        e.insert(
            Rc::from("kube_client_version"),
            Value::str(HELM_KUBE_CLIENT_VERSION),
        );
        Value::map(e)
    }
    fn json_struct(&self) -> Option<Vec<(&'static str, Value)>> {
        Some(vec![
            ("version", Value::str(HELM_VERSION)),
            ("go_version", Value::str(HELM_GO_VERSION)),
            ("kube_client_version", Value::str(HELM_KUBE_CLIENT_VERSION)),
        ])
    }
}

/// `*common.Capabilities`.
pub struct Capabilities {
    kube: Rc<KubeVersionObj>,
    api_versions: Value,
}

impl Capabilities {
    pub fn new(kube: KubeVersion, api_versions: &[String]) -> Capabilities {
        let items = api_versions.iter().map(|v| Value::str(v)).collect();
        Capabilities {
            kube: Rc::new(KubeVersionObj(kube)),
            api_versions: Value::list_of(ListKind::VersionSet, items),
        }
    }
}

impl Object for Capabilities {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn type_name(&self) -> &'static str {
        "*common.Capabilities"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(self.kube.clone())),
            "APIVersions" => Some(self.api_versions.clone()),
            "HelmVersion" => Some(Value::Object(Rc::new(BuildInfo))),
            _ => None,
        }
    }
    fn format_fields(&self) -> String {
        format!(
            "{{{} {} {}}}",
            self.kube.0.version,
            crate::gofmt::format_v(&self.api_versions),
            BuildInfo.format_fields()
        )
    }
    fn json(&self) -> Value {
        let mut e = Entries::new();
        e.insert(Rc::from("KubeVersion"), self.kube.json());
        e.insert(Rc::from("APIVersions"), self.api_versions.clone());
        e.insert(Rc::from("HelmVersion"), BuildInfo.json());
        Value::map(e)
    }
    fn json_struct(&self) -> Option<Vec<(&'static str, Value)>> {
        Some(vec![
            ("KubeVersion", Value::Object(self.kube.clone())),
            ("APIVersions", self.api_versions.clone()),
            ("HelmVersion", Value::Object(Rc::new(BuildInfo))),
        ])
    }
}
