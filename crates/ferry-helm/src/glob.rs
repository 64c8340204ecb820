//! gobwas/glob patterns with `/` as separator, as Helm's `.Files.Glob` uses them: `*` stays
//! within a path segment, `**` crosses segments, `?`, `[abc]`, `[!a-z]`, `{a,b}`, `\` escapes.

use regex::Regex;

/// One element of a pattern without alternatives.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(char),
    /// `*`: any run of characters but `/`
    Star,
    /// `**`: any run of characters but a newline
    SuperStar,
    /// `?`: one character but `/`
    One,
    /// `[...]`, `[!...]`: one character (any, `/` included) in or out of the ranges
    Class {
        negate: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Tok {
    fn admits(&self, c: char) -> bool {
        match self {
            Tok::Lit(l) => *l == c,
            Tok::Star | Tok::One => c != '/',
            Tok::SuperStar => c != '\n',
            Tok::Class { negate, ranges } => {
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negate
            }
        }
    }
}

/// Patterns whose alternatives expand to more than this many sequences, or whose braces
/// nest deeper than [`MAX_NESTING`], are matched through the regex form.
const MAX_ALTERNATIVES: usize = 256;
const MAX_NESTING: usize = 32;

#[derive(Debug)]
enum Matcher {
    /// the pattern with its `{a,b}` alternatives expanded: it matches when one sequence does
    Direct(Vec<Vec<Tok>>),
    Regex(std::sync::Arc<Regex>),
}

#[derive(Debug, Default)]
pub struct Glob {
    matcher: Option<Matcher>,
}

enum Parsed {
    Seqs(Vec<Vec<Tok>>),
    /// valid, but too many alternatives to expand
    TooBig,
}

/// Parses up to the end, or inside braces up to `,` or `}` (not consumed). `None` for a
/// malformed pattern.
fn parse_seq(chars: &[char], pos: &mut usize, depth: usize) -> Option<Parsed> {
    let mut seqs: Vec<Vec<Tok>> = vec![vec![]];
    let mut too_big = false;
    while *pos < chars.len() {
        let tok = match chars[*pos] {
            ',' | '}' if depth > 0 => break,
            '{' => {
                *pos += 1;
                let mut alts: Vec<Vec<Tok>> = vec![];
                loop {
                    match parse_seq(chars, pos, depth + 1)? {
                        Parsed::Seqs(part) => alts.extend(part),
                        Parsed::TooBig => too_big = true,
                    }
                    match chars.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => {
                            *pos += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                if too_big || seqs.len() * alts.len() > MAX_ALTERNATIVES {
                    too_big = true;
                    continue;
                }
                let mut next = Vec::with_capacity(seqs.len() * alts.len());
                for s in &seqs {
                    for a in &alts {
                        let mut v = s.clone();
                        v.extend(a.iter().cloned());
                        next.push(v);
                    }
                }
                seqs = next;
                continue;
            }
            '*' => {
                if chars.get(*pos + 1) == Some(&'*') {
                    *pos += 1;
                    Tok::SuperStar
                } else {
                    Tok::Star
                }
            }
            '?' => Tok::One,
            '[' => {
                let close = chars[*pos + 1..].iter().position(|&x| x == ']')? + *pos + 1;
                let mut body = &chars[*pos + 1..close];
                let negate = body.first() == Some(&'!');
                if negate {
                    body = &body[1..];
                }
                if body.is_empty() {
                    return None;
                }
                let mut ranges = vec![];
                let mut i = 0;
                while i < body.len() {
                    if i + 2 < body.len() && body[i + 1] == '-' {
                        if body[i] > body[i + 2] {
                            return None;
                        }
                        ranges.push((body[i], body[i + 2]));
                        i += 3;
                    } else {
                        ranges.push((body[i], body[i]));
                        i += 1;
                    }
                }
                *pos = close;
                Tok::Class { negate, ranges }
            }
            '\\' => {
                *pos += 1;
                Tok::Lit(*chars.get(*pos)?)
            }
            other => Tok::Lit(other),
        };
        if !too_big {
            for s in &mut seqs {
                s.push(tok.clone());
            }
        }
        *pos += 1;
    }
    Some(if too_big {
        Parsed::TooBig
    } else {
        Parsed::Seqs(seqs)
    })
}

/// Whether `toks` match all of `s`: a pass per token over the positions of `s` reachable
/// so far (no backtracking, so no pattern takes more than tokens × characters steps).
fn matches_seq(toks: &[Tok], s: &[char]) -> bool {
    let n = s.len();
    let mut cur = vec![false; n + 1];
    let mut next = vec![false; n + 1];
    cur[0] = true;
    for t in toks {
        match t {
            Tok::Star | Tok::SuperStar => {
                let mut reach = false;
                for j in 0..=n {
                    reach = cur[j] || (j > 0 && reach && t.admits(s[j - 1]));
                    next[j] = reach;
                }
            }
            _ => {
                next[0] = false;
                for j in 1..=n {
                    next[j] = cur[j - 1] && t.admits(s[j - 1]);
                }
            }
        }
        std::mem::swap(&mut cur, &mut next);
        if !cur.contains(&true) {
            return false;
        }
    }
    cur[n]
}

impl Glob {
    /// Compiles a pattern; `None` when it is malformed (unclosed `[` or `{`).
    pub fn new(pattern: &str) -> Option<Glob> {
        let chars: Vec<char> = pattern.chars().collect();
        if brace_nesting(&chars) > MAX_NESTING {
            return Some(Glob {
                matcher: Some(Matcher::Regex(regex_form(&chars)?)),
            });
        }
        let mut pos = 0;
        let matcher = match parse_seq(&chars, &mut pos, 0)? {
            Parsed::Seqs(seqs) => Matcher::Direct(seqs),
            Parsed::TooBig => Matcher::Regex(regex_form(&chars)?),
        };
        Some(Glob {
            matcher: Some(matcher),
        })
    }

    pub fn matches(&self, s: &str) -> bool {
        match &self.matcher {
            Some(Matcher::Direct(seqs)) => {
                let chars: Vec<char> = s.chars().collect();
                seqs.iter().any(|seq| matches_seq(seq, &chars))
            }
            Some(Matcher::Regex(r)) => r.is_match(s),
            None => false,
        }
    }
}

/// How deep braces nest (an upper bound: braces inside classes count too).
fn brace_nesting(chars: &[char]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '{' => {
                depth += 1;
                max = max.max(depth);
            }
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    max
}

/// The pattern as an anchored regex, for patterns whose alternatives are too many to
/// expand (the same language as the direct matcher).
fn regex_form(chars: &[char]) -> Option<std::sync::Arc<Regex>> {
    let mut out = String::from("^");
    let mut i = 0;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' => {
                if chars.get(i + 1) == Some(&'*') {
                    out.push_str(".*");
                    i += 1;
                } else {
                    out.push_str("[^/]*");
                }
            }
            '?' => out.push_str("[^/]"),
            '[' => {
                let close = chars[i + 1..].iter().position(|&x| x == ']')? + i + 1;
                let mut body: String = chars[i + 1..close].iter().collect();
                let negate = body.starts_with('!');
                if negate {
                    body.remove(0);
                }
                if body.is_empty() {
                    return None;
                }
                out.push('[');
                if negate {
                    out.push('^');
                }
                for b in body.chars() {
                    if matches!(b, '\\' | '[' | ']' | '^' | '&' | '~') {
                        out.push('\\');
                    }
                    out.push(b);
                }
                out.push(']');
                i = close;
            }
            '{' => {
                depth += 1;
                out.push_str("(?:");
            }
            '}' if depth > 0 => {
                depth -= 1;
                out.push(')');
            }
            ',' if depth > 0 => out.push('|'),
            '\\' => {
                i += 1;
                let next = *chars.get(i)?;
                out.push_str(&regex::escape(&next.to_string()));
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    if depth != 0 {
        return None;
    }
    out.push('$');
    crate::regex_cache::compile(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gobwas_semantics() {
        let g = Glob::new("files/*.conf").expect("valid");
        assert!(g.matches("files/a.conf"));
        assert!(!g.matches("files/sub/a.conf"));
        assert!(
            Glob::new("files/**")
                .expect("valid")
                .matches("files/sub/a.conf")
        );
        assert!(Glob::new("*.{yaml,json}").expect("valid").matches("x.json"));
        assert!(Glob::new("[!a]bc").expect("valid").matches("xbc"));
        assert!(Glob::new("[abc").is_none());
        assert!(Glob::new("{a,b").is_none());
        assert!(Glob::new("a\\").is_none());
        assert!(Glob::new("[z-a]").is_none());
    }

    #[test]
    fn direct_and_regex_forms_agree() {
        let patterns = [
            "*",
            "**",
            "?",
            "a*b",
            "a**b",
            "files/*",
            "files/**",
            "*.{yaml,json}",
            "{a,b}{c,d}/*",
            "{a,{b,c}x}",
            "{}",
            "{a,}z",
            "[a-c]?",
            "[!a-c]*",
            "[-a]",
            "[a-]",
            "\\*",
            "a,b}",
            "x}y",
            "**/*.conf",
            "[/]",
            "?/?",
            "{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}",
        ];
        let names = [
            "",
            "a",
            "ab",
            "axb",
            "a/b",
            "a/x/b",
            "files/a",
            "files/a/b",
            "x.yaml",
            "x.json",
            "x.yml",
            "ac/q",
            "bd/",
            "ad/x/y",
            "bx",
            "cx",
            "b",
            "z",
            "az",
            "aa",
            "d",
            "-",
            "*",
            "a,b}",
            "x}y",
            "d/e.conf",
            "e.conf",
            "/",
            "a/b\nc",
        ];
        for p in patterns {
            let g = Glob::new(p).expect("valid");
            let chars: Vec<char> = p.chars().collect();
            let re = regex_form(&chars).expect("regex form");
            for n in names {
                assert_eq!(g.matches(n), re.is_match(n), "{p:?} vs {n:?}");
            }
        }
    }
}
