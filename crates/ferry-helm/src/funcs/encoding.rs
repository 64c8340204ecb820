//! Encodings and hashes: base64/base32 (Go's strict decoders and their error texts), SHA and
//! Adler-32 sums, UUIDs, JSON (Sprig's and Helm's variants), URLs.

use std::rc::Rc;

use rand::RngCore;
use sha2::Digest;

use super::{Reg, arg_bytes, arg_str, err, s};
use crate::json;
use crate::object::Param::{self, *};
use crate::template::GoError;
use crate::value::{Entries, Value};

type R = Result<Value, GoError>;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn b64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Go's `base64.StdEncoding.DecodeString`: padding required, CR/LF ignored, errors name the
/// offset of the bad input byte.
pub fn b64_decode(text: &str) -> Result<Vec<u8>, String> {
    decode_generic(text.as_bytes(), B64, 6, 4)
}

fn decode_generic(
    src: &[u8],
    alphabet: &[u8],
    bits: u32,
    quantum: usize,
) -> Result<Vec<u8>, String> {
    let mut lookup = [0xFFu8; 256];
    for (i, &c) in alphabet.iter().enumerate() {
        lookup[c as usize] = i as u8;
    }
    let bad = |i: usize| {
        format!(
            "illegal {} data at input byte {i}",
            if bits == 6 { "base64" } else { "base32" }
        )
    };
    // positions of significant bytes (newlines are skipped)
    let sig: Vec<(usize, u8)> = src
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, c)| *c != b'\n' && *c != b'\r')
        .collect();
    let mut out = Vec::new();
    let mut k = 0;
    while k < sig.len() {
        let chunk_end = (k + quantum).min(sig.len());
        let chunk = &sig[k..chunk_end];
        let mut acc: u64 = 0;
        let mut n = 0usize;
        let mut pad_at = None;
        for (j, &(pos, c)) in chunk.iter().enumerate() {
            if c == b'=' {
                pad_at = Some(j);
                // everything after the first pad must be pad, and the quantum must be full
                for &(p2, c2) in &chunk[j..] {
                    if c2 != b'=' {
                        return Err(bad(p2));
                    }
                }
                if chunk.len() < quantum {
                    return Err(bad(sig
                        .get(k + chunk.len())
                        .map(|x| x.0)
                        .unwrap_or(src.len())));
                }
                if k + quantum < sig.len() {
                    return Err(bad(sig[k + quantum].0));
                }
                let _ = pos;
                break;
            }
            let d = lookup[c as usize];
            if d == 0xFF {
                return Err(bad(pos));
            }
            acc = (acc << bits) | d as u64;
            n += 1;
        }
        if pad_at.is_none() && chunk.len() < quantum {
            // an incomplete final quantum is reported at its first byte
            return Err(bad(chunk[0].0));
        }
        let total_bits = n as u32 * bits;
        let nbytes = (total_bits / 8) as usize;
        if bits == 6 && n < 2 || bits == 5 && ![2, 4, 5, 7, 8].contains(&n) {
            return Err(bad(chunk.get(n).map(|x| x.0).unwrap_or(src.len())));
        }
        let extra = total_bits - nbytes as u32 * 8;
        let v = acc >> extra;
        for b in (0..nbytes).rev() {
            out.push((v >> (8 * b)) as u8);
        }
        k += quantum;
    }
    Ok(out)
}

fn b32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let v = buf.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64);
        let nchars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < nchars {
                out.push(B32[((v >> (35 - 5 * i)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn f_b64enc(a: &[Value]) -> R {
    Ok(s(b64_encode(arg_bytes(a, 0))))
}

fn f_b64dec(a: &[Value]) -> R {
    Ok(match decode_generic(arg_bytes(a, 0), B64, 6, 4) {
        Ok(b) => Value::from_bytes(b),
        Err(e) => s(e),
    })
}

fn f_b32enc(a: &[Value]) -> R {
    Ok(s(b32_encode(arg_bytes(a, 0))))
}

fn f_b32dec(a: &[Value]) -> R {
    Ok(match decode_generic(arg_bytes(a, 0), B32, 5, 8) {
        Ok(b) => Value::from_bytes(b),
        Err(e) => s(e),
    })
}

fn f_sha1(a: &[Value]) -> R {
    Ok(s(hex::encode(sha1::Sha1::digest(arg_bytes(a, 0)))))
}

fn f_sha256(a: &[Value]) -> R {
    Ok(s(hex::encode(sha2::Sha256::digest(arg_bytes(a, 0)))))
}

fn f_sha512(a: &[Value]) -> R {
    Ok(s(hex::encode(sha2::Sha512::digest(arg_bytes(a, 0)))))
}

fn f_adler32(a: &[Value]) -> R {
    let (mut x, mut y) = (1u32, 0u32);
    for &b in arg_bytes(a, 0) {
        x = (x + b as u32) % 65521;
        y = (y + x) % 65521;
    }
    Ok(s(((y << 16) | x).to_string()))
}

pub fn uuidv4() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn f_uuidv4(_: &[Value]) -> R {
    Ok(s(uuidv4()))
}

// ---- JSON

fn f_to_json(a: &[Value]) -> R {
    Ok(s(json::encode(&a[0], true).unwrap_or_default()))
}

fn f_must_to_json(a: &[Value]) -> R {
    json::encode(&a[0], true)
        .map(s)
        .map_err(|e| GoError::msg(e.0))
}

fn f_to_pretty_json(a: &[Value]) -> R {
    Ok(s(json::encode_indent(&a[0], "  ").unwrap_or_default()))
}

fn f_must_to_pretty_json(a: &[Value]) -> R {
    json::encode_indent(&a[0], "  ")
        .map(s)
        .map_err(|e| GoError::msg(e.0))
}

fn f_to_raw_json(a: &[Value]) -> R {
    json::encode(&a[0], false)
        .map(s)
        .map_err(|e| GoError::msg(e.0))
}

/// Helm's `fromJson`: a map, or `{"Error": message}`.
fn f_from_json(a: &[Value]) -> R {
    let mut e = Entries::new();
    match json::decode(arg_str(a, 0)) {
        Ok(Value::Map(m)) => return Ok(Value::Map(m)),
        Ok(Value::Nil) => return Ok(Value::empty_map()),
        Ok(other) => {
            e.insert(
                Rc::from("Error"),
                s(format!(
                    "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&other)
                )),
            );
        }
        Err(er) => {
            e.insert(Rc::from("Error"), s(er.0));
        }
    }
    Ok(Value::map(e))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "array",
        Value::Map(_) => "object",
        Value::Str(_) => "string",
        Value::Float(_) | Value::Int(..) => "number",
        Value::Bool(_) => "bool",
        _ => "null",
    }
}

fn f_from_json_array(a: &[Value]) -> R {
    match json::decode(arg_str(a, 0)) {
        Ok(Value::List(l)) => Ok(Value::List(l)),
        Ok(Value::Nil) => Ok(Value::list(vec![])),
        Ok(other) => Ok(Value::list(vec![s(format!(
            "json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))])),
        Err(e) => Ok(Value::list(vec![s(e.0)])),
    }
}

fn f_must_from_json(a: &[Value]) -> R {
    json::decode(arg_str(a, 0)).map_err(|e| GoError::msg(e.0))
}

// ---- URLs

fn percent_decode(st: &str) -> String {
    let b = st.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (
                (b[i + 1] as char).to_digit(16),
                (b[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn should_escape(c: u8, mode: u8) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            b'p' => c == b'?',
            b'u' => c == b'@' || c == b'/' || c == b'?' || c == b':',
            b'f' => false,
            _ => true,
        },
        b'!' | b'(' | b')' | b'*' if mode == b'f' || mode == b'p' => false,
        _ => true,
    }
}

fn escape(st: &str, mode: u8) -> String {
    let mut out = String::new();
    for &c in st.as_bytes() {
        if should_escape(c, mode) {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(c as char);
        }
    }
    out
}

struct Url {
    scheme: String,
    opaque: String,
    user: Option<String>,
    host: String,
    path: String,
    raw_query: String,
    fragment: String,
}

fn parse_url(raw: &str) -> Result<Url, String> {
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, percent_decode(f)),
        None => (raw, String::new()),
    };
    let mut u = Url {
        scheme: String::new(),
        opaque: String::new(),
        user: None,
        host: String::new(),
        path: String::new(),
        raw_query: String::new(),
        fragment,
    };
    let mut rest = rest.to_string();
    if let Some(i) = rest.find(':') {
        let cand = &rest[..i];
        let valid = !cand.is_empty()
            && cand.as_bytes()[0].is_ascii_alphabetic()
            && cand
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
        if valid {
            u.scheme = cand.to_ascii_lowercase();
            rest = rest[i + 1..].to_string();
        } else if i == 0 {
            return Err(format!(
                "parse {}: missing protocol scheme",
                crate::gofmt::quote(raw)
            ));
        }
    }
    if let Some((r, q)) = rest.clone().split_once('?') {
        rest = r.to_string();
        u.raw_query = q.to_string();
    }
    if !rest.starts_with('/') && !u.scheme.is_empty() {
        u.opaque = rest;
        return Ok(u);
    }
    if let Some(after) = rest.strip_prefix("//") {
        let (authority, path) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        let host = match authority.rfind('@') {
            Some(i) => {
                u.user = Some(authority[..i].to_string());
                &authority[i + 1..]
            }
            None => authority,
        };
        u.host = percent_decode(host);
        u.path = percent_decode(path);
    } else {
        u.path = percent_decode(&rest);
    }
    Ok(u)
}

fn hostname(host: &str) -> String {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_string();
    }
    match host.rfind(':') {
        Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) => host[..i].to_string(),
        _ => host.to_string(),
    }
}

fn userinfo_string(ui: &str) -> String {
    let (user, pass) = match ui.split_once(':') {
        Some((u, p)) => (percent_decode(u), Some(percent_decode(p))),
        None => (percent_decode(ui), None),
    };
    let mut out = escape(&user, b'u');
    if let Some(p) = pass {
        out.push(':');
        out.push_str(&escape(&p, b'u'));
    }
    out
}

fn f_url_parse(a: &[Value]) -> R {
    let raw = arg_str(a, 0);
    let u = match parse_url(raw) {
        Ok(u) => u,
        Err(e) => return err(format!("unable to parse url: {e}")),
    };
    let mut e = Entries::new();
    let mut put = |k: &str, v: String| {
        e.insert(Rc::from(k), Value::string(v));
    };
    put("scheme", u.scheme.clone());
    put("host", u.host.clone());
    put("hostname", hostname(&u.host));
    put("path", u.path.clone());
    put("query", u.raw_query.clone());
    put("opaque", u.opaque.clone());
    put("fragment", u.fragment.clone());
    put(
        "userinfo",
        u.user.as_deref().map(userinfo_string).unwrap_or_default(),
    );
    Ok(Value::map(e))
}

fn f_url_join(a: &[Value]) -> R {
    let d = a[0].as_table();
    let get = |k: &str| -> String {
        d.and_then(|m| m.get(k))
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    };
    let (scheme, host, path, query, opaque, fragment, userinfo) = (
        get("scheme"),
        get("host"),
        get("path"),
        get("query"),
        get("opaque"),
        get("fragment"),
        get("userinfo"),
    );
    let mut out = String::new();
    if !scheme.is_empty() {
        out.push_str(&scheme);
        out.push(':');
    }
    if !opaque.is_empty() {
        out.push_str(&opaque);
    } else {
        if !scheme.is_empty() || !host.is_empty() || !userinfo.is_empty() {
            if !host.is_empty() || !path.is_empty() || !userinfo.is_empty() {
                out.push_str("//");
            }
            if !userinfo.is_empty() {
                out.push_str(&userinfo_string(&userinfo));
                out.push('@');
            }
            out.push_str(&host);
        }
        if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
            out.push('/');
        }
        out.push_str(&escape(&path, b'p'));
    }
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query);
    }
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(&escape(&fragment, b'f'));
    }
    Ok(s(out))
}

fn f_get_host_by_name(_: &[Value]) -> R {
    // Helm disables DNS lookups in templates unless explicitly enabled.
    Ok(s(""))
}

pub(super) fn register(r: &mut Reg<'_>) {
    const S: &[Param] = &[Str];
    const A: &[Param] = &[Any];
    r.bytes("b64enc", S, f_b64enc);
    r.bytes("b64dec", S, f_b64dec);
    r.bytes("b32enc", S, f_b32enc);
    r.bytes("b32dec", S, f_b32dec);
    r.bytes("sha1sum", S, f_sha1);
    r.bytes("sha256sum", S, f_sha256);
    r.bytes("sha512sum", S, f_sha512);
    r.bytes("adler32sum", S, f_adler32);
    r.f("uuidv4", &[], f_uuidv4);
    r.f("toJson", A, f_to_json);
    r.f("mustToJson", A, f_must_to_json);
    r.f("toPrettyJson", A, f_to_pretty_json);
    r.f("mustToPrettyJson", A, f_must_to_pretty_json);
    r.f("toRawJson", A, f_to_raw_json);
    r.f("mustToRawJson", A, f_to_raw_json);
    r.f("fromJson", S, f_from_json);
    r.f("fromJsonArray", S, f_from_json_array);
    r.f("mustFromJson", S, f_must_from_json);
    r.f("urlParse", S, f_url_parse);
    r.f("urlJoin", &[Map], f_url_join);
    r.f("getHostByName", S, f_get_host_by_name);
}
