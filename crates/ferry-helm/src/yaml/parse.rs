//! YAML text to [`Node`]s with go-yaml v2's decoding rules, over granit-parser's events:
//! anchors and aliases (with a bound on alias expansion), `<<` merge keys, core tags,
//! plain-scalar resolution.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle};

use super::{Node, YamlError, resolve};

/// Bound on nesting depth (go-yaml v3's limit; v2 relies on the stack).
const MAX_DEPTH: usize = 10_000;
/// Bound on nodes produced by alias expansion ("billion laughs").
const MAX_ALIAS_NODES: usize = 4_000_000;

fn options() -> granit_parser::Options {
    let mut o = granit_parser::Options::default();
    o.block_scalar_eof_without_line_feed = true;
    // go-yaml's own depth bound (MAX_DEPTH, below) decides; the parser's defaults are 255.
    o.flow_nesting_limit = MAX_DEPTH + 1;
    o.block_nesting_limit = MAX_DEPTH + 1;
    o
}

fn too_deep(span: &granit_parser::Span) -> YamlError {
    let line = span.start.line();
    if line > 1 {
        YamlError(format!(
            "yaml: line {line}: exceeded max depth of {MAX_DEPTH}"
        ))
    } else {
        YamlError(format!("yaml: exceeded max depth of {MAX_DEPTH}"))
    }
}

/// go-yaml's wording for a syntax error. go-yaml (libyaml) prints the line of a scanner error
/// 1-based and that of a parser error 0-based, and leaves out line 0 in both; the common
/// errors are mapped to libyaml's messages, the rest keep the parser's.
fn scan_error(e: &granit_parser::ScanError, text: &str) -> YamlError {
    use granit_parser::ErrorKind as K;
    let line1 = e.marker().line();
    let eof_line0 = text.matches('\n').count();
    let scanner = |msg: &str, line1: usize| {
        if line1 > 1 {
            YamlError(format!("yaml: line {line1}: {msg}"))
        } else {
            YamlError(format!("yaml: {msg}"))
        }
    };
    let parser = |msg: &str, line0: usize| {
        if line0 > 0 {
            YamlError(format!("yaml: line {line0}: {msg}"))
        } else {
            YamlError(format!("yaml: {msg}"))
        }
    };
    let flow = |open: char| {
        if open == '{' {
            "did not find expected ',' or '}'"
        } else {
            "did not find expected ',' or ']'"
        }
    };
    match e.kind() {
        K::UnclosedFlowCollection { open } => parser(flow(*open), eof_line0),
        K::MismatchedFlowCollectionEnd { open, .. } => parser(flow(*open), line1.saturating_sub(1)),
        K::ExpectedFlowSequenceSeparator => parser(flow('['), line1.saturating_sub(1)),
        K::ExpectedFlowMappingSeparator => parser(flow('{'), line1.saturating_sub(1)),
        K::MisplacedFlowCollectionEnd | K::ExpectedNodeContent => parser(
            "did not find expected node content",
            line1.saturating_sub(1),
        ),
        K::ExpectedBlockMappingKey => parser("did not find expected key", line1.saturating_sub(1)),
        K::ExpectedBlockSequenceEntry => parser(
            "did not find expected '-' indicator",
            line1.saturating_sub(1),
        ),
        K::UnclosedQuotedScalar => scanner("found unexpected end of stream", eof_line0 + 1),
        K::UnexpectedCharacter { .. } | K::TabInBlockIndentation | K::TabNotAllowed => {
            scanner("found character that cannot start any token", line1)
        }
        K::SimpleKeyExpected => scanner("could not find expected ':'", line1 + 1),
        K::UnknownAnchor => {
            let name: String = text
                .chars()
                .skip(e.marker().index())
                .skip_while(|c| *c == '*')
                .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
                .collect();
            YamlError(format!("yaml: unknown anchor '{name}' referenced"))
        }
        _ => scanner(&e.info(), line1),
    }
}

enum Frame {
    Seq {
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        pairs: Vec<(Node, Node)>,
        key: Option<(Node, bool)>,
    },
}

fn node_size(n: &Node) -> usize {
    match n {
        Node::Seq(items) => 1 + items.iter().map(node_size).sum::<usize>(),
        Node::Map(pairs) => {
            1 + pairs
                .iter()
                .map(|(k, v)| node_size(k) + node_size(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn scalar(
    cow: std::borrow::Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&granit_parser::Tag>,
) -> Result<Node, YamlError> {
    let value: &str = &cow;
    if let Some(t) = tag {
        let core = t.is_yaml_core_schema();
        let suffix = t.suffix();
        if core {
            return Ok(match suffix {
                "str" => Node::Str(value.to_string()),
                "null" => Node::Null,
                "bool" => match resolve::plain(value) {
                    b @ Node::Bool(_) => b,
                    _ => {
                        return Err(YamlError(format!(
                            "yaml: cannot decode !!str `{value}` as a !!bool"
                        )));
                    }
                },
                "int" => match resolve::plain(value) {
                    n @ (Node::Int(_) | Node::Uint(_)) => n,
                    _ => {
                        return Err(YamlError(format!(
                            "yaml: cannot decode !!str `{value}` as a !!int"
                        )));
                    }
                },
                "float" => match resolve::plain(value) {
                    Node::Int(i) => Node::Float(i as f64),
                    Node::Uint(u) => Node::Float(u as f64),
                    f @ Node::Float(_) => f,
                    _ => {
                        return Err(YamlError(format!(
                            "yaml: cannot decode !!str `{value}` as a !!float"
                        )));
                    }
                },
                "binary" => {
                    use base64::Engine;
                    let clean: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                    match base64::engine::general_purpose::STANDARD.decode(clean) {
                        Ok(b) => Node::Binary(b),
                        Err(_) => {
                            return Err(YamlError(
                                "yaml: !!binary value contains invalid base64 data".into(),
                            ));
                        }
                    }
                }
                "timestamp" => Node::Str(value.to_string()),
                _ => Node::Str(value.to_string()),
            });
        }
        // unknown (local) tags leave the scalar a string
        return Ok(Node::Str(value.to_string()));
    }
    Ok(match style {
        ScalarStyle::Plain => resolve::plain(value),
        // the parser's own copy when it made one (escapes, folding), else one copy
        _ => Node::Str(cow.into_owned()),
    })
}

/// Applies go-yaml's merge of `value` into `pairs` at this point of the mapping.
fn merge_into(pairs: &mut Vec<(Node, Node)>, value: Node) -> Result<(), YamlError> {
    let want = || YamlError("yaml: map merge requires map or sequence of maps as the value".into());
    match value {
        Node::Map(m) => pairs.extend(m),
        Node::Seq(items) => {
            for item in items.into_iter().rev() {
                match item {
                    Node::Map(m) => pairs.extend(m),
                    _ => return Err(want()),
                }
            }
        }
        _ => return Err(want()),
    }
    Ok(())
}

/// Parses the first document of `text`; `None` when the stream has no document content.
pub fn parse_first(text: &str) -> Result<Option<Node>, YamlError> {
    // most values files are plain block mappings, read without the general parser
    if let Some(n) = super::fast::parse_map(text) {
        return Ok(Some(n));
    }
    let mut docs = parse_docs(text, 1)?;
    Ok(docs.pop().flatten())
}

/// Parses up to `limit` documents (each `None` when empty).
pub fn parse_docs(text: &str, limit: usize) -> Result<Vec<Option<Node>>, YamlError> {
    let parser = Parser::new_from_str_with_options(text, options());
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut stack: Vec<Frame> = vec![];
    let mut docs: Vec<Option<Node>> = vec![];
    let mut root: Option<Node> = None;
    let mut alias_nodes = 0usize;
    let mut in_doc = false;
    for ev in parser {
        let (event, span) = ev.map_err(|e| scan_error(&e, text))?;
        let mut completed: Option<(Node, usize, bool)> = None; // node, anchor, is merge key
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Anchor(..) => {}
            Event::DocumentStart(..) => {
                in_doc = true;
                anchors.clear();
                root = None;
            }
            Event::DocumentEnd if in_doc => {
                docs.push(root.take());
                in_doc = false;
                if docs.len() >= limit {
                    return Ok(docs);
                }
            }
            Event::Alias(id) => {
                let Some(n) = anchors.get(&id) else {
                    let name: String = text
                        .chars()
                        .skip(span.start.index())
                        .skip_while(|c| *c == '*')
                        .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
                        .collect();
                    return Err(YamlError(format!(
                        "yaml: anchor '{name}' value contains itself"
                    )));
                };
                alias_nodes += node_size(n);
                if alias_nodes > MAX_ALIAS_NODES {
                    return Err(YamlError(
                        "yaml: document contains excessive aliasing".into(),
                    ));
                }
                completed = Some((n.clone(), 0, false));
            }
            Event::UnresolvedAlias(name) => {
                return Err(YamlError(format!(
                    "yaml: unknown anchor '{name}' referenced"
                )));
            }
            Event::Scalar(value, style, anchor, tag) => {
                let is_merge = value == "<<"
                    && ((style == ScalarStyle::Plain && tag.is_none())
                        || tag
                            .as_deref()
                            .is_some_and(|t| t.is_yaml_core_schema() && t.suffix() == "merge"));
                let node = scalar(value, style, tag.as_deref())?;
                completed = Some((node, anchor, is_merge));
            }
            Event::SequenceStart(_, anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(&span));
                }
                stack.push(Frame::Seq {
                    anchor,
                    items: vec![],
                });
            }
            Event::MappingStart(_, anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(&span));
                }
                stack.push(Frame::Map {
                    anchor,
                    pairs: vec![],
                    key: None,
                });
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq { anchor, items }) => {
                    completed = Some((Node::Seq(items), anchor, false))
                }
                _ => return Err(YamlError("yaml: unbalanced sequence".into())),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map { anchor, pairs, .. }) => {
                    completed = Some((Node::Map(pairs), anchor, false))
                }
                _ => return Err(YamlError("yaml: unbalanced mapping".into())),
            },
            // comments, when the `comments` feature is on elsewhere in the build
            _ => {}
        }
        let Some((node, anchor, is_merge)) = completed else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { pairs, key, .. }) => match key.take() {
                None => *key = Some((node, is_merge)),
                Some((_, true)) => merge_into(pairs, node)?,
                Some((k, false)) => pairs.push((k, node)),
            },
        }
    }
    if in_doc {
        docs.push(root.take());
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_merges_and_tags() {
        let n = parse_first(
            "base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\nw: !!str 10\nz: [on, ~, 0o17]\n",
        )
        .expect("parses")
        .expect("document");
        let v = crate::yaml::to_value(&n).expect("converts");
        assert_eq!(
            crate::json::encode(&v, true).expect("json"),
            r#"{"base":{"a":1,"b":2},"w":"10","x":{"a":1,"b":3},"z":[true,null,15]}"#
        );
        assert!(parse_first("a: [1, 2").is_err());
        assert_eq!(parse_first("# only a comment\n").expect("parses"), None);
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            doc.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        assert!(parse_first(&doc).is_err());
    }
}
