//! Sprig's list family. Sprig walks any Go slice through reflection and returns
//! `[]interface {}`; panics ("Cannot find first on type int") become call errors.

use super::convert::{cast_to_int64, deep_equal, empty};
use super::{Reg, err, kind_for_panic};
use crate::object::Param::{self, *};
use crate::template::GoError;
use crate::value::{IntKind, ListKind, Value};

type R = Result<Value, GoError>;

/// The elements of a slice value, or `None` for a non-slice.
pub(super) fn items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l) => Some(l.items.clone()),
        Value::Bytes(b) => Some(
            b.iter()
                .map(|c| Value::Int(*c as i64, IntKind::Uint8))
                .collect(),
        ),
        _ => None,
    }
}

fn items_or(v: &Value, what: &str) -> Result<Vec<Value>, GoError> {
    match items(v) {
        Some(i) => Ok(i),
        None => {
            let kind = kind_for_panic(v)?;
            err(format!("Cannot {what} on type {kind}"))
        }
    }
}

fn f_list(a: &[Value]) -> R {
    Ok(Value::list(a.to_vec()))
}

fn f_push(a: &[Value]) -> R {
    let mut l = items_or(&a[0], "push")?;
    l.push(a[1].clone());
    Ok(Value::list(l))
}

fn f_prepend(a: &[Value]) -> R {
    let mut l = items_or(&a[0], "prepend")?;
    l.insert(0, a[1].clone());
    Ok(Value::list(l))
}

fn f_chunk(a: &[Value]) -> R {
    let size = super::arg_int(a, 0);
    let l = items_or(&a[1], "chunk")?;
    if size <= 0 {
        return err("runtime error: integer divide by zero");
    }
    let chunks: Vec<Value> = l
        .chunks(size as usize)
        .map(|c| Value::list(c.to_vec()))
        .collect();
    Ok(Value::list_of(ListKind::Lists, chunks))
}

fn f_first(a: &[Value]) -> R {
    let l = items_or(&a[0], "find first")?;
    Ok(l.into_iter().next().unwrap_or(Value::Nil))
}

fn f_last(a: &[Value]) -> R {
    let l = items_or(&a[0], "find last")?;
    Ok(l.into_iter().last().unwrap_or(Value::Nil))
}

fn f_rest(a: &[Value]) -> R {
    let l = items_or(&a[0], "find rest")?;
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    Ok(Value::list(l[1..].to_vec()))
}

fn f_initial(a: &[Value]) -> R {
    let l = items_or(&a[0], "find initial")?;
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    Ok(Value::list(l[..l.len() - 1].to_vec()))
}

fn f_reverse(a: &[Value]) -> R {
    let mut l = items_or(&a[0], "find reverse")?;
    l.reverse();
    Ok(Value::list(l))
}

fn f_uniq(a: &[Value]) -> R {
    let l = items_or(&a[0], "find uniq")?;
    let mut out: Vec<Value> = vec![];
    for x in l {
        if !out.iter().any(|y| deep_equal(y, &x)) {
            out.push(x);
        }
    }
    Ok(Value::list(out))
}

fn f_compact(a: &[Value]) -> R {
    let l = items_or(&a[0], "compact")?;
    Ok(Value::list(l.into_iter().filter(|x| !empty(x)).collect()))
}

fn f_without(a: &[Value]) -> R {
    let l = items_or(&a[0], "find without")?;
    let omit = &a[1..];
    Ok(Value::list(
        l.into_iter()
            .filter(|x| !omit.iter().any(|o| deep_equal(o, x)))
            .collect(),
    ))
}

fn f_has(a: &[Value]) -> R {
    if a[1].is_nil() {
        return Ok(Value::Bool(false));
    }
    let l = items_or(&a[1], "find has")?;
    Ok(Value::Bool(l.iter().any(|x| deep_equal(&a[0], x))))
}

fn f_slice(a: &[Value]) -> R {
    let kind = match &a[0] {
        Value::List(l) => l.kind,
        Value::Bytes(_) => ListKind::Iface,
        other => {
            let k = kind_for_panic(other)?;
            return err(format!("list should be type of slice or array but {k}"));
        }
    };
    let l = items(&a[0]).unwrap_or_default();
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    let start = a.get(1).map(cast_to_int64).unwrap_or(0);
    let end = a.get(2).map(cast_to_int64).unwrap_or(l.len() as i64);
    if start < 0 || end < start || end as usize > l.len() {
        return err("reflect.Value.Slice: slice index out of bounds");
    }
    let part = l[start as usize..end as usize].to_vec();
    if let Value::Bytes(b) = &a[0] {
        return Ok(Value::Bytes(b[start as usize..end as usize].into()));
    }
    Ok(Value::list_of(kind, part))
}

fn f_concat(a: &[Value]) -> R {
    let mut out = vec![];
    for l in a {
        match items(l) {
            Some(i) => out.extend(i),
            None => {
                let kind = kind_for_panic(l)?;
                return err(format!("Cannot concat type {kind} as list"));
            }
        }
    }
    if out.is_empty() {
        return Ok(Value::nil_list(ListKind::Iface));
    }
    Ok(Value::list(out))
}

fn f_dig(a: &[Value]) -> R {
    if a.len() < 3 {
        return err("dig needs at least three arguments");
    }
    let dict = &a[a.len() - 1];
    let default = a[a.len() - 2].clone();
    let mut cur = match dict {
        Value::Map(m) if m.kind == crate::value::MapKind::Iface => m.clone(),
        other => {
            return err(format!(
                "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                other.type_name()
            ));
        }
    };
    let keys = &a[..a.len() - 2];
    for (i, k) in keys.iter().enumerate() {
        let Value::Str(key) = k else {
            return err(format!(
                "interface conversion: interface {{}} is {}, not string",
                k.type_name()
            ));
        };
        let Some(step) = cur.get(key) else {
            return Ok(default);
        };
        if i == keys.len() - 1 {
            return Ok(step);
        }
        cur = match &step {
            Value::Map(m) if m.kind == crate::value::MapKind::Iface => m.clone(),
            other => {
                return err(format!(
                    "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                    if other.is_nil() {
                        "nil".to_string()
                    } else {
                        other.type_name()
                    }
                ));
            }
        };
    }
    Ok(default)
}

pub(super) fn register(r: &mut Reg<'_>) {
    const A: &[Param] = &[Any];
    const AA: &[Param] = &[Any, Any];
    r.v("list", &[], Any, f_list);
    r.v("tuple", &[], Any, f_list);
    for n in ["append", "push", "mustAppend", "mustPush"] {
        r.f(n, AA, f_push);
    }
    r.f("prepend", AA, f_prepend);
    r.f("mustPrepend", AA, f_prepend);
    r.f("chunk", &[Int, Any], f_chunk);
    r.f("mustChunk", &[Int, Any], f_chunk);
    r.f("first", A, f_first);
    r.f("mustFirst", A, f_first);
    r.f("last", A, f_last);
    r.f("mustLast", A, f_last);
    r.f("rest", A, f_rest);
    r.f("mustRest", A, f_rest);
    r.f("initial", A, f_initial);
    r.f("mustInitial", A, f_initial);
    r.f("reverse", A, f_reverse);
    r.f("mustReverse", A, f_reverse);
    r.f("uniq", A, f_uniq);
    r.f("mustUniq", A, f_uniq);
    r.f("compact", A, f_compact);
    r.f("mustCompact", A, f_compact);
    r.v("without", A, Any, f_without);
    r.v("mustWithout", A, Any, f_without);
    r.f("has", AA, f_has);
    r.f("mustHas", AA, f_has);
    r.v("slice", A, Any, f_slice);
    r.v("mustSlice", A, Any, f_slice);
    r.v("concat", &[], Any, f_concat);
    r.v("dig", &[], Any, f_dig);
}
