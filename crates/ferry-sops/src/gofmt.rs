//! Number text exactly as Go's `strconv` reads and writes it.
//!
//! sops is written in Go: the bytes it hashes into the MAC and encrypts are
//! `strconv.FormatFloat(f, 'f', -1, 64)`, YAML shows floats with `'g'`, JSON
//! with encoding/json's rule, and it parses with `strconv.ParseInt`,
//! `ParseFloat` and `ParseBool`. Rust's shortest round-trip digits are the
//! same digits Go's shortest formatting picks, so only the layout differs.

/// The shortest decimal digits of a finite `f` and its decimal point position:
/// `f = 0.d1d2d3... × 10^point` (Go's `decimal.dp`). Zero gives `("0", 1)`.
fn shortest_digits(f: f64) -> (String, i32) {
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if digits.chars().all(|c| c == '0') {
        return ("0".to_string(), 1);
    }
    (digits, exponent + 1)
}

fn special(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("+Inf")
    } else if f == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

fn sign(f: f64) -> &'static str {
    if f.is_sign_negative() { "-" } else { "" }
}

/// `strconv.FormatFloat(f, 'f', -1, 64)`.
pub(crate) fn format_float_f(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    let (digits, point) = shortest_digits(f);
    let mut out = String::from(sign(f));
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digits);
    } else if point as usize >= digits.len() {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

/// `%e` with the shortest digits: `d.ddde±XX` (at least two exponent digits).
fn format_float_e(f: f64) -> String {
    let (digits, point) = shortest_digits(f);
    let mut out = String::from(sign(f));
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    let exp = if digits == "0" { 0 } else { point - 1 };
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let abs = exp.unsigned_abs();
    if abs < 10 {
        out.push('0');
    }
    out.push_str(&abs.to_string());
    out
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`: `%e` when the decimal exponent is
/// below -4 or at least 6 (Go's threshold for the shortest form), so
/// `1234568000` prints as `1.234568e+09`.
pub(crate) fn format_float_g(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    let (digits, point) = shortest_digits(f);
    let exp = if digits == "0" { 0 } else { point - 1 };
    if !(-4..6).contains(&exp) {
        return format_float_e(f);
    }
    format_float_f(f)
}

/// encoding/json's float layout: `'f'` unless the magnitude is below 1e-6 or
/// at least 1e21, then `'e'` with a one-digit negative exponent allowed.
pub(crate) fn format_float_json(f: f64) -> Option<String> {
    if f.is_nan() || f.is_infinite() {
        return None;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let mut s = format_float_e(f);
        // Go rewrites e-07 as e-7.
        let b = s.as_bytes();
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            s.remove(n - 2);
        }
        return Some(s);
    }
    Some(format_float_f(f))
}

/// sops' `ValToString` for a float (dotenv and INI values): `%G` with the
/// shortest digits, and `.0` added to a bare integer (`1.0`, `1E+21`,
/// `1.5E-07`, `+Inf`).
pub(crate) fn format_float_text(f: f64) -> String {
    let mut s = format_float_g(f).replace('e', "E");
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        s.push_str(".0");
    }
    s
}

/// `strconv.ParseInt(s, 0, 64)` without underscores: optional sign, then a
/// `0x`, `0o`, `0b` or leading-`0` (octal) prefix, or decimal.
pub(crate) fn parse_int_base0(s: &str) -> Option<i64> {
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint_base0(rest)?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            Some((magnitude as i64).wrapping_neg())
        } else {
            None
        }
    } else if magnitude <= i64::MAX as u64 {
        Some(magnitude as i64)
    } else {
        None
    }
}

/// `strconv.ParseUint(s, 0, 64)` without underscores (no sign allowed).
pub(crate) fn parse_uint_base0(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `strconv.Atoi` (decimal with optional sign).
pub(crate) fn parse_int_decimal(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: u64 = digits.parse().ok()?;
    if s.starts_with('-') {
        if magnitude <= i64::MAX as u64 + 1 {
            Some((magnitude as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `strconv.ParseFloat(s, 64)` for decimal syntax (what sops writes), plus
/// Go's spellings of infinity and NaN. Out-of-range values are errors, as in
/// Go (which returns `ErrRange` with an infinity).
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    match unsigned {
        "inf" | "infinity" => {
            return Some(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let valid = !unsigned.is_empty()
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
        && unsigned.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return None;
    }
    let value: f64 = s.parse().ok()?;
    if value.is_infinite() {
        return None;
    }
    Some(value)
}

/// `strconv.ParseBool`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f_format_matches_go() {
        assert_eq!(format_float_f(1234568000.0), "1234568000");
        assert_eq!(format_float_f(0.5), "0.5");
        assert_eq!(format_float_f(1e-7), "0.0000001");
        assert_eq!(format_float_f(3.0), "3");
        assert_eq!(format_float_f(-0.0), "-0");
        assert_eq!(format_float_f(25.4), "25.4");
        assert_eq!(format_float_f(1e21), "1000000000000000000000");
        assert_eq!(format_float_f(f64::NAN), "NaN");
        assert_eq!(format_float_f(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn g_format_matches_go() {
        assert_eq!(format_float_g(1234568000.0), "1.234568e+09");
        assert_eq!(format_float_g(1000.0), "1000");
        assert_eq!(format_float_g(1e6), "1e+06");
        assert_eq!(format_float_g(123456.0), "123456");
        assert_eq!(format_float_g(0.0001), "0.0001");
        assert_eq!(format_float_g(0.00001), "1e-05");
        assert_eq!(format_float_g(-0.0), "-0");
        assert_eq!(format_float_g(1.5e300), "1.5e+300");
    }

    #[test]
    fn value_text_matches_sops() {
        assert_eq!(format_float_text(1.0), "1.0");
        assert_eq!(format_float_text(-0.0), "-0.0");
        assert_eq!(format_float_text(1.5e-7), "1.5E-07");
        assert_eq!(format_float_text(1234568000.0), "1.234568E+09");
        assert_eq!(format_float_text(0.1), "0.1");
        assert_eq!(format_float_text(f64::INFINITY), "+Inf");
        assert_eq!(format_float_text(f64::NAN), "NaN");
    }

    #[test]
    fn json_format_matches_go() {
        assert_eq!(format_float_json(1e21).as_deref(), Some("1e+21"));
        assert_eq!(format_float_json(1e-7).as_deref(), Some("1e-7"));
        assert_eq!(format_float_json(1.5e-10).as_deref(), Some("1.5e-10"));
        assert_eq!(format_float_json(30.0).as_deref(), Some("30"));
        assert_eq!(format_float_json(f64::NAN), None);
    }

    #[test]
    fn go_integer_parsing() {
        assert_eq!(parse_int_base0("0x1F"), Some(31));
        assert_eq!(parse_int_base0("017"), Some(15));
        assert_eq!(parse_int_base0("0o17"), Some(15));
        assert_eq!(parse_int_base0("-0b101"), Some(-5));
        assert_eq!(parse_int_base0("+12"), Some(12));
        assert_eq!(parse_int_base0("0"), Some(0));
        assert_eq!(parse_int_base0("09"), None);
        assert_eq!(parse_int_base0("9223372036854775808"), None);
        assert_eq!(parse_int_base0("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int_decimal("-42"), Some(-42));
        assert_eq!(parse_int_decimal("4_2"), None);
    }
}
