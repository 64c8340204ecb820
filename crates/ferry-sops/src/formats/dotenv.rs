//! sops' dotenv store: `KEY=value` lines and `#` comment lines; a value's
//! line breaks are written as `\n`.

use crate::gofmt::format_float_text;
use crate::tree::{Branch, Item, Value};

use super::FormatError;

/// sops' `LoadPlainFile` for dotenv: split on LF, skip empty lines, `#`
/// starts a comment, otherwise the line is split at its first `=`.
pub(crate) fn load(text: &[u8]) -> Result<Branch, FormatError> {
    let mut branch = Branch::default();
    for (number, line) in text.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let line = std::str::from_utf8(line).map_err(|_| FormatError::Syntax {
            format: "dotenv",
            line: number + 1,
            message: "the line is not UTF-8".to_string(),
        })?;
        if let Some(comment) = line.strip_prefix('#') {
            branch.0.push(Item::comment(comment, false));
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(FormatError::Syntax {
                format: "dotenv",
                line: number + 1,
                message: "invalid dotenv input line (no '=')".to_string(),
            });
        };
        branch
            .0
            .push(Item::new(key, Value::Str(value.replace("\\n", "\n"))));
    }
    Ok(branch)
}

/// sops' `ValToString` for values that are not strings.
pub(crate) fn scalar_text(value: &Value) -> Option<Vec<u8>> {
    Some(match value {
        Value::Str(s) => s.as_bytes().to_vec(),
        Value::RawStr(b) | Value::Bytes(b) => b.clone(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Uint(u) => u.to_string().into_bytes(),
        Value::Float(f) => format_float_text(*f).into_bytes(),
        Value::Bool(b) => b.to_string().into_bytes(),
        Value::Time(t) => t.format_rfc3339().into_bytes(),
        Value::Null => b"<nil>".to_vec(),
        Value::Map(_) | Value::List(_) | Value::Comment(_) => return None,
    })
}

/// sops' `EmitPlainFile` for dotenv.
pub(crate) fn emit(branch: &Branch) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::new();
    for item in &branch.0 {
        if let Value::Comment(c) = &item.key {
            out.push(b'#');
            out.extend_from_slice(c.text.as_bytes());
            out.push(b'\n');
            continue;
        }
        let key = match &item.key {
            Value::Str(k) => k.as_bytes().to_vec(),
            other => scalar_text(other).ok_or(FormatError::Unsupported {
                format: "dotenv",
                what: "complex keys",
            })?,
        };
        let value = scalar_text(&item.value).ok_or(FormatError::Unsupported {
            format: "dotenv",
            what: "nested values (maps and lists)",
        })?;
        out.extend_from_slice(&key);
        out.push(b'=');
        for &b in &value {
            if b == b'\n' {
                out.extend_from_slice(b"\\n");
            } else {
                out.push(b);
            }
        }
        out.push(b'\n');
    }
    Ok(out)
}
