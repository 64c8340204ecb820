//! Masterminds/semver v3 as Sprig and Helm use it: lenient version parsing (`v` prefix,
//! missing minor/patch), and constraints with `||`, `,`, hyphen ranges, `x` wildcards, `~`,
//! `^`, and the rule that prerelease versions only satisfy constraints that mention one.

use std::cmp::Ordering;
use std::rc::Rc;

use super::{Reg, arg_str};
use crate::object::{Object, Param, Sig};
use crate::template::GoError;
use crate::value::{IntKind, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub metadata: String,
    pub original: String,
}

pub const ERR_INVALID: &str = "invalid semantic version";

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn valid_dotted(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(is_ident_char))
}

impl Version {
    /// `semver.NewVersion`.
    pub fn parse(v: &str) -> Result<Version, String> {
        let body = v.strip_prefix('v').unwrap_or(v);
        let (rest, metadata) = match body.split_once('+') {
            Some((r, m)) => (r, m.to_string()),
            None => (body, String::new()),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, p.to_string()),
            None => (rest, String::new()),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty()
            || parts.len() > 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ERR_INVALID.into());
        }
        if (rest.contains('-') && !valid_dotted(&pre))
            || (body.contains('+') && !valid_dotted(&metadata))
        {
            return Err(ERR_INVALID.into());
        }
        let num = |s: &str| -> Result<u64, String> {
            s.parse::<u64>().map_err(|_| {
                format!("Error parsing version segment: strconv.ParseUint: parsing {}: value out of range", crate::gofmt::quote(s))
            })
        };
        let major = num(parts[0])?;
        let minor = if parts.len() > 1 { num(parts[1])? } else { 0 };
        let patch = if parts.len() > 2 { num(parts[2])? } else { 0 };
        if !pre.is_empty() {
            for seg in pre.split('.') {
                if seg.len() > 1 && seg.bytes().all(|b| b.is_ascii_digit()) && seg.starts_with('0')
                {
                    return Err("Version segment starts with 0".into());
                }
            }
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre,
            metadata,
            original: v.to_string(),
        })
    }

    pub fn canonical(&self) -> String {
        let mut s = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.pre.is_empty() {
            s.push('-');
            s.push_str(&self.pre);
        }
        if !self.metadata.is_empty() {
            s.push('+');
            s.push_str(&self.metadata);
        }
        s
    }

    pub fn compare(&self, o: &Version) -> Ordering {
        self.major
            .cmp(&o.major)
            .then(self.minor.cmp(&o.minor))
            .then(self.patch.cmp(&o.patch))
            .then_with(|| compare_pre(&self.pre, &o.pre))
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let pa: Vec<&str> = a.split('.').collect();
    let pb: Vec<&str> = b.split('.').collect();
    for i in 0..pa.len().max(pb.len()) {
        let (x, y) = match (pa.get(i), pb.get(i)) {
            (Some(x), Some(y)) => (*x, *y),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (None, None) => break,
        };
        let xn = x
            .parse::<u64>()
            .ok()
            .filter(|_| x.bytes().all(|b| b.is_ascii_digit()));
        let yn = y
            .parse::<u64>()
            .ok()
            .filter(|_| y.bytes().all(|b| b.is_ascii_digit()));
        let o = match (xn, yn) {
            (Some(p), Some(q)) => p.cmp(&q),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[derive(Clone, Debug)]
struct Constraint {
    op: String,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

/// Parsed constraints: ORs of ANDs.
#[derive(Clone, Debug)]
pub struct Constraints {
    ors: Vec<Vec<Constraint>>,
}

const OPS: [&str; 11] = ["!=", ">=", "=>", "<=", "=<", "~>", "=", ">", "<", "~", "^"];

fn is_x(s: &str) -> bool {
    s == "x" || s == "X" || s == "*"
}

fn cv_part_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == 'x' || c == 'X' || c == '*' || c == '|')
}

/// Splits a constraint version like the `cvRegex`: major, ".minor", ".patch", "-pre+meta".
fn split_cv(v: &str) -> Option<(String, String, String, String)> {
    let body = v.strip_prefix('v').unwrap_or(v);
    let (core, tail) = match body.find(['-', '+']) {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    if !tail.is_empty() {
        let (pre, meta) = match tail.strip_prefix('-') {
            Some(t) => match t.split_once('+') {
                Some((p, m)) => (p, Some(m)),
                None => (t, None),
            },
            None => ("", tail.strip_prefix('+')),
        };
        if tail.starts_with('-') && !valid_dotted(pre) {
            return None;
        }
        if let Some(m) = meta
            && !valid_dotted(m)
        {
            return None;
        }
    }
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 || parts.iter().any(|p| !cv_part_ok(p)) {
        return None;
    }
    Some((
        parts[0].to_string(),
        parts.get(1).map(|p| format!(".{p}")).unwrap_or_default(),
        parts.get(2).map(|p| format!(".{p}")).unwrap_or_default(),
        tail.to_string(),
    ))
}

fn parse_constraint(op: &str, ver: &str) -> Option<Constraint> {
    let (major, minor, patch, tail) = split_cv(ver)?;
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let v = if is_x(&major) {
        dirty = true;
        format!("0.0.0{tail}")
    } else if minor.is_empty() || is_x(&minor[1..]) {
        dirty = true;
        minor_dirty = true;
        format!("{major}.0.0{tail}")
    } else if patch.is_empty() || is_x(&patch[1..]) {
        dirty = true;
        patch_dirty = true;
        format!("{major}{minor}.0{tail}")
    } else {
        ver.to_string()
    };
    let con = Version::parse(&v).ok()?;
    Some(Constraint {
        op: op.to_string(),
        con,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

/// Rewrites hyphen ranges `1.2 - 1.4` into `>= 1.2, <= 1.4`.
fn rewrite_ranges(c: &str) -> String {
    let tokens: Vec<&str> = c.split_whitespace().collect();
    let mut out: Vec<String> = vec![];
    let mut i = 0;
    while i < tokens.len() {
        if i + 2 < tokens.len()
            && tokens[i + 1] == "-"
            && split_cv(tokens[i]).is_some()
            && split_cv(tokens[i + 2]).is_some()
        {
            out.push(format!(">= {}, <= {}", tokens[i], tokens[i + 2]));
            i += 3;
        } else {
            out.push(tokens[i].to_string());
            i += 1;
        }
    }
    out.join(" ")
}

impl Constraints {
    /// `semver.NewConstraint`.
    pub fn parse(c: &str) -> Result<Constraints, String> {
        let rewritten = rewrite_ranges(c);
        let mut ors = vec![];
        for seg in rewritten.split("||") {
            let improper = || format!("improper constraint: {}", crate::gofmt::quote(seg));
            let mut ands = vec![];
            let mut rest = seg.trim_start();
            if rest.trim().is_empty() {
                return Err(improper());
            }
            while !rest.trim().is_empty() {
                rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
                let op = OPS
                    .iter()
                    .find(|o| rest.starts_with(**o))
                    .copied()
                    .unwrap_or("");
                rest = rest[op.len()..].trim_start();
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == ',')
                    .unwrap_or(rest.len());
                let ver = &rest[..end];
                rest = &rest[end..];
                let c = parse_constraint(op, ver).ok_or_else(improper)?;
                ands.push(c);
                rest = rest.trim_start();
                if let Some(r) = rest.strip_prefix(',') {
                    rest = r.trim_start();
                    if rest.is_empty() {
                        return Err(improper());
                    }
                }
            }
            ors.push(ands);
        }
        Ok(Constraints { ors })
    }

    pub fn check(&self, v: &Version) -> bool {
        self.ors.iter().any(|ands| ands.iter().all(|c| c.check(v)))
    }
}

impl Constraint {
    fn pre_blocked(&self, v: &Version) -> bool {
        !v.pre.is_empty() && self.con.pre.is_empty()
    }

    fn check(&self, v: &Version) -> bool {
        let c = self;
        match c.op.as_str() {
            "" | "=" => {
                if c.pre_blocked(v) {
                    return false;
                }
                if c.dirty {
                    return c.tilde(v);
                }
                v.compare(&c.con) == Ordering::Equal
            }
            "!=" => {
                if c.dirty {
                    if c.pre_blocked(v) {
                        return false;
                    }
                    if c.con.major != v.major {
                        return true;
                    }
                    if c.con.minor != v.minor && !c.minor_dirty {
                        return true;
                    } else if c.minor_dirty {
                        return false;
                    } else if c.con.patch != v.patch && !c.patch_dirty {
                        return true;
                    } else if c.patch_dirty {
                        if !v.pre.is_empty() || !c.con.pre.is_empty() {
                            return compare_pre(&v.pre, &c.con.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                v.compare(&c.con) != Ordering::Equal
            }
            ">" => {
                if c.pre_blocked(v) {
                    return false;
                }
                if !c.dirty {
                    return v.compare(&c.con) == Ordering::Greater;
                }
                if v.major > c.con.major {
                    true
                } else if v.major < c.con.major || c.minor_dirty {
                    false
                } else if c.patch_dirty {
                    v.minor > c.con.minor
                } else {
                    v.compare(&c.con) == Ordering::Greater
                }
            }
            "<" => !c.pre_blocked(v) && v.compare(&c.con) == Ordering::Less,
            ">=" | "=>" => !c.pre_blocked(v) && v.compare(&c.con) != Ordering::Less,
            "<=" | "=<" => {
                if c.pre_blocked(v) {
                    return false;
                }
                if !c.dirty {
                    return v.compare(&c.con) != Ordering::Greater;
                }
                !(v.major > c.con.major
                    || v.major == c.con.major && v.minor > c.con.minor && !c.minor_dirty)
            }
            "~" | "~>" => !c.pre_blocked(v) && c.tilde(v),
            "^" => {
                if c.pre_blocked(v) || v.compare(&c.con) == Ordering::Less {
                    return false;
                }
                if c.con.major > 0 || c.minor_dirty {
                    return v.major == c.con.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.con.minor > 0 || c.patch_dirty {
                    return v.minor == c.con.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                c.con.patch == v.patch
            }
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = self;
        if c.pre_blocked(v) || v.compare(&c.con) == Ordering::Less {
            return false;
        }
        if c.con.major == 0
            && c.con.minor == 0
            && c.con.patch == 0
            && !c.minor_dirty
            && !c.patch_dirty
        {
            return true;
        }
        if v.major != c.con.major {
            return false;
        }
        v.minor == c.con.minor || c.minor_dirty
    }
}

/// Helm's `IsCompatibleRange`.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    match (Constraints::parse(constraint), Version::parse(version)) {
        (Ok(c), Ok(v)) => c.check(&v),
        _ => false,
    }
}

/// `*semver.Version` as a template value.
pub struct SemverObj(pub Version);

impl Object for SemverObj {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn type_name(&self) -> &'static str {
        "*semver.Version"
    }
    fn method(&self, name: &str) -> Option<Sig> {
        const V: &[Param] = &[Param::SemVer];
        Some(match name {
            "Major" | "Minor" | "Patch" | "Prerelease" | "Metadata" | "Original" | "String"
            | "IncMajor" | "IncMinor" | "IncPatch" => Sig::NONE,
            "Compare" | "LessThan" | "GreaterThan" | "Equal" | "LessThanEqual"
            | "GreaterThanEqual" => Sig {
                params: V,
                variadic: None,
            },
            _ => return None,
        })
    }
    fn call(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let v = &self.0;
        let other = || -> Option<Version> {
            match args.first() {
                Some(Value::Object(o)) => {
                    o.as_any().downcast_ref::<SemverObj>().map(|s| s.0.clone())
                }
                _ => None,
            }
        };
        let bump = |maj: u64, min: u64, pat: u64| {
            let mut n = Version {
                major: maj,
                minor: min,
                patch: pat,
                pre: String::new(),
                metadata: String::new(),
                original: String::new(),
            };
            n.original = n.canonical();
            Value::Object(Rc::new(SemverObj(n)))
        };
        Ok(match name {
            "Major" => Value::Int(v.major as i64, IntKind::Uint64),
            "Minor" => Value::Int(v.minor as i64, IntKind::Uint64),
            "Patch" => Value::Int(v.patch as i64, IntKind::Uint64),
            "Prerelease" => Value::str(&v.pre),
            "Metadata" => Value::str(&v.metadata),
            "Original" => Value::str(&v.original),
            "String" => Value::string(v.canonical()),
            "IncMajor" => bump(v.major + 1, 0, 0),
            "IncMinor" => bump(v.major, v.minor + 1, 0),
            "IncPatch" => bump(v.major, v.minor, v.patch + 1),
            _ => {
                let Some(o) = other() else {
                    return Err(
                        "runtime error: invalid memory address or nil pointer dereference".into(),
                    );
                };
                let ord = v.compare(&o);
                match name {
                    "Compare" => Value::int(match ord {
                        Ordering::Less => -1,
                        Ordering::Equal => 0,
                        Ordering::Greater => 1,
                    }),
                    "LessThan" => Value::Bool(ord == Ordering::Less),
                    "GreaterThan" => Value::Bool(ord == Ordering::Greater),
                    "Equal" => Value::Bool(ord == Ordering::Equal),
                    "LessThanEqual" => Value::Bool(ord != Ordering::Greater),
                    _ => Value::Bool(ord != Ordering::Less),
                }
            }
        })
    }
    fn stringer(&self) -> Option<String> {
        Some(self.0.canonical())
    }
    fn json(&self) -> Value {
        Value::string(self.0.canonical())
    }
}

fn f_semver(a: &[Value]) -> Result<Value, GoError> {
    match Version::parse(arg_str(a, 0)) {
        Ok(v) => Ok(Value::Object(Rc::new(SemverObj(v)))),
        Err(e) => Err(GoError::msg(e)),
    }
}

fn f_semver_compare(a: &[Value]) -> Result<Value, GoError> {
    let c = Constraints::parse(arg_str(a, 0)).map_err(GoError::msg)?;
    let v = Version::parse(arg_str(a, 1)).map_err(GoError::msg)?;
    Ok(Value::Bool(c.check(&v)))
}

pub(super) fn register(r: &mut Reg<'_>) {
    r.f("semver", &[Param::Str], f_semver);
    r.f("semverCompare", &[Param::Str, Param::Str], f_semver_compare);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(c: &str, v: &str) -> bool {
        Constraints::parse(c)
            .expect("constraint")
            .check(&Version::parse(v).expect("version"))
    }

    #[test]
    fn constraints_like_masterminds() {
        assert!(ok(">=1.19-0", "v1.36.0"));
        assert!(ok(">=1.19-0", "1.20.0-beta.1"));
        assert!(!ok(">=1.19", "1.20.0-beta.1"));
        assert!(ok("^1.2.3", "1.9.0"));
        assert!(!ok("^1.2.3", "2.0.0"));
        assert!(ok("~1.2.3", "1.2.9"));
        assert!(!ok("~1.2.3", "1.3.0"));
        assert!(ok("1.2.x", "1.2.7"));
        assert!(ok(">= 1.0, < 2.0 || >= 3", "3.1.0"));
        assert!(ok("1.0 - 2.0", "1.5.0"));
        assert!(!ok("1.0 - 2.0", "2.1.0"));
        assert!(ok("*", "0.0.1"));
        assert!(Version::parse("1.2.3.4").is_err());
        assert!(Constraints::parse("foo").is_err());
    }
}
