//! Go's float formatting, needed because kustomize's output passes every value through
//! `encoding/json` and then go-yaml v2, and each of them prints floats its own way.

/// Shortest round-trip decimal digits and the decimal point position: value = 0.DIGITS × 10^dp.
struct Digits {
    neg: bool,
    digits: Vec<u8>,
    dp: i32,
}

fn shortest(f: f64) -> Digits {
    // Rust's `{:e}` prints the shortest digits that round-trip, like Go's precision -1.
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let digits = if digits.iter().all(|&d| d == b'0') {
        Vec::new()
    } else {
        digits
    };
    Digits {
        neg: f.is_sign_negative(),
        dp: exp + 1,
        digits,
    }
}

fn fmt_e(d: &Digits, out: &mut String) {
    if d.neg {
        out.push('-');
    }
    let first = d.digits.first().copied().unwrap_or(b'0');
    out.push(first as char);
    if d.digits.len() > 1 {
        out.push('.');
        for &c in &d.digits[1..] {
            out.push(c as char);
        }
    }
    out.push('e');
    let exp = if d.digits.is_empty() { 0 } else { d.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
}

fn fmt_f(d: &Digits, out: &mut String) {
    if d.neg {
        out.push('-');
    }
    if d.dp > 0 {
        for i in 0..d.dp as usize {
            out.push(d.digits.get(i).copied().unwrap_or(b'0') as char);
        }
    } else {
        out.push('0');
    }
    let frac = d.digits.len() as i32 - d.dp;
    if frac > 0 {
        out.push('.');
        for i in 0..frac {
            let idx = d.dp + i;
            let c = if idx < 0 {
                b'0'
            } else {
                d.digits.get(idx as usize).copied().unwrap_or(b'0')
            };
            out.push(c as char);
        }
    }
}

/// `json.Marshal(float64)`: `'f'` format, `'e'` below 1e-6 or from 1e21 on, `e-07` cleaned to `e-7`.
pub fn json_float(f: f64) -> String {
    let d = shortest(f);
    let abs = f.abs();
    let mut out = String::new();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        fmt_e(&d, &mut out);
        let n = out.len();
        let b = out.as_bytes();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            out.remove(n - 2);
        }
    } else {
        fmt_f(&d, &mut out);
    }
    out
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`, as go-yaml v2 writes floats.
pub fn g_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_string();
    }
    let d = shortest(f);
    let mut out = String::new();
    let exp = d.dp - 1;
    // Shortest 'g' switches to the exponent form outside [1e-4, 1e6).
    if !d.digits.is_empty() && !(-4..6).contains(&exp) {
        fmt_e(&d, &mut out);
    } else {
        fmt_f(&d, &mut out);
    }
    out
}

/// `strconv.FormatFloat(f, 'g', -1, 32)`: how sigs.k8s.io/yaml turns a YAML float into a string
/// field of a kustomization (the reason `newTag: 1.10` becomes "1.1").
pub fn g_float32(f: f64) -> String {
    #[allow(clippy::cast_possible_truncation)]
    let f32v = f as f32;
    if f32v.is_nan() {
        return "NaN".to_string();
    }
    if f32v.is_infinite() {
        return if f32v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let s = format!("{:e}", f32v.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let digits = if digits.iter().all(|&c| c == b'0') {
        Vec::new()
    } else {
        digits
    };
    let d = Digits {
        neg: f32v.is_sign_negative(),
        dp: exp + 1,
        digits,
    };
    let mut out = String::new();
    let e = d.dp - 1;
    if !d.digits.is_empty() && !(-4..6).contains(&e) {
        fmt_e(&d, &mut out);
    } else {
        fmt_f(&d, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_floats() {
        assert_eq!(json_float(1.0), "1");
        assert_eq!(json_float(1.5), "1.5");
        assert_eq!(json_float(0.000001), "0.000001");
        assert_eq!(json_float(0.0000001), "1e-7");
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(1e20), "100000000000000000000");
        assert_eq!(json_float(-0.0), "-0");
        assert_eq!(json_float(123.456), "123.456");
        assert_eq!(json_float(0.1), "0.1");
    }

    #[test]
    fn g_floats() {
        assert_eq!(g_float(1.5), "1.5");
        assert_eq!(g_float(1234567.5), "1.2345675e+06");
        assert_eq!(g_float(123456.5), "123456.5");
        assert_eq!(g_float(0.0001), "0.0001");
        assert_eq!(g_float(0.00001), "1e-05");
        assert_eq!(g_float(1e21), "1e+21");
        assert_eq!(g_float(0.0), "0");
        assert_eq!(g_float32(1.10), "1.1");
        assert_eq!(g_float32(2.5), "2.5");
    }
}
