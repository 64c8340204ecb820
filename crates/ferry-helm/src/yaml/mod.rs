//! YAML as Helm reads and writes it: sigs.k8s.io/yaml over go-yaml v2. Reading resolves
//! plain scalars with YAML 1.1 rules (`yes`/`on` are booleans, `010` is octal) and then
//! passes through JSON, so every number becomes a float64 and every key a string. Writing
//! (`toYaml`) goes through JSON too and then go-yaml v2's emitter: keys in its natural order,
//! its quoting choices, block literals for multi-line strings, folding at 80 columns.

pub mod emit;
mod fast;
pub mod parse;
pub mod resolve;

use std::rc::Rc;

use crate::value::{Entries, Value};

/// A YAML node as go-yaml v2 decodes it into `interface{}`.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    /// `!!binary` data (base64-decoded)
    Binary(Vec<u8>),
    Seq(Vec<Node>),
    /// Keys in document order; duplicates are resolved when converting (last wins).
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError(pub String);

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// sigs.k8s.io/yaml's key conversion: YAML scalar keys become JSON object keys.
pub fn key_string(k: &Node) -> Result<String, YamlError> {
    Ok(match k {
        Node::Str(s) => s.clone(),
        Node::Int(i) => i.to_string(),
        Node::Uint(u) => u.to_string(),
        Node::Float(f) => match crate::gofmt::format_float_bits(*f, 'g', -1, 32).as_str() {
            "+Inf" => ".inf".into(),
            "-Inf" => "-.inf".into(),
            "NaN" => ".nan".into(),
            other => other.to_string(),
        },
        Node::Bool(b) => b.to_string(),
        Node::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        Node::Null => {
            return Err(YamlError(
                "error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>".into(),
            ));
        }
        Node::Seq(_) | Node::Map(_) => {
            return Err(YamlError(
                "error converting YAML to JSON: unsupported map key of type: []interface {}".into(),
            ));
        }
    })
}

/// The template value sigs.k8s.io/yaml produces for a node: numbers as float64, keys as
/// strings, `!!binary` as its text.
pub fn to_value(n: &Node) -> Result<Value, YamlError> {
    Ok(match n {
        Node::Null => Value::Nil,
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => Value::Float(*i as f64),
        Node::Uint(u) => Value::Float(*u as f64),
        Node::Float(f) => {
            if !f.is_finite() {
                return Err(YamlError(format!(
                    "error converting YAML to JSON: json: unsupported value: {}",
                    crate::gofmt::format_float(*f, 'g', -1)
                )));
            }
            Value::Float(*f)
        }
        Node::Str(s) => Value::str(s),
        Node::Binary(b) => Value::string(String::from_utf8_lossy(b).into_owned()),
        Node::Seq(items) => Value::list(items.iter().map(to_value).collect::<Result<_, _>>()?),
        Node::Map(pairs) => {
            let mut e = Entries::new();
            for (k, v) in pairs {
                e.insert(Rc::from(key_string(k)?), to_value(v)?);
            }
            Value::map(e)
        }
    })
}

/// sigs.k8s.io/yaml `Unmarshal` into `interface{}`: the first document, as template values.
pub fn load(text: &str) -> Result<Value, YamlError> {
    match parse::parse_first(text)? {
        Some(n) => to_value(&n),
        None => Ok(Value::Nil),
    }
}

/// sigs.k8s.io/yaml `Marshal` of a template value (the text `toYaml` returns before Helm trims
/// the final newline).
pub fn marshal(v: &Value) -> Result<String, YamlError> {
    let node = from_value(v, 0)?;
    Ok(emit::emit(&node))
}

/// The node go-yaml decodes from the JSON encoding of `v` (how sigs.k8s.io/yaml marshals).
pub fn from_value(v: &Value, depth: usize) -> Result<Node, YamlError> {
    if depth > 10_000 {
        return Err(YamlError(
            "json: unsupported value: encountered a cycle".into(),
        ));
    }
    Ok(match v {
        Value::Nil => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Int(i, k) => {
            if k.is_unsigned() {
                Node::Uint(*i as u64)
            } else {
                Node::Int(*i)
            }
        }
        Value::Float(f) => {
            let text = crate::json::float(*f).map_err(|e| YamlError(e.0))?;
            resolve::number_from_json(&text)
        }
        Value::Str(s) => Node::Str(s.to_string()),
        Value::BStr(b) => Node::Str(String::from_utf8_lossy(b).into_owned()),
        Value::List(l) if l.nil => Node::Null,
        Value::Map(m) if m.nil => Node::Null,
        Value::Bytes(b) => {
            use base64::Engine;
            Node::Str(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::List(l) => Node::Seq(
            l.items
                .iter()
                .map(|x| from_value(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => Node::Map(
            m.entries
                .borrow()
                .iter()
                .map(|(k, x)| Ok((Node::Str(k.to_string()), from_value(x, depth + 1)?)))
                .collect::<Result<_, YamlError>>()?,
        ),
        Value::Object(o) => from_value(&o.json(), depth + 1)?,
    })
}
