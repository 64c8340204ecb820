//! CEL cost: a static estimate from the schema's size bounds (checked when a CRD is written,
//! `StaticEstimatedCostLimit` per rule and `StaticEstimatedCRDCostLimit` per schema) and a
//! runtime estimate from the actual sizes of the values (checked before each evaluation,
//! `PerCallLimit` and `RuntimeCELCostBudget`).
//!
//! The cel interpreter cannot meter itself, so the runtime cost is not measured but computed
//! before evaluation with the same model: one unit per variable, field selection and call,
//! string functions in proportion to the string (a tenth of a unit per character, regular
//! expressions by string × pattern length), comprehensions as the size of their range times
//! the cost of one step. Unbounded schema sizes are what fits in a 3 MiB request, as the API
//! server assumes. The numbers follow cel-go's model closely enough that the limits refuse the
//! same shapes of rules (quadratic rules over unbounded lists), not to the unit.

use serde_json::Value;

use super::cel::escape_field_name;
use crate::model::{AdditionalProperties, JsonType, Schema};
use kube_cel::cel::common::ast::{Expr, IdedExpr, LiteralValue};

/// The largest request the API server accepts, which bounds unbounded sizes.
const MAX_REQUEST_BYTES: u64 = 3 * 1024 * 1024;
/// Cost of creating a list / map literal (cel-go's base costs).
const LIST_CREATE: u64 = 10;
const MAP_CREATE: u64 = 30;

/// What an expression is known to evaluate to, for sizes.
#[derive(Clone)]
enum Shape<'a> {
    /// Runtime: the values it may be.
    Values(Vec<&'a Value>),
    /// Static: values described by this schema.
    Schema(Schema<'a>),
    /// A string, list or map of at most this size.
    Sized(u64),
    Unknown,
}

struct Env<'a> {
    vars: Vec<(String, Shape<'a>)>,
    /// Size assumed for what cannot be sized.
    fallback: u64,
}

impl<'a> Env<'a> {
    fn lookup(&self, name: &str) -> Shape<'a> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .unwrap_or(Shape::Unknown)
    }
}

/// Estimated cost of one evaluation with the actual values.
pub(crate) fn runtime(
    expr: &IdedExpr,
    self_v: &Value,
    old: Option<&Value>,
    s: Option<Schema<'_>>,
) -> u64 {
    let _ = s;
    let mut env = Env {
        vars: vec![("self".into(), Shape::Values(vec![self_v]))],
        fallback: value_size(self_v).max(1),
    };
    if let Some(o) = old {
        env.vars.push(("oldSelf".into(), Shape::Values(vec![o])));
    }
    cost(expr, &mut env).0
}

/// Estimated worst-case cost of one evaluation from the schema's bounds.
pub(crate) fn estimate(expr: &IdedExpr, s: Schema<'_>) -> u64 {
    let mut env = Env {
        vars: vec![
            ("self".into(), Shape::Schema(s)),
            ("oldSelf".into(), Shape::Schema(s)),
        ],
        fallback: MAX_REQUEST_BYTES,
    };
    cost(expr, &mut env).0
}

/// Number of nodes of a value (its largest possible size for anything derived from it).
fn value_size(v: &Value) -> u64 {
    match v {
        Value::Array(a) => 1 + a.iter().map(value_size).sum::<u64>(),
        Value::Object(m) => 1 + m.values().map(value_size).sum::<u64>(),
        Value::String(s) => s.len() as u64,
        _ => 1,
    }
}

/// The smallest JSON text a value of this schema can have (for unbounded sizes).
fn min_serialized(s: Schema<'_>) -> u64 {
    let n = s.node();
    match n.ty {
        Some(JsonType::String) => 2,
        Some(JsonType::Boolean) => 4,
        Some(JsonType::Integer) | Some(JsonType::Number) => 1,
        Some(JsonType::Array) | Some(JsonType::Object) => 2,
        None => 1,
    }
}

/// How many elements (characters, items, entries) a schema allows at most.
pub(crate) fn max_size(s: Schema<'_>) -> u64 {
    let n = s.node();
    let l = &n.limits;
    match n.ty {
        Some(JsonType::String) => l.max_length.unwrap_or(MAX_REQUEST_BYTES - 2),
        Some(JsonType::Array) => l.max_items.unwrap_or_else(|| {
            let item = s.items().map(min_serialized).unwrap_or(1);
            (MAX_REQUEST_BYTES - 2) / (item + 1)
        }),
        Some(JsonType::Object) => {
            l.max_properties
                .unwrap_or_else(|| match n.additional_properties {
                    AdditionalProperties::Schema(_) => {
                        let value = s.additional_properties().map(min_serialized).unwrap_or(1);
                        // `"":v,`
                        (MAX_REQUEST_BYTES - 2) / (3 + value + 1)
                    }
                    _ => n.properties.len() as u64,
                })
        }
        _ => 1,
    }
}

fn size(shape: &Shape<'_>, fallback: u64) -> u64 {
    match shape {
        Shape::Values(vs) => vs
            .iter()
            .map(|v| match v {
                Value::Array(a) => a.len() as u64,
                Value::Object(m) => m.len() as u64,
                Value::String(s) => s.chars().count() as u64,
                _ => 1,
            })
            .max()
            .unwrap_or(0),
        Shape::Schema(s) => max_size(*s),
        Shape::Sized(n) => *n,
        Shape::Unknown => fallback,
    }
}

fn select<'a>(shape: &Shape<'a>, field: &str) -> Shape<'a> {
    match shape {
        Shape::Values(vs) => Shape::Values(
            vs.iter()
                .filter_map(|v| v.as_object())
                .flat_map(|m| m.iter().filter(|(k, _)| key_is(k, field)).map(|(_, v)| v))
                .collect(),
        ),
        Shape::Schema(s) => {
            let found = s
                .properties()
                .find(|(k, _)| key_is(k, field))
                .map(|(_, p)| p)
                .or_else(|| s.additional_properties());
            match found {
                Some(p) => Shape::Schema(p),
                None => Shape::Unknown,
            }
        }
        _ => Shape::Unknown,
    }
}

/// Whether JSON key `k` is the CEL field `field` (escaped), without allocating for plain names.
fn key_is(k: &str, field: &str) -> bool {
    if k == field {
        return true;
    }
    let plain = k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !k.contains("__");
    !plain && escape_field_name(k).as_deref() == Some(field)
}

fn elements<'a>(shape: &Shape<'a>) -> Shape<'a> {
    match shape {
        Shape::Values(vs) => {
            let mut out = Vec::new();
            let mut key_len = 0u64;
            for v in vs {
                match v {
                    Value::Array(a) => out.extend(a.iter()),
                    Value::Object(m) => {
                        key_len = key_len.max(m.keys().map(|k| k.len() as u64).max().unwrap_or(0))
                    }
                    _ => {}
                }
            }
            if out.is_empty() && key_len > 0 {
                Shape::Sized(key_len)
            } else {
                Shape::Values(out)
            }
        }
        Shape::Schema(s) => match s.items() {
            Some(i) => Shape::Schema(i),
            None => Shape::Unknown,
        },
        _ => Shape::Unknown,
    }
}

fn string_cost(len: u64) -> u64 {
    (len as f64 * 0.1).ceil() as u64
}

fn literal_len(e: &IdedExpr) -> Option<u64> {
    match &e.expr {
        Expr::Literal(LiteralValue::String(s)) => Some(s.inner().len() as u64),
        _ => None,
    }
}

/// Returns (cost, shape of the result).
fn cost<'a>(e: &IdedExpr, env: &mut Env<'a>) -> (u64, Shape<'a>) {
    match &e.expr {
        Expr::Unspecified => (0, Shape::Unknown),
        Expr::Literal(LiteralValue::String(s)) => (0, Shape::Sized(s.inner().len() as u64)),
        Expr::Literal(_) => (0, Shape::Sized(1)),
        Expr::Ident(name) => (1, env.lookup(name)),
        Expr::Select(sel) => {
            let (c, shape) = cost(&sel.operand, env);
            (c.saturating_add(1), select(&shape, &sel.field))
        }
        Expr::List(list) => {
            let mut c = LIST_CREATE;
            for el in &list.elements {
                c = c.saturating_add(cost(el, env).0);
            }
            (c, Shape::Sized(list.elements.len() as u64))
        }
        Expr::Map(map) => {
            let mut c = MAP_CREATE;
            for entry in &map.entries {
                if let kube_cel::cel::common::ast::EntryExpr::MapEntry(me) = &entry.expr {
                    c = c
                        .saturating_add(cost(&me.key, env).0)
                        .saturating_add(cost(&me.value, env).0);
                }
            }
            (c, Shape::Sized(map.entries.len() as u64))
        }
        Expr::Struct(st) => {
            let mut c = MAP_CREATE;
            for entry in &st.entries {
                if let kube_cel::cel::common::ast::EntryExpr::StructField(f) = &entry.expr {
                    c = c.saturating_add(cost(&f.value, env).0);
                }
            }
            (c, Shape::Unknown)
        }
        Expr::Comprehension(comp) => {
            let (range_cost, range) = cost(&comp.iter_range, env);
            let n = size(&range, env.fallback);
            let init = cost(&comp.accu_init, env).0;
            env.vars.push((comp.iter_var.clone(), elements(&range)));
            if let Some(v2) = &comp.iter_var2 {
                env.vars.push((v2.clone(), elements(&range)));
            }
            env.vars.push((comp.accu_var.clone(), Shape::Sized(n)));
            let step = cost(&comp.loop_cond, env)
                .0
                .saturating_add(cost(&comp.loop_step, env).0);
            let result = cost(&comp.result, env).0;
            env.vars.pop();
            if comp.iter_var2.is_some() {
                env.vars.pop();
            }
            env.vars.pop();
            let total = range_cost
                .saturating_add(init)
                .saturating_add(n.saturating_mul(step.max(1)))
                .saturating_add(result);
            (total, Shape::Sized(n))
        }
        Expr::Call(call) => {
            let mut c = 0u64;
            let target = call.target.as_ref().map(|t| {
                let (tc, ts) = cost(t, env);
                c = c.saturating_add(tc);
                ts
            });
            let mut args = Vec::with_capacity(call.args.len());
            for a in &call.args {
                let (ac, ashape) = cost(a, env);
                c = c.saturating_add(ac);
                args.push(ashape);
            }
            let fallback = env.fallback;
            let len_of = |s: Option<&Shape<'_>>| s.map(|s| size(s, fallback)).unwrap_or(0);
            let subject = target.as_ref().or(args.first());
            let (fc, shape) = match call.func_name.as_str() {
                // Logical operators cost their operands only (cel-go).
                "_&&_" | "_||_" | "!_" | "_?_:_" => (0, Shape::Sized(1)),
                "_==_" | "_!=_" | "_<_" | "_<=_" | "_>_" | "_>=_" => {
                    let l = len_of(args.first()).max(len_of(args.get(1)));
                    (1 + string_cost(l), Shape::Sized(1))
                }
                "_+_" => {
                    let l = len_of(args.first()).saturating_add(len_of(args.get(1)));
                    (1 + string_cost(l), Shape::Sized(l))
                }
                "@in" => {
                    let l = len_of(args.get(1));
                    (1 + l, Shape::Sized(1))
                }
                "_[_]" => (1, args.first().map(elements).unwrap_or(Shape::Unknown)),
                "matches" | "find" | "findAll" => {
                    let l = len_of(subject);
                    let pat = call.args.last().and_then(literal_len).unwrap_or(10);
                    (1 + ((l * pat) as f64 * 0.25).ceil() as u64, Shape::Sized(l))
                }
                "contains" | "startsWith" | "endsWith" | "lowerAscii" | "upperAscii" | "trim"
                | "indexOf" | "lastIndexOf" | "replace" | "split" | "substring" | "charAt"
                | "join" | "reverse" | "format" | "quantity" | "isQuantity" | "url" | "isURL"
                | "ip" | "isIP" | "cidr" | "isCIDR" | "semver" | "isSemver" | "string"
                | "bytes" | "base64.encode" | "base64.decode" => {
                    let l = len_of(subject);
                    let extra: u64 = call.args.iter().filter_map(literal_len).sum();
                    (
                        1 + string_cost(l).saturating_add(string_cost(extra)),
                        Shape::Sized(l),
                    )
                }
                "sets.contains" | "sets.intersects" | "sets.equivalent" => {
                    let l = len_of(args.first()).saturating_mul(len_of(args.get(1)).max(1));
                    (1 + l, Shape::Sized(1))
                }
                "sum" | "min" | "max" | "isSorted" | "indexOf_list" | "slice" | "flatten"
                | "distinct" | "sort" => {
                    let l = len_of(subject);
                    (1 + l, Shape::Sized(l))
                }
                _ => (1, Shape::Unknown),
            };
            (c.saturating_add(fc), shape)
        }
    }
}

/// `getCostErrorMessage`.
pub(crate) fn exceeds_message(description: &str, cost: u64, limit: u64) -> String {
    let factor = cost as f64 / limit as f64;
    let factor = if factor > 100.0 {
        "more than 100x".to_owned()
    } else if factor < 1.5 {
        format!("{factor:.6}x")
    } else {
        format!("{factor:.1}x")
    };
    format!(
        "{description} exceeds budget by factor of {factor} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_cel::cel::Program;
    use serde_json::json;

    #[test]
    fn runtime_cost_follows_the_data() {
        let p = Program::compile("self.all(x, self.all(y, x != y || true))").unwrap();
        let small = json!([1, 2, 3]);
        let big: Vec<i64> = (0..2000).collect();
        let big = json!(big);
        assert!(runtime(p.expression(), &small, None, None) < 200);
        assert!(runtime(p.expression(), &big, None, None) > 1_000_000);
    }
}
