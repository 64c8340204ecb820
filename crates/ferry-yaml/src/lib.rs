//! Multi-document YAML read with Kubernetes' scalar rules (YAML 1.1 booleans and octals as
//! kustomize reads them) and written the way kustomize writes it.
//!
//! ```
//! let docs = ferry_yaml::from_str_multi("a: yes\nb: 0644\n---\n---\nc: [1, 2]\n").unwrap();
//! assert_eq!(docs.len(), 2);
//! assert_eq!(docs[0]["a"], "yes"); // kyaml keeps YAML 1.1 booleans as strings
//! assert_eq!(docs[0]["b"], 420); // but reads 0644 as octal
//! assert_eq!(ferry_yaml::to_string(&docs[0]), "a: \"yes\"\nb: 420\n");
//! ```
//!
//! Reading: [`from_str_multi`] / [`from_str`] use go-yaml v3's rules as kyaml applies them to
//! resources; [`from_str_multi_with`] with [`Options::YAML11`] uses go-yaml v2's (how
//! sigs.k8s.io/yaml reads a kustomization.yaml: `yes`/`on` are booleans there).
//! Writing: [`to_string`] / [`to_string_multi`] print like `kustomize build`.

mod emit;
pub mod gofmt;
mod parse;
pub mod resolve;

pub use emit::key_order;
pub use resolve::Schema;
use serde_json::Value;

/// A YAML document could not be read. Line and column are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not well-formed YAML.
    #[error("yaml: line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed YAML that has no JSON meaning (duplicate key, bad tag, NaN, ...).
    #[error("yaml: line {line}, column {column}: {message}")]
    Invalid {
        line: usize,
        column: usize,
        message: String,
    },
    /// The document is nested too deeply or expands to too many nodes through aliases.
    #[error("yaml: line {line}, column {column}: {message}")]
    TooLarge {
        line: usize,
        column: usize,
        message: String,
    },
    /// [`from_str`] found more than one document.
    #[error("yaml: expected one document, found {found}")]
    NotOneDocument { found: usize },
}

/// How to read YAML.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Scalar rules (kyaml's by default).
    pub schema: Schema,
    /// kustomize's view of `metadata.annotations` (of each document, and of each item of a
    /// root `items:` list): every value is the source text of its scalar (`1.50` stays "1.50",
    /// `null` is "null"), and a collection becomes "". kustomize rewrites annotations this way
    /// on every resource it loads.
    pub annotations_as_text: bool,
    /// A key repeated in a mapping keeps its last value (go-yaml v2 without strict mode, as
    /// sigs.k8s.io/yaml's YAMLToJSON reads). Otherwise a repeated key is an error.
    pub duplicate_keys_last_wins: bool,
}

impl Options {
    /// go-yaml v2 / YAML 1.1 rules, as sigs.k8s.io/yaml reads a kustomization file.
    pub const YAML11: Options = Options {
        schema: Schema::Yaml11,
        annotations_as_text: false,
        duplicate_keys_last_wins: true,
    };
    /// How kustomize reads resources (kyaml rules, annotations as text).
    pub const KUSTOMIZE_RESOURCES: Options = Options {
        schema: Schema::Kyaml,
        annotations_as_text: true,
        duplicate_keys_last_wins: false,
    };
}

/// Read every non-empty document of a YAML stream with kyaml's scalar rules.
pub fn from_str_multi(src: &str) -> Result<Vec<Value>, Error> {
    parse::parse(src, &Options::default(), true)
}

/// Read every non-empty document with the given options.
pub fn from_str_multi_with(src: &str, options: &Options) -> Result<Vec<Value>, Error> {
    parse::parse(src, options, true)
}

/// Read a stream holding at most one document (none gives `null`).
pub fn from_str(src: &str) -> Result<Value, Error> {
    from_str_with(src, &Options::default())
}

/// [`from_str`] with the given options.
pub fn from_str_with(src: &str, options: &Options) -> Result<Value, Error> {
    let mut docs = parse::parse(src, options, true)?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0)),
        found => Err(Error::NotOneDocument { found }),
    }
}

/// Write one value as kustomize writes a resource (ends with a newline).
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    emit::emit_document(value, &mut out);
    out
}

/// Write documents joined by `---\n`, as `kustomize build` prints a resource list.
pub fn to_string_multi<'a, I>(values: I) -> String
where
    I: IntoIterator<Item = &'a Value>,
{
    let mut out = String::new();
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        emit::emit_document(v, &mut out);
    }
    out
}

/// Append one document to `out` (no separator).
pub fn write_document(value: &Value, out: &mut String) {
    emit::emit_document(value, out);
}
