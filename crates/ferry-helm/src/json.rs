//! Go's encoding/json for template values: `json.Marshal` (sorted keys, HTML escaping, Go's
//! float format), `MarshalIndent`, and `json.Unmarshal` into `interface{}` (every number a
//! float64) with Go's error messages.

use std::rc::Rc;

use crate::value::{Entries, IntKind, Value};

#[derive(Debug)]
pub struct JsonError(pub String);

/// `json.Marshal` (or an Encoder with `SetEscapeHTML(escape_html)`), compact.
pub fn encode(v: &Value, escape_html: bool) -> Result<String, JsonError> {
    let mut out = String::new();
    write_value(&mut out, v, escape_html, None, 0)?;
    Ok(out)
}

/// `json.MarshalIndent(v, "", indent)`.
pub fn encode_indent(v: &Value, indent: &str) -> Result<String, JsonError> {
    let mut out = String::new();
    write_value(&mut out, v, true, Some(indent), 0)?;
    Ok(out)
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(ind);
        }
    }
}

fn write_value(
    out: &mut String,
    v: &Value,
    esc: bool,
    indent: Option<&str>,
    depth: usize,
) -> Result<(), JsonError> {
    if depth > 10_000 {
        return Err(JsonError(
            "json: unsupported value: encountered a cycle".into(),
        ));
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i, k) => {
            if k.is_unsigned() {
                out.push_str(&(*i as u64).to_string())
            } else {
                out.push_str(&i.to_string())
            }
        }
        Value::Float(f) => out.push_str(&float(*f)?),
        Value::Str(s) => write_string(out, s, esc),
        Value::BStr(b) => write_string(out, &String::from_utf8_lossy(b), esc),
        Value::Bytes(b) => {
            use base64::Engine;
            write_string(
                out,
                &base64::engine::general_purpose::STANDARD.encode(b),
                esc,
            )
        }
        Value::List(l) if l.nil => out.push_str("null"),
        Value::Map(m) if m.nil => out.push_str("null"),
        Value::List(l) => {
            if l.items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in l.items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_value(out, item, esc, indent, depth + 1)?;
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Map(m) => {
            let entries = m.entries.borrow();
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, val)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_string(out, k, esc);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_value(out, val, esc, indent, depth + 1)?;
            }
            newline(out, indent, depth);
            out.push('}');
        }
        Value::Object(o) => match o.json_struct() {
            Some(fields) => {
                out.push('{');
                for (i, (k, val)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, depth + 1);
                    write_string(out, k, esc);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    write_value(out, val, esc, indent, depth + 1)?;
                }
                if !fields.is_empty() {
                    newline(out, indent, depth);
                }
                out.push('}');
            }
            None => write_value(out, &o.json(), esc, indent, depth)?,
        },
    }
    Ok(())
}

/// Go's float encoding: `'f'` format unless the exponent is small or large, then `'e'` with
/// the exponent's leading zero removed.
pub fn float(f: f64) -> Result<String, JsonError> {
    if !f.is_finite() {
        return Err(JsonError(format!(
            "json: unsupported value: {}",
            crate::gofmt::format_float(f, 'g', -1)
        )));
    }
    let abs = f.abs();
    let use_e = abs != 0.0 && !(1e-6..1e21).contains(&abs);
    let mut s = crate::gofmt::format_float(f, if use_e { 'e' } else { 'f' }, -1);
    if use_e {
        let n = s.len();
        let b = s.as_bytes();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            let last = b[n - 1] as char;
            s.truncate(n - 2);
            s.push(last);
        }
    }
    Ok(s)
}

pub fn write_string(out: &mut String, s: &str, esc: bool) {
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
            '<' | '>' | '&' if esc => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `json.Unmarshal` into `interface{}`.
pub fn decode(text: &str) -> Result<Value, JsonError> {
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.i >= p.b.len() {
        return Err(JsonError("unexpected end of JSON input".into()));
    }
    let v = p.value()?;
    p.skip_ws();
    if p.i < p.b.len() {
        return Err(p.invalid("after top-level value"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        c if c.is_ascii_graphic() || c == b' ' => format!("'{}'", c as char),
        c => {
            let s = crate::gofmt::quote(&(c as char).to_string());
            format!("'{}'", &s[1..s.len() - 1])
        }
    }
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn invalid(&self, context: &str) -> JsonError {
        if self.i >= self.b.len() {
            return JsonError("unexpected end of JSON input".into());
        }
        JsonError(format!(
            "invalid character {} {}",
            quote_char(self.b[self.i]),
            context
        ))
    }

    fn value(&mut self) -> Result<Value, JsonError> {
        self.skip_ws();
        let Some(&c) = self.b.get(self.i) else {
            return Err(JsonError("unexpected end of JSON input".into()));
        };
        match c {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => Ok(Value::string(self.string()?)),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Nil),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.invalid("looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, JsonError> {
        for (k, expected) in word.bytes().enumerate() {
            match self.b.get(self.i) {
                Some(&c) if c == expected => self.i += 1,
                Some(_) => {
                    return Err(self.invalid(&format!(
                        "in literal {word} (expecting {})",
                        quote_char(word.as_bytes()[k])
                    )));
                }
                None => return Err(JsonError("unexpected end of JSON input".into())),
            }
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.i;
        if self.b[self.i] == b'-' {
            self.i += 1;
        }
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return Err(self.invalid("in numeric literal")),
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
                return Err(self.invalid("after decimal point in numeric literal"));
            }
            while matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
                return Err(self.invalid("in exponent of numeric literal"));
            }
            while matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        let text = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("0");
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(JsonError(format!(
                "json: cannot unmarshal number {text} into Go value of type float64"
            ))),
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = vec![];
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Err(JsonError("unexpected end of JSON input".into()));
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                b'\\' => {
                    self.i += 1;
                    let Some(&e) = self.b.get(self.i) else {
                        return Err(JsonError("unexpected end of JSON input".into()));
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp)
                                && self.b.get(self.i) == Some(&b'\\')
                                && self.b.get(self.i + 1) == Some(&b'u')
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.i = save;
                                }
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.invalid("in string escape code"));
                        }
                    }
                }
                c if c < 0x20 => return Err(self.invalid("in string literal")),
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let Some(&c) = self.b.get(self.i) else {
                return Err(JsonError("unexpected end of JSON input".into()));
            };
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| self.invalid("in \\u hexadecimal character escape"))?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    fn object(&mut self) -> Result<Value, JsonError> {
        self.depth += 1;
        if self.depth > 10_000 {
            return Err(JsonError("exceeded max depth".into()));
        }
        self.i += 1;
        let mut e = Entries::new();
        self.skip_ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::map(e));
        }
        loop {
            self.skip_ws();
            if self.b.get(self.i) != Some(&b'"') {
                return Err(self.invalid("looking for beginning of object key string"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.b.get(self.i) != Some(&b':') {
                return Err(self.invalid("after object key"));
            }
            self.i += 1;
            let v = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.value())?;
            e.insert(Rc::from(key), v);
            self.skip_ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::map(e));
                }
                _ => return Err(self.invalid("after object key:value pair")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, JsonError> {
        self.depth += 1;
        if self.depth > 10_000 {
            return Err(JsonError("exceeded max depth".into()));
        }
        self.i += 1;
        let mut items = vec![];
        self.skip_ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::list(items));
        }
        loop {
            let v = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.value())?;
            items.push(v);
            self.skip_ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::list(items));
                }
                _ => return Err(self.invalid("after array element")),
            }
        }
    }
}

/// A plain JSON-like tree converted to template values (used for values given as JSON).
pub fn from_serde(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i, IntKind::Int64)
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(a) => Value::list(a.iter().map(from_serde).collect()),
        serde_json::Value::Object(o) => Value::map(
            o.iter()
                .map(|(k, v)| (Rc::from(k.as_str()), from_serde(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marshal_like_go() {
        let v = decode(r#"{"b":[1,2.5,"<x>"],"a":{"c":null,"d":true}}"#).expect("valid json");
        assert_eq!(
            encode(&v, true).expect("encodable"),
            r#"{"a":{"c":null,"d":true},"b":[1,2.5,"\u003cx\u003e"]}"#
        );
        assert_eq!(float(1e21).expect("finite"), "1e+21");
        assert_eq!(float(1e-7).expect("finite"), "1e-7");
        assert_eq!(float(1000000.0).expect("finite"), "1000000");
        assert_eq!(
            decode("{\"a\" 1}").map(|_| ()).map_err(|e| e.0),
            Err("invalid character '1' after object key".to_string())
        );
        assert_eq!(
            encode_indent(&decode("{\"a\":[1,{}]}").expect("json"), "  ").expect("ok"),
            "{\n  \"a\": [\n    1,\n    {}\n  ]\n}"
        );
    }
}
