//! Shared helpers for the golden-case tests: render a case directory as the helm-golden
//! oracle prints it, and compare with its expected.yaml, masking random fields.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ferry_helm::chart::values::Plain;
use ferry_helm::{Chart, RenderOptions, Values};

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A case: case.yaml (chart path, release, namespace, values file), expected.yaml,
/// random-fields.txt.
pub struct Case {
    pub dir: PathBuf,
    pub chart: PathBuf,
    pub release: String,
    pub namespace: String,
    pub values: Option<PathBuf>,
}

fn str_field(v: &Values, k: &str) -> Option<String> {
    match v.0.get(k) {
        Some(Plain::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

impl Case {
    pub fn load(dir: &Path) -> Case {
        let text = std::fs::read_to_string(dir.join("case.yaml")).expect("case.yaml is readable");
        let v = Values::from_yaml(&text).expect("case.yaml parses");
        Case {
            dir: dir.to_path_buf(),
            chart: dir.join(str_field(&v, "chart").expect("case.yaml names the chart")),
            release: str_field(&v, "release").unwrap_or_else(|| "demo".into()),
            namespace: str_field(&v, "namespace").unwrap_or_else(|| "apps".into()),
            values: str_field(&v, "values").map(|f| dir.join(f)),
        }
    }

    pub fn options(&self) -> RenderOptions {
        let values = match &self.values {
            Some(p) => {
                Values::from_yaml(&std::fs::read_to_string(p).expect("values file is readable"))
                    .expect("values file parses")
            }
            None => Values::default(),
        };
        RenderOptions {
            release_name: self.release.clone(),
            namespace: self.namespace.clone(),
            values,
            ..RenderOptions::default()
        }
    }

    /// The oracle's output format for this case.
    pub fn render(&self) -> Result<String, String> {
        let chart = Chart::load(&self.chart).map_err(|e| e.to_string())?;
        let rendered = ferry_helm::render(&chart, &self.options()).map_err(|e| e.to_string())?;
        Ok(oracle_stream(&rendered.manifests))
    }
}

/// helm_render.py's printing: documents split on "\n---", comment-only documents dropped;
/// then helm-golden reads that output in Python's text mode, which turns "\r\n" and "\r"
/// into "\n" (templates with CRLF line endings show it).
pub fn oracle_stream(manifests: &[(String, String)]) -> String {
    oracle_print(manifests)
        .replace("\r\n", "\n")
        .replace('\r', "\n")
}

fn oracle_print(manifests: &[(String, String)]) -> String {
    let mut out = String::new();
    for (path, text) in manifests {
        if path.ends_with("NOTES.txt") || text.trim().is_empty() {
            continue;
        }
        for doc in text.split("\n---") {
            let has_content = doc
                .lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
            if !doc.trim().is_empty() && has_content {
                out.push_str(&format!(
                    "---\n# Source: {path}\n{}\n",
                    doc.trim_matches('\n')
                ));
            }
        }
    }
    out
}

fn split_docs(stream: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    for chunk in stream.split("\n---\n") {
        let chunk = chunk.trim_start_matches("---\n");
        if chunk.trim().is_empty() {
            continue;
        }
        let (first, rest) = chunk.split_once('\n').unwrap_or((chunk, ""));
        out.push((
            first.trim_start_matches("# Source: ").to_string(),
            rest.to_string(),
        ));
    }
    out
}

fn pointer_get<'a>(v: &'a serde_json::Value, ptr: &str) -> Option<&'a serde_json::Value> {
    v.pointer(ptr)
}

/// Compares a rendered stream with expected.yaml, masking random-fields.txt: a masked value
/// must be a string (of the recorded length where one is given); everything else must match
/// byte for byte.
pub fn compare(case_dir: &Path, actual: &str) -> Result<(), String> {
    let expected =
        std::fs::read_to_string(case_dir.join("expected.yaml")).map_err(|e| e.to_string())?;
    let masks: Vec<(String, String, i64)> =
        std::fs::read_to_string(case_dir.join("random-fields.txt"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut p = l.split('\t');
                Some((
                    p.next()?.to_string(),
                    p.next()?.to_string(),
                    p.next()?.parse().ok()?,
                ))
            })
            .collect();
    let exp_docs = split_docs(&expected);
    let act_docs = split_docs(actual);
    if exp_docs.len() != act_docs.len() {
        let e: Vec<&str> = exp_docs.iter().map(|d| d.0.as_str()).collect();
        let a: Vec<&str> = act_docs.iter().map(|d| d.0.as_str()).collect();
        return Err(format!("document count differs: expected {e:?}, got {a:?}"));
    }
    for ((es, et), (as_, at)) in exp_docs.iter().zip(&act_docs) {
        if es != as_ {
            return Err(format!("source differs: expected {es}, got {as_}"));
        }
        let mut at = at.clone();
        let doc_masks: Vec<&(String, String, i64)> = masks.iter().filter(|m| &m.0 == es).collect();
        if !doc_masks.is_empty() {
            let ej = Values::from_yaml(et)
                .map_err(|e| format!("{es}: expected doc: {e}"))?
                .to_json();
            let aj = Values::from_yaml(&at)
                .map_err(|e| format!("{es}: rendered doc: {e}"))?
                .to_json();
            for (_, ptr, len) in doc_masks {
                let (Some(ev), Some(av)) = (pointer_get(&ej, ptr), pointer_get(&aj, ptr)) else {
                    return Err(format!("{es}: masked field {ptr} missing"));
                };
                let (Some(es_), Some(as2)) = (ev.as_str(), av.as_str()) else {
                    return Err(format!("{es}: masked field {ptr} is not a string: {av}"));
                };
                if *len >= 0 && as2.chars().count() as i64 != *len {
                    return Err(format!(
                        "{es}: masked field {ptr} has length {}, want {len}",
                        as2.chars().count()
                    ));
                }
                // the value as the template wrote it: Go-quoted (`quote`) or raw
                let (qa, qe) = (ferry_helm::gofmt::quote(as2), ferry_helm::gofmt::quote(es_));
                if at.contains(&qa) {
                    at = at.replacen(&qa, &qe, 1);
                } else {
                    at = at.replacen(as2, es_, 1);
                }
            }
        }
        if &at != et {
            return Err(format!("{es} differs:\n{}", diff(et, &at)));
        }
    }
    Ok(())
}

/// A small line diff for failure messages.
pub fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    let n = e.len().max(a.len());
    let mut shown = 0;
    for i in 0..n {
        let (x, y) = (e.get(i).copied(), a.get(i).copied());
        if x != y {
            out.push_str(&format!("line {}:\n  - {:?}\n  + {:?}\n", i + 1, x, y));
            shown += 1;
            if shown > 12 {
                out.push_str("  ...\n");
                break;
            }
        }
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("trailing newline differs\n");
    }
    out
}
