//! gobwas/glob patterns with `/` as separator, as Helm's `.Files.Glob` uses them: `*` stays
//! within a path segment, `**` crosses segments, `?`, `[abc]`, `[!a-z]`, `{a,b}`, `\` escapes.

use regex::Regex;

#[derive(Debug, Default)]
pub struct Glob {
    re: Option<std::sync::Arc<Regex>>,
}

impl Glob {
    /// Compiles a pattern; `None` when it is malformed (unclosed `[` or `{`).
    pub fn new(pattern: &str) -> Option<Glob> {
        let mut out = String::from("^");
        let chars: Vec<char> = pattern.chars().collect();
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
                        if b == '\\' || b == '[' || b == ']' || b == '^' {
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
        Some(Glob {
            re: Some(crate::regex_cache::compile(&out)?),
        })
    }

    pub fn matches(&self, s: &str) -> bool {
        self.re.as_ref().is_some_and(|r| r.is_match(s))
    }
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
    }
}
