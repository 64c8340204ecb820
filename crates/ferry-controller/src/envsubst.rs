//! Post-build variable substitution as Flux does it (`fluxcd/pkg/envsubst`, a fork of
//! drone/envsubst): only the braced `${var}` form is expanded, with bash's parameter
//! operators (defaults, case changes, substrings, pattern strip and replace); `$${` escapes to a
//! literal `${`. In strict mode a variable that is not set and has no default is an error.

use std::collections::BTreeMap;

/// A substitution failure.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvsubstError {
    #[error("variable not set (strict mode): {0:?}")]
    NotSet(String),
    #[error("bad substitution at byte {at}: {reason}")]
    Syntax { at: usize, reason: &'static str },
}

/// Expands `${...}` expressions in `input` with `vars`.
pub fn expand(
    input: &str,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<String, EnvsubstError> {
    let mut parser = Parser {
        src: input.as_bytes(),
        pos: 0,
        vars,
        strict,
    };
    parser.text(false)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    vars: &'a BTreeMap<String, String>,
    strict: bool,
}

impl Parser<'_> {
    fn peek(&self, offset: usize) -> Option<u8> {
        self.src.get(self.pos + offset).copied()
    }

    fn err(&self, reason: &'static str) -> EnvsubstError {
        EnvsubstError::Syntax {
            at: self.pos,
            reason,
        }
    }

    /// Literal text with expansions, up to the end (or, inside an expression's default, up to
    /// the `}` that closes it).
    fn text(&mut self, inside: bool) -> Result<String, EnvsubstError> {
        let mut out = Vec::new();
        while let Some(c) = self.peek(0) {
            if inside && c == b'}' {
                break;
            }
            if c == b'$' && self.peek(1) == Some(b'$') && self.peek(2) == Some(b'{') {
                out.extend_from_slice(b"${");
                self.pos += 3;
            } else if c == b'$' && self.peek(1) == Some(b'{') {
                self.pos += 2;
                out.extend_from_slice(self.expression()?.as_bytes());
            } else {
                out.push(c);
                self.pos += 1;
            }
        }
        // The input is UTF-8 and expansions only splice whole strings in.
        Ok(String::from_utf8(out).expect("splicing UTF-8 strings keeps UTF-8"))
    }

    /// Raw text up to an unescaped `stop` byte or the closing `}`; `\x` yields `x`.
    fn raw(&mut self, stop: Option<u8>) -> String {
        let mut out = Vec::new();
        while let Some(c) = self.peek(0) {
            if c == b'}' || Some(c) == stop {
                break;
            }
            if c == b'\\' && self.peek(1).is_some() {
                out.push(self.src[self.pos + 1]);
                self.pos += 2;
                continue;
            }
            out.push(c);
            self.pos += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn close(&mut self) -> Result<(), EnvsubstError> {
        if self.peek(0) == Some(b'}') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err("missing closing brace"))
        }
    }

    fn name(&mut self) -> Result<String, EnvsubstError> {
        let start = self.pos;
        while self
            .peek(0)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err("expected a variable name"));
        }
        Ok(String::from_utf8_lossy(&self.src[start..self.pos]).into_owned())
    }

    fn lookup(&self, name: &str) -> Result<String, EnvsubstError> {
        match self.vars.get(name) {
            Some(value) => Ok(value.clone()),
            None if self.strict => Err(EnvsubstError::NotSet(name.to_owned())),
            None => Ok(String::new()),
        }
    }

    /// After `${`: the expression up to and including its closing brace.
    fn expression(&mut self) -> Result<String, EnvsubstError> {
        if self.peek(0) == Some(b'#') {
            self.pos += 1;
            let name = self.name()?;
            self.close()?;
            return Ok(self.lookup(&name)?.chars().count().to_string());
        }
        let name = self.name()?;
        let op = self
            .peek(0)
            .ok_or_else(|| self.err("missing closing brace"))?;
        let result = match op {
            b'}' => self.lookup(&name)?,
            b'^' | b',' => {
                let all = self.peek(1) == Some(op);
                self.pos += if all { 2 } else { 1 };
                let value = self.lookup(&name)?;
                change_case(&value, op == b'^', all)
            }
            b'-' | b'=' => {
                self.pos += 1;
                let default = self.text(true)?;
                self.vars.get(&name).cloned().unwrap_or(default)
            }
            b':' if matches!(self.peek(1), Some(b'-' | b'=')) => {
                self.pos += 2;
                let default = self.text(true)?;
                self.vars
                    .get(&name)
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .unwrap_or(default)
            }
            b':' => {
                self.pos += 1;
                let offset = self.number()?;
                let length = if self.peek(0) == Some(b':') {
                    self.pos += 1;
                    Some(self.number()?)
                } else {
                    None
                };
                let value = self.lookup(&name)?;
                substring(&value, offset, length)
            }
            b'#' | b'%' => {
                let longest = self.peek(1) == Some(op);
                self.pos += if longest { 2 } else { 1 };
                let pattern = self.raw(None);
                let value = self.lookup(&name)?;
                strip(&value, &pattern, op == b'#', longest)
            }
            b'/' => {
                self.pos += 1;
                let mode = match self.peek(0) {
                    Some(b'/') => Replace::All,
                    Some(b'#') => Replace::Prefix,
                    Some(b'%') => Replace::Suffix,
                    _ => Replace::First,
                };
                if mode != Replace::First {
                    self.pos += 1;
                }
                let pattern = self.raw(Some(b'/'));
                let replacement = if self.peek(0) == Some(b'/') {
                    self.pos += 1;
                    self.raw(None)
                } else {
                    String::new()
                };
                let value = self.lookup(&name)?;
                replace(&value, &pattern, &replacement, mode)
            }
            _ => return Err(self.err("unsupported operator")),
        };
        self.close()?;
        Ok(result)
    }

    fn number(&mut self) -> Result<usize, EnvsubstError> {
        let start = self.pos;
        while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.src[start..self.pos])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.err("expected a number"))
    }
}

fn change_case(value: &str, upper: bool, all: bool) -> String {
    let convert = |c: char| -> String {
        if upper {
            c.to_uppercase().collect()
        } else {
            c.to_lowercase().collect()
        }
    };
    if all {
        return value.chars().map(convert).collect();
    }
    let mut chars = value.chars();
    match chars.next() {
        Some(first) => convert(first) + chars.as_str(),
        None => String::new(),
    }
}

fn substring(value: &str, offset: usize, length: Option<usize>) -> String {
    let chars = value.chars().skip(offset);
    match length {
        Some(len) => chars.take(len).collect(),
        None => chars.collect(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Replace {
    First,
    All,
    Prefix,
    Suffix,
}

/// `${var#p}`, `${var##p}`, `${var%p}`, `${var%%p}`.
fn strip(value: &str, pattern: &str, from_start: bool, longest: bool) -> String {
    let bounds = char_bounds(value);
    let candidates: Box<dyn Iterator<Item = usize>> = match (from_start, longest) {
        (true, false) => Box::new(bounds.iter().copied()),
        (true, true) => Box::new(bounds.iter().rev().copied()),
        (false, false) => Box::new(bounds.iter().rev().copied()),
        (false, true) => Box::new(bounds.iter().copied()),
    };
    for cut in candidates {
        let (matched, rest) = if from_start {
            (&value[..cut], &value[cut..])
        } else {
            (&value[cut..], &value[..cut])
        };
        if glob_match(pattern, matched) {
            return rest.to_owned();
        }
    }
    value.to_owned()
}

/// `${var/p/r}` and friends: the leftmost longest match, as bash does.
fn replace(value: &str, pattern: &str, replacement: &str, mode: Replace) -> String {
    let bounds = char_bounds(value);
    match mode {
        Replace::Prefix => {
            for &end in bounds.iter().rev() {
                if glob_match(pattern, &value[..end]) {
                    return format!("{replacement}{}", &value[end..]);
                }
            }
            value.to_owned()
        }
        Replace::Suffix => {
            for &start in &bounds {
                if glob_match(pattern, &value[start..]) {
                    return format!("{}{replacement}", &value[..start]);
                }
            }
            value.to_owned()
        }
        Replace::First | Replace::All => {
            if pattern.is_empty() {
                return value.to_owned();
            }
            let mut out = String::new();
            let mut i = 0;
            let mut replaced = false;
            while i < bounds.len() - 1 {
                let start = bounds[i];
                let matched_end = if replaced && mode == Replace::First {
                    None
                } else {
                    bounds[i + 1..]
                        .iter()
                        .rev()
                        .copied()
                        .find(|&end| glob_match(pattern, &value[start..end]))
                };
                match matched_end {
                    Some(end) => {
                        out.push_str(replacement);
                        replaced = true;
                        i = bounds
                            .iter()
                            .position(|&b| b == end)
                            .unwrap_or(bounds.len() - 1);
                    }
                    None => {
                        out.push_str(&value[start..bounds[i + 1]]);
                        i += 1;
                    }
                }
            }
            out
        }
    }
}

/// Byte offsets of every char boundary, including 0 and the end.
fn char_bounds(value: &str) -> Vec<usize> {
    value
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(value.len()))
        .collect()
}

/// Bash pattern matching: `*`, `?`, `[...]` (with `!`/`^` negation and ranges), `\x` literal.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with backtracking on the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_match(&p, pi, t[ti]) {
                        if matched {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == t[ti] => {
                    pi += 2;
                    ti += 1;
                    continue;
                }
                '\\' if pi + 1 < p.len() => {}
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the bracket expression starting at `p[start] == '['`; returns whether
/// it matched and the index after the closing `]`, or `None` if the bracket is not closed.
fn class_match(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ok(input: &str, pairs: &[(&str, &str)]) -> String {
        expand(input, &vars(pairs), false).unwrap()
    }

    /// Cases from the parameter-substitution examples Flux's envsubst is tested with.
    #[test]
    fn expands_bash_operators() {
        let v = [("var01", "abcdEFGH28ij")];
        assert_eq!(ok("${#var01}", &v), "12");
        assert_eq!(ok("${var01^}", &v), "AbcdEFGH28ij");
        assert_eq!(ok("${var01^^}", &v), "ABCDEFGH28IJ");
        assert_eq!(ok("${var01,}", &[("var01", "ABC")]), "aBC");
        assert_eq!(ok("${var01,,}", &[("var01", "ABC")]), "abc");
        let p = [("path_name", "/home/bozo/ideas/thoughts.for.today")];
        assert_eq!(ok("${path_name:11}", &p), "ideas/thoughts.for.today");
        assert_eq!(ok("${path_name:11:5}", &p), "ideas");
        assert_eq!(ok("${var=xyz}", &[("var", "abc")]), "abc");
        assert_eq!(ok("${var=xyz}", &[]), "xyz");
        assert_eq!(
            ok("foo: ${var=prefix${d}-suffix}", &[("d", "foo1")]),
            "foo: prefixfoo1-suffix"
        );
        assert_eq!(ok("${var:=xyz}", &[("var", "")]), "xyz");
        assert_eq!(ok("${var=xyz}", &[("var", "")]), "");
        let z = [("stringZ", "abcABC123ABCabc")];
        assert_eq!(ok("${stringZ/%abc/XYZ}", &z), "abcABC123ABCXYZ");
        assert_eq!(ok("${stringZ/#abc/XYZ}", &z), "XYZABC123ABCabc");
        assert_eq!(ok("${stringZ//abc/xyz}", &z), "xyzABC123ABCxyz");
        assert_eq!(ok("${stringZ/abc/xyz}", &z), "xyzABC123ABCabc");
        assert_eq!(ok("${s/#/prefix-}", &[("s", "v")]), "prefix-v");
        assert_eq!(ok("${s/%/-suffix}", &[("s", "v")]), "v-suffix");
        let f = [("filename", "bash.string.txt")];
        assert_eq!(ok("${filename#*.}", &f), "string.txt");
        assert_eq!(ok("${filename##*.}", &f), "txt");
        assert_eq!(ok("${filename%.*}", &f), "bash.string");
        assert_eq!(ok("${filename%%.*}", &f), "bash");
        assert_eq!(ok("${f##*/}", &[("f", "/path/to/file")]), "file");
        assert_eq!(ok(r"${s//\//-}", &[("s", "foo/bar/baz")]), "foo-bar-baz");
        assert_eq!(ok("${s/./}", &[("s", "foo.bar")]), "foobar");
        assert_eq!(ok("${var=${var01^^}}", &v), "ABCDEFGH28IJ");
    }

    #[test]
    fn escapes_and_leaves_unbraced_forms_alone() {
        let v = [("var01", "abcdEFGH28ij")];
        assert_eq!(ok("$${var01}", &v), "${var01}");
        assert_eq!(
            ok("some text ${var01}$${var$${var01}$var01${var01}", &v),
            "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij"
        );
        assert_eq!(
            ok("something $${var=${d}}", &[("d", "foo")]),
            "something ${var=foo}"
        );
        assert_eq!(
            ok(r"\\something ${var=${d}}", &[("d", "foo")]),
            r"\\something foo"
        );
        assert_eq!(ok("price: $5", &[]), "price: $5");
    }

    #[test]
    fn strict_mode_refuses_unset_variables_without_default() {
        let empty = BTreeMap::new();
        for input in [
            "${missing}",
            "${#missing}",
            "${missing^}",
            "${missing:0:10}",
            "${missing/a/b}",
            "${missing%%p}",
        ] {
            assert_eq!(
                expand(input, &empty, true),
                Err(EnvsubstError::NotSet("missing".into())),
                "{input}"
            );
        }
        assert_eq!(
            expand("${missing:-fallback}", &empty, true).unwrap(),
            "fallback"
        );
        assert_eq!(
            expand("${missing=assigned}", &empty, true).unwrap(),
            "assigned"
        );
        assert_eq!(expand("${set}", &vars(&[("set", "")]), true).unwrap(), "");
        assert_eq!(expand("${missing}", &empty, false).unwrap(), "");
    }

    #[test]
    fn reports_syntax_errors() {
        let empty = BTreeMap::new();
        assert!(matches!(
            expand("${unclosed", &empty, false),
            Err(EnvsubstError::Syntax { .. })
        ));
        assert!(matches!(
            expand("${}", &empty, false),
            Err(EnvsubstError::Syntax { .. })
        ));
        assert!(matches!(
            expand("${a?b}", &empty, false),
            Err(EnvsubstError::Syntax { .. })
        ));
    }
}
