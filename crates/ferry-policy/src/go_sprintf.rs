//! OPA's `sprintf`: Go's `fmt.Sprintf` over arguments converted the way OPA converts them.
//!
//! regorus' own `sprintf` fails on a format with more verbs than arguments; Go (and so OPA and
//! Gatekeeper) prints `%!v(MISSING)` and carries on. Library templates rely on that (the
//! HorizontalPodAutoscaler message has six verbs and five arguments), so ferry registers this
//! implementation as an extension, which regorus consults before its builtins.
//!
//! OPA passes numbers as Go integers or float64, strings as Go strings, and every other value
//! as its Rego text (`{"a": 1}`, `["x", "y"]`, `{1, 2}`, `set()`, `true`, `null`).

use std::fmt::Write;

use regorus::Value;

/// A converted argument, as Go's `fmt` sees it.
enum Arg {
    Int(i64),
    Float(f64),
    Str(String),
}

impl Arg {
    fn of(value: &Value) -> Arg {
        match value {
            Value::String(s) => Arg::Str(s.to_string()),
            Value::Number(n) => match n.as_i64() {
                Some(i) if n.is_integer() => Arg::Int(i),
                _ => match n.as_f64() {
                    Some(f) => Arg::Float(f),
                    None => Arg::Str(rego_text(value)),
                },
            },
            other => Arg::Str(rego_text(other)),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Arg::Int(_) => "int",
            Arg::Float(_) => "float64",
            Arg::Str(_) => "string",
        }
    }

    /// Go's `%v`.
    fn plain(&self) -> String {
        match self {
            Arg::Int(i) => i.to_string(),
            Arg::Float(f) => go_float(*f),
            Arg::Str(s) => s.clone(),
        }
    }
}

/// Go's `%v` of a float64: shortest representation, exponent form outside [1e-4, 1e21).
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        // Rust writes `1e21` / `1.5e-5`; Go writes `1e+21` / `1.5e-05`.
        let s = format!("{f:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exponent),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    f.to_string()
}

/// The Rego text of a value, as OPA's `Term.String()` prints it.
pub(crate) fn rego_text(value: &Value) -> String {
    let mut out = String::new();
    write_rego(value, &mut out);
    out
}

fn write_rego(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(_) => out.push_str(&serde_json::to_string(value).unwrap_or_default()),
        Value::String(s) => out.push_str(&serde_json::to_string(s.as_ref()).unwrap_or_default()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_rego(item, out);
            }
            out.push(']');
        }
        Value::Set(items) => {
            if items.is_empty() {
                out.push_str("set()");
                return;
            }
            out.push('{');
            for (i, item) in items.iter_sorted().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_rego(item, out);
            }
            out.push('}');
        }
        Value::Object(fields) => {
            let mut entries: Vec<_> = fields.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_rego(k, out);
                out.push_str(": ");
                write_rego(v, out);
            }
            out.push('}');
        }
        Value::Undefined => out.push_str("undefined"),
    }
}

/// Formats like Go's `fmt.Sprintf(format, args...)` for the verbs Rego policies use:
/// `%v %s %d %q %f %e %g %x %X %t %%`, with flags `-`, `0`, `+`, width and precision.
pub(crate) fn sprintf(format: &str, values: &[Value]) -> String {
    let args: Vec<Arg> = values.iter().map(Arg::of).collect();
    let mut out = String::with_capacity(format.len() + 16);
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut minus = false;
        let mut zero = false;
        let mut plus = false;
        while let Some(&f) = chars.peek() {
            match f {
                '-' => minus = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' | '#' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = None;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            width = Some(
                width
                    .unwrap_or(0usize)
                    .saturating_mul(10)
                    .saturating_add(d as usize),
            );
            chars.next();
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = 0usize;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                p = p.saturating_mul(10).saturating_add(d as usize);
                chars.next();
            }
            precision = Some(p);
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        next += 1;
        let text = match (verb, arg) {
            ('v', a) => match (a, precision) {
                (Arg::Float(f), Some(p)) => format!("{f:.p$}"),
                _ => a.plain(),
            },
            ('s', Arg::Str(s)) => match precision {
                Some(p) => s.chars().take(p).collect(),
                None => s.clone(),
            },
            ('q', Arg::Str(s)) => serde_json::to_string(s).unwrap_or_default(),
            ('d', Arg::Int(i)) => signed(i.to_string(), plus),
            ('x', Arg::Int(i)) => format!("{i:x}"),
            ('X', Arg::Int(i)) => format!("{i:X}"),
            ('x', Arg::Str(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
            ('f' | 'F', Arg::Float(f)) => signed(format!("{f:.*}", precision.unwrap_or(6)), plus),
            ('e', Arg::Float(f)) => go_exponent(*f, precision.unwrap_or(6)),
            ('g', Arg::Float(f)) => go_float(*f),
            ('t', Arg::Str(s)) if s == "true" || s == "false" => s.clone(),
            (verb, a) => format!("%!{verb}({}={})", a.type_name(), a.plain()),
        };
        pad(
            &mut out,
            &text,
            width,
            minus,
            zero && !minus && verb != 's' && verb != 'v',
        );
    }
    if next < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| format!("{}={}", a.type_name(), a.plain()))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn signed(text: String, plus: bool) -> String {
    if plus && !text.starts_with('-') {
        format!("+{text}")
    } else {
        text
    }
}

fn go_exponent(f: f64, precision: usize) -> String {
    let s = format!("{f:.precision$e}");
    let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exponent),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

fn pad(out: &mut String, text: &str, width: Option<usize>, left: bool, zero: bool) {
    let len = text.chars().count();
    let fill = width.unwrap_or(0).saturating_sub(len);
    if left {
        out.push_str(text);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if zero {
        let (sign, digits) = match text.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("", text),
        };
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(digits);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    #[test]
    fn formats_like_go() {
        let args = [
            v(json!("nginx")),
            v(json!(3)),
            v(json!({"rule": "RunAsAny", "ranges": [1, 2]})),
        ];
        assert_eq!(
            sprintf("container %v has %d: %v", &args),
            "container nginx has 3: {\"ranges\": [1, 2], \"rule\": \"RunAsAny\"}"
        );
        assert_eq!(
            sprintf(
                "%q %5s|%-4d|%03d %%",
                &[v(json!("a")), v(json!("b")), v(json!(7)), v(json!(-7))]
            ),
            "\"a\"     b|7   |-07 %"
        );
        assert_eq!(
            sprintf(
                "%.2f %v %v",
                &[v(json!(1.5)), v(json!(0.25)), v(json!(1e22))]
            ),
            "1.50 0.25 1e+22"
        );
    }

    #[test]
    fn missing_and_extra_arguments_do_not_fail() {
        assert_eq!(sprintf("%v and %v", &[v(json!(1))]), "1 and %!v(MISSING)");
        assert_eq!(
            sprintf("%v", &[v(json!(1)), v(json!("x"))]),
            "1%!(EXTRA string=x)"
        );
        assert_eq!(sprintf("%d", &[v(json!("x"))]), "%!d(string=x)");
    }

    #[test]
    fn rego_text_of_sets_and_scalars() {
        let mut set = Value::new_set();
        set.as_set_mut().unwrap().insert(v(json!("b")));
        set.as_set_mut().unwrap().insert(v(json!("a")));
        assert_eq!(rego_text(&set), "{\"a\", \"b\"}");
        assert_eq!(rego_text(&Value::new_set()), "set()");
        assert_eq!(rego_text(&v(json!([true, null]))), "[true, null]");
    }
}
