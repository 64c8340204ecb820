//! The YAML tokenizer, with go-yaml v3's comment attachment.
//!
//! sops re-emits YAML through go-yaml v3, and where a comment lands in its
//! output (head, line or foot comment of which node) is decided while
//! scanning. To reproduce sops byte for byte this scanner follows the same
//! algorithm: the libyaml token machine (simple keys, indentation stack,
//! block ends) plus go-yaml's comment queue, in which every comment remembers
//! the token it belongs to (`token_mark`) and is folded into the parser's
//! head/line/foot buffers when that token is peeked.

use super::YamlError;
use super::chars::{at, is_alpha, is_blank, is_blankz, is_break, is_breakz, is_hex};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Mark {
    /// Characters since the start of the stream (CRLF counts two).
    pub index: usize,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    StreamStart,
    StreamEnd,
    VersionDirective,
    TagDirective,
    DocumentStart,
    DocumentEnd,
    BlockSequenceStart,
    BlockMappingStart,
    BlockEnd,
    FlowSequenceStart,
    FlowSequenceEnd,
    FlowMappingStart,
    FlowMappingEnd,
    BlockEntry,
    FlowEntry,
    Key,
    Value,
    Alias,
    Anchor,
    Tag,
    Scalar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum ScalarStyle {
    #[default]
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub kind: TokenKind,
    pub start: Mark,
    pub end: Mark,
    /// Scalar text, anchor name, tag handle, or %TAG handle.
    pub value: String,
    /// Tag suffix.
    pub suffix: String,
    /// %TAG prefix.
    pub prefix: String,
    pub style: ScalarStyle,
    pub major: u8,
    pub minor: u8,
}

impl Token {
    fn new(kind: TokenKind, start: Mark, end: Mark) -> Token {
        Token {
            kind,
            start,
            end,
            value: String::new(),
            suffix: String::new(),
            prefix: String::new(),
            style: ScalarStyle::Plain,
            major: 0,
            minor: 0,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct Comment {
    pub scan_mark: Mark,
    pub token_mark: Mark,
    pub start_mark: Mark,
    pub end_mark: Mark,
    pub head: String,
    pub line: String,
    pub foot: String,
}

#[derive(Debug, Clone, Copy, Default)]
struct SimpleKey {
    possible: bool,
    required: bool,
    token_number: usize,
    mark: Mark,
}

/// Nesting deeper than this is refused (go-yaml uses the same limits), so a
/// hostile document cannot exhaust memory or the stack.
const MAX_FLOW_LEVEL: usize = 10_000;
const MAX_INDENTS: usize = 10_000;

/// Scanner state. The parser in `parser.rs` shares this struct (go-yaml keeps
/// both in one `yaml_parser_t`, and the comment buffers cross the boundary).
pub(super) struct Scanner {
    buf: Vec<char>,
    pos: usize,
    pub(super) mark: Mark,
    newlines: usize,

    stream_start_produced: bool,
    pub(super) stream_end_produced: bool,
    flow_level: usize,
    /// Every token ever produced; `head` is the next one to hand out. Nothing
    /// is removed, so positions stay absolute (go-yaml's `tokens_parsed` is
    /// simply `head`).
    pub(super) tokens: Vec<Token>,
    pub(super) head: usize,
    token_available: bool,

    indent: isize,
    indents: Vec<isize>,
    simple_key_allowed: bool,
    simple_keys: Vec<SimpleKey>,
    simple_keys_by_tok: std::collections::HashMap<usize, usize>,

    pub(super) comments: Vec<Comment>,
    pub(super) comments_head: usize,
    pub(super) head_comment: String,
    pub(super) line_comment: String,
    pub(super) foot_comment: String,
    pub(super) stem_comment: Option<String>,
    pub(super) tail_comment: String,
}

impl Scanner {
    pub(super) fn new(input: &str) -> Result<Scanner, YamlError> {
        let mut buf: Vec<char> = Vec::with_capacity(input.len() + 8);
        for (line, text) in input.split_inclusive('\n').enumerate() {
            for c in text.chars() {
                let v = c as u32;
                let allowed = v == 0x09
                    || v == 0x0A
                    || v == 0x0D
                    || (0x20..=0x7E).contains(&v)
                    || v == 0x85
                    || (0xA0..=0xD7FF).contains(&v)
                    || (0xE000..=0xFFFD).contains(&v)
                    || (0x10000..=0x10FFFF).contains(&v)
                    // A byte order mark is allowed at the start of the stream.
                    || (v == 0xFEFF && buf.is_empty());
                if !allowed {
                    return Err(YamlError::new(
                        line + 1,
                        "control characters are not allowed",
                    ));
                }
                buf.push(c);
            }
        }
        if buf.first() == Some(&'\u{FEFF}') {
            buf.remove(0);
        }
        buf.extend(std::iter::repeat_n('\0', 8));
        Ok(Scanner {
            buf,
            pos: 0,
            mark: Mark::default(),
            newlines: 0,
            stream_start_produced: false,
            stream_end_produced: false,
            flow_level: 0,
            tokens: Vec::new(),
            head: 0,
            token_available: false,
            indent: -1,
            indents: Vec::new(),
            simple_key_allowed: false,
            simple_keys: Vec::new(),
            simple_keys_by_tok: std::collections::HashMap::new(),
            comments: Vec::new(),
            comments_head: 0,
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
            stem_comment: None,
            tail_comment: String::new(),
        })
    }

    fn ch(&self, offset: usize) -> char {
        at(&self.buf, self.pos + offset)
    }

    fn err<T>(&self, context_mark: Mark, problem: &str) -> Result<T, YamlError> {
        let _ = context_mark;
        Err(YamlError::new(self.mark.line + 1, problem))
    }

    fn skip(&mut self) {
        if !is_blank(self.ch(0)) {
            self.newlines = 0;
        }
        self.mark.index += 1;
        self.mark.column += 1;
        self.pos += 1;
    }

    fn skip_line(&mut self) {
        if self.ch(0) == '\r' && self.ch(1) == '\n' {
            self.mark.index += 2;
            self.mark.column = 0;
            self.mark.line += 1;
            self.pos += 2;
            self.newlines += 1;
        } else if is_break(self.ch(0)) {
            self.mark.index += 1;
            self.mark.column = 0;
            self.mark.line += 1;
            self.pos += 1;
            self.newlines += 1;
        }
    }

    fn read(&mut self, s: &mut String) {
        if !is_blank(self.ch(0)) {
            self.newlines = 0;
        }
        s.push(self.ch(0));
        self.pos += 1;
        self.mark.index += 1;
        self.mark.column += 1;
    }

    /// Reads a line break, normalised to LF (LS and PS are kept as they are).
    fn read_line(&mut self, s: &mut String) {
        let c = self.ch(0);
        if c == '\r' && self.ch(1) == '\n' {
            s.push('\n');
            self.pos += 2;
            self.mark.index += 1;
        } else if c == '\r' || c == '\n' || c == '\u{85}' {
            s.push('\n');
            self.pos += 1;
        } else if c == '\u{2028}' || c == '\u{2029}' {
            s.push(c);
            self.pos += 1;
        } else {
            return;
        }
        self.mark.index += 1;
        self.mark.column = 0;
        self.mark.line += 1;
        self.newlines += 1;
    }

    fn insert_token(&mut self, pos: Option<usize>, token: Token) {
        match pos {
            None => self.tokens.push(token),
            Some(p) => self.tokens.insert(p, token),
        }
    }

    /// Ensures a token is available at `head` (with the two-token lookahead
    /// go-yaml needs to place foot comments) and returns its index.
    pub(super) fn fetch_more_tokens(&mut self) -> Result<(), YamlError> {
        loop {
            if self.head + 2 < self.tokens.len() {
                match self.simple_keys_by_tok.get(&self.head).copied() {
                    None => break,
                    Some(level) => {
                        let mut key = self.simple_keys[level];
                        let valid = self.simple_key_is_valid(&mut key)?;
                        self.simple_keys[level] = key;
                        if !valid {
                            break;
                        }
                    }
                }
            }
            self.fetch_next_token()?;
        }
        self.token_available = true;
        Ok(())
    }

    pub(super) fn token_available(&self) -> bool {
        self.token_available
    }

    pub(super) fn consume_token(&mut self) {
        self.token_available = false;
        self.stream_end_produced = self.tokens[self.head].kind == TokenKind::StreamEnd;
        self.head += 1;
    }

    fn fetch_next_token(&mut self) -> Result<(), YamlError> {
        if !self.stream_start_produced {
            return self.fetch_stream_start();
        }
        let scan_mark = self.mark;
        self.scan_to_next_token()?;
        self.unroll_indent(self.mark.column as isize, scan_mark);

        let c = self.ch(0);
        if c == '\0' {
            return self.fetch_stream_end();
        }
        if self.mark.column == 0 && c == '%' {
            return self.fetch_directive();
        }
        if self.mark.column == 0
            && c == '-'
            && self.ch(1) == '-'
            && self.ch(2) == '-'
            && is_blankz(self.ch(3))
        {
            return self.fetch_document_indicator(TokenKind::DocumentStart);
        }
        if self.mark.column == 0
            && c == '.'
            && self.ch(1) == '.'
            && self.ch(2) == '.'
            && is_blankz(self.ch(3))
        {
            return self.fetch_document_indicator(TokenKind::DocumentEnd);
        }

        let mut comment_mark = self.mark;
        if let Some(last) = self.tokens.last()
            && ((self.flow_level == 0 && c == ':') || (self.flow_level > 0 && c == ','))
        {
            // Associate any following comments with the prior token.
            comment_mark = last.start;
        }

        self.fetch_token_at(c)?;

        if self.tokens.last().map(|t| t.kind) == Some(TokenKind::BlockEntry) {
            // A sequence indicator alone has no line comment: it becomes a
            // head comment of whatever follows.
            return Ok(());
        }
        self.scan_line_comment(comment_mark);
        Ok(())
    }

    fn fetch_token_at(&mut self, c: char) -> Result<(), YamlError> {
        let next = self.ch(1);
        match c {
            '[' => return self.fetch_flow_collection_start(TokenKind::FlowSequenceStart),
            '{' => return self.fetch_flow_collection_start(TokenKind::FlowMappingStart),
            ']' => return self.fetch_flow_collection_end(TokenKind::FlowSequenceEnd),
            '}' => return self.fetch_flow_collection_end(TokenKind::FlowMappingEnd),
            ',' => return self.fetch_flow_entry(),
            _ => {}
        }
        if c == '-' && is_blankz(next) {
            return self.fetch_block_entry();
        }
        if c == '?' && (self.flow_level > 0 || is_blankz(next)) {
            return self.fetch_key();
        }
        if c == ':' && (self.flow_level > 0 || is_blankz(next)) {
            return self.fetch_value();
        }
        match c {
            '*' => return self.fetch_anchor(TokenKind::Alias),
            '&' => return self.fetch_anchor(TokenKind::Anchor),
            '!' => return self.fetch_tag(),
            '|' if self.flow_level == 0 => return self.fetch_block_scalar(true),
            '>' if self.flow_level == 0 => return self.fetch_block_scalar(false),
            '\'' => return self.fetch_flow_scalar(true),
            '"' => return self.fetch_flow_scalar(false),
            _ => {}
        }
        let starts_plain = !(is_blankz(c)
            || matches!(
                c,
                '-' | '?'
                    | ':'
                    | ','
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '#'
                    | '&'
                    | '*'
                    | '!'
                    | '|'
                    | '>'
                    | '\''
                    | '"'
                    | '%'
                    | '@'
                    | '`'
            ))
            || (c == '-' && !is_blank(next))
            || (self.flow_level == 0 && (c == '?' || c == ':') && !is_blankz(next));
        if starts_plain {
            return self.fetch_plain_scalar();
        }
        self.err(self.mark, "found character that cannot start any token")
    }

    fn simple_key_is_valid(&self, key: &mut SimpleKey) -> Result<bool, YamlError> {
        if !key.possible {
            return Ok(false);
        }
        // A simple key is limited to one line and 1024 characters.
        if key.mark.line < self.mark.line || key.mark.index + 1024 < self.mark.index {
            if key.required {
                return Err(YamlError::new(
                    key.mark.line + 1,
                    "could not find expected ':'",
                ));
            }
            key.possible = false;
            return Ok(false);
        }
        Ok(true)
    }

    fn save_simple_key(&mut self) -> Result<(), YamlError> {
        let required = self.flow_level == 0 && self.indent == self.mark.column as isize;
        if self.simple_key_allowed {
            let key = SimpleKey {
                possible: true,
                required,
                token_number: self.tokens.len(),
                mark: self.mark,
            };
            self.remove_simple_key()?;
            let level = self.simple_keys.len() - 1;
            self.simple_keys[level] = key;
            self.simple_keys_by_tok.insert(key.token_number, level);
        }
        Ok(())
    }

    fn remove_simple_key(&mut self) -> Result<(), YamlError> {
        let i = self.simple_keys.len() - 1;
        if self.simple_keys[i].possible {
            if self.simple_keys[i].required {
                return Err(YamlError::new(
                    self.simple_keys[i].mark.line + 1,
                    "could not find expected ':'",
                ));
            }
            self.simple_keys[i].possible = false;
            self.simple_keys_by_tok
                .remove(&self.simple_keys[i].token_number);
        }
        Ok(())
    }

    fn increase_flow_level(&mut self) -> Result<(), YamlError> {
        self.simple_keys.push(SimpleKey {
            token_number: self.tokens.len(),
            mark: self.mark,
            ..SimpleKey::default()
        });
        self.flow_level += 1;
        if self.flow_level > MAX_FLOW_LEVEL {
            return self.err(self.mark, "exceeded max depth of 10000");
        }
        Ok(())
    }

    fn decrease_flow_level(&mut self) {
        if self.flow_level > 0 {
            self.flow_level -= 1;
            if let Some(last) = self.simple_keys.pop() {
                self.simple_keys_by_tok.remove(&last.token_number);
            }
        }
    }

    fn roll_indent(
        &mut self,
        column: isize,
        number: Option<usize>,
        kind: TokenKind,
        mark: Mark,
    ) -> Result<(), YamlError> {
        if self.flow_level > 0 {
            return Ok(());
        }
        if self.indent < column {
            self.indents.push(self.indent);
            self.indent = column;
            if self.indents.len() > MAX_INDENTS {
                return self.err(self.mark, "exceeded max depth of 10000");
            }
            self.insert_token(number, Token::new(kind, mark, mark));
        }
        Ok(())
    }

    /// Pops indentation levels deeper than `column`, emitting BLOCK-END for
    /// each. go-yaml places each BLOCK-END before the comments that sit at
    /// the ending block's own indentation, so they become its foot comments.
    fn unroll_indent(&mut self, column: isize, scan_mark: Mark) {
        if self.flow_level > 0 {
            return;
        }
        let mut block_mark = scan_mark;
        // go-yaml steps the mark back one character (to -1 at the very start).
        let mut block_index = scan_mark.index as i64 - 1;
        while self.indent > column {
            let mut stop_index = block_index;
            for comment in self.comments.iter().rev() {
                if (comment.end_mark.index as i64) < stop_index {
                    break;
                }
                if comment.start_mark.column as isize == self.indent + 1 {
                    block_mark = comment.start_mark;
                    block_index = block_mark.index as i64;
                }
                stop_index = comment.scan_mark.index as i64;
            }
            if block_index >= 0 {
                block_mark.index = block_index as usize;
            }
            self.insert_token(
                None,
                Token::new(TokenKind::BlockEnd, block_mark, block_mark),
            );
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }

    fn fetch_stream_start(&mut self) -> Result<(), YamlError> {
        self.indent = -1;
        self.simple_keys.push(SimpleKey::default());
        self.simple_key_allowed = true;
        self.stream_start_produced = true;
        let mark = self.mark;
        self.insert_token(None, Token::new(TokenKind::StreamStart, mark, mark));
        Ok(())
    }

    fn fetch_stream_end(&mut self) -> Result<(), YamlError> {
        if self.mark.column != 0 {
            self.mark.column = 0;
            self.mark.line += 1;
        }
        let mark = self.mark;
        self.unroll_indent(-1, mark);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        self.insert_token(None, Token::new(TokenKind::StreamEnd, mark, mark));
        Ok(())
    }

    fn fetch_directive(&mut self) -> Result<(), YamlError> {
        let mark = self.mark;
        self.unroll_indent(-1, mark);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_directive()?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_document_indicator(&mut self, kind: TokenKind) -> Result<(), YamlError> {
        let mark = self.mark;
        self.unroll_indent(-1, mark);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let start = self.mark;
        self.skip();
        self.skip();
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(kind, start, end));
        Ok(())
    }

    fn fetch_flow_collection_start(&mut self, kind: TokenKind) -> Result<(), YamlError> {
        self.save_simple_key()?;
        self.increase_flow_level()?;
        self.simple_key_allowed = true;
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(kind, start, end));
        Ok(())
    }

    fn fetch_flow_collection_end(&mut self, kind: TokenKind) -> Result<(), YamlError> {
        self.remove_simple_key()?;
        self.decrease_flow_level();
        self.simple_key_allowed = false;
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(kind, start, end));
        Ok(())
    }

    fn fetch_flow_entry(&mut self) -> Result<(), YamlError> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(TokenKind::FlowEntry, start, end));
        Ok(())
    }

    fn fetch_block_entry(&mut self) -> Result<(), YamlError> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                return self.err(
                    self.mark,
                    "block sequence entries are not allowed in this context",
                );
            }
            let mark = self.mark;
            self.roll_indent(
                mark.column as isize,
                None,
                TokenKind::BlockSequenceStart,
                mark,
            )?;
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(TokenKind::BlockEntry, start, end));
        Ok(())
    }

    fn fetch_key(&mut self) -> Result<(), YamlError> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                return self.err(self.mark, "mapping keys are not allowed in this context");
            }
            let mark = self.mark;
            self.roll_indent(
                mark.column as isize,
                None,
                TokenKind::BlockMappingStart,
                mark,
            )?;
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = self.flow_level == 0;
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(TokenKind::Key, start, end));
        Ok(())
    }

    fn fetch_value(&mut self) -> Result<(), YamlError> {
        let level = self.simple_keys.len() - 1;
        let mut key = self.simple_keys[level];
        let valid = self.simple_key_is_valid(&mut key)?;
        self.simple_keys[level] = key;
        if valid {
            // Insert the KEY token where the simple key started.
            self.insert_token(
                Some(key.token_number),
                Token::new(TokenKind::Key, key.mark, key.mark),
            );
            self.roll_indent(
                key.mark.column as isize,
                Some(key.token_number),
                TokenKind::BlockMappingStart,
                key.mark,
            )?;
            self.simple_keys[level].possible = false;
            self.simple_keys_by_tok.remove(&key.token_number);
            self.simple_key_allowed = false;
        } else {
            if self.flow_level == 0 {
                if !self.simple_key_allowed {
                    return self.err(self.mark, "mapping values are not allowed in this context");
                }
                let mark = self.mark;
                self.roll_indent(
                    mark.column as isize,
                    None,
                    TokenKind::BlockMappingStart,
                    mark,
                )?;
            }
            self.simple_key_allowed = self.flow_level == 0;
        }
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(TokenKind::Value, start, end));
        Ok(())
    }

    fn fetch_anchor(&mut self, kind: TokenKind) -> Result<(), YamlError> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_anchor(kind)?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_tag(&mut self) -> Result<(), YamlError> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_tag()?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_block_scalar(&mut self, literal: bool) -> Result<(), YamlError> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let token = self.scan_block_scalar(literal)?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_flow_scalar(&mut self, single: bool) -> Result<(), YamlError> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_flow_scalar(single)?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_plain_scalar(&mut self) -> Result<(), YamlError> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_plain_scalar()?;
        self.insert_token(None, token);
        Ok(())
    }

    fn scan_to_next_token(&mut self) -> Result<(), YamlError> {
        let scan_mark = self.mark;
        loop {
            // Tabs are whitespace in flow context and after a complex-value
            // indicator; elsewhere only spaces are.
            while self.ch(0) == ' '
                || ((self.flow_level > 0 || !self.simple_key_allowed) && self.ch(0) == '\t')
            {
                self.skip();
            }

            // A line comment right after a lone sequence indicator reads like
            // a header of the entry's content:
            //     - # The comment
            //       - Some data
            // so it becomes a head comment.
            let n = self.tokens.len();
            if n > 1 && !self.comments.is_empty() {
                let kind_a = self.tokens[n - 2].kind;
                let kind_b = self.tokens[n - 1].kind;
                let here = self.mark;
                let at_break = is_break(self.ch(0));
                if let Some(comment) = self.comments.last_mut()
                    && kind_a == TokenKind::BlockSequenceStart
                    && kind_b == TokenKind::BlockEntry
                    && !comment.line.is_empty()
                    && !at_break
                {
                    comment.head = std::mem::take(&mut comment.line);
                    if comment.start_mark.line + 1 == here.line {
                        comment.token_mark = here;
                    }
                }
            }

            if self.ch(0) == '#' {
                self.scan_comments(scan_mark);
            }

            if is_break(self.ch(0)) {
                self.skip_line();
                if self.flow_level == 0 {
                    self.simple_key_allowed = true;
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    fn scan_directive(&mut self) -> Result<Token, YamlError> {
        let start = self.mark;
        self.skip();
        let name = self.scan_directive_name(start)?;
        let mut token = if name == "YAML" {
            let (major, minor) = self.scan_version_directive_value(start)?;
            let mut t = Token::new(TokenKind::VersionDirective, start, self.mark);
            t.major = major;
            t.minor = minor;
            t
        } else if name == "TAG" {
            let (handle, prefix) = self.scan_tag_directive_value(start)?;
            let mut t = Token::new(TokenKind::TagDirective, start, self.mark);
            t.value = handle;
            t.prefix = prefix;
            t
        } else {
            return self.err(start, "found unknown directive name");
        };
        token.end = self.mark;
        while is_blank(self.ch(0)) {
            self.skip();
        }
        if self.ch(0) == '#' {
            while !is_breakz(self.ch(0)) {
                self.skip();
            }
        }
        if !is_breakz(self.ch(0)) {
            return self.err(start, "did not find expected comment or line break");
        }
        if is_break(self.ch(0)) {
            self.skip_line();
        }
        Ok(token)
    }

    fn scan_directive_name(&mut self, start: Mark) -> Result<String, YamlError> {
        let mut s = String::new();
        while is_alpha(self.ch(0)) {
            self.read(&mut s);
        }
        if s.is_empty() {
            return self.err(start, "could not find expected directive name");
        }
        if !is_blankz(self.ch(0)) {
            return self.err(start, "found unexpected non-alphabetical character");
        }
        Ok(s)
    }

    fn scan_version_directive_value(&mut self, start: Mark) -> Result<(u8, u8), YamlError> {
        while is_blank(self.ch(0)) {
            self.skip();
        }
        let major = self.scan_version_directive_number(start)?;
        if self.ch(0) != '.' {
            return self.err(start, "did not find expected digit or '.' character");
        }
        self.skip();
        let minor = self.scan_version_directive_number(start)?;
        Ok((major, minor))
    }

    fn scan_version_directive_number(&mut self, start: Mark) -> Result<u8, YamlError> {
        let mut value: u8 = 0;
        let mut length = 0;
        while let Some(d) = self.ch(0).to_digit(10) {
            length += 1;
            if length > 2 {
                return self.err(start, "found extremely long version number");
            }
            value = value * 10 + d as u8;
            self.skip();
        }
        if length == 0 {
            return self.err(start, "did not find expected version number");
        }
        Ok(value)
    }

    fn scan_tag_directive_value(&mut self, start: Mark) -> Result<(String, String), YamlError> {
        while is_blank(self.ch(0)) {
            self.skip();
        }
        let handle = self.scan_tag_handle(true, start)?;
        if !is_blank(self.ch(0)) {
            return self.err(start, "did not find expected whitespace");
        }
        while is_blank(self.ch(0)) {
            self.skip();
        }
        let prefix = self.scan_tag_uri(true, "", start)?;
        if !is_blankz(self.ch(0)) {
            return self.err(start, "did not find expected whitespace or line break");
        }
        Ok((handle, prefix))
    }

    fn scan_anchor(&mut self, kind: TokenKind) -> Result<Token, YamlError> {
        let start = self.mark;
        self.skip();
        let mut s = String::new();
        while is_alpha(self.ch(0)) {
            self.read(&mut s);
        }
        let end = self.mark;
        let c = self.ch(0);
        if s.is_empty()
            || !(is_blankz(c) || matches!(c, '?' | ':' | ',' | ']' | '}' | '%' | '@' | '`'))
        {
            return self.err(
                start,
                "did not find expected alphabetic or numeric character",
            );
        }
        let mut token = Token::new(kind, start, end);
        token.value = s;
        Ok(token)
    }

    fn scan_tag(&mut self) -> Result<Token, YamlError> {
        let start = self.mark;
        let (handle, suffix);
        if self.ch(1) == '<' {
            self.skip();
            self.skip();
            suffix = self.scan_tag_uri(false, "", start)?;
            if self.ch(0) != '>' {
                return self.err(start, "did not find the expected '>'");
            }
            self.skip();
            handle = String::new();
        } else {
            let h = self.scan_tag_handle(false, start)?;
            if h.starts_with('!') && h.len() > 1 && h.ends_with('!') {
                suffix = self.scan_tag_uri(false, "", start)?;
                handle = h;
            } else {
                let s = self.scan_tag_uri(false, &h, start)?;
                if s.is_empty() {
                    handle = String::new();
                    suffix = "!".to_string();
                } else {
                    handle = "!".to_string();
                    suffix = s;
                }
            }
        }
        if !is_blankz(self.ch(0)) {
            return self.err(start, "did not find expected whitespace or line break");
        }
        let mut token = Token::new(TokenKind::Tag, start, self.mark);
        token.value = handle;
        token.suffix = suffix;
        Ok(token)
    }

    fn scan_tag_handle(&mut self, directive: bool, start: Mark) -> Result<String, YamlError> {
        if self.ch(0) != '!' {
            return self.err(start, "did not find expected '!'");
        }
        let mut s = String::new();
        self.read(&mut s);
        while is_alpha(self.ch(0)) {
            self.read(&mut s);
        }
        if self.ch(0) == '!' {
            self.read(&mut s);
        } else if directive && s != "!" {
            return self.err(start, "did not find expected '!'");
        }
        Ok(s)
    }

    fn scan_tag_uri(
        &mut self,
        directive: bool,
        head: &str,
        start: Mark,
    ) -> Result<String, YamlError> {
        let mut s = String::new();
        let mut has_tag = !head.is_empty();
        if head.len() > 1 {
            s.push_str(&head[1..]);
        }
        loop {
            let c = self.ch(0);
            let uri_char = is_alpha(c)
                || matches!(
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
                        | '.'
                        | '!'
                        | '~'
                        | '*'
                        | '\''
                        | '('
                        | ')'
                        | '['
                        | ']'
                        | '%'
                );
            if !uri_char {
                break;
            }
            if c == '%' {
                self.scan_uri_escapes(directive, start, &mut s)?;
            } else {
                self.read(&mut s);
            }
            has_tag = true;
        }
        if !has_tag {
            return self.err(start, "did not find expected tag URI");
        }
        Ok(s)
    }

    fn scan_uri_escapes(
        &mut self,
        _directive: bool,
        start: Mark,
        s: &mut String,
    ) -> Result<(), YamlError> {
        let mut bytes: Vec<u8> = Vec::new();
        let mut remaining: usize = 0;
        loop {
            if !(self.ch(0) == '%' && is_hex(self.ch(1)) && is_hex(self.ch(2))) {
                return self.err(start, "did not find URI escaped octet");
            }
            let hi = self.ch(1).to_digit(16).unwrap_or(0);
            let lo = self.ch(2).to_digit(16).unwrap_or(0);
            let octet = (hi * 16 + lo) as u8;
            if bytes.is_empty() {
                remaining = match octet {
                    o if o & 0x80 == 0 => 1,
                    o if o & 0xE0 == 0xC0 => 2,
                    o if o & 0xF0 == 0xE0 => 3,
                    o if o & 0xF8 == 0xF0 => 4,
                    _ => return self.err(start, "found an incorrect leading UTF-8 octet"),
                };
            } else if octet & 0xC0 != 0x80 {
                return self.err(start, "found an incorrect trailing UTF-8 octet");
            }
            bytes.push(octet);
            self.skip();
            self.skip();
            self.skip();
            remaining -= 1;
            if remaining == 0 {
                break;
            }
        }
        match std::str::from_utf8(&bytes) {
            Ok(text) => s.push_str(text),
            Err(_) => return self.err(start, "found an incorrect UTF-8 sequence"),
        }
        Ok(())
    }

    fn scan_block_scalar(&mut self, literal: bool) -> Result<Token, YamlError> {
        let start = self.mark;
        self.skip();
        let mut chomping: i8 = 0;
        let mut increment: usize = 0;
        if self.ch(0) == '+' || self.ch(0) == '-' {
            chomping = if self.ch(0) == '+' { 1 } else { -1 };
            self.skip();
            if let Some(d) = self.ch(0).to_digit(10) {
                if d == 0 {
                    return self.err(start, "found an indentation indicator equal to 0");
                }
                increment = d as usize;
                self.skip();
            }
        } else if let Some(d) = self.ch(0).to_digit(10) {
            if d == 0 {
                return self.err(start, "found an indentation indicator equal to 0");
            }
            increment = d as usize;
            self.skip();
            if self.ch(0) == '+' || self.ch(0) == '-' {
                chomping = if self.ch(0) == '+' { 1 } else { -1 };
                self.skip();
            }
        }
        while is_blank(self.ch(0)) {
            self.skip();
        }
        if self.ch(0) == '#' {
            self.scan_line_comment(start);
            while !is_breakz(self.ch(0)) {
                self.skip();
            }
        }
        if !is_breakz(self.ch(0)) {
            return self.err(start, "did not find expected comment or line break");
        }
        if is_break(self.ch(0)) {
            self.skip_line();
        }
        let mut end = self.mark;
        let mut indent: usize = 0;
        if increment > 0 {
            indent = if self.indent >= 0 {
                self.indent as usize + increment
            } else {
                increment
            };
        }
        let mut s = String::new();
        let mut leading_break = String::new();
        let mut trailing_breaks = String::new();
        self.scan_block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;

        let mut leading_blank = false;
        while self.mark.column == indent && self.ch(0) != '\0' {
            let trailing_blank = is_blank(self.ch(0));
            if !literal && !leading_blank && !trailing_blank && leading_break.starts_with('\n') {
                if trailing_breaks.is_empty() {
                    s.push(' ');
                }
            } else {
                s.push_str(&leading_break);
            }
            leading_break.clear();
            s.push_str(&trailing_breaks);
            trailing_breaks.clear();
            leading_blank = is_blank(self.ch(0));
            while !is_breakz(self.ch(0)) {
                self.read(&mut s);
            }
            self.read_line(&mut leading_break);
            self.scan_block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;
        }
        if chomping != -1 {
            s.push_str(&leading_break);
        }
        if chomping == 1 {
            s.push_str(&trailing_breaks);
        }
        let mut token = Token::new(TokenKind::Scalar, start, end);
        token.value = s;
        token.style = if literal {
            ScalarStyle::Literal
        } else {
            ScalarStyle::Folded
        };
        Ok(token)
    }

    fn scan_block_scalar_breaks(
        &mut self,
        indent: &mut usize,
        breaks: &mut String,
        start: Mark,
        end: &mut Mark,
    ) -> Result<(), YamlError> {
        *end = self.mark;
        let mut max_indent = 0;
        loop {
            while (*indent == 0 || self.mark.column < *indent) && self.ch(0) == ' ' {
                self.skip();
            }
            if self.mark.column > max_indent {
                max_indent = self.mark.column;
            }
            if (*indent == 0 || self.mark.column < *indent) && self.ch(0) == '\t' {
                return self.err(
                    start,
                    "found a tab character where an indentation space is expected",
                );
            }
            if !is_break(self.ch(0)) {
                break;
            }
            self.read_line(breaks);
            *end = self.mark;
        }
        if *indent == 0 {
            *indent = max_indent;
            let floor = (self.indent + 1).max(1) as usize;
            if *indent < floor {
                *indent = floor;
            }
        }
        Ok(())
    }

    fn scan_flow_scalar(&mut self, single: bool) -> Result<Token, YamlError> {
        let start = self.mark;
        self.skip();
        let mut s = String::new();
        let mut leading_break = String::new();
        let mut trailing_breaks = String::new();
        let mut whitespaces = String::new();
        loop {
            if self.mark.column == 0
                && ((self.ch(0) == '-' && self.ch(1) == '-' && self.ch(2) == '-')
                    || (self.ch(0) == '.' && self.ch(1) == '.' && self.ch(2) == '.'))
                && is_blankz(self.ch(3))
            {
                return self.err(start, "found unexpected document indicator");
            }
            if self.ch(0) == '\0' {
                return self.err(start, "found unexpected end of stream");
            }
            let mut leading_blanks = false;
            while !is_blankz(self.ch(0)) {
                let c = self.ch(0);
                if single && c == '\'' && self.ch(1) == '\'' {
                    s.push('\'');
                    self.skip();
                    self.skip();
                } else if (single && c == '\'') || (!single && c == '"') {
                    break;
                } else if !single && c == '\\' && is_break(self.ch(1)) {
                    self.skip();
                    self.skip_line();
                    leading_blanks = true;
                    break;
                } else if !single && c == '\\' {
                    let mut code_length = 0;
                    match self.ch(1) {
                        '0' => s.push('\0'),
                        'a' => s.push('\x07'),
                        'b' => s.push('\x08'),
                        't' | '\t' => s.push('\t'),
                        'n' => s.push('\n'),
                        'v' => s.push('\x0B'),
                        'f' => s.push('\x0C'),
                        'r' => s.push('\r'),
                        'e' => s.push('\x1B'),
                        ' ' => s.push(' '),
                        '"' => s.push('"'),
                        '\'' => s.push('\''),
                        '\\' => s.push('\\'),
                        'N' => s.push('\u{85}'),
                        '_' => s.push('\u{A0}'),
                        'L' => s.push('\u{2028}'),
                        'P' => s.push('\u{2029}'),
                        'x' => code_length = 2,
                        'u' => code_length = 4,
                        'U' => code_length = 8,
                        _ => return self.err(start, "found unknown escape character"),
                    }
                    self.skip();
                    self.skip();
                    if code_length > 0 {
                        let mut value: u32 = 0;
                        for k in 0..code_length {
                            let Some(d) = self.ch(k).to_digit(16) else {
                                return self.err(start, "did not find expected hexdecimal number");
                            };
                            value = (value << 4) + d;
                        }
                        match char::from_u32(value) {
                            Some(ch) => s.push(ch),
                            None => {
                                return self
                                    .err(start, "found invalid Unicode character escape code");
                            }
                        }
                        for _ in 0..code_length {
                            self.skip();
                        }
                    }
                } else {
                    self.read(&mut s);
                }
            }
            let c = self.ch(0);
            if (single && c == '\'') || (!single && c == '"') {
                break;
            }
            while is_blank(self.ch(0)) || is_break(self.ch(0)) {
                if is_blank(self.ch(0)) {
                    if !leading_blanks {
                        self.read(&mut whitespaces);
                    } else {
                        self.skip();
                    }
                } else if !leading_blanks {
                    whitespaces.clear();
                    self.read_line(&mut leading_break);
                    leading_blanks = true;
                } else {
                    self.read_line(&mut trailing_breaks);
                }
            }
            if leading_blanks {
                if leading_break.starts_with('\n') {
                    if trailing_breaks.is_empty() {
                        s.push(' ');
                    } else {
                        s.push_str(&trailing_breaks);
                    }
                } else {
                    s.push_str(&leading_break);
                    s.push_str(&trailing_breaks);
                }
                trailing_breaks.clear();
                leading_break.clear();
            } else {
                s.push_str(&whitespaces);
                whitespaces.clear();
            }
        }
        self.skip();
        let mut token = Token::new(TokenKind::Scalar, start, self.mark);
        token.value = s;
        token.style = if single {
            ScalarStyle::SingleQuoted
        } else {
            ScalarStyle::DoubleQuoted
        };
        Ok(token)
    }

    fn scan_plain_scalar(&mut self) -> Result<Token, YamlError> {
        let mut s = String::new();
        let mut leading_break = String::new();
        let mut trailing_breaks = String::new();
        let mut whitespaces = String::new();
        let mut leading_blanks = false;
        let indent = self.indent + 1;
        let start = self.mark;
        let mut end = self.mark;
        loop {
            if self.mark.column == 0
                && ((self.ch(0) == '-' && self.ch(1) == '-' && self.ch(2) == '-')
                    || (self.ch(0) == '.' && self.ch(1) == '.' && self.ch(2) == '.'))
                && is_blankz(self.ch(3))
            {
                break;
            }
            if self.ch(0) == '#' {
                break;
            }
            while !is_blankz(self.ch(0)) {
                let c = self.ch(0);
                if (c == ':' && is_blankz(self.ch(1)))
                    || (self.flow_level > 0 && matches!(c, ',' | '?' | '[' | ']' | '{' | '}'))
                {
                    break;
                }
                if leading_blanks || !whitespaces.is_empty() {
                    if leading_blanks {
                        if leading_break.starts_with('\n') {
                            if trailing_breaks.is_empty() {
                                s.push(' ');
                            } else {
                                s.push_str(&trailing_breaks);
                            }
                        } else {
                            s.push_str(&leading_break);
                            s.push_str(&trailing_breaks);
                        }
                        trailing_breaks.clear();
                        leading_break.clear();
                        leading_blanks = false;
                    } else {
                        s.push_str(&whitespaces);
                        whitespaces.clear();
                    }
                }
                self.read(&mut s);
                end = self.mark;
            }
            if !(is_blank(self.ch(0)) || is_break(self.ch(0))) {
                break;
            }
            while is_blank(self.ch(0)) || is_break(self.ch(0)) {
                if is_blank(self.ch(0)) {
                    if leading_blanks && (self.mark.column as isize) < indent && self.ch(0) == '\t'
                    {
                        return self.err(start, "found a tab character that violates indentation");
                    }
                    if !leading_blanks {
                        self.read(&mut whitespaces);
                    } else {
                        self.skip();
                    }
                } else if !leading_blanks {
                    whitespaces.clear();
                    self.read_line(&mut leading_break);
                    leading_blanks = true;
                } else {
                    self.read_line(&mut trailing_breaks);
                }
            }
            if self.flow_level == 0 && (self.mark.column as isize) < indent {
                break;
            }
        }
        let mut token = Token::new(TokenKind::Scalar, start, end);
        token.value = s;
        if leading_blanks {
            self.simple_key_allowed = true;
        }
        Ok(token)
    }

    /// Scans a comment on the rest of the current line (after a token) and
    /// queues it as that token's line comment.
    fn scan_line_comment(&mut self, token_mark: Mark) {
        if self.newlines > 0 {
            return;
        }
        let mut start_mark = Mark::default();
        let mut text = String::new();
        let mut peek = 0;
        while peek < 512 {
            if is_blank(self.ch(peek)) {
                peek += 1;
                continue;
            }
            if self.ch(peek) == '#' {
                let seen = self.mark.index + peek;
                loop {
                    if is_breakz(self.ch(0)) {
                        if self.mark.index >= seen {
                            break;
                        }
                        self.skip_line();
                    } else if self.mark.index >= seen {
                        if text.is_empty() {
                            start_mark = self.mark;
                        }
                        self.read(&mut text);
                    } else {
                        self.skip();
                    }
                }
            }
            break;
        }
        if !text.is_empty() {
            self.comments.push(Comment {
                token_mark,
                start_mark,
                line: text,
                ..Comment::default()
            });
        }
    }

    /// Scans a run of comment lines and splits it into foot comments of the
    /// preceding content and a head comment of the following content, using
    /// go-yaml's rules (blank lines and indentation decide the split).
    fn scan_comments(&mut self, scan_mark: Mark) {
        let mut scan_mark = scan_mark;
        let Some(last) = self.tokens.len().checked_sub(1) else {
            return;
        };
        let mut token = self.tokens[last].clone();
        if token.kind == TokenKind::FlowEntry && self.tokens.len() > 1 {
            token = self.tokens[last - 1].clone();
        }
        let mut token_mark = token.start;
        let mut start_mark = Mark::default();
        let mut next_indent = self.indent.max(0);

        let mut recent_empty = false;
        let mut first_empty = self.newlines <= 1;

        let mut line = self.mark.line;
        let mut column = self.mark.column;
        let mut text = String::new();

        // The foot line is where a comment must start to still count as a
        // foot of the prior content; with content on the current line, it is
        // the line below.
        let mut foot_line: isize = -1;
        if scan_mark.line > 0 {
            foot_line = self.mark.line as isize - self.newlines as isize + 1;
            if self.newlines == 0 && self.mark.column > 1 {
                foot_line += 1;
            }
        }

        let mut peek = 0;
        while peek < 512 {
            column += 1;
            let c = self.ch(peek);
            if is_blank(c) {
                peek += 1;
                continue;
            }
            let close_flow = self.flow_level > 0 && (c == ']' || c == '}');
            if close_flow || is_breakz(c) {
                if close_flow || !recent_empty {
                    if close_flow
                        || (first_empty
                            && ((start_mark.line as isize == foot_line
                                && token.kind != TokenKind::Value)
                                || (start_mark.column as isize - 1) < next_indent))
                    {
                        // The first part of the comment is a foot of the prior
                        // token rather than a head of the next one.
                        if !text.is_empty() {
                            if (start_mark.column as isize - 1) < next_indent {
                                // Dedented: unrelated to the prior token.
                                token_mark = start_mark;
                            }
                            let end = Mark {
                                index: self.mark.index + peek,
                                line,
                                column,
                            };
                            self.comments.push(Comment {
                                scan_mark,
                                token_mark,
                                start_mark,
                                end_mark: end,
                                foot: std::mem::take(&mut text),
                                ..Comment::default()
                            });
                            scan_mark = end;
                            token_mark = scan_mark;
                        }
                    } else if !text.is_empty() && c != '\0' {
                        text.push('\n');
                    }
                }
                if !is_break(c) {
                    break;
                }
                first_empty = false;
                recent_empty = true;
                column = 0;
                line += 1;
                peek += 1;
                continue;
            }

            if !text.is_empty()
                && (close_flow
                    || ((column as isize - 1) < next_indent && column != start_mark.column))
            {
                // A comment at a different indentation is a foot of the
                // preceding data rather than a head of the upcoming one.
                let end = Mark {
                    index: self.mark.index + peek,
                    line,
                    column,
                };
                self.comments.push(Comment {
                    scan_mark,
                    token_mark,
                    start_mark,
                    end_mark: end,
                    foot: std::mem::take(&mut text),
                    ..Comment::default()
                });
                scan_mark = end;
                token_mark = scan_mark;
            }

            if c != '#' {
                break;
            }

            if text.is_empty() {
                start_mark = Mark {
                    index: self.mark.index + peek,
                    line,
                    column,
                };
            } else {
                text.push('\n');
            }
            recent_empty = false;

            // Consume up to and including the comment line.
            let seen = self.mark.index + peek;
            loop {
                if is_breakz(self.ch(0)) {
                    if self.mark.index >= seen {
                        break;
                    }
                    self.skip_line();
                } else if self.mark.index >= seen {
                    self.read(&mut text);
                } else {
                    self.skip();
                }
            }

            // go-yaml restarts its `for` loop here, whose increment then
            // steps over the line break that ends the comment (so `line`
            // deliberately lags behind, as it does there).
            column = 0;
            line = self.mark.line;
            next_indent = self.indent.max(0);
            peek = 1;
        }

        if !text.is_empty() {
            self.comments.push(Comment {
                scan_mark,
                token_mark: start_mark,
                start_mark,
                end_mark: Mark {
                    index: (self.mark.index + peek).saturating_sub(1),
                    line,
                    column,
                },
                head: text,
                ..Comment::default()
            });
        }
    }
}
