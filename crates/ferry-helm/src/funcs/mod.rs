//! The functions templates can call: Go's formatting builtins, all of Sprig v3 (minus `env`
//! and `expandenv`, which Helm removes) and Helm's own (`include`, `tpl`, `toYaml`, ...), each
//! with its Go signature so arguments are checked as Go checks them.

mod convert;
mod crypto;
mod dates;
mod dicts;
mod encoding;
mod helm;
mod lists;
mod math;
pub mod methods;
pub mod paths;
mod primes;
pub(crate) mod regex;
mod rsa_key;
pub mod semver;
mod strings;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::object::Param;
use crate::template::{Engine, GoError, Scope};
use crate::value::Value;

pub use convert::{cast_to_float64, cast_to_int64, empty, strval};

/// Access to the render for functions that execute templates (`include`, `tpl`).
pub struct FnCtx<'a, 'f> {
    pub eng: &'a mut Engine<'f>,
    pub scope: &'a Scope<'a>,
}

pub type PureFn = fn(&[Value]) -> Result<Value, GoError>;
pub type CtxFn = fn(&mut FnCtx<'_, '_>, &[Value]) -> Result<Value, GoError>;

pub enum Imp {
    Pure(PureFn),
    Ctx(CtxFn),
    /// A method of the receiver; dispatched by [`methods::call_method`].
    Method,
}

pub struct FuncDef {
    pub params: &'static [Param],
    pub variadic: Option<Param>,
    pub imp: Imp,
    /// Reads string arguments as bytes (Go strings may hold any bytes); other functions get
    /// such strings as UTF-8 with invalid sequences replaced.
    pub bytes_ok: bool,
}

pub struct Funcs {
    map: HashMap<&'static str, FuncDef>,
}

impl Funcs {
    pub fn get(&self, name: &str) -> Option<&FuncDef> {
        self.map.get(name)
    }
}

pub fn call(def: &FuncDef, ctx: &mut FnCtx<'_, '_>, args: &[Value]) -> Result<Value, GoError> {
    let converted: Vec<Value>;
    let args = if !def.bytes_ok && args.iter().any(|a| matches!(a, Value::BStr(_))) {
        converted = args
            .iter()
            .enumerate()
            .map(|(i, a)| match a {
                Value::BStr(b) if param_at(def, i) == Param::Str => {
                    Value::string(String::from_utf8_lossy(b).into_owned())
                }
                other => other.clone(),
            })
            .collect();
        &converted[..]
    } else {
        args
    };
    match def.imp {
        Imp::Pure(f) => f(args),
        Imp::Ctx(f) => f(ctx, args),
        Imp::Method => Err(GoError::msg("method called as a function")),
    }
}

fn param_at(def: &FuncDef, i: usize) -> Param {
    def.params
        .get(i)
        .copied()
        .or(def.variadic)
        .unwrap_or(Param::Any)
}

/// The bytes of a string argument (`Str` or `BStr`).
pub(crate) fn arg_bytes(args: &[Value], i: usize) -> &[u8] {
    args.get(i).and_then(Value::str_bytes).unwrap_or(&[])
}

/// Registration helper.
pub(crate) struct Reg<'m> {
    map: &'m mut HashMap<&'static str, FuncDef>,
}

impl Reg<'_> {
    /// A function whose string parameters take raw bytes.
    pub fn bytes(&mut self, name: &'static str, params: &'static [Param], f: PureFn) {
        self.f(name, params, f);
        if let Some(d) = self.map.get_mut(name) {
            d.bytes_ok = true;
        }
    }

    pub fn f(&mut self, name: &'static str, params: &'static [Param], f: PureFn) {
        self.map.insert(
            name,
            FuncDef {
                params,
                variadic: None,
                imp: Imp::Pure(f),
                bytes_ok: false,
            },
        );
    }
    pub fn v(&mut self, name: &'static str, params: &'static [Param], variadic: Param, f: PureFn) {
        self.map.insert(
            name,
            FuncDef {
                params,
                variadic: Some(variadic),
                imp: Imp::Pure(f),
                bytes_ok: false,
            },
        );
    }
    pub fn ctx(
        &mut self,
        name: &'static str,
        params: &'static [Param],
        variadic: Option<Param>,
        f: CtxFn,
    ) {
        self.map.insert(
            name,
            FuncDef {
                params,
                variadic,
                imp: Imp::Ctx(f),
                bytes_ok: false,
            },
        );
    }
}

/// The function table Helm installs: Sprig's `TxtFuncMap` without `env`/`expandenv`, then
/// Helm's additions and overrides.
pub fn helm_funcs() -> &'static Funcs {
    static FUNCS: OnceLock<Funcs> = OnceLock::new();
    FUNCS.get_or_init(|| {
        let mut map = HashMap::new();
        let mut r = Reg { map: &mut map };
        strings::register(&mut r);
        convert::register(&mut r);
        math::register(&mut r);
        lists::register(&mut r);
        dicts::register(&mut r);
        encoding::register(&mut r);
        regex::register(&mut r);
        semver::register(&mut r);
        dates::register(&mut r);
        crypto::register(&mut r);
        paths::register(&mut r);
        helm::register(&mut r);
        Funcs { map }
    })
}

/// A Go panic or error message as a function error.
pub(crate) fn err<T>(msg: impl Into<String>) -> Result<T, GoError> {
    Err(GoError::msg(msg))
}

/// Go's `reflect.TypeOf(x).Kind()` name for Sprig's "Cannot ... on type %s" messages; a nil
/// interface panics with a nil dereference in Go.
pub(crate) fn kind_for_panic(v: &Value) -> Result<&'static str, GoError> {
    if v.is_nil() {
        return err("runtime error: invalid memory address or nil pointer dereference");
    }
    Ok(v.kind_name())
}

pub(crate) fn arg_str(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn arg_int(args: &[Value], i: usize) -> i64 {
    match args.get(i) {
        Some(Value::Int(n, _)) => *n,
        _ => 0,
    }
}

pub(crate) fn s(v: impl Into<String>) -> Value {
    Value::string(v.into())
}
