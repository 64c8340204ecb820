//! The executor of Go's text/template (`text/template/exec.go`), with Helm's settings
//! (`missingkey=zero`). It follows Go's evaluation order and error wording: which node an
//! error points at, how pipeline values lose their interface wrapping, and how function
//! arguments are checked against parameter types.

use std::collections::HashMap;
use std::rc::Rc;

use super::Scope;
use super::node::*;
use super::parse::{STACK_GROW, STACK_RED_ZONE};
use crate::funcs::{FnCtx, FuncDef, Funcs};
use crate::gofmt;
use crate::object::Param;
use crate::value::{IntKind, ListKind, MapKind, Value};

/// Go's `maxExecDepth` for nested `{{template}}` calls.
const MAX_EXEC_DEPTH: usize = 100_000;

/// A value as the executor holds it: `iface` is true when Go would hold it as an
/// `interface {}` (an element of a `map[string]interface {}` or `[]interface {}`), which
/// changes error messages and nil handling. Pipelines drop the wrapping.
#[derive(Clone, Debug, Default)]
pub struct Dv {
    pub v: Value,
    pub iface: bool,
}

impl Dv {
    pub fn plain(v: Value) -> Dv {
        Dv { v, iface: false }
    }
    fn wrapped(v: Value) -> Dv {
        Dv { v, iface: true }
    }
    /// What `reflect.Value.Type()` names, for messages.
    fn type_name(&self) -> String {
        if self.iface {
            "interface {}".into()
        } else {
            self.v.type_name()
        }
    }
    /// An invalid reflect.Value (not even a nil interface).
    fn invalid(&self) -> bool {
        !self.iface && self.v.is_nil()
    }
}

/// A Go error as its `errors.Unwrap` chain: the `Error()` text of every link, outermost
/// first. Helm's error cleanup inspects the chain, so it is kept rather than flattened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoError {
    pub links: Vec<String>,
}

impl GoError {
    pub fn msg(s: impl Into<String>) -> GoError {
        GoError {
            links: vec![s.into()],
        }
    }
    pub fn text(&self) -> &str {
        self.links.first().map(String::as_str).unwrap_or("")
    }
    /// `fmt.Errorf(prefix + "%w", inner)` under a wrapper with the same text
    /// (`errors.Wrapf`, `ExecError`): the outer links all carry the combined text.
    pub fn wrap(prefix: &str, copies: usize, inner: GoError) -> GoError {
        let text = format!("{prefix}{}", inner.text());
        let mut links = vec![text; copies];
        links.extend(inner.links);
        GoError { links }
    }
    /// Whether this is a template `ExecError` (its text starts as Go's do).
    pub fn is_exec(&self) -> bool {
        self.text().starts_with("template: ")
    }
}

impl std::fmt::Display for GoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

/// Non-local exits of the walker.
pub enum Flow {
    Break,
    Continue,
    Err(GoError),
}

impl From<GoError> for Flow {
    fn from(e: GoError) -> Flow {
        Flow::Err(e)
    }
}

type R<T> = Result<T, Flow>;

/// State shared by every template execution of one render: the function table, Helm's
/// include recursion counter, and the output budget.
pub struct Engine<'f> {
    pub funcs: &'f Funcs,
    /// Helm's `includedNames`: nesting count per included template name.
    pub included: HashMap<String, usize>,
    /// Bytes all templates may still write (rendered output and include/tpl buffers).
    pub budget: usize,
    pub budget_total: usize,
    /// Combined nesting of template calls, includes and tpl across states.
    pub nesting: usize,
    /// Nesting of `tpl` calls. Helm has no bound (a template that `tpl`s itself ends in a Go
    /// stack overflow); we stop at [`crate::funcs::helm::RECURSION_MAX`] levels.
    pub tpl_depth: usize,
}

/// Nesting bound across template calls, includes and tpl, beyond Go's per-name limits: it
/// keeps memory bounded for mutually recursive templates.
const MAX_NESTING: usize = 100_000;

impl<'f> Engine<'f> {
    pub fn new(funcs: &'f Funcs, output_limit: usize) -> Engine<'f> {
        Engine {
            funcs,
            included: HashMap::new(),
            budget: output_limit,
            budget_total: output_limit,
            nesting: 0,
            tpl_depth: 0,
        }
    }

    pub fn has_func(&self, name: &str) -> bool {
        self.funcs.get(name).is_some() || is_builtin(name)
    }

    /// Go's `Template.ExecuteTemplate` into a fresh buffer.
    pub fn execute(
        &mut self,
        scope: &Scope<'_>,
        name: &str,
        data: Value,
    ) -> Result<String, GoError> {
        let Some(tree) = scope.lookup(name) else {
            return Err(GoError::msg(format!(
                "template: no template {} associated with template {}",
                gofmt::quote(name),
                gofmt::quote(&scope.root_name)
            )));
        };
        let mut out = String::new();
        self.execute_tree(scope, &tree, data, &mut out)?;
        Ok(out)
    }

    pub fn execute_tree(
        &mut self,
        scope: &Scope<'_>,
        tree: &Rc<Tree>,
        data: Value,
        out: &mut String,
    ) -> Result<(), GoError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            self.nesting -= 1;
            return Err(GoError::msg(format!(
                "template nesting exceeds {MAX_NESTING} levels (recursive include or tpl)"
            )));
        }
        let tree = tree.clone();
        let dot = Dv::plain(data);
        let mut st = State {
            eng: self,
            scope,
            out,
            tree: &tree,
            node: None,
            vars: vec![(Rc::from("$"), dot.clone())],
            depth: 0,
        };
        let r = stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || {
            st.walk_list(&dot, &tree.root)
        });
        self.nesting -= 1;
        match r {
            Ok(()) => Ok(()),
            Err(Flow::Err(e)) => Err(e),
            Err(_) => Ok(()), // break/continue cannot escape a range (the parser checks)
        }
    }
}

fn is_builtin(name: &str) -> bool {
    matches!(
        name,
        "and"
            | "or"
            | "not"
            | "len"
            | "index"
            | "slice"
            | "call"
            | "eq"
            | "ne"
            | "lt"
            | "le"
            | "gt"
            | "ge"
            | "print"
            | "printf"
            | "println"
            | "html"
            | "js"
            | "urlquery"
    )
}

struct State<'s, 't, 'f> {
    eng: &'s mut Engine<'f>,
    scope: &'s Scope<'s>,
    out: &'s mut String,
    tree: &'t Tree,
    node: Option<NodeRef<'t>>,
    vars: Vec<(Rc<str>, Dv)>,
    depth: usize,
}

/// The "missing" final value of a command that is first in its pipeline.
type Final = Option<Dv>;

impl<'s, 't, 'f> State<'s, 't, 'f> {
    fn at(&mut self, n: NodeRef<'t>) {
        self.node = Some(n);
    }

    /// Go's `state.errorf` without `%w`: an ExecError whose inner error has the same text.
    fn errorf(&self, msg: impl AsRef<str>) -> Flow {
        let text = self.exec_text(msg.as_ref());
        Flow::Err(GoError {
            links: vec![text.clone(), text],
        })
    }

    /// Go's `state.errorf("...: %w", err)`.
    fn errorf_wrap(&self, prefix: &str, inner: GoError) -> Flow {
        let head = self.exec_text(prefix);
        Flow::Err(GoError::wrap(&head, 2, inner))
    }

    fn exec_text(&self, msg: &str) -> String {
        match self.node {
            None => format!("template: {}: {}", self.tree.name, msg),
            Some(n) => format!(
                "template: {}: executing {} at <{}>: {}",
                self.tree.location(n.pos()),
                gofmt::quote(&self.tree.name),
                n,
                msg
            ),
        }
    }

    fn write(&mut self, s: &str) -> R<()> {
        if s.len() > self.eng.budget {
            return Err(Flow::Err(GoError::msg(format!(
                "rendered output exceeds the limit of {} bytes",
                self.eng.budget_total
            ))));
        }
        self.eng.budget -= s.len();
        self.out.push_str(s);
        Ok(())
    }

    // ---- variables

    fn mark(&self) -> usize {
        self.vars.len()
    }

    fn pop(&mut self, mark: usize) {
        self.vars.truncate(mark);
    }

    fn push(&mut self, name: &str, v: Dv) {
        self.vars.push((Rc::from(name), v));
    }

    fn set_var(&mut self, name: &str, v: Dv) -> R<()> {
        for slot in self.vars.iter_mut().rev() {
            if &*slot.0 == name {
                slot.1 = v;
                return Ok(());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn set_top_var(&mut self, n: usize, v: Dv) {
        let len = self.vars.len();
        if n <= len {
            self.vars[len - n].1 = v;
        }
    }

    fn var_value(&self, name: &str) -> R<Dv> {
        for slot in self.vars.iter().rev() {
            if &*slot.0 == name {
                return Ok(slot.1.clone());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    // ---- walking

    fn walk_list(&mut self, dot: &Dv, list: &'t ListNode) -> R<()> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || {
            for n in &list.nodes {
                self.walk(dot, n)?;
            }
            Ok(())
        })
    }

    fn walk(&mut self, dot: &Dv, node: &'t Node) -> R<()> {
        self.at(NodeRef::Node(node));
        match node {
            Node::Action { pipe, .. } => {
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.print_value(NodeRef::Node(node), &val)?;
                }
                Ok(())
            }
            Node::Break { .. } => Err(Flow::Break),
            Node::Continue { .. } => Err(Flow::Continue),
            Node::Comment { .. } => Ok(()),
            Node::If(b) => self.walk_if_or_with(false, dot, b),
            Node::With(b) => self.walk_if_or_with(true, dot, b),
            Node::Range(b) => self.walk_range(dot, b),
            Node::Template { name, pipe, .. } => self.walk_template(dot, node, name, pipe.as_ref()),
            Node::Text { text, .. } => self.write(text),
        }
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Dv, b: &'t Branch) -> R<()> {
        let mark = self.mark();
        let r = (|| {
            let val = self.eval_pipeline(dot, &b.pipe)?;
            if val.truth() {
                if with {
                    self.walk_list(&Dv::plain(val), &b.list)
                } else {
                    self.walk_list(dot, &b.list)
                }
            } else if let Some(e) = &b.else_list {
                self.walk_list(dot, e)
            } else {
                Ok(())
            }
        })();
        self.pop(mark);
        r
    }

    fn walk_range(&mut self, dot: &Dv, b: &'t Branch) -> R<()> {
        let outer = self.mark();
        let r = self.walk_range_inner(dot, b);
        self.pop(outer);
        match r {
            Err(Flow::Break) => Ok(()),
            other => other,
        }
    }

    fn range_iteration(&mut self, b: &'t Branch, mark: usize, index: Dv, elem: Dv) -> R<()> {
        let decl = &b.pipe.decl;
        if !decl.is_empty() {
            if b.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(&decl[0].idents[0], index.clone())?;
                } else {
                    self.set_var(&decl[0].idents[0], elem.clone())?;
                }
            } else {
                self.set_top_var(1, elem.clone());
            }
        }
        if decl.len() > 1 {
            if b.pipe.is_assign {
                self.set_var(&decl[1].idents[0], elem.clone())?;
            } else {
                self.set_top_var(2, index);
            }
        }
        let r = self.walk_list(&elem, &b.list);
        self.pop(mark);
        match r {
            Err(Flow::Continue) => Ok(()),
            other => other,
        }
    }

    fn walk_range_inner(&mut self, dot: &Dv, b: &'t Branch) -> R<()> {
        self.at(NodeRef::Pipe(&b.pipe));
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let mark = self.mark();
        match &val {
            Value::List(l) => {
                if !l.items.is_empty() {
                    let wrapped = l.kind == ListKind::Iface;
                    for (i, item) in l.items.iter().enumerate() {
                        let elem = Dv {
                            v: item.clone(),
                            iface: wrapped,
                        };
                        self.range_iteration(b, mark, Dv::plain(Value::int(i as i64)), elem)?;
                    }
                    return Ok(());
                }
            }
            Value::Bytes(bytes) => {
                if !bytes.is_empty() {
                    for (i, c) in bytes.iter().enumerate() {
                        let elem = Dv::plain(Value::Int(*c as i64, IntKind::Uint8));
                        self.range_iteration(b, mark, Dv::plain(Value::int(i as i64)), elem)?;
                    }
                    return Ok(());
                }
            }
            Value::Int(n, k) => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.errorf(format!(
                        "can't use {} to iterate over more than one variable",
                        gofmt::format_v(&val)
                    )));
                }
                if *n > 0 {
                    for i in 0..*n {
                        let v = Dv::plain(Value::Int(i, *k));
                        self.range_iteration(b, mark, v.clone(), v)?;
                    }
                    return Ok(());
                }
            }
            Value::Map(m) => {
                let entries = m.snapshot();
                if !entries.is_empty() {
                    let wrapped = m.kind.iface_elems();
                    for (k, v) in entries {
                        let elem = Dv { v, iface: wrapped };
                        self.range_iteration(b, mark, Dv::plain(Value::Str(k)), elem)?;
                    }
                    return Ok(());
                }
            }
            Value::Nil => {}
            _ => {
                return Err(self.errorf(format!(
                    "range can't iterate over {}",
                    gofmt::format_v(&val)
                )));
            }
        }
        if let Some(e) = &b.else_list {
            self.walk_list(dot, e)?;
        }
        Ok(())
    }

    fn walk_template(
        &mut self,
        dot: &Dv,
        node: &'t Node,
        name: &str,
        pipe: Option<&'t PipeNode>,
    ) -> R<()> {
        self.at(NodeRef::Node(node));
        let Some(tree) = self.scope.lookup(name) else {
            return Err(self.errorf(format!("template {} not defined", gofmt::quote(name))));
        };
        if self.depth == MAX_EXEC_DEPTH {
            return Err(self.errorf(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            )));
        }
        let new_dot = match pipe {
            Some(p) => Dv::plain(self.eval_pipeline(dot, p)?),
            None => Dv::plain(Value::Nil),
        };
        self.eng.nesting += 1;
        if self.eng.nesting > MAX_NESTING {
            self.eng.nesting -= 1;
            return Err(self.errorf(format!("exceeded maximum template depth ({MAX_NESTING})")));
        }
        let mut st = State {
            eng: &mut *self.eng,
            scope: self.scope,
            out: &mut *self.out,
            tree: &tree,
            node: None,
            vars: vec![(Rc::from("$"), new_dot.clone())],
            depth: self.depth + 1,
        };
        let r = stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || {
            st.walk_list(&new_dot, &tree.root)
        });
        self.eng.nesting -= 1;
        match r {
            Err(Flow::Err(e)) => Err(Flow::Err(e)),
            _ => Ok(()),
        }
    }

    fn print_value(&mut self, n: NodeRef<'t>, v: &Value) -> R<()> {
        self.at(n);
        let s = match v {
            Value::Nil => "<no value>".to_string(),
            Value::Str(s) => return self.write(s),
            Value::BStr(b) => String::from_utf8_lossy(b).into_owned(),
            other => gofmt::format_v(other),
        };
        self.write(&s)
    }

    // ---- evaluation

    fn eval_pipeline(&mut self, dot: &Dv, pipe: &'t PipeNode) -> R<Value> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || {
            self.eval_pipeline_inner(dot, pipe)
        })
    }

    fn eval_pipeline_inner(&mut self, dot: &Dv, pipe: &'t PipeNode) -> R<Value> {
        self.at(NodeRef::Pipe(pipe));
        let mut value: Final = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            // If the value has type interface{}, dig down one level to the thing inside.
            value = Some(Dv::plain(v.v));
        }
        let value = value.map(|d| d.v).unwrap_or(Value::Nil);
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(&var.idents[0], Dv::plain(value.clone()))?;
            } else {
                self.push(&var.idents[0], Dv::plain(value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'t [Arg], final_: &Final) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Dv, cmd: &'t CommandNode, final_: Final) -> R<Dv> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at(NodeRef::Arg(first));
                return self.eval_field_chain(
                    dot,
                    dot.clone(),
                    NodeRef::Arg(first),
                    idents,
                    &cmd.args,
                    final_,
                );
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, &cmd.args, final_),
            Arg::Identifier { name, .. } => {
                return self.eval_function(
                    dot,
                    first,
                    name,
                    NodeRef::Command(cmd),
                    &cmd.args,
                    final_,
                );
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return Ok(Dv::plain(self.eval_pipeline(dot, p)?));
            }
            Arg::Variable(v) => return self.eval_variable(dot, v, &cmd.args, final_),
            _ => {}
        }
        self.at(NodeRef::Arg(first));
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool { val, .. } => Ok(Dv::plain(Value::Bool(*val))),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.errorf("nil is not a command")),
            Arg::Number { num, .. } => Ok(Dv::plain(self.ideal_constant(first, num)?)),
            Arg::String { text, .. } => Ok(Dv::plain(Value::Str(text.clone()))),
            _ => Err(self.errorf(format!(
                "can't evaluate command {}",
                gofmt::quote(&first.to_string())
            ))),
        }
    }

    fn ideal_constant(&mut self, node: &'t Arg, n: &Number) -> R<Value> {
        self.at(NodeRef::Arg(node));
        if n.is_complex {
            return Err(self.errorf(format!("complex constant {} is not supported", n.text)));
        }
        let is_hex = n.text.len() > 2
            && n.text.as_bytes()[0] == b'0'
            && matches!(n.text.as_bytes()[1], b'x' | b'X');
        let is_rune = n.text.starts_with('\'');
        if n.is_float && !is_hex && !is_rune && n.text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float64));
        }
        if n.is_int {
            return Ok(Value::int(n.int64));
        }
        if n.is_uint {
            return Err(self.errorf(format!("{} overflows int", n.text)));
        }
        Ok(Value::Nil)
    }

    fn eval_chain(&mut self, dot: &Dv, chain: &'t Arg, args: &'t [Arg], final_: Final) -> R<Dv> {
        self.at(NodeRef::Arg(chain));
        let Arg::Chain { node, fields, .. } = chain else {
            return Err(self.errorf("internal error: not a chain"));
        };
        if let Arg::Nil { .. } = node.as_ref() {
            return Err(self.errorf(format!("indirection through explicit nil in {chain}")));
        }
        let pipe = self.eval_arg(dot, Param::Any, node)?;
        // evalArg with a nil type keeps the pipeline's (unwrapped) value as is
        self.eval_field_chain(
            dot,
            Dv::plain(pipe),
            NodeRef::Arg(chain),
            fields,
            args,
            final_,
        )
    }

    fn eval_variable(
        &mut self,
        dot: &Dv,
        v: &'t VariableNode,
        args: &'t [Arg],
        final_: Final,
    ) -> R<Dv> {
        self.at(NodeRef::Variable(v));
        let value = self.var_value(&v.idents[0])?;
        if v.idents.len() == 1 {
            self.not_a_function(args, &final_)?;
            return Ok(value);
        }
        self.eval_field_chain(
            dot,
            value,
            NodeRef::Variable(v),
            &v.idents[1..],
            args,
            final_,
        )
    }

    fn eval_field_chain(
        &mut self,
        dot: &Dv,
        mut receiver: Dv,
        node: NodeRef<'t>,
        idents: &[Span],
        args: &'t [Arg],
        final_: Final,
    ) -> R<Dv> {
        let n = idents.len();
        for ident in &idents[..n - 1] {
            receiver = self.eval_field(dot, ident, node, &[], None, receiver)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, final_, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Dv,
        name: &str,
        node: NodeRef<'t>,
        args: &'t [Arg],
        final_: Final,
        receiver: Dv,
    ) -> R<Dv> {
        if receiver.invalid() {
            return Ok(Dv::default());
        }
        let typ = receiver.type_name();
        if receiver.v.is_nil() {
            return Err(self.errorf(format!("nil pointer evaluating {typ}.{name}")));
        }
        if let Some(sig) = crate::funcs::methods::method_sig(&receiver.v, name) {
            let def = FuncDef {
                params: sig.params,
                variadic: sig.variadic,
                imp: crate::funcs::Imp::Method,
                bytes_ok: false,
            };
            let recv = receiver.v.clone();
            return self.eval_call(dot, &def, Some((&recv, name)), node, name, args, final_);
        }
        let has_args = args.len() > 1 || final_.is_some();
        match &receiver.v {
            Value::Map(m) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                return Ok(match m.get(name) {
                    Some(v) => Dv {
                        v,
                        iface: m.kind.iface_elems(),
                    },
                    None => match m.kind {
                        MapKind::Iface | MapKind::Values => Dv::wrapped(Value::Nil),
                        MapKind::Str => Dv::plain(Value::str("")),
                        MapKind::Files => Dv::plain(Value::Bytes(Rc::from(&[][..]))),
                    },
                });
            }
            Value::Object(o) => {
                if let Some(v) = o.field(name) {
                    if has_args {
                        return Err(self.errorf(format!(
                            "{name} has arguments but cannot be invoked as function"
                        )));
                    }
                    return Ok(Dv::plain(v));
                }
            }
            _ => {}
        }
        Err(self.errorf(format!("can't evaluate field {name} in type {typ}")))
    }

    fn eval_function(
        &mut self,
        dot: &Dv,
        ident: &'t Arg,
        name: &str,
        cmd: NodeRef<'t>,
        args: &'t [Arg],
        final_: Final,
    ) -> R<Dv> {
        self.at(NodeRef::Arg(ident));
        let funcs = self.eng.funcs;
        if let Some(def) = funcs.get(name) {
            return self.eval_call(dot, def, None, cmd, name, args, final_);
        }
        if is_builtin(name) {
            return self.eval_builtin(dot, name, cmd, args, final_);
        }
        Err(self.errorf(format!("{} is not a defined function", gofmt::quote(name))))
    }

    /// Go's `evalCall` for functions and methods with typed parameters.
    #[allow(clippy::too_many_arguments)]
    fn eval_call(
        &mut self,
        dot: &Dv,
        def: &FuncDef,
        method: Option<(&Value, &str)>,
        node: NodeRef<'t>,
        name: &str,
        args: &'t [Arg],
        final_: Final,
    ) -> R<Dv> {
        let args: &'t [Arg] = if args.is_empty() { args } else { &args[1..] };
        let num_params = def.params.len() + usize::from(def.variadic.is_some());
        let mut num_in = args.len();
        if final_.is_some() {
            num_in += 1;
        }
        let mut num_fixed = args.len();
        if def.variadic.is_some() {
            num_fixed = def.params.len();
            if num_in < num_fixed {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    num_fixed,
                    args.len()
                )));
            }
        } else if num_in != num_params {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {num_params} got {num_in}"
            )));
        }
        let mut argv: Vec<Value> = Vec::with_capacity(num_in);
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            argv.push(self.eval_arg(dot, def.params[i], &args[i])?);
            i += 1;
        }
        if let Some(vt) = def.variadic {
            while i < args.len() {
                argv.push(self.eval_arg(dot, vt, &args[i])?);
                i += 1;
            }
        }
        if let Some(f) = final_ {
            let t = match def.variadic {
                Some(vt) if num_in > num_fixed => vt,
                _ => def.params[num_in - 1],
            };
            argv.push(self.validate_type(f, t)?);
        }
        let result = match method {
            Some((recv, mname)) => crate::funcs::methods::call_method(recv, mname, &argv),
            None => {
                let mut ctx = FnCtx {
                    eng: &mut *self.eng,
                    scope: self.scope,
                };
                crate::funcs::call(def, &mut ctx, &argv)
            }
        };
        match result {
            Ok(v) => {
                if let Value::Str(s) = &v
                    && s.len() > self.eng.budget_total
                {
                    return Err(Flow::Err(GoError::msg(format!(
                        "rendered output exceeds the limit of {} bytes",
                        self.eng.budget_total
                    ))));
                }
                Ok(Dv::plain(v))
            }
            Err(e) => {
                self.at(node);
                Err(self.errorf_wrap(&format!("error calling {name}: "), e))
            }
        }
    }

    /// Go's `evalArg`: literal operands are converted to the parameter type.
    fn eval_arg(&mut self, dot: &Dv, typ: Param, n: &'t Arg) -> R<Value> {
        self.at(NodeRef::Arg(n));
        match n {
            Arg::Dot { .. } => return self.validate_type(dot.clone(), typ),
            Arg::Nil { .. } => {
                if typ.can_be_nil() {
                    return Ok(Value::Nil);
                }
                if typ == Param::Refl {
                    return Ok(Value::Nil);
                }
                return Err(self.errorf(format!("cannot assign nil to {}", typ.go_name())));
            }
            Arg::Field { idents, .. } => {
                let v = self.eval_field_chain(
                    dot,
                    dot.clone(),
                    NodeRef::Arg(n),
                    idents,
                    std::slice::from_ref(n),
                    None,
                )?;
                return self.validate_type(v, typ);
            }
            Arg::Variable(var) => {
                let v = self.eval_variable(dot, var, &[], None)?;
                return self.validate_type(v, typ);
            }
            Arg::Pipe(p) => {
                let v = self.eval_pipeline(dot, p)?;
                return self.validate_type(Dv::plain(v), typ);
            }
            Arg::Identifier { name, .. } => {
                let v = self.eval_function(dot, n, name, NodeRef::Arg(n), &[], None)?;
                return self.validate_type(v, typ);
            }
            Arg::Chain { .. } => {
                let v = self.eval_chain(dot, n, &[], None)?;
                return self.validate_type(v, typ);
            }
            _ => {}
        }
        match typ {
            Param::Bool => match n {
                Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
                _ => Err(self.errorf(format!("expected bool; found {n}"))),
            },
            Param::Float => match n {
                Arg::Number { num, .. } if num.is_float => Ok(Value::Float(num.float64)),
                _ => Err(self.errorf(format!("expected float; found {n}"))),
            },
            Param::Int | Param::Int64 => match n {
                Arg::Number { num, .. } if num.is_int => Ok(Value::Int(
                    num.int64,
                    if typ == Param::Int {
                        IntKind::Int
                    } else {
                        IntKind::Int64
                    },
                )),
                _ => Err(self.errorf(format!("expected integer; found {n}"))),
            },
            Param::Str => match n {
                Arg::String { text, .. } => Ok(Value::Str(text.clone())),
                _ => Err(self.errorf(format!("expected string; found {n}"))),
            },
            Param::Uint32 => match n {
                Arg::Number { num, .. } if num.is_uint && num.uint64 <= u32::MAX as u64 => {
                    Ok(Value::Int(num.uint64 as i64, IntKind::Uint32))
                }
                Arg::Number { num, .. } if num.is_uint => {
                    Err(self.errorf(format!("overflow: {}", num.text)))
                }
                _ => Err(self.errorf(format!("expected unsigned integer; found {n}"))),
            },
            Param::Any | Param::Refl => self.eval_empty_interface(n),
            _ => Err(self.errorf(format!(
                "can't handle {n} for arg of type {}",
                typ.go_name()
            ))),
        }
    }

    fn eval_empty_interface(&mut self, n: &'t Arg) -> R<Value> {
        self.at(NodeRef::Arg(n));
        match n {
            Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
            Arg::Number { num, .. } => self.ideal_constant(n, num),
            Arg::String { text, .. } => Ok(Value::Str(text.clone())),
            _ => Err(self.errorf(format!(
                "can't handle assignment of {n} to empty interface argument"
            ))),
        }
    }

    /// Go's `validateType`: whether a value can be passed as a parameter of type `typ`.
    fn validate_type(&self, v: Dv, typ: Param) -> R<Value> {
        if v.invalid() {
            if typ == Param::Any || typ.can_be_nil() {
                return Ok(Value::Nil);
            }
            return Err(self.errorf(format!("invalid value; expected {}", typ.go_name())));
        }
        if matches!(typ, Param::Any | Param::Refl) {
            return Ok(v.v);
        }
        let ok = match (&v.v, typ) {
            (Value::Str(_) | Value::BStr(_), Param::Str) => true,
            (Value::Int(_, IntKind::Int), Param::Int) => true,
            (Value::Int(_, IntKind::Int64), Param::Int64) => true,
            (Value::Float(_), Param::Float) => true,
            (Value::Bool(_), Param::Bool) => true,
            (Value::List(l), Param::List) => l.kind == ListKind::Iface,
            (Value::Map(m), Param::Map | Param::Values) => m.kind.iface_elems(),
            (Value::Int(_, IntKind::Uint32), Param::Uint32) => true,
            (Value::Object(o), Param::Cert | Param::Time | Param::SemVer) => {
                o.type_name() == typ.go_name()
            }
            _ => false,
        };
        if ok {
            return Ok(v.v);
        }
        if v.iface && v.v.is_nil() {
            return Err(self.errorf(format!(
                "wrong type for value; expected {}; got interface {{}}",
                typ.go_name()
            )));
        }
        Err(self.errorf(format!(
            "wrong type for value; expected {}; got {}",
            typ.go_name(),
            v.v.type_name()
        )))
    }

    // ---- Go's builtin functions that inspect reflect.Values

    fn eval_builtin(
        &mut self,
        dot: &Dv,
        name: &str,
        cmd: NodeRef<'t>,
        args: &'t [Arg],
        final_: Final,
    ) -> R<Dv> {
        let rest: &'t [Arg] = &args[1.min(args.len())..];
        let num_in = rest.len() + usize::from(final_.is_some());
        let (fixed, variadic) = match name {
            "and" | "or" | "eq" | "index" | "call" => (1, true),
            "not" | "len" => (1, false),
            "ne" | "lt" | "le" | "gt" | "ge" => (2, false),
            "slice" => (1, true),
            _ => (0, true),
        };
        if variadic {
            if num_in < fixed {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {fixed} got {}",
                    rest.len()
                )));
            }
        } else if num_in != fixed {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {fixed} got {num_in}"
            )));
        }
        if name == "and" || name == "or" {
            let mut v = Dv::default();
            for a in rest {
                let val = self.eval_refl_arg(dot, a)?;
                if val.v.truth() == (name == "or") {
                    return Ok(val);
                }
                v = val;
            }
            if let Some(f) = final_ {
                v = f;
            }
            return Ok(v);
        }
        let mut argv: Vec<Dv> = Vec::with_capacity(num_in);
        for a in rest {
            argv.push(self.eval_refl_arg(dot, a)?);
        }
        if let Some(f) = final_ {
            argv.push(f);
        }
        let r = match name {
            "not" => Ok(Dv::plain(Value::Bool(!argv[0].v.truth()))),
            "len" => builtin_len(&argv[0]).map(|n| Dv::plain(Value::int(n as i64))),
            "index" => builtin_index(&argv[0], &argv[1..]),
            "eq" => builtin_eq(&argv[0].v, &argv[1..]).map(|b| Dv::plain(Value::Bool(b))),
            "ne" => builtin_eq(&argv[0].v, &argv[1..2]).map(|b| Dv::plain(Value::Bool(!b))),
            "lt" => builtin_lt(&argv[0].v, &argv[1].v).map(|b| Dv::plain(Value::Bool(b))),
            "le" => builtin_le(&argv[0].v, &argv[1].v).map(|b| Dv::plain(Value::Bool(b))),
            "gt" => builtin_le(&argv[0].v, &argv[1].v).map(|b| Dv::plain(Value::Bool(!b))),
            "ge" => builtin_lt(&argv[0].v, &argv[1].v).map(|b| Dv::plain(Value::Bool(!b))),
            "call" => {
                let callee = rest.first().map(|a| a.to_string()).unwrap_or_default();
                if argv[0].v.is_nil() {
                    Err(GoError::msg("call of nil"))
                } else {
                    Err(GoError::msg(format!(
                        "non-function {callee} of type {}",
                        argv[0].v.type_name()
                    )))
                }
            }
            "slice" => Err(GoError::msg("slice is provided by Sprig")),
            _ => Err(GoError::msg(format!("{name} is not a builtin"))),
        };
        match r {
            Ok(v) => Ok(v),
            Err(e) => {
                self.at(cmd);
                Err(self.errorf_wrap(&format!("error calling {name}: "), e))
            }
        }
    }

    /// `evalArg` with a `reflect.Value` parameter: the operand keeps its interface wrapping.
    fn eval_refl_arg(&mut self, dot: &Dv, n: &'t Arg) -> R<Dv> {
        self.at(NodeRef::Arg(n));
        let v = match n {
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => Dv::default(),
            Arg::Field { idents, .. } => self.eval_field_chain(
                dot,
                dot.clone(),
                NodeRef::Arg(n),
                idents,
                std::slice::from_ref(n),
                None,
            )?,
            Arg::Variable(var) => self.eval_variable(dot, var, &[], None)?,
            Arg::Pipe(p) => Dv::plain(self.eval_pipeline(dot, p)?),
            Arg::Identifier { name, .. } => {
                self.eval_function(dot, n, name, NodeRef::Arg(n), &[], None)?
            }
            Arg::Chain { .. } => self.eval_chain(dot, n, &[], None)?,
            _ => Dv::plain(self.eval_empty_interface(n)?),
        };
        Ok(v)
    }
}

fn builtin_len(item: &Dv) -> Result<usize, GoError> {
    if item.invalid() {
        return Err(GoError::msg(
            "reflect: call of reflect.Value.Type on zero Value",
        ));
    }
    if item.v.is_nil() {
        return Err(GoError::msg("len of nil pointer"));
    }
    match item.v.go_len() {
        Some(n) => Ok(n),
        None => Err(GoError::msg(format!("len of type {}", item.v.type_name()))),
    }
}

fn builtin_index(item: &Dv, indexes: &[Dv]) -> Result<Dv, GoError> {
    let mut cur = item.clone();
    if cur.v.is_nil() {
        return Err(GoError::msg("index of untyped nil"));
    }
    for idx in indexes {
        if cur.v.is_nil() {
            return Err(GoError::msg("index of nil pointer"));
        }
        cur = match &cur.v {
            Value::List(l) => {
                let x = index_arg(&idx.v, l.items.len())?;
                match l.items.get(x) {
                    Some(v) => Dv {
                        v: v.clone(),
                        iface: l.kind == ListKind::Iface,
                    },
                    None => return Err(GoError::msg("reflect: slice index out of range")),
                }
            }
            Value::Bytes(b) => {
                let x = index_arg(&idx.v, b.len())?;
                match b.get(x) {
                    Some(c) => Dv::plain(Value::Int(*c as i64, IntKind::Uint8)),
                    None => return Err(GoError::msg("reflect: slice index out of range")),
                }
            }
            Value::Str(s) => {
                let x = index_arg(&idx.v, s.len())?;
                match s.as_bytes().get(x) {
                    Some(c) => Dv::plain(Value::Int(*c as i64, IntKind::Uint8)),
                    None => return Err(GoError::msg("reflect: string index out of range")),
                }
            }
            Value::Map(m) => {
                let key = match &idx.v {
                    Value::Str(s) => s.clone(),
                    Value::Nil => {
                        return Err(GoError::msg("value is nil; should be of type string"));
                    }
                    other => {
                        return Err(GoError::msg(format!(
                            "value has type {}; should be string",
                            other.type_name()
                        )));
                    }
                };
                match m.get(&key) {
                    Some(v) => Dv {
                        v,
                        iface: m.kind.iface_elems(),
                    },
                    None => match m.kind {
                        MapKind::Iface | MapKind::Values => Dv::wrapped(Value::Nil),
                        MapKind::Str => Dv::plain(Value::str("")),
                        MapKind::Files => Dv::plain(Value::Bytes(Rc::from(&[][..]))),
                    },
                }
            }
            other => {
                return Err(GoError::msg(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(cur)
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, GoError> {
    let x = match index {
        Value::Int(i, _) => *i,
        Value::Nil => return Err(GoError::msg("cannot index slice/array with nil")),
        other => {
            return Err(GoError::msg(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(GoError::msg(format!("index out of range: {x}")));
    }
    Ok(x as usize)
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum BasicKind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    Str,
    Other,
}

fn basic_kind(v: &Value) -> BasicKind {
    match v {
        Value::Nil => BasicKind::Invalid,
        Value::Bool(_) => BasicKind::Bool,
        Value::Int(_, k) if k.is_unsigned() => BasicKind::Uint,
        Value::Int(..) => BasicKind::Int,
        Value::Float(_) => BasicKind::Float,
        Value::Str(_) | Value::BStr(_) => BasicKind::Str,
        _ => BasicKind::Other,
    }
}

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        _ => 0,
    }
}

fn bad_comparison(a: &Value, b: &Value) -> GoError {
    GoError::msg(format!(
        "incompatible types for comparison: {} and {}",
        a.type_name(),
        b.type_name()
    ))
}
const ERR_BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

fn builtin_eq(a: &Value, others: &[Dv]) -> Result<bool, GoError> {
    if others.is_empty() {
        return Err(GoError::msg("missing argument for comparison"));
    }
    let k1 = basic_kind(a);
    for o in others {
        let b = &o.v;
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            match (k1, k2) {
                (BasicKind::Int, BasicKind::Uint) => {
                    int_of(a) >= 0 && int_of(a) as u64 == int_of(b) as u64
                }
                (BasicKind::Uint, BasicKind::Int) => {
                    int_of(b) >= 0 && int_of(a) as u64 == int_of(b) as u64
                }
                _ => {
                    if k1 != BasicKind::Invalid && k2 != BasicKind::Invalid {
                        return Err(bad_comparison(a, b));
                    }
                    false
                }
            }
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Int(x, _), Value::Int(y, _)) => x == y,
                (x, y) if x.str_bytes().is_some() && y.str_bytes().is_some() => {
                    x.str_bytes() == y.str_bytes()
                }
                (Value::Nil, Value::Nil) => true,
                _ => match (a, b) {
                    (Value::Map(_) | Value::List(_) | Value::Bytes(_), _) => {
                        return Err(GoError::msg(format!(
                            "non-comparable type {}: {}",
                            gofmt::format_v(b),
                            b.type_name()
                        )));
                    }
                    (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
                    _ => false,
                },
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn builtin_lt(a: &Value, b: &Value) -> Result<bool, GoError> {
    let k1 = basic_kind(a);
    if matches!(k1, BasicKind::Invalid | BasicKind::Other) {
        return Err(GoError::msg(ERR_BAD_COMPARISON_TYPE));
    }
    let k2 = basic_kind(b);
    if matches!(k2, BasicKind::Invalid | BasicKind::Other) {
        return Err(GoError::msg(ERR_BAD_COMPARISON_TYPE));
    }
    if k1 != k2 {
        return match (k1, k2) {
            (BasicKind::Int, BasicKind::Uint) => {
                Ok(int_of(a) < 0 || (int_of(a) as u64) < int_of(b) as u64)
            }
            (BasicKind::Uint, BasicKind::Int) => {
                Ok(int_of(b) >= 0 && (int_of(a) as u64) < int_of(b) as u64)
            }
            _ => Err(bad_comparison(a, b)),
        };
    }
    match (a, b) {
        (Value::Bool(_), _) => Err(GoError::msg(ERR_BAD_COMPARISON_TYPE)),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::Int(x, k), Value::Int(y, _)) => {
            if k.is_unsigned() {
                Ok((*x as u64) < *y as u64)
            } else {
                Ok(x < y)
            }
        }
        (x, y) if x.str_bytes().is_some() && y.str_bytes().is_some() => {
            Ok(x.str_bytes() < y.str_bytes())
        }
        _ => Err(GoError::msg(ERR_BAD_COMPARISON_TYPE)),
    }
}

fn builtin_le(a: &Value, b: &Value) -> Result<bool, GoError> {
    if builtin_lt(a, b)? {
        return Ok(true);
    }
    builtin_eq(a, &[Dv::plain(b.clone())])
}
