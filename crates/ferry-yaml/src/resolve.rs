//! Plain-scalar resolution: what an unquoted scalar means.
//!
//! Two rule sets matter for kustomize:
//! - [`Schema::Kyaml`]: go-yaml v3 as kyaml decodes resources. Only `true`/`false` (three
//!   spellings each) are booleans, `yes`/`on`/`y` stay strings, `0644` is still octal (v3 keeps
//!   YAML 1.1 octals "for compatibility"), `0o644` too.
//! - [`Schema::Yaml11`]: go-yaml v2 as sigs.k8s.io/yaml reads a kustomization file and as the
//!   output encoder decides what needs quoting: `yes`/`no`/`on`/`off`/`y`/`n` are booleans.
//!
//! Both treat timestamp-looking scalars (`2006-01-02`) as timestamps, which decode to the same
//! string when the target is untyped, but force quoting on output.

/// Which YAML rule set resolves plain scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schema {
    /// go-yaml v3 as used by kyaml (resources, patches).
    #[default]
    Kyaml,
    /// go-yaml v2 / YAML 1.1 as used by sigs.k8s.io/yaml (kustomization files).
    Yaml11,
}

/// The meaning of a plain scalar.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// A timestamp; decoded into an untyped value it stays the original string.
    Timestamp,
    /// The `<<` merge key.
    Merge,
    Str,
}

/// Resolve a plain scalar the way go-yaml does for an untagged node.
pub fn resolve_plain(s: &str, schema: Schema) -> Resolved {
    let Some(&first) = s.as_bytes().first() else {
        return Resolved::Null;
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            lookup_word(s, schema).unwrap_or(Resolved::Str)
        }
        b'.' => match lookup_word(s, schema) {
            Some(r) => r,
            None => match go_parse_float(s) {
                Some(f) => Resolved::Float(f),
                None => Resolved::Str,
            },
        },
        b'+' | b'-' | b'0'..=b'9' => {
            if let Some(r) = lookup_word(s, schema) {
                return r;
            }
            resolve_number(s, schema)
        }
        // go-yaml's resolve table has no hint for '<', so "<<" only means merge when the
        // parser saw it as a key; as a value it is a plain string.
        _ => Resolved::Str,
    }
}

fn lookup_word(s: &str, schema: Schema) -> Option<Resolved> {
    let r = match s {
        "true" | "True" | "TRUE" => Resolved::Bool(true),
        "false" | "False" | "FALSE" => Resolved::Bool(false),
        "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        _ if schema == Schema::Yaml11 => match s {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Resolved::Bool(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Resolved::Bool(false),
            _ => return None,
        },
        _ => return None,
    };
    Some(r)
}

fn resolve_number(s: &str, schema: Schema) -> Resolved {
    if is_timestamp(s) {
        return Resolved::Timestamp;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = go_parse_int(&plain) {
        return Resolved::Int(i);
    }
    if let Some(u) = go_parse_uint(&plain) {
        return Resolved::Uint(u);
    }
    if is_yaml_style_float(&plain)
        && let Some(f) = go_parse_float(&plain)
    {
        return Resolved::Float(f);
    }
    let (neg, digits) = match plain.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, plain.as_str()),
    };
    if let Some(bin) = digits.strip_prefix("0b") {
        if let Some(r) = radix_int(bin, 2, neg) {
            return r;
        }
    } else if schema == Schema::Kyaml
        && let Some(oct) = digits.strip_prefix("0o")
        && let Some(r) = radix_int(oct, 8, neg)
    {
        return r;
    }
    Resolved::Str
}

fn radix_int(digits: &str, radix: u32, neg: bool) -> Option<Resolved> {
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let u = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        let i = i64::try_from(u).ok()?;
        Some(Resolved::Int(-i))
    } else if let Ok(i) = i64::try_from(u) {
        Some(Resolved::Int(i))
    } else {
        Some(Resolved::Uint(u))
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: prefixes 0x/0o/0b, a bare leading 0 means octal.
fn go_parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let (radix, digits) = if b[0] == b'0' && b.len() > 1 {
        match b[1] {
            b'x' | b'X' => (16, &s[2..]),
            b'o' | b'O' => (8, &s[2..]),
            b'b' | b'B' => (2, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    if digits.is_empty() || !digits.bytes().all(|c| (c as char).is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(rest)?;
    if neg {
        if u == 1u64 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(u).ok().map(|i| -i)
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
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
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms YAML produces (no hex floats, no
/// "Inf"/"NaN" words, which YAML spells differently and resolves through its word table).
fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty()
        || !body
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
        || !body.bytes().any(|c| c.is_ascii_digit())
    {
        return None;
    }
    // Go accepts underscores only with a base prefix; plain decimals with '_' are invalid.
    if body.contains('_') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// go-yaml's `parseTimestamp`: `YYYY-` then one of the accepted layouts.
pub fn is_timestamp(s: &str) -> bool {
    parse_timestamp(s).is_some()
}

/// A timestamp as Go's `time.Time` marshals it to JSON (RFC 3339 with nanoseconds, trailing
/// zeros of the fraction dropped, `Z` for UTC). kyaml decodes plain timestamps into `time.Time`,
/// so this is the string they become in kustomize's output.
pub fn timestamp_rfc3339(s: &str) -> Option<String> {
    let t = parse_timestamp(s)?;
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    );
    let frac: &str = t.fraction.get(..9).unwrap_or(&t.fraction);
    let frac = frac.trim_end_matches('0');
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    match t.offset_minutes {
        None | Some(0) => out.push('Z'),
        Some(m) => {
            let sign = if m < 0 { '-' } else { '+' };
            let m = m.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
        }
    }
    Some(out)
}

struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    fraction: String,
    offset_minutes: Option<i32>,
}

fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let year_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if year_digits != 4 || b.len() == 4 || b[4] != b'-' {
        return None;
    }
    let year: u32 = s[..4].parse().ok()?;
    let mut p = TsParser { b, i: 5 };
    let month = p.num(1, 2)?;
    if !p.lit(b'-') {
        return None;
    }
    let day = p.num(1, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut t = Timestamp {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        fraction: String::new(),
        offset_minutes: None,
    };
    if p.done() {
        return Some(t);
    }
    // "2006-1-2T15:4:5.999999999Z07:00", "2006-1-2t15:4:5.999999999Z07:00",
    // "2006-1-2 15:4:5.999999999"
    let sep = p.b[p.i];
    p.i += 1;
    let zone_required = match sep {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    t.hour = p.num(1, 2)?;
    if !p.lit(b':') {
        return None;
    }
    t.minute = p.num(1, 2)?;
    if !p.lit(b':') {
        return None;
    }
    t.second = p.num(1, 2)?;
    if t.hour > 23 || t.minute > 59 || t.second > 59 {
        return None;
    }
    if p.i < p.b.len() && (p.b[p.i] == b'.' || p.b[p.i] == b',') {
        p.i += 1;
        let start = p.i;
        while p.i < p.b.len() && p.b[p.i].is_ascii_digit() {
            p.i += 1;
        }
        if p.i == start {
            return None;
        }
        t.fraction = s[start..p.i].to_string();
    }
    if !zone_required {
        return p.done().then_some(t);
    }
    if p.lit(b'Z') {
        return p.done().then_some(t);
    }
    if p.i < p.b.len() && (p.b[p.i] == b'+' || p.b[p.i] == b'-') {
        let neg = p.b[p.i] == b'-';
        p.i += 1;
        let zh = p.num(2, 2)?;
        if !p.lit(b':') {
            return None;
        }
        let zm = p.num(2, 2)?;
        if zh > 24 || zm > 59 || !p.done() {
            return None;
        }
        let m = i32::try_from(zh * 60 + zm).ok()?;
        t.offset_minutes = Some(if neg { -m } else { m });
        return Some(t);
    }
    None
}

struct TsParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl TsParser<'_> {
    fn num(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
    fn lit(&mut self, c: u8) -> bool {
        if self.i < self.b.len() && self.b[self.i] == c {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// go-yaml v2's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
/// Such strings are not numbers any more, but the encoder still quotes them.
pub fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
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
        // [0-5]?[0-9]: one digit, or two digits with the first in 0..=5.
        let d1 = b.get(i + 1).copied();
        let d2 = b.get(i + 2).copied();
        match (d1, d2) {
            (Some(a), Some(c)) if (b'0'..=b'5').contains(&a) && c.is_ascii_digit() => {
                // Prefer the two-digit form, but fall back to one digit if the rest fails.
                if base60_tail(&b[i + 3..]) {
                    return true;
                }
                if base60_tail(&b[i + 2..]) {
                    return true;
                }
                return false;
            }
            (Some(a), _) if a.is_ascii_digit() => {
                i += 2;
                groups += 1;
            }
            _ => return false,
        }
    }
    groups > 0 && fraction_tail(&b[i..])
}

fn base60_tail(rest: &[u8]) -> bool {
    if rest.is_empty() {
        return true;
    }
    if rest[0] == b':' {
        let mut s = vec![b'0'];
        s.extend_from_slice(rest);
        // Reuse the main matcher on "0:..." which has the same grammar from here on.
        return std::str::from_utf8(&s).is_ok_and(is_base60_float);
    }
    fraction_tail(rest)
}

fn fraction_tail(rest: &[u8]) -> bool {
    if rest.is_empty() {
        return true;
    }
    rest[0] == b'.' && rest[1..].iter().all(|c| c.is_ascii_digit() || *c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kyaml_words() {
        assert_eq!(resolve_plain("yes", Schema::Kyaml), Resolved::Str);
        assert_eq!(resolve_plain("on", Schema::Kyaml), Resolved::Str);
        assert_eq!(resolve_plain("yes", Schema::Yaml11), Resolved::Bool(true));
        assert_eq!(resolve_plain("Off", Schema::Yaml11), Resolved::Bool(false));
        assert_eq!(resolve_plain("True", Schema::Kyaml), Resolved::Bool(true));
        assert_eq!(resolve_plain("", Schema::Kyaml), Resolved::Null);
        assert_eq!(resolve_plain("~", Schema::Kyaml), Resolved::Null);
        assert_eq!(resolve_plain("<<", Schema::Kyaml), Resolved::Str);
    }

    #[test]
    fn numbers() {
        assert_eq!(resolve_plain("0644", Schema::Kyaml), Resolved::Int(420));
        assert_eq!(resolve_plain("0o644", Schema::Kyaml), Resolved::Int(420));
        assert_eq!(resolve_plain("0o644", Schema::Yaml11), Resolved::Int(420));
        assert_eq!(resolve_plain("0x1F", Schema::Kyaml), Resolved::Int(31));
        assert_eq!(resolve_plain("1_000", Schema::Kyaml), Resolved::Int(1000));
        assert_eq!(resolve_plain("08", Schema::Kyaml), Resolved::Float(8.0));
        assert_eq!(resolve_plain("-12", Schema::Kyaml), Resolved::Int(-12));
        assert_eq!(resolve_plain("+12", Schema::Kyaml), Resolved::Int(12));
        assert_eq!(resolve_plain("1.5", Schema::Kyaml), Resolved::Float(1.5));
        assert_eq!(resolve_plain(".5", Schema::Kyaml), Resolved::Float(0.5));
        assert_eq!(resolve_plain("1e3", Schema::Kyaml), Resolved::Float(1000.0));
        assert_eq!(resolve_plain("0b101", Schema::Kyaml), Resolved::Int(5));
        assert_eq!(
            resolve_plain("18446744073709551615", Schema::Kyaml),
            Resolved::Uint(u64::MAX)
        );
        assert_eq!(resolve_plain("1.2.3", Schema::Kyaml), Resolved::Str);
        assert_eq!(resolve_plain("-", Schema::Kyaml), Resolved::Str);
        assert_eq!(resolve_plain("1e", Schema::Kyaml), Resolved::Str);
        assert_eq!(resolve_plain("v1", Schema::Kyaml), Resolved::Str);
    }

    #[test]
    fn timestamps() {
        assert!(is_timestamp("2001-12-14"));
        assert!(is_timestamp("2001-1-4"));
        assert!(is_timestamp("2001-12-14T21:59:43.10Z"));
        assert!(is_timestamp("2001-12-14t21:59:43+05:00"));
        assert!(is_timestamp("2001-12-14 21:59:43.10"));
        assert!(!is_timestamp("2001-02-30"));
        assert!(!is_timestamp("2001-12-14 21:59:43Z"));
        assert!(!is_timestamp("12001-12-14"));
        assert_eq!(
            resolve_plain("2001-12-14", Schema::Kyaml),
            Resolved::Timestamp
        );
        assert_eq!(
            timestamp_rfc3339("2001-12-14").as_deref(),
            Some("2001-12-14T00:00:00Z")
        );
        assert_eq!(
            timestamp_rfc3339("2001-12-14t21:59:43.10+05:00").as_deref(),
            Some("2001-12-14T21:59:43.1+05:00")
        );
        assert_eq!(
            timestamp_rfc3339("2001-12-14 21:59:43.10").as_deref(),
            Some("2001-12-14T21:59:43.1Z")
        );
    }

    #[test]
    fn base60() {
        assert!(is_base60_float("1:20"));
        assert!(is_base60_float("190:20:30.15"));
        assert!(is_base60_float("12:30"));
        assert!(!is_base60_float("8080:80"));
        assert!(!is_base60_float("1:2a"));
        assert!(!is_base60_float("abc"));
    }
}
