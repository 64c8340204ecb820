//! Types of the APIs ferry serves and reads: Flux's toolkit groups and Argo CD's
//! `argoproj.io`, their conditions and reasons, the inventory entry format, and the
//! well-known annotation, label and field-manager names. Pure types: no client, no runtime.
//!
//! Field names, defaults and enums follow Flux's own CRDs so that a repository written for
//! Flux works unchanged; `crd` renders the CustomResourceDefinitions ferry installs.

pub mod condition;
pub mod crd;
pub mod duration;
pub mod inventory;
pub mod keys;
pub mod kustomize;
pub mod meta;
pub mod receiver;
pub mod source;

pub use condition::{Condition, ConditionStatus};
pub use duration::GoDuration;
pub use inventory::{ObjMetadata, ResourceInventory, ResourceRef};
pub use kustomize::{Kustomization, KustomizationSpec, KustomizationStatus};
pub use receiver::{Receiver, ReceiverSpec, ReceiverStatus};
pub use source::{GitRepository, GitRepositorySpec, GitRepositoryStatus};
