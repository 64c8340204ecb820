//! go-yaml v2's encoder and libyaml-derived emitter, for the block-style documents `Marshal`
//! writes: the same scalar analysis and style choice (plain, single- or double-quoted,
//! literal), the same line folding at 80 columns, the same indentation rules (sequences
//! inside mappings are not indented), and go-yaml's "natural" key order.

use std::cmp::Ordering;

use super::{Node, resolve};

/// Emits one document the way go-yaml v2 does (`toYaml`).
pub fn emit(n: &Node) -> String {
    emit_with(n, false)
}

/// Emits one document the way go-yaml v3 with a 2-space indent does (`toYamlPretty`):
/// sequences indented under their key, no line folding, YAML 1.1 booleans quoted.
pub fn emit_pretty(n: &Node) -> String {
    emit_with(n, true)
}

/// The node go-yaml v3 marshals for a value directly (no JSON round trip: float64 stays a
/// float and prints as `%g`).
pub fn pretty_node(v: &crate::value::Value) -> Node {
    use crate::value::Value;
    match v {
        Value::Nil => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Int(i, k) => {
            if k.is_unsigned() {
                Node::Uint(*i as u64)
            } else {
                Node::Int(*i)
            }
        }
        Value::Float(f) => Node::Float(*f),
        Value::Str(s) => Node::Str(s.to_string()),
        Value::BStr(b) => Node::Str(String::from_utf8_lossy(b).into_owned()),
        Value::Bytes(b) => Node::Seq(b.iter().map(|c| Node::Uint(*c as u64)).collect()),
        Value::List(l) => Node::Seq(l.items.iter().map(pretty_node).collect()),
        Value::Map(m) => Node::Map(
            m.entries
                .borrow()
                .iter()
                .map(|(k, x)| (Node::Str(k.to_string()), pretty_node(x)))
                .collect(),
        ),
        Value::Object(o) => pretty_node(&o.json()),
    }
}

fn emit_with(n: &Node, v3: bool) -> String {
    let mut e = Emitter {
        v3,
        out: String::new(),
        column: 0,
        indent: -1,
        indents: vec![],
        whitespace: true,
        indention: true,
        flow_level: 0,
        root: false,
        seq_ctx: false,
        map_ctx: false,
        simple_key: false,
    };
    e.node(n, true, false, false, false);
    // document end: implicit
    e.write_indent();
    e.out
}

const BEST_INDENT: i64 = 2;
const BEST_WIDTH: usize = 80;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

struct Emitter {
    /// go-yaml v3 rules instead of v2's
    v3: bool,
    out: String,
    column: usize,
    indent: i64,
    indents: Vec<i64>,
    whitespace: bool,
    indention: bool,
    flow_level: usize,
    root: bool,
    seq_ctx: bool,
    map_ctx: bool,
    simple_key: bool,
}

fn is_blank(c: Option<char>) -> bool {
    matches!(c, Some(' ') | Some('\t'))
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || c == '\0' || is_break(c),
    }
}

/// libyaml's `is_printable` as go-yaml implements it (which excludes 4-byte UTF-8).
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain: false,
            block_plain: true,
            single_quoted: true,
            block: false,
        };
    }
    let mut block_ind = false;
    let mut flow_ind = false;
    let mut line_breaks = false;
    let mut special = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;
    if value.starts_with("---") || value.starts_with("...") {
        block_ind = true;
        flow_ind = true;
    }
    let chars: Vec<char> = value.chars().collect();
    let mut preceded_by_ws = true;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_ws = next.is_none() || is_blank(next) || next.is_some_and(is_break);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '-' if followed_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '#' if preceded_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == chars.len() - 1 {
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
            if i == chars.len() - 1 {
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
        preceded_by_ws = is_blankz(Some(c));
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain: true,
        block_plain: true,
        single_quoted: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single_quoted = false;
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_ind {
        a.flow_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

/// go-yaml v2's `keyList.Less` for string keys: letters before other runes, digit runs
/// compared as numbers.
pub fn key_less(a: &str, b: &str) -> bool {
    // ASCII keys (nearly all) compare byte by byte, without decoding them into characters
    if a.is_ascii() && b.is_ascii() {
        return key_less_units(a.as_bytes(), b.as_bytes());
    }
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    key_less_units(&ar, &br)
}

/// [`key_less`] over the characters of both keys (bytes when both are ASCII).
fn key_less_units<T: Copy + Into<char>>(ar: &[T], br: &[T]) -> bool {
    let ch = |s: &[T], i: usize| -> char { s[i].into() };
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        let (a, b) = (ch(ar, i), ch(br, i));
        if a == b {
            i += 1;
            continue;
        }
        let al = a.is_alphabetic();
        let bl = b.is_alphabetic();
        if al && bl {
            return a < b;
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if a == '0' || b == '0' {
            let mut j = i;
            while j > 0 {
                j -= 1;
                if !ch(ar, j).is_ascii_digit() {
                    break;
                }
                if ch(ar, j) != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ch(ar, ai).is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(ch(ar, ai) as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && ch(br, bi).is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(ch(br, bi) as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return a < b;
    }
    ar.len() < br.len()
}

fn key_order(a: &str, b: &str) -> Ordering {
    if key_less(a, b) {
        Ordering::Less
    } else if key_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

impl Emitter {
    fn width(&self) -> usize {
        if self.v3 { usize::MAX } else { BEST_WIDTH }
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_str(&mut self, s: &str) {
        for c in s.chars() {
            self.put(c);
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        self.write_str(ind);
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn node(&mut self, n: &Node, root: bool, seq: bool, map: bool, simple_key: bool) {
        self.root = root;
        self.seq_ctx = seq;
        self.map_ctx = map;
        self.simple_key = simple_key;
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || match n {
            Node::Seq(items) => {
                if self.flow_level > 0 || items.is_empty() {
                    self.flow_empty("[", "]");
                } else {
                    self.block_sequence(items);
                }
            }
            Node::Map(pairs) => {
                if self.flow_level > 0 || pairs.is_empty() {
                    self.flow_empty("{", "}");
                } else {
                    self.block_mapping(pairs);
                }
            }
            Node::Str(s) => self.string(s),
            Node::Binary(b) => self.string(&String::from_utf8_lossy(b)),
            Node::Null => self.scalar("null", Style::Plain),
            Node::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain),
            Node::Int(i) => self.scalar(&i.to_string(), Style::Plain),
            Node::Uint(u) => self.scalar(&u.to_string(), Style::Plain),
            Node::Float(f) => {
                let s = crate::gofmt::format_float(*f, 'g', -1);
                let s = match s.as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    _ => s,
                };
                self.scalar(&s, Style::Plain)
            }
        });
    }

    fn flow_empty(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.flow_level += 1;
        self.flow_level -= 1;
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    fn block_sequence(&mut self, items: &[Node]) {
        let indentless = !self.v3 && self.map_ctx && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, false, true, false, false);
        }
        self.pop_indent();
    }

    fn block_mapping(&mut self, pairs: &[(Node, Node)]) {
        self.increase_indent(false, false);
        let mut sorted: Vec<&(Node, Node)> = pairs.iter().collect();
        sorted.sort_by(|(a, _), (b, _)| match (a, b) {
            (Node::Str(x), Node::Str(y)) => key_order(x, y),
            _ => Ordering::Equal,
        });
        for (k, v) in sorted {
            self.write_indent();
            let simple = match k {
                Node::Str(s) => s.chars().count() <= 128 && !analyze(s).multiline,
                _ => true,
            };
            if simple {
                self.node(k, false, false, true, true);
                self.write_indicator(":", false, false, false);
                self.node(v, false, false, true, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.node(k, false, false, true, false);
                self.write_indent();
                self.write_indicator(":", true, false, true);
                self.node(v, false, false, true, false);
            }
        }
        self.pop_indent();
    }

    /// go-yaml's `stringv`: plain when the text reads back as a string, else quoted; literal
    /// when it holds a newline.
    fn string(&mut self, s: &str) {
        let old_bool = self.v3
            && matches!(
                s,
                "y" | "Y"
                    | "yes"
                    | "Yes"
                    | "YES"
                    | "n"
                    | "N"
                    | "no"
                    | "No"
                    | "NO"
                    | "on"
                    | "On"
                    | "ON"
                    | "off"
                    | "Off"
                    | "OFF"
            );
        let can_plain = !resolve::needs_quotes(s) && !old_bool;
        let style = if s.contains('\n') {
            Style::Literal
        } else if can_plain {
            Style::Plain
        } else {
            Style::Double
        };
        self.scalar(s, style);
    }

    fn scalar(&mut self, value: &str, requested: Style) {
        let a = analyze(value);
        let mut style = requested;
        if self.simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            if (self.flow_level > 0 && !a.flow_plain) || (self.flow_level == 0 && !a.block_plain) {
                style = Style::Single;
            }
            if value.is_empty() && (self.flow_level > 0 || self.simple_key) {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single_quoted {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || self.flow_level > 0 || self.simple_key) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !self.simple_key;
        match style {
            Style::Plain => self.write_plain(value, allow_breaks),
            Style::Single => self.write_single(value, allow_breaks),
            Style::Double => self.write_double(value, allow_breaks),
            Style::Literal => self.write_literal(value),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.width()
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            i += 1;
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.width()
                    && i > 0
                    && i < chars.len() - 1
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            let u = c as u32;
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match u {
                    0x00 => self.put('0'),
                    0x07 => self.put('a'),
                    0x08 => self.put('b'),
                    0x09 => self.put('t'),
                    0x0A => self.put('n'),
                    0x0B => self.put('v'),
                    0x0C => self.put('f'),
                    0x0D => self.put('r'),
                    0x1B => self.put('e'),
                    0x22 => self.put('"'),
                    0x5C => self.put('\\'),
                    0x85 => self.put('N'),
                    0xA0 => self.put('_'),
                    0x2028 => self.put('L'),
                    0x2029 => self.put('P'),
                    _ => {
                        let (letter, width) = if u <= 0xFF {
                            ('x', 2)
                        } else if u <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(letter);
                        let hex = format!("{:0width$X}", u, width = width);
                        self.write_str(&hex);
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.width()
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        // block scalar hints
        let chars: Vec<char> = value.chars().collect();
        if chars.first().is_some_and(|c| *c == ' ' || is_break(*c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let chomp = match chars.last() {
            None => Some("-"),
            Some(&l) if !is_break(l) => Some("-"),
            Some(_) if chars.len() == 1 => Some("+"),
            Some(_) => {
                if is_break(chars[chars.len() - 2]) {
                    Some("+")
                } else {
                    None
                }
            }
        };
        if let Some(h) = chomp {
            self.write_indicator(h, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Node {
        Node::Str(x.into())
    }

    #[test]
    fn styles_like_go_yaml() {
        let doc = Node::Map(vec![
            (s("e"), s("")),
            (s("c"), s("a: b")),
            (s("num"), s("1")),
            (s("m"), s("multi\nline\n")),
            (s("m3"), s("  lead\nx")),
            (s("l"), Node::Seq(vec![Node::Int(1), s("x")])),
            (s("d"), Node::Map(vec![])),
            (s("t"), s("a\tb")),
        ]);
        assert_eq!(
            emit(&doc),
            "c: 'a: b'\nd: {}\ne: \"\"\nl:\n- 1\n- x\nm: |\n  multi\n  line\nm3: |2-\n    lead\n  x\nnum: \"1\"\nt: \"a\\tb\"\n"
        );
    }

    #[test]
    fn natural_key_order() {
        assert!(key_less("a9", "a10"));
        assert!(key_less("_x", "9"));
        assert!(key_less("9", "10"));
        assert!(key_less("B", "a9"));
        assert!(key_less("a10", "b"));
    }

    #[test]
    fn folds_long_plain_strings() {
        let long = "this is a very long string with many spaces in it that goes beyond the eighty column limit of yaml emitters for sure yes";
        assert_eq!(
            emit(&Node::Map(vec![(s("s"), s(long))])),
            "s: this is a very long string with many spaces in it that goes beyond the eighty column\n  limit of yaml emitters for sure yes\n"
        );
    }
}
