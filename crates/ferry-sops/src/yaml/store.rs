//! sops' YAML store: go-yaml nodes to the sops tree (comments become tree
//! items) and back, exactly as `stores/yaml` in sops does it.

use base64::Engine as _;

use super::YamlError;
use super::compose::{Composer, Graph, MAX_DEPTH, NodeId};
use super::encode::{
    DocumentEncoder, binary_node, bool_node, bytes_node, float_node, int_node, null_node,
    string_node, time_node, uint_node,
};
use super::node::{Kind, Node};
use super::resolve::{BINARY_TAG, Resolved, resolve_checked};
use crate::tree::{Branch, Comment, Item, Value};

/// Bounds the total work of expanding aliases into the tree, so a document
/// built to explode ("billion laughs") is refused.
const MAX_EXPANDED_NODES: usize = 2_000_000;

struct Converter<'a> {
    graph: &'a Graph,
    /// Decode errors are fatal in the first document (sops decodes it once
    /// more into a map to check for duplicate keys) and turn a value into
    /// null elsewhere (sops ignores `Node.Decode` errors).
    strict: bool,
    visited: usize,
    /// Alias targets being expanded, to refuse an alias inside itself.
    expanding: Vec<NodeId>,
}

/// sops 3.11 keeps no "inline" mark on comments: a comment at the end of a
/// value's line comes back as a comment line above it (later sops versions
/// mark these; the tree keeps the flag so such files still emit correctly).
const KEEP_INLINE_COMMENTS: bool = false;

fn comment_lines(comment: &str, inline: bool) -> impl Iterator<Item = Comment> + '_ {
    comment
        .split('\n')
        .filter(|line| !line.is_empty())
        .map(move |line| Comment {
            // sops drops the first byte, the '#'.
            text: line.get(1..).unwrap_or_default().to_string(),
            inline: inline && KEEP_INLINE_COMMENTS,
        })
}

fn push_list_comments(list: &mut Vec<Value>, comment: &str, inline: bool) {
    list.extend(comment_lines(comment, inline).map(Value::Comment));
}

fn push_map_comments(branch: &mut Branch, comment: &str, inline: bool) {
    branch
        .0
        .extend(comment_lines(comment, inline).map(|c| Item {
            key: Value::Comment(c),
            value: Value::Null,
        }));
}

impl Converter<'_> {
    fn enter(&mut self, depth: usize, line: usize) -> Result<(), YamlError> {
        self.visited += 1;
        if self.visited > MAX_EXPANDED_NODES {
            return Err(YamlError::new(line, "document contains excessive aliasing"));
        }
        if depth > MAX_DEPTH {
            return Err(YamlError::new(line, "document nesting is too deep"));
        }
        Ok(())
    }

    fn alias_target(&self, id: NodeId) -> Result<NodeId, YamlError> {
        let node = self.graph.node(id);
        let target = node
            .alias
            .ok_or_else(|| YamlError::new(node.line, "alias without a target"))?;
        if self.expanding.contains(&target) {
            return Err(YamlError::new(node.line, "anchor value contains itself"));
        }
        Ok(target)
    }

    fn value(
        &mut self,
        id: NodeId,
        comments_handled: bool,
        depth: usize,
    ) -> Result<Value, YamlError> {
        let node = self.graph.node(id);
        self.enter(depth, node.line)?;
        match node.kind {
            Kind::Document => Err(YamlError::new(node.line, "unexpected nested document")),
            Kind::Sequence => {
                let mut list = Vec::new();
                if !comments_handled {
                    push_list_comments(&mut list, &node.head_comment, false);
                    push_list_comments(&mut list, &node.line_comment, false);
                }
                for &item_id in &node.content {
                    let item = self.graph.node(item_id);
                    push_list_comments(&mut list, &item.head_comment, false);
                    push_list_comments(&mut list, &item.line_comment, true);
                    let value = self.value(item_id, true, depth + 1)?;
                    list.push(value);
                    push_list_comments(&mut list, &self.graph.node(item_id).foot_comment, false);
                }
                if !comments_handled {
                    push_list_comments(&mut list, &node.foot_comment, false);
                }
                Ok(Value::List(list))
            }
            Kind::Mapping => {
                let mut branch = Branch::default();
                self.append_to_branch(id, &mut branch, comments_handled, depth)?;
                Ok(Value::Map(branch))
            }
            Kind::Scalar => self.scalar(id),
            Kind::Alias => {
                let target = self.alias_target(id)?;
                self.expanding.push(target);
                let value = self.value(target, false, depth + 1);
                self.expanding.pop();
                value
            }
        }
    }

    /// `Node.Decode(&interface{})` of a scalar (or of an alias to one).
    fn scalar(&mut self, id: NodeId) -> Result<Value, YamlError> {
        let node = self.graph.node(id);
        if node.indicated_string() {
            return Ok(Value::Str(node.value.clone()));
        }
        let decoded = match resolve_checked(&node.tag, &node.value) {
            Ok((tag, _)) if tag == BINARY_TAG => {
                let compact: String = node
                    .value
                    .chars()
                    .filter(|c| *c != '\n' && *c != '\r')
                    .collect();
                match base64::engine::general_purpose::STANDARD.decode(compact) {
                    Ok(bytes) => Ok(match String::from_utf8(bytes) {
                        Ok(s) => Value::Str(s),
                        Err(e) => Value::RawStr(e.into_bytes()),
                    }),
                    Err(_) => Err("!!binary value contains invalid base64 data".to_string()),
                }
            }
            Ok((_, resolved)) => Ok(match resolved {
                Resolved::Null => Value::Null,
                Resolved::Bool(b) => Value::Bool(b),
                Resolved::Int(i) => Value::Int(i),
                Resolved::Uint(u) => Value::Uint(u),
                Resolved::Float(f) => Value::Float(f),
                Resolved::Timestamp(t) => Value::Time(t),
                Resolved::Str(s) => Value::Str(s),
            }),
            Err(message) => Err(message),
        };
        match decoded {
            Ok(value) => Ok(value),
            Err(message) if self.strict => Err(YamlError::new(node.line, &message)),
            Err(_) => Ok(Value::Null),
        }
    }

    /// The key of a mapping entry (`key.Decode(&interface{})`).
    fn key(&mut self, id: NodeId, depth: usize) -> Result<Value, YamlError> {
        let node = self.graph.node(id);
        match node.kind {
            Kind::Scalar => self.scalar(id),
            Kind::Alias => {
                let target = self.alias_target(id)?;
                self.expanding.push(target);
                let value = self.key(target, depth + 1);
                self.expanding.pop();
                value
            }
            // A collection as a key: kept so the tree walk can refuse it as
            // sops does ("non-string key").
            _ => self.value(id, true, depth + 1),
        }
    }

    fn append_to_branch(
        &mut self,
        id: NodeId,
        branch: &mut Branch,
        comments_handled: bool,
        depth: usize,
    ) -> Result<(), YamlError> {
        let node = self.graph.node(id);
        self.enter(depth, node.line)?;
        if !comments_handled {
            push_map_comments(branch, &node.head_comment, false);
            push_map_comments(branch, &node.line_comment, false);
        }
        match node.kind {
            Kind::Document => {
                for &child in &node.content {
                    self.append_to_branch(child, branch, false, depth + 1)?;
                }
            }
            Kind::Sequence => {
                return Err(YamlError::new(
                    node.line,
                    "YAML documents that are sequences are not supported",
                ));
            }
            Kind::Mapping => {
                for pair in node.content.chunks(2) {
                    let [key_id, value_id] = *pair else {
                        break;
                    };
                    let key = self.graph.node(key_id);
                    let value = self.graph.node(value_id);
                    push_map_comments(branch, &key.head_comment, false);
                    push_map_comments(branch, &key.line_comment, false);
                    let handle_value_comments = matches!(value.kind, Kind::Scalar | Kind::Alias);
                    if handle_value_comments {
                        push_map_comments(branch, &value.head_comment, false);
                        push_map_comments(branch, &value.line_comment, true);
                    }
                    let key_value = self.key(key_id, depth + 1)?;
                    let tree_value = self.value(value_id, handle_value_comments, depth + 1)?;
                    branch.0.push(Item {
                        key: key_value,
                        value: tree_value,
                    });
                    if handle_value_comments {
                        push_map_comments(branch, &self.graph.node(value_id).foot_comment, false);
                    }
                    push_map_comments(branch, &self.graph.node(key_id).foot_comment, false);
                }
            }
            Kind::Scalar => {
                // An empty document (a bare `---`) is null: an empty branch.
                let is_null = !node.indicated_string()
                    && resolve_checked(&node.tag, &node.value)
                        .is_ok_and(|(tag, _)| tag == "!!null");
                if is_null {
                    return Ok(());
                }
                return Err(YamlError::new(
                    node.line,
                    "YAML documents that are values are not supported",
                ));
            }
            Kind::Alias => {
                let target = self.alias_target(id)?;
                self.expanding.push(target);
                let result = self.append_to_branch(target, branch, false, depth + 1);
                self.expanding.pop();
                result?;
            }
        }
        if !comments_handled {
            push_map_comments(branch, &self.graph.node(id).foot_comment, false);
        }
        Ok(())
    }
}

/// go-yaml refuses a mapping that repeats a key (sops checks the first
/// document this way before reading it).
fn check_unique_keys(
    graph: &Graph,
    id: NodeId,
    depth: usize,
    budget: &mut usize,
) -> Result<(), YamlError> {
    if depth > MAX_DEPTH || *budget == 0 {
        return Ok(());
    }
    *budget -= 1;
    let node = graph.node(id);
    if node.kind == Kind::Mapping {
        let keys: Vec<NodeId> = node.content.iter().step_by(2).copied().collect();
        for (i, &a) in keys.iter().enumerate() {
            for &b in &keys[i + 1..] {
                let (na, nb) = (graph.node(a), graph.node(b));
                if na.kind == nb.kind && na.value == nb.value {
                    return Err(YamlError::new(
                        nb.line,
                        &format!(
                            "mapping key {:?} already defined at line {}",
                            nb.value, na.line
                        ),
                    ));
                }
            }
        }
    }
    for &child in &node.content {
        check_unique_keys(graph, child, depth + 1, budget)?;
    }
    Ok(())
}

/// sops' `LoadPlainFile` for YAML: one branch per document.
pub(crate) fn load(text: &str) -> Result<Vec<Branch>, YamlError> {
    let mut composer = Composer::new(text)?;
    let mut documents = Vec::new();
    while let Some(id) = composer.next_document()? {
        documents.push(id);
    }
    let graph = &composer.graph;
    let mut branches = Vec::with_capacity(documents.len());
    for (index, &doc) in documents.iter().enumerate() {
        if index == 0 {
            let mut budget = MAX_EXPANDED_NODES;
            check_unique_keys(graph, doc, 0, &mut budget)?;
        }
        let mut converter = Converter {
            graph,
            strict: index == 0,
            visited: 0,
            expanding: Vec::new(),
        };
        let mut branch = Branch::default();
        converter.append_to_branch(doc, &mut branch, false, 0)?;
        branches.push(branch);
    }
    Ok(branches)
}

// ----- tree to nodes (sops' appendTreeBranch / appendSequence) -----

fn join_comments(comments: &[String]) -> String {
    format!("#{}", comments.join("\n#"))
}

fn add_head(node: &mut Node, comments: &mut Vec<String>) {
    if !comments.is_empty() {
        let comment = join_comments(comments);
        node.head_comment = if node.head_comment.is_empty() {
            comment
        } else {
            format!("{comment}\n{}", node.head_comment)
        };
        comments.clear();
    }
}

fn add_foot(node: &mut Node, comments: &mut Vec<String>) {
    if !comments.is_empty() {
        let comment = join_comments(comments);
        if node.foot_comment.is_empty() {
            node.foot_comment = comment;
        } else {
            node.foot_comment.push('\n');
            node.foot_comment.push_str(&comment);
        }
        comments.clear();
    }
}

fn add_line(node: &mut Node, comments: &mut Vec<String>) {
    if !comments.is_empty() {
        let comment = join_comments(comments);
        if node.line_comment.is_empty() {
            node.line_comment = comment;
        } else {
            node.line_comment.push('\n');
            node.line_comment.push_str(&comment);
        }
        comments.clear();
    }
}

fn value_node(value: &Value, depth: usize) -> Result<Node, YamlError> {
    if depth > MAX_DEPTH {
        return Err(YamlError::new(0, "document nesting is too deep"));
    }
    Ok(match value {
        Value::Map(branch) => {
            let mut mapping = Node::new(Kind::Mapping);
            append_tree_branch(branch, &mut mapping, depth + 1)?;
            mapping
        }
        Value::List(items) => {
            let mut sequence = Node::new(Kind::Sequence);
            append_sequence(items, &mut sequence, depth + 1)?;
            sequence
        }
        Value::Str(s) => string_node(s),
        Value::RawStr(b) => binary_node(b),
        Value::Bytes(b) => bytes_node(b),
        Value::Int(i) => int_node(*i),
        Value::Uint(u) => uint_node(*u),
        Value::Float(f) => float_node(*f),
        Value::Bool(b) => bool_node(*b),
        Value::Time(t) => time_node(t),
        Value::Null => null_node(),
        // A comment as a value only arises from odd trees; go-yaml would
        // encode the Comment struct as a mapping with its field.
        Value::Comment(c) => string_node(&c.text),
    })
}

fn append_sequence(items: &[Value], sequence: &mut Node, depth: usize) -> Result<(), YamlError> {
    let mut head = Vec::new();
    let mut inline = Vec::new();
    let mut beginning = true;
    for item in items {
        if let Value::Comment(c) = item {
            if c.inline {
                inline.push(c.text.clone());
            } else {
                head.push(c.text.clone());
            }
            continue;
        }
        if beginning {
            add_head(sequence, &mut head);
            beginning = false;
        }
        let mut node = value_node(item, depth)?;
        add_head(&mut node, &mut head);
        add_line(&mut node, &mut inline);
        sequence.content.push(node);
    }
    head.append(&mut inline);
    if !head.is_empty() {
        match sequence.content.last_mut() {
            Some(last) if !beginning => add_foot(last, &mut head),
            _ => add_head(sequence, &mut head),
        }
    }
    Ok(())
}

fn append_tree_branch(branch: &Branch, mapping: &mut Node, depth: usize) -> Result<(), YamlError> {
    let mut head = Vec::new();
    let mut inline = Vec::new();
    let mut beginning = true;
    for item in &branch.0 {
        if let Value::Comment(c) = &item.key {
            if c.inline {
                inline.push(c.text.clone());
            } else {
                head.push(c.text.clone());
            }
            continue;
        }
        if beginning {
            add_head(mapping, &mut head);
            beginning = false;
        }
        let mut key = value_node(&item.key, depth)?;
        add_head(&mut key, &mut head);
        let mut value = value_node(&item.value, depth)?;
        add_line(&mut value, &mut inline);
        mapping.content.push(key);
        mapping.content.push(value);
    }
    head.append(&mut inline);
    if !head.is_empty() {
        let len = mapping.content.len();
        if beginning || len < 2 {
            add_head(mapping, &mut head);
        } else {
            add_foot(&mut mapping.content[len - 2], &mut head);
        }
    }
    Ok(())
}

/// sops' `EmitPlainFile` for YAML: each branch as a document, with the given
/// indentation (sops' default is 4).
pub(crate) fn emit(branches: &[Branch], indent: usize) -> Result<String, YamlError> {
    let emit_error = |e: super::emitter::EmitError| YamlError::new(0, e.0);
    let mut encoder = DocumentEncoder::new(indent).map_err(emit_error)?;
    for branch in branches {
        let mut mapping = Node::new(Kind::Mapping);
        append_tree_branch(branch, &mut mapping, 0)?;
        let mut document = Node::new(Kind::Document);
        document.content.push(mapping);
        encoder.encode(&document).map_err(emit_error)?;
    }
    encoder.finish().map_err(emit_error)
}
