//! Conversions (spf13/cast as Sprig uses it), defaults and reflection functions.

use super::{Reg, s};
use crate::gofmt;
use crate::gonum;
use crate::object::Param::{self, *};
use crate::template::GoError;
use crate::value::Value;

/// Sprig's `strval`: strings as they are, `[]byte` as text, Stringers, otherwise `%v`.
pub fn strval(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::BStr(b) | Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Object(o) => o.stringer().unwrap_or_else(|| gofmt::format_v(v)),
        other => gofmt::format_v(other),
    }
}

/// Sprig's `empty`: nil, zero numbers, false, and empty strings/collections.
pub fn empty(v: &Value) -> bool {
    !v.truth()
}

/// cast's `trimZeroDecimal`: "12.000" → "12".
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    let mut i = b.len();
    while i > 0 {
        match b[i - 1] {
            b'.' => {
                if found_zero {
                    return &s[..i - 1];
                }
                return s;
            }
            b'0' => found_zero = true,
            _ => return s,
        }
        i -= 1;
    }
    s
}

/// `cast.ToInt64` (errors become 0).
pub fn cast_to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        Value::Float(f) => go_f64_to_i64(*f),
        Value::Str(s) => gonum::parse_int0(trim_zero_decimal(s)).unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

/// Go's `int64(f)`: truncation; out-of-range values give the minimum int64 on amd64.
pub fn go_f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        return i64::MIN;
    }
    f as i64
}

/// `cast.ToFloat64` (errors become 0).
pub fn cast_to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i, k) => {
            if k.is_unsigned() {
                *i as u64 as f64
            } else {
                *i as f64
            }
        }
        Value::Float(f) => *f,
        Value::Str(s) => gonum::parse_float(s).unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

/// Sprig's `strslice` (`toStrings`, `join`, `sortAlpha`).
pub fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l.items.iter().filter(|x| !x.is_nil()).map(strval).collect(),
        Value::Bytes(b) => b.iter().map(|c| c.to_string()).collect(),
        Value::Nil => vec![],
        other => vec![strval(other)],
    }
}

/// `reflect.DeepEqual`.
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    if a.type_name() != b.type_name() {
        return false;
    }
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x, _), Value::Int(y, _)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.items.len() == y.items.len()
                && x.items.iter().zip(&y.items).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            if std::rc::Rc::ptr_eq(&x.entries, &y.entries) {
                return true;
            }
            let xe = x.entries.borrow();
            let ye = y.entries.borrow();
            xe.len() == ye.len()
                && xe
                    .iter()
                    .all(|(k, v)| ye.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Object(x), Value::Object(y)) => {
            std::rc::Rc::ptr_eq(x, y)
                || crate::json::encode(&x.json(), false).ok()
                    == crate::json::encode(&y.json(), false).ok()
        }
        _ => false,
    }
}

fn f_to_string(a: &[Value]) -> Result<Value, GoError> {
    match &a[0] {
        Value::BStr(_) => Ok(a[0].clone()),
        Value::Bytes(b) => Ok(Value::from_bytes(b.to_vec())),
        other => Ok(s(strval(other))),
    }
}

fn f_atoi(a: &[Value]) -> Result<Value, GoError> {
    let n = gonum::parse_int10(super::arg_str(a, 0)).unwrap_or(0);
    Ok(Value::int(n))
}

fn f_int(a: &[Value]) -> Result<Value, GoError> {
    Ok(Value::int(cast_to_int64(&a[0])))
}

fn f_int64(a: &[Value]) -> Result<Value, GoError> {
    Ok(Value::int64(cast_to_int64(&a[0])))
}

fn f_float64(a: &[Value]) -> Result<Value, GoError> {
    Ok(Value::Float(cast_to_float64(&a[0])))
}

fn f_to_decimal(a: &[Value]) -> Result<Value, GoError> {
    let text = gofmt::sprint(&a[..1]);
    let (neg, digits) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    let v = if !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        i64::from_str_radix(digits, 8)
            .map(|v| if neg { -v } else { v })
            .unwrap_or(0)
    } else {
        0
    };
    Ok(Value::int64(v))
}

fn f_to_strings(a: &[Value]) -> Result<Value, GoError> {
    Ok(Value::str_list(strslice(&a[0])))
}

fn f_default(a: &[Value]) -> Result<Value, GoError> {
    if a.len() < 2 || empty(&a[1]) {
        return Ok(a[0].clone());
    }
    Ok(a[1].clone())
}

fn f_empty(a: &[Value]) -> Result<Value, GoError> {
    Ok(Value::Bool(empty(&a[0])))
}

fn f_coalesce(a: &[Value]) -> Result<Value, GoError> {
    Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil))
}

fn f_all(a: &[Value]) -> Result<Value, GoError> {
    Ok(Value::Bool(a.iter().all(|v| !empty(v))))
}

fn f_any(a: &[Value]) -> Result<Value, GoError> {
    Ok(Value::Bool(a.iter().any(|v| !empty(v))))
}

fn f_ternary(a: &[Value]) -> Result<Value, GoError> {
    let cond = matches!(a[2], Value::Bool(true));
    Ok(if cond { a[0].clone() } else { a[1].clone() })
}

fn f_type_of(a: &[Value]) -> Result<Value, GoError> {
    Ok(s(a[0].type_name()))
}

fn f_type_is(a: &[Value]) -> Result<Value, GoError> {
    Ok(Value::Bool(super::arg_str(a, 0) == a[1].type_name()))
}

fn f_type_is_like(a: &[Value]) -> Result<Value, GoError> {
    let t = a[1].type_name();
    let target = super::arg_str(a, 0);
    Ok(Value::Bool(target == t || format!("*{target}") == t))
}

fn f_kind_of(a: &[Value]) -> Result<Value, GoError> {
    Ok(s(a[0].kind_name()))
}

fn f_kind_is(a: &[Value]) -> Result<Value, GoError> {
    Ok(Value::Bool(super::arg_str(a, 0) == a[1].kind_name()))
}

fn f_deep_equal(a: &[Value]) -> Result<Value, GoError> {
    Ok(Value::Bool(deep_equal(&a[0], &a[1])))
}

fn f_deep_copy(a: &[Value]) -> Result<Value, GoError> {
    Ok(a[0].deep_copy())
}

fn f_hello(_: &[Value]) -> Result<Value, GoError> {
    Ok(s("Hello!"))
}

fn f_seq(a: &[Value]) -> Result<Value, GoError> {
    let p: Vec<i64> = a
        .iter()
        .map(|v| super::arg_int(std::slice::from_ref(v), 0))
        .collect();
    let (start, end, step) = match p.len() {
        0 => return Ok(s("")),
        1 => {
            let end = p[0];
            let inc = if end < 1 { -1 } else { 1 };
            (1, end + inc, inc)
        }
        2 => {
            let step = if p[1] < p[0] { -1 } else { 1 };
            (p[0], p[1] + step, step)
        }
        3 => {
            // seq FIRST INCREMENT LAST
            let (start, step, end) = (p[0], p[1], p[2]);
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return Ok(s(""));
                }
            }
            (start, end + inc, step)
        }
        _ => return Ok(s("")),
    };
    let v = super::math::until_step(start, end, step)?;
    Ok(s(v
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" ")))
}

pub(super) fn register(r: &mut Reg<'_>) {
    const A: &[Param] = &[Any];
    r.f("toString", A, f_to_string);
    r.f("atoi", &[Str], f_atoi);
    r.f("int", A, f_int);
    r.f("int64", A, f_int64);
    r.f("float64", A, f_float64);
    r.f("toDecimal", A, f_to_decimal);
    r.f("toStrings", A, f_to_strings);
    r.v("default", &[Any], Any, f_default);
    r.f("empty", A, f_empty);
    r.v("coalesce", &[], Any, f_coalesce);
    r.v("all", &[], Any, f_all);
    r.v("any", &[], Any, f_any);
    r.f("ternary", &[Any, Any, Bool], f_ternary);
    r.f("typeOf", A, f_type_of);
    r.f("typeIs", &[Str, Any], f_type_is);
    r.f("typeIsLike", &[Str, Any], f_type_is_like);
    r.f("kindOf", A, f_kind_of);
    r.f("kindIs", &[Str, Any], f_kind_is);
    r.f("deepEqual", &[Any, Any], f_deep_equal);
    r.f("deepCopy", A, f_deep_copy);
    r.f("mustDeepCopy", A, f_deep_copy);
    r.f("hello", &[], f_hello);
    r.v("seq", &[], Int, f_seq);
}
