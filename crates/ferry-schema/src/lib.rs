//! Kubernetes schema knowledge shared by the kustomize engine and the embedded API server.
//!
//! # Schemas: [`Registry`]
//! ```
//! use ferry_schema::{Registry, Gvk};
//! let registry = Registry::builtin();            // Kubernetes 1.35, converted lazily per group-version
//! let deploy = registry.lookup("apps/v1", "Deployment").unwrap();
//! let containers = deploy.root().property("spec").unwrap()
//!     .property("template").unwrap().property("spec").unwrap().property("containers").unwrap();
//! assert_eq!(containers.patch_merge_key(), Some("name"));
//! ```
//! - [`Registry::builtin`] / [`Registry::empty`] (kustomize's `openapi:` replaces the built-in schema).
//! - [`Registry::get`] / [`Registry::lookup`] / [`Registry::for_object`] return an
//!   `Arc<`[`TypeSchema`]`>`; [`TypeSchema::root`] gives a [`Schema`] handle to walk
//!   (`property`, `field`, `items`, `additional_properties`, extensions on [`Schema::node`]).
//! - [`Registry::add_crd`] (a CustomResourceDefinition as JSON) / [`Registry::remove_crd`] at
//!   runtime; [`Registry::add_openapi_document`] for OpenAPI v2 or v3 documents.
//! - [`openapi`] gives the embedded documents the server serves at /openapi/v2 and /openapi/v3.
//!
//! # Strategic merge patch: [`smp`]
//! [`smp::strategic_merge`]`(&mut object, &patch, Some(schema.root()), Flavor::Apimachinery)`
//! patches in place as the API server does (`kubectl patch --type strategic`);
//! `Flavor::Kustomize` reproduces `kustomize build` patches (kyaml merge2; the object becomes
//! `null` when the patch deletes it). Errors are [`smp::SmpError`] with apimachinery's messages.
//! [`smp::json_merge_patch`] is RFC 7386 (custom resources, `application/merge-patch+json`).
//!
//! # Server-side apply: [`ssa`]
//! ```
//! use ferry_schema::{Registry, ssa::{self, Request}};
//! use serde_json::json;
//! let registry = Registry::builtin();
//! let cm = registry.lookup("v1", "ConfigMap").unwrap();
//! let req = Request { manager: "kubectl", subresource: None, api_version: "v1",
//!                     now: "2026-01-01T00:00:00Z", status_subresource: false };
//! let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
//! let live = ssa::apply(None, &applied, &req, false, Some(cm.root())).unwrap();
//! assert_eq!(live["metadata"]["managedFields"][0]["operation"], "Apply");
//! ```
//! - [`ssa::apply`]`(live, applied, &req, force, schema)` → new object with
//!   `metadata.managedFields`, or [`ssa::SsaError::Conflicts`] (409; its `Display` is the
//!   message kubectl shows, [`ssa::Conflicts::causes`] the Status causes).
//! - [`ssa::record_update`]`(old, &mut new, &req, schema)` for POST/PUT/PATCH (operation `Update`).
//! - [`ssa::FieldSet`] reads and writes `FieldsV1`.
//!
//! # Validation: [`validation`]
//! What the API server checks on writes, with its messages and Status shapes: unknown and
//! duplicate fields for `fieldValidation` ([`validation::strict`]), then
//! [`validation::admit`]: pruning, custom resources' defaults and structural validation with
//! CEL rules (compiled once per schema), CRDs themselves and the built-in kinds' rules.
//! [`validation::default_custom_resource`] is the read path. Errors are
//! [`validation::ValidationError`]s; [`validation::ValidationError::status`] is the response
//! body. The module documentation lists the calls for each verb.
//! ```
//! use ferry_schema::{Registry, validation::{self, FieldValidation, strict::{self, Request}}};
//! let registry = Registry::builtin();
//! let ts = registry.lookup("apps/v1", "Deployment").unwrap();
//! let body = br#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"foo":1}}"#;
//! let findings = strict::check_body(body, false, &ts);
//! let err = findings
//!     .resolve(FieldValidation::Strict, Request::Body { kind: "Deployment", version: "v1" })
//!     .unwrap_err();
//! assert_eq!(err.code(), 400);
//! assert_eq!(
//!     err.message(),
//!     r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo""#
//! );
//! ```

pub mod model;
pub mod openapi;
pub mod registry;
pub mod smp;
pub mod ssa;
pub mod validation;

pub use model::{JsonType, ListType, MapType, Schema};
pub use registry::{Gvk, Registry, RegistryError, SchemaSource, TypeSchema};
