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
//! patches in place as the API server does; [`smp::json_merge_patch`] is RFC 7386.

pub mod model;
pub mod openapi;
pub mod registry;
pub mod smp;
pub mod ssa;

pub use model::{JsonType, ListType, MapType, Schema};
pub use registry::{Gvk, Registry, RegistryError, SchemaSource, TypeSchema};
