//! The name suffix kustomize appends to generated ConfigMaps and Secrets.
//!
//! kustomize hashes a JSON encoding (Go's encoding/json: sorted keys, HTML characters escaped)
//! of `{"kind", "name", "data"[, "binaryData"]}` for a ConfigMap and `{"kind", "name", "type",
//! "data"[, "stringData"]}` for a Secret, and of the whole object for anything else. It looks
//! the name up under the single key "metadata/name", which never exists, so "name" is always
//! "". The suffix is the first ten hex digits of the SHA-256, with 0, 1, 3, a and e replaced by
//! g, h, k, m and t (so the result never reads as a number or a word).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::resource::Resource;

pub fn name_hash(r: &Resource) -> String {
    let encoded = match r.kind() {
        "ConfigMap" => {
            let mut m = Map::new();
            m.insert("kind".into(), field_value(&r.obj, "kind"));
            m.insert("name".into(), Value::String(String::new()));
            m.insert("data".into(), field_value(&r.obj, "data"));
            if let Some(v @ Value::Object(_)) = r.obj.get("binaryData") {
                m.insert("binaryData".into(), v.clone());
            }
            go_json(&Value::Object(m))
        }
        "Secret" => {
            let mut m = Map::new();
            m.insert("kind".into(), field_value(&r.obj, "kind"));
            m.insert("name".into(), Value::String(String::new()));
            m.insert("type".into(), field_value(&r.obj, "type"));
            m.insert("data".into(), field_value(&r.obj, "data"));
            if let Some(v @ Value::Object(_)) = r.obj.get("stringData") {
                m.insert("stringData".into(), v.clone());
            }
            go_json(&Value::Object(m))
        }
        _ => go_json(&Value::Object(r.obj.clone())),
    };
    let digest = Sha256::digest(encoded.as_bytes());
    let hex = hex::encode(digest);
    hex.chars()
        .take(10)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            other => other,
        })
        .collect()
}

/// A missing field is "" (kustomize's lookup default); a scalar is its text.
fn field_value(obj: &Map<String, Value>, field: &str) -> Value {
    match obj.get(field) {
        None | Some(Value::Null) => Value::String(String::new()),
        Some(Value::Bool(b)) => Value::String(b.to_string()),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        Some(v) => v.clone(),
    }
}

/// `json.Marshal` of an untyped Go value decoded from JSON (numbers are float64).
pub fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            out.push_str(&ferry_yaml::gofmt::json_float(f));
        }
        Value::String(s) => write_str(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            // serde_json's map is ordered by byte-wise key comparison, like Go's sort.Strings.
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write_json(x, out);
            }
            out.push('}');
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn configmap_hash_matches_kustomize() {
        // TestDataEndsWithQuotes: literal TEST=this is a 'test' gives test-k9cc55dfm5.
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "test"},
            "data": {"TEST": "this is a 'test'"}});
        let r = Resource::new(obj.as_object().cloned().expect("object"));
        assert_eq!(name_hash(&r), "k9cc55dfm5");
    }

    #[test]
    fn go_escapes_html() {
        assert_eq!(
            go_json(&json!({"a": "<&>"})),
            r#"{"a":"\u003c\u0026\u003e"}"#
        );
    }
}
