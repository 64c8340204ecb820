//! Rego code of a template, compiled by regorus and evaluated per review.

use regorus::{CompiledPolicy, Rc, Value as RegoValue};
use serde_json::{Value, json};

use crate::{go_sprintf, rego_compat};

/// A template's Rego could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum RegoError {
    #[error("Rego does not compile:\n{message}")]
    Compile { message: String },
    #[error("Rego module {module} has no `violation` rule (Gatekeeper requires one)")]
    NoViolationRule { module: String },
    #[error("Rego cannot load the inventory: {message}")]
    Data { message: String },
}

/// The engine, with the template's modules loaded, before data is bound.
#[derive(Debug, Clone)]
pub(crate) struct RegoProgram {
    engine: regorus::Engine,
    rule: Rc<str>,
    uses_inventory: bool,
    /// Compiled with an empty inventory; referential templates are recompiled per evaluation.
    compiled: CompiledPolicy,
}

impl RegoProgram {
    /// Loads `rego` (module `<template>/template.rego`) and its `libs`
    /// (`<template>/lib<N>.rego`), in v0 syntax unless `v1`.
    pub(crate) fn compile(
        template: &str,
        rego: &str,
        libs: &[String],
        v1: bool,
    ) -> Result<RegoProgram, RegoError> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(!v1);
        // Builtins that fail (a bad regex, a type mismatch) make the expression undefined,
        // as in OPA, instead of aborting the whole evaluation.
        engine.set_strict_builtin_errors(false);
        engine
            .add_extension(
                "sprintf".to_owned(),
                2,
                Box::new(|args: Vec<RegoValue>| {
                    let format = match args.first() {
                        Some(RegoValue::String(s)) => s.to_string(),
                        _ => return Ok(RegoValue::Undefined),
                    };
                    let values = match args.get(1) {
                        Some(RegoValue::Array(items)) => items.iter().cloned().collect::<Vec<_>>(),
                        _ => return Ok(RegoValue::Undefined),
                    };
                    Ok(RegoValue::from(go_sprintf::sprintf(&format, &values)))
                }),
            )
            .map_err(compile_error)?;
        // v0 sources go through the compatibility rewrites (see `rego_compat`).
        let prepare = |source: &str| {
            if v1 {
                source.to_owned()
            } else {
                rego_compat::normalize(source)
            }
        };
        let module = format!("{template}/template.rego");
        let package = engine
            .add_policy(module.clone(), prepare(rego))
            .map_err(compile_error)?;
        for (index, lib) in libs.iter().enumerate() {
            engine
                .add_policy(format!("{template}/lib{index}.rego"), prepare(lib))
                .map_err(compile_error)?;
        }
        let has_violation = engine
            .has_declared_rule_rooted_at(&module, "violation")
            .map_err(compile_error)?;
        if !has_violation {
            return Err(RegoError::NoViolationRule { module });
        }
        let rule: Rc<str> = format!("{package}.violation").into();
        let uses_inventory = rego.contains("data.inventory")
            || libs.iter().any(|lib| lib.contains("data.inventory"));
        let compiled = compile_with_inventory(&engine, &rule, &empty_inventory())?;
        Ok(RegoProgram {
            engine,
            rule,
            uses_inventory,
            compiled,
        })
    }

    pub(crate) fn uses_inventory(&self) -> bool {
        self.uses_inventory
    }

    /// The program to evaluate with `inventory` as `data.inventory`: the one compiled
    /// up front for templates that do not read it.
    pub(crate) fn bind(&self, inventory: &RegoValue) -> Result<CompiledPolicy, RegoError> {
        if self.uses_inventory {
            compile_with_inventory(&self.engine, &self.rule, inventory)
        } else {
            Ok(self.compiled.clone())
        }
    }
}

fn empty_inventory() -> RegoValue {
    RegoValue::from(json!({"cluster": {}, "namespace": {}}))
}

/// Converts an inventory document for binding.
pub(crate) fn inventory_value(inventory: Value) -> RegoValue {
    RegoValue::from(inventory)
}

fn compile_with_inventory(
    engine: &regorus::Engine,
    rule: &Rc<str>,
    inventory: &RegoValue,
) -> Result<CompiledPolicy, RegoError> {
    let mut engine = engine.clone();
    let mut data = RegoValue::new_object();
    data.as_object_mut()
        .map_err(|e| RegoError::Data {
            message: e.to_string(),
        })?
        .insert(RegoValue::from("inventory"), inventory.clone());
    engine.add_data(data).map_err(|e| RegoError::Data {
        message: e.to_string(),
    })?;
    engine.compile_with_entrypoint(rule).map_err(compile_error)
}

/// One result of a `violation` rule.
#[derive(Debug)]
pub(crate) struct RegoViolation {
    pub(crate) message: String,
    pub(crate) details: Value,
}

/// Converts a JSON document for use as (part of) `input`.
pub(crate) fn to_value(document: Value) -> RegoValue {
    RegoValue::from(document)
}

/// Evaluates `violation` for one review; `review` and `parameters` are already converted
/// (each review is converted once, whatever the number of constraints it meets).
pub(crate) fn evaluate(
    policy: &CompiledPolicy,
    review: &RegoValue,
    parameters: &RegoValue,
) -> Result<Vec<RegoViolation>, String> {
    let mut input = RegoValue::new_object();
    let fields = input.as_object_mut().map_err(|e| e.to_string())?;
    fields.insert(RegoValue::from("review"), review.clone());
    fields.insert(RegoValue::from("parameters"), parameters.clone());
    let result = policy.eval_with_input(input).map_err(|e| e.to_string())?;
    if result == RegoValue::Undefined {
        return Ok(Vec::new());
    }
    let json = serde_json::to_value(&result).map_err(|e| e.to_string())?;
    let items = match json {
        Value::Array(items) => items,
        other => return Err(format!("violation is not a set: {other}")),
    };
    Ok(items
        .into_iter()
        .map(|item| RegoViolation {
            message: match item.get("msg") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            },
            details: item.get("details").cloned().unwrap_or(Value::Null),
        })
        .collect())
}

/// regorus reports errors as `anyhow::Error`, whose message carries the module and position.
fn compile_error(error: impl std::fmt::Display) -> RegoError {
    RegoError::Compile {
        message: format!("{error:#}").trim().to_owned(),
    }
}
