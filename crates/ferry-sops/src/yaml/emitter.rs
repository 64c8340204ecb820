//! Events to YAML text, laid out exactly as go-yaml v3's emitter does
//! (libyaml's emitter with go-yaml's indentation and comment changes): this is
//! what decides sops' output bytes.

use super::chars::{is_break, is_printable};
use super::parser::EventKind;
use super::scanner::ScalarStyle;

#[derive(Debug, Clone)]
pub(crate) struct EmitEvent {
    pub kind: EventKind,
    pub anchor: String,
    /// Long form (`tag:yaml.org,2002:str`) or a custom tag; empty if none.
    pub tag: String,
    pub value: String,
    pub implicit: bool,
    pub quoted_implicit: bool,
    pub style: ScalarStyle,
    pub flow: bool,
    pub head_comment: String,
    pub line_comment: String,
    pub foot_comment: String,
    pub tail_comment: String,
}

impl EmitEvent {
    pub fn new(kind: EventKind) -> EmitEvent {
        EmitEvent {
            kind,
            anchor: String::new(),
            tag: String::new(),
            value: String::new(),
            implicit: false,
            quoted_implicit: false,
            style: ScalarStyle::Plain,
            flow: false,
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
            tail_comment: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StreamStart,
    FirstDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    FlowSequenceFirstItem,
    FlowSequenceTrailItem,
    FlowSequenceItem,
    FlowMappingFirstKey,
    FlowMappingTrailKey,
    FlowMappingKey,
    FlowMappingSimpleValue,
    FlowMappingValue,
    BlockSequenceFirstItem,
    BlockSequenceItem,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingSimpleValue,
    BlockMappingValue,
    End,
}

/// What the emitter may do with a scalar's text (libyaml's scalar analysis).
#[derive(Default)]
pub(crate) struct ScalarAnalysis {
    value: Vec<char>,
    pub multiline: bool,
    pub flow_plain_allowed: bool,
    pub block_plain_allowed: bool,
    pub single_quoted_allowed: bool,
    pub block_allowed: bool,
    style: Option<ScalarStyle>,
}

/// Problems the emitter refuses (they indicate a bug in the caller).
#[derive(Debug, thiserror::Error)]
#[error("yaml emitter: {0}")]
pub(crate) struct EmitError(pub &'static str);

pub(crate) struct Emitter {
    out: String,
    best_indent: isize,
    best_width: usize,

    events: Vec<EmitEvent>,
    events_head: usize,
    states: Vec<State>,
    state: State,

    indent: isize,
    indents: Vec<isize>,
    flow_level: usize,

    root_context: bool,
    sequence_context: bool,
    mapping_context: bool,
    simple_key_context: bool,

    line: usize,
    column: usize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    space_above: bool,
    foot_indent: isize,

    tag_directives: Vec<(String, String)>,
    anchor_data: Option<(String, bool)>,
    tag_handle: String,
    tag_suffix: String,
    scalar: ScalarAnalysis,

    head_comment: String,
    line_comment: String,
    foot_comment: String,
    tail_comment: String,
    key_line_comment: String,
}

const DEFAULT_TAG_DIRECTIVES: [(&str, &str); 2] = [("!", "!"), ("!!", "tag:yaml.org,2002:")];

impl Emitter {
    pub fn new(indent: usize) -> Emitter {
        Emitter {
            out: String::new(),
            best_indent: indent as isize,
            // go-yaml v3 initialises the width to -1: no line folding.
            best_width: (1usize << 31) - 1,
            events: Vec::new(),
            events_head: 0,
            states: Vec::new(),
            state: State::StreamStart,
            indent: -1,
            indents: Vec::new(),
            flow_level: 0,
            root_context: false,
            sequence_context: false,
            mapping_context: false,
            simple_key_context: false,
            line: 0,
            column: 0,
            whitespace: true,
            indention: true,
            open_ended: false,
            space_above: true,
            foot_indent: -1,
            tag_directives: Vec::new(),
            anchor_data: None,
            tag_handle: String::new(),
            tag_suffix: String::new(),
            scalar: ScalarAnalysis::default(),
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
            tail_comment: String::new(),
            key_line_comment: String::new(),
        }
    }

    pub fn into_output(self) -> String {
        self.out
    }

    /// Sets `open_ended` as go-yaml's encoder does right before stream end.
    pub fn clear_open_ended(&mut self) {
        self.open_ended = false;
    }

    // ----- low-level writers -----

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        if self.column == 0 {
            self.space_above = true;
        }
        self.column = 0;
        self.line += 1;
        self.indention = true;
    }

    fn write(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn write_all(&mut self, s: &str) {
        for c in s.chars() {
            self.write(c);
        }
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.write(c);
            if self.column == 0 {
                self.space_above = true;
            }
            self.column = 0;
            self.line += 1;
            self.indention = true;
        }
    }

    // ----- event queue -----

    pub fn emit(&mut self, event: EmitEvent) -> Result<(), EmitError> {
        self.events.push(event);
        while !self.need_more_events() {
            let event = self.events[self.events_head].clone();
            self.analyze_event(&event)?;
            self.state_machine(&event)?;
            self.events_head += 1;
        }
        Ok(())
    }

    fn need_more_events(&self) -> bool {
        if self.events_head == self.events.len() {
            return true;
        }
        let accumulate = match self.events[self.events_head].kind {
            EventKind::DocumentStart => 1,
            EventKind::SequenceStart => 2,
            EventKind::MappingStart => 3,
            _ => return false,
        };
        if self.events.len() - self.events_head > accumulate {
            return false;
        }
        let mut level: isize = 0;
        for event in &self.events[self.events_head..] {
            match event.kind {
                EventKind::StreamStart
                | EventKind::DocumentStart
                | EventKind::SequenceStart
                | EventKind::MappingStart => level += 1,
                EventKind::StreamEnd
                | EventKind::DocumentEnd
                | EventKind::SequenceEnd
                | EventKind::MappingEnd => level -= 1,
                _ => {}
            }
            if level == 0 {
                return false;
            }
        }
        true
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            if self.states.last() == Some(&State::BlockSequenceItem) {
                // The first indent inside a sequence just skips "- ".
                self.indent += 2;
            } else {
                // Everything else aligns to the chosen indentation.
                self.indent =
                    self.best_indent * ((self.indent + self.best_indent) / self.best_indent);
            }
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn pop_state(&mut self) {
        self.state = self.states.pop().unwrap_or(State::End);
    }

    fn state_machine(&mut self, event: &EmitEvent) -> Result<(), EmitError> {
        match self.state {
            State::StreamStart => self.emit_stream_start(event),
            State::FirstDocumentStart => self.emit_document_start(event, true),
            State::DocumentStart => self.emit_document_start(event, false),
            State::DocumentContent => self.emit_document_content(event),
            State::DocumentEnd => self.emit_document_end(event),
            State::FlowSequenceFirstItem => self.emit_flow_sequence_item(event, true, false),
            State::FlowSequenceTrailItem => self.emit_flow_sequence_item(event, false, true),
            State::FlowSequenceItem => self.emit_flow_sequence_item(event, false, false),
            State::FlowMappingFirstKey => self.emit_flow_mapping_key(event, true, false),
            State::FlowMappingTrailKey => self.emit_flow_mapping_key(event, false, true),
            State::FlowMappingKey => self.emit_flow_mapping_key(event, false, false),
            State::FlowMappingSimpleValue => self.emit_flow_mapping_value(event, true),
            State::FlowMappingValue => self.emit_flow_mapping_value(event, false),
            State::BlockSequenceFirstItem => self.emit_block_sequence_item(event, true),
            State::BlockSequenceItem => self.emit_block_sequence_item(event, false),
            State::BlockMappingFirstKey => self.emit_block_mapping_key(event, true),
            State::BlockMappingKey => self.emit_block_mapping_key(event, false),
            State::BlockMappingSimpleValue => self.emit_block_mapping_value(event, true),
            State::BlockMappingValue => self.emit_block_mapping_value(event, false),
            State::End => Err(EmitError("expected nothing after STREAM-END")),
        }
    }

    fn emit_stream_start(&mut self, event: &EmitEvent) -> Result<(), EmitError> {
        if event.kind != EventKind::StreamStart {
            return Err(EmitError("expected STREAM-START"));
        }
        if self.best_indent < 2 || self.best_indent > 9 {
            self.best_indent = 2;
        }
        self.indent = -1;
        self.line = 0;
        self.column = 0;
        self.whitespace = true;
        self.indention = true;
        self.space_above = true;
        self.foot_indent = -1;
        self.state = State::FirstDocumentStart;
        Ok(())
    }

    fn emit_document_start(&mut self, event: &EmitEvent, first: bool) -> Result<(), EmitError> {
        if event.kind == EventKind::DocumentStart {
            for (handle, prefix) in DEFAULT_TAG_DIRECTIVES {
                if !self.tag_directives.iter().any(|(h, _)| h == handle) {
                    self.tag_directives
                        .push((handle.to_string(), prefix.to_string()));
                }
            }
            let implicit = event.implicit && first;
            if !implicit {
                self.write_indent();
                self.write_indicator("---", true, false, false);
                self.write_indent();
            }
            if !self.head_comment.is_empty() {
                self.process_head_comment();
                self.put_break();
            }
            self.state = State::DocumentContent;
            return Ok(());
        }
        if event.kind == EventKind::StreamEnd {
            if self.open_ended {
                self.write_indicator("...", true, false, false);
                self.write_indent();
            }
            self.state = State::End;
            return Ok(());
        }
        Err(EmitError("expected DOCUMENT-START or STREAM-END"))
    }

    fn emit_document_content(&mut self, event: &EmitEvent) -> Result<(), EmitError> {
        self.states.push(State::DocumentEnd);
        self.process_head_comment();
        self.emit_node(event, true, false, false, false)?;
        self.process_line_comment();
        self.process_foot_comment();
        Ok(())
    }

    fn emit_document_end(&mut self, event: &EmitEvent) -> Result<(), EmitError> {
        if event.kind != EventKind::DocumentEnd {
            return Err(EmitError("expected DOCUMENT-END"));
        }
        // go-yaml forces document foot separation.
        self.foot_indent = 0;
        self.process_foot_comment();
        self.foot_indent = -1;
        self.write_indent();
        if !event.implicit {
            self.write_indicator("...", true, false, false);
            self.write_indent();
        }
        self.state = State::DocumentStart;
        self.tag_directives.clear();
        Ok(())
    }

    fn has_trailing_comments(&self) -> bool {
        !self.line_comment.is_empty()
            || !self.foot_comment.is_empty()
            || !self.tail_comment.is_empty()
    }

    fn emit_flow_sequence_item(
        &mut self,
        event: &EmitEvent,
        first: bool,
        trail: bool,
    ) -> Result<(), EmitError> {
        if first {
            self.write_indicator("[", true, true, false);
            self.increase_indent(true, false);
            self.flow_level += 1;
        }
        if event.kind == EventKind::SequenceEnd {
            self.flow_level -= 1;
            self.pop_indent();
            if self.column == 0 {
                self.write_indent();
            }
            self.write_indicator("]", false, false, false);
            self.process_line_comment();
            self.process_foot_comment();
            self.pop_state();
            return Ok(());
        }
        if !first && !trail {
            self.write_indicator(",", false, false, false);
        }
        self.process_head_comment();
        if self.column == 0 {
            self.write_indent();
        }
        if self.column > self.best_width {
            self.write_indent();
        }
        if self.has_trailing_comments() {
            self.states.push(State::FlowSequenceTrailItem);
        } else {
            self.states.push(State::FlowSequenceItem);
        }
        self.emit_node(event, false, true, false, false)?;
        if self.has_trailing_comments() {
            self.write_indicator(",", false, false, false);
        }
        self.process_line_comment();
        self.process_foot_comment();
        Ok(())
    }

    fn emit_flow_mapping_key(
        &mut self,
        event: &EmitEvent,
        first: bool,
        trail: bool,
    ) -> Result<(), EmitError> {
        if first {
            self.write_indicator("{", true, true, false);
            self.increase_indent(true, false);
            self.flow_level += 1;
        }
        if event.kind == EventKind::MappingEnd {
            if (!self.head_comment.is_empty()
                || !self.foot_comment.is_empty()
                || !self.tail_comment.is_empty())
                && !first
                && !trail
            {
                self.write_indicator(",", false, false, false);
            }
            self.process_head_comment();
            self.flow_level -= 1;
            self.pop_indent();
            self.write_indicator("}", false, false, false);
            self.process_line_comment();
            self.process_foot_comment();
            self.pop_state();
            return Ok(());
        }
        if !first && !trail {
            self.write_indicator(",", false, false, false);
        }
        self.process_head_comment();
        if self.column == 0 {
            self.write_indent();
        }
        if self.column > self.best_width {
            self.write_indent();
        }
        if self.check_simple_key() {
            self.states.push(State::FlowMappingSimpleValue);
            return self.emit_node(event, false, false, true, true);
        }
        self.write_indicator("?", true, false, false);
        self.states.push(State::FlowMappingValue);
        self.emit_node(event, false, false, true, false)
    }

    fn emit_flow_mapping_value(
        &mut self,
        event: &EmitEvent,
        simple: bool,
    ) -> Result<(), EmitError> {
        if simple {
            self.write_indicator(":", false, false, false);
        } else {
            if self.column > self.best_width {
                self.write_indent();
            }
            self.write_indicator(":", true, false, false);
        }
        if self.has_trailing_comments() {
            self.states.push(State::FlowMappingTrailKey);
        } else {
            self.states.push(State::FlowMappingKey);
        }
        self.emit_node(event, false, false, true, false)?;
        if self.has_trailing_comments() {
            self.write_indicator(",", false, false, false);
        }
        self.process_line_comment();
        self.process_foot_comment();
        Ok(())
    }

    fn emit_block_sequence_item(
        &mut self,
        event: &EmitEvent,
        first: bool,
    ) -> Result<(), EmitError> {
        if first {
            self.increase_indent(false, false);
        }
        if event.kind == EventKind::SequenceEnd {
            self.pop_indent();
            self.pop_state();
            return Ok(());
        }
        self.process_head_comment();
        self.write_indent();
        self.write_indicator("-", true, false, true);
        self.states.push(State::BlockSequenceItem);
        self.emit_node(event, false, true, false, false)?;
        self.process_line_comment();
        self.process_foot_comment();
        Ok(())
    }

    fn emit_block_mapping_key(&mut self, event: &EmitEvent, first: bool) -> Result<(), EmitError> {
        if first {
            self.increase_indent(false, false);
        }
        self.process_head_comment();
        if event.kind == EventKind::MappingEnd {
            self.pop_indent();
            self.pop_state();
            return Ok(());
        }
        self.write_indent();
        if !self.line_comment.is_empty() {
            // A line comment on a key: keep it for after the value indicator.
            self.key_line_comment = std::mem::take(&mut self.line_comment);
        }
        if self.check_simple_key() {
            self.states.push(State::BlockMappingSimpleValue);
            return self.emit_node(event, false, false, true, true);
        }
        self.write_indicator("?", true, false, true);
        self.states.push(State::BlockMappingValue);
        self.emit_node(event, false, false, true, false)
    }

    fn emit_block_mapping_value(
        &mut self,
        event: &EmitEvent,
        simple: bool,
    ) -> Result<(), EmitError> {
        if simple {
            self.write_indicator(":", false, false, false);
        } else {
            self.write_indent();
            self.write_indicator(":", true, false, true);
        }
        if !self.key_line_comment.is_empty() {
            if event.kind == EventKind::Scalar {
                if self.line_comment.is_empty() {
                    // The scalar has no line comment of its own: give it the
                    // key's (otherwise the key's is lost).
                    self.line_comment = std::mem::take(&mut self.key_line_comment);
                }
            } else if !event.flow
                && (event.kind == EventKind::MappingStart || event.kind == EventKind::SequenceStart)
            {
                // An indented block follows: write the key's comment now.
                std::mem::swap(&mut self.line_comment, &mut self.key_line_comment);
                self.process_line_comment();
                std::mem::swap(&mut self.line_comment, &mut self.key_line_comment);
            }
        }
        self.states.push(State::BlockMappingKey);
        self.emit_node(event, false, false, true, false)?;
        self.process_line_comment();
        self.process_foot_comment();
        Ok(())
    }

    fn emit_node(
        &mut self,
        event: &EmitEvent,
        root: bool,
        sequence: bool,
        mapping: bool,
        simple_key: bool,
    ) -> Result<(), EmitError> {
        self.root_context = root;
        self.sequence_context = sequence;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match event.kind {
            EventKind::Alias => {
                self.process_anchor();
                self.pop_state();
                Ok(())
            }
            EventKind::Scalar => self.emit_scalar(event),
            EventKind::SequenceStart => {
                self.process_anchor();
                self.process_tag();
                self.state = if self.flow_level > 0 || event.flow || self.check_empty_sequence() {
                    State::FlowSequenceFirstItem
                } else {
                    State::BlockSequenceFirstItem
                };
                Ok(())
            }
            EventKind::MappingStart => {
                self.process_anchor();
                self.process_tag();
                self.state = if self.flow_level > 0 || event.flow || self.check_empty_mapping() {
                    State::FlowMappingFirstKey
                } else {
                    State::BlockMappingFirstKey
                };
                Ok(())
            }
            _ => Err(EmitError(
                "expected SCALAR, SEQUENCE-START, MAPPING-START, or ALIAS",
            )),
        }
    }

    fn emit_scalar(&mut self, event: &EmitEvent) -> Result<(), EmitError> {
        self.select_scalar_style(event)?;
        self.process_anchor();
        self.process_tag();
        self.increase_indent(true, false);
        self.process_scalar();
        self.pop_indent();
        self.pop_state();
        Ok(())
    }

    fn check_empty_sequence(&self) -> bool {
        self.events.len() - self.events_head >= 2
            && self.events[self.events_head].kind == EventKind::SequenceStart
            && self.events[self.events_head + 1].kind == EventKind::SequenceEnd
    }

    fn check_empty_mapping(&self) -> bool {
        self.events.len() - self.events_head >= 2
            && self.events[self.events_head].kind == EventKind::MappingStart
            && self.events[self.events_head + 1].kind == EventKind::MappingEnd
    }

    fn check_simple_key(&self) -> bool {
        let anchor_len = self.anchor_data.as_ref().map_or(0, |(a, _)| a.len());
        let tag_len = self.tag_handle.len() + self.tag_suffix.len();
        let length = match self.events[self.events_head].kind {
            EventKind::Alias => anchor_len,
            EventKind::Scalar => {
                if self.scalar.multiline {
                    return false;
                }
                anchor_len + tag_len + self.events[self.events_head].value.len()
            }
            EventKind::SequenceStart => {
                if !self.check_empty_sequence() {
                    return false;
                }
                anchor_len + tag_len
            }
            EventKind::MappingStart => {
                if !self.check_empty_mapping() {
                    return false;
                }
                anchor_len + tag_len
            }
            _ => return false,
        };
        length <= 128
    }

    fn select_scalar_style(&mut self, event: &EmitEvent) -> Result<(), EmitError> {
        let no_tag = self.tag_handle.is_empty() && self.tag_suffix.is_empty();
        if no_tag && !event.implicit && !event.quoted_implicit {
            return Err(EmitError("neither tag nor implicit flags are specified"));
        }
        let mut style = event.style;
        if self.simple_key_context && self.scalar.multiline {
            style = ScalarStyle::DoubleQuoted;
        }
        if style == ScalarStyle::Plain {
            if (self.flow_level > 0 && !self.scalar.flow_plain_allowed)
                || (self.flow_level == 0 && !self.scalar.block_plain_allowed)
            {
                style = ScalarStyle::SingleQuoted;
            }
            if self.scalar.value.is_empty() && (self.flow_level > 0 || self.simple_key_context) {
                style = ScalarStyle::SingleQuoted;
            }
            if no_tag && !event.implicit {
                style = ScalarStyle::SingleQuoted;
            }
        }
        if style == ScalarStyle::SingleQuoted && !self.scalar.single_quoted_allowed {
            style = ScalarStyle::DoubleQuoted;
        }
        if (style == ScalarStyle::Literal || style == ScalarStyle::Folded)
            && (!self.scalar.block_allowed || self.flow_level > 0 || self.simple_key_context)
        {
            style = ScalarStyle::DoubleQuoted;
        }
        if no_tag && !event.quoted_implicit && style != ScalarStyle::Plain {
            self.tag_handle = "!".to_string();
        }
        self.scalar.style = Some(style);
        Ok(())
    }

    fn process_anchor(&mut self) {
        if let Some((anchor, alias)) = self.anchor_data.clone() {
            self.write_indicator(if alias { "*" } else { "&" }, true, false, false);
            self.write_all(&anchor);
            self.whitespace = false;
            self.indention = false;
        }
    }

    fn process_tag(&mut self) {
        if self.tag_handle.is_empty() && self.tag_suffix.is_empty() {
            return;
        }
        if !self.tag_handle.is_empty() {
            let handle = self.tag_handle.clone();
            self.write_tag_handle(&handle);
            if !self.tag_suffix.is_empty() {
                let suffix = self.tag_suffix.clone();
                self.write_tag_content(&suffix, false);
            }
        } else {
            self.write_indicator("!<", true, false, false);
            let suffix = self.tag_suffix.clone();
            self.write_tag_content(&suffix, false);
            self.write_indicator(">", false, false, false);
        }
    }

    fn process_scalar(&mut self) {
        let value = std::mem::take(&mut self.scalar.value);
        match self.scalar.style.unwrap_or(ScalarStyle::Plain) {
            ScalarStyle::Plain => self.write_plain_scalar(&value, !self.simple_key_context),
            ScalarStyle::SingleQuoted => {
                self.write_single_quoted_scalar(&value, !self.simple_key_context)
            }
            ScalarStyle::DoubleQuoted => {
                self.write_double_quoted_scalar(&value, !self.simple_key_context)
            }
            ScalarStyle::Literal => self.write_literal_scalar(&value),
            ScalarStyle::Folded => self.write_folded_scalar(&value),
        }
        self.scalar.value = value;
    }

    fn process_head_comment(&mut self) {
        if !self.tail_comment.is_empty() {
            self.write_indent();
            let comment = std::mem::take(&mut self.tail_comment);
            self.write_comment(&comment);
            self.foot_indent = self.indent.max(0);
        }
        if self.head_comment.is_empty() {
            return;
        }
        self.write_indent();
        let comment = std::mem::take(&mut self.head_comment);
        self.write_comment(&comment);
    }

    fn process_line_comment(&mut self) {
        if self.line_comment.is_empty() {
            return;
        }
        if !self.whitespace {
            self.put(' ');
        }
        let comment = std::mem::take(&mut self.line_comment);
        self.write_comment(&comment);
    }

    /// After a block scalar header: the line comment, or else a line break
    /// (go-yaml 3.0.2+; without it a value starting with a line break lost
    /// that break, go-yaml issue 755).
    fn process_line_comment_linebreak(&mut self) {
        if self.line_comment.is_empty() {
            self.put_break();
        } else {
            self.process_line_comment();
        }
    }

    fn process_foot_comment(&mut self) {
        if self.foot_comment.is_empty() {
            return;
        }
        self.write_indent();
        let comment = std::mem::take(&mut self.foot_comment);
        self.write_comment(&comment);
        self.foot_indent = self.indent.max(0);
    }

    fn analyze_event(&mut self, event: &EmitEvent) -> Result<(), EmitError> {
        self.anchor_data = None;
        self.tag_handle.clear();
        self.tag_suffix.clear();
        self.scalar.value.clear();
        if !event.head_comment.is_empty() {
            self.head_comment = event.head_comment.clone();
        }
        if !event.line_comment.is_empty() {
            self.line_comment = event.line_comment.clone();
        }
        if !event.foot_comment.is_empty() {
            self.foot_comment = event.foot_comment.clone();
        }
        if !event.tail_comment.is_empty() {
            self.tail_comment = event.tail_comment.clone();
        }
        match event.kind {
            EventKind::Alias => self.analyze_anchor(&event.anchor, true)?,
            EventKind::Scalar => {
                if !event.anchor.is_empty() {
                    self.analyze_anchor(&event.anchor, false)?;
                }
                if !event.tag.is_empty() && !event.implicit && !event.quoted_implicit {
                    self.analyze_tag(&event.tag)?;
                }
                self.analyze_scalar(&event.value);
            }
            EventKind::SequenceStart | EventKind::MappingStart => {
                if !event.anchor.is_empty() {
                    self.analyze_anchor(&event.anchor, false)?;
                }
                if !event.tag.is_empty() && !event.implicit {
                    self.analyze_tag(&event.tag)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn analyze_anchor(&mut self, anchor: &str, alias: bool) -> Result<(), EmitError> {
        if anchor.is_empty() {
            return Err(EmitError("anchor value must not be empty"));
        }
        if !anchor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(EmitError(
                "anchor value must contain alphanumerical characters only",
            ));
        }
        self.anchor_data = Some((anchor.to_string(), alias));
        Ok(())
    }

    fn analyze_tag(&mut self, tag: &str) -> Result<(), EmitError> {
        if tag.is_empty() {
            return Err(EmitError("tag value must not be empty"));
        }
        for (handle, prefix) in &self.tag_directives {
            if let Some(suffix) = tag.strip_prefix(prefix.as_str()) {
                self.tag_handle = handle.clone();
                self.tag_suffix = suffix.to_string();
                return Ok(());
            }
        }
        self.tag_suffix = tag.to_string();
        Ok(())
    }

    fn analyze_scalar(&mut self, value: &str) {
        self.scalar = analyze(value);
    }

    // ----- writers -----

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        if self.foot_indent == indent as isize {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.space_above = false;
        self.foot_indent = -1;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.write_all(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn write_tag_handle(&mut self, value: &str) {
        if !self.whitespace {
            self.put(' ');
        }
        self.write_all(value);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_tag_content(&mut self, value: &str, need_whitespace: bool) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in value.chars() {
            let must_write = matches!(
                c,
                ';' | '/'
                    | '?'
                    | ':'
                    | '@'
                    | '&'
                    | '='
                    | '+'
                    | '$'
                    | ','
                    | '_'
                    | '.'
                    | '~'
                    | '*'
                    | '\''
                    | '('
                    | ')'
                    | '['
                    | ']'
            ) || c.is_ascii_alphanumeric()
                || c == '-';
            if must_write {
                self.write(c);
            } else {
                let mut buf = [0u8; 4];
                for octet in c.encode_utf8(&mut buf).bytes() {
                    self.put('%');
                    for nibble in [octet >> 4, octet & 0x0f] {
                        let digit = if nibble < 10 {
                            b'0' + nibble
                        } else {
                            b'A' + nibble - 10
                        };
                        self.put(digit as char);
                    }
                }
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_plain_scalar(&mut self, value: &[char], allow_breaks: bool) {
        if !value.is_empty() && !self.whitespace {
            self.put(' ');
        }
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < value.len() {
            let c = value[i];
            if c == ' ' {
                let next_is_space = value.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > self.best_width && !next_is_space {
                    self.write_indent();
                } else {
                    self.write(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            i += 1;
        }
        if !value.is_empty() {
            self.whitespace = false;
        }
        self.indention = false;
        if self.root_context {
            self.open_ended = true;
        }
    }

    fn write_single_quoted_scalar(&mut self, value: &[char], allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in value.iter().enumerate() {
            if c == ' ' {
                let next_is_space = value.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && i > 0
                    && i + 1 < value.len()
                    && !next_is_space
                {
                    self.write_indent();
                } else {
                    self.write(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.write(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted_scalar(&mut self, value: &[char], allow_breaks: bool) {
        let mut spaces = false;
        self.write_indicator("\"", true, false, false);
        // go-yaml's BOM test looks at the start of the value, not at the
        // current character: a value starting with a BOM is escaped whole.
        let starts_with_bom = value.first() == Some(&'\u{FEFF}');
        for (i, &c) in value.iter().enumerate() {
            if !is_printable(c) || starts_with_bom || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let v = c as u32;
                let short = match v {
                    0x00 => Some('0'),
                    0x07 => Some('a'),
                    0x08 => Some('b'),
                    0x09 => Some('t'),
                    0x0A => Some('n'),
                    0x0B => Some('v'),
                    0x0C => Some('f'),
                    0x0D => Some('r'),
                    0x1B => Some('e'),
                    0x22 => Some('"'),
                    0x5C => Some('\\'),
                    0x85 => Some('N'),
                    0xA0 => Some('_'),
                    0x2028 => Some('L'),
                    0x2029 => Some('P'),
                    _ => None,
                };
                match short {
                    Some(e) => self.put(e),
                    None => {
                        let (prefix, width) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(prefix);
                        for k in (0..width).rev() {
                            let digit = ((v >> (k * 4)) & 0x0F) as u8;
                            let ch = if digit < 10 {
                                b'0' + digit
                            } else {
                                b'A' + digit - 10
                            };
                            self.put(ch as char);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && i > 0
                    && i + 1 < value.len()
                {
                    self.write_indent();
                    if value.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.write(c);
                }
                spaces = true;
            } else {
                self.write(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_block_scalar_hints(&mut self, value: &[char]) {
        if value.first() == Some(&' ') || value.first().is_some_and(|&c| is_break(c)) {
            let hint = char::from_digit(self.best_indent as u32, 10).unwrap_or('2');
            self.write_indicator(&hint.to_string(), false, false, false);
        }
        self.open_ended = false;
        let mut chomp_hint = None;
        match value.len() {
            0 => chomp_hint = Some('-'),
            n => {
                let last = value[n - 1];
                if !is_break(last) {
                    chomp_hint = Some('-');
                } else if n == 1 || is_break(value[n - 2]) {
                    // A value that is only a break, or ends in two breaks,
                    // keeps its trailing breaks.
                    chomp_hint = Some('+');
                    self.open_ended = true;
                }
            }
        }
        if let Some(hint) = chomp_hint {
            self.write_indicator(&hint.to_string(), false, false, false);
        }
    }

    fn write_literal_scalar(&mut self, value: &[char]) {
        self.write_indicator("|", true, false, false);
        self.write_block_scalar_hints(value);
        self.process_line_comment_linebreak();
        self.whitespace = true;
        let mut breaks = true;
        for &c in value {
            if is_break(c) {
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(c);
                self.indention = false;
                breaks = false;
            }
        }
    }

    fn write_folded_scalar(&mut self, value: &[char]) {
        self.write_indicator(">", true, false, false);
        self.write_block_scalar_hints(value);
        self.process_line_comment_linebreak();
        self.whitespace = true;
        let mut breaks = true;
        let mut leading_spaces = true;
        let mut i = 0;
        while i < value.len() {
            let c = value[i];
            if is_break(c) {
                if !breaks && !leading_spaces && c == '\n' {
                    // go-yaml scans from the start of the value here.
                    let mut k = 0;
                    while k < value.len() && is_break(value[k]) {
                        k += 1;
                    }
                    let next = value.get(k).copied().unwrap_or('\0');
                    if !(next == ' ' || next == '\t' || next == '\0' || is_break(next)) {
                        self.put_break();
                    }
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                    leading_spaces = c == ' ' || c == '\t';
                }
                let next_is_space = value.get(i + 1) == Some(&' ');
                if !breaks && c == ' ' && !next_is_space && self.column > self.best_width {
                    self.write_indent();
                } else {
                    self.write(c);
                }
                self.indention = false;
                breaks = false;
            }
            i += 1;
        }
    }

    fn write_comment(&mut self, comment: &str) {
        let mut breaks = false;
        let mut pound = false;
        for c in comment.chars() {
            if is_break(c) {
                self.write_break(c);
                breaks = true;
                pound = false;
            } else {
                if breaks {
                    self.write_indent();
                }
                if !pound {
                    if c != '#' {
                        self.put('#');
                        self.put(' ');
                    }
                    pound = true;
                }
                self.write(c);
                self.indention = false;
                breaks = false;
            }
        }
        if !breaks {
            self.put_break();
        }
        self.whitespace = true;
    }
}

pub(crate) fn analyze(value: &str) -> ScalarAnalysis {
    let v: Vec<char> = value.chars().collect();
    let mut s = ScalarAnalysis::default();
    if v.is_empty() {
        s.multiline = false;
        s.flow_plain_allowed = false;
        s.block_plain_allowed = true;
        s.single_quoted_allowed = true;
        s.block_allowed = false;
        return s;
    }
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut tab_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;

    if v.len() >= 3
        && ((v[0] == '-' && v[1] == '-' && v[2] == '-')
            || (v[0] == '.' && v[1] == '.' && v[2] == '.'))
    {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    for (i, &c) in v.iter().enumerate() {
        let followed_by_whitespace = i + 1 >= v.len() || v[i + 1] == ' ' || v[i + 1] == '\t';
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if c == '\t' {
            tab_characters = true;
        } else if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == v.len() {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == v.len() {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        // go-yaml tests the current character here (blank, break or NUL).
        preceded_by_whitespace = matches!(c, ' ' | '\t' | '\0') || is_break(c);
    }
    s.multiline = line_breaks;
    s.flow_plain_allowed = true;
    s.block_plain_allowed = true;
    s.single_quoted_allowed = true;
    s.block_allowed = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        s.flow_plain_allowed = false;
        s.block_plain_allowed = false;
    }
    if trailing_space {
        s.block_allowed = false;
    }
    if break_space {
        s.flow_plain_allowed = false;
        s.block_plain_allowed = false;
        s.single_quoted_allowed = false;
    }
    if space_break || tab_characters || special_characters {
        s.flow_plain_allowed = false;
        s.block_plain_allowed = false;
        s.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        s.block_allowed = false;
    }
    if line_breaks {
        s.flow_plain_allowed = false;
        s.block_plain_allowed = false;
    }
    if flow_indicators {
        s.flow_plain_allowed = false;
    }
    if block_indicators {
        s.block_plain_allowed = false;
    }
    s.value = v;
    s
}
