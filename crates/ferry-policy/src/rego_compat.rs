//! Rewrites of Rego v0 source for two constructs OPA accepts and regorus 0.14 reads
//! differently. Both rewrites keep every line where it was, so regorus' error positions still
//! point into the template as written.
//!
//! 1. A newline ends an expression in OPA. regorus continues a reference ending a line into a
//!    call when the next line starts with `(`: `a.b` / `(x - y) >= 1` becomes the call
//!    `a.b((x - y))`. A `;` is added at the end of such a line inside a body.
//! 2. Rego v0 lets one rule head have several bodies: `f(x) = y { a } { b }` means
//!    `f(x) = y { a }` plus `f(x) = y { b }`. regorus rejects it; the head is repeated before
//!    each further body (on the same line).

/// Scanner state outside of tokens that can hold brackets.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Code,
    String,
    RawString,
    Comment,
}

/// The rewritten source, or the source itself when nothing needed rewriting.
pub(crate) fn normalize(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len() + 64);
    let mut mode = Mode::Code;
    // Open brackets, innermost last: (byte, opens a rule body).
    let mut stack: Vec<(u8, bool)> = Vec::new();
    // Last significant (non-space, non-comment) byte of code.
    let mut last_significant: u8 = b'\n';
    // Where the current top-level statement starts, and the head of its rule when known.
    let mut statement_start: Option<usize> = None;
    let mut head: Option<&str> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match mode {
            Mode::String => {
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == b'"' || c == b'\n' {
                    mode = Mode::Code;
                }
            }
            Mode::RawString => {
                if c == b'`' {
                    mode = Mode::Code;
                }
            }
            Mode::Comment => {
                if c == b'\n' {
                    mode = Mode::Code;
                    // Re-examine the newline as code.
                    continue;
                }
            }
            Mode::Code => match c {
                b'#' => mode = Mode::Comment,
                b'"' => {
                    mode = Mode::String;
                    last_significant = c;
                }
                b'`' => {
                    mode = Mode::RawString;
                    last_significant = c;
                }
                b'\n' => {
                    let in_body = stack.last().is_some_and(|&(open, _)| open == b'{');
                    let ends_ref = last_significant.is_ascii_alphanumeric()
                        || matches!(last_significant, b'_' | b']');
                    if in_body && ends_ref && next_significant(bytes, i + 1) == Some(b'(') {
                        out.push_str(&source[copied..i]);
                        out.push(';');
                        copied = i;
                    }
                    if stack.is_empty() && !matches!(last_significant, b'}') {
                        statement_start = None;
                    }
                }
                b' ' | b'\t' | b'\r' => {}
                b'(' | b'[' => {
                    if stack.is_empty() && statement_start.is_none() {
                        statement_start = Some(i);
                    }
                    stack.push((c, false));
                    last_significant = c;
                }
                b'{' => {
                    let start = *statement_start.get_or_insert(i);
                    // At top level, `{` after `=` (`x = {...}`, `x := {...}`) opens a value;
                    // otherwise it opens a rule body.
                    let body = stack.is_empty() && last_significant != b'=' && i > start;
                    if body && head.is_none() {
                        head = Some(source[start..i].trim());
                    }
                    stack.push((c, body));
                    last_significant = c;
                }
                b')' | b']' | b'}' => {
                    let closed = stack.pop();
                    last_significant = c;
                    if stack.is_empty() && closed.is_some_and(|(_, body)| body) {
                        let next = next_significant_index(bytes, i + 1);
                        if let (Some(n), Some(h)) = (next, head)
                            && bytes[n] == b'{'
                            && !h.contains(['#', '`', '\n'])
                        {
                            // Another body for the same head.
                            out.push_str(&source[copied..n]);
                            out.push_str(h);
                            out.push(' ');
                            copied = n;
                        } else if next.is_none_or(|n| bytes[n] != b'{')
                            && !next.is_some_and(|n| source[n..].starts_with("else"))
                        {
                            statement_start = None;
                            head = None;
                        }
                    }
                }
                _ => {
                    if stack.is_empty() && statement_start.is_none() {
                        statement_start = Some(i);
                        head = None;
                    }
                    last_significant = c;
                }
            },
        }
        i += 1;
    }
    out.push_str(&source[copied..]);
    out
}

/// Index of the next byte that is not whitespace or part of a comment.
fn next_significant_index(bytes: &[u8], mut i: usize) -> Option<usize> {
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ => return Some(i),
        }
    }
    None
}

fn next_significant(bytes: &[u8], i: usize) -> Option<u8> {
    next_significant_index(bytes, i).map(|n| bytes[n])
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn ends_a_reference_before_a_parenthesised_line() {
        let src = "p {\n  input.a\n  (input.b - 1) >= 0\n}\n";
        assert_eq!(normalize(src), "p {\n  input.a;\n  (input.b - 1) >= 0\n}\n");
    }

    #[test]
    fn leaves_calls_strings_and_comments_alone() {
        let src = "p {\n  f(\n    1)\n  x := \"a\n  # b\n  (c)\"\n}\n";
        assert_eq!(normalize(src), src);
        let src = "p {\n  x := `raw\n(y)`\n}\n";
        assert_eq!(normalize(src), src);
    }

    #[test]
    fn repeats_the_head_for_each_extra_body() {
        let src = "f(obj) = spec {\n  obj.kind == \"Pod\"\n} {\n  obj.kind == \"Job\"\n}\n";
        assert_eq!(
            normalize(src),
            "f(obj) = spec {\n  obj.kind == \"Pod\"\n} f(obj) = spec {\n  obj.kind == \"Job\"\n}\n"
        );
    }

    #[test]
    fn keeps_values_else_chains_and_rule_sequences() {
        let src = "x = {\"a\": 1} { true }\ny { true } else = 2 { true }\nviolation[{\"msg\": m}] { m := 1 }\nz { 1 }\n";
        assert_eq!(normalize(src), src);
    }
}
