//! Events to go-yaml's node graph (`yaml.Node` as `yaml.Decoder` builds it),
//! including where go-yaml moves foot comments between keys and values.
//!
//! Nodes live in an arena so an alias can point at its anchored node the way
//! go-yaml's `Node.Alias` pointer does (later comment moves stay visible
//! through the alias, and a self-referencing alias is detectable).

use std::collections::HashMap;

use super::YamlError;
use super::node::{Kind, Style};
use super::parser::{Event, EventKind, Parser};
use super::resolve::{resolve, short_tag};
use super::scanner::ScalarStyle;

pub(crate) type NodeId = usize;

#[derive(Debug, Clone)]
pub(crate) struct GraphNode {
    pub kind: Kind,
    pub style: Style,
    pub tag: String,
    pub value: String,
    pub content: Vec<NodeId>,
    pub alias: Option<NodeId>,
    pub head_comment: String,
    pub line_comment: String,
    pub foot_comment: String,
    /// 1-based source line, for error messages.
    pub line: usize,
}

impl GraphNode {
    /// go-yaml's `indicatedString`: explicitly a string by tag or quoting.
    pub fn indicated_string(&self) -> bool {
        self.kind == Kind::Scalar
            && (short_tag(&self.tag) == "!!str"
                || ((self.tag.is_empty() || self.tag == "!") && self.style.is_quoted_or_block()))
    }
}

/// All nodes of one YAML stream.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub nodes: Vec<GraphNode>,
}

impl Graph {
    pub fn node(&self, id: NodeId) -> &GraphNode {
        &self.nodes[id]
    }
}

/// Nesting bound for the composer's recursion (deeper input is refused, never
/// overflowing the stack).
pub(crate) const MAX_DEPTH: usize = crate::MAX_NESTING;

pub(crate) struct Composer {
    parser: Parser,
    event: Option<Event>,
    anchors: HashMap<String, NodeId>,
    started: bool,
    pub graph: Graph,
}

impl Composer {
    pub fn new(input: &str) -> Result<Composer, YamlError> {
        // go-yaml parses an empty input as a single line break.
        let text = if input.is_empty() { "\n" } else { input };
        Ok(Composer {
            parser: Parser::new(text)?,
            event: None,
            anchors: HashMap::new(),
            started: false,
            graph: Graph::default(),
        })
    }

    fn peek(&mut self) -> Result<EventKind, YamlError> {
        if self.event.is_none() {
            self.event = self.parser.next_event()?;
        }
        Ok(self.event.as_ref().map_or(EventKind::StreamEnd, |e| e.kind))
    }

    fn take(&mut self, kind: EventKind) -> Result<Event, YamlError> {
        self.peek()?;
        match self.event.take() {
            Some(e) if e.kind == kind => Ok(e),
            Some(e) => Err(YamlError::new(e.start.line + 1, "unexpected YAML event")),
            None => Err(YamlError::new(0, "unexpected end of YAML stream")),
        }
    }

    /// Returns the next document node, or `None` at the end of the stream.
    pub fn next_document(&mut self) -> Result<Option<NodeId>, YamlError> {
        if !self.started {
            self.take(EventKind::StreamStart)?;
            self.started = true;
        }
        match self.peek()? {
            EventKind::StreamEnd => Ok(None),
            EventKind::DocumentStart => Ok(Some(self.document()?)),
            _ => Err(YamlError::new(0, "expected a YAML document")),
        }
    }

    fn push(
        &mut self,
        kind: Kind,
        default_tag: &str,
        tag: &str,
        value: &str,
        event: &Event,
    ) -> NodeId {
        let (tag, style) = if !tag.is_empty() && tag != "!" {
            (short_tag(tag).to_string(), Style::TAGGED)
        } else if !default_tag.is_empty() {
            (default_tag.to_string(), Style::default())
        } else if kind == Kind::Scalar {
            (resolve("", value).0.to_string(), Style::default())
        } else {
            (String::new(), Style::default())
        };
        self.graph.nodes.push(GraphNode {
            kind,
            style,
            tag,
            value: value.to_string(),
            content: Vec::new(),
            alias: None,
            head_comment: event.head_comment.clone(),
            line_comment: event.line_comment.clone(),
            foot_comment: event.foot_comment.clone(),
            line: event.start.line + 1,
        });
        self.graph.nodes.len() - 1
    }

    fn anchor(&mut self, id: NodeId, anchor: &str) {
        if !anchor.is_empty() {
            self.anchors.insert(anchor.to_string(), id);
        }
    }

    fn parse(&mut self, depth: usize) -> Result<NodeId, YamlError> {
        if depth > MAX_DEPTH {
            return Err(YamlError::new(0, "document nesting is too deep"));
        }
        match self.peek()? {
            EventKind::Scalar => self.scalar(),
            EventKind::Alias => self.alias(),
            EventKind::MappingStart => self.mapping(depth),
            EventKind::SequenceStart => self.sequence(depth),
            EventKind::DocumentStart => self.document(),
            _ => Err(YamlError::new(0, "unexpected YAML event")),
        }
    }

    fn document(&mut self) -> Result<NodeId, YamlError> {
        let event = self.take(EventKind::DocumentStart)?;
        let id = self.push(Kind::Document, "", "", "", &event);
        let child = self.parse(1)?;
        self.graph.nodes[id].content.push(child);
        let end = self.take(EventKind::DocumentEnd)?;
        self.graph.nodes[id].foot_comment = end.foot_comment;
        Ok(id)
    }

    fn alias(&mut self) -> Result<NodeId, YamlError> {
        let event = self.take(EventKind::Alias)?;
        let id = self.push(Kind::Alias, "", "", &event.anchor, &event);
        let Some(&target) = self.anchors.get(&event.anchor) else {
            return Err(YamlError::new(
                event.start.line + 1,
                "unknown anchor referenced by an alias",
            ));
        };
        self.graph.nodes[id].alias = Some(target);
        Ok(id)
    }

    fn scalar(&mut self) -> Result<NodeId, YamlError> {
        let event = self.take(EventKind::Scalar)?;
        let node_style = match event.scalar_style {
            ScalarStyle::DoubleQuoted => Style::DOUBLE_QUOTED,
            ScalarStyle::SingleQuoted => Style::SINGLE_QUOTED,
            ScalarStyle::Literal => Style::LITERAL,
            ScalarStyle::Folded => Style::FOLDED,
            ScalarStyle::Plain => Style::default(),
        };
        let default_tag = if node_style == Style::default() {
            if event.value == "<<" { "!!merge" } else { "" }
        } else {
            "!!str"
        };
        let id = self.push(Kind::Scalar, default_tag, &event.tag, &event.value, &event);
        let node = &mut self.graph.nodes[id];
        node.style = node.style.with(node_style);
        self.anchor(id, &event.anchor);
        Ok(id)
    }

    fn sequence(&mut self, depth: usize) -> Result<NodeId, YamlError> {
        let event = self.take(EventKind::SequenceStart)?;
        let id = self.push(Kind::Sequence, "!!seq", &event.tag, "", &event);
        if event.flow {
            let node = &mut self.graph.nodes[id];
            node.style = node.style.with(Style::FLOW);
        }
        self.anchor(id, &event.anchor);
        while self.peek()? != EventKind::SequenceEnd {
            let child = self.parse(depth + 1)?;
            self.graph.nodes[id].content.push(child);
        }
        let end = self.take(EventKind::SequenceEnd)?;
        let node = &mut self.graph.nodes[id];
        node.line_comment = end.line_comment;
        node.foot_comment = end.foot_comment;
        Ok(id)
    }

    fn mapping(&mut self, depth: usize) -> Result<NodeId, YamlError> {
        let event = self.take(EventKind::MappingStart)?;
        let id = self.push(Kind::Mapping, "!!map", &event.tag, "", &event);
        let block = !event.flow;
        if event.flow {
            let node = &mut self.graph.nodes[id];
            node.style = node.style.with(Style::FLOW);
        }
        self.anchor(id, &event.anchor);
        while self.peek()? != EventKind::MappingEnd {
            let key = self.parse(depth + 1)?;
            self.graph.nodes[id].content.push(key);
            let len = self.graph.nodes[id].content.len();
            if block && !self.graph.nodes[key].foot_comment.is_empty() && len > 2 {
                // A foot comment seen before this key belongs to the
                // previous key.
                let previous_key = self.graph.nodes[id].content[len - 3];
                let foot = std::mem::take(&mut self.graph.nodes[key].foot_comment);
                self.graph.nodes[previous_key].foot_comment = foot;
            }
            let value = self.parse(depth + 1)?;
            self.graph.nodes[id].content.push(value);
            if self.graph.nodes[key].foot_comment.is_empty()
                && !self.graph.nodes[value].foot_comment.is_empty()
            {
                let foot = std::mem::take(&mut self.graph.nodes[value].foot_comment);
                self.graph.nodes[key].foot_comment = foot;
            }
        }
        let end = self.take(EventKind::MappingEnd)?;
        let node = &mut self.graph.nodes[id];
        node.line_comment = end.line_comment;
        node.foot_comment = end.foot_comment;
        if !node.style.has(Style::FLOW) && !node.foot_comment.is_empty() && node.content.len() > 1 {
            let last_key = node.content[node.content.len() - 2];
            let foot = std::mem::take(&mut self.graph.nodes[id].foot_comment);
            self.graph.nodes[last_key].foot_comment = foot;
        }
        Ok(id)
    }
}
