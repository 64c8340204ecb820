//! Go's text/template: lexer, parser, template sets and the executor.

pub mod exec;
pub mod lex;
pub mod node;
pub mod parse;

use std::collections::HashMap;
use std::rc::Rc;

pub use exec::{Dv, Engine, GoError};
use node::Tree;
pub use parse::ParseError;

/// Templates visible by name: the templates of a render, or a `tpl` clone layered on them.
pub struct Scope<'p> {
    own: HashMap<String, Rc<Tree>>,
    parent: Option<&'p Scope<'p>>,
    /// Name of the set's root template (`gotpl` in Helm), used in "no template" errors.
    pub root_name: Rc<str>,
}

impl<'p> Scope<'p> {
    pub fn new(root_name: &str) -> Scope<'static> {
        Scope {
            own: HashMap::new(),
            parent: None,
            root_name: Rc::from(root_name),
        }
    }

    /// A clone of `parent` (Go's `Template.Clone`): new definitions stay in the clone.
    pub fn layer(parent: &'p Scope<'p>) -> Scope<'p> {
        Scope {
            own: HashMap::new(),
            parent: Some(parent),
            root_name: parent.root_name.clone(),
        }
    }

    pub fn lookup(&self, name: &str) -> Option<Rc<Tree>> {
        match self.own.get(name) {
            Some(t) => Some(t.clone()),
            None => self.parent.and_then(|p| p.lookup(name)),
        }
    }

    /// Adds parsed trees as Go's `AddParseTree` does: an empty definition never replaces an
    /// existing template of the same name; anything else replaces it.
    pub fn add_trees(&mut self, trees: Vec<Tree>) {
        for tree in trees {
            if tree.is_empty() && self.lookup(&tree.name).is_some() {
                continue;
            }
            self.own.insert(tree.name.clone(), Rc::new(tree));
        }
    }

    /// `t.New(name).Parse(text)`.
    pub fn parse(
        &mut self,
        name: &str,
        text: &str,
        has_func: &dyn Fn(&str) -> bool,
    ) -> Result<(), ParseError> {
        self.parse_shared(name, Rc::from(text), has_func)
    }

    /// [`Scope::parse`] of a text the trees may keep without copying it.
    pub fn parse_shared(
        &mut self,
        name: &str,
        text: Rc<str>,
        has_func: &dyn Fn(&str) -> bool,
    ) -> Result<(), ParseError> {
        let trees = parse::parse_shared(name, text, has_func)?;
        self.add_trees(trees);
        Ok(())
    }
}
