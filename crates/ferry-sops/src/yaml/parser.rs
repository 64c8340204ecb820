//! Tokens to events: the libyaml parser state machine, with go-yaml v3's
//! handling of head, line, foot and stem comments.

use super::YamlError;
use super::scanner::{Mark, ScalarStyle, Scanner, Token, TokenKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventKind {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias,
    Scalar,
    SequenceStart,
    SequenceEnd,
    MappingStart,
    MappingEnd,
}

#[derive(Debug, Clone)]
pub(super) struct Event {
    pub kind: EventKind,
    pub start: Mark,
    pub anchor: String,
    pub tag: String,
    pub value: String,
    pub implicit: bool,
    pub scalar_style: ScalarStyle,
    /// For collections: flow style (`[...]`, `{...}`).
    pub flow: bool,
    pub head_comment: String,
    pub line_comment: String,
    pub foot_comment: String,
}

impl Event {
    fn new(kind: EventKind, start: Mark) -> Event {
        Event {
            kind,
            start,
            anchor: String::new(),
            tag: String::new(),
            value: String::new(),
            implicit: false,
            scalar_style: ScalarStyle::Plain,
            flow: false,
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StreamStart,
    ImplicitDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    BlockNode,
    BlockSequenceFirstEntry,
    BlockSequenceEntry,
    IndentlessSequenceEntry,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingValue,
    FlowSequenceFirstEntry,
    FlowSequenceEntry,
    FlowSequenceEntryMappingKey,
    FlowSequenceEntryMappingValue,
    FlowSequenceEntryMappingEnd,
    FlowMappingFirstKey,
    FlowMappingKey,
    FlowMappingValue,
    FlowMappingEmptyValue,
    End,
}

pub(super) struct Parser {
    pub(super) scanner: Scanner,
    state: State,
    states: Vec<State>,
    tag_directives: Vec<(String, String)>,
}

fn append_comment(buffer: &mut String, text: &str) {
    if !buffer.is_empty() {
        buffer.push('\n');
    }
    buffer.push_str(text);
}

impl Parser {
    pub(super) fn new(input: &str) -> Result<Parser, YamlError> {
        Ok(Parser {
            scanner: Scanner::new(input)?,
            state: State::StreamStart,
            states: Vec::new(),
            tag_directives: Vec::new(),
        })
    }

    /// Returns the next token (cloned) after folding the comments that
    /// belong before it into the head/line/foot buffers.
    fn peek_token(&mut self) -> Result<Token, YamlError> {
        if !self.scanner.token_available() {
            self.scanner.fetch_more_tokens()?;
        }
        let token = self.scanner.tokens[self.scanner.head].clone();
        self.unfold_comments(&token);
        Ok(token)
    }

    fn unfold_comments(&mut self, token: &Token) {
        let s = &mut self.scanner;
        while s.comments_head < s.comments.len()
            && token.start.index >= s.comments[s.comments_head].token_mark.index
        {
            let comment = &s.comments[s.comments_head];
            if !comment.head.is_empty() {
                if token.kind == TokenKind::BlockEnd {
                    // No heads on block ends: keep it for the next token.
                    break;
                }
                append_comment(&mut s.head_comment, &comment.head);
            }
            if !comment.foot.is_empty() {
                append_comment(&mut s.foot_comment, &comment.foot);
            }
            if !comment.line.is_empty() {
                append_comment(&mut s.line_comment, &comment.line);
            }
            s.comments[s.comments_head] = Default::default();
            s.comments_head += 1;
        }
    }

    fn skip_token(&mut self) {
        self.scanner.consume_token();
    }

    fn set_event_comments(&mut self, event: &mut Event) {
        let s = &mut self.scanner;
        event.head_comment = std::mem::take(&mut s.head_comment);
        event.line_comment = std::mem::take(&mut s.line_comment);
        event.foot_comment = std::mem::take(&mut s.foot_comment);
        s.tail_comment.clear();
        s.stem_comment = None;
    }

    fn pop_state(&mut self) {
        self.state = self.states.pop().unwrap_or(State::End);
    }

    fn error<T>(&self, mark: Mark, problem: &str) -> Result<T, YamlError> {
        Err(YamlError::new(mark.line + 1, problem))
    }

    /// Produces the next event, or `None` after the end of the stream.
    pub(super) fn next_event(&mut self) -> Result<Option<Event>, YamlError> {
        if self.scanner.stream_end_produced || self.state == State::End {
            return Ok(None);
        }
        let event = match self.state {
            State::StreamStart => self.parse_stream_start()?,
            State::ImplicitDocumentStart => self.parse_document_start(true)?,
            State::DocumentStart => self.parse_document_start(false)?,
            State::DocumentContent => self.parse_document_content()?,
            State::DocumentEnd => self.parse_document_end()?,
            State::BlockNode => self.parse_node(true, false)?,
            State::BlockSequenceFirstEntry => self.parse_block_sequence_entry(true)?,
            State::BlockSequenceEntry => self.parse_block_sequence_entry(false)?,
            State::IndentlessSequenceEntry => self.parse_indentless_sequence_entry()?,
            State::BlockMappingFirstKey => self.parse_block_mapping_key(true)?,
            State::BlockMappingKey => self.parse_block_mapping_key(false)?,
            State::BlockMappingValue => self.parse_block_mapping_value()?,
            State::FlowSequenceFirstEntry => self.parse_flow_sequence_entry(true)?,
            State::FlowSequenceEntry => self.parse_flow_sequence_entry(false)?,
            State::FlowSequenceEntryMappingKey => self.parse_flow_sequence_entry_mapping_key()?,
            State::FlowSequenceEntryMappingValue => {
                self.parse_flow_sequence_entry_mapping_value()?
            }
            State::FlowSequenceEntryMappingEnd => self.parse_flow_sequence_entry_mapping_end()?,
            State::FlowMappingFirstKey => self.parse_flow_mapping_key(true)?,
            State::FlowMappingKey => self.parse_flow_mapping_key(false)?,
            State::FlowMappingValue => self.parse_flow_mapping_value(false)?,
            State::FlowMappingEmptyValue => self.parse_flow_mapping_value(true)?,
            State::End => return Ok(None),
        };
        Ok(Some(event))
    }

    fn parse_stream_start(&mut self) -> Result<Event, YamlError> {
        let token = self.peek_token()?;
        if token.kind != TokenKind::StreamStart {
            return self.error(token.start, "did not find expected <stream-start>");
        }
        self.state = State::ImplicitDocumentStart;
        self.skip_token();
        Ok(Event::new(EventKind::StreamStart, token.start))
    }

    fn parse_document_start(&mut self, implicit: bool) -> Result<Event, YamlError> {
        let mut token = self.peek_token()?;
        if !implicit {
            while token.kind == TokenKind::DocumentEnd {
                self.skip_token();
                token = self.peek_token()?;
            }
        }
        if implicit
            && !matches!(
                token.kind,
                TokenKind::VersionDirective
                    | TokenKind::TagDirective
                    | TokenKind::DocumentStart
                    | TokenKind::StreamEnd
            )
        {
            self.process_directives()?;
            self.states.push(State::DocumentEnd);
            self.state = State::BlockNode;
            // The head comment up to the last blank line belongs to the
            // document; the rest to its first node.
            let mut head_comment = String::new();
            let hc = &mut self.scanner.head_comment;
            if !hc.is_empty() {
                let bytes = hc.as_bytes();
                let mut i = bytes.len() - 1;
                while i > 0 {
                    if bytes[i] == b'\n' {
                        if i == bytes.len() - 1 {
                            head_comment = hc[..i].to_string();
                            *hc = hc[i + 1..].to_string();
                            break;
                        } else if bytes[i - 1] == b'\n' {
                            head_comment = hc[..i - 1].to_string();
                            *hc = hc[i + 1..].to_string();
                            break;
                        }
                    }
                    i -= 1;
                }
            }
            let mut event = Event::new(EventKind::DocumentStart, token.start);
            event.head_comment = head_comment;
            event.implicit = true;
            Ok(event)
        } else if token.kind != TokenKind::StreamEnd {
            let start = token.start;
            self.process_directives()?;
            let token = self.peek_token()?;
            if token.kind != TokenKind::DocumentStart {
                return self.error(token.start, "did not find expected <document start>");
            }
            self.states.push(State::DocumentEnd);
            self.state = State::DocumentContent;
            self.skip_token();
            Ok(Event::new(EventKind::DocumentStart, start))
        } else {
            self.state = State::End;
            self.skip_token();
            Ok(Event::new(EventKind::StreamEnd, token.start))
        }
    }

    fn parse_document_content(&mut self) -> Result<Event, YamlError> {
        let token = self.peek_token()?;
        if matches!(
            token.kind,
            TokenKind::VersionDirective
                | TokenKind::TagDirective
                | TokenKind::DocumentStart
                | TokenKind::DocumentEnd
                | TokenKind::StreamEnd
        ) {
            self.pop_state();
            return Ok(self.empty_scalar(token.start));
        }
        self.parse_node(true, false)
    }

    fn parse_document_end(&mut self) -> Result<Event, YamlError> {
        let token = self.peek_token()?;
        let start = token.start;
        let mut implicit = true;
        if token.kind == TokenKind::DocumentEnd {
            self.skip_token();
            implicit = false;
        }
        self.tag_directives.clear();
        self.state = State::DocumentStart;
        let mut event = Event::new(EventKind::DocumentEnd, start);
        event.implicit = implicit;
        self.set_event_comments(&mut event);
        if !event.head_comment.is_empty() && event.foot_comment.is_empty() {
            event.foot_comment = std::mem::take(&mut event.head_comment);
        }
        Ok(event)
    }

    fn parse_node(&mut self, block: bool, indentless_sequence: bool) -> Result<Event, YamlError> {
        let mut token = self.peek_token()?;
        if token.kind == TokenKind::Alias {
            self.pop_state();
            let mut event = Event::new(EventKind::Alias, token.start);
            event.anchor = token.value.clone();
            self.set_event_comments(&mut event);
            self.skip_token();
            return Ok(event);
        }

        let mut start = token.start;
        let mut tag_token = false;
        let mut tag_handle = String::new();
        let mut tag_suffix = String::new();
        let mut anchor = String::new();
        let mut tag_mark = token.start;
        if token.kind == TokenKind::Anchor {
            anchor = token.value.clone();
            start = token.start;
            self.skip_token();
            token = self.peek_token()?;
            if token.kind == TokenKind::Tag {
                tag_token = true;
                tag_handle = token.value.clone();
                tag_suffix = token.suffix.clone();
                tag_mark = token.start;
                self.skip_token();
                token = self.peek_token()?;
            }
        } else if token.kind == TokenKind::Tag {
            tag_token = true;
            tag_handle = token.value.clone();
            tag_suffix = token.suffix.clone();
            start = token.start;
            tag_mark = token.start;
            self.skip_token();
            token = self.peek_token()?;
            if token.kind == TokenKind::Anchor {
                anchor = token.value.clone();
                self.skip_token();
                token = self.peek_token()?;
            }
        }

        let mut tag = String::new();
        if tag_token {
            if tag_handle.is_empty() {
                tag = tag_suffix;
            } else {
                let prefix = self
                    .tag_directives
                    .iter()
                    .find(|(handle, _)| *handle == tag_handle)
                    .map(|(_, prefix)| prefix.clone());
                match prefix {
                    Some(prefix) => tag = prefix + &tag_suffix,
                    None => return self.error(tag_mark, "found undefined tag handle"),
                }
            }
        }
        let implicit = tag.is_empty();

        if indentless_sequence && token.kind == TokenKind::BlockEntry {
            self.state = State::IndentlessSequenceEntry;
            let mut event = Event::new(EventKind::SequenceStart, start);
            event.anchor = anchor;
            event.tag = tag;
            event.implicit = implicit;
            return Ok(event);
        }
        if token.kind == TokenKind::Scalar {
            let plain_implicit =
                (tag.is_empty() && token.style == ScalarStyle::Plain) || tag == "!";
            self.pop_state();
            let mut event = Event::new(EventKind::Scalar, start);
            event.anchor = anchor;
            event.tag = tag;
            event.value = token.value.clone();
            event.implicit = plain_implicit;
            event.scalar_style = token.style;
            self.set_event_comments(&mut event);
            self.skip_token();
            return Ok(event);
        }
        if token.kind == TokenKind::FlowSequenceStart {
            self.state = State::FlowSequenceFirstEntry;
            let mut event = Event::new(EventKind::SequenceStart, start);
            event.anchor = anchor;
            event.tag = tag;
            event.implicit = implicit;
            event.flow = true;
            self.set_event_comments(&mut event);
            return Ok(event);
        }
        if token.kind == TokenKind::FlowMappingStart {
            self.state = State::FlowMappingFirstKey;
            let mut event = Event::new(EventKind::MappingStart, start);
            event.anchor = anchor;
            event.tag = tag;
            event.implicit = implicit;
            event.flow = true;
            self.set_event_comments(&mut event);
            return Ok(event);
        }
        if block && token.kind == TokenKind::BlockSequenceStart {
            self.state = State::BlockSequenceFirstEntry;
            let mut event = Event::new(EventKind::SequenceStart, start);
            event.anchor = anchor;
            event.tag = tag;
            event.implicit = implicit;
            if let Some(stem) = self.scanner.stem_comment.take() {
                event.head_comment = stem;
            }
            return Ok(event);
        }
        if block && token.kind == TokenKind::BlockMappingStart {
            self.state = State::BlockMappingFirstKey;
            let mut event = Event::new(EventKind::MappingStart, start);
            event.anchor = anchor;
            event.tag = tag;
            event.implicit = implicit;
            if let Some(stem) = self.scanner.stem_comment.take() {
                event.head_comment = stem;
            }
            return Ok(event);
        }
        if !anchor.is_empty() || !tag.is_empty() {
            self.pop_state();
            let mut event = Event::new(EventKind::Scalar, start);
            event.anchor = anchor;
            event.tag = tag;
            event.implicit = implicit;
            return Ok(event);
        }
        let context = if block {
            "did not find expected node content while parsing a block node"
        } else {
            "did not find expected node content while parsing a flow node"
        };
        self.error(token.start, context)
    }

    fn parse_block_sequence_entry(&mut self, first: bool) -> Result<Event, YamlError> {
        if first {
            self.peek_token()?;
            self.skip_token();
        }
        let mut token = self.peek_token()?;
        if token.kind == TokenKind::BlockEntry {
            let mark = token.end;
            let prior_head_len = self.scanner.head_comment.len();
            self.skip_token();
            self.split_stem_comment(prior_head_len)?;
            token = self.peek_token()?;
            if token.kind != TokenKind::BlockEntry && token.kind != TokenKind::BlockEnd {
                self.states.push(State::BlockSequenceEntry);
                return self.parse_node(true, false);
            }
            self.state = State::BlockSequenceEntry;
            return Ok(self.empty_scalar(mark));
        }
        if token.kind == TokenKind::BlockEnd {
            self.pop_state();
            self.skip_token();
            return Ok(Event::new(EventKind::SequenceEnd, token.start));
        }
        self.error(
            token.start,
            "did not find expected '-' indicator while parsing a block collection",
        )
    }

    fn parse_indentless_sequence_entry(&mut self) -> Result<Event, YamlError> {
        let mut token = self.peek_token()?;
        if token.kind == TokenKind::BlockEntry {
            let mark = token.end;
            let prior_head_len = self.scanner.head_comment.len();
            self.skip_token();
            self.split_stem_comment(prior_head_len)?;
            token = self.peek_token()?;
            if !matches!(
                token.kind,
                TokenKind::BlockEntry | TokenKind::Key | TokenKind::Value | TokenKind::BlockEnd
            ) {
                self.states.push(State::IndentlessSequenceEntry);
                return self.parse_node(true, false);
            }
            self.state = State::IndentlessSequenceEntry;
            return Ok(self.empty_scalar(mark));
        }
        self.pop_state();
        Ok(Event::new(EventKind::SequenceEnd, token.start))
    }

    /// When a sequence or mapping starts right under a sequence entry, the
    /// head comment gathered before the entry belongs to the entry (the
    /// "stem"), not to the first item of the nested collection.
    fn split_stem_comment(&mut self, stem_len: usize) -> Result<(), YamlError> {
        if stem_len == 0 {
            return Ok(());
        }
        let token = self.peek_token()?;
        if token.kind != TokenKind::BlockSequenceStart && token.kind != TokenKind::BlockMappingStart
        {
            return Ok(());
        }
        let hc = &mut self.scanner.head_comment;
        let stem = hc[..stem_len.min(hc.len())].to_string();
        if hc.len() <= stem_len {
            hc.clear();
        } else {
            *hc = hc[stem_len + 1..].to_string();
        }
        self.scanner.stem_comment = Some(stem);
        Ok(())
    }

    fn parse_block_mapping_key(&mut self, first: bool) -> Result<Event, YamlError> {
        if first {
            self.peek_token()?;
            self.skip_token();
        }
        let mut token = self.peek_token()?;
        if token.kind == TokenKind::Key {
            let mark = token.end;
            self.skip_token();
            token = self.peek_token()?;
            if !matches!(
                token.kind,
                TokenKind::Key | TokenKind::Value | TokenKind::BlockEnd
            ) {
                self.states.push(State::BlockMappingValue);
                return self.parse_node(true, true);
            }
            self.state = State::BlockMappingValue;
            return Ok(self.empty_scalar(mark));
        }
        if token.kind == TokenKind::BlockEnd {
            self.pop_state();
            let mut event = Event::new(EventKind::MappingEnd, token.start);
            self.set_event_comments(&mut event);
            self.skip_token();
            return Ok(event);
        }
        self.error(
            token.start,
            "did not find expected key while parsing a block mapping",
        )
    }

    fn parse_block_mapping_value(&mut self) -> Result<Event, YamlError> {
        let mut token = self.peek_token()?;
        if token.kind == TokenKind::Value {
            let mark = token.end;
            self.skip_token();
            token = self.peek_token()?;
            if !matches!(
                token.kind,
                TokenKind::Key | TokenKind::Value | TokenKind::BlockEnd
            ) {
                self.states.push(State::BlockMappingKey);
                return self.parse_node(true, true);
            }
            self.state = State::BlockMappingKey;
            return Ok(self.empty_scalar(mark));
        }
        self.state = State::BlockMappingKey;
        Ok(self.empty_scalar(token.start))
    }

    fn parse_flow_sequence_entry(&mut self, first: bool) -> Result<Event, YamlError> {
        if first {
            self.peek_token()?;
            self.skip_token();
        }
        let mut token = self.peek_token()?;
        if token.kind != TokenKind::FlowSequenceEnd {
            if !first {
                if token.kind == TokenKind::FlowEntry {
                    self.skip_token();
                    token = self.peek_token()?;
                } else {
                    return self.error(
                        token.start,
                        "did not find expected ',' or ']' while parsing a flow sequence",
                    );
                }
            }
            if token.kind == TokenKind::Key {
                self.state = State::FlowSequenceEntryMappingKey;
                let mut event = Event::new(EventKind::MappingStart, token.start);
                event.implicit = true;
                event.flow = true;
                self.skip_token();
                return Ok(event);
            } else if token.kind != TokenKind::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntry);
                return self.parse_node(false, false);
            }
        }
        self.pop_state();
        let mut event = Event::new(EventKind::SequenceEnd, token.start);
        self.set_event_comments(&mut event);
        self.skip_token();
        Ok(event)
    }

    fn parse_flow_sequence_entry_mapping_key(&mut self) -> Result<Event, YamlError> {
        let token = self.peek_token()?;
        if !matches!(
            token.kind,
            TokenKind::Value | TokenKind::FlowEntry | TokenKind::FlowSequenceEnd
        ) {
            self.states.push(State::FlowSequenceEntryMappingValue);
            return self.parse_node(false, false);
        }
        let mark = token.end;
        self.skip_token();
        self.state = State::FlowSequenceEntryMappingValue;
        Ok(self.empty_scalar(mark))
    }

    fn parse_flow_sequence_entry_mapping_value(&mut self) -> Result<Event, YamlError> {
        let mut token = self.peek_token()?;
        if token.kind == TokenKind::Value {
            self.skip_token();
            token = self.peek_token()?;
            if token.kind != TokenKind::FlowEntry && token.kind != TokenKind::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntryMappingEnd);
                return self.parse_node(false, false);
            }
        }
        self.state = State::FlowSequenceEntryMappingEnd;
        Ok(self.empty_scalar(token.start))
    }

    fn parse_flow_sequence_entry_mapping_end(&mut self) -> Result<Event, YamlError> {
        let token = self.peek_token()?;
        self.state = State::FlowSequenceEntry;
        Ok(Event::new(EventKind::MappingEnd, token.start))
    }

    fn parse_flow_mapping_key(&mut self, first: bool) -> Result<Event, YamlError> {
        if first {
            self.peek_token()?;
            self.skip_token();
        }
        let mut token = self.peek_token()?;
        if token.kind != TokenKind::FlowMappingEnd {
            if !first {
                if token.kind == TokenKind::FlowEntry {
                    self.skip_token();
                    token = self.peek_token()?;
                } else {
                    return self.error(
                        token.start,
                        "did not find expected ',' or '}' while parsing a flow mapping",
                    );
                }
            }
            if token.kind == TokenKind::Key {
                self.skip_token();
                token = self.peek_token()?;
                if !matches!(
                    token.kind,
                    TokenKind::Value | TokenKind::FlowEntry | TokenKind::FlowMappingEnd
                ) {
                    self.states.push(State::FlowMappingValue);
                    return self.parse_node(false, false);
                }
                self.state = State::FlowMappingValue;
                return Ok(self.empty_scalar(token.start));
            } else if token.kind != TokenKind::FlowMappingEnd {
                self.states.push(State::FlowMappingEmptyValue);
                return self.parse_node(false, false);
            }
        }
        self.pop_state();
        let mut event = Event::new(EventKind::MappingEnd, token.start);
        self.set_event_comments(&mut event);
        self.skip_token();
        Ok(event)
    }

    fn parse_flow_mapping_value(&mut self, empty: bool) -> Result<Event, YamlError> {
        let mut token = self.peek_token()?;
        if empty {
            self.state = State::FlowMappingKey;
            return Ok(self.empty_scalar(token.start));
        }
        if token.kind == TokenKind::Value {
            self.skip_token();
            token = self.peek_token()?;
            if token.kind != TokenKind::FlowEntry && token.kind != TokenKind::FlowMappingEnd {
                self.states.push(State::FlowMappingKey);
                return self.parse_node(false, false);
            }
        }
        self.state = State::FlowMappingKey;
        Ok(self.empty_scalar(token.start))
    }

    fn empty_scalar(&self, mark: Mark) -> Event {
        let mut event = Event::new(EventKind::Scalar, mark);
        event.implicit = true;
        event
    }

    fn process_directives(&mut self) -> Result<(), YamlError> {
        let mut seen_version = false;
        let mut token = self.peek_token()?;
        while token.kind == TokenKind::VersionDirective || token.kind == TokenKind::TagDirective {
            if token.kind == TokenKind::VersionDirective {
                if seen_version {
                    return self.error(token.start, "found duplicate %YAML directive");
                }
                if token.major != 1 || token.minor != 1 {
                    return self.error(token.start, "found incompatible YAML document");
                }
                seen_version = true;
            } else {
                if self.tag_directives.iter().any(|(h, _)| *h == token.value) {
                    return self.error(token.start, "found duplicate %TAG directive");
                }
                self.tag_directives
                    .push((token.value.clone(), token.prefix.clone()));
            }
            self.skip_token();
            token = self.peek_token()?;
        }
        for (handle, prefix) in [("!", "!"), ("!!", "tag:yaml.org,2002:")] {
            if !self.tag_directives.iter().any(|(h, _)| h == handle) {
                self.tag_directives
                    .push((handle.to_string(), prefix.to_string()));
            }
        }
        Ok(())
    }
}
