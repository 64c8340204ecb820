//! Reading Kubernetes documents from YAML and JSON files, remembering where each came from.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::review::SourceLocation;

/// Files larger than this are refused: manifests are small, and reads must be bounded.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Directory trees deeper than this are refused (a symlink loop or a mistake).
const MAX_DEPTH: usize = 32;

/// A file or directory could not be read as Kubernetes documents.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge { path: PathBuf },
    #[error("{path}:{line}: invalid YAML: {message}")]
    Yaml {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path} is nested more than {MAX_DEPTH} directories deep")]
    TooDeep { path: PathBuf },
}

/// One document and the file (and line) it starts at.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub source: SourceLocation,
}

/// Reads every `*.yaml`, `*.yml` and `*.json` file under `dir` (sorted, recursively, hidden
/// entries and symlinked directories skipped). Sources are shown relative to `dir`'s parent
/// when `display_root` is `None`, else relative to `display_root`.
pub fn read_dir(dir: &Path, display_root: Option<&Path>) -> Result<Vec<Document>, LoadError> {
    let mut files = Vec::new();
    collect_files(dir, 0, &mut files)?;
    files.sort();
    let mut documents = Vec::new();
    for file in files {
        let shown = display_root
            .and_then(|root| file.strip_prefix(root).ok())
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        documents.extend(read_file(&file, &shown)?);
    }
    Ok(documents)
}

fn collect_files(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    if depth > MAX_DEPTH {
        return Err(LoadError::TooDeep {
            path: dir.to_owned(),
        });
    }
    let io = |source| LoadError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            collect_files(&path, depth + 1, files)?;
        } else if (kind.is_file() || kind.is_symlink()) && is_manifest(&path) {
            files.push(path);
        }
    }
    Ok(())
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Reads the documents of one file; `shown` is the path put in source locations.
pub fn read_file(path: &Path, shown: &str) -> Result<Vec<Document>, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
        });
    }
    parse_documents(&text, shown).map_err(|(line, message)| LoadError::Yaml {
        path: path.to_owned(),
        line,
        message,
    })
}

/// Splits a multi-document stream and parses each document; empty documents are dropped and
/// `List` objects are expanded into their items. Errors carry the 1-based line.
pub fn parse_documents(text: &str, shown: &str) -> Result<Vec<Document>, (usize, String)> {
    let mut documents = Vec::new();
    for (line, chunk) in split_documents(text) {
        let value: Value = if chunk.trim().is_empty() {
            Value::Null
        } else {
            serde_saphyr::from_str(chunk).map_err(|e| (line, e.to_string()))?
        };
        let source = SourceLocation {
            file: shown.to_owned(),
            line: Some(line),
        };
        push_expanded(value, &source, &mut documents);
    }
    Ok(documents)
}

fn push_expanded(value: Value, source: &SourceLocation, out: &mut Vec<Document>) {
    match value {
        Value::Null => {}
        Value::Object(ref map)
            if map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
                && map.get("items").is_some_and(Value::is_array) =>
        {
            if let Some(Value::Array(items)) = map.get("items") {
                for item in items {
                    push_expanded(item.clone(), source, out);
                }
            }
        }
        other => out.push(Document {
            value: other,
            source: source.clone(),
        }),
    }
}

/// Splits at `---` lines, returning each document with the 1-based line it starts on.
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            parts.push((start_line, &text[start..offset]));
            start = offset + line.len();
            start_line = index + 2;
        }
        offset += line.len();
    }
    parts.push((start_line, &text[start..]));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_and_keeps_lines() {
        let text =
            "---\na: 1\n---\n# only a comment\n---\nkind: List\nitems:\n- kind: A\n- kind: B\n";
        let docs = parse_documents(text, "f.yaml").unwrap();
        let kinds: Vec<_> = docs.iter().map(|d| d.value["kind"].clone()).collect();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].source.line, Some(2));
        assert_eq!(kinds[1], "A");
        assert_eq!(docs[2].source.line, Some(6));
    }

    #[test]
    fn reports_the_line_of_a_bad_document() {
        let err = parse_documents("a: 1\n---\nb: [\n", "f.yaml").unwrap_err();
        assert_eq!(err.0, 3);
    }
}
