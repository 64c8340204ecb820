//! Helm's own template functions: `include`, `tpl`, `required`, `fail`, the YAML/JSON/TOML
//! conversions Helm adds or overrides, and `lookup` (empty without a cluster).

use std::rc::Rc;

use super::{FnCtx, Reg, arg_str, s};
use crate::gofmt;
use crate::object::Param::*;
use crate::template::{GoError, Scope};
use crate::value::{Entries, Value};
use crate::yaml;

type R = Result<Value, GoError>;

/// Helm's limit on nested includes of one template name.
pub const RECURSION_MAX: usize = 1000;

/// Markers Helm wraps `required`/`fail` messages in, so its error cleanup can find them.
pub const WARN_START: &str = "HELM_ERR_START";
pub const WARN_END: &str = "HELM_ERR_END";

fn f_include(ctx: &mut FnCtx<'_, '_>, a: &[Value]) -> R {
    let name = arg_str(a, 0).to_string();
    let count = ctx.eng.included.get(&name).copied();
    match count {
        Some(v) if v > RECURSION_MAX => {
            let msg = format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            );
            return Err(GoError {
                links: vec![msg.clone(), msg, "unable to execute template".into()],
            });
        }
        Some(v) => {
            ctx.eng.included.insert(name.clone(), v + 1);
        }
        None => {
            ctx.eng.included.insert(name.clone(), 1);
        }
    }
    let r = ctx.eng.execute(ctx.scope, &name, a[1].clone());
    if let Some(v) = ctx.eng.included.get_mut(&name) {
        *v = v.saturating_sub(1);
    }
    r.map(s)
}

fn f_tpl(ctx: &mut FnCtx<'_, '_>, a: &[Value]) -> R {
    let text = arg_str(a, 0);
    let mut layer = Scope::layer(ctx.scope);
    let root = layer.root_name.to_string();
    let parsed = {
        let eng = &*ctx.eng;
        let has = |n: &str| eng.has_func(n);
        layer.parse(&root, text, &has)
    };
    if let Err(e) = parsed {
        return Err(GoError::wrap(
            &format!("cannot parse template {}: ", gofmt::quote(text)),
            2,
            GoError::msg(e.0),
        ));
    }
    if ctx.eng.tpl_depth >= RECURSION_MAX {
        return Err(GoError::wrap(
            &format!(
                "error during tpl function execution for {}: ",
                gofmt::quote(text)
            ),
            2,
            GoError::msg(format!("tpl nested more than {RECURSION_MAX} levels deep")),
        ));
    }
    ctx.eng.tpl_depth += 1;
    let r = ctx.eng.execute(&layer, &root, a[1].clone());
    ctx.eng.tpl_depth -= 1;
    match r {
        Ok(out) => Ok(s(out.replace("<no value>", ""))),
        Err(e) => Err(GoError::wrap(
            &format!(
                "error during tpl function execution for {}: ",
                gofmt::quote(text)
            ),
            2,
            e,
        )),
    }
}

fn warn_wrap(msg: &str) -> String {
    format!("{WARN_START}{msg}{WARN_END}")
}

fn f_required(a: &[Value]) -> R {
    let missing = match &a[1] {
        Value::Nil => true,
        Value::Str(st) => st.is_empty(),
        _ => false,
    };
    if missing {
        return Err(GoError::msg(warn_wrap(arg_str(a, 0))));
    }
    Ok(a[1].clone())
}

fn f_fail(a: &[Value]) -> R {
    Err(GoError::msg(warn_wrap(arg_str(a, 0))))
}

/// Helm's `toYAML`: the YAML without its final newline, "" on error.
pub fn to_yaml(v: &Value) -> String {
    match yaml::marshal(v) {
        Ok(out) => out.strip_suffix('\n').map(String::from).unwrap_or(out),
        Err(_) => String::new(),
    }
}

fn f_to_yaml(a: &[Value]) -> R {
    Ok(s(to_yaml(&a[0])))
}

fn f_must_to_yaml(a: &[Value]) -> R {
    let out = yaml::marshal(&a[0]).map_err(|e| GoError::msg(e.0))?;
    Ok(s(out.strip_suffix('\n').map(String::from).unwrap_or(out)))
}

fn f_to_yaml_pretty(a: &[Value]) -> R {
    let node = yaml::emit::pretty_node(&a[0]);
    let out = yaml::emit::emit_pretty(&node);
    Ok(s(out.strip_suffix('\n').map(String::from).unwrap_or(out)))
}

fn f_from_yaml(a: &[Value]) -> R {
    match yaml::load(arg_str(a, 0)) {
        Ok(Value::Map(m)) => Ok(Value::Map(m)),
        Ok(Value::Nil) => Ok(Value::empty_map()),
        Ok(other) => {
            let mut e = Entries::new();
            e.insert(
                Rc::from("Error"),
                s(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&other)
                )),
            );
            Ok(Value::map(e))
        }
        Err(err) => {
            let mut e = Entries::new();
            e.insert(Rc::from("Error"), s(err.0));
            Ok(Value::map(e))
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "array",
        Value::Str(_) => "string",
        Value::Float(_) | Value::Int(..) => "number",
        Value::Bool(_) => "bool",
        _ => "object",
    }
}

fn f_from_yaml_array(a: &[Value]) -> R {
    match yaml::load(arg_str(a, 0)) {
        Ok(Value::List(l)) => Ok(Value::List(l)),
        Ok(Value::Nil) => Ok(Value::list(vec![])),
        Ok(other) => Ok(Value::list(vec![s(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))])),
        Err(e) => Ok(Value::list(vec![s(e.0)])),
    }
}

fn f_to_toml(a: &[Value]) -> R {
    Ok(s(match crate::toml::encode(&a[0]) {
        Ok(t) => t,
        Err(e) => e,
    }))
}

fn f_must_to_toml(a: &[Value]) -> R {
    crate::toml::encode(&a[0]).map(s).map_err(GoError::msg)
}

fn f_from_toml(a: &[Value]) -> R {
    match crate::toml::decode(arg_str(a, 0)) {
        Ok(v) => Ok(v),
        Err(e) => {
            let mut m = Entries::new();
            m.insert(Rc::from("Error"), s(e));
            Ok(Value::map(m))
        }
    }
}

fn f_lookup(_: &[Value]) -> R {
    Ok(Value::empty_map())
}

pub(super) fn register(r: &mut Reg<'_>) {
    r.ctx("include", &[Str, Any], None, f_include);
    r.ctx("tpl", &[Str, Any], None, f_tpl);
    r.f("required", &[Str, Any], f_required);
    r.f("fail", &[Str], f_fail);
    r.f("toYaml", &[Any], f_to_yaml);
    r.f("mustToYaml", &[Any], f_must_to_yaml);
    r.f("toYamlPretty", &[Any], f_to_yaml_pretty);
    r.f("fromYaml", &[Str], f_from_yaml);
    r.f("fromYamlArray", &[Str], f_from_yaml_array);
    r.f("toToml", &[Any], f_to_toml);
    r.f("mustToToml", &[Any], f_must_to_toml);
    r.f("fromToml", &[Str], f_from_toml);
    r.f("lookup", &[Str, Str, Str, Str], f_lookup);
}
