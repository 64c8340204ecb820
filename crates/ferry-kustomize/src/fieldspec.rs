//! Field specs: "this path, in objects of this group/version/kind". kustomize's transformers
//! find the fields they change by walking such paths: `/` separates fields (`\/` escapes a
//! slash inside a key), a sequence met on the way is walked element by element, a trailing
//! `[]` marks a field expected to hold a sequence, and a spec with `create: true` creates
//! missing fields on the way (maps in the middle, the transformer's kind at the end).

use serde_json::{Map, Value};

use crate::kustfile;
use crate::resid::{Gvk, parse_group_version};

#[derive(Clone, Debug)]
pub struct FieldSpec {
    pub gvk: Gvk,
    pub path: String,
    pub create: bool,
    /// `path` split once, since specs are walked for every object.
    parts: Vec<String>,
}

impl PartialEq for FieldSpec {
    fn eq(&self, o: &FieldSpec) -> bool {
        self.gvk == o.gvk && self.path == o.path && self.create == o.create
    }
}

impl Eq for FieldSpec {}

impl From<&kustfile::FieldSpec> for FieldSpec {
    fn from(f: &kustfile::FieldSpec) -> FieldSpec {
        FieldSpec::with_gvk(Gvk::new(&f.group, &f.version, &f.kind), &f.path, f.create)
    }
}

impl FieldSpec {
    pub fn new(path: &str, create: bool) -> FieldSpec {
        FieldSpec::with_gvk(Gvk::default(), path, create)
    }

    pub fn with_gvk(gvk: Gvk, path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            gvk,
            path: path.to_string(),
            create,
            parts: split_path(path),
        }
    }

    /// Does this spec apply to an object of this apiVersion and kind?
    pub fn matches(&self, api_version: &str, kind: &str) -> bool {
        if !self.gvk.kind.is_empty() && self.gvk.kind != kind {
            return false;
        }
        let (group, version) = parse_group_version(api_version);
        (self.gvk.group.is_empty() || self.gvk.group == group)
            && (self.gvk.version.is_empty() || self.gvk.version == version)
    }
}

/// Merge one spec into a list, as kustomize's FsSlice.MergeOne does.
pub fn merge_one(list: &mut Vec<FieldSpec>, x: FieldSpec) -> Result<(), FieldSpecError> {
    if let Some(existing) = list.iter().find(|f| f.gvk == x.gvk && f.path == x.path) {
        if existing.create != x.create {
            return Err(FieldSpecError::Conflict { path: x.path });
        }
        return Ok(());
    }
    list.push(x);
    Ok(())
}

pub fn merge_all(list: &mut Vec<FieldSpec>, xs: &[FieldSpec]) -> Result<(), FieldSpecError> {
    for x in xs {
        merge_one(list, x.clone())?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum FieldSpecError {
    #[error("conflicting fieldspecs for path '{path}'")]
    Conflict { path: String },
}

/// What to create at the end of the path when `create` is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateKind {
    /// Never create.
    None,
    Scalar,
    Mapping,
}

/// Split a path on `/`, keeping `\/` as a literal slash.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in path.split('/') {
        match out.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('/');
                last.push_str(part);
            }
            _ => out.push(part.to_string()),
        }
    }
    out
}

/// Apply `set` to every node `spec` reaches in `obj` (an object of the given apiVersion and
/// kind). Errors name the path; the caller adds the object.
pub fn apply<F>(
    obj: &mut Map<String, Value>,
    spec: &FieldSpec,
    create: CreateKind,
    set: &mut F,
) -> Result<(), String>
where
    F: FnMut(&mut Value) -> Result<(), String>,
{
    let matched = spec.matches(
        crate::resource::str_at(obj, &["apiVersion"]),
        crate::resource::str_at(obj, &["kind"]),
    );
    if !matched {
        return Ok(());
    }
    apply_selected(obj, spec, create, set)
}

/// [`apply`] without matching the object's apiVersion and kind against the spec's: for callers
/// that selected the object by another id (its original one, in name references).
pub fn apply_selected<F>(
    obj: &mut Map<String, Value>,
    spec: &FieldSpec,
    create: CreateKind,
    set: &mut F,
) -> Result<(), String>
where
    F: FnMut(&mut Value) -> Result<(), String>,
{
    let create = if spec.create {
        create
    } else {
        CreateKind::None
    };
    handle_map(obj, &spec.parts, create, set)
}

fn walk<F>(node: &mut Value, path: &[String], create: CreateKind, set: &mut F) -> Result<(), String>
where
    F: FnMut(&mut Value) -> Result<(), String>,
{
    if path.is_empty() {
        return set(node);
    }
    match node {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for item in items {
                walk(item, path, create, set)?;
            }
            Ok(())
        }
        Value::Object(map) => handle_map(map, path, create, set),
        _ => Err("expected sequence or mapping node".to_string()),
    }
}

fn handle_map<F>(
    map: &mut Map<String, Value>,
    path: &[String],
    create: CreateKind,
    set: &mut F,
) -> Result<(), String>
where
    F: FnMut(&mut Value) -> Result<(), String>,
{
    let Some(first) = path.first() else {
        return Ok(());
    };
    let (field, is_seq) = match first.strip_suffix("[]") {
        Some(f) => (f, true),
        None => (first.as_str(), false),
    };
    if field.is_empty() {
        return Err("cannot set or create an empty field name".to_string());
    }
    // What a missing (or null) field becomes.
    let make: Option<fn() -> Value> = if create == CreateKind::None || is_seq {
        None
    } else if path.len() <= 1 {
        match create {
            CreateKind::Scalar => Some(|| Value::String(String::new())),
            _ => Some(|| Value::Object(Map::new())),
        }
    } else {
        Some(|| Value::Object(Map::new()))
    };
    if !map.contains_key(field) {
        match make {
            Some(m) => {
                map.insert(field.to_string(), m());
            }
            None => return Ok(()),
        }
    }
    let Some(value) = map.get_mut(field) else {
        return Ok(());
    };
    if value.is_null() {
        if is_seq {
            *value = Value::Array(Vec::new());
        } else if let Some(m) = make {
            *value = m();
        }
    }
    walk(value, &path[1..], create, set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escaped_slashes() {
        assert_eq!(
            split_path(r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret"),
            vec![
                "metadata",
                "annotations",
                "nginx.ingress.kubernetes.io/auth-secret"
            ]
        );
    }

    #[test]
    fn walks_sequences_and_creates() {
        let mut obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "spec": {"template": {"spec": {"containers": [{"image": "a"}, {"image": "b"}]}}}});
        let obj = obj.as_object_mut().expect("object");
        let spec = FieldSpec::new("spec/template/spec/containers[]/image", true);
        let mut seen = Vec::new();
        apply(obj, &spec, CreateKind::Scalar, &mut |v: &mut Value| {
            seen.push(v.clone());
            Ok(())
        })
        .expect("walk");
        assert_eq!(seen, vec![json!("a"), json!("b")]);
        let spec = FieldSpec::new("spec/selector/matchLabels", true);
        apply(obj, &spec, CreateKind::Mapping, &mut |v: &mut Value| {
            v.as_object_mut()
                .expect("map")
                .insert("x".into(), json!("y"));
            Ok(())
        })
        .expect("create");
        assert_eq!(obj["spec"]["selector"], json!({"matchLabels": {"x": "y"}}));
    }
}
