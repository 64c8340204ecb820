//! A constraint violated by an object.

use serde::Serialize;
use serde_json::Value;

use crate::constraint::EnforcementAction;
use crate::review::{ObjectRef, SourceLocation};
use crate::template::Engine;

/// One violation: which object broke which constraint, what Gatekeeper would do, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub object: ObjectRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
    /// The constraint's kind (the template's constraint kind).
    pub constraint_kind: String,
    /// The constraint's name.
    pub constraint: String,
    pub action: EnforcementAction,
    pub message: String,
    /// `details` of a Rego violation (`null` when absent or from CEL).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub details: Value,
    pub engine: Engine,
}

impl Violation {
    /// Whether the violation blocks the change (`enforcementAction: deny`).
    pub fn is_deny(&self) -> bool {
        self.action == EnforcementAction::Deny
    }
}
