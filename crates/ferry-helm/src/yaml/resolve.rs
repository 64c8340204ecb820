//! go-yaml v2's `resolve`: what a plain scalar means (YAML 1.1 booleans, nulls, ints in any
//! Go base, floats, timestamps), and whether a string must be quoted to read back as a string.

use super::Node;
use crate::gonum;

/// Resolves a plain (unquoted, untagged) scalar.
pub fn plain(s: &str) -> Node {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Node::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Node::Bool(false);
        }
        "" | "~" | "null" | "Null" | "NULL" => return Node::Null,
        ".nan" | ".NaN" | ".NAN" => return Node::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Node::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Node::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let first = s.as_bytes()[0];
    match first {
        b'.' => {
            if let Some(f) = gonum::parse_float(s)
                && !s.contains(['i', 'I', 'n', 'N'])
            {
                return Node::Float(f);
            }
        }
        b'0'..=b'9' | b'+' | b'-' => {
            if is_timestamp(s) {
                // go-yaml keeps timestamp-like scalars as strings when decoding into interface{}
                return Node::Str(s.to_string());
            }
            let p: std::borrow::Cow<'_, str> = if s.contains('_') {
                s.replace('_', "").into()
            } else {
                s.into()
            };
            if let Some(i) = gonum::parse_int0(&p) {
                return Node::Int(i);
            }
            if let Some(u) = gonum::parse_uint0(&p) {
                return Node::Uint(u);
            }
            if is_yaml_float(&p)
                && let Some(f) = gonum::parse_float(&p)
            {
                return Node::Float(f);
            }
            if let Some(bin) = p.strip_prefix("0b") {
                if let Ok(i) = i64::from_str_radix(bin, 2) {
                    return Node::Int(i);
                }
                if let Ok(u) = u64::from_str_radix(bin, 2) {
                    return Node::Uint(u);
                }
            } else if let Some(bin) = p.strip_prefix("-0b")
                && let Ok(i) = i64::from_str_radix(&format!("-{bin}"), 2)
            {
                return Node::Int(i);
            }
        }
        _ => {}
    }
    Node::Str(s.to_string())
}

/// Whether go-yaml would resolve an untagged plain scalar `s` to something other than a
/// string (so the emitter must quote it), including base-60 floats it quotes for YAML 1.1
/// readers.
pub fn needs_quotes(s: &str) -> bool {
    if is_timestamp(s) || is_base60_float(s) {
        return true;
    }
    !matches!(plain(s), Node::Str(_))
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let st = i;
        if i < b.len()
            && (b'0'..=b'5').contains(&b[i])
            && i + 1 < b.len()
            && b[i + 1].is_ascii_digit()
        {
            i += 2;
        } else if i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

fn num(s: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) {
                29
            } else {
                28
            }
        }
    }
}

/// go-yaml v2's `parseTimestamp` formats: `2006-1-2`, `2006-1-2 15:4:5.999999999`,
/// `2006-1-2T15:4:5.999999999Z07:00` (also with `t`).
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let Some((y, r)) = num(s, 4, 4) else {
        return false;
    };
    let Some(r) = r.strip_prefix('-') else {
        return false;
    };
    let Some((m, r)) = num(r, 1, 2) else {
        return false;
    };
    let Some(r) = r.strip_prefix('-') else {
        return false;
    };
    let Some((d, r)) = num(r, 1, 2) else {
        return false;
    };
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return false;
    }
    if r.is_empty() {
        return true;
    }
    let (zoned, r) = match r.as_bytes()[0] {
        b'T' | b't' => (true, &r[1..]),
        b' ' => (false, &r[1..]),
        _ => return false,
    };
    let Some((h, r)) = num(r, 1, 2) else {
        return false;
    };
    let Some(r) = r.strip_prefix(':') else {
        return false;
    };
    let Some((mi, r)) = num(r, 1, 2) else {
        return false;
    };
    let Some(r) = r.strip_prefix(':') else {
        return false;
    };
    let Some((se, mut r)) = num(r, 1, 2) else {
        return false;
    };
    if h > 23 || mi > 59 || se > 59 {
        return false;
    }
    if let Some(frac) = r.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        r = &frac[n..];
    }
    if !zoned {
        return r.is_empty();
    }
    if r == "Z" {
        return true;
    }
    let Some(rest) = r.strip_prefix(['+', '-']) else {
        return false;
    };
    let Some((oh, rest)) = num(rest, 2, 2) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    let Some((om, rest)) = num(rest, 2, 2) else {
        return false;
    };
    oh < 24 && om < 60 && rest.is_empty()
}

/// How go-yaml reads back a JSON number (what toYaml's JSON round trip produces).
pub fn number_from_json(text: &str) -> Node {
    if let Some(i) = gonum::parse_int10(text) {
        return Node::Int(i);
    }
    if !text.contains(['.', 'e', 'E'])
        && let Ok(u) = text.parse::<u64>()
    {
        return Node::Uint(u);
    }
    Node::Float(text.parse().unwrap_or(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_resolution() {
        assert_eq!(plain("yes"), Node::Bool(true));
        assert_eq!(plain("off"), Node::Bool(false));
        assert_eq!(plain("010"), Node::Int(8));
        assert_eq!(plain("08"), Node::Float(8.0));
        assert_eq!(plain("0x1F"), Node::Int(31));
        assert_eq!(plain("1_000"), Node::Int(1000));
        assert_eq!(plain("1e3"), Node::Float(1000.0));
        assert_eq!(plain("1.2.3"), Node::Str("1.2.3".into()));
        assert_eq!(plain("2001-12-14"), Node::Str("2001-12-14".into()));
        assert!(needs_quotes("2001-12-14"));
        assert!(needs_quotes("1:20"));
        assert!(needs_quotes("1"));
        assert!(!needs_quotes("v1"));
        assert!(is_timestamp("2001-12-14t21:59:43.10-05:00"));
        assert!(!is_timestamp("2001-13-14"));
    }
}
