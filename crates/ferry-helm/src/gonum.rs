//! Go's `strconv` number parsing: `ParseInt(s, 0, 64)` with base prefixes and underscores, and
//! `ParseFloat` (decimal and hexadecimal), which templates, Sprig (through spf13/cast),
//! `--set` and YAML resolution all rely on.

/// Digits of `s` in `base`, Go's `ParseUint` after the prefix; `None` on syntax or range error.
fn parse_digits(s: &str, base: u32, underscores: bool) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    let mut saw_digit = false;
    for c in s.chars() {
        if c == '_' && underscores {
            continue;
        }
        let d = c.to_digit(base)?;
        saw_digit = true;
        n = n.checked_mul(base as u64)?.checked_add(d as u64)?;
    }
    saw_digit.then_some(n)
}

/// Go's `underscoreOK`: underscores only between digits or after a base prefix.
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        i = 1;
    }
    let mut hex = false;
    if b.len() - i >= 2 && b[i] == b'0' {
        let c = b[i + 1] | 0x20;
        if c == b'b' || c == b'o' || c == b'x' {
            hex = c == b'x';
            i += 2;
            saw = b'0';
        }
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && (c | 0x20).is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `strconv.ParseUint(s, 0, 64)`.
pub fn parse_uint0(s: &str) -> Option<u64> {
    if s.is_empty() || s.starts_with('-') || s.starts_with('+') {
        return None;
    }
    let (base, digits, prefixed) = split_base(s);
    let underscores = s.contains('_');
    if underscores && !underscore_ok(s) {
        return None;
    }
    let _ = prefixed;
    parse_digits(digits, base, underscores)
}

fn split_base(s: &str) -> (u32, &str, bool) {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b'0' {
        match b[1] | 0x20 {
            b'x' => return (16, &s[2..], true),
            b'o' => return (8, &s[2..], true),
            b'b' => return (2, &s[2..], true),
            _ => return (8, &s[1..], true),
        }
    }
    (10, s, false)
}

/// `strconv.ParseInt(s, 0, 64)`.
pub fn parse_int0(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest.is_empty() {
        return None;
    }
    let (base, digits, _) = split_base(rest);
    let underscores = rest.contains('_');
    if underscores && !underscore_ok(rest) {
        return None;
    }
    let u = parse_digits(digits, base, underscores)?;
    if neg {
        if u > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((u as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(u).ok()
    }
}

/// `strconv.ParseInt(s, 10, 64)` (what `strconv.Atoi` uses).
pub fn parse_int10(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let u: u64 = rest.parse().ok()?;
    if neg {
        if u > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((u as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(u).ok()
    }
}

/// `strconv.ParseFloat(s, 64)`: decimal, hex (`0x1p-2`), `inf`/`infinity`/`nan`, underscores.
/// Out-of-range values give ±Inf with an error in Go; callers here treat them as failures.
pub fn parse_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let (neg, body) = match lower.as_bytes().first() {
        Some(b'-') => (true, &lower[1..]),
        Some(b'+') => (false, &lower[1..]),
        _ => (false, lower.as_str()),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    match body {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if body.is_empty() {
        return None;
    }
    let underscores = body.contains('_');
    if underscores && !underscore_ok(s) {
        return None;
    }
    let body: String = body.chars().filter(|&c| c != '_').collect();
    if let Some(hex) = body.strip_prefix("0x") {
        return parse_hex_float(hex).map(|v| sign * v);
    }
    // Go accepts digits with optional '.', optional exponent; Rust's parser is stricter about
    // forms like "1." (accepted by both) and rejects "inf" variants handled above.
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'+' || b == b'-')
    {
        return None;
    }
    let v: f64 = body.parse().ok()?;
    if v.is_infinite() {
        return None;
    }
    Some(sign * v)
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find('p') {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => return None, // Go requires the p exponent in hex floats
    };
    let (int_part, frac_part) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_prefixes() {
        assert_eq!(parse_int0("0x1F"), Some(31));
        assert_eq!(parse_int0("010"), Some(8));
        assert_eq!(parse_int0("08"), None);
        assert_eq!(parse_int0("0o17"), Some(15));
        assert_eq!(parse_int0("0b101"), Some(5));
        assert_eq!(parse_int0("-12"), Some(-12));
        assert_eq!(parse_int0("1_000"), Some(1000));
        assert_eq!(parse_int0("1__0"), None);
        assert_eq!(parse_int0("9223372036854775808"), None);
        assert_eq!(
            parse_uint0("9223372036854775808"),
            Some(9223372036854775808)
        );
        assert_eq!(parse_float("1.5e3"), Some(1500.0));
        assert_eq!(parse_float("0x1p-2"), Some(0.25));
        assert_eq!(parse_float("abc"), None);
    }
}
