//! The string formats custom resource schemas are checked against. apiextensions keeps only
//! these (`supportedFormats`; other formats such as `int32` are stripped and not checked) and
//! validates them with go-openapi's strfmt registry; the checks below follow strfmt's rules.

use std::{net::IpAddr, sync::OnceLock};

use regex::Regex;

/// Whether a schema `format` is checked (after go-openapi's name normalisation, which drops
/// dashes: `date-time` is `datetime`).
pub fn is_supported(format: &str) -> bool {
    matches!(
        &*normalize(format),
        "bsonobjectid"
            | "uri"
            | "email"
            | "hostname"
            | "ipv4"
            | "ipv6"
            | "cidr"
            | "mac"
            | "uuid"
            | "uuid3"
            | "uuid4"
            | "uuid5"
            | "isbn"
            | "isbn10"
            | "isbn13"
            | "creditcard"
            | "ssn"
            | "hexcolor"
            | "rgbcolor"
            | "byte"
            | "password"
            | "date"
            | "duration"
            | "datetime"
    )
}

fn normalize(format: &str) -> std::borrow::Cow<'_, str> {
    if format.contains('-') {
        std::borrow::Cow::Owned(format.replace('-', ""))
    } else {
        std::borrow::Cow::Borrowed(format)
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("built-in format patterns are valid"))
}

/// Whether `value` has the (supported) `format`.
pub fn check(format: &str, value: &str) -> bool {
    static UUID: OnceLock<Regex> = OnceLock::new();
    static UUID3: OnceLock<Regex> = OnceLock::new();
    static UUID4: OnceLock<Regex> = OnceLock::new();
    static UUID5: OnceLock<Regex> = OnceLock::new();
    static HOSTNAME: OnceLock<Regex> = OnceLock::new();
    static SSN: OnceLock<Regex> = OnceLock::new();
    static HEXCOLOR: OnceLock<Regex> = OnceLock::new();
    static RGBCOLOR: OnceLock<Regex> = OnceLock::new();
    static EMAIL: OnceLock<Regex> = OnceLock::new();
    match &*normalize(format) {
        "bsonobjectid" => value.len() == 24 && value.bytes().all(|b| b.is_ascii_hexdigit()),
        "uri" => is_request_uri(value),
        "email" => re(&EMAIL, r"^(?:[^<>@\s]+@[^<>@\s]+|[^<>]*<[^<>@\s]+@[^<>@\s]+>)$").is_match(value),
        "hostname" => {
            value.len() <= 255
                && re(
                    &HOSTNAME,
                    r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$",
                )
                .is_match(value)
        }
        "ipv4" => value.contains('.') && parse_ip(value).is_some(),
        "ipv6" => value.contains(':') && parse_ip(value).is_some(),
        "cidr" => is_cidr(value),
        "mac" => is_mac(value),
        "uuid" => re(&UUID, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$").is_match(value),
        "uuid3" => re(&UUID3, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$").is_match(value),
        "uuid4" => re(&UUID4, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$").is_match(value),
        "uuid5" => re(&UUID5, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$").is_match(value),
        "isbn" => is_isbn10(value) || is_isbn13(value),
        "isbn10" => is_isbn10(value),
        "isbn13" => is_isbn13(value),
        "creditcard" => is_credit_card(value),
        "ssn" => re(&SSN, r"^\d{3}[- ]?\d{2}[- ]?\d{4}$").is_match(value),
        "hexcolor" => re(&HEXCOLOR, r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$").is_match(value),
        "rgbcolor" => re(
            &RGBCOLOR,
            r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$",
        )
        .is_match(value),
        "byte" => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(value).is_ok()
        }
        "password" => true,
        "date" => is_date(value),
        "duration" => is_duration(value),
        "datetime" => is_date_time(value),
        _ => true,
    }
}

/// Go's `net.ParseIP`: dotted IPv4 without leading zeros, or IPv6 (also IPv4-mapped).
fn parse_ip(s: &str) -> Option<IpAddr> {
    if s.contains('%') {
        return None;
    }
    s.parse::<IpAddr>().ok()
}

fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Some(addr) = parse_ip(ip) else {
        return false;
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    !bits.is_empty()
        && bits.len() <= 3
        && bits.bytes().all(|b| b.is_ascii_digit())
        && !(bits.len() > 1 && bits.starts_with('0'))
        && bits.parse::<u32>().is_ok_and(|b| b <= max)
}

/// `net.ParseMAC`: 6, 8 or 20 octets as `xx:xx:..`, `xx-xx-..` or `xxxx.xxxx.xxxx`.
fn is_mac(s: &str) -> bool {
    let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit());
    for sep in [':', '-'] {
        let parts: Vec<&str> = s.split(sep).collect();
        if matches!(parts.len(), 6 | 8 | 20) && parts.iter().all(|p| hex(p, 2)) {
            return true;
        }
    }
    let parts: Vec<&str> = s.split('.').collect();
    matches!(parts.len(), 3 | 4 | 10) && parts.iter().all(|p| hex(p, 4))
}

/// `url.ParseRequestURI`: an absolute URI or an absolute path, no fragment.
fn is_request_uri(s: &str) -> bool {
    if s.is_empty() || s.chars().any(|c| c.is_control() || c == ' ') {
        return false;
    }
    if s.starts_with('/') {
        return true;
    }
    let Some((scheme, _rest)) = s.split_once(':') else {
        return false;
    };
    let b = scheme.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

fn digits_only(s: &str) -> String {
    s.chars().filter(|c| *c != '-' && *c != ' ').collect()
}

fn is_isbn10(s: &str) -> bool {
    let s = digits_only(s);
    let b = s.as_bytes();
    if b.len() != 10
        || !b[..9].iter().all(u8::is_ascii_digit)
        || !(b[9].is_ascii_digit() || b[9] == b'X')
    {
        return false;
    }
    let mut sum = 0u32;
    for (i, c) in b.iter().enumerate() {
        let d = if *c == b'X' { 10 } else { u32::from(c - b'0') };
        sum += (i as u32 + 1) * d;
    }
    sum.is_multiple_of(11)
}

fn is_isbn13(s: &str) -> bool {
    let s = digits_only(s);
    let b = s.as_bytes();
    if b.len() != 13 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, c) in b[..12].iter().enumerate() {
        let w = if i % 2 == 0 { 1 } else { 3 };
        sum += w * u32::from(c - b'0');
    }
    (10 - sum % 10) % 10 == u32::from(b[12] - b'0')
}

/// govalidator's `IsCreditCard`: the known issuer patterns on the digits, then Luhn.
fn is_credit_card(s: &str) -> bool {
    static CARD: OnceLock<Regex> = OnceLock::new();
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if !re(
        &CARD,
        r"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11}|6[27][0-9]{14})$",
    )
    .is_match(&digits)
    {
        return false;
    }
    let mut sum = 0;
    let mut double = false;
    for c in digits.bytes().rev() {
        let mut d = u32::from(c - b'0');
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
    }
    sum % 10 == 0
}

/// `2006-01-02`.
fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

/// strfmt's date-time: RFC 3339 with optional fractional seconds, also without the colon in
/// the offset and with a space instead of `T` is not accepted.
fn is_date_time(s: &str) -> bool {
    if chrono::DateTime::parse_from_rfc3339(s).is_ok() {
        return true;
    }
    ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"]
        .iter()
        .any(|f| chrono::DateTime::parse_from_str(s, f).is_ok())
}

/// strfmt's duration: Go's `time.ParseDuration`, or a number and a unit in words
/// (`3 days`, `1 week`, `20 ms`).
fn is_duration(s: &str) -> bool {
    static WORDS: OnceLock<Regex> = OnceLock::new();
    if is_go_duration(s) {
        return true;
    }
    re(
        &WORDS,
        r"^(\d+)\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|sec|minutes?|min|hours?|hr|days?|weeks?|wk)$",
    )
    .is_match(s.trim())
}

/// Go's `time.ParseDuration` syntax: `[-+]?(\d*\.?\d+(ns|us|µs|μs|ms|s|m|h))+` or `0`.
pub fn is_go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    if s.is_empty() {
        return false;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[num_len..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .iter()
            .filter(|u| rest.starts_with(**u))
            .max_by_key(|u| u.len());
        let Some(unit) = unit else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(check("date-time", "2024-01-02T03:04:05Z"));
        assert!(check("date-time", "2024-01-02T03:04:05.123+01:00"));
        assert!(!check("date-time", "yesterday"));
        assert!(check("duration", "1h30m"));
        assert!(check("duration", "3 days"));
        assert!(!check("duration", "soon"));
        assert!(check("ipv4", "10.0.0.1") && !check("ipv4", "::1") && !check("ipv4", "10.0.0.256"));
        assert!(check("ipv6", "::1"));
        assert!(check("cidr", "10.0.0.0/8") && !check("cidr", "10.0.0.0/33"));
        assert!(check("uri", "https://example.com/x") && !check("uri", "example.com"));
        assert!(check("uuid", "123e4567-e89b-12d3-a456-426614174000"));
        assert!(check("byte", "aGVsbG8=") && !check("byte", "not base64!"));
        assert!(check("hostname", "example.com") && !check("hostname", "-bad-.com"));
        assert!(check("mac", "01:23:45:67:89:ab"));
        assert!(check("date", "2024-02-29") && !check("date", "2023-02-29"));
        assert!(check("isbn10", "0321751043") && check("isbn13", "978-0321751041"));
        assert!(check("creditcard", "4111 1111 1111 1111"));
        assert!(is_supported("date-time") && !is_supported("int32"));
    }
}
