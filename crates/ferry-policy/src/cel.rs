//! `K8sNativeValidation` code: Gatekeeper's CEL engine, run with kube-cel.
//!
//! The source has the shape of a ValidatingAdmissionPolicy: `variables`, `matchConditions`
//! (Gatekeeper's field is `matchCondition`), `validations` (`expression`, `message`,
//! `messageExpression`) and `failurePolicy`. Gatekeeper adds two variables of its own:
//! `variables.anyObject` (the object, or the old object of a DELETE) and `variables.params`
//! (the constraint's `spec.parameters`).

use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::KubeCelExt;
use kube_cel::cel::objects::{Key, Map as CelMap};
use kube_cel::cel::{self, Program};
use serde_json::Value;

use crate::review::Review;
use crate::value::{get_str, json_to_cel};

/// Names Gatekeeper reserves for its own variables.
const RESERVED_VARIABLES: [&str; 2] = ["anyObject", "params"];
const RESERVED_PREFIX: &str = "gatekeeper_internal_";

/// A `K8sNativeValidation` block that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CelError {
    #[error("CEL {what} {expression:?} does not compile: {message}")]
    Compile {
        what: &'static str,
        expression: String,
        message: String,
    },
    #[error("CEL variable name {0:?} is reserved by Gatekeeper")]
    ReservedVariable(String),
    #[error("CEL failurePolicy {0:?} is neither Fail nor Ignore")]
    FailurePolicy(String),
    #[error("K8sNativeValidation code has no validations")]
    NoValidations,
}

#[derive(Debug)]
struct Validation {
    expression: String,
    program: Program,
    message: Option<String>,
    message_program: Option<Program>,
}

/// A compiled `K8sNativeValidation` block.
#[derive(Debug)]
pub(crate) struct CelProgram {
    variables: Vec<(String, Program)>,
    match_conditions: Vec<(String, Program)>,
    validations: Vec<Validation>,
    /// `failurePolicy: Ignore` drops errors; the default, Fail, reports them as violations.
    ignore_errors: bool,
}

fn compile(what: &'static str, expression: &str) -> Result<Program, CelError> {
    Program::compile(expression).map_err(|e| CelError::Compile {
        what,
        expression: expression.trim().to_owned(),
        message: e.to_string(),
    })
}

fn named_list<'a>(source: &'a Value, key: &str) -> impl Iterator<Item = (&'a str, &'a str)> {
    source
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|v| (get_str(v, &["name"]), get_str(v, &["expression"])))
}

impl CelProgram {
    pub(crate) fn compile(source: &Value) -> Result<CelProgram, CelError> {
        let mut variables = Vec::new();
        for (name, expression) in named_list(source, "variables") {
            if RESERVED_VARIABLES.contains(&name) || name.starts_with(RESERVED_PREFIX) {
                return Err(CelError::ReservedVariable(name.to_owned()));
            }
            variables.push((name.to_owned(), compile("variable", expression)?));
        }
        let mut match_conditions = Vec::new();
        for key in ["matchCondition", "matchConditions"] {
            for (name, expression) in named_list(source, key) {
                match_conditions.push((name.to_owned(), compile("match condition", expression)?));
            }
        }
        let mut validations = Vec::new();
        for v in source
            .get("validations")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let expression = get_str(v, &["expression"]);
            let message_expression = get_str(v, &["messageExpression"]);
            let message = get_str(v, &["message"]);
            validations.push(Validation {
                expression: expression.trim().to_owned(),
                program: compile("validation", expression)?,
                message: (!message.is_empty()).then(|| message.to_owned()),
                message_program: if message_expression.is_empty() {
                    None
                } else {
                    Some(compile("messageExpression", message_expression)?)
                },
            });
        }
        if validations.is_empty() {
            return Err(CelError::NoValidations);
        }
        let ignore_errors = match get_str(source, &["failurePolicy"]) {
            "" | "Fail" => false,
            "Ignore" => true,
            other => return Err(CelError::FailurePolicy(other.to_owned())),
        };
        Ok(CelProgram {
            variables,
            match_conditions,
            validations,
            ignore_errors,
        })
    }

    /// Evaluates the block for one review; returns the messages of failed validations.
    pub(crate) fn evaluate(
        &self,
        base: &cel::Context<'_>,
        review: &CelReview,
        constraint: &CelConstraint,
    ) -> Vec<String> {
        let mut ctx = base.new_inner_scope();
        ctx.add_variable_from_value("object", review.object.clone());
        ctx.add_variable_from_value("oldObject", review.old_object.clone());
        ctx.add_variable_from_value("request", review.request.clone());
        ctx.add_variable_from_value("params", constraint.document.clone());
        if let Some(ns) = &review.namespace {
            ctx.add_variable_from_value("namespaceObject", ns.clone());
        }
        let mut vars: HashMap<Key, cel::Value> = HashMap::new();
        vars.insert(key("anyObject"), review.any_object.clone());
        vars.insert(key("params"), constraint.parameters.clone());
        for (name, program) in &self.variables {
            ctx.add_variable_from_value("variables", map_value(&vars));
            // Kubernetes evaluates variables lazily: an error only matters where the variable
            // is used, so a failing variable is left out and its users fail instead.
            match program.execute(&ctx) {
                Ok(value) => {
                    vars.insert(key(name), value);
                }
                Err(error) => {
                    tracing::debug!(variable = %name, %error, "CEL variable failed");
                }
            }
        }
        ctx.add_variable_from_value("variables", map_value(&vars));

        let mut messages = Vec::new();
        for (name, program) in &self.match_conditions {
            match program.execute(&ctx) {
                Ok(cel::Value::Bool(true)) => {}
                Ok(cel::Value::Bool(false)) => return messages,
                Ok(other) => {
                    if !self.ignore_errors {
                        messages.push(format!(
                            "match condition {name:?} returned a non-boolean: {other:?}"
                        ));
                    }
                    return messages;
                }
                Err(e) => {
                    if !self.ignore_errors {
                        messages.push(format!("match condition {name:?} failed: {e}"));
                    }
                    return messages;
                }
            }
        }
        for v in &self.validations {
            match v.program.execute(&ctx) {
                Ok(cel::Value::Bool(true)) => {}
                Ok(cel::Value::Bool(false)) => messages.push(v.failure_message(&ctx)),
                Ok(other) => {
                    if !self.ignore_errors {
                        messages.push(format!(
                            "expression {:?} returned a non-boolean: {other:?}",
                            v.expression
                        ));
                    }
                }
                Err(e) => {
                    if !self.ignore_errors {
                        messages.push(format!(
                            "expression {:?} resulted in error: {e}",
                            v.expression
                        ));
                    }
                }
            }
        }
        messages
    }
}

/// A review converted to CEL values once, for every constraint that evaluates it with CEL.
pub(crate) struct CelReview {
    object: cel::Value,
    old_object: cel::Value,
    /// `variables.anyObject`: the object, or the old object of a DELETE.
    any_object: cel::Value,
    /// The admission request without `object` and `oldObject` (they are variables of their own).
    request: cel::Value,
    /// `namespaceObject`: the Namespace of a namespaced object, when known.
    namespace: Option<cel::Value>,
}

impl CelReview {
    pub(crate) fn new(review: &Review, namespace: Option<&Value>) -> CelReview {
        let object = json_to_cel(&review.object);
        let old_object = review
            .old_object
            .as_ref()
            .map(json_to_cel)
            .unwrap_or(cel::Value::Null);
        let any_object = if review.object.is_null() && review.old_object.is_some() {
            old_object.clone()
        } else {
            object.clone()
        };
        let mut request = review.to_request();
        if let Some(map) = request.as_object_mut() {
            map.remove("object");
            map.remove("oldObject");
        }
        CelReview {
            object,
            old_object,
            any_object,
            request: json_to_cel(&request),
            namespace: namespace.map(json_to_cel),
        }
    }
}

/// A constraint converted to CEL values once: `params` (the constraint document, as in a
/// ValidatingAdmissionPolicy binding) and `variables.params` (its `spec.parameters`).
pub(crate) struct CelConstraint {
    document: cel::Value,
    parameters: cel::Value,
}

impl CelConstraint {
    pub(crate) fn new(kind: &str, name: &str, parameters: &Value) -> CelConstraint {
        let document = serde_json::json!({
            "apiVersion": "constraints.gatekeeper.sh/v1beta1",
            "kind": kind,
            "metadata": {"name": name},
            "spec": {"parameters": parameters},
        });
        CelConstraint {
            document: json_to_cel(&document),
            // A constraint without parameters gets an empty map, so that the library's
            // `has(variables.params.x)` guards read as "not set".
            parameters: if parameters.is_null() {
                json_to_cel(&Value::Object(Default::default()))
            } else {
                json_to_cel(parameters)
            },
        }
    }
}

impl Validation {
    /// `messageExpression` when it yields a non-empty string, else `message`, else Kubernetes'
    /// default "failed expression: ...".
    fn failure_message(&self, ctx: &cel::Context<'_>) -> String {
        if let Some(program) = &self.message_program
            && let Ok(cel::Value::String(s)) = program.execute(ctx)
            && !s.trim().is_empty()
        {
            return s.to_string();
        }
        self.message
            .clone()
            .unwrap_or_else(|| format!("failed expression: {}", self.expression))
    }
}

fn key(name: &str) -> Key {
    Key::String(Arc::new(name.to_owned()))
}

fn map_value(vars: &HashMap<Key, cel::Value>) -> cel::Value {
    cel::Value::Map(CelMap {
        map: Arc::new(vars.clone()),
    })
}

/// The root context every evaluation scope derives from: CEL's standard functions plus the
/// Kubernetes libraries. Building it registers many functions, so each worker makes one.
pub(crate) fn base_context() -> cel::Context<'static> {
    let mut ctx = cel::Context::default().with_all();
    // cel-go's `dyn()` type conversion (identity at run time), which the cel crate lacks and
    // the library's templates use to build heterogeneous maps.
    ctx.add_function("dyn", dyn_identity);
    ctx
}

fn dyn_identity(value: cel::Value) -> cel::ResolveResult {
    Ok(value)
}
