//! Parse tree of a Go template (`text/template/parse/node.go`). Positions are byte offsets into
//! the template text; `Display` reproduces Go's `String()` forms, which appear in error messages
//! (`executing "x" at <.Values.a.b>`).

use std::fmt::{self, Display, Write};
use std::rc::Rc;

pub type Pos = usize;

/// A piece of a template's text: shares the text instead of copying the piece, so the
/// parser allocates nothing for text nodes, names and literals. Reads as a `str`.
#[derive(Clone)]
pub struct Span {
    src: Rc<str>,
    start: u32,
    end: u32,
}

impl Span {
    /// `piece` of `src`: shared when it lies inside `src` (as every token of the text does),
    /// copied otherwise.
    pub fn of(src: &Rc<str>, piece: &str) -> Span {
        let base = src.as_ptr() as usize;
        let at = (piece.as_ptr() as usize).wrapping_sub(base);
        if at <= src.len()
            && piece.len() <= src.len() - at
            && let (Ok(start), Ok(end)) = (u32::try_from(at), u32::try_from(at + piece.len()))
        {
            return Span {
                src: src.clone(),
                start,
                end,
            };
        }
        Span::owned(piece)
    }

    pub fn owned(piece: &str) -> Span {
        Span {
            src: Rc::from(piece),
            start: 0,
            end: piece.len() as u32,
        }
    }
}

impl std::ops::Deref for Span {
    type Target = str;
    fn deref(&self) -> &str {
        &self.src[self.start as usize..self.end as usize]
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl PartialEq<str> for Span {
    fn eq(&self, other: &str) -> bool {
        **self == *other
    }
}

#[derive(Debug)]
pub struct ListNode {
    pub pos: Pos,
    pub nodes: Vec<Node>,
}

#[derive(Debug)]
pub enum Node {
    Text {
        pos: Pos,
        text: Span,
    },
    Action {
        pos: Pos,
        pipe: PipeNode,
    },
    Comment {
        pos: Pos,
        text: Span,
    },
    If(Branch),
    Range(Branch),
    With(Branch),
    Template {
        pos: Pos,
        name: String,
        pipe: Option<PipeNode>,
    },
    Break {
        pos: Pos,
    },
    Continue {
        pos: Pos,
    },
}

#[derive(Debug)]
pub struct Branch {
    pub pos: Pos,
    pub pipe: PipeNode,
    pub list: ListNode,
    pub else_list: Option<ListNode>,
}

#[derive(Debug)]
pub struct PipeNode {
    pub pos: Pos,
    pub is_assign: bool,
    pub decl: Vec<VariableNode>,
    pub cmds: Vec<CommandNode>,
}

#[derive(Debug)]
pub struct VariableNode {
    pub pos: Pos,
    /// `$x.a.b` → ["$x", "a", "b"]
    pub idents: Vec<Span>,
}

#[derive(Debug)]
pub struct CommandNode {
    pub pos: Pos,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub struct Number {
    pub text: Span,
    pub is_int: bool,
    pub int64: i64,
    pub is_uint: bool,
    pub uint64: u64,
    pub is_float: bool,
    pub float64: f64,
    pub is_complex: bool,
}

/// An operand of a command.
#[derive(Debug)]
pub enum Arg {
    Identifier {
        pos: Pos,
        name: Span,
    },
    Dot {
        pos: Pos,
    },
    Nil {
        pos: Pos,
    },
    Bool {
        pos: Pos,
        val: bool,
    },
    Number {
        pos: Pos,
        num: Number,
    },
    String {
        pos: Pos,
        quoted: Span,
        text: Rc<str>,
    },
    Field {
        pos: Pos,
        idents: Vec<Span>,
    },
    Variable(VariableNode),
    Chain {
        pos: Pos,
        node: Box<Arg>,
        fields: Vec<Span>,
    },
    Pipe(Box<PipeNode>),
}

impl Arg {
    pub fn pos(&self) -> Pos {
        match self {
            Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. }
            | Arg::Field { pos, .. }
            | Arg::Chain { pos, .. } => *pos,
            Arg::Variable(v) => v.pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl Node {
    pub fn pos(&self) -> Pos {
        match self {
            Node::Text { pos, .. }
            | Node::Action { pos, .. }
            | Node::Comment { pos, .. }
            | Node::Template { pos, .. }
            | Node::Break { pos }
            | Node::Continue { pos } => *pos,
            Node::If(b) | Node::Range(b) | Node::With(b) => b.pos,
        }
    }
}

/// A reference to any node, for error context (`ErrorContext`).
#[derive(Clone, Copy)]
pub enum NodeRef<'a> {
    Node(&'a Node),
    List(&'a ListNode),
    Pipe(&'a PipeNode),
    Command(&'a CommandNode),
    Arg(&'a Arg),
    Variable(&'a VariableNode),
}

impl NodeRef<'_> {
    pub fn pos(&self) -> Pos {
        match self {
            NodeRef::Node(n) => n.pos(),
            NodeRef::List(l) => l.pos,
            NodeRef::Pipe(p) => p.pos,
            NodeRef::Command(c) => c.pos,
            NodeRef::Arg(a) => a.pos(),
            NodeRef::Variable(v) => v.pos,
        }
    }
}

impl Display for NodeRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeRef::Node(n) => n.fmt(f),
            NodeRef::List(l) => l.fmt(f),
            NodeRef::Pipe(p) => p.fmt(f),
            NodeRef::Command(c) => c.fmt(f),
            NodeRef::Arg(a) => a.fmt(f),
            NodeRef::Variable(v) => v.fmt(f),
        }
    }
}

impl Display for ListNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for n in &self.nodes {
            n.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text { text, .. } => f.write_str(text),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::Comment { text, .. } => write!(f, "{{{{{text}}}}}"),
            Node::If(b) => b.write(f, "if"),
            Node::Range(b) => b.write(f, "range"),
            Node::With(b) => b.write(f, "with"),
            Node::Template { name, pipe, .. } => {
                write!(f, "{{{{template {}", crate::gofmt::quote(name))?;
                if let Some(p) = pipe {
                    write!(f, " {p}")?;
                }
                f.write_str("}}")
            }
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
        }
    }
}

impl Branch {
    fn write(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
        write!(f, "{{{{{name} {}}}}}{}", self.pipe, self.list)?;
        if let Some(e) = &self.else_list {
            write!(f, "{{{{else}}}}{e}")?;
        }
        f.write_str("{{end}}")
    }
}

impl Display for PipeNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, v) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                v.fmt(f)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            c.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for CommandNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                a.fmt(f)?;
            }
        }
        Ok(())
    }
}

impl Display for VariableNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, ident) in self.idents.iter().enumerate() {
            if i > 0 {
                f.write_char('.')?;
            }
            f.write_str(ident)?;
        }
        Ok(())
    }
}

impl Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Dot { .. } => f.write_char('.'),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Bool { val, .. } => f.write_str(if *val { "true" } else { "false" }),
            Arg::Number { num, .. } => f.write_str(&num.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable(v) => v.fmt(f),
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(p) = node.as_ref() {
                    write!(f, "({p})")?;
                } else {
                    node.fmt(f)?;
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Pipe(p) => p.fmt(f),
        }
    }
}

/// One parsed template: a file body or a `define`/`block`.
#[derive(Debug)]
pub struct Tree {
    pub name: String,
    /// Name of the file the text came from (for error locations).
    pub parse_name: Rc<str>,
    pub text: Rc<str>,
    pub root: ListNode,
}

impl Tree {
    /// Go's `ErrorContext`: `name:line:col` and the node's text.
    pub fn location(&self, pos: Pos) -> String {
        let pos = pos.min(self.text.len());
        let text = &self.text[..pos];
        let byte_num = match text.rfind('\n') {
            None => pos,
            Some(i) => pos - (i + 1),
        };
        let line = 1 + text.matches('\n').count();
        format!("{}:{}:{}", self.parse_name, line, byte_num)
    }

    /// Go's `parse.IsEmptyTree`: only whitespace text and comments.
    pub fn is_empty(&self) -> bool {
        is_empty_list(&self.root)
    }
}

fn is_empty_list(l: &ListNode) -> bool {
    l.nodes.iter().all(|n| match n {
        Node::Text { text, .. } => text.trim().is_empty(),
        Node::Comment { .. } => true,
        _ => false,
    })
}

/// Parse trees can be as deep as the template nests (100000 `if`s, 10000 parentheses); the
/// derived drop would recurse once per level and overflow the stack. When the stack runs
/// low, these drops take the children out and free them from a work list instead.
enum Doomed {
    Nodes(Vec<Node>),
    Cmds(Vec<CommandNode>),
    Arg(Arg),
}

fn tear_down(first: Doomed) {
    let mut work = vec![first];
    while let Some(w) = work.pop() {
        match w {
            Doomed::Nodes(nodes) => {
                for mut n in nodes {
                    match &mut n {
                        Node::Action { pipe, .. }
                        | Node::Template {
                            pipe: Some(pipe), ..
                        } => work.push(Doomed::Cmds(std::mem::take(&mut pipe.cmds))),
                        Node::If(b) | Node::Range(b) | Node::With(b) => {
                            work.push(Doomed::Cmds(std::mem::take(&mut b.pipe.cmds)));
                            work.push(Doomed::Nodes(std::mem::take(&mut b.list.nodes)));
                            if let Some(e) = &mut b.else_list {
                                work.push(Doomed::Nodes(std::mem::take(&mut e.nodes)));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Doomed::Cmds(cmds) => {
                for mut c in cmds {
                    work.extend(std::mem::take(&mut c.args).into_iter().map(Doomed::Arg));
                }
            }
            Doomed::Arg(a) => match a {
                Arg::Pipe(mut p) => work.push(Doomed::Cmds(std::mem::take(&mut p.cmds))),
                Arg::Chain { node, .. } => work.push(Doomed::Arg(*node)),
                _ => {}
            },
        }
    }
}

/// Stack a recursive drop keeps in reserve; below it, drops switch to the work list.
const DROP_RED_ZONE: usize = 256 * 1024;

/// Whether there is stack enough to drop children recursively (the common case: a tree
/// as deep as people write them), which is faster than going through the work list.
fn stack_to_spare() -> bool {
    stacker::remaining_stack().is_some_and(|r| r > DROP_RED_ZONE)
}

impl Drop for ListNode {
    fn drop(&mut self) {
        if !self.nodes.is_empty() {
            let nodes = std::mem::take(&mut self.nodes);
            if stack_to_spare() {
                drop(nodes);
            } else {
                tear_down(Doomed::Nodes(nodes));
            }
        }
    }
}

impl Drop for PipeNode {
    fn drop(&mut self) {
        if !self.cmds.is_empty() {
            let cmds = std::mem::take(&mut self.cmds);
            if stack_to_spare() {
                drop(cmds);
            } else {
                tear_down(Doomed::Cmds(cmds));
            }
        }
    }
}
