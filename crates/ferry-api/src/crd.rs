//! The CustomResourceDefinitions ferry installs, generated from the types of this crate.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube_core::CustomResourceExt;

/// Every CRD of the kinds ferry reconciles, in apply order.
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![crate::GitRepository::crd(), crate::Kustomization::crd()]
}
