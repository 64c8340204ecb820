//! `vars:` (deprecated in kustomize, still honoured): `$(NAME)` in the fields the varReference
//! table lists is replaced by a field of the object the var names.

use serde_json::Value;
use std::collections::HashMap;

use crate::error::Error;
use crate::fieldspec::{CreateKind, FieldSpec, apply};
use crate::kustfile::Var;
use crate::resmap::ResMap;
use crate::target::var_display;

/// kyaml's GetFieldValue path: dots, with `name[3]` meaning element 3.
fn split_field_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        if let Some(open) = part.rfind('[')
            && part.ends_with(']')
            && part[open + 1..part.len() - 1]
                .chars()
                .all(|c| c.is_ascii_digit())
            && open + 1 < part.len() - 1
        {
            if open > 0 {
                out.push(part[..open].to_string());
            }
            out.push(part[open + 1..part.len() - 1].to_string());
        } else {
            out.push(part.to_string());
        }
    }
    out
}

fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let Some(first) = path.first() else {
        return Some(v);
    };
    match v {
        Value::Object(m) => lookup(m.get(first)?, &path[1..]),
        Value::Array(a) => {
            if let Some(inner) = first.strip_prefix('[').and_then(|s| s.strip_suffix(']'))
                && let Some((k, want)) = inner.split_once('=')
            {
                let found = a
                    .iter()
                    .find(|x| x.get(k).and_then(Value::as_str) == Some(want))?;
                return lookup(found, &path[1..]);
            }
            lookup(a.get(first.parse::<usize>().ok()?)?, &path[1..])
        }
        _ => None,
    }
}

/// Go's fmt.Sprint of a var value embedded in a longer string.
fn sprint(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "<nil>".to_string(),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(0.0);
                let s = ferry_yaml::gofmt::g_float(f);
                // %v uses the shortest form with exponent only from 1e21.
                if s.contains('e') && (1e-4..1e21).contains(&f.abs()) {
                    ferry_yaml::gofmt::json_float(f)
                } else {
                    s
                }
            } else {
                n.to_string()
            }
        }
        other => other.to_string(),
    }
}

/// kustomize's expansion: `$(NAME)` replaced, `$$` an escaped `$`, unknown names kept. A string
/// that is exactly one reference takes the value's type.
fn expand(input: &str, vars: &HashMap<String, Value>) -> Value {
    let b = input.as_bytes();
    let mut buf = String::new();
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < b.len() {
        if b[cursor] == b'$' && cursor + 1 < b.len() {
            buf.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            let (read, is_var, advance) = match rest.as_bytes()[0] {
                b'$' => ("$".to_string(), false, 1),
                b'(' => match rest[1..].find(')') {
                    Some(end) => (rest[1..1 + end].to_string(), true, end + 2),
                    None => ("$(".to_string(), false, 1),
                },
                _ => {
                    let c = rest.chars().next().unwrap_or('$');
                    (format!("${c}"), false, c.len_utf8())
                }
            };
            if is_var {
                match vars.get(&read) {
                    Some(v) => {
                        if input == format!("$({read})") {
                            return v.clone();
                        }
                        buf.push_str(&sprint(v));
                    }
                    None => {
                        if input == format!("$({read})") {
                            return Value::String(input.to_string());
                        }
                        buf.push_str(&format!("$({read})"));
                    }
                }
            } else {
                buf.push_str(&read);
            }
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    if checkpoint < input.len() {
        buf.push_str(&input[checkpoint..]);
    }
    Value::String(buf)
}

fn replace_string(node: &mut Value, vars: &HashMap<String, Value>) {
    if let Value::String(s) = node {
        if !s.contains('$') {
            return;
        }
        let v = expand(s, vars);
        *node = match v {
            Value::Object(_) | Value::Array(_) | Value::Null => node.clone(),
            other => other,
        };
    }
}

pub fn resolve(m: &mut ResMap, vars: &[Var], specs: &[FieldSpec]) -> Result<(), Error> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values = HashMap::new();
    for v in vars {
        let Some(r) = m.list.iter().find(|r| r.ref_var_names.contains(&v.name)) else {
            return Err(Error::msg(format!(
                "var '{}' cannot be mapped to a field in the set of known resources",
                var_display(v)
            )));
        };
        let path = if v.fieldref.field_path.is_empty() {
            "metadata.name"
        } else {
            &v.fieldref.field_path
        };
        let doc = Value::Object(r.obj.clone());
        let value = lookup(&doc, &split_field_path(path))
            .cloned()
            .ok_or_else(|| {
                Error::msg(format!(
                    "field specified in var '{}' not found in corresponding resource",
                    var_display(v)
                ))
            })?;
        values.insert(v.name.clone(), value);
    }
    for r in &mut m.list {
        for fs in specs {
            let id = r.cur_id();
            apply(&mut r.obj, fs, CreateKind::None, &mut |node: &mut Value| {
                match node {
                    Value::String(_) => replace_string(node, &values),
                    Value::Object(map) => {
                        for v in map.values_mut() {
                            replace_string(v, &values);
                        }
                    }
                    Value::Array(items) => {
                        for item in items.iter_mut() {
                            if !item.is_string() {
                                return Err("invalid value type expect a string".to_string());
                            }
                            replace_string(item, &values);
                        }
                    }
                    _ => {}
                }
                Ok(())
            })
            .map_err(|e| {
                Error::msg(format!(
                    "considering field '{}' of object {id}: {e}",
                    fs.path
                ))
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expansion() {
        let mut vars = HashMap::new();
        vars.insert("A".to_string(), json!("x"));
        vars.insert("N".to_string(), json!(3));
        assert_eq!(expand("$(A)-$(N)", &vars), json!("x-3"));
        assert_eq!(expand("$(N)", &vars), json!(3));
        assert_eq!(expand("$$(A)", &vars), json!("$(A)"));
        assert_eq!(expand("$(B) $(A)", &vars), json!("$(B) x"));
        assert_eq!(expand("a$", &vars), json!("a$"));
    }

    #[test]
    fn field_paths() {
        assert_eq!(
            split_field_path("spec.ports[0].port"),
            vec!["spec", "ports", "0", "port"]
        );
    }
}
