//! Compiled regexes for patterns that come back on every chart load and render (`.Files.Glob`
//! patterns): compiling one costs more than the matching it serves, and a
//! controller loads the same charts over and over. Bounded: cleared when it grows past a limit.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;

const LIMIT: usize = 1024;

thread_local! {
    static CACHE: RefCell<HashMap<String, Option<Arc<Regex>>>> = RefCell::new(HashMap::new());
}

/// `Regex::new(expr).ok()`, remembered per thread. Shared rather than cloned: a cloned
/// `Regex` starts with an empty matching cache, which costs about as much to build again.
pub(crate) fn compile(expr: &str) -> Option<Arc<Regex>> {
    CACHE.with(|c| {
        if let Some(r) = c.borrow().get(expr) {
            return r.clone();
        }
        let r = Regex::new(expr).ok().map(Arc::new);
        let mut c = c.borrow_mut();
        if c.len() >= LIMIT {
            c.clear();
        }
        c.insert(expr.to_string(), r.clone());
        r
    })
}

/// Forgets every remembered regex of this thread.
pub(crate) fn clear() {
    CACHE.with(|c| c.borrow_mut().clear());
}
