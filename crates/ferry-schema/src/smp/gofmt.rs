//! Go's `%v` rendering of decoded JSON (`map[a:1 b:[x y]]`), which apimachinery's error
//! messages embed.

use serde_json::{Map, Value};

pub(crate) fn value(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

pub(crate) fn map(m: &Map<String, Value>) -> String {
    let mut out = String::new();
    write_map(&mut out, m);
    out
}

pub(crate) fn list(items: &[Value]) -> String {
    let mut out = String::new();
    write_list(&mut out, items);
    out
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64() {
            // Go decodes JSON numbers as float64; %v prints integral ones without a fraction
            // up to 1e21, then in exponent form.
            Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => out.push_str(&format!("{f:.0}")),
            Some(f) => out.push_str(&f.to_string()),
            None => out.push_str(&n.to_string()),
        },
        Value::String(s) => out.push_str(s),
        Value::Array(a) => write_list(out, a),
        Value::Object(m) => write_map(out, m),
    }
}

fn write_list(out: &mut String, items: &[Value]) {
    out.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_value(out, v);
    }
    out.push(']');
}

fn write_map(out: &mut String, m: &Map<String, Value>) {
    // Go prints map keys sorted; serde_json's Map is sorted too.
    out.push_str("map[");
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(k);
        out.push(':');
        write_value(out, v);
    }
    out.push(']');
}
