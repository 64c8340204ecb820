//! Kubernetes schema knowledge shared by the kustomize engine and the embedded API server:
//! OpenAPI-derived tables (merge keys, list and map types), strategic merge patch,
//! server-side apply field sets and structural-schema validation, pruning and defaulting.

pub mod openapi;
