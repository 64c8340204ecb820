//! RFC 6902 JSON patch with the behaviour of the library kustomize uses (evanphx/json-patch):
//! `add` replaces an existing member and inserts into arrays (`-` appends, negative indices
//! count from the end), `remove`/`replace` need the target to exist, `move`, `copy`, `test`.

use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PatchError {
    #[error("json patch must be a list of operations, got {0}")]
    NotAList(String),
    #[error("json patch operation {index} is invalid: {message}")]
    BadOperation { index: usize, message: String },
    #[error("{op} operation does not apply: doc is missing path: \"{path}\"")]
    MissingPath { op: String, path: String },
    #[error("{op} operation does not apply: unable to access invalid index {index} in \"{path}\"")]
    BadIndex {
        op: String,
        path: String,
        index: String,
    },
    #[error("testing value {path} failed: test failed")]
    TestFailed { path: String },
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn parse_pointer(path: &str) -> Result<Vec<String>, ()> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path.strip_prefix('/').ok_or(())?;
    Ok(rest.split('/').map(unescape).collect())
}

/// Apply a list of operations to `doc`.
pub fn apply(doc: &mut Value, ops: &Value) -> Result<(), PatchError> {
    let Value::Array(ops) = ops else {
        return Err(PatchError::NotAList(ops.to_string()));
    };
    for (index, op) in ops.iter().enumerate() {
        let bad = |message: &str| PatchError::BadOperation {
            index,
            message: message.to_string(),
        };
        let Value::Object(o) = op else {
            return Err(bad("not an object"));
        };
        let kind = o
            .get("op")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("missing \"op\""))?;
        let path = o
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("missing \"path\""))?;
        let tokens = parse_pointer(path).map_err(|_| bad("path must start with '/'"))?;
        match kind {
            "add" => {
                let value = o
                    .get("value")
                    .cloned()
                    .ok_or_else(|| bad("missing \"value\""))?;
                add(doc, &tokens, value, "add", path)?;
            }
            "remove" => {
                remove(doc, &tokens, "remove", path)?;
            }
            "replace" => {
                let value = o
                    .get("value")
                    .cloned()
                    .ok_or_else(|| bad("missing \"value\""))?;
                replace(doc, &tokens, value, path)?;
            }
            "move" => {
                let from = o
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("missing \"from\""))?;
                let from_tokens =
                    parse_pointer(from).map_err(|_| bad("from must start with '/'"))?;
                let v = remove(doc, &from_tokens, "move", from)?;
                add(doc, &tokens, v, "move", path)?;
            }
            "copy" => {
                let from = o
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("missing \"from\""))?;
                let from_tokens =
                    parse_pointer(from).map_err(|_| bad("from must start with '/'"))?;
                let v = get(doc, &from_tokens)
                    .cloned()
                    .ok_or_else(|| PatchError::MissingPath {
                        op: "copy".into(),
                        path: from.into(),
                    })?;
                add(doc, &tokens, v, "copy", path)?;
            }
            "test" => {
                let value = o.get("value").cloned().unwrap_or(Value::Null);
                if get(doc, &tokens) != Some(&value) {
                    return Err(PatchError::TestFailed { path: path.into() });
                }
            }
            other => return Err(bad(&format!("unknown operation \"{other}\""))),
        }
    }
    Ok(())
}

fn get<'a>(doc: &'a Value, tokens: &[String]) -> Option<&'a Value> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn parent<'a>(
    doc: &'a mut Value,
    tokens: &[String],
    op: &str,
    path: &str,
) -> Result<&'a mut Value, PatchError> {
    let missing = || PatchError::MissingPath {
        op: op.into(),
        path: path.into(),
    };
    let mut cur = doc;
    for t in &tokens[..tokens.len().saturating_sub(1)] {
        cur = match cur {
            Value::Object(m) => m.get_mut(t).ok_or_else(missing)?,
            Value::Array(a) => {
                let i = t.parse::<usize>().map_err(|_| missing())?;
                a.get_mut(i).ok_or_else(missing)?
            }
            _ => return Err(missing()),
        };
    }
    Ok(cur)
}

/// An array index: "-" is the end, negative counts from the end.
fn index(
    token: &str,
    len: usize,
    allow_end: bool,
    op: &str,
    path: &str,
) -> Result<usize, PatchError> {
    let bad = || PatchError::BadIndex {
        op: op.into(),
        path: path.into(),
        index: token.into(),
    };
    if token == "-" {
        return if allow_end { Ok(len) } else { Err(bad()) };
    }
    let i: i64 = token.parse().map_err(|_| bad())?;
    let len_i = i64::try_from(len).map_err(|_| bad())?;
    let i = if i < 0 {
        if -i > len_i {
            return Err(bad());
        }
        len_i + i
    } else {
        i
    };
    let max = if allow_end { len_i } else { len_i - 1 };
    if i > max {
        return Err(bad());
    }
    usize::try_from(i).map_err(|_| bad())
}

fn add(
    doc: &mut Value,
    tokens: &[String],
    value: Value,
    op: &str,
    path: &str,
) -> Result<(), PatchError> {
    let Some(last) = tokens.last() else {
        *doc = value;
        return Ok(());
    };
    match parent(doc, tokens, op, path)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            let i = index(last, a.len(), true, op, path)?;
            a.insert(i, value);
            Ok(())
        }
        _ => Err(PatchError::MissingPath {
            op: op.into(),
            path: path.into(),
        }),
    }
}

fn remove(doc: &mut Value, tokens: &[String], op: &str, path: &str) -> Result<Value, PatchError> {
    let missing = || PatchError::MissingPath {
        op: op.into(),
        path: path.into(),
    };
    let Some(last) = tokens.last() else {
        return Ok(std::mem::take(doc));
    };
    match parent(doc, tokens, op, path)? {
        Value::Object(m) => m.remove(last).ok_or_else(missing),
        Value::Array(a) => {
            let i = index(last, a.len(), false, op, path)?;
            Ok(a.remove(i))
        }
        _ => Err(missing()),
    }
}

fn replace(doc: &mut Value, tokens: &[String], value: Value, path: &str) -> Result<(), PatchError> {
    let missing = || PatchError::MissingPath {
        op: "replace".into(),
        path: path.into(),
    };
    let Some(last) = tokens.last() else {
        *doc = value;
        return Ok(());
    };
    match parent(doc, tokens, "replace", path)? {
        Value::Object(m) => {
            let slot = m.get_mut(last).ok_or_else(missing)?;
            *slot = value;
            Ok(())
        }
        Value::Array(a) => {
            let i = index(last, a.len(), false, "replace", path)?;
            a[i] = value;
            Ok(())
        }
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations() {
        let mut doc = json!({"a": [1, 2], "b": {"c": 1}});
        apply(
            &mut doc,
            &json!([
                {"op": "add", "path": "/a/-", "value": 3},
                {"op": "add", "path": "/a/0", "value": 0},
                {"op": "replace", "path": "/b/c", "value": 2},
                {"op": "copy", "from": "/b", "path": "/d"},
                {"op": "move", "from": "/d/c", "path": "/e"},
                {"op": "remove", "path": "/a/-1"},
                {"op": "test", "path": "/e", "value": 2}
            ]),
        )
        .expect("apply");
        assert_eq!(doc, json!({"a": [0, 1, 2], "b": {"c": 2}, "d": {}, "e": 2}));
        assert!(apply(&mut doc, &json!([{"op": "remove", "path": "/zz"}])).is_err());
        assert!(
            apply(
                &mut doc,
                &json!([{"op": "replace", "path": "/zz", "value": 1}])
            )
            .is_err()
        );
    }
}
