//! Gatekeeper ConstraintTemplates and Constraints evaluated on rendered manifests.
//!
//! This crate re-implements the part of OPA Gatekeeper that decides whether an object would be
//! admitted, without a cluster: ConstraintTemplates (`templates.gatekeeper.sh/v1`, `v1beta1`) are
//! compiled once, with their Rego (v0 syntax, run by [regorus]) and their `K8sNativeValidation`
//! CEL blocks (run by [kube_cel]); Constraints select objects with Gatekeeper's `spec.match` rules
//! and carry `input.parameters` and an `enforcementAction`.
//!
//! ```no_run
//! # fn demo(policies: Vec<serde_json::Value>, objects: Vec<serde_json::Value>) -> Result<(), ferry_policy::Error> {
//! use ferry_policy::{Inventory, PolicySet, Review};
//! let set = PolicySet::from_objects(policies)?;
//! let inventory = Inventory::from_objects(&objects);
//! let reviews: Vec<Review> = objects.into_iter().map(Review::create).collect();
//! let outcome = set.evaluate(&reviews, &inventory);
//! for violation in &outcome.violations {
//!     // violation.object, violation.constraint, violation.action, violation.message
//! #   let _ = violation;
//! }
//! # Ok(()) }
//! ```
//!
//! A template that carries both Rego and CEL runs on Rego by default (same verdicts on the
//! whole library suite, about twice as fast); [`EnginePreference::Cel`] picks CEL first, as
//! Gatekeeper does with K8s-native validation enabled.

mod cel;
mod constraint;
mod error;
mod evaluation;
mod go_sprintf;
mod inventory;
pub mod load;
mod matching;
mod policy_set;
mod rego;
mod rego_compat;
pub mod report;
mod review;
mod template;
mod value;
mod violation;

pub use constraint::{Constraint, EnforcementAction};
pub use error::Error;
pub use inventory::Inventory;
pub use policy_set::{EnginePreference, EvaluationError, Outcome, PolicySet};
pub use rego::RegoRuntime;
pub use review::{ObjectRef, Operation, Review, SourceLocation};
pub use template::{Engine, Template};
pub use violation::Violation;
