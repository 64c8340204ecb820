//! Rego code of a template: compiled by regorus once, then evaluated per review on regorus'
//! bytecode VM, with its tree interpreter as the reference and the fallback.
//!
//! A template's modules are parsed and analysed once ([`RegoProgram::compile`]) and lowered to
//! VM bytecode at the same time. Before a run, [`RegoProgram::bind`] attaches `data.inventory`;
//! each worker thread then makes one [`RegoRunner`] per template, which keeps its VM (registers,
//! data, program) across all the reviews the worker evaluates for that template.
//!
//! The VM and the interpreter are two implementations of the same language in regorus, and the
//! VM is the younger one. So a review the VM cannot finish (an unsupported construct, its
//! instruction budget) is evaluated again by the interpreter, and the library suites and the
//! benchmark check that both give the same violations.

use std::sync::{Arc, OnceLock};

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::RuleType;
use regorus::rvm::vm::{ExecutionMode, ExecutionState, SuspendReason};
use regorus::rvm::{Program, RegoVM};
use regorus::{CompiledPolicy, Rc, Value as RegoValue};
use serde_json::{Value, json};

use crate::{go_sprintf, rego_compat};

/// The builtin ferry replaces with OPA's own behaviour (see `go_sprintf`), and its arity.
const SPRINTF: (&str, usize) = ("sprintf", 2);

/// Instructions one VM evaluation may run before the interpreter takes the review over. The
/// library's heaviest template on its largest sample stays three orders of magnitude below;
/// the bound only stops a pathological loop from running unbounded on the VM twice.
const VM_INSTRUCTION_BUDGET: usize = 50_000_000;

/// Which regorus engine evaluates Rego.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegoRuntime {
    /// regorus' register-based bytecode VM (ferry's default). A review the VM cannot evaluate
    /// is evaluated by the interpreter instead.
    #[default]
    Bytecode,
    /// regorus' tree-walking interpreter only: the reference implementation, slower.
    Interpreter,
}

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
    /// Compiled with an empty inventory; referential templates are recompiled per run for
    /// the interpreter (the VM takes data at run time).
    compiled: CompiledPolicy,
    /// The `violation` rule as VM bytecode; `None` when regorus cannot lower the template.
    bytecode: Option<Arc<Program>>,
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
                SPRINTF.0.to_owned(),
                SPRINTF.1 as u8,
                Box::new(|args: Vec<RegoValue>| Ok(sprintf(&args))),
            )
            .map_err(compile_error)?;
        // v0 sources go through the compatibility rewrites (see `rego_compat`).
        let prepare = |source: &str| {
            if v1 {
                source.to_owned()
            } else {
                rego_compat::hoist_negated_call_refs(&rego_compat::normalize(source))
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
        let compiled = compile_with_data(&engine, &rule, &data_document(empty_inventory()))?;
        let bytecode = lower_to_bytecode(template, &compiled, &rule);
        Ok(RegoProgram {
            engine,
            rule,
            uses_inventory,
            compiled,
            bytecode,
        })
    }

    pub(crate) fn uses_inventory(&self) -> bool {
        self.uses_inventory
    }

    /// Prepares a run with `inventory` (the `data.inventory` document, converted once per run
    /// for all templates) as `data.inventory`. Templates that do not read it are given none
    /// (an empty inventory), and keep the interpreter policy compiled up front.
    pub(crate) fn bind(
        &self,
        inventory: Option<&RegoValue>,
        runtime: RegoRuntime,
    ) -> BoundRego<'_> {
        let interpreter = OnceLock::new();
        let data = match inventory {
            Some(inventory) if self.uses_inventory => data_document(inventory.clone()),
            _ => {
                let _ = interpreter.set(Ok(self.compiled.clone()));
                data_document(empty_inventory())
            }
        };
        BoundRego {
            program: self,
            data,
            interpreter,
            use_vm: runtime == RegoRuntime::Bytecode && self.bytecode.is_some(),
        }
    }
}

/// The `violation` rule as VM bytecode, or `None` when the template must run on the
/// interpreter.
///
/// `sprintf` becomes a call back into ferry (a host await), so that the VM formats exactly
/// as the interpreter's extension does.
///
/// Templates with partial object rules (`m[key] = value { ... }`) stay on the interpreter:
/// when two bodies produce the same key with different values, OPA and the interpreter
/// report a conflict error, while the VM (regorus 0.14) keeps the last value without a word.
/// The library's seccomp template is one (`input_containers[container.name]`, with a
/// container and an ephemeral container of the same name).
fn lower_to_bytecode(
    template: &str,
    compiled: &CompiledPolicy,
    rule: &str,
) -> Option<Arc<Program>> {
    match Compiler::compile_from_policy_with_host_await(compiled, &[rule], &[SPRINTF]) {
        Ok(program)
            if program
                .rule_infos
                .iter()
                .any(|info| info.rule_type == RuleType::PartialObject) =>
        {
            tracing::debug!(%template, "partial object rules: the template runs on the interpreter, which reports key conflicts");
            None
        }
        Ok(program) => Some(program),
        Err(error) => {
            tracing::debug!(%template, %error, "no VM bytecode for the template; it runs on the interpreter");
            None
        }
    }
}

/// A template's Rego ready for one run: its data bound.
pub(crate) struct BoundRego<'a> {
    program: &'a RegoProgram,
    /// `{"inventory": ...}`.
    data: RegoValue,
    /// The interpreter's policy compiled with `data`: made on first use, since with the VM it
    /// is only the fallback.
    interpreter: OnceLock<Result<CompiledPolicy, String>>,
    use_vm: bool,
}

impl BoundRego<'_> {
    fn interpreter(&self) -> Result<&CompiledPolicy, String> {
        self.interpreter
            .get_or_init(|| {
                compile_with_data(&self.program.engine, &self.program.rule, &self.data)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// An evaluator for one worker thread.
    pub(crate) fn runner(&self) -> RegoRunner<'_> {
        let vm = self.use_vm.then(|| self.new_vm()).flatten();
        RegoRunner { bound: self, vm }
    }

    fn new_vm(&self) -> Option<RegoVM> {
        let program = self.program.bytecode.clone()?;
        let mut vm = RegoVM::new_with_policy(self.program.compiled.clone());
        vm.load_program(program);
        vm.set_strict_builtin_errors(false);
        vm.set_max_instructions(VM_INSTRUCTION_BUDGET);
        // Suspendable, so that `sprintf` can call back into ferry.
        vm.set_execution_mode(ExecutionMode::Suspendable);
        match vm.set_data(self.data.clone()) {
            Ok(()) => Some(vm),
            Err(error) => {
                tracing::debug!(%error, "the VM rejects the data document; using the interpreter");
                None
            }
        }
    }
}

/// Evaluates one template's `violation` rule on many reviews, on one thread.
pub(crate) struct RegoRunner<'a> {
    bound: &'a BoundRego<'a>,
    vm: Option<RegoVM>,
}

impl RegoRunner<'_> {
    /// Evaluates `violation` for one review; `review` and `parameters` are already converted
    /// (each review is converted once, whatever the number of constraints it meets).
    pub(crate) fn evaluate(
        &mut self,
        review: &RegoValue,
        parameters: &RegoValue,
    ) -> Result<Vec<RegoViolation>, String> {
        let input = input_document(review, parameters)?;
        if let Some(vm) = &mut self.vm {
            match run_vm(vm, input.clone()) {
                Ok(result) => return violations(&result),
                Err(error) => {
                    tracing::debug!(%error, "the VM could not evaluate the review; using the interpreter");
                }
            }
        }
        let policy = self.bound.interpreter()?;
        let result = policy.eval_with_input(input).map_err(|e| e.to_string())?;
        violations(&result)
    }
}

/// Runs the VM to completion, answering its `sprintf` calls.
fn run_vm(vm: &mut RegoVM, input: RegoValue) -> Result<RegoValue, String> {
    vm.set_input(input);
    let mut result = vm.execute();
    loop {
        let value = result.map_err(|e| e.to_string())?;
        let argument = match vm.execution_state() {
            ExecutionState::Suspended {
                reason:
                    SuspendReason::HostAwait {
                        argument,
                        identifier,
                        ..
                    },
                ..
            } if identifier
                .as_string()
                .is_ok_and(|id| id.as_ref() == SPRINTF.0) =>
            {
                argument.clone()
            }
            ExecutionState::Suspended { reason, .. } => {
                return Err(format!("the VM suspended unexpectedly: {reason:?}"));
            }
            _ => return Ok(value),
        };
        let answer = match &argument {
            RegoValue::Array(args) => sprintf(args.as_slice()),
            _ => RegoValue::Undefined,
        };
        result = vm.resume(Some(answer));
    }
}

/// OPA's `sprintf(format, values)`; undefined when the arguments have the wrong types.
fn sprintf(args: &[RegoValue]) -> RegoValue {
    match args {
        [RegoValue::String(format), RegoValue::Array(values)] => {
            RegoValue::from(go_sprintf::sprintf(format, values.as_slice()))
        }
        _ => RegoValue::Undefined,
    }
}

fn empty_inventory() -> RegoValue {
    RegoValue::from(json!({"cluster": {}, "namespace": {}}))
}

/// Converts an inventory document, once per run.
pub(crate) fn inventory_value(inventory: &Value) -> Result<RegoValue, String> {
    to_value(inventory)
}

/// `{"inventory": inventory}`: the `data` document of every template.
fn data_document(inventory: RegoValue) -> RegoValue {
    let mut data = RegoValue::new_object();
    if let Ok(fields) = data.as_object_mut() {
        fields.insert(RegoValue::from("inventory"), inventory);
    }
    data
}

fn compile_with_data(
    engine: &regorus::Engine,
    rule: &Rc<str>,
    data: &RegoValue,
) -> Result<CompiledPolicy, RegoError> {
    let mut engine = engine.clone();
    engine.add_data(data.clone()).map_err(|e| RegoError::Data {
        message: e.to_string(),
    })?;
    engine.compile_with_entrypoint(rule).map_err(compile_error)
}

/// `{"review": review, "parameters": parameters}`.
fn input_document(review: &RegoValue, parameters: &RegoValue) -> Result<RegoValue, String> {
    let mut input = RegoValue::new_object();
    let fields = input.as_object_mut().map_err(|e| e.to_string())?;
    fields.insert(RegoValue::from("review"), review.clone());
    fields.insert(RegoValue::from("parameters"), parameters.clone());
    Ok(input)
}

/// One result of a `violation` rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegoViolation {
    pub(crate) message: String,
    pub(crate) details: Value,
}

/// The elements of the `violation` set, in the set's order: `msg` (its JSON text when it is
/// not a string) and `details`.
fn violations(result: &RegoValue) -> Result<Vec<RegoViolation>, String> {
    let items: Box<dyn Iterator<Item = &RegoValue>> = match result {
        RegoValue::Undefined => return Ok(Vec::new()),
        RegoValue::Set(items) => Box::new(items.iter()),
        RegoValue::Array(items) => Box::new(items.iter()),
        other => return Err(format!("violation is not a set: {}", json_text(other))),
    };
    let msg = RegoValue::from("msg");
    let details = RegoValue::from("details");
    items
        .map(|item| {
            let field = |key: &RegoValue| match item {
                RegoValue::Object(fields) => fields.get(key),
                _ => None,
            };
            Ok(RegoViolation {
                message: match field(&msg) {
                    Some(RegoValue::String(s)) => s.to_string(),
                    Some(other) => json_text(other),
                    None => String::new(),
                },
                details: match field(&details) {
                    Some(value) => serde_json::to_value(value).map_err(|e| e.to_string())?,
                    None => Value::Null,
                },
            })
        })
        .collect()
}

fn json_text(value: &RegoValue) -> String {
    serde_json::to_value(value)
        .map(|v| v.to_string())
        .unwrap_or_else(|e| format!("<{e}>"))
}

/// Converts a JSON document for use as (part of) `input` or `data`, without copying it first.
pub(crate) fn to_value(document: &Value) -> Result<RegoValue, String> {
    serde::Deserialize::deserialize(document).map_err(|e: serde_json::Error| e.to_string())
}

/// regorus reports errors as `anyhow::Error`, whose message carries the module and position.
fn compile_error(error: impl std::fmt::Display) -> RegoError {
    RegoError::Compile {
        message: format!("{error:#}").trim().to_owned(),
    }
}
