//! The lexer of Go's text/template (`text/template/parse/lex.go`), item for item: the parser's
//! error messages and line numbers depend on exactly where items start and how they are cut.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemType {
    Error,
    Bool,
    Char,
    CharConstant,
    Comment,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // keywords
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemType {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemType::Block
                | ItemType::Break
                | ItemType::Continue
                | ItemType::Dot
                | ItemType::Define
                | ItemType::Else
                | ItemType::End
                | ItemType::If
                | ItemType::Nil
                | ItemType::Range
                | ItemType::Template
                | ItemType::With
        )
    }
}

#[derive(Clone, Debug)]
pub struct Item<'a> {
    pub typ: ItemType,
    pub pos: usize,
    /// Borrowed from the template text, except for error messages.
    pub val: std::borrow::Cow<'a, str>,
    pub line: usize,
}

impl Item<'_> {
    /// Go's `item.String()`, used in "unexpected ..." messages.
    pub fn describe(&self) -> String {
        match self.typ {
            ItemType::Eof => "EOF".into(),
            ItemType::Error => self.val.to_string(),
            t if t.is_keyword() => format!("<{}>", self.val),
            _ => {
                if self.val.chars().count() > 10 {
                    let short: String = self.val.chars().take(10).collect();
                    format!("{}...", crate::gofmt::quote(&short))
                } else {
                    crate::gofmt::quote(&self.val)
                }
            }
        }
    }
}

fn keyword(word: &str) -> Option<ItemType> {
    Some(match word {
        "." => ItemType::Dot,
        "block" => ItemType::Block,
        "break" => ItemType::Break,
        "continue" => ItemType::Continue,
        "define" => ItemType::Define,
        "else" => ItemType::Else,
        "end" => ItemType::End,
        "if" => ItemType::If,
        "range" => ItemType::Range,
        "nil" => ItemType::Nil,
        "template" => ItemType::Template,
        "with" => ItemType::With,
        _ => return None,
    })
}

const LEFT_DELIM: &str = "{{";
const RIGHT_DELIM: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";
const TRIM_MARKER_LEN: usize = 2;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        return c == '_' || c.is_ascii_alphanumeric();
    }
    c.is_alphabetic() || c.is_numeric() && is_go_digit(c)
}

/// Go's `unicode.IsDigit` (decimal digits, category Nd); Rust's `is_numeric` is broader.
fn is_go_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric() && c.to_digit(10).is_none() && is_nd(c))
}

fn is_nd(c: char) -> bool {
    // Nd blocks: digits come in runs of ten starting at a code point ending in 0 or 6.
    // Good enough: treat non-ASCII numerics that are not letter-like numbers as digits.
    !matches!(c as u32, 0x00B2 | 0x00B3 | 0x00B9 | 0x00BC..=0x00BE | 0x2150..=0x218B | 0x2460..=0x24FF | 0x2070..=0x2089)
}

/// Line breaks in `s` (a byte count the compiler vectorizes; `\n` never occurs inside a
/// multi-byte character).
fn newlines(s: &str) -> usize {
    s.bytes().filter(|&b| b == b'\n').count()
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Space,
    Quote,
    RawQuote,
    Variable,
    Char,
    Field,
    Number,
    Identifier,
    Done,
}

/// Produces items lazily, as Go's lexer goroutine does.
pub struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    line: usize,
    start_line: usize,
    paren_depth: i32,
    state: State,
    pending: std::collections::VecDeque<Item<'a>>,
    break_ok: bool,
    continue_ok: bool,
}

impl<'a> Lexer<'a> {
    pub fn new(input: &'a str) -> Lexer<'a> {
        Lexer {
            input,
            pos: 0,
            start: 0,
            line: 1,
            start_line: 1,
            paren_depth: 0,
            state: State::Text,
            pending: Default::default(),
            break_ok: true,
            continue_ok: true,
        }
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        match self.input.as_bytes().get(self.pos) {
            Some(&b) if b.is_ascii() => Some(b as char),
            Some(_) => self.rest().chars().next(),
            None => None,
        }
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
            if c == '\n' {
                self.line -= 1;
            }
        }
    }

    fn this_item(&mut self, typ: ItemType) -> Item<'a> {
        let item = Item {
            typ,
            pos: self.start,
            val: std::borrow::Cow::Borrowed(&self.input[self.start..self.pos]),
            line: self.start_line,
        };
        self.start = self.pos;
        self.start_line = self.line;
        item
    }

    fn emit(&mut self, typ: ItemType) {
        let item = self.this_item(typ);
        self.pending.push_back(item);
    }

    fn ignore(&mut self) {
        self.line += newlines(&self.input[self.start..self.pos]);
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn errorf(&mut self, msg: String) {
        self.pending.push_back(Item {
            typ: ItemType::Error,
            pos: self.start,
            val: msg.into(),
            line: self.start_line,
        });
        self.start = 0;
        self.pos = 0;
        self.input = &self.input[..0];
        self.state = State::Done;
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next_char();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while let Some(c) = self.peek() {
            if valid.contains(c) {
                self.next_char();
            } else {
                break;
            }
        }
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim_marker(rest) && rest[TRIM_MARKER_LEN..].starts_with(RIGHT_DELIM) {
            return (true, true);
        }
        if rest.starts_with(RIGHT_DELIM) {
            return (true, false);
        }
        (false, false)
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(RIGHT_DELIM),
        }
    }

    /// The next item.
    pub fn next_item(&mut self) -> Item<'a> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return item;
            }
            if self.state == State::Done {
                return Item {
                    typ: ItemType::Eof,
                    pos: self.pos,
                    val: std::borrow::Cow::Borrowed(""),
                    line: self.line,
                };
            }
            self.step();
        }
    }

    fn step(&mut self) {
        match self.state {
            State::Text => self.lex_text(),
            State::LeftDelim => self.lex_left_delim(),
            State::Comment => self.lex_comment(),
            State::RightDelim => self.lex_right_delim(),
            State::InsideAction => self.lex_inside_action(),
            State::Space => self.lex_space(),
            State::Quote => self.lex_quote(),
            State::RawQuote => self.lex_raw_quote(),
            State::Variable => self.lex_field_or_variable(ItemType::Variable),
            State::Field => self.lex_field_or_variable(ItemType::Field),
            State::Char => self.lex_char(),
            State::Number => self.lex_number(),
            State::Identifier => self.lex_identifier(),
            State::Done => {}
        }
    }

    /// Offset in the rest of the text of the next `{{` (a byte search for `{`, which is
    /// much faster than a substring search set up anew for every piece of text).
    fn find_left_delim(&self) -> Option<usize> {
        let rest = self.rest();
        let mut from = 0;
        // `{` is ASCII, so the byte after one is a character boundary
        while let Some(i) = rest[from..].find('{') {
            let at = from + i;
            if rest.as_bytes().get(at + 1) == Some(&b'{') {
                return Some(at);
            }
            from = at + 1;
        }
        None
    }

    fn lex_text(&mut self) {
        if let Some(x) = self.find_left_delim() {
            if x > 0 {
                self.pos += x;
                let delim_end = self.pos + LEFT_DELIM.len();
                let mut trim = 0;
                if has_left_trim_marker(&self.input[delim_end..]) {
                    let text = &self.input[self.start..self.pos];
                    trim = text.len() - text.trim_end_matches(is_space).len();
                }
                self.pos -= trim;
                self.line += newlines(&self.input[self.start..self.pos]);
                let item = self.this_item(ItemType::Text);
                self.pos += trim;
                self.ignore();
                if !item.val.is_empty() {
                    self.pending.push_back(item);
                }
            }
            self.state = State::LeftDelim;
            return;
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.line += newlines(&self.input[self.start..self.pos]);
            self.emit(ItemType::Text);
        }
        self.emit(ItemType::Eof);
        self.state = State::Done;
    }

    fn lex_left_delim(&mut self) {
        self.pos += LEFT_DELIM.len();
        let trim_space = has_left_trim_marker(self.rest());
        let after_marker = if trim_space { TRIM_MARKER_LEN } else { 0 };
        if self.input[self.pos + after_marker..].starts_with(LEFT_COMMENT) {
            self.pos += after_marker;
            self.ignore();
            self.state = State::Comment;
            return;
        }
        let item = self.this_item(ItemType::LeftDelim);
        self.pos += after_marker;
        self.ignore();
        self.paren_depth = 0;
        self.pending.push_back(item);
        self.state = State::InsideAction;
    }

    fn lex_comment(&mut self) {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.rest().find(RIGHT_COMMENT) else {
            self.errorf("unclosed comment".into());
            return;
        };
        // count lines inside the comment as next() would
        self.line += newlines(&self.input[self.pos..self.pos + x + RIGHT_COMMENT.len()]);
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim_space) = self.at_right_delim();
        if !delim {
            self.errorf("comment ends before closing delimiter".into());
            return;
        }
        let item = self.this_item(ItemType::Comment);
        if trim_space {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += RIGHT_DELIM.len();
        if trim_space {
            let rest = self.rest();
            self.pos += rest.len() - rest.trim_start_matches(is_space).len();
        }
        self.ignore();
        self.pending.push_back(item);
        self.state = State::Text;
    }

    fn lex_right_delim(&mut self) {
        let (_, trim_space) = self.at_right_delim();
        if trim_space {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += RIGHT_DELIM.len();
        let item = self.this_item(ItemType::RightDelim);
        if trim_space {
            let rest = self.rest();
            self.pos += rest.len() - rest.trim_start_matches(is_space).len();
            self.ignore();
        }
        self.pending.push_back(item);
        self.state = State::Text;
    }

    fn lex_inside_action(&mut self) {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                self.state = State::RightDelim;
                return;
            }
            self.errorf("unclosed left paren".into());
            return;
        }
        let r = self.next_char();
        match r {
            None => self.errorf("unclosed action".into()),
            Some(c) if is_space(c) => {
                self.backup(r);
                self.state = State::Space;
            }
            Some('=') => self.emit(ItemType::Assign),
            Some(':') => {
                if self.next_char() != Some('=') {
                    self.errorf("expected :=".into());
                    return;
                }
                self.emit(ItemType::Declare);
            }
            Some('|') => self.emit(ItemType::Pipe),
            Some('"') => self.state = State::Quote,
            Some('`') => self.state = State::RawQuote,
            Some('$') => self.state = State::Variable,
            Some('\'') => self.state = State::Char,
            Some('.') => {
                // special look-ahead for ".field" so we don't break backup().
                match self.rest().as_bytes().first() {
                    Some(b) if !b.is_ascii_digit() => self.state = State::Field,
                    _ => {
                        self.backup(r);
                        self.state = State::Number;
                    }
                }
            }
            Some(c) if c == '+' || c == '-' || c.is_ascii_digit() => {
                self.backup(r);
                self.state = State::Number;
            }
            Some(c) if is_alnum(c) => {
                self.backup(r);
                self.state = State::Identifier;
            }
            Some('(') => {
                self.paren_depth += 1;
                self.emit(ItemType::LeftParen);
            }
            Some(')') => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    self.errorf("unexpected right paren".into());
                    return;
                }
                self.emit(ItemType::RightParen);
            }
            Some(c) if c.is_ascii() && !c.is_ascii_control() => self.emit(ItemType::Char),
            Some(c) => self.errorf(format!("unrecognized character in action: {}", go_rune(c))),
        }
    }

    fn lex_space(&mut self) {
        let mut num_spaces = 0;
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.next_char();
            num_spaces += 1;
        }
        // A trim-marked closing delimiter starts with a space.
        let from = self.pos - 1;
        if has_right_trim_marker(&self.input[from..])
            && self.input[from + TRIM_MARKER_LEN..].starts_with(RIGHT_DELIM)
        {
            let c = self.input[..self.pos].chars().next_back();
            self.backup(c);
            if num_spaces == 1 {
                self.state = State::RightDelim;
                return;
            }
        }
        self.emit(ItemType::Space);
        self.state = State::InsideAction;
    }

    /// Skips a run of alphanumeric characters (no line breaks among them); the character
    /// after it, if any.
    fn skip_alnum(&mut self) -> Option<char> {
        let b = self.input.as_bytes();
        loop {
            match b.get(self.pos) {
                Some(&c) if c == b'_' || c.is_ascii_alphanumeric() => self.pos += 1,
                Some(c) if c.is_ascii() => return Some(*c as char),
                Some(_) => {
                    let c = self.rest().chars().next()?;
                    if !is_alnum(c) {
                        return Some(c);
                    }
                    self.pos += c.len_utf8();
                }
                None => return None,
            }
        }
    }

    fn lex_identifier(&mut self) {
        let r = self.skip_alnum();
        let word = &self.input[self.start..self.pos];
        if !self.at_terminator() {
            let c = r.unwrap_or('\u{0}');
            self.errorf(format!("bad character {}", go_rune(c)));
            return;
        }
        let typ = match keyword(word) {
            Some(ItemType::Break) if !self.break_ok => ItemType::Identifier,
            Some(ItemType::Continue) if !self.continue_ok => ItemType::Identifier,
            Some(k) if k != ItemType::Dot => k,
            _ if word.starts_with('.') => ItemType::Field,
            _ if word == "true" || word == "false" => ItemType::Bool,
            _ => ItemType::Identifier,
        };
        self.emit(typ);
        self.state = State::InsideAction;
    }

    fn lex_field_or_variable(&mut self, typ: ItemType) {
        if self.at_terminator() {
            self.emit(if typ == ItemType::Variable {
                ItemType::Variable
            } else {
                ItemType::Dot
            });
            self.state = State::InsideAction;
            return;
        }
        let r = self.skip_alnum();
        if !self.at_terminator() {
            self.errorf(format!("bad character {}", go_rune(r.unwrap_or('\u{0}'))));
            return;
        }
        self.emit(typ);
        self.state = State::InsideAction;
    }

    fn lex_char(&mut self) {
        loop {
            match self.next_char() {
                Some('\\') => match self.next_char() {
                    Some(c) if c != '\n' => {}
                    _ => {
                        self.errorf("unterminated character constant".into());
                        return;
                    }
                },
                None | Some('\n') => {
                    self.errorf("unterminated character constant".into());
                    return;
                }
                Some('\'') => break,
                _ => {}
            }
        }
        self.emit(ItemType::CharConstant);
        self.state = State::InsideAction;
    }

    fn lex_number(&mut self) {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            self.errorf(format!("bad number syntax: {}", crate::gofmt::quote(&text)));
            return;
        }
        if let Some('+' | '-') = self.peek() {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                self.errorf(format!("bad number syntax: {}", crate::gofmt::quote(&text)));
                return;
            }
            self.emit(ItemType::Complex);
            self.state = State::InsideAction;
            return;
        }
        self.emit(ItemType::Number);
        self.state = State::InsideAction;
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 10 + 1 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 16 + 6 + 1 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if let Some(c) = self.peek()
            && is_alnum(c)
        {
            self.next_char();
            return false;
        }
        true
    }

    fn lex_quote(&mut self) {
        // bytes of multi-byte characters are never `\\`, `"` or a line break
        let b = self.input.as_bytes();
        loop {
            match b.get(self.pos) {
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) if c != '\n' => self.pos += c.len_utf8(),
                        _ => {
                            self.errorf("unterminated quoted string".into());
                            return;
                        }
                    }
                }
                None | Some(b'\n') => {
                    self.errorf("unterminated quoted string".into());
                    return;
                }
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += 1,
            }
        }
        self.emit(ItemType::String);
        self.state = State::InsideAction;
    }

    fn lex_raw_quote(&mut self) {
        loop {
            match self.next_char() {
                None => {
                    self.errorf("unterminated raw quoted string".into());
                    return;
                }
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(ItemType::RawString);
        self.state = State::InsideAction;
    }
}

/// Go's `%#U` of a rune: `U+0041 'A'`.
pub fn go_rune(c: char) -> String {
    if crate::gofmt::is_print(c) {
        format!("U+{:04X} '{}'", c as u32, c)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(s: &str) -> Vec<(ItemType, String)> {
        let mut l = Lexer::new(s);
        let mut out = vec![];
        loop {
            let i = l.next_item();
            let done = matches!(i.typ, ItemType::Eof | ItemType::Error);
            out.push((i.typ, i.val.into_owned()));
            if done {
                break;
            }
        }
        out
    }

    #[test]
    fn trims_and_actions() {
        let got = items("a  {{- .x -}}  b");
        assert_eq!(
            got,
            vec![
                (ItemType::Text, "a".into()),
                (ItemType::LeftDelim, "{{".into()),
                (ItemType::Field, ".x".into()),
                (ItemType::RightDelim, "}}".into()),
                (ItemType::Text, "b".into()),
                (ItemType::Eof, "".into()),
            ]
        );
    }

    #[test]
    fn comments_and_numbers() {
        let got = items("{{/* c */}}{{ 1.5e3 }}");
        assert_eq!(got[0], (ItemType::Comment, "/* c */".into()));
        assert!(got.contains(&(ItemType::Number, "1.5e3".into())));
        let bad = items("{{ 3x }}");
        assert_eq!(bad.last().map(|x| x.0), Some(ItemType::Error));
    }
}
