//! Constraints: instances of a template's kind, with `spec.match`, `spec.parameters` and
//! `spec.enforcementAction`.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::value::get_str;

/// What Gatekeeper does with a violation of the constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnforcementAction {
    /// Only recorded (audit): never blocks.
    Dryrun,
    /// Reported to the client as a warning: never blocks.
    Warn,
    /// Blocks the change.
    Deny,
}

impl EnforcementAction {
    pub fn as_str(self) -> &'static str {
        match self {
            EnforcementAction::Deny => "deny",
            EnforcementAction::Dryrun => "dryrun",
            EnforcementAction::Warn => "warn",
        }
    }

    fn parse(s: &str) -> Option<EnforcementAction> {
        match s.to_ascii_lowercase().as_str() {
            "deny" => Some(EnforcementAction::Deny),
            "dryrun" => Some(EnforcementAction::Dryrun),
            "warn" => Some(EnforcementAction::Warn),
            _ => None,
        }
    }
}

impl fmt::Display for EnforcementAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a constraint document is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConstraintError {
    #[error("constraint of kind {kind} has no metadata.name")]
    MissingName { kind: String },
    #[error("constraint {kind}/{name}: spec.match is invalid: {message}")]
    InvalidMatch {
        kind: String,
        name: String,
        message: String,
    },
    #[error(
        "constraint {kind}/{name}: unknown enforcementAction {action:?} (expected deny, dryrun, warn or scoped)"
    )]
    UnknownEnforcementAction {
        kind: String,
        name: String,
        action: String,
    },
    #[error(
        "constraint {kind}/{name}: enforcementAction scoped names no action for the validation enforcement point"
    )]
    NoScopedAction { kind: String, name: String },
}

/// One `kinds` entry of `spec.match`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindSelector {
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<String>,
}

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// Which objects a constraint applies to, by scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Scope {
    #[default]
    #[serde(rename = "*")]
    All,
    Cluster,
    Namespaced,
}

/// `spec.match` of a constraint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    #[serde(default)]
    pub kinds: Vec<KindSelector>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub excluded_namespaces: Vec<String>,
    pub label_selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    #[serde(default)]
    pub scope: Scope,
    pub name: Option<String>,
}

/// A parsed constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub kind: String,
    pub name: String,
    pub matcher: Match,
    /// `spec.parameters` (`null` when absent), given to templates as `input.parameters`.
    pub parameters: Value,
    pub action: EnforcementAction,
}

impl Constraint {
    /// Whether `document` is a Gatekeeper constraint (`constraints.gatekeeper.sh/*`).
    pub fn is_constraint(document: &Value) -> bool {
        get_str(document, &["apiVersion"]).starts_with("constraints.gatekeeper.sh/")
    }

    pub fn parse(document: &Value) -> Result<Constraint, ConstraintError> {
        let kind = get_str(document, &["kind"]).to_owned();
        let name = get_str(document, &["metadata", "name"]).to_owned();
        if name.is_empty() {
            return Err(ConstraintError::MissingName { kind });
        }
        let spec = document.get("spec").cloned().unwrap_or(Value::Null);
        let matcher = match spec.get("match") {
            None | Some(Value::Null) => Match::default(),
            Some(m) => Match::deserialize(m).map_err(|e| ConstraintError::InvalidMatch {
                kind: kind.clone(),
                name: name.clone(),
                message: e.to_string(),
            })?,
        };
        let action = parse_action(&spec, &kind, &name)?;
        Ok(Constraint {
            parameters: spec.get("parameters").cloned().unwrap_or(Value::Null),
            kind,
            name,
            matcher,
            action,
        })
    }
}

/// The enforcement point ferry stands in for: Gatekeeper's validating webhook.
const VALIDATION_POINT: &str = "validation.gatekeeper.sh";

fn parse_action(
    spec: &Value,
    kind: &str,
    name: &str,
) -> Result<EnforcementAction, ConstraintError> {
    let raw = get_str(spec, &["enforcementAction"]);
    if raw.is_empty() {
        return Ok(EnforcementAction::Deny);
    }
    if raw.eq_ignore_ascii_case("scoped") {
        // The strictest action scoped to the validation webhook (or to every point) applies.
        let scoped = spec
            .get("scopedEnforcementActions")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut strictest = None;
        for entry in scoped {
            let points = entry
                .get("enforcementPoints")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let applies = points.iter().any(|p| {
                let point = get_str(p, &["name"]);
                point == "*" || point == VALIDATION_POINT
            });
            if !applies {
                continue;
            }
            let action_name = get_str(entry, &["action"]);
            let action = EnforcementAction::parse(action_name).ok_or_else(|| {
                ConstraintError::UnknownEnforcementAction {
                    kind: kind.to_owned(),
                    name: name.to_owned(),
                    action: action_name.to_owned(),
                }
            })?;
            strictest = strictest.max(Some(action));
        }
        return strictest.ok_or_else(|| ConstraintError::NoScopedAction {
            kind: kind.to_owned(),
            name: name.to_owned(),
        });
    }
    EnforcementAction::parse(raw).ok_or_else(|| ConstraintError::UnknownEnforcementAction {
        kind: kind.to_owned(),
        name: name.to_owned(),
        action: raw.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_to_deny_and_parses_actions() {
        let c = Constraint::parse(&json!({"kind": "K", "metadata": {"name": "n"}})).unwrap();
        assert_eq!(c.action, EnforcementAction::Deny);
        let c = Constraint::parse(
            &json!({"kind": "K", "metadata": {"name": "n"}, "spec": {"enforcementAction": "warn"}}),
        )
        .unwrap();
        assert_eq!(c.action, EnforcementAction::Warn);
        let err = Constraint::parse(
            &json!({"kind": "K", "metadata": {"name": "n"}, "spec": {"enforcementAction": "block"}}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("K/n"), "{err}");
    }

    #[test]
    fn scoped_takes_the_strictest_validation_action() {
        let c = Constraint::parse(&json!({"kind": "K", "metadata": {"name": "n"}, "spec": {
        "enforcementAction": "scoped",
        "scopedEnforcementActions": [
            {"action": "warn", "enforcementPoints": [{"name": "validation.gatekeeper.sh"}]},
            {"action": "deny", "enforcementPoints": [{"name": "audit.gatekeeper.sh"}]},
        ]}}))
        .unwrap();
        assert_eq!(c.action, EnforcementAction::Warn);
    }
}
