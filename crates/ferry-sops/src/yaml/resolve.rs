//! Implicit typing of plain scalars, as go-yaml v3 resolves them (YAML 1.2
//! core schema plus go-yaml's extras: 1.1 octals, `0b`/`0o`, underscores,
//! timestamps).

use crate::gofmt::{parse_float, parse_int_base0, parse_uint_base0};
use crate::timestamp::Timestamp;

pub(crate) const NULL_TAG: &str = "!!null";
pub(crate) const BOOL_TAG: &str = "!!bool";
pub(crate) const STR_TAG: &str = "!!str";
pub(crate) const INT_TAG: &str = "!!int";
pub(crate) const FLOAT_TAG: &str = "!!float";
pub(crate) const TIMESTAMP_TAG: &str = "!!timestamp";
pub(crate) const BINARY_TAG: &str = "!!binary";
const LONG_TAG_PREFIX: &str = "tag:yaml.org,2002:";

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Timestamp(Timestamp),
    Str(String),
}

pub(crate) fn short_tag(tag: &str) -> std::borrow::Cow<'_, str> {
    match tag.strip_prefix(LONG_TAG_PREFIX) {
        Some(rest) => std::borrow::Cow::Owned(format!("!!{rest}")),
        None => std::borrow::Cow::Borrowed(tag),
    }
}

pub(crate) fn long_tag(tag: &str) -> String {
    match tag.strip_prefix("!!") {
        Some(rest) => format!("{LONG_TAG_PREFIX}{rest}"),
        None => tag.to_string(),
    }
}

fn resolvable(tag: &str) -> bool {
    matches!(
        tag,
        "" | STR_TAG | BOOL_TAG | INT_TAG | FLOAT_TAG | NULL_TAG | TIMESTAMP_TAG
    )
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Resolves `value` under `tag` (short form or empty). Returns the tag it
/// resolves to and the typed value, or `Err` when an explicit tag does not
/// fit the value (go-yaml's "cannot decode ... as ..."). Tags that are not
/// resolvable (custom ones, `!!binary`) come back unchanged with the text.
pub(crate) fn resolve_checked(tag: &str, value: &str) -> Result<(String, Resolved), String> {
    let tag = short_tag(tag).into_owned();
    if !resolvable(&tag) {
        return Ok((tag, Resolved::Str(value.to_string())));
    }
    let (rtag, resolved) = resolve_plain(&tag, value);
    if tag.is_empty() || tag == rtag || tag == STR_TAG || tag == BINARY_TAG {
        return Ok((rtag.to_string(), resolved));
    }
    if tag == FLOAT_TAG
        && rtag == INT_TAG
        && let Resolved::Int(i) = resolved
    {
        return Ok((FLOAT_TAG.to_string(), Resolved::Float(i as f64)));
    }
    Err(format!("cannot decode {rtag} value as {tag}"))
}

/// The tag and value a plain scalar resolves to (explicit tag ignored when it
/// does not fit: callers use `resolve_checked` for that).
pub(crate) fn resolve(tag: &str, value: &str) -> (&'static str, Resolved) {
    resolve_plain(&short_tag(tag), value)
}

fn resolve_plain(tag: &str, input: &str) -> (&'static str, Resolved) {
    let hint = match input.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => 0,
    };
    if hint != 0 && tag != STR_TAG && tag != BINARY_TAG {
        match input {
            "true" | "True" | "TRUE" => return (BOOL_TAG, Resolved::Bool(true)),
            "false" | "False" | "FALSE" => return (BOOL_TAG, Resolved::Bool(false)),
            "" | "~" | "null" | "Null" | "NULL" => return (NULL_TAG, Resolved::Null),
            ".nan" | ".NaN" | ".NAN" => return (FLOAT_TAG, Resolved::Float(f64::NAN)),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
                return (FLOAT_TAG, Resolved::Float(f64::INFINITY));
            }
            "-.inf" | "-.Inf" | "-.INF" => return (FLOAT_TAG, Resolved::Float(f64::NEG_INFINITY)),
            "<<" => return ("!!merge", Resolved::Str("<<".to_string())),
            _ => {}
        }
        match hint {
            b'.' => {
                if let Some(f) = parse_float(input).filter(|_| yaml_dot_float(input)) {
                    return (FLOAT_TAG, Resolved::Float(f));
                }
            }
            b'D' | b'S' => {
                if (tag.is_empty() || tag == TIMESTAMP_TAG)
                    && let Some(ts) = Timestamp::parse_yaml(input)
                {
                    return (TIMESTAMP_TAG, Resolved::Timestamp(ts));
                }
                let plain = input.replace('_', "");
                if let Some(i) = parse_int_base0(&plain) {
                    return (INT_TAG, Resolved::Int(i));
                }
                if let Some(u) = parse_uint_base0(&plain) {
                    return (INT_TAG, Resolved::Uint(u));
                }
                if yaml_style_float(&plain)
                    && let Some(f) = parse_float(&plain)
                {
                    return (FLOAT_TAG, Resolved::Float(f));
                }
            }
            _ => {}
        }
    }
    (STR_TAG, Resolved::Str(input.to_string()))
}

/// `strconv.ParseFloat` on text starting with `.`: decimal digits with an
/// optional exponent (`.5`, `.5e3`); anything else is a string.
fn yaml_dot_float(s: &str) -> bool {
    yaml_style_float(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_go_yaml() {
        assert_eq!(resolve("", "0x1F").1, Resolved::Int(31));
        assert_eq!(resolve("", "1_000").1, Resolved::Int(1000));
        assert_eq!(resolve("", "1e3").1, Resolved::Float(1000.0));
        assert_eq!(resolve("", "yes").1, Resolved::Str("yes".into()));
        assert_eq!(resolve("", "~").0, NULL_TAG);
        assert_eq!(
            resolve("", "12345678901234567890").1,
            Resolved::Uint(12345678901234567890)
        );
        assert_eq!(resolve("", "1e400").0, STR_TAG);
        assert_eq!(resolve("", "2024-01-01").0, TIMESTAMP_TAG);
        assert_eq!(resolve("", "-").0, STR_TAG);
        assert_eq!(resolve("", ".5").1, Resolved::Float(0.5));
        assert_eq!(resolve("!!str", "12").0, STR_TAG);
        assert!(resolve_checked("!!int", "abc").is_err());
        assert_eq!(
            resolve_checked("!!float", "3").map(|r| r.1),
            Ok(Resolved::Float(3.0))
        );
    }
}
