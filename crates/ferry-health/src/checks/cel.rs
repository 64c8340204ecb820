//! Flux's `healthCheckExprs` (RFC-0009): CEL expressions `inProgress`, `failed` and `current`
//! evaluated on an object, in that order; the first that is true decides, none true means
//! InProgress. An object whose `status.observedGeneration` differs from its generation is
//! InProgress without evaluating anything. Expressions see the object's top-level fields
//! (`metadata`, `spec`, `status`, ...) as variables, with the Kubernetes CEL libraries.

use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::KubeCelExt;
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::parser::{Expression, Parser};
use kube_cel::cel::{Context, Value as CelValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::status::KStatus;

/// One entry of a Kustomization's (or HelmRelease's) `spec.healthCheckExprs`, as Flux spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckExprs {
    /// `<group>/<version>` of the objects the expressions judge (the version is not compared:
    /// Flux matches on group and kind).
    pub api_version: String,
    /// Kind of the objects the expressions judge.
    pub kind: String,
    /// True when the object reached its desired state.
    pub current: String,
    /// True while the object is still on its way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<String>,
    /// True when the object failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// Why an expression could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CelError {
    /// The expression does not parse.
    #[error("CEL expression {field} for {target} does not parse: {message}")]
    Parse {
        /// `<group>/<kind>`.
        target: String,
        /// `current`, `inProgress` or `failed`.
        field: &'static str,
        /// The parser's message.
        message: String,
    },
    /// Evaluation failed (a missing field, a type error).
    #[error("CEL expression {field} failed: {message}")]
    Evaluation {
        /// `current`, `inProgress` or `failed`.
        field: &'static str,
        /// The interpreter's message.
        message: String,
    },
    /// The expression gave something else than a boolean.
    #[error("CEL expression {field} must evaluate to a boolean, not {found}")]
    NotBoolean {
        /// `current`, `inProgress` or `failed`.
        field: &'static str,
        /// The value's type.
        found: String,
    },
}

/// Compiled expressions for one group and kind.
#[derive(Debug)]
pub struct CelCheck {
    /// API group of the objects judged.
    pub group: String,
    /// Kind of the objects judged.
    pub kind: String,
    /// (field name, status it stands for, expression), in evaluation order.
    expressions: Vec<(&'static str, KStatus, Expression)>,
}

/// Objects nest at most this deep before conversion gives up (bad input must not overflow).
const MAX_DEPTH: usize = 128;

/// Rewrites optional field selection `x.?f` as the equivalent optional index `x[?"f"]`: the
/// CEL interpreter ferry uses implements the second form only. String literals are left alone.
fn rewrite_optional_selects(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 8);
    let mut chars = source.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' {
                if let Some(escaped) = chars.next() {
                    out.push(escaped);
                }
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
            out.push(c);
            continue;
        }
        if c == '.' && chars.peek() == Some(&'?') {
            let mut lookahead = chars.clone();
            lookahead.next();
            if lookahead
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_')
            {
                chars.next();
                let mut ident = String::new();
                while let Some(n) = chars
                    .peek()
                    .copied()
                    .filter(|n| n.is_ascii_alphanumeric() || *n == '_')
                {
                    ident.push(n);
                    chars.next();
                }
                out.push_str("[?\"");
                out.push_str(&ident);
                out.push_str("\"]");
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn parse(target: &str, field: &'static str, source: &str) -> Result<Expression, CelError> {
    Parser::default()
        .enable_optional_syntax(true)
        .parse(&rewrite_optional_selects(source))
        .map_err(|e| CelError::Parse {
            target: target.to_owned(),
            field,
            message: e.to_string(),
        })
}

impl CelCheck {
    /// Parses the expressions of one entry.
    pub fn compile(exprs: &HealthCheckExprs) -> Result<CelCheck, CelError> {
        let group = match exprs.api_version.rsplit_once('/') {
            Some((group, _)) => group,
            None => "",
        };
        let target = format!("{group}/{}", exprs.kind);
        let mut expressions = Vec::with_capacity(3);
        if let Some(source) = exprs
            .in_progress
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            expressions.push((
                "inProgress",
                KStatus::InProgress,
                parse(&target, "inProgress", source)?,
            ));
        }
        if let Some(source) = exprs.failed.as_deref().filter(|s| !s.trim().is_empty()) {
            expressions.push(("failed", KStatus::Failed, parse(&target, "failed", source)?));
        }
        expressions.push((
            "current",
            KStatus::Current,
            parse(&target, "current", &exprs.current)?,
        ));
        Ok(CelCheck {
            group: group.to_owned(),
            kind: exprs.kind.clone(),
            expressions,
        })
    }

    /// Judges an object: a status and a message saying which expression decided.
    pub fn evaluate(&self, object: &Value) -> Result<(KStatus, String), CelError> {
        let generation = object
            .pointer("/metadata/generation")
            .and_then(Value::as_i64);
        let observed = object
            .pointer("/status/observedGeneration")
            .and_then(Value::as_i64);
        if let (Some(generation), Some(observed)) = (generation, observed)
            && generation != observed
        {
            return Ok((
                KStatus::InProgress,
                format!("generation {generation} not yet observed (observed {observed})"),
            ));
        }
        let mut context = Context::default().with_all();
        let fields = object.as_object();
        for name in ["apiVersion", "kind", "metadata", "spec", "status"] {
            let value = match fields.and_then(|f| f.get(name)) {
                Some(v) => to_cel(v, 0).map_err(|message| CelError::Evaluation {
                    field: "object",
                    message,
                })?,
                // Absent parts read as empty maps, so `has(status.conditions)` works on an
                // object the controller has not touched yet.
                None if name == "apiVersion" || name == "kind" => {
                    CelValue::String(Arc::new(String::new()))
                }
                None => CelValue::Map(Map {
                    map: Arc::new(HashMap::new()),
                }),
            };
            context.add_variable_from_value(name, value);
        }
        if let Some(fields) = fields {
            for (name, value) in fields {
                if !matches!(
                    name.as_str(),
                    "apiVersion" | "kind" | "metadata" | "spec" | "status"
                ) {
                    let value = to_cel(value, 0).map_err(|message| CelError::Evaluation {
                        field: "object",
                        message,
                    })?;
                    context.add_variable_from_value(name.as_str(), value);
                }
            }
        }
        for (field, status, expression) in &self.expressions {
            match CelValue::resolve(expression, &context) {
                Ok(CelValue::Bool(true)) => {
                    return Ok((*status, format!("{field} expression is true")));
                }
                Ok(CelValue::Bool(false)) => {}
                Ok(other) => {
                    return Err(CelError::NotBoolean {
                        field,
                        found: format!("{:?}", other.type_of()),
                    });
                }
                Err(e) => {
                    return Err(CelError::Evaluation {
                        field,
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok((KStatus::InProgress, "no expression is true yet".to_owned()))
    }
}

/// JSON to a CEL value, as health expressions and Receiver filters read objects: integers
/// that fit stay `int` (not `uint`, which would not compare with integer literals), maps are
/// keyed by strings; nesting deeper than a fixed limit is an error, not a stack overflow.
pub fn json_to_cel(value: &Value) -> Result<CelValue, String> {
    to_cel(value, 0)
}

fn to_cel(value: &Value, depth: usize) -> Result<CelValue, String> {
    if depth > MAX_DEPTH {
        return Err(format!("object nests deeper than {MAX_DEPTH} levels"));
    }
    Ok(match value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => CelValue::Int(i),
            (None, Some(u)) => CelValue::UInt(u),
            _ => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(items) => CelValue::List(Arc::new(
            items
                .iter()
                .map(|item| to_cel(item, depth + 1))
                .collect::<Result<Vec<_>, _>>()?,
        )),
        Value::Object(map) => {
            let mut converted = HashMap::with_capacity(map.len());
            for (key, item) in map {
                converted.insert(Key::String(Arc::new(key.clone())), to_cel(item, depth + 1)?);
            }
            CelValue::Map(Map {
                map: Arc::new(converted),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn certificate_check() -> CelCheck {
        CelCheck::compile(&HealthCheckExprs {
            api_version: "cert-manager.io/v1".to_owned(),
            kind: "Certificate".to_owned(),
            in_progress: Some(
                "status.?conditions.orValue([]).exists(e, e.type == 'Issuing' && e.status == 'True')".to_owned(),
            ),
            failed: Some("status.conditions.exists(e, e.type == 'Ready' && e.status == 'False')".to_owned()),
            current: "status.conditions.exists(e, e.type == 'Ready' && e.status == 'True')".to_owned(),
        })
        .expect("the expressions parse")
    }

    #[test]
    fn the_first_true_expression_decides_in_flux_order() {
        let check = certificate_check();
        let ready = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(check.evaluate(&ready).map(|r| r.0), Ok(KStatus::Current));
        let issuing = json!({"status": {"conditions": [
            {"type": "Ready", "status": "False"}, {"type": "Issuing", "status": "True"}]}});
        assert_eq!(
            check.evaluate(&issuing).map(|r| r.0),
            Ok(KStatus::InProgress)
        );
        let failed = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        assert_eq!(check.evaluate(&failed).map(|r| r.0), Ok(KStatus::Failed));
        let nothing = json!({"status": {"conditions": []}});
        assert_eq!(
            check.evaluate(&nothing).map(|r| r.0),
            Ok(KStatus::InProgress)
        );
    }

    #[test]
    fn a_missing_field_is_an_error_and_a_stale_generation_is_in_progress() {
        let check = certificate_check();
        let got = check.evaluate(&json!({"spec": {}}));
        assert!(
            matches!(
                got,
                Err(CelError::Evaluation {
                    field: "failed",
                    ..
                })
            ),
            "{got:?}"
        );
        let stale = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}});
        assert_eq!(check.evaluate(&stale).map(|r| r.0), Ok(KStatus::InProgress));
    }

    #[test]
    fn optional_selection_works_on_maps_and_spares_strings() {
        assert_eq!(
            rewrite_optional_selects("status.?conditions.orValue([]) && x == '.?y'"),
            "status[?\"conditions\"].orValue([]) && x == '.?y'"
        );
        let check = CelCheck::compile(&HealthCheckExprs {
            api_version: "x.io/v1".to_owned(),
            kind: "Thing".to_owned(),
            in_progress: None,
            failed: None,
            current: "status.?conditions.orValue([]).exists(c, c.type == 'Ready')".to_owned(),
        })
        .expect("the expression parses");
        assert_eq!(
            check.evaluate(&json!({})).map(|r| r.0),
            Ok(KStatus::InProgress)
        );
        let ready = json!({"status": {"conditions": [{"type": "Ready"}]}});
        assert_eq!(check.evaluate(&ready).map(|r| r.0), Ok(KStatus::Current));
    }

    #[test]
    fn integers_compare_with_integer_literals() {
        let check = CelCheck::compile(&HealthCheckExprs {
            api_version: "apps/v1".to_owned(),
            kind: "Deployment".to_owned(),
            in_progress: None,
            failed: None,
            current: "status.readyReplicas == spec.replicas && spec.replicas == 3".to_owned(),
        })
        .expect("the expression parses");
        let ready = json!({"spec": {"replicas": 3}, "status": {"readyReplicas": 3}});
        assert_eq!(check.evaluate(&ready).map(|r| r.0), Ok(KStatus::Current));
    }

    #[test]
    fn bad_expressions_are_reported_at_compile_time_or_as_non_boolean() {
        let bad = HealthCheckExprs {
            api_version: "x.io/v1".to_owned(),
            kind: "Thing".to_owned(),
            in_progress: None,
            failed: None,
            current: "status.(".to_owned(),
        };
        assert!(matches!(
            CelCheck::compile(&bad),
            Err(CelError::Parse { .. })
        ));
        let not_boolean = CelCheck::compile(&HealthCheckExprs {
            current: "1 + 1".to_owned(),
            ..bad
        })
        .expect("the expression parses");
        assert!(matches!(
            not_boolean.evaluate(&json!({})),
            Err(CelError::NotBoolean { .. })
        ));
    }
}
