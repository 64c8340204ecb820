//! go-yaml v3's encoder: values to nodes (`Node.Encode`) and nodes to emitter
//! events (`encoder.node`), with its tag and quoting decisions.

use super::emitter::{EmitError, EmitEvent, Emitter, analyze};
use super::node::{Kind, Node, Style};
use super::parser::EventKind;
use super::resolve::{BINARY_TAG, INT_TAG, STR_TAG, TIMESTAMP_TAG, long_tag, resolve, short_tag};
use super::scanner::ScalarStyle;
use crate::gofmt::format_float_g;
use crate::timestamp::Timestamp;

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`: YAML 1.1 base-60
/// floats, which go-yaml still quotes on output.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    if !(first == b'+' || first == b'-' || first.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    let mut i = usize::from(first == b'+' || first == b'-');
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        // [0-5]?[0-9]
        if i + 1 < b.len() && (b'0'..=b'5').contains(&b[i]) && b[i + 1].is_ascii_digit() {
            i += 2;
        } else if b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// YAML 1.1 booleans, which go-yaml quotes for 1.1 readers.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn scalar(tag: &str, value: String, style: Style) -> Node {
    let mut node = Node::new(Kind::Scalar);
    node.tag = tag.to_string();
    node.value = value;
    node.style = style;
    node
}

/// `Node.Encode(s)` for a string: go-yaml marshals it to text (choosing plain,
/// quoted or literal style for a root-level scalar) and parses that text back,
/// so the node keeps the style the first pass chose.
pub(crate) fn string_node(s: &str) -> Node {
    let can_use_plain = resolve("", s).0 == STR_TAG && !(is_base60_float(s) || is_old_bool(s));
    let requested = if s.contains('\n') {
        ScalarStyle::Literal
    } else if can_use_plain {
        ScalarStyle::Plain
    } else {
        ScalarStyle::DoubleQuoted
    };
    // What the emitter makes of it at the document root (block context, not
    // a simple key, implicit tag).
    let analysis = analyze(s);
    let mut style = requested;
    if style == ScalarStyle::Plain && !analysis.block_plain_allowed {
        style = ScalarStyle::SingleQuoted;
    }
    if style == ScalarStyle::SingleQuoted && !analysis.single_quoted_allowed {
        style = ScalarStyle::DoubleQuoted;
    }
    if style == ScalarStyle::Literal && !analysis.block_allowed {
        style = ScalarStyle::DoubleQuoted;
    }
    let node_style = match style {
        ScalarStyle::Plain => Style::default(),
        ScalarStyle::SingleQuoted => Style::SINGLE_QUOTED,
        ScalarStyle::DoubleQuoted => Style::DOUBLE_QUOTED,
        ScalarStyle::Literal => Style::LITERAL,
        ScalarStyle::Folded => Style::FOLDED,
    };
    let tag = if style == ScalarStyle::Plain {
        // Parsed back, a plain `<<` is a merge key (go-yaml tags it so, and
        // then writes the tag out: `!!merge <<`).
        if s == "<<" {
            "!!merge"
        } else {
            resolve("", s).0
        }
    } else {
        STR_TAG
    };
    scalar(tag, s.to_string(), node_style)
}

/// go-yaml's base64 layout for `!!binary`: lines of 70 characters, each
/// ending with a line break when there is more than one.
fn encode_base64_lines(data: &[u8]) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let lines = encoded.len() / 70 + 1;
    if lines == 1 {
        return encoded;
    }
    let mut out = String::with_capacity(encoded.len() + lines);
    for chunk in encoded.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// `Node.Encode` of a string that is not valid UTF-8: a `!!binary` scalar.
pub(crate) fn binary_node(data: &[u8]) -> Node {
    let text = encode_base64_lines(data);
    let style = if text.contains('\n') {
        Style::TAGGED.with(Style::LITERAL)
    } else {
        Style::TAGGED
    };
    scalar(BINARY_TAG, text, style)
}

pub(crate) fn int_node(i: i64) -> Node {
    scalar(INT_TAG, i.to_string(), Style::default())
}

pub(crate) fn uint_node(u: u64) -> Node {
    scalar(INT_TAG, u.to_string(), Style::default())
}

pub(crate) fn float_node(f: f64) -> Node {
    let text = match format_float_g(f).as_str() {
        "+Inf" => ".inf".to_string(),
        "-Inf" => "-.inf".to_string(),
        "NaN" => ".nan".to_string(),
        other => other.to_string(),
    };
    // The text is parsed back: "3" becomes an !!int node, "1e+06" a float.
    let tag = resolve("", &text).0;
    scalar(tag, text, Style::default())
}

pub(crate) fn bool_node(b: bool) -> Node {
    scalar(
        "!!bool",
        if b { "true" } else { "false" }.to_string(),
        Style::default(),
    )
}

pub(crate) fn null_node() -> Node {
    scalar("!!null", "null".to_string(), Style::default())
}

pub(crate) fn time_node(t: &Timestamp) -> Node {
    let text = t.format_rfc3339_nano();
    let tag = resolve("", &text).0;
    let tag = if tag == TIMESTAMP_TAG {
        TIMESTAMP_TAG
    } else {
        tag
    };
    scalar(tag, text, Style::default())
}

/// `Node.Encode([]byte)`: go-yaml marshals a byte slice as a sequence of
/// integers.
pub(crate) fn bytes_node(data: &[u8]) -> Node {
    let mut node = Node::new(Kind::Sequence);
    node.tag = "!!seq".to_string();
    node.content = data.iter().map(|&b| int_node(i64::from(b))).collect();
    node
}

/// Emits YAML documents as go-yaml's `Encoder` with `SetIndent(indent)` does.
pub(crate) struct DocumentEncoder {
    emitter: Emitter,
}

impl DocumentEncoder {
    pub fn new(indent: usize) -> Result<DocumentEncoder, EmitError> {
        let mut emitter = Emitter::new(indent);
        emitter.emit(EmitEvent::new(EventKind::StreamStart))?;
        Ok(DocumentEncoder { emitter })
    }

    pub fn encode(&mut self, document: &Node) -> Result<(), EmitError> {
        self.node(document, "")
    }

    pub fn finish(mut self) -> Result<String, EmitError> {
        self.emitter.clear_open_ended();
        self.emitter.emit(EmitEvent::new(EventKind::StreamEnd))?;
        Ok(self.emitter.into_output())
    }

    fn emit(&mut self, event: EmitEvent) -> Result<(), EmitError> {
        self.emitter.emit(event)
    }

    fn node(&mut self, node: &Node, tail: &str) -> Result<(), EmitError> {
        // Drop the tag when it is implied by the value, as go-yaml does.
        let mut tag = node.tag.clone();
        let stag = short_tag(&node.tag).into_owned();
        let mut force_quoting = false;
        if !tag.is_empty() && !node.style.has(Style::TAGGED) {
            match node.kind {
                Kind::Scalar => {
                    if stag == STR_TAG && node.style.is_quoted_or_block() {
                        tag.clear();
                    } else {
                        let rtag = resolve("", &node.value).0;
                        if rtag == stag {
                            tag.clear();
                        } else if stag == STR_TAG {
                            tag.clear();
                            force_quoting = true;
                        }
                    }
                }
                Kind::Mapping if stag == "!!map" => tag.clear(),
                Kind::Sequence if stag == "!!seq" => tag.clear(),
                _ => {}
            }
        }
        match node.kind {
            Kind::Document => {
                let mut start = EmitEvent::new(EventKind::DocumentStart);
                start.implicit = true;
                start.head_comment = node.head_comment.clone();
                self.emit(start)?;
                for child in &node.content {
                    self.node(child, "")?;
                }
                let mut end = EmitEvent::new(EventKind::DocumentEnd);
                end.implicit = true;
                end.foot_comment = node.foot_comment.clone();
                self.emit(end)
            }
            Kind::Sequence => {
                let mut start = EmitEvent::new(EventKind::SequenceStart);
                start.anchor = node.anchor.clone();
                start.tag = long_tag(&tag);
                start.implicit = tag.is_empty();
                start.flow = node.style.has(Style::FLOW);
                start.head_comment = node.head_comment.clone();
                self.emit(start)?;
                for child in &node.content {
                    self.node(child, "")?;
                }
                let mut end = EmitEvent::new(EventKind::SequenceEnd);
                end.line_comment = node.line_comment.clone();
                end.foot_comment = node.foot_comment.clone();
                self.emit(end)
            }
            Kind::Mapping => {
                let mut start = EmitEvent::new(EventKind::MappingStart);
                start.anchor = node.anchor.clone();
                start.tag = long_tag(&tag);
                start.implicit = tag.is_empty();
                start.flow = node.style.has(Style::FLOW);
                start.tail_comment = tail.to_string();
                start.head_comment = node.head_comment.clone();
                self.emit(start)?;
                // A key's foot comment is emitted only after the whole value
                // (it may be a nested block), as the next key's tail.
                let mut tail = String::new();
                for pair in node.content.chunks(2) {
                    let [key, value] = pair else {
                        break;
                    };
                    let foot = key.foot_comment.clone();
                    if foot.is_empty() {
                        self.node(key, &tail)?;
                    } else {
                        let mut copy = key.clone();
                        copy.foot_comment.clear();
                        self.node(&copy, &tail)?;
                    }
                    tail = foot;
                    self.node(value, "")?;
                }
                let mut end = EmitEvent::new(EventKind::MappingEnd);
                end.tail_comment = tail;
                end.line_comment = node.line_comment.clone();
                end.foot_comment = node.foot_comment.clone();
                self.emit(end)
            }
            Kind::Alias => {
                let mut event = EmitEvent::new(EventKind::Alias);
                event.anchor = node.value.clone();
                event.head_comment = node.head_comment.clone();
                event.line_comment = node.line_comment.clone();
                event.foot_comment = node.foot_comment.clone();
                self.emit(event)
            }
            Kind::Scalar => {
                let style = if node.style.has(Style::DOUBLE_QUOTED) {
                    ScalarStyle::DoubleQuoted
                } else if node.style.has(Style::SINGLE_QUOTED) {
                    ScalarStyle::SingleQuoted
                } else if node.style.has(Style::LITERAL) {
                    ScalarStyle::Literal
                } else if node.style.has(Style::FOLDED) {
                    ScalarStyle::Folded
                } else if node.value.contains('\n') {
                    ScalarStyle::Literal
                } else if force_quoting {
                    ScalarStyle::DoubleQuoted
                } else {
                    ScalarStyle::Plain
                };
                let mut event = EmitEvent::new(EventKind::Scalar);
                event.anchor = node.anchor.clone();
                event.implicit = tag.is_empty();
                event.quoted_implicit = tag.is_empty();
                event.tag = if tag.is_empty() { tag } else { long_tag(&tag) };
                event.value = node.value.clone();
                event.style = style;
                event.head_comment = node.head_comment.clone();
                event.line_comment = node.line_comment.clone();
                event.foot_comment = node.foot_comment.clone();
                event.tail_comment = tail.to_string();
                self.emit(event)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base60_and_old_bools_are_recognised() {
        assert!(is_base60_float("1:20"));
        assert!(is_base60_float("-190:20:30.15"));
        assert!(!is_base60_float("1:2:"));
        assert!(!is_base60_float("abc:1"));
        assert!(is_old_bool("yes"));
        assert!(!is_old_bool("true"));
    }

    #[test]
    fn string_styles_follow_go_yaml() {
        assert_eq!(string_node("hello").style, Style::default());
        assert_eq!(string_node("true").style, Style::DOUBLE_QUOTED);
        assert_eq!(string_node("n").style, Style::DOUBLE_QUOTED);
        assert_eq!(string_node("a: b").style, Style::SINGLE_QUOTED);
        assert_eq!(string_node("a\nb").style, Style::LITERAL);
        assert_eq!(string_node("a \nb").style, Style::DOUBLE_QUOTED);
        assert_eq!(string_node("").style, Style::DOUBLE_QUOTED);
        assert_eq!(string_node(" x").style, Style::SINGLE_QUOTED);
        assert_eq!(string_node("tab\there").style, Style::DOUBLE_QUOTED);
        assert_eq!(string_node("<<").tag, "!!merge");
    }
}
