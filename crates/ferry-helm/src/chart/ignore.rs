//! `.helmignore` rules as Helm's `pkg/ignore` evaluates them (including its quirk that a
//! negated rule ignores every path it does not match), over Go's `filepath.Match`.

use regex::Regex;

#[derive(Debug)]
struct Pattern {
    negate: bool,
    must_dir: bool,
    /// match against the base name only
    base_only: bool,
    re: std::sync::Arc<Regex>,
}

#[derive(Debug, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

/// Go's `filepath.Match` pattern as an anchored regex; `None` for a malformed pattern.
pub fn go_match_regex(pattern: &str) -> Option<std::sync::Arc<Regex>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::from("^");
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '[' => {
                let mut j = i + 1;
                let mut class = String::from("[");
                if chars.get(j) == Some(&'^') {
                    class.push('^');
                    j += 1;
                }
                let start = j;
                loop {
                    let c = *chars.get(j)?;
                    if c == ']' && j > start {
                        break;
                    }
                    if c == '\\' {
                        j += 1;
                        let e = *chars.get(j)?;
                        class.push('\\');
                        class.push(e);
                    } else if c == '['
                        || c == '&'
                        || c == '~'
                        || c == '-' && (j == start || chars.get(j + 1) == Some(&']'))
                    {
                        class.push('\\');
                        class.push(c);
                    } else {
                        class.push(c);
                    }
                    j += 1;
                }
                class.push(']');
                out.push_str(&class);
                i = j;
            }
            '\\' => {
                i += 1;
                let c = *chars.get(i)?;
                out.push_str(&regex::escape(&c.to_string()));
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    out.push('$');
    crate::regex_cache::compile(&out)
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
        if go_match_regex(rule).is_none() {
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
        let Some(re) = go_match_regex(pat) else {
            return Err("syntax error in pattern".into());
        };
        self.patterns.push(Pattern {
            negate,
            must_dir,
            base_only,
            re,
        });
        Ok(())
    }

    /// Whether `path` (relative, `/`-separated) is ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for p in &self.patterns {
            let subject = if p.base_only {
                crate::funcs::paths::base(path)
            } else {
                path.to_string()
            };
            let hit = p.re.is_match(&subject);
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !hit {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if hit {
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
    }
}
