//! Loads the health corpus copied from Argo CD's tests (tests/data/health).

#![allow(dead_code)] // each test binary uses part of this module

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ferry_health::Status;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// gitops-engine's built-in Go checks.
    Builtin,
    /// Argo CD's bundled Lua customizations.
    Customization,
}

#[derive(Debug)]
pub struct Case {
    /// `<group>_<Kind>/NN-name`.
    pub name: String,
    /// `<group>_<Kind>`.
    pub kind_dir: String,
    pub layer: Layer,
    pub message_basis: String,
    pub object: Value,
    /// `None`: the test asserts no health is returned.
    pub expected_status: Option<Status>,
    pub expected_message: Option<String>,
}

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/health")
}

/// Parses a YAML file holding one object (some carry a leading or trailing `---`).
pub fn load_object(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Argo CD's tests read these with sigs.k8s.io/yaml, where a repeated key keeps the last value.
    let options =
        serde_saphyr::options! { duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins };
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(&text, options)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut objects: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    assert_eq!(objects.len(), 1, "{}: expected one object", path.display());
    objects.remove(0)
}

/// The two lines of a `.expected` file: `status: X` and `message: "<JSON string>"` (or null).
fn load_expected(path: &Path) -> (Option<Status>, Option<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut status = None;
    let mut message = None;
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("status: ") {
            status = match value.trim() {
                "null" => None,
                name => Some(
                    Status::parse(name)
                        .unwrap_or_else(|| panic!("{}: status {name}", path.display())),
                ),
            };
        } else if let Some(value) = line.strip_prefix("message: ") {
            message = serde_json::from_str::<Option<String>>(value.trim())
                .unwrap_or_else(|e| panic!("{}: message: {e}", path.display()));
        }
    }
    (status, message)
}

pub fn corpus() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let dir = data_dir();
        let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv is readable");
        index
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|line| {
                let columns: Vec<&str> = line.split('\t').collect();
                assert_eq!(columns.len(), 11, "INDEX.tsv row: {line}");
                let name = columns[2].to_owned();
                let layer = match columns[7] {
                    "gitops-engine-builtin" => Layer::Builtin,
                    "lua-customization" => Layer::Customization,
                    other => panic!("unknown layer {other}"),
                };
                let object = load_object(&dir.join(format!("{name}.yaml")));
                let (expected_status, expected_message) =
                    load_expected(&dir.join(format!("{name}.expected")));
                Case {
                    kind_dir: name.split('/').next().unwrap_or_default().to_owned(),
                    name,
                    layer,
                    message_basis: columns[8].to_owned(),
                    object,
                    expected_status,
                    expected_message,
                }
            })
            .collect()
    })
}
