//! `notification.toolkit.fluxcd.io/v1` Receiver: a webhook address that, when a git host or a
//! registry calls it, asks the referenced objects to reconcile at once
//! (`reconcile.fluxcd.io/requestedAt`). Field names, enums and defaults are Flux's.

use std::collections::BTreeMap;

use kube_derive::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{condition::Condition, meta::LocalObjectReference};

pub const GROUP: &str = "notification.toolkit.fluxcd.io";
pub const VERSION: &str = "v1";

/// Prefix of every webhook path (`/hook/<sha256 hex>`).
pub const WEBHOOK_PATH_PREFIX: &str = "/hook/";

/// Receiver types, as Flux spells them.
pub mod kind {
    pub const GENERIC: &str = "generic";
    pub const GENERIC_HMAC: &str = "generic-hmac";
    pub const GENERIC_OIDC: &str = "generic-oidc";
    pub const GITHUB: &str = "github";
    pub const GITLAB: &str = "gitlab";
    pub const BITBUCKET: &str = "bitbucket";
    pub const HARBOR: &str = "harbor";
    pub const DOCKERHUB: &str = "dockerhub";
    pub const QUAY: &str = "quay";
    pub const GCR: &str = "gcr";
    pub const NEXUS: &str = "nexus";
    pub const ACR: &str = "acr";
    pub const CDEVENTS: &str = "cdevents";
}

/// Condition reasons of the Receiver (notification-controller's spellings).
pub mod reason {
    pub const TOKEN_NOT_FOUND: &str = "TokenNotFound";
    pub const VALIDATION_FAILED: &str = "ValidationFailed";
    pub const INITIALIZED: &str = "Initialized";
}

/// A webhook that requests the reconciliation of the listed objects.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    crates(kube_core = "::kube_core"),
    doc = "A webhook that requests the reconciliation of Flux objects (Flux's Receiver).",
    group = "notification.toolkit.fluxcd.io",
    version = "v1",
    kind = "Receiver",
    namespaced,
    status = "ReceiverStatus",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-notifications",
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].message"}"#
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"message": "generic-oidc receivers must define at least one oidcProvider",
     "rule": "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)"},
    {"message": "oidcProviders can only be set when type is generic-oidc",
     "rule": "self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0"},
    {"message": "secretRef cannot be set when type is generic-oidc",
     "rule": "self.type != 'generic-oidc' || !has(self.secretRef)"},
    {"message": "secretRef is required when type is not generic-oidc",
     "rule": "self.type == 'generic-oidc' || has(self.secretRef)"},
]))]
pub struct ReceiverSpec {
    /// Sender of the webhook: decides how a request is authenticated and read.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = [
        "generic", "generic-hmac", "generic-oidc", "github", "gitlab", "bitbucket", "harbor",
        "dockerhub", "quay", "gcr", "nexus", "acr", "cdevents"
    ]))]
    pub type_: String,
    /// How often the token Secret is read again (Go duration, `10m` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = crate::duration::CRD_PATTERN), extend("default" = "10m"))]
    pub interval: Option<String>,
    /// Event types handled (`push` for GitHub, `Push Hook` for GitLab); all when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// OIDC issuers trusted by a `generic-oidc` Receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend(
        "x-kubernetes-list-map-keys" = ["issuerURL"],
        "x-kubernetes-list-type" = "map"
    ))]
    pub oidc_providers: Option<Vec<OidcProvider>>,
    /// The objects asked to reconcile.
    pub resources: Vec<ReceiverResource>,
    /// CEL expression over `res` (the object) and `req` (the JSON body); an object is
    /// notified only when it is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_filter: Option<String>,
    /// Secret holding the `token` the requests are authenticated with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Ignore requests while true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// One object (or, with name `*` and matchLabels, a set of objects) to notify.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// CEL expression evaluated for this reference, in addition to `resourceFilter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[schemars(extend("enum" = [
        "Bucket", "GitRepository", "Kustomization", "HelmRelease", "HelmChart",
        "HelmRepository", "ImageRepository", "ImagePolicy", "ImageUpdateAutomation",
        "OCIRepository", "ArtifactGenerator", "ExternalArtifact"
    ]))]
    pub kind: String,
    /// Labels the objects must carry when `name` is `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// Name of the object, or `*` for every object matching `matchLabels`.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the object; the Receiver's when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub namespace: Option<String>,
}

/// An OIDC issuer of a `generic-oidc` Receiver.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OidcProvider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(rename = "issuerURL")]
    #[schemars(regex(pattern = "^https?://"))]
    pub issuer_url: String,
    #[schemars(length(min = 1))]
    pub validations: Vec<OidcValidation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<OidcVariable>>,
}

/// A CEL condition on the token claims.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OidcValidation {
    pub expression: String,
    pub message: String,
}

/// A named CEL expression over the token claims.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OidcVariable {
    pub expression: String,
    pub name: String,
}

/// What the controller made of the Receiver. A new object reads `observedGeneration: -1`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct ReceiverStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `/hook/<sha256 hex of token + name + namespace>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_path: Option<String>,
}

impl ReceiverSpec {
    /// `spec.interval`, `10m` when unset.
    pub fn interval_or_default(&self) -> &str {
        self.interval.as_deref().unwrap_or("10m")
    }

    /// Whether `spec.suspend` is true.
    pub fn suspended(&self) -> bool {
        self.suspend == Some(true)
    }
}
