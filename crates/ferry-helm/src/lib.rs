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
pub mod template;
pub mod toml;
pub mod value;
pub mod yaml;

pub use chart::{Chart, LoadError, Values};
pub use engine::{RenderError, RenderOptions, Rendered, render};
