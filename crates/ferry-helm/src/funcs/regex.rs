//! Sprig's regex family over Go's RE2 syntax (the `regex` crate implements the same language,
//! leftmost-first semantics and `$name` expansion).

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;

use super::{Reg, arg_int, arg_str, s};
use crate::gofmt;
use crate::object::Param::*;
use crate::template::GoError;
use crate::value::Value;

type R = Result<Value, GoError>;

thread_local! {
    static CACHE: RefCell<HashMap<String, Result<Regex, String>>> = RefCell::new(HashMap::new());
}

/// The text Go's parser names for an unclosed `[`: from that bracket to the end.
fn unclosed_class(expr: &str) -> Option<&str> {
    let b = expr.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'[' => {
                let start = i;
                let mut j = i + 1;
                if j < b.len() && b[j] == b'^' {
                    j += 1;
                }
                if j < b.len() && b[j] == b']' {
                    j += 1;
                }
                let mut closed = false;
                while j < b.len() {
                    match b[j] {
                        b'\\' => j += 2,
                        b'[' if j + 1 < b.len() && b[j + 1] == b':' => {
                            // [:alpha:] inside a class
                            match expr[j + 2..].find(":]") {
                                Some(k) => j += k + 4,
                                None => j += 1,
                            }
                        }
                        b']' => {
                            closed = true;
                            break;
                        }
                        _ => j += 1,
                    }
                }
                if !closed {
                    return Some(&expr[start..]);
                }
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Go's wording of a syntax error: `error parsing regexp: <code>: `<expr>``.
fn go_syntax_error(expr: &str, e: &regex::Error) -> String {
    let msg = e.to_string();
    let (code, part) = if msg.contains("unclosed character class") {
        ("missing closing ]", unclosed_class(expr).unwrap_or(expr))
    } else if msg.contains("unclosed group") {
        ("missing closing )", expr)
    } else if msg.contains("unopened group") {
        ("unexpected )", expr)
    } else if msg.contains("repetition operator missing expression") {
        ("missing argument to repetition operator", expr)
    } else if msg.contains("invalid character class range") || msg.contains("invalid range") {
        ("invalid character class range", expr)
    } else if msg.contains("escape sequence") || msg.contains("unrecognized escape") {
        ("invalid escape sequence", expr)
    } else if msg.contains("repetition quantifier") || msg.contains("decimal") {
        ("invalid repeat count", expr)
    } else if msg.contains("capture group name") {
        ("invalid named capture", expr)
    } else if msg.contains("incomplete escape") {
        ("trailing backslash at end of expression", "")
    } else {
        ("invalid or unsupported Perl syntax", expr)
    };
    if part.is_empty() {
        return format!("error parsing regexp: {code}");
    }
    format!("error parsing regexp: {code}: `{part}`")
}

fn compile(expr: &str) -> Result<Regex, String> {
    CACHE.with(|c| {
        if let Some(r) = c.borrow().get(expr) {
            return r.clone();
        }
        let r = Regex::new(expr).map_err(|e| go_syntax_error(expr, &e));
        let mut c = c.borrow_mut();
        if c.len() > 512 {
            c.clear();
        }
        c.insert(expr.to_string(), r.clone());
        r
    })
}

/// `regexp.MustCompile`: a syntax error is a panic with Go's message.
/// Forgets the compiled patterns of this thread.
pub(crate) fn clear_cache() {
    CACHE.with(|c| c.borrow_mut().clear());
}

fn must_compile(expr: &str) -> Result<Regex, GoError> {
    compile(expr).map_err(|e| {
        let q = if expr.contains('`') {
            gofmt::quote(expr)
        } else {
            format!("`{expr}`")
        };
        GoError::msg(format!("regexp: Compile({q}): {e}"))
    })
}

fn f_match(a: &[Value]) -> R {
    Ok(Value::Bool(
        compile(arg_str(a, 0))
            .map(|r| r.is_match(arg_str(a, 1)))
            .unwrap_or(false),
    ))
}

fn f_must_match(a: &[Value]) -> R {
    let r = compile(arg_str(a, 0)).map_err(GoError::msg)?;
    Ok(Value::Bool(r.is_match(arg_str(a, 1))))
}

fn find_all(r: &Regex, st: &str, n: i64) -> Vec<String> {
    let it = r.find_iter(st).map(|m| m.as_str().to_string());
    if n < 0 {
        it.collect()
    } else {
        it.take(n as usize).collect()
    }
}

/// `FindAllString` returns a nil slice when nothing matches.
fn found_list(v: Vec<String>) -> Value {
    if v.is_empty() {
        return Value::nil_list(crate::value::ListKind::Str);
    }
    Value::str_list(v)
}

fn f_find_all(a: &[Value]) -> R {
    let r = must_compile(arg_str(a, 0))?;
    Ok(found_list(find_all(&r, arg_str(a, 1), arg_int(a, 2))))
}

fn f_must_find_all(a: &[Value]) -> R {
    let r = compile(arg_str(a, 0)).map_err(GoError::msg)?;
    Ok(found_list(find_all(&r, arg_str(a, 1), arg_int(a, 2))))
}

fn f_find(a: &[Value]) -> R {
    let r = must_compile(arg_str(a, 0))?;
    Ok(s(r.find(arg_str(a, 1)).map(|m| m.as_str()).unwrap_or("")))
}

fn f_must_find(a: &[Value]) -> R {
    let r = compile(arg_str(a, 0)).map_err(GoError::msg)?;
    Ok(s(r.find(arg_str(a, 1)).map(|m| m.as_str()).unwrap_or("")))
}

fn f_replace_all(a: &[Value]) -> R {
    let r = must_compile(arg_str(a, 0))?;
    Ok(s(r.replace_all(arg_str(a, 1), arg_str(a, 2)).into_owned()))
}

fn f_must_replace_all(a: &[Value]) -> R {
    let r = compile(arg_str(a, 0)).map_err(GoError::msg)?;
    Ok(s(r.replace_all(arg_str(a, 1), arg_str(a, 2)).into_owned()))
}

fn f_replace_all_literal(a: &[Value]) -> R {
    let r = must_compile(arg_str(a, 0))?;
    Ok(s(r
        .replace_all(arg_str(a, 1), regex::NoExpand(arg_str(a, 2)))
        .into_owned()))
}

fn f_must_replace_all_literal(a: &[Value]) -> R {
    let r = compile(arg_str(a, 0)).map_err(GoError::msg)?;
    Ok(s(r
        .replace_all(arg_str(a, 1), regex::NoExpand(arg_str(a, 2)))
        .into_owned()))
}

/// Go's `Regexp.Split`.
fn split(r: &Regex, expr: &str, st: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return vec![];
    }
    if !expr.is_empty() && st.is_empty() {
        return vec![String::new()];
    }
    let matches: Vec<(usize, usize)> = r
        .find_iter(st)
        .map(|m| (m.start(), m.end()))
        .take(if n < 0 { usize::MAX } else { n as usize })
        .collect();
    let mut out = vec![];
    let (mut beg, mut end) = (0usize, 0usize);
    for (ms, me) in matches {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        end = ms;
        if me != 0 {
            out.push(st[beg..end].to_string());
        }
        beg = me;
    }
    if end != st.len() {
        out.push(st[beg..].to_string());
    }
    out
}

fn f_split(a: &[Value]) -> R {
    let expr = arg_str(a, 0);
    let r = must_compile(expr)?;
    Ok(Value::str_list(split(
        &r,
        expr,
        arg_str(a, 1),
        arg_int(a, 2),
    )))
}

fn f_must_split(a: &[Value]) -> R {
    let expr = arg_str(a, 0);
    let r = compile(expr).map_err(GoError::msg)?;
    Ok(Value::str_list(split(
        &r,
        expr,
        arg_str(a, 1),
        arg_int(a, 2),
    )))
}

fn f_quote_meta(a: &[Value]) -> R {
    let mut out = String::new();
    for c in arg_str(a, 0).chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(s(out))
}

pub(super) fn register(r: &mut Reg<'_>) {
    r.f("regexMatch", &[Str, Str], f_match);
    r.f("mustRegexMatch", &[Str, Str], f_must_match);
    r.f("regexFindAll", &[Str, Str, Int], f_find_all);
    r.f("mustRegexFindAll", &[Str, Str, Int], f_must_find_all);
    r.f("regexFind", &[Str, Str], f_find);
    r.f("mustRegexFind", &[Str, Str], f_must_find);
    r.f("regexReplaceAll", &[Str, Str, Str], f_replace_all);
    r.f("mustRegexReplaceAll", &[Str, Str, Str], f_must_replace_all);
    r.f(
        "regexReplaceAllLiteral",
        &[Str, Str, Str],
        f_replace_all_literal,
    );
    r.f(
        "mustRegexReplaceAllLiteral",
        &[Str, Str, Str],
        f_must_replace_all_literal,
    );
    r.f("regexSplit", &[Str, Str, Int], f_split);
    r.f("mustRegexSplit", &[Str, Str, Int], f_must_split);
    r.f("regexQuoteMeta", &[Str], f_quote_meta);
}
