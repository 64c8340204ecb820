//! TOML for `toToml` (BurntSushi/toml's encoder layout: plain keys first, then tables,
//! two-space indentation of nested tables) and `fromToml`.

use std::rc::Rc;

use crate::value::{Entries, Value};

fn bare(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key_str(path: &[String]) -> String {
    path.iter()
        .map(|k| if bare(k) { k.clone() } else { quoted(k) })
        .collect::<Vec<_>>()
        .join(".")
}

fn is_table(v: &Value) -> bool {
    match v {
        Value::Map(_) | Value::Object(_) => true,
        Value::List(l) => {
            !l.items.is_empty()
                && l.items
                    .iter()
                    .all(|i| i.is_nil() || matches!(i, Value::Map(_) | Value::Object(_)))
        }
        _ => false,
    }
}

struct Enc {
    out: String,
}

impl Enc {
    fn wf(&mut self, s: &str) {
        self.out.push_str(s);
    }
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }
    fn indent(path: &[String]) -> String {
        "  ".repeat(path.len().saturating_sub(1))
    }

    fn element(&mut self, v: &Value) -> Result<(), String> {
        match v {
            Value::Str(s) => self.wf(&quoted(s)),
            Value::BStr(b) => self.wf(&quoted(&String::from_utf8_lossy(b))),
            Value::Bool(b) => self.wf(if *b { "true" } else { "false" }),
            Value::Int(i, k) => {
                if k.is_unsigned() {
                    self.wf(&(*i as u64).to_string())
                } else {
                    self.wf(&i.to_string())
                }
            }
            Value::Float(f) => {
                if f.is_nan() {
                    self.wf(if f.is_sign_negative() { "-nan" } else { "nan" })
                } else if f.is_infinite() {
                    self.wf(if *f < 0.0 { "-inf" } else { "inf" })
                } else {
                    let mut s = crate::gofmt::format_float(*f, 'f', -1);
                    if !s.contains('.') {
                        s.push_str(".0");
                    }
                    self.wf(&s)
                }
            }
            Value::List(l) => {
                self.wf("[");
                for (i, item) in l.items.iter().enumerate() {
                    self.element(item)?;
                    if i + 1 != l.items.len() {
                        self.wf(", ");
                    }
                }
                self.wf("]");
            }
            Value::Bytes(b) => {
                let l = Value::list(
                    b.iter()
                        .map(|c| Value::Int(*c as i64, crate::value::IntKind::Uint8))
                        .collect(),
                );
                self.element(&l)?;
            }
            Value::Map(_) => self.map(&[], v, true)?,
            Value::Object(o) => self.element(&o.json())?,
            Value::Nil => return Err("toml: cannot encode a nil value".into()),
        }
        Ok(())
    }

    fn map(&mut self, path: &[String], v: &Value, inline: bool) -> Result<(), String> {
        let entries: Vec<(Rc<str>, Value)> = match v {
            Value::Map(m) => m.snapshot(),
            Value::Object(o) => match o.json() {
                Value::Map(m) => m.snapshot(),
                _ => vec![],
            },
            _ => vec![],
        };
        let (direct, sub): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(_, x)| !is_table(x));
        if inline {
            self.wf("{");
        }
        let n_sub = sub.len();
        for group in [direct, sub] {
            let last = group.len();
            let trail = n_sub > 0;
            for (i, (k, x)) in group.into_iter().enumerate() {
                if x.is_nil() {
                    continue;
                }
                let mut key = path.to_vec();
                key.push(k.to_string());
                if inline {
                    self.wf(&key_str(&key[key.len() - 1..]));
                    self.wf(" = ");
                    self.element(&x)?;
                    if trail || i + 1 != last {
                        self.wf(", ");
                    }
                } else {
                    self.encode(&key, &x)?;
                }
            }
        }
        if inline {
            self.wf("}");
        }
        Ok(())
    }

    fn encode(&mut self, key: &[String], v: &Value) -> Result<(), String> {
        match v {
            Value::Nil => Ok(()),
            Value::Map(_) | Value::Object(_) => {
                if key.len() == 1 {
                    self.newline();
                }
                if !key.is_empty() {
                    let line = format!("{}[{}]", Enc::indent(key), key_str(key));
                    self.wf(&line);
                    self.newline();
                }
                self.map(key, v, false)
            }
            Value::List(l) if is_table(v) => {
                if key.is_empty() {
                    return Err("toml: top-level values must be Go maps or structs".into());
                }
                for item in &l.items {
                    if item.is_nil() {
                        continue;
                    }
                    self.newline();
                    let line = format!("{}[[{}]]", Enc::indent(key), key_str(key));
                    self.wf(&line);
                    self.newline();
                    self.map(key, item, false)?;
                }
                Ok(())
            }
            _ => {
                if key.is_empty() {
                    return self.element(v);
                }
                let line = format!("{}{} = ", Enc::indent(key), key_str(&key[key.len() - 1..]));
                self.wf(&line);
                self.element(v)?;
                self.newline();
                Ok(())
            }
        }
    }
}

/// BurntSushi/toml `Encoder.Encode`.
pub fn encode(v: &Value) -> Result<String, String> {
    let mut e = Enc { out: String::new() };
    e.encode(&[], v)?;
    Ok(e.out)
}

fn from_toml(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::str(s),
        toml::Value::Integer(i) => Value::int64(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::string(d.to_string()),
        toml::Value::Array(a) => Value::list(a.iter().map(from_toml).collect()),
        toml::Value::Table(t) => {
            let mut e = Entries::new();
            for (k, x) in t {
                e.insert(Rc::from(k.as_str()), from_toml(x));
            }
            Value::map(e)
        }
    }
}

/// `toml.Unmarshal` into `map[string]interface{}`.
pub fn decode(text: &str) -> Result<Value, String> {
    let v: toml::Value = toml::from_str(text).map_err(|e| format!("toml: {e}"))?;
    Ok(from_toml(&v))
}
