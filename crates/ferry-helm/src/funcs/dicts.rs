//! Sprig's dict family, including mergo's merge rules for `merge` and `mergeOverwrite`.
//! Go iterates maps in random order; where Sprig returns keys or values in that order, these
//! return them sorted by key (one of the orders Go may produce).

use std::rc::Rc;

use super::convert::{empty, strval};
use super::{Reg, err};
use crate::object::Param::{self, *};
use crate::template::GoError;
use crate::value::{Entries, MapVal, Value};

type R = Result<Value, GoError>;

fn f_dict(a: &[Value]) -> R {
    let mut e = Entries::new();
    let mut i = 0;
    while i < a.len() {
        let key: Rc<str> = Rc::from(strval(&a[i]));
        let val = a.get(i + 1).cloned().unwrap_or_else(|| Value::str(""));
        e.insert(key, val);
        i += 2;
    }
    Ok(Value::map(e))
}

fn map_of(v: &Value) -> Option<&Rc<MapVal>> {
    v.as_table()
}

fn f_get(a: &[Value]) -> R {
    let key = super::arg_str(a, 1);
    Ok(map_of(&a[0])
        .and_then(|m| m.get(key))
        .unwrap_or_else(|| Value::str("")))
}

fn f_set(a: &[Value]) -> R {
    let Some(m) = map_of(&a[0]) else {
        return err("assignment to entry in nil map");
    };
    m.insert(super::arg_str(a, 1), a[2].clone());
    Ok(a[0].clone())
}

fn f_unset(a: &[Value]) -> R {
    if let Some(m) = map_of(&a[0]) {
        m.remove(super::arg_str(a, 1));
    }
    Ok(a[0].clone())
}

fn f_has_key(a: &[Value]) -> R {
    Ok(Value::Bool(
        map_of(&a[0]).is_some_and(|m| m.contains(super::arg_str(a, 1))),
    ))
}

fn f_pluck(a: &[Value]) -> R {
    let key = super::arg_str(a, 0);
    Ok(Value::list(
        a[1..]
            .iter()
            .filter_map(|d| map_of(d).and_then(|m| m.get(key)))
            .collect(),
    ))
}

fn f_keys(a: &[Value]) -> R {
    let mut out = vec![];
    for d in a {
        if let Some(m) = map_of(d) {
            out.extend(m.keys().iter().map(|k| k.to_string()));
        }
    }
    Ok(Value::str_list(out))
}

fn f_values(a: &[Value]) -> R {
    Ok(Value::list(
        map_of(&a[0])
            .map(|m| m.snapshot().into_iter().map(|(_, v)| v).collect())
            .unwrap_or_default(),
    ))
}

fn f_pick(a: &[Value]) -> R {
    let mut e = Entries::new();
    if let Some(m) = map_of(&a[0]) {
        for k in &a[1..] {
            let k = k.as_str().unwrap_or("");
            if let Some(v) = m.get(k) {
                e.insert(Rc::from(k), v);
            }
        }
    }
    Ok(Value::map(e))
}

fn f_omit(a: &[Value]) -> R {
    let mut e = Entries::new();
    if let Some(m) = map_of(&a[0]) {
        let omit: Vec<&str> = a[1..].iter().filter_map(Value::as_str).collect();
        for (k, v) in m.snapshot() {
            if !omit.contains(&&*k) {
                e.insert(k, v);
            }
        }
    }
    Ok(Value::map(e))
}

/// mergo's `deepMerge` for `map[string]interface{}` (see the module docs of the merge rules).
pub fn mergo(dst: &MapVal, src: &MapVal, overwrite: bool, depth: usize) {
    if depth > 10_000 {
        return;
    }
    for (key, sv) in src.snapshot() {
        let dv = dst.get(&key);
        match &sv {
            Value::Nil => {
                if overwrite {
                    dst.insert(&key, Value::Nil);
                }
                continue;
            }
            Value::Map(sm) => {
                if let Some(Value::Map(dm)) = &dv
                    && !Rc::ptr_eq(&dm.entries, &sm.entries)
                {
                    mergo(dm, sm, overwrite, depth + 1);
                }
            }
            Value::List(_) | Value::Bytes(_) => {
                let dst_empty = dst.entries.borrow().is_empty();
                if overwrite || dst_empty {
                    dst.insert(&key, sv.clone());
                }
            }
            _ => {}
        }
        if let Some(d) = &dv
            && !empty(d)
        {
            if matches!(sv, Value::List(_) | Value::Bytes(_)) {
                continue;
            }
            if matches!(sv, Value::Map(_)) && matches!(d, Value::Map(_)) {
                continue;
            }
        }
        if overwrite || dv.as_ref().is_none_or(empty) {
            dst.insert(&key, sv);
        }
    }
}

fn merge_impl(a: &[Value], overwrite: bool) -> R {
    let dst = match &a[0] {
        Value::Map(m) => m.clone(),
        _ => match Value::empty_map() {
            Value::Map(m) => m,
            _ => return err("unreachable"),
        },
    };
    for src in &a[1..] {
        if let Value::Map(s) = src
            && !Rc::ptr_eq(&s.entries, &dst.entries)
        {
            mergo(&dst, s, overwrite, 0);
        }
    }
    Ok(Value::Map(dst))
}

fn f_merge(a: &[Value]) -> R {
    merge_impl(a, false)
}

fn f_merge_overwrite(a: &[Value]) -> R {
    merge_impl(a, true)
}

pub(super) fn register(r: &mut Reg<'_>) {
    const MS: &[Param] = &[Map, Str];
    r.v("dict", &[], Any, f_dict);
    r.f("get", MS, f_get);
    r.f("set", &[Map, Str, Any], f_set);
    r.f("unset", MS, f_unset);
    r.f("hasKey", MS, f_has_key);
    r.v("pluck", &[Str], Map, f_pluck);
    r.v("keys", &[], Map, f_keys);
    r.v("pick", &[Map], Str, f_pick);
    r.v("omit", &[Map], Str, f_omit);
    r.v("merge", &[Map], Map, f_merge);
    r.v("mustMerge", &[Map], Map, f_merge);
    r.v("mergeOverwrite", &[Map], Map, f_merge_overwrite);
    r.v("mustMergeOverwrite", &[Map], Map, f_merge_overwrite);
    r.f("values", &[Map], f_values);
}
