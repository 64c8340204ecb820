//! A fast path for the YAML most values files are written in: block mappings and sequences
//! indented with spaces, plain and simple quoted scalars, comments, empty `{}`/`[]` and
//! one-line flow sequences of scalars. It reads such a document straight into the
//! [`Node`] tree [`super::parse::parse_first`] builds, without the general parser's event
//! machinery, and gives up (`None`) at the first thing outside that subset (anchors, tags,
//! block scalars, escapes, multi-line scalars, tabs, non-ASCII text, anything malformed),
//! leaving the document to the general parser, which then decides, errors included.

use super::{Node, resolve};

/// Nesting beyond this is left to the general parser (and its depth limit).
const MAX_NESTING: usize = 64;

struct Line<'a> {
    indent: usize,
    /// the line after its indentation, never empty and never a comment
    text: &'a str,
}

/// The first document of `text` when it is a block mapping in the subset described above.
pub fn parse_map(text: &str) -> Option<Node> {
    if !text.is_ascii() {
        return None;
    }
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        if raw.bytes().any(|b| (b < 0x20 && b != b'\n') || b == 0x7f) {
            return None; // tabs, carriage returns, control characters
        }
        let body = raw.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = raw.len() - body.len();
        if indent == 0
            && (body.starts_with("---") || body.starts_with("...") || body.starts_with('%'))
        {
            return None;
        }
        lines.push(Line { indent, text: body });
    }
    let first = lines.first()?;
    if first.indent != 0 {
        return None;
    }
    let mut p = Reader { lines, at: 0 };
    let node = p.mapping(0, 0)?;
    (p.at == p.lines.len()).then_some(node)
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
}

/// Characters that may not start a plain scalar (or key) here.
fn bad_start(s: &str) -> bool {
    match s.as_bytes() {
        [] => true,
        [b'-', rest @ ..] => !matches!(rest.first(), Some(b'0'..=b'9' | b'.')),
        [c, ..] => b"[]{},#&*!|>'\"%@`?:".contains(c),
    }
}

/// `- ` or a lone `-`: a block sequence entry.
fn is_entry(s: &str) -> bool {
    s == "-" || s.starts_with("- ")
}

/// The rest after a comment-or-nothing check: `Some(())` when only spaces and perhaps a
/// comment follow.
fn blank_rest(s: &str) -> Option<()> {
    let t = s.trim_start_matches(' ');
    (t.is_empty() || (t.starts_with('#') && t.len() < s.len())).then_some(())
}

/// A quoted scalar at the start of `s` (single line, no escapes in double quotes): its
/// value and what follows the closing quote.
fn quoted(s: &str) -> Option<(String, &str)> {
    let b = s.as_bytes();
    match b.first()? {
        b'"' => {
            let end = s[1..].find(['"', '\\'])? + 1;
            if b[end] != b'"' {
                return None;
            }
            Some((s[1..end].to_string(), &s[end + 1..]))
        }
        b'\'' => {
            let mut out = String::new();
            let mut i = 1;
            loop {
                let j = i + s[i..].find('\'')?;
                out.push_str(&s[i..j]);
                if b.get(j + 1) == Some(&b'\'') {
                    out.push('\'');
                    i = j + 2;
                } else {
                    return Some((out, &s[j + 1..]));
                }
            }
        }
        _ => None,
    }
}

/// A plain scalar in block context: up to a comment, trailing spaces trimmed.
fn plain(s: &str) -> Option<Node> {
    let cut = match s.find(" #") {
        Some(i) => &s[..i],
        None => s,
    };
    let v = cut.trim_end_matches(' ');
    if bad_start(v) || v.contains(": ") || v.ends_with(':') {
        return None;
    }
    Some(resolve::plain(v))
}

/// A one-line flow sequence of scalars, `[a, "b"]`, or an empty `[ ]`/`{ }`.
fn flow(s: &str) -> Option<Node> {
    let b = s.as_bytes();
    if b[0] == b'{' {
        let rest = s[1..].trim_start_matches(' ').strip_prefix('}')?;
        blank_rest(rest)?;
        return Some(Node::Map(vec![]));
    }
    let mut items = vec![];
    let mut rest = s[1..].trim_start_matches(' ');
    if let Some(r) = rest.strip_prefix(']') {
        blank_rest(r)?;
        return Some(Node::Seq(items));
    }
    loop {
        let after = if rest.starts_with(['"', '\'']) {
            let (v, r) = quoted(rest)?;
            items.push(Node::Str(v));
            r
        } else {
            let end = rest.find([',', ']'])?;
            let v = rest[..end].trim_end_matches(' ');
            if bad_start(v) || v.contains(['[', '{', '}', '#', ':', '"', '\'']) {
                return None;
            }
            items.push(resolve::plain(v));
            &rest[end..]
        };
        let after = after.trim_start_matches(' ');
        if let Some(r) = after.strip_prefix(']') {
            blank_rest(r)?;
            return Some(Node::Seq(items));
        }
        rest = after.strip_prefix(',')?.trim_start_matches(' ');
        if rest.starts_with([']', ',']) || rest.is_empty() {
            return None;
        }
    }
}

/// The value written after `key:` or `- ` on the same line (non-empty, not a comment).
fn inline_value(s: &str) -> Option<Node> {
    match s.as_bytes()[0] {
        b'"' | b'\'' => {
            let (v, rest) = quoted(s)?;
            blank_rest(rest)?;
            Some(Node::Str(v))
        }
        b'[' | b'{' => flow(s),
        _ => plain(s),
    }
}

/// Splits `key: rest` (or `key:`); `None` when the line is not a mapping entry of the subset.
fn split_key(s: &str) -> Option<(Node, &str)> {
    if s.starts_with(['"', '\'']) {
        let (k, rest) = quoted(s)?;
        let rest = rest.strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((Node::Str(k), rest));
    }
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        let j = i + s[i..].find(':')?;
        if j + 1 == b.len() || b[j + 1] == b' ' {
            let key = &s[..j];
            if bad_start(key) || key.ends_with(' ') || key.contains(" #") || key == "<<" {
                return None;
            }
            return Some((resolve::plain(key), &s[j + 1..]));
        }
        i = j + 1;
    }
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<&Line<'a>> {
        self.lines.get(self.at)
    }

    /// A block mapping whose keys sit at column `indent`, starting at the current line.
    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Node> {
        if depth > MAX_NESTING {
            return None;
        }
        let mut pairs = vec![];
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_entry(line.text) {
                return None;
            }
            let (key, rest) = split_key(line.text)?;
            self.at += 1;
            let rest = rest.trim_start_matches(' ');
            let value = if rest.is_empty() || rest.starts_with('#') {
                match self.peek() {
                    Some(next) if next.indent > indent => self.block(next.indent, depth + 1)?,
                    Some(next) if next.indent == indent && is_entry(next.text) => {
                        self.sequence(indent, depth + 1)?
                    }
                    _ => Node::Null,
                }
            } else {
                let v = inline_value(rest)?;
                if self.peek().is_some_and(|n| n.indent > indent) {
                    return None; // a continuation line, or an error
                }
                v
            };
            pairs.push((key, value));
        }
        Some(Node::Map(pairs))
    }

    /// A block sequence whose `-` sit at column `indent`.
    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Node> {
        if depth > MAX_NESTING {
            return None;
        }
        let mut items = vec![];
        while let Some(line) = self.peek() {
            // a line at this column that is no entry ends an indentless sequence (the
            // mapping around it goes on); anywhere else the caller finds it misplaced
            if line.indent < indent || (line.indent == indent && !is_entry(line.text)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let body = line.text[1..].trim_start_matches(' ');
            if body.is_empty() || body.starts_with('#') {
                self.at += 1;
                items.push(match self.peek() {
                    Some(next) if next.indent > indent => self.block(next.indent, depth + 1)?,
                    _ => Node::Null,
                });
                continue;
            }
            // the entry's content starts a node at its own column, on this same line
            let col = line.indent + (line.text.len() - body.len());
            self.lines[self.at] = Line {
                indent: col,
                text: body,
            };
            if is_entry(body) || split_key(body).is_some() {
                items.push(self.block(col, depth + 1)?);
            } else {
                self.at += 1;
                items.push(inline_value(body)?);
                if self.peek().is_some_and(|n| n.indent > indent) {
                    return None;
                }
            }
        }
        Some(Node::Seq(items))
    }

    /// The block node starting at the current line, at column `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Option<Node> {
        let line = self.peek()?;
        if is_entry(line.text) {
            self.sequence(indent, depth)
        } else {
            self.mapping(indent, depth)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(text: &str) -> bool {
        // the general parser alone (parse_first would take this fast path)
        let slow = super::super::parse::parse_docs(text, 1)
            .ok()
            .and_then(|mut d| d.pop().flatten());
        match parse_map(text) {
            Some(fast) => {
                assert_eq!(Some(fast), slow, "{text:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn reads_the_subset_as_the_general_parser_does() {
        for text in [
            "a: 1\nb: [x, \"y\", 'z''s']\nc:\n  d: {}\n  e: [ ]\n  f: { }\n",
            "a:\n- 1\n- two\n-\n  k: v\n- - x\n  - y\nb: ~\n",
            "# c\nimage:\n  repo: ghcr.io/x/y # tag\n  tag: \"6.1\"\n  n: -1.5\n  o: 0x1F\n",
            "host: #0.0.0.0\nlist:\n  - name: a\n    value: b\n  - name: c\n\nlast: yes\n",
            "k: a:b\nurl: http://x:80/y\n'q k': \"v #1\"\n1: one\ntrue: t\n",
            "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
        ] {
            assert!(same(text), "fast path declined {text:?}");
        }
    }

    #[test]
    fn declines_what_it_does_not_read() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: \"esc\\n\"\n",
            "a: multi\n  line\n",
            "a:\n    b: 1\n  c: 2\n",
            "a: 1\n- b\n",
            "a:\tb\n",
            "a: é\n",
            "<<: {}\n",
            "a: [b, [c]]\n",
            "a: [b,\n  c]\n",
            "- a\n",
            "---\na: 1\n",
            "a: b: c\n",
            "  a: 1\n",
            "a: 'open\n",
            "a:\n- - x\n  k: v\n",
            "a:\n  - x\n  b: 1\n",
        ] {
            assert!(parse_map(text).is_none(), "fast path read {text:?}");
        }
    }

    #[test]
    fn charts_values_files_read_alike() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut files = vec![];
        let mut dirs = vec![root];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("test data").flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    files.push(p);
                }
            }
        }
        let mut read = 0;
        for f in &files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            if same(&text) {
                read += 1;
            }
        }
        assert!(
            read > 10,
            "fast path read only {read} of {} files",
            files.len()
        );
        for chart in ["podinfo", "bitnami-nginx"] {
            let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/charts")
                .join(chart)
                .join("values.yaml");
            let text = std::fs::read_to_string(&p).expect("values.yaml");
            assert!(same(&text), "fast path declined {}", p.display());
        }
    }
}
