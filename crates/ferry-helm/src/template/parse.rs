//! The parser of Go's text/template (`text/template/parse/parse.go`): same grammar, same checks
//! (undefined functions and variables, `break` outside `range`), same error messages.

use std::rc::Rc;

use super::lex::{Item, ItemType, Lexer};
use super::node::*;
use crate::gonum;

/// Nesting limit of parenthesised pipelines and control structures (Go's `maxStackDepth`).
const MAX_DEPTH: usize = 10_000;

/// Stack reserved before each recursive step; the stack grows on the heap beyond it.
pub(crate) const STACK_RED_ZONE: usize = 64 * 1024;
pub(crate) const STACK_GROW: usize = 1024 * 1024;

/// A parse error, worded as Go words it: `template: name:line: message`.
#[derive(Debug, Clone)]
pub struct ParseError(pub String);

type PResult<T> = Result<T, ParseError>;

/// Parses `text` as the template `name`; returns the file's own tree first, then every
/// `define`/`block` it contains, in the order Go adds them to the set.
pub fn parse(name: &str, text: &str, has_func: &dyn Fn(&str) -> bool) -> PResult<Vec<Tree>> {
    parse_shared(name, Rc::from(text), has_func)
}

/// [`parse`] of a text the trees keep (their text nodes and names point into it).
pub fn parse_shared(
    name: &str,
    text: Rc<str>,
    has_func: &dyn Fn(&str) -> bool,
) -> PResult<Vec<Tree>> {
    let parse_name: Rc<str> = Rc::from(name);
    let mut p = Parser {
        lex: Lexer::new(&text),
        tokens: Vec::new(),
        last_line: 1,
        vars: vec!["$".to_string()],
        range_depth: 0,
        action_line: 0,
        depth: 0,
        has_func,
        parse_name: parse_name.clone(),
        text: text.clone(),
        trees: Vec::new(),
    };
    let root = p.parse_top()?;
    let main = Tree {
        name: name.to_string(),
        parse_name,
        text: p.text.clone(),
        root,
    };
    p.add_tree(main)?;
    // Go adds definitions while parsing and the main tree last; callers want the main first.
    let mut trees = p.trees;
    if let Some(main) = trees.pop() {
        trees.insert(0, main);
    }
    Ok(trees)
}

struct Parser<'a> {
    lex: Lexer<'a>,
    /// Lookahead stack: the last element is the next token.
    tokens: Vec<Item<'a>>,
    last_line: usize,
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
    depth: usize,
    has_func: &'a dyn Fn(&str) -> bool,
    parse_name: Rc<str>,
    text: Rc<str>,
    trees: Vec<Tree>,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Item<'a> {
        let item = match self.tokens.pop() {
            Some(t) => t,
            None => self.lex.next_item(),
        };
        self.last_line = item.line;
        item
    }

    fn backup(&mut self, item: Item<'a>) {
        self.tokens.push(item);
    }

    fn peek(&mut self) -> Item<'a> {
        let item = self.next();
        self.backup(item.clone());
        item
    }

    fn next_non_space(&mut self) -> Item<'a> {
        loop {
            let t = self.next();
            if t.typ != ItemType::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item<'a> {
        let t = self.next_non_space();
        self.backup(t.clone());
        t
    }

    /// A piece of the template text (a token's value) without copying it.
    fn span(&self, piece: &str) -> Span {
        Span::of(&self.text, piece)
    }

    /// `$x.a.b` or `a.b` split at the dots.
    fn idents(&self, path: &str) -> Vec<Span> {
        let mut out = Vec::with_capacity(1 + path.bytes().filter(|&b| b == b'.').count());
        out.extend(path.split('.').map(|p| self.span(p)));
        out
    }

    fn errorf(&self, msg: impl Into<String>) -> ParseError {
        ParseError(format!(
            "template: {}:{}: {}",
            self.parse_name,
            self.last_line,
            msg.into()
        ))
    }

    fn unexpected(&self, token: &Item<'_>, context: &str) -> ParseError {
        if token.typ == ItemType::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{}{}", token.describe(), extra));
        }
        self.errorf(format!("unexpected {} in {}", token.describe(), context))
    }

    fn expect(&mut self, expected: ItemType, context: &str) -> PResult<Item<'a>> {
        let token = self.next_non_space();
        if token.typ != expected {
            return Err(self.unexpected(&token, context));
        }
        Ok(token)
    }

    fn add_tree(&mut self, tree: Tree) -> PResult<()> {
        if let Some(i) = self.trees.iter().position(|t| t.name == tree.name) {
            if self.trees[i].is_empty() {
                self.trees[i] = tree;
                return Ok(());
            }
            if !tree.is_empty() {
                return Err(self.errorf(format!(
                    "template: multiple definition of template {}",
                    crate::gofmt::quote(&tree.name)
                )));
            }
            return Ok(());
        }
        self.trees.push(tree);
        Ok(())
    }

    fn parse_top(&mut self) -> PResult<ListNode> {
        let pos = self.peek().pos;
        let mut root = ListNode { pos, nodes: vec![] };
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let delim = self.next();
                let t = self.next_non_space();
                if t.typ == ItemType::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.backup(t);
                self.backup(delim);
            }
            match self.text_or_action()? {
                Parsed::End(_) => return Err(self.errorf("unexpected {{end}}")),
                Parsed::Else(_) => return Err(self.errorf("unexpected {{else}}")),
                Parsed::Node(n) => root.nodes.push(n),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let name_tok = self.next_non_space();
        if name_tok.typ != ItemType::String && name_tok.typ != ItemType::RawString {
            return Err(self.unexpected(&name_tok, CONTEXT));
        }
        let name = unquote(&name_tok.val).map_err(|e| self.errorf(e))?;
        self.expect(ItemType::RightDelim, CONTEXT)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_range;
        if !matches!(end, Parsed::End(_)) {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        let tree = Tree {
            name,
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root: list,
        };
        self.add_tree(tree)
    }

    /// Parses nodes up to `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> PResult<(ListNode, Parsed)> {
        let pos = self.peek_non_space().pos;
        let mut list = ListNode { pos, nodes: vec![] };
        while self.peek_non_space().typ != ItemType::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.nodes.push(n),
                other => return Ok((list, other)),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Text => Ok(Parsed::Node(Node::Text {
                pos: token.pos,
                text: self.span(&token.val),
            })),
            ItemType::LeftDelim => {
                self.action_line = token.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            ItemType::Comment => Ok(Parsed::Node(Node::Comment {
                pos: token.pos,
                text: self.span(&token.val),
            })),
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Block => return self.block_control().map(Parsed::Node),
            ItemType::Break => return self.break_control(token.pos, "break").map(Parsed::Node),
            ItemType::Continue => {
                return self.break_control(token.pos, "continue").map(Parsed::Node);
            }
            ItemType::Else => return self.else_control(),
            ItemType::End => {
                let t = self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed::End(t.pos));
            }
            ItemType::If => return self.control("if").map(Parsed::Node),
            ItemType::Range => return self.control("range").map(Parsed::Node),
            ItemType::Template => return self.template_control().map(Parsed::Node),
            ItemType::With => return self.control("with").map(Parsed::Node),
            _ => {}
        }
        self.backup(token);
        let pos = self.peek().pos;
        let pipe = self.pipeline("command", ItemType::RightDelim)?;
        Ok(Parsed::Node(Node::Action { pos, pipe }))
    }

    fn break_control(&mut self, pos: Pos, what: &str) -> PResult<Node> {
        let token = self.next_non_space();
        if token.typ != ItemType::RightDelim {
            return Err(self.unexpected(&token, &format!("{{{{{what}}}}}")));
        }
        if self.range_depth == 0 {
            return Err(self.errorf(format!("{{{{{what}}}}} outside {{{{range}}}}")));
        }
        Ok(if what == "break" {
            Node::Break { pos }
        } else {
            Node::Continue { pos }
        })
    }

    fn else_control(&mut self) -> PResult<Parsed> {
        let peek = self.peek_non_space();
        if peek.typ == ItemType::If || peek.typ == ItemType::With {
            return Ok(Parsed::Else(peek.pos));
        }
        let token = self.expect(ItemType::RightDelim, "else")?;
        Ok(Parsed::Else(token.pos))
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.errorf("max expression depth exceeded"));
        }
        Ok(())
    }

    /// Control structures nest without limit in Go (only parenthesized pipelines count
    /// toward "max expression depth"); the stack grows as needed.
    fn control(&mut self, context: &'static str) -> PResult<Node> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || self.control_inner(context))
    }

    fn control_inner(&mut self, context: &'static str) -> PResult<Node> {
        let nvars = self.vars.len();
        let result = (|| {
            let pipe = self.pipeline(context, ItemType::RightDelim)?;
            if context == "range" {
                self.range_depth += 1;
            }
            let listed = self.item_list();
            if context == "range" {
                self.range_depth -= 1;
            }
            let (list, next) = listed?;
            let mut else_list = None;
            match next {
                Parsed::End(_) => {}
                Parsed::Else(epos) => {
                    let peek = self.peek();
                    if context == "if" && peek.typ == ItemType::If {
                        self.next();
                        let inner = self.control("if")?;
                        else_list = Some(ListNode {
                            pos: epos,
                            nodes: vec![inner],
                        });
                    } else if context == "with" && peek.typ == ItemType::With {
                        self.next();
                        let inner = self.control("with")?;
                        else_list = Some(ListNode {
                            pos: epos,
                            nodes: vec![inner],
                        });
                    } else {
                        let (l, n) = self.item_list()?;
                        if !matches!(n, Parsed::End(_)) {
                            return Err(self.errorf("expected end; found {{else}}"));
                        }
                        else_list = Some(l);
                    }
                }
                Parsed::Node(_) => {}
            }
            Ok(Branch {
                pos: pipe.pos,
                pipe,
                list,
                else_list,
            })
        })();
        self.vars.truncate(nvars);
        let b = result?;
        Ok(match context {
            "if" => Node::If(b),
            "range" => Node::Range(b),
            _ => Node::With(b),
        })
    }

    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, ItemType::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let listed = self.item_list();
        self.vars = saved_vars;
        self.range_depth = saved_range;
        let (list, end) = listed?;
        if !matches!(end, Parsed::End(_)) {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        self.add_tree(Tree {
            name: name.clone(),
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root: list,
        })?;
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        let mut pipe = None;
        let t = self.next_non_space();
        if t.typ != ItemType::RightDelim {
            self.backup(t);
            pipe = Some(self.pipeline(CONTEXT, ItemType::RightDelim)?);
        }
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe,
        })
    }

    fn template_name(&self, token: &Item<'_>, context: &str) -> PResult<String> {
        match token.typ {
            ItemType::String | ItemType::RawString => {
                unquote(&token.val).map_err(|e| self.errorf(e))
            }
            _ => Err(self.unexpected(token, context)),
        }
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<PipeNode> {
        let token = self.peek_non_space();
        let mut pipe = PipeNode {
            pos: token.pos,
            is_assign: false,
            decl: vec![],
            cmds: vec![],
        };
        // declarations or assignments
        'decls: loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                break;
            }
            self.next_non_space();
            let token_after = self.peek();
            let next = self.peek_non_space();
            if next.typ == ItemType::Assign || next.typ == ItemType::Declare {
                pipe.is_assign = next.typ == ItemType::Assign;
                self.next_non_space();
                pipe.decl.push(VariableNode {
                    pos: v.pos,
                    idents: self.idents(&v.val),
                });
                self.vars.push(v.val.to_string());
                break;
            } else if next.typ == ItemType::Char && next.val == "," {
                self.next_non_space();
                pipe.decl.push(VariableNode {
                    pos: v.pos,
                    idents: self.idents(&v.val),
                });
                self.vars.push(v.val.to_string());
                if context == "range" && pipe.decl.len() < 2 {
                    match self.peek_non_space().typ {
                        ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                            continue 'decls;
                        }
                        _ => return Err(self.errorf("range can only initialize variables")),
                    }
                }
                return Err(self.errorf(format!("too many declarations in {context}")));
            } else if token_after.typ == ItemType::Space {
                // "$x foo": put back the variable and the space after it
                self.backup(token_after);
                self.backup(v);
                break;
            } else {
                self.backup(v);
                break;
            }
        }
        loop {
            let token = self.next_non_space();
            match token.typ {
                t if t == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup(token);
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &PipeNode, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if let Some(
                Arg::Bool { .. }
                | Arg::Dot { .. }
                | Arg::Nil { .. }
                | Arg::Number { .. }
                | Arg::String { .. },
            ) = c.args.first()
            {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<CommandNode> {
        let pos = self.peek_non_space().pos;
        let mut cmd = CommandNode { pos, args: vec![] };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let token = self.next();
            match token.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(token),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ == ItemType::Field {
            let chain_pos = self.peek().pos;
            let mut fields = vec![];
            while self.peek().typ == ItemType::Field {
                let f = self.next();
                fields.push(self.span(&f.val[1..]));
            }
            return Ok(Some(match node {
                Arg::Field { mut idents, .. } => {
                    idents.extend(fields);
                    Arg::Field {
                        pos: chain_pos,
                        idents,
                    }
                }
                Arg::Variable(mut v) => {
                    v.idents.extend(fields);
                    v.pos = chain_pos;
                    Arg::Variable(v)
                }
                Arg::Bool { .. }
                | Arg::String { .. }
                | Arg::Number { .. }
                | Arg::Nil { .. }
                | Arg::Dot { .. } => {
                    return Err(self.errorf(format!(
                        "unexpected . after term {}",
                        crate::gofmt::quote(&node.to_string())
                    )));
                }
                other => Arg::Chain {
                    pos: chain_pos,
                    node: Box::new(other),
                    fields,
                },
            }));
        }
        Ok(Some(node))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let token = self.next_non_space();
        Ok(Some(match token.typ {
            ItemType::Identifier => {
                if !(self.has_func)(&token.val) {
                    return Err(self.errorf(format!(
                        "function {} not defined",
                        crate::gofmt::quote(&token.val)
                    )));
                }
                Arg::Identifier {
                    pos: token.pos,
                    name: self.span(&token.val),
                }
            }
            ItemType::Dot => Arg::Dot { pos: token.pos },
            ItemType::Nil => Arg::Nil { pos: token.pos },
            ItemType::Variable => {
                let idents = self.idents(&token.val);
                if !self.vars.iter().any(|v| *v == *idents[0]) {
                    return Err(self.errorf(format!(
                        "undefined variable {}",
                        crate::gofmt::quote(&idents[0])
                    )));
                }
                Arg::Variable(VariableNode {
                    pos: token.pos,
                    idents,
                })
            }
            ItemType::Field => Arg::Field {
                pos: token.pos,
                idents: self.idents(&token.val[1..]),
            },
            ItemType::Bool => Arg::Bool {
                pos: token.pos,
                val: token.val == "true",
            },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => {
                let num =
                    new_number(self.span(&token.val), token.typ).map_err(|e| self.errorf(e))?;
                Arg::Number {
                    pos: token.pos,
                    num,
                }
            }
            ItemType::LeftParen => {
                self.enter()?;
                let r = stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || {
                    self.pipeline("parenthesized pipeline", ItemType::RightParen)
                });
                self.depth -= 1;
                Arg::Pipe(Box::new(r?))
            }
            ItemType::String | ItemType::RawString => {
                let text = unquote(&token.val).map_err(|e| self.errorf(e))?;
                Arg::String {
                    pos: token.pos,
                    quoted: self.span(&token.val),
                    text: Rc::from(text),
                }
            }
            _ => {
                self.backup(token);
                return Ok(None);
            }
        }))
    }
}

enum Parsed {
    Node(Node),
    End(#[allow(dead_code)] Pos),
    Else(Pos),
}

/// Go's `strconv.Unquote` for template string literals.
pub fn unquote(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    if bytes.len() < 2 {
        return Err("invalid syntax".into());
    }
    let q = bytes[0];
    if q != bytes[bytes.len() - 1] {
        return Err("invalid syntax".into());
    }
    let inner = &s[1..s.len() - 1];
    if q == b'"' && !inner.contains(['\\', '"', '\n']) {
        // nothing to decode (the common case)
        return Ok(inner.to_string());
    }
    if q == b'`' {
        if inner.contains('`') {
            return Err("invalid syntax".into());
        }
        // raw strings drop carriage returns
        return Ok(inner.replace('\r', ""));
    }
    if q != b'"' && q != b'\'' {
        return Err("invalid syntax".into());
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == q as char {
            return Err("invalid syntax".into());
        }
        if c == '\n' {
            return Err("invalid syntax".into());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            return Err("invalid syntax".into());
        };
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '\'' if q == b'\'' => out.push('\''),
            '"' if q == b'"' => out.push('"'),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut v: u32 = 0;
                for _ in 0..n {
                    let d = chars
                        .next()
                        .and_then(|c| c.to_digit(16))
                        .ok_or("invalid syntax")?;
                    v = v * 16 + d;
                }
                if e == 'x' {
                    // a single byte; only valid UTF-8 results survive in a Rust string
                    if v < 0x80 {
                        out.push(v as u8 as char);
                    } else {
                        out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
                    }
                } else {
                    out.push(char::from_u32(v).ok_or("invalid syntax")?);
                }
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = chars
                        .next()
                        .and_then(|c| c.to_digit(8))
                        .ok_or("invalid syntax")?;
                    v = v * 8 + d;
                }
                if v > 255 {
                    return Err("invalid syntax".into());
                }
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
            }
            _ => return Err("invalid syntax".into()),
        }
    }
    if q == b'\'' && out.chars().count() != 1 {
        return Err("invalid syntax".into());
    }
    Ok(out)
}

/// Go's `newNumber`.
fn new_number(span: Span, typ: ItemType) -> Result<Number, String> {
    let text: &str = &span;
    let mut n = Number {
        text: span.clone(),
        is_int: false,
        int64: 0,
        is_uint: false,
        uint64: 0,
        is_float: false,
        float64: 0.0,
        is_complex: false,
    };
    if typ == ItemType::CharConstant {
        let s = unquote(text).map_err(|_| format!("malformed character constant: {text}"))?;
        let c = s.chars().next().unwrap_or('\0') as u32;
        n.is_int = true;
        n.int64 = c as i64;
        n.is_uint = true;
        n.uint64 = c as u64;
        n.is_float = true;
        n.float64 = c as f64;
        return Ok(n);
    }
    if typ == ItemType::Complex || text.ends_with('i') {
        n.is_complex = true;
        return Ok(n);
    }
    if let Some(u) = gonum::parse_uint0(text) {
        n.is_uint = true;
        n.uint64 = u;
    }
    if let Some(i) = gonum::parse_int0(text) {
        n.is_int = true;
        n.int64 = i;
        if i == 0 {
            n.is_uint = true;
            n.uint64 = 0;
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float64 = n.int64 as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float64 = n.uint64 as f64;
    } else if let Some(f) = gonum::parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", crate::gofmt::quote(text)));
        }
        n.is_float = true;
        n.float64 = f;
        if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            n.is_int = true;
            n.int64 = f as i64;
        }
        if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 {
            n.is_uint = true;
            n.uint64 = f as u64;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!(
            "illegal number syntax: {}",
            crate::gofmt::quote(text)
        ));
    }
    Ok(n)
}
