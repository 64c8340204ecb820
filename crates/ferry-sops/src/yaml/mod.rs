//! YAML exactly as sops reads and writes it.
//!
//! sops parses and re-emits YAML with go-yaml v3, so the plaintext it prints
//! (key order, quoting, indentation, where comments land, how numbers look)
//! is go-yaml's. This module reproduces that behaviour: a scanner, parser and
//! composer with go-yaml's comment attachment, its encoder's tag and style
//! decisions, and its emitter's layout, plus sops' conversion between
//! go-yaml nodes and the sops tree (`store`). It was written from go-yaml's
//! documented behaviour and checked against the real sops binary.

mod chars;
mod compose;
mod emitter;
mod encode;
mod node;
mod parser;
mod resolve;
mod scanner;
mod store;

pub(crate) use store::{emit, load};

/// A YAML syntax or structure problem. Messages carry the line, never the
/// text of the document (which may be secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if *.line > 0 { format!("line {}: ", .line) } else { String::new() })]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

impl YamlError {
    pub(crate) fn new(line: usize, message: &str) -> YamlError {
        YamlError {
            line,
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod fixture_tests {
    use std::path::PathBuf;

    fn fixtures() -> Vec<PathBuf> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sops");
        let mut out = Vec::new();
        for dir in std::fs::read_dir(&root).expect("fixture dir") {
            let dir = dir.expect("entry").path();
            if !dir.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&dir).expect("dir") {
                let f = f.expect("entry").path();
                let name = f
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                // Files sops 3.11 wrote: its decrypt output everywhere, and
                // the encrypted files generated with it.
                let written_by_sops_3_11 = name.contains(".plain")
                    || (dir.ends_with("sops-3.11.0-generated") && !name.contains(".source."));
                if name.ends_with(".yaml") && written_by_sops_3_11 && !name.ends_with("sops.yaml") {
                    out.push(f);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn yaml_round_trips_through_the_sops_tree() {
        let mut failures = Vec::new();
        for path in fixtures() {
            let text = std::fs::read_to_string(&path).expect("read");
            let name = path.display().to_string();
            match super::load(&text).and_then(|b| super::emit(&b, 4)) {
                Ok(out) if out == text => {}
                Ok(out) => {
                    failures.push(format!("{name}: differs\n--- want\n{text}\n--- got\n{out}"))
                }
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        }
        for f in &failures {
            eprintln!("{f}");
        }
        assert!(failures.is_empty(), "{} fixture(s) differ", failures.len());
    }
}
