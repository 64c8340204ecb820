//! Rewrites of Rego v0 source for constructs OPA accepts and regorus 0.14 reads
//! differently. Every rewrite keeps each line where it was, so regorus' error positions still
//! point into the template as written.
//!
//! 1. A newline ends an expression in OPA. regorus continues a reference ending a line into a
//!    call when the next line starts with `(`: `a.b` / `(x - y) >= 1` becomes the call
//!    `a.b((x - y))`. A `;` is added at the end of such a line inside a body.
//! 2. Rego v0 lets one rule head have several bodies: `f(x) = y { a } { b }` means
//!    `f(x) = y { a }` plus `f(x) = y { b }`. regorus rejects it; the head is repeated before
//!    each further body (on the same line).
//! 3. OPA's compiler moves a reference passed to a user function out of a negation:
//!    `not f(x, params.ranges)` runs as `__local = params.ranges; not f(x, __local)`, so an
//!    undefined `params.ranges` makes the whole body undefined (opa#1877, #4743, #8387).
//!    regorus keeps the reference inside the `not`, which then succeeds. Gatekeeper templates
//!    rely on OPA's reading (the library's `k8spspallowedusers` with `rule: RunAsAny`), so such
//!    arguments are moved before the `not`, on the same line ([`hoist_negated_call_refs`]).

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

/// Rewrite 3 of the module documentation: in a body line `not f(args)` where `f` is a
/// function of the module (a head at column 0) or imported by name, each argument that is a
/// plain reference (`a.b`, `a[k]`; not a bare variable) is bound first, as OPA's compiler
/// does. Other lines are copied unchanged.
pub(crate) fn hoist_negated_call_refs(source: &str) -> String {
    let functions = user_functions(source);
    if functions.is_empty() {
        return source.to_owned();
    }
    let mut out = String::with_capacity(source.len() + 64);
    let mut in_raw = false;
    let mut generated = 0usize;
    for line in source.split_inclusive('\n') {
        let rewritten = if in_raw {
            None
        } else {
            hoist_line(line, &functions, &mut generated)
        };
        out.push_str(rewritten.as_deref().unwrap_or(line));
        in_raw = ends_in_raw_string(line, in_raw);
    }
    out
}

/// Names of functions defined (heads at column 0: `name(`) or imported (`import data.x.name`).
fn user_functions(source: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for line in source.lines() {
        if let Some(path) = line.strip_prefix("import data.") {
            let path = path.split_whitespace().next().unwrap_or("");
            let name = path.rsplit('.').next().unwrap_or("");
            if is_identifier(name) {
                names.push(name);
            }
            continue;
        }
        let ident_len = identifier_len(line);
        if ident_len > 0 && line[ident_len..].starts_with('(') {
            names.push(&line[..ident_len]);
        }
    }
    names.sort_unstable();
    names.dedup();
    names
}

fn hoist_line(line: &str, functions: &[&str], generated: &mut usize) -> Option<String> {
    let indent_len = line.len() - line.trim_start_matches([' ', '\t']).len();
    if indent_len == 0 {
        return None;
    }
    let rest = line[indent_len..].strip_prefix("not ")?;
    let call = rest.trim_start();
    let name_len = identifier_len(call);
    if name_len == 0 || !functions.contains(&&call[..name_len]) {
        return None;
    }
    let open = name_len + call[name_len..].find(|c: char| c != ' ')?;
    if !call[open..].starts_with('(') {
        return None;
    }
    let args = split_call_args(&call[open + 1..])?;
    let after = &call[open + 1 + args.len_consumed..];
    let tail = after.trim_start();
    if !(tail.is_empty() || tail.starts_with('#')) {
        return None;
    }
    let mut bindings = String::new();
    let mut new_args = Vec::with_capacity(args.items.len());
    for arg in &args.items {
        let arg = arg.trim();
        if is_plain_reference(arg) {
            let var = format!("__ferry_not_{generated}");
            *generated += 1;
            bindings.push_str(&format!("{var} = {arg}; "));
            new_args.push(var);
        } else {
            new_args.push(arg.to_owned());
        }
    }
    if bindings.is_empty() {
        return None;
    }
    Some(format!(
        "{}{bindings}not {}({}){after}",
        &line[..indent_len],
        &call[..name_len],
        new_args.join(", "),
    ))
}

struct CallArgs<'a> {
    items: Vec<&'a str>,
    /// Bytes up to and including the closing parenthesis.
    len_consumed: usize,
}

/// The top-level arguments of a call whose `(` was just consumed, when the call closes on
/// the same line.
fn split_call_args(text: &str) -> Option<CallArgs<'_>> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut items = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' | b'\n' | b'#' => return None,
            b'(' | b'[' | b'{' => depth += 1,
            b')' if depth == 0 => {
                let last = text[start..i].trim();
                if !last.is_empty() || !items.is_empty() {
                    items.push(&text[start..i]);
                }
                return Some(CallArgs {
                    items,
                    len_consumed: i + 1,
                });
            }
            b')' | b']' | b'}' => depth = depth.checked_sub(1)?,
            b',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `a.b.c` or `a[k].b` (brackets holding no brackets, strings or calls): a reference that may
/// be undefined. A bare variable is not one.
fn is_plain_reference(arg: &str) -> bool {
    let head = identifier_len(arg);
    if head == 0 || head == arg.len() {
        return false;
    }
    let mut rest = &arg[head..];
    while !rest.is_empty() {
        if let Some(field) = rest.strip_prefix('.') {
            let n = identifier_len(field);
            if n == 0 {
                return false;
            }
            rest = &field[n..];
        } else if let Some(index) = rest.strip_prefix('[') {
            let Some(close) = index.find(']') else {
                return false;
            };
            let key = &index[..close];
            if key.is_empty() || key.contains(['[', '(', '"', '`', ' ']) {
                return false;
            }
            rest = &index[close + 1..];
        } else {
            return false;
        }
    }
    true
}

fn identifier_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    if bytes
        .first()
        .is_none_or(|b| !(b.is_ascii_alphabetic() || *b == b'_'))
    {
        return 0;
    }
    bytes
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .unwrap_or(bytes.len())
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty() && identifier_len(text) == text.len()
}

/// Whether a raw (backtick) string is still open at the end of `line`.
fn ends_in_raw_string(line: &str, mut in_raw: bool) -> bool {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_raw {
            if c == b'`' {
                in_raw = false;
            }
        } else {
            match c {
                b'`' => in_raw = true,
                b'#' => return false,
                b'"' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        if bytes[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    in_raw
}

#[cfg(test)]
mod tests {
    use super::{hoist_negated_call_refs, normalize};

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

    #[test]
    fn moves_references_out_of_negated_user_function_calls() {
        let src = "package p\n\nimport data.lib.ex.is_exempt\n\nv {\n  not accept(rule, x, params.ranges) # why\n  not is_exempt(input.review.object)\n  not accept(rule, x)\n  not count(input.a.b)\n}\n\naccept(\"Any\", _, _)\n";
        assert_eq!(
            hoist_negated_call_refs(src),
            "package p\n\nimport data.lib.ex.is_exempt\n\nv {\n  __ferry_not_0 = params.ranges; not accept(rule, x, __ferry_not_0) # why\n  __ferry_not_1 = input.review.object; not is_exempt(__ferry_not_1)\n  not accept(rule, x)\n  not count(input.a.b)\n}\n\naccept(\"Any\", _, _)\n"
        );
    }

    #[test]
    fn leaves_other_arguments_and_raw_strings_alone() {
        let src = "f(x) { x }\np {\n  not f(g(a.b))\n  not f(\"a.b\")\n  not f([a.b])\n  not f(a[\"k\"])\n  y := `\n  not f(a.b)\n`\n  not f(\n    a.b)\n}\n";
        assert_eq!(hoist_negated_call_refs(src), src);
    }
}
