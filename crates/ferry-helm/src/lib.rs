//! Helm chart rendering: Go text/template, Sprig and Helm's chart semantics, written to
//! produce byte for byte what Helm v4 produces.

pub mod capabilities;
pub mod chart;
pub mod der;
pub mod engine;
pub mod funcs;
pub mod glob;
pub mod gofmt;
pub mod gonum;
pub mod json;
pub mod object;
pub mod output;
mod regex_cache;
pub mod template;
pub mod toml;
pub mod value;
pub mod yaml;

pub use chart::{Chart, LoadError, Values};

/// Stack the public entry points guarantee before they run: values nest up to go-yaml's 10000
/// levels and templates deeper still, and the recursive code (and derived clones and drops) on
/// them must not overflow a small caller stack (a worker thread). Memory is committed only
/// as it is touched.
const DEEP_RED_ZONE: usize = 16 << 20;
const DEEP_STACK: usize = 64 << 20;

/// Runs `f` with at least [`DEEP_RED_ZONE`] bytes of stack, switching to a fresh stack if the
/// current one has less.
pub(crate) fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(DEEP_RED_ZONE, DEEP_STACK, f)
}
/// Forgets the compiled regular expressions this thread keeps between renders (patterns of
/// `.Files.Glob` and of Sprig's regex functions): the next load and render start cold, as
/// the first one did. Benchmarks call it so that every measured render pays what Helm pays.
pub fn clear_caches() {
    regex_cache::clear();
    funcs::regex::clear_cache();
}

pub use engine::{RenderError, RenderOptions, Rendered, check_installable, render};
