//! `.helmignore` rules as Helm's `pkg/ignore` evaluates them (including its quirk that a
//! negated rule ignores every path it does not match), over Go's `filepath.Match`.

#[derive(Debug)]
struct Pattern {
    negate: bool,
    must_dir: bool,
    /// match against the base name only
    base_only: bool,
    pattern: String,
    shape: Shape,
}

/// What a rule's pattern needs from `filepath.Match`: most rules are a literal name or `*`
/// and a literal suffix, which match without walking the pattern (same answers as
/// [`go_match`], which the other rules go through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// no `*`, `?`, `[` or `\`: the name must equal the pattern
    Literal,
    /// `*` then a literal: the name ends with it and has no `/` before it
    StarSuffix,
    General,
}

impl Shape {
    fn of(pattern: &str) -> Shape {
        let meta = |b: &u8| matches!(b, b'*' | b'?' | b'[' | b'\\');
        let b = pattern.as_bytes();
        if !b.iter().any(meta) {
            Shape::Literal
        } else if b.len() > 1 && b[0] == b'*' && !b[1..].iter().any(meta) {
            Shape::StarSuffix
        } else {
            Shape::General
        }
    }

    /// `go_match(pattern, name)` for a pattern of this shape; a malformed pattern never
    /// matches.
    fn matches(self, pattern: &str, name: &str) -> bool {
        match self {
            Shape::Literal => pattern == name,
            Shape::StarSuffix => {
                let suffix = &pattern[1..];
                name.len() >= suffix.len()
                    && name.ends_with(suffix)
                    && !name.as_bytes()[..name.len() - suffix.len()].contains(&b'/')
            }
            Shape::General => go_match(pattern, name).unwrap_or(false),
        }
    }
}

#[derive(Debug, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

/// A malformed `filepath.Match` pattern (Go's `ErrBadPattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

/// Go's `filepath.Match` (Unix): `*` and `?` stay within a path segment, `[...]` classes
/// with ranges and `^` negation, `\` escapes. Matched directly, as Go does, rather than
/// through a compiled regex: a chart load matches a few dozen rules against a few dozen
/// paths, and compiling the rules would cost more than all the matching.
pub fn go_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let (mut pattern, mut name) = (pattern.as_bytes(), name.as_bytes());
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // a trailing * matches the rest of the name unless it has a /
            return Ok(!name.contains(&b'/'));
        }
        let (t, ok) = match_chunk(chunk, name)?;
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if star {
            // skip i+1 bytes, never past a /
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                let (t, ok) = match_chunk(chunk, &name[i + 1..])?;
                if ok && (t.is_empty() || !pattern.is_empty()) {
                    name = t;
                    continue 'pattern;
                }
                i += 1;
            }
        }
        // no match: the rest of the pattern must still be well formed
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Go's `utf8.DecodeRune`: the first character and its length; U+FFFD and 1 for a byte
/// that does not start a valid sequence.
fn decode_rune(b: &[u8]) -> (char, usize) {
    match b.utf8_chunks().next() {
        Some(c) => match c.valid().chars().next() {
            Some(r) => (r, r.len_utf8()),
            None => ('\u{FFFD}', 1),
        },
        None => ('\u{FFFD}', 0),
    }
}

/// Go's `scanChunk`: leading stars, then up to the next star outside a class.
fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let stars = pattern.iter().take_while(|&&c| c == b'*').count();
    let b = &pattern[stars..];
    let mut in_range = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (stars > 0, &b[..i], &b[i..])
}

/// Go's `matchChunk`: the rest of `s` after `chunk` matched at its start, and whether it
/// did; the whole chunk is checked for well-formedness either way.
fn match_chunk<'s>(mut chunk: &[u8], mut s: &'s [u8]) -> Result<(&'s [u8], bool), BadPattern> {
    let mut failed = false;
    while let Some(&c) = chunk.first() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c {
            b'[' => {
                let mut r = '\0';
                if !failed {
                    let (c, n) = decode_rune(s);
                    r = c;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if ranges > 0 && chunk.first() == Some(&b']') {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&b'-') {
                        let (h, rest) = get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    s = &s[decode_rune(s).1..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                if c == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(BadPattern);
                    }
                }
                if !failed {
                    if chunk[0] != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        return Ok((b"", false));
    }
    Ok((s, true))
}

/// Go's `getEsc`: one possibly escaped character of a class.
fn get_esc(mut chunk: &[u8]) -> Result<(char, &[u8]), BadPattern> {
    if chunk.is_empty() || chunk[0] == b'-' || chunk[0] == b']' {
        return Err(BadPattern);
    }
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BadPattern);
        }
    }
    let (r, n) = decode_rune(chunk);
    if r == '\u{FFFD}' && n == 1 {
        return Err(BadPattern);
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((r, rest))
}

impl Rules {
    /// Parses a `.helmignore` file.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let mut r = Rules::default();
        for line in text.lines() {
            r.add(line)?;
        }
        Ok(r)
    }

    /// Helm's defaults: hidden files under templates/ are ignored.
    pub fn add_defaults(&mut self) {
        let _ = self.add("templates/.?*");
    }

    fn add(&mut self, rule: &str) -> Result<(), String> {
        let mut rule = rule.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err("double-star (**) syntax is not supported".into());
        }
        // Helm matches each rule against "abc" once to reject malformed ones
        if go_match(rule, "abc").is_err() {
            return Err("syntax error in pattern".into());
        }
        let negate = rule.starts_with('!');
        if negate {
            rule = &rule[1..];
        }
        let must_dir = rule.ends_with('/');
        let rule = rule.strip_suffix('/').unwrap_or(rule);
        let (pat, base_only) = if let Some(r) = rule.strip_prefix('/') {
            (r, false)
        } else if rule.contains('/') {
            (rule, false)
        } else {
            (rule, true)
        };
        self.patterns.push(Pattern {
            negate,
            must_dir,
            base_only,
            pattern: pat.to_string(),
            shape: Shape::of(pat),
        });
        Ok(())
    }

    /// Whether `path` (relative, `/`-separated) is ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        // Go's `filepath.Base` (the path has no trailing `/` here but may in principle)
        let trimmed = path.trim_end_matches('/');
        let base = match trimmed.rfind('/') {
            _ if trimmed.is_empty() => "/",
            Some(i) => &trimmed[i + 1..],
            None => trimmed,
        };
        for p in &self.patterns {
            if p.must_dir && !is_dir {
                // a directory rule: a negated one ignores every file, another skips files
                if p.negate {
                    return true;
                }
                continue;
            }
            let subject = if p.base_only { base } else { path };
            // a malformed pattern never matches (Helm logs the error)
            let hit = p.shape.matches(&p.pattern, subject);
            if hit != p.negate {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helmignore_rules() {
        let mut r =
            Rules::parse("# comment\n*.md\n.git/\n/secret.txt\ndocs/*.png\n").expect("valid");
        r.add_defaults();
        assert!(r.ignore("README.md", false));
        assert!(r.ignore("sub/NOTES.md", false));
        assert!(r.ignore(".git", true));
        assert!(!r.ignore(".git", false));
        assert!(r.ignore("secret.txt", false));
        assert!(!r.ignore("a/secret.txt", false));
        assert!(r.ignore("docs/a.png", false));
        assert!(r.ignore("templates/.hidden", false));
        assert!(!r.ignore("templates/x.yaml", false));
        assert!(Rules::parse("a/**/b").is_err());
        assert!(Rules::parse("[").is_err());
        assert!(Rules::parse("a[").is_err());
    }

    #[test]
    fn pattern_shapes_answer_as_go_match() {
        let patterns = [
            ".DS_Store",
            "*.swp",
            "*~",
            "*/x",
            "*",
            "a*",
            "*.t[mx]p",
            "?x",
            "x\\y",
            "*.",
            "*a/b",
            "templates/.?*",
            "a/b",
        ];
        let names = [
            "",
            ".DS_Store",
            "a.swp",
            ".swp",
            "b/a.swp",
            "x~",
            "~",
            "a/x",
            "/x",
            "x",
            "abc",
            "a.tmp",
            "a.txp",
            "ax",
            "x\\y",
            "xy",
            "a.",
            "qa/b",
            "q/a/b",
            "a/b",
            "templates/.h",
        ];
        for p in patterns {
            let shape = Shape::of(p);
            for n in names {
                assert_eq!(
                    shape.matches(p, n),
                    go_match(p, n).unwrap_or(false),
                    "{p:?} against {n:?} ({shape:?})"
                );
            }
        }
        assert_eq!(Shape::of(".git"), Shape::Literal);
        assert_eq!(Shape::of("*.bak"), Shape::StarSuffix);
        assert_eq!(Shape::of("*.t[mx]p"), Shape::General);
    }

    #[test]
    fn go_filepath_match() {
        // cases of Go's path/filepath match_test.go
        let cases: &[(&str, &str, Result<bool, BadPattern>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("a[^a][^a][^a]b", "a☺b", Ok(false)),
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\-x]", "x", Ok(true)),
            ("[\\-x]", "-", Ok(true)),
            ("[\\-x]", "a", Ok(false)),
            ("[]a]", "]", Err(BadPattern)),
            ("[-]", "-", Err(BadPattern)),
            ("[x-]", "x", Err(BadPattern)),
            ("[x-]", "-", Err(BadPattern)),
            ("[x-]", "z", Err(BadPattern)),
            ("[-x]", "x", Err(BadPattern)),
            ("[-x]", "-", Err(BadPattern)),
            ("[-x]", "a", Err(BadPattern)),
            ("\\", "a", Err(BadPattern)),
            ("[a-b-c]", "a", Err(BadPattern)),
            ("[", "a", Err(BadPattern)),
            ("[^", "a", Err(BadPattern)),
            ("[^bc", "a", Err(BadPattern)),
            ("a[", "a", Err(BadPattern)),
            ("a[", "ab", Err(BadPattern)),
            ("a[", "x", Err(BadPattern)),
            ("a/b[", "x", Err(BadPattern)),
            ("*x", "xxx", Ok(true)),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(go_match(pattern, name), *want, "{pattern} vs {name}");
        }
    }
}
