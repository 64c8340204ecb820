//! Methods templates can call on values: `common.Values` (Table, PathValue, YAML, AsMap),
//! `engine.files` (Get, Glob, AsConfig, AsSecrets, Lines), `common.VersionSet` (Has), and
//! the methods of struct objects.

use std::rc::Rc;

use crate::object::{Param, Sig};
use crate::template::GoError;
use crate::value::{Entries, ListKind, MapKind, MapVal, Value};

/// The signature of method `name` on `v`, if `v`'s type has one.
pub fn method_sig(v: &Value, name: &str) -> Option<Sig> {
    match v {
        Value::Map(m) => match (m.kind, name) {
            (MapKind::Values, "YAML" | "AsMap") => Some(Sig::NONE),
            (MapKind::Values, "Table" | "PathValue") => Some(Sig::STR),
            (MapKind::Files, "Get" | "GetBytes" | "Glob" | "Lines") => Some(Sig::STR),
            (MapKind::Files, "AsConfig" | "AsSecrets") => Some(Sig::NONE),
            _ => None,
        },
        Value::List(l) if l.kind == ListKind::VersionSet && name == "Has" => Some(Sig {
            params: &[Param::Str],
            variadic: None,
        }),
        Value::Object(o) => o.method(name),
        _ => None,
    }
}

pub fn call_method(recv: &Value, name: &str, args: &[Value]) -> Result<Value, GoError> {
    let arg = args.first().and_then(Value::as_str).unwrap_or("");
    match recv {
        Value::Map(m) if m.kind == MapKind::Values => values_method(m, name, arg),
        Value::Map(m) if m.kind == MapKind::Files => files_method(m, name, arg),
        Value::List(l) if l.kind == ListKind::VersionSet => {
            Ok(Value::Bool(l.items.iter().any(|i| i.as_str() == Some(arg))))
        }
        Value::Object(o) => o.call(name, args).map_err(GoError::msg),
        _ => Err(GoError::msg(format!("can't call method {name}"))),
    }
}

/// Helm's `ErrNoTable`.
pub fn no_table(key: &str) -> String {
    format!("{} is not a table", crate::gofmt::quote(key))
}

/// Helm's `Values.Table`: walks a dotted path of tables.
pub fn table(v: &Rc<MapVal>, path: &str) -> Result<Rc<MapVal>, (Rc<MapVal>, String)> {
    let mut cur = v.clone();
    for part in path.split('.') {
        match cur.get(part) {
            None => return Err((cur, no_table(part))),
            Some(Value::Map(m)) if m.kind.iface_elems() => cur = m,
            Some(_) => {
                return Err((
                    match Value::map_of(MapKind::Values, Entries::new()) {
                        Value::Map(m) => m,
                        _ => cur,
                    },
                    no_table(part),
                ));
            }
        }
    }
    Ok(cur)
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(m) if m.kind.iface_elems())
}

/// Helm's `Values.PathValue`: a non-table value at a dotted path.
pub fn path_value(v: &Rc<MapVal>, path: &str) -> Result<Value, String> {
    if path.is_empty() {
        return Err("YAML path cannot be empty".into());
    }
    let parts: Vec<&str> = path.split('.').collect();
    let no_value = |k: &str| format!("{} is not a value", crate::gofmt::quote(k));
    if parts.len() == 1 {
        return match v.get(parts[0]) {
            Some(x) if !is_table(&x) => Ok(x),
            _ => Err(no_value(parts[0])),
        };
    }
    let key = parts[parts.len() - 1];
    let t = table(v, &parts[..parts.len() - 1].join(".")).map_err(|_| no_value(key))?;
    match t.get(key) {
        Some(x) if !is_table(&x) => Ok(x),
        _ => Err(no_value(key)),
    }
}

fn values_method(m: &Rc<MapVal>, name: &str, arg: &str) -> Result<Value, GoError> {
    match name {
        "YAML" => crate::yaml::marshal(&Value::Map(m.clone()))
            .map(Value::string)
            .map_err(|e| GoError::msg(e.0)),
        "AsMap" => {
            if m.entries.borrow().is_empty() {
                return Ok(Value::empty_map());
            }
            // the same map, typed map[string]interface{}
            Ok(Value::Map(m.clone()).retyped(MapKind::Iface))
        }
        "Table" => match table(m, arg) {
            Ok(t) => Ok(Value::Map(retype(t, MapKind::Values))),
            Err((_, e)) => Err(GoError::msg(e)),
        },
        "PathValue" => path_value(m, arg).map_err(GoError::msg),
        _ => Err(GoError::msg(format!("can't call method {name}"))),
    }
}

/// The same map seen as another named map type (Go's conversion shares the map).
fn retype(m: Rc<MapVal>, kind: MapKind) -> Rc<MapVal> {
    if m.kind == kind {
        return m;
    }
    Rc::new(MapVal {
        kind,
        entries: m.entries.clone(),
        nil: m.nil,
    })
}

fn files_method(m: &Rc<MapVal>, name: &str, arg: &str) -> Result<Value, GoError> {
    let bytes = |k: &str| -> Option<Rc<[u8]>> {
        match m.get(k) {
            Some(Value::Bytes(b)) => Some(b),
            _ => None,
        }
    };
    match name {
        "Get" => Ok(Value::from_bytes(
            bytes(arg).map(|b| b.to_vec()).unwrap_or_default(),
        )),
        "GetBytes" => Ok(Value::Bytes(
            bytes(arg).unwrap_or_else(|| Rc::from(&[][..])),
        )),
        "Glob" => {
            let g = crate::glob::Glob::new(arg)
                .unwrap_or_else(|| crate::glob::Glob::new("**").unwrap_or_default());
            let mut e = Entries::new();
            for (k, v) in m.snapshot() {
                if g.matches(&k) {
                    e.insert(k, v);
                }
            }
            Ok(Value::map_of(MapKind::Files, e))
        }
        "Lines" => {
            let Some(b) = bytes(arg) else {
                return Ok(Value::str_list(vec![]));
            };
            let mut text = String::from_utf8_lossy(&b).into_owned();
            if text.is_empty() {
                return Err(GoError::msg("runtime error: index out of range [-1]"));
            }
            if text.ends_with('\n') {
                text.pop();
            }
            Ok(Value::str_list(
                text.split('\n').map(String::from).collect(),
            ))
        }
        "AsConfig" | "AsSecrets" => {
            if m.nil {
                return Ok(Value::str(""));
            }
            let mut e = Entries::new();
            for (k, v) in m.snapshot() {
                let data = match v {
                    Value::Bytes(b) => b,
                    _ => Rc::from(&[][..]),
                };
                let text = if name == "AsConfig" {
                    String::from_utf8_lossy(&data).into_owned()
                } else {
                    super::encoding::b64_encode(&data)
                };
                e.insert(Rc::from(crate::funcs::paths::base(&k)), Value::string(text));
            }
            Ok(Value::string(super::helm::to_yaml(&Value::map_of(
                MapKind::Str,
                e,
            ))))
        }
        _ => Err(GoError::msg(format!("can't call method {name}"))),
    }
}
