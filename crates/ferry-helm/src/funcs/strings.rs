//! String functions: Go's `print`/`printf`/`println`/`html`/`js`/`urlquery`, and Sprig's
//! string family (goutils and xstrings behaviour included).

use rand::Rng;
use rand::seq::SliceRandom;

use super::convert::{strslice, strval};
use super::{Reg, arg_bytes, arg_int, arg_str, err, s};
use crate::gofmt;
use crate::object::Param::{self, *};
use crate::template::GoError;
use crate::value::{Entries, MapKind, Value};

type R = Result<Value, GoError>;

/// Go's `evalArgs` for html/js/urlquery: a single string as is, otherwise `fmt.Sprint`.
fn eval_args(a: &[Value]) -> String {
    if let [Value::Str(s)] = a {
        return s.to_string();
    }
    gofmt::sprint(a)
}

fn f_print(a: &[Value]) -> R {
    Ok(s(gofmt::sprint(a)))
}

fn f_printf(a: &[Value]) -> R {
    Ok(s(gofmt::sprintf(arg_str(a, 0), &a[1..])))
}

fn f_println(a: &[Value]) -> R {
    Ok(s(gofmt::sprintln(a)))
}

pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn f_html(a: &[Value]) -> R {
    Ok(s(html_escape(&eval_args(a))))
}

fn js_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if (c as u32) >= 0x80 && !gofmt::is_print(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

fn f_js(a: &[Value]) -> R {
    Ok(s(js_escape(&eval_args(a))))
}

/// Go's `url.QueryEscape`.
pub fn query_escape(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn f_urlquery(a: &[Value]) -> R {
    Ok(s(query_escape(&eval_args(a))))
}

/// Go's simple upper-case mapping of one rune (no expansion to several runes).
pub fn go_upper(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

pub fn go_lower(c: char) -> char {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn go_title(c: char) -> char {
    // Title case equals upper case except for a few digraphs.
    match c {
        'ǆ' | 'ǅ' | 'Ǆ' => 'ǅ',
        'ǉ' | 'ǈ' | 'Ǉ' => 'ǈ',
        'ǌ' | 'ǋ' | 'Ǌ' => 'ǋ',
        'ǳ' | 'ǲ' | 'Ǳ' => 'ǲ',
        c => go_upper(c),
    }
}

pub fn upper(s: &str) -> String {
    s.chars().map(go_upper).collect()
}

pub fn lower(s: &str) -> String {
    s.chars().map(go_lower).collect()
}

fn is_separator(c: char) -> bool {
    if (c as u32) <= 0x7f {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphabetic() || c.is_numeric() {
        return false;
    }
    c.is_whitespace()
}

/// Go's deprecated `strings.Title`.
fn title(s: &str) -> String {
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_separator(prev) { go_title(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if c.is_whitespace() {
                next = true;
                c
            } else if next {
                next = false;
                go_lower(c)
            } else {
                c
            }
        })
        .collect()
}

fn swapcase(s: &str) -> String {
    let mut ws = true;
    s.chars()
        .map(|c| {
            if c.is_uppercase() {
                ws = false;
                go_lower(c)
            } else if c.is_lowercase() {
                if ws {
                    ws = false;
                    go_title(c)
                } else {
                    go_upper(c)
                }
            } else {
                ws = c.is_whitespace();
                c
            }
        })
        .collect()
}

fn initials(s: &str) -> String {
    // goutils walks bytes, treating each byte as a rune
    let mut out = String::new();
    let mut gap = true;
    for b in s.bytes() {
        let c = b as char;
        if c.is_whitespace() || b == 0x85 || b == 0xa0 {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

/// Slices a string at byte offsets as Go does; a cut inside a UTF-8 sequence keeps the
/// valid part (Go would emit the raw bytes).
fn lossy_slice(s: &str, from: usize, to: usize) -> String {
    String::from_utf8_lossy(&s.as_bytes()[from..to]).into_owned()
}

fn byte_slice(s: &[u8], from: usize, to: usize) -> Value {
    Value::from_bytes(s[from..to].to_vec())
}

fn slice_panic(from: i64, to: i64, len: usize) -> GoError {
    if to > len as i64 || to < 0 {
        GoError::msg(format!(
            "runtime error: slice bounds out of range [:{to}] with length {len}"
        ))
    } else {
        GoError::msg(format!(
            "runtime error: slice bounds out of range [{from}:{to}]"
        ))
    }
}

fn f_trunc(a: &[Value]) -> R {
    let c = arg_int(a, 0);
    let st = arg_bytes(a, 1);
    let len = st.len() as i64;
    if c < 0 && len + c > 0 {
        return Ok(byte_slice(st, (len + c) as usize, st.len()));
    }
    if c >= 0 && len > c {
        return Ok(byte_slice(st, 0, c as usize));
    }
    Ok(a[1].clone())
}

fn f_substr(a: &[Value]) -> R {
    let (start, end) = (arg_int(a, 0), arg_int(a, 1));
    let st = arg_bytes(a, 2);
    let len = st.len() as i64;
    if start < 0 {
        if end < 0 || end > len {
            return Err(slice_panic(0, end, st.len()));
        }
        return Ok(byte_slice(st, 0, end as usize));
    }
    if end < 0 || end > len {
        if start > len {
            return Err(GoError::msg(format!(
                "runtime error: slice bounds out of range [{start}:{len}]"
            )));
        }
        return Ok(byte_slice(st, start as usize, st.len()));
    }
    if start > end {
        return Err(slice_panic(start, end, st.len()));
    }
    Ok(byte_slice(st, start as usize, end as usize))
}

fn f_repeat(a: &[Value]) -> R {
    let n = arg_int(a, 0);
    let st = arg_str(a, 1);
    if n < 0 {
        return err("strings: negative Repeat count");
    }
    if (st.len() as u128) * (n as u128) > 64 * 1024 * 1024 {
        return err("strings: Repeat output length overflow");
    }
    Ok(s(st.repeat(n as usize)))
}

fn f_abbrev(a: &[Value]) -> R {
    let width = arg_int(a, 0);
    let st = arg_str(a, 1);
    if width < 4 {
        return Ok(Value::str(st));
    }
    Ok(s(abbreviate_full(st, 0, width).unwrap_or_default()))
}

fn f_abbrevboth(a: &[Value]) -> R {
    let (left, right) = (arg_int(a, 0), arg_int(a, 1));
    let st = arg_str(a, 2);
    if right < 4 || left > 0 && right < 7 {
        return Ok(Value::str(st));
    }
    Ok(s(abbreviate_full(st, left, right).unwrap_or_default()))
}

/// goutils `AbbreviateFull` (byte offsets, as Go's).
fn abbreviate_full(st: &str, mut offset: i64, max_width: i64) -> Option<String> {
    if st.is_empty() {
        return Some(String::new());
    }
    if max_width < 4 {
        return None;
    }
    let len = st.len() as i64;
    if len <= max_width {
        return Some(st.to_string());
    }
    if offset > len {
        offset = len;
    }
    if len - offset < max_width - 3 {
        offset = len - (max_width - 3);
    }
    if offset <= 4 {
        return Some(format!(
            "{}...",
            lossy_slice(st, 0, (max_width - 3) as usize)
        ));
    }
    if max_width < 7 {
        return None;
    }
    if offset + max_width - 3 < len {
        let rest = lossy_slice(st, offset as usize, st.len());
        let ab = abbreviate_full(&rest, 0, max_width - 3)?;
        return Some(format!("...{ab}"));
    }
    Some(format!(
        "...{}",
        lossy_slice(st, (len - (max_width - 3)) as usize, st.len())
    ))
}

fn trim_set(st: &str, cutset: &str) -> String {
    st.trim_matches(|c| cutset.contains(c)).to_string()
}

fn f_trim(a: &[Value]) -> R {
    Ok(s(arg_str(a, 0).trim()))
}

fn f_trim_all(a: &[Value]) -> R {
    Ok(s(trim_set(arg_str(a, 1), arg_str(a, 0))))
}

fn f_trim_suffix(a: &[Value]) -> R {
    let st = arg_str(a, 1);
    Ok(s(st.strip_suffix(arg_str(a, 0)).unwrap_or(st)))
}

fn f_trim_prefix(a: &[Value]) -> R {
    let st = arg_str(a, 1);
    Ok(s(st.strip_prefix(arg_str(a, 0)).unwrap_or(st)))
}

fn f_upper(a: &[Value]) -> R {
    Ok(s(upper(arg_str(a, 0))))
}

fn f_lower(a: &[Value]) -> R {
    Ok(s(lower(arg_str(a, 0))))
}

fn f_title(a: &[Value]) -> R {
    Ok(s(title(arg_str(a, 0))))
}

fn f_untitle(a: &[Value]) -> R {
    Ok(s(untitle(arg_str(a, 0))))
}

fn f_nospace(a: &[Value]) -> R {
    Ok(s(arg_str(a, 0)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()))
}

fn f_initials(a: &[Value]) -> R {
    Ok(s(initials(arg_str(a, 0))))
}

fn f_swapcase(a: &[Value]) -> R {
    Ok(s(swapcase(arg_str(a, 0))))
}

fn random_from(set: &[u8], n: i64) -> R {
    if n < 0 {
        return Ok(s(""));
    }
    if n > 16 * 1024 * 1024 {
        return err("random string length exceeds the limit");
    }
    let mut rng = rand::thread_rng();
    let out: String = (0..n)
        .map(|_| set[rng.gen_range(0..set.len())] as char)
        .collect();
    Ok(s(out))
}

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC: &[u8] = b"0123456789";

fn f_rand_alnum(a: &[Value]) -> R {
    random_from(ALNUM, arg_int(a, 0))
}

fn f_rand_alpha(a: &[Value]) -> R {
    random_from(ALPHA, arg_int(a, 0))
}

fn f_rand_numeric(a: &[Value]) -> R {
    random_from(NUMERIC, arg_int(a, 0))
}

fn f_rand_ascii(a: &[Value]) -> R {
    let set: Vec<u8> = (32u8..=126).collect();
    random_from(&set, arg_int(a, 0))
}

fn f_shuffle(a: &[Value]) -> R {
    let mut chars: Vec<char> = arg_str(a, 0).chars().collect();
    chars.shuffle(&mut rand::thread_rng());
    Ok(s(chars.into_iter().collect::<String>()))
}

fn f_wrap(a: &[Value]) -> R {
    Ok(s(wrap_custom(arg_str(a, 1), arg_int(a, 0), "\n", false)))
}

fn f_wrap_with(a: &[Value]) -> R {
    Ok(s(wrap_custom(
        arg_str(a, 2),
        arg_int(a, 0),
        arg_str(a, 1),
        true,
    )))
}

/// goutils `WrapCustom` (byte offsets).
fn wrap_custom(st: &str, wrap_length: i64, sep: &str, wrap_long: bool) -> String {
    if st.is_empty() {
        return String::new();
    }
    let sep = if sep.is_empty() { "\n" } else { sep };
    let wl = wrap_length.max(1) as usize;
    let b = st.as_bytes();
    let n = b.len();
    let mut offset = 0usize;
    let mut out: Vec<u8> = Vec::new();
    while n - offset > wl {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (wl + offset + 1).min(n);
        let space = b[offset..end].iter().rposition(|&c| c == b' ');
        match space {
            Some(i) => {
                let at = i + offset;
                out.extend_from_slice(&b[offset..at]);
                out.extend_from_slice(sep.as_bytes());
                offset = at + 1;
            }
            None => {
                if wrap_long {
                    let end = wl + offset;
                    out.extend_from_slice(&b[offset..end]);
                    out.extend_from_slice(sep.as_bytes());
                    offset += wl;
                } else {
                    let end = wl + offset;
                    match b[end..].iter().position(|&c| c == b' ') {
                        None => {
                            out.extend_from_slice(&b[offset..]);
                            offset = n;
                        }
                        Some(i) => {
                            let at = i + end;
                            out.extend_from_slice(&b[offset..at]);
                            out.extend_from_slice(sep.as_bytes());
                            offset = at + 1;
                        }
                    }
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    String::from_utf8_lossy(&out).into_owned()
}

fn f_contains(a: &[Value]) -> R {
    Ok(Value::Bool(arg_str(a, 1).contains(arg_str(a, 0))))
}

fn f_has_prefix(a: &[Value]) -> R {
    Ok(Value::Bool(arg_str(a, 1).starts_with(arg_str(a, 0))))
}

fn f_has_suffix(a: &[Value]) -> R {
    Ok(Value::Bool(arg_str(a, 1).ends_with(arg_str(a, 0))))
}

fn f_quote(a: &[Value]) -> R {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !v.is_nil())
        .map(|v| match v {
            Value::Bytes(b) | Value::BStr(b) => gofmt::quote_bytes(b),
            other => gofmt::quote(&strval(other)),
        })
        .collect();
    Ok(s(parts.join(" ")))
}

fn f_squote(a: &[Value]) -> R {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !v.is_nil())
        .map(|v| format!("'{}'", gofmt::format_v(v)))
        .collect();
    Ok(s(parts.join(" ")))
}

fn f_cat(a: &[Value]) -> R {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !v.is_nil())
        .map(gofmt::format_v)
        .collect();
    Ok(s(parts.join(" ")))
}

pub fn indent(n: i64, st: &str) -> String {
    let pad = " ".repeat(n.max(0) as usize);
    format!("{pad}{}", st.replace('\n', &format!("\n{pad}")))
}

fn f_indent(a: &[Value]) -> R {
    Ok(s(indent(arg_int(a, 0), arg_str(a, 1))))
}

fn f_nindent(a: &[Value]) -> R {
    Ok(s(format!("\n{}", indent(arg_int(a, 0), arg_str(a, 1)))))
}

fn f_replace(a: &[Value]) -> R {
    let (old, new, src) = (arg_str(a, 0), arg_str(a, 1), arg_str(a, 2));
    if old.is_empty() {
        // Go inserts `new` before every rune and at the end
        let mut out = String::new();
        for c in src.chars() {
            out.push_str(new);
            out.push(c);
        }
        out.push_str(new);
        return Ok(s(out));
    }
    Ok(s(src.replace(old, new)))
}

fn f_plural(a: &[Value]) -> R {
    Ok(Value::str(if arg_int(a, 2) == 1 {
        arg_str(a, 0)
    } else {
        arg_str(a, 1)
    }))
}

/// Go's `strings.Split`, including the empty-separator case (split into runes).
pub fn go_split(st: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return vec![];
    }
    if sep.is_empty() {
        let chars: Vec<String> = st.chars().map(String::from).collect();
        if n > 0 && chars.len() as i64 > n {
            let mut head: Vec<String> = chars[..(n - 1) as usize].to_vec();
            let rest: String = chars[(n - 1) as usize..].concat();
            head.push(rest);
            return head;
        }
        return chars;
    }
    if n < 0 {
        return st.split(sep).map(String::from).collect();
    }
    st.splitn(n as usize, sep).map(String::from).collect()
}

fn split_map(parts: Vec<String>) -> Value {
    let mut e = Entries::new();
    for (i, p) in parts.into_iter().enumerate() {
        e.insert(format!("_{i}").into(), Value::string(p));
    }
    Value::map_of(MapKind::Str, e)
}

fn f_split(a: &[Value]) -> R {
    Ok(split_map(go_split(arg_str(a, 1), arg_str(a, 0), -1)))
}

fn f_splitn(a: &[Value]) -> R {
    Ok(split_map(go_split(
        arg_str(a, 2),
        arg_str(a, 0),
        arg_int(a, 1),
    )))
}

fn f_split_list(a: &[Value]) -> R {
    Ok(Value::str_list(go_split(arg_str(a, 1), arg_str(a, 0), -1)))
}

fn f_join(a: &[Value]) -> R {
    Ok(s(strslice(&a[1]).join(arg_str(a, 0))))
}

fn f_sort_alpha(a: &[Value]) -> R {
    match &a[0] {
        Value::List(_) | Value::Bytes(_) => {
            let mut v = strslice(&a[0]);
            v.sort();
            Ok(Value::str_list(v))
        }
        other => Ok(Value::str_list(vec![strval(other)])),
    }
}

// ---- xstrings case conversions (huandu/xstrings v1.5)

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum WordType {
    Invalid,
    Number,
    Upper,
    Alnum,
    Connector,
    Punct,
    Other,
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || c.is_whitespace()
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() && !is_connector(c)
        || (!c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control())
}

/// xstrings' `nextWord`: the type and text of the word at the start of `s`.
fn next_word(s: &str) -> (WordType, &str, &str) {
    let mut it = s.char_indices().peekable();
    let Some((_, r)) = it.next() else {
        return (WordType::Invalid, "", "");
    };
    let mut end = r.len_utf8();
    let take_while = |it: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
                      end: &mut usize,
                      f: &dyn Fn(char) -> bool| {
        while let Some(&(i, c)) = it.peek() {
            if !f(c) {
                break;
            }
            *end = i + c.len_utf8();
            it.next();
        }
    };
    let wt = if is_connector(r) {
        take_while(&mut it, &mut end, &is_connector);
        WordType::Connector
    } else if is_punct(r) {
        take_while(&mut it, &mut end, &is_punct);
        WordType::Punct
    } else if r.is_uppercase() {
        if let Some(&(_, c)) = it.peek() {
            if c.is_uppercase() {
                // a run of capitals; "HTTPServer" splits as "HTTP" + "Server"
                let mut prev_start = end;
                let mut last_end = end;
                while let Some(&(i, c)) = it.peek() {
                    if !c.is_uppercase() {
                        break;
                    }
                    prev_start = i;
                    last_end = i + c.len_utf8();
                    it.next();
                }
                end = last_end;
                if let Some(&(_, c)) = it.peek()
                    && c.is_alphabetic()
                {
                    end = prev_start;
                }
            } else if c.is_alphabetic() {
                take_while(&mut it, &mut end, &|c: char| {
                    c.is_alphabetic() && !c.is_uppercase()
                });
            }
        }
        WordType::Upper
    } else if r.is_alphabetic() {
        take_while(&mut it, &mut end, &|c: char| {
            c.is_alphabetic() && !c.is_uppercase()
        });
        WordType::Alnum
    } else if r.is_numeric() {
        take_while(&mut it, &mut end, &|c: char| c.is_numeric());
        WordType::Number
    } else {
        take_while(&mut it, &mut end, &|c: char| {
            !(is_connector(c) || c.is_alphabetic() || c.is_numeric() || is_punct(c))
        });
        WordType::Other
    };
    (wt, &s[..end], &s[end..])
}

fn to_lower_word(out: &mut String, wt: WordType, word: &str, connector: char) {
    if wt != WordType::Upper && wt != WordType::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        if is_connector(c) {
            out.push(connector);
        } else if c.is_uppercase() {
            out.push(go_lower(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings' `camelCaseToLowerCase` (snakecase, kebabcase).
fn camel_to_lower(s: &str, connector: char) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut buf = String::new();
    let (mut wt, mut word, mut remaining) = next_word(s);
    while !remaining.is_empty() {
        if wt != WordType::Connector {
            to_lower_word(&mut buf, wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word, remaining) = next_word(remaining);
        match prev {
            WordType::Number => {
                while wt == WordType::Alnum || wt == WordType::Number {
                    to_lower_word(&mut buf, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != WordType::Invalid && wt != WordType::Punct && wt != WordType::Connector {
                    buf.push(connector);
                }
            }
            WordType::Connector => to_lower_word(&mut buf, prev, last, connector),
            WordType::Punct => {}
            _ => {
                if wt != WordType::Number {
                    if wt != WordType::Connector && wt != WordType::Punct {
                        buf.push(connector);
                    }
                    continue;
                }
                if remaining.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, remaining) = next_word(remaining);
                // a number followed by something else belongs to the previous word ("Bld4Floor")
                if wt != WordType::Alnum {
                    to_lower_word(&mut buf, WordType::Number, last, connector);
                    if wt != WordType::Connector && wt != WordType::Punct {
                        buf.push(connector);
                    }
                    continue;
                }
                // lower-case letters after a number start a new word ("HTTP2xx")
                buf.push(connector);
                to_lower_word(&mut buf, WordType::Number, last, connector);
                while wt == WordType::Alnum || wt == WordType::Number {
                    to_lower_word(&mut buf, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != WordType::Invalid && wt != WordType::Connector && wt != WordType::Punct {
                    buf.push(connector);
                }
            }
        }
    }
    to_lower_word(&mut buf, wt, word, connector);
    buf
}

fn f_snakecase(a: &[Value]) -> R {
    Ok(s(camel_to_lower(arg_str(a, 0), '_')))
}

fn f_kebabcase(a: &[Value]) -> R {
    Ok(s(camel_to_lower(arg_str(a, 0), '-')))
}

/// xstrings' `ToPascalCase`: leading connectors kept, the first letter and letters after
/// connectors upper-cased, connectors dropped (a run keeps all but one); when the text
/// starts with a capital, capitals following a capital are lower-cased ("JSONData" →
/// "Jsondata").
fn pascal(st: &str) -> String {
    let mut out = String::new();
    let mut chars = st.chars().peekable();
    while let Some(&c) = chars.peek() {
        if !is_connector(c) {
            break;
        }
        out.push(c);
        chars.next();
    }
    let Some(first) = chars.next() else {
        return out;
    };
    let first_upper = first.is_uppercase();
    let mut r0 = go_upper(first);
    let mut r0_orig = first;
    for c in chars {
        let (r1, r1_orig) = (r0, r0_orig);
        r0_orig = c;
        r0 = c;
        if is_connector(c) && is_connector(r1_orig) {
            out.push(r1);
            continue;
        }
        if is_connector(r1_orig) {
            r0 = go_upper(c);
        } else {
            if first_upper && c.is_uppercase() && r1_orig.is_uppercase() {
                r0 = go_lower(c);
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

fn f_camelcase(a: &[Value]) -> R {
    Ok(s(pascal(arg_str(a, 0))))
}

pub(super) fn register(r: &mut Reg<'_>) {
    const S: &[Param] = &[Str];
    const SS: &[Param] = &[Str, Str];
    r.v("print", &[], Any, f_print);
    r.v("printf", &[Str], Any, f_printf);
    r.v("println", &[], Any, f_println);
    r.v("html", &[], Any, f_html);
    r.v("js", &[], Any, f_js);
    r.v("urlquery", &[], Any, f_urlquery);
    r.f("abbrev", &[Int, Str], f_abbrev);
    r.f("abbrevboth", &[Int, Int, Str], f_abbrevboth);
    r.bytes("trunc", &[Int, Str], f_trunc);
    r.f("trim", S, f_trim);
    r.f("upper", S, f_upper);
    r.f("lower", S, f_lower);
    r.f("title", S, f_title);
    r.f("untitle", S, f_untitle);
    r.bytes("substr", &[Int, Int, Str], f_substr);
    r.f("repeat", &[Int, Str], f_repeat);
    r.f("trimall", SS, f_trim_all);
    r.f("trimAll", SS, f_trim_all);
    r.f("trimSuffix", SS, f_trim_suffix);
    r.f("trimPrefix", SS, f_trim_prefix);
    r.f("nospace", S, f_nospace);
    r.f("initials", S, f_initials);
    r.f("randAlphaNum", &[Int], f_rand_alnum);
    r.f("randAlpha", &[Int], f_rand_alpha);
    r.f("randAscii", &[Int], f_rand_ascii);
    r.f("randNumeric", &[Int], f_rand_numeric);
    r.f("swapcase", S, f_swapcase);
    r.f("shuffle", S, f_shuffle);
    r.f("snakecase", S, f_snakecase);
    r.f("camelcase", S, f_camelcase);
    r.f("kebabcase", S, f_kebabcase);
    r.f("wrap", &[Int, Str], f_wrap);
    r.f("wrapWith", &[Int, Str, Str], f_wrap_with);
    r.f("contains", SS, f_contains);
    r.f("hasPrefix", SS, f_has_prefix);
    r.f("hasSuffix", SS, f_has_suffix);
    r.v("quote", &[], Any, f_quote);
    r.v("squote", &[], Any, f_squote);
    r.v("cat", &[], Any, f_cat);
    r.f("indent", &[Int, Str], f_indent);
    r.f("nindent", &[Int, Str], f_nindent);
    r.f("replace", &[Str, Str, Str], f_replace);
    r.f("plural", &[Str, Str, Int], f_plural);
    r.f("split", SS, f_split);
    r.f("splitList", SS, f_split_list);
    r.f("splitn", &[Str, Int, Str], f_splitn);
    r.f("join", &[Str, Any], f_join);
    r.f("sortAlpha", &[Any], f_sort_alpha);
}
