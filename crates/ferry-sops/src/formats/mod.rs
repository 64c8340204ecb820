//! The file formats sops stores documents in, and where each keeps its
//! metadata (a nested `sops` key, or flattened `sops_*` keys / a `[sops]`
//! section).

pub(crate) mod dotenv;
pub(crate) mod ini;
pub(crate) mod json;

use std::path::Path;

use crate::metadata::unflatten;
use crate::tree::{Branch, Item, Value};
use crate::yaml::YamlError;

/// A document format, as sops names them (`--input-type`/`--output-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// The format sops picks for a file name: `.yaml`/`.yml`, `.json`,
    /// `.env`, `.ini`; anything else is binary.
    pub fn from_path(path: impl AsRef<Path>) -> Format {
        let name = path
            .as_ref()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Format::Yaml
        } else if lower.ends_with(".json") {
            Format::Json
        } else if lower.ends_with(".env") {
            Format::Dotenv
        } else if lower.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }

    /// Parses a format name as sops spells it (`yaml`, `json`, `dotenv`,
    /// `ini`, `binary`).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "dotenv" | "env" => Some(Format::Dotenv),
            "ini" => Some(Format::Ini),
            "binary" => Some(Format::Binary),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A document that cannot be read or written in a format. Messages give the
/// line, never the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("invalid {format}: {}{message}", if *.line > 0 { format!("line {line}: ") } else { String::new() })]
    Syntax {
        format: &'static str,
        line: usize,
        message: String,
    },
    #[error("invalid YAML: {0}")]
    Yaml(#[from] YamlError),
    #[error("the {format} format cannot hold {what}")]
    Unsupported {
        format: &'static str,
        what: &'static str,
    },
    #[error("the document is not valid UTF-8")]
    NotUtf8,
}

fn utf8(bytes: &[u8]) -> Result<&str, FormatError> {
    std::str::from_utf8(bytes).map_err(|_| FormatError::NotUtf8)
}

/// sops' `LoadPlainFile`: the documents of a file, metadata included if the
/// file has any.
pub(crate) fn load(format: Format, bytes: &[u8]) -> Result<Vec<Branch>, FormatError> {
    Ok(match format {
        Format::Yaml => crate::yaml::load(utf8(bytes)?)?,
        Format::Json => vec![json::load(bytes)?],
        Format::Dotenv => vec![dotenv::load(bytes)?],
        Format::Ini => vec![ini::load(bytes)?],
        Format::Binary => vec![Branch(vec![Item::new(
            "data",
            match String::from_utf8(bytes.to_vec()) {
                Ok(s) => Value::Str(s),
                Err(e) => Value::RawStr(e.into_bytes()),
            },
        )])],
    })
}

/// Reads an encrypted file: like [`load`], except that a binary file's
/// encrypted form is sops' JSON envelope.
pub(crate) fn load_encrypted(format: Format, bytes: &[u8]) -> Result<Vec<Branch>, FormatError> {
    match format {
        Format::Binary => Ok(vec![json::load(bytes)?]),
        other => load(other, bytes),
    }
}

/// Splits an encrypted file into its documents and its metadata (nested),
/// or `None` when the file has no sops metadata.
pub(crate) fn split_metadata(
    format: Format,
    mut branches: Vec<Branch>,
) -> (Vec<Branch>, Option<Branch>) {
    match format {
        Format::Yaml | Format::Json | Format::Binary => {
            // Metadata comes from the first document; every document's
            // `sops` key is removed.
            let mut metadata = None;
            for (index, branch) in branches.iter_mut().enumerate() {
                let mut kept = Vec::with_capacity(branch.0.len());
                for item in std::mem::take(&mut branch.0) {
                    if item.key_str() == Some("sops") {
                        if index == 0 && metadata.is_none() {
                            metadata = Some(match item.value {
                                Value::Map(m) => m,
                                _ => Branch::default(),
                            });
                        }
                    } else {
                        kept.push(item);
                    }
                }
                branch.0 = kept;
            }
            (branches, metadata)
        }
        Format::Dotenv => {
            let mut entries = Vec::new();
            if let Some(branch) = branches.first_mut() {
                let mut kept = Vec::with_capacity(branch.0.len());
                for item in std::mem::take(&mut branch.0) {
                    match (
                        item.key_str().and_then(|k| k.strip_prefix("sops_")),
                        &item.value,
                    ) {
                        (Some(key), Value::Str(v)) => entries.push((key.to_string(), v.clone())),
                        _ => kept.push(item),
                    }
                }
                branch.0 = kept;
            }
            let metadata = (!entries.is_empty()).then(|| unflatten(entries));
            (branches, metadata)
        }
        Format::Ini => {
            let metadata = branches
                .first()
                .and_then(ini::metadata_entries)
                .map(|entries| {
                    unflatten(
                        entries
                            .into_iter()
                            .map(|(k, v)| (k, v.replace("\\n", "\n")))
                            .collect(),
                    )
                });
            if let Some(branch) = branches.first_mut() {
                branch.0.retain(|item| item.key_str() != Some("sops"));
            }
            (branches, metadata)
        }
    }
}

/// sops' `EmitPlainFile`.
pub(crate) fn emit(format: Format, branches: &[Branch]) -> Result<Vec<u8>, FormatError> {
    let empty = Branch::default();
    let first = branches.first().unwrap_or(&empty);
    match format {
        Format::Yaml => Ok(crate::yaml::emit(branches, 4)?.into_bytes()),
        Format::Json => Ok(json::emit(first, "\t")?.into_bytes()),
        Format::Dotenv => dotenv::emit(first),
        Format::Ini => ini::emit(first),
        Format::Binary => match first.get("data") {
            Some(Value::Str(s)) => Ok(s.as_bytes().to_vec()),
            Some(Value::RawStr(b)) => Ok(b.clone()),
            Some(_) => Err(FormatError::Unsupported {
                format: "binary",
                what: "a 'data' value that is not a string",
            }),
            None => Err(FormatError::Unsupported {
                format: "binary",
                what: "a document without a 'data' key",
            }),
        },
    }
}
