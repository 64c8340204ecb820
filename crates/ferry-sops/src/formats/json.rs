//! sops' JSON store: an order-preserving reader (numbers are float64, as in
//! sops 3.11) and the writer sops uses (encoding/json escaping, tab indent).

use crate::gofmt::{format_float_json, parse_float};
use crate::tree::{Branch, Item, Value};

use super::FormatError;

const MAX_DEPTH: usize = crate::MAX_NESTING;

struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, message: &str) -> FormatError {
        let line = 1 + self.text[..self.pos.min(self.text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        FormatError::Syntax {
            format: "JSON",
            line,
            message: message.to_string(),
        }
    }

    fn skip_space(&mut self) {
        while self.pos < self.text.len()
            && matches!(self.text[self.pos], b' ' | b'\t' | b'\n' | b'\r')
        {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn expect(&mut self, b: u8) -> Result<(), FormatError> {
        self.skip_space();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", b as char)))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, FormatError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting is too deep"));
        }
        self.skip_space();
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                Ok(Value::Map(self.object(depth + 1)?))
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_space();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::List(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_space();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::List(items));
                        }
                        _ => return Err(self.error("expected ',' or ']' in array")),
                    }
                }
            }
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("invalid character looking for the beginning of a value")),
            None => Err(self.error("unexpected end of JSON input")),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, FormatError> {
        if self.text[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("invalid literal"))
        }
    }

    fn number(&mut self) -> Result<Value, FormatError> {
        let start = self.pos;
        let b = self.text;
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => return Err(self.error("invalid number")),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                return Err(self.error("invalid number"));
            }
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                return Err(self.error("invalid number"));
            }
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        self.pos = i;
        let text = std::str::from_utf8(&b[start..i]).map_err(|_| self.error("invalid number"))?;
        // sops 3.11 decodes every JSON number as a float64.
        parse_float(text)
            .map(Value::Float)
            .ok_or_else(|| self.error("number out of range"))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        let v = u32::from_str_radix(text, 16).ok()?;
        self.pos += 4;
        Some(v)
    }

    fn string(&mut self) -> Result<String, FormatError> {
        self.pos += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    // Invalid UTF-8 becomes U+FFFD, as encoding/json does.
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                b'\\' => {
                    self.pos += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.error("unterminated string"));
                    };
                    self.pos += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let first = self
                                .hex4()
                                .ok_or_else(|| self.error("invalid \\u escape"))?;
                            if (0xD800..0xDC00).contains(&first) {
                                // A surrogate pair, or U+FFFD if unpaired.
                                let save = self.pos;
                                let low = if self.text.get(self.pos..self.pos + 2) == Some(b"\\u") {
                                    self.pos += 2;
                                    self.hex4()
                                } else {
                                    None
                                };
                                match low {
                                    Some(low) if (0xDC00..0xE000).contains(&low) => char::from_u32(
                                        0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00),
                                    )
                                    .unwrap_or('\u{FFFD}'),
                                    _ => {
                                        self.pos = save;
                                        '\u{FFFD}'
                                    }
                                }
                            } else {
                                char::from_u32(first).unwrap_or('\u{FFFD}')
                            }
                        }
                        _ => return Err(self.error("invalid escape in string")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return Err(self.error("invalid character in string literal")),
                _ => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    /// After the opening brace.
    fn object(&mut self, depth: usize) -> Result<Branch, FormatError> {
        let mut branch = Branch::default();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(branch);
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected an object key"));
            }
            let key = self.string()?;
            self.expect(b':')?;
            let value = self.value(depth)?;
            branch.0.push(Item::new(key, value));
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(branch);
                }
                _ => return Err(self.error("expected ',' or '}' in object")),
            }
        }
    }
}

/// Reads a JSON document: it must be an object (sops' rule).
pub(crate) fn load(text: &[u8]) -> Result<Branch, FormatError> {
    let mut reader = Reader { text, pos: 0 };
    reader.skip_space();
    if reader.peek() != Some(b'{') {
        return Err(reader.error("sops only supports JSON files with a top-level object"));
    }
    reader.pos += 1;
    // Like sops' token decoder, anything after the top-level object is not
    // read.
    reader.object(1)
}

/// encoding/json's string escaping (HTML-safe, U+2028/2029 escaped).
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Writer {
    out: String,
    indent: String,
}

impl Writer {
    fn newline(&mut self, depth: usize) {
        self.out.push('\n');
        for _ in 0..depth {
            self.out.push_str(&self.indent);
        }
    }

    fn value(&mut self, value: &Value, depth: usize) -> Result<(), FormatError> {
        match value {
            Value::Map(branch) => self.object(branch, depth),
            Value::List(items) => {
                let items: Vec<&Value> = items
                    .iter()
                    .filter(|v| !matches!(v, Value::Comment(_)))
                    .collect();
                if items.is_empty() {
                    self.out.push_str("[]");
                    return Ok(());
                }
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(item, depth + 1)?;
                }
                self.newline(depth);
                self.out.push(']');
                Ok(())
            }
            Value::Str(s) => {
                write_string(&mut self.out, s);
                Ok(())
            }
            Value::RawStr(b) => {
                write_string(&mut self.out, &String::from_utf8_lossy(b));
                Ok(())
            }
            Value::Bytes(b) => {
                use base64::Engine as _;
                write_string(
                    &mut self.out,
                    &base64::engine::general_purpose::STANDARD.encode(b),
                );
                Ok(())
            }
            Value::Int(i) => {
                self.out.push_str(&i.to_string());
                Ok(())
            }
            Value::Uint(u) => {
                self.out.push_str(&u.to_string());
                Ok(())
            }
            Value::Float(f) => {
                let text = format_float_json(*f).ok_or(FormatError::Unsupported {
                    format: "JSON",
                    what: "NaN or infinite numbers",
                })?;
                self.out.push_str(&text);
                Ok(())
            }
            Value::Bool(b) => {
                self.out.push_str(if *b { "true" } else { "false" });
                Ok(())
            }
            Value::Time(t) => {
                write_string(&mut self.out, &t.format_rfc3339_nano());
                Ok(())
            }
            Value::Null => {
                self.out.push_str("null");
                Ok(())
            }
            Value::Comment(c) => {
                // encoding/json would marshal the Comment struct.
                self.out.push('{');
                self.newline(depth + 1);
                self.out.push_str("\"Value\": ");
                write_string(&mut self.out, &c.text);
                self.out.push(',');
                self.newline(depth + 1);
                self.out.push_str(&format!("\"Inline\": {}", c.inline));
                self.newline(depth);
                self.out.push('}');
                Ok(())
            }
        }
    }

    fn object(&mut self, branch: &Branch, depth: usize) -> Result<(), FormatError> {
        let items: Vec<&Item> = branch
            .0
            .iter()
            .filter(|i| !matches!(i.key, Value::Comment(_)))
            .collect();
        if items.is_empty() {
            self.out.push_str("{}");
            return Ok(());
        }
        self.out.push('{');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(depth + 1);
            let Value::Str(key) = &item.key else {
                return Err(FormatError::Unsupported {
                    format: "JSON",
                    what: "keys that are not strings",
                });
            };
            write_string(&mut self.out, key);
            self.out.push_str(": ");
            self.value(&item.value, depth + 1)?;
        }
        self.newline(depth);
        self.out.push('}');
        Ok(())
    }
}

/// Writes a branch as sops does: `json.Indent` with `indent` (a tab by
/// default), then a final line break.
pub(crate) fn emit(branch: &Branch, indent: &str) -> Result<String, FormatError> {
    let mut writer = Writer {
        out: String::new(),
        indent: indent.to_string(),
    };
    writer.object(branch, 0)?;
    writer.out.push('\n');
    Ok(writer.out)
}
