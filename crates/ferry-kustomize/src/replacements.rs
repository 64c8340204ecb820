//! `replacements:`: copy a field of one resource into fields of others (kustomize's
//! ReplacementTransformer). Field paths are dot-separated; `[name=value]` selects sequence
//! elements (by regular expression), `[a.b]` is a key containing dots, a number indexes a
//! sequence, `*` is every element.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::kustfile::{self, ReplacementField, de_str};
use crate::resid::{Gvk, ResId};
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::selector::LabelSelector;
use crate::target::Target;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldOptions {
    #[serde(default, deserialize_with = "de_str")]
    pub delimiter: String,
    #[serde(default)]
    pub index: i64,
    /// Accepted for compatibility; kustomize does not use it for replacements either.
    #[serde(default, deserialize_with = "de_str")]
    #[allow(dead_code)]
    pub encoding: String,
    #[serde(default)]
    pub create: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SourceSelector {
    #[serde(default, deserialize_with = "de_str")]
    pub group: String,
    #[serde(default, deserialize_with = "de_str")]
    pub version: String,
    #[serde(default, deserialize_with = "de_str")]
    pub kind: String,
    #[serde(default, deserialize_with = "de_str")]
    pub name: String,
    #[serde(default, deserialize_with = "de_str")]
    pub namespace: String,
    #[serde(default, deserialize_with = "de_str")]
    pub field_path: String,
    #[serde(default)]
    pub options: Option<FieldOptions>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetSelector {
    #[serde(default)]
    pub select: Option<kustfile::Selector>,
    #[serde(default)]
    pub reject: Vec<kustfile::Selector>,
    #[serde(default, deserialize_with = "kustfile::de_str_vec")]
    pub field_paths: Vec<String>,
    #[serde(default)]
    pub options: Option<FieldOptions>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Replacement {
    #[serde(default)]
    pub source: Option<SourceSelector>,
    #[serde(default)]
    pub targets: Vec<TargetSelector>,
}

/// Read the `replacements:` entries: inline ones and files (one replacement or a list).
pub fn load(t: &Target, fields: &[ReplacementField]) -> Result<Vec<Replacement>, Error> {
    let mut out = Vec::new();
    for f in fields {
        if !f.path.is_empty() {
            let bytes = t.ldr.load(&f.path)?;
            let text = String::from_utf8_lossy(&bytes);
            let docs = ferry_yaml::from_str_multi_with(&text, &ferry_yaml::Options::YAML11)
                .map_err(|e| Error::msg(format!("{}: {e}", f.path)))?;
            for d in docs {
                out.extend(parse_value(d)?);
            }
        } else {
            let mut m = Map::new();
            if let Some(s) = &f.source {
                m.insert("source".into(), s.clone());
            }
            if let Some(ts) = &f.targets {
                m.insert("targets".into(), ts.clone());
            }
            out.extend(parse_value(Value::Object(m))?);
        }
    }
    Ok(out)
}

pub fn parse_value(v: Value) -> Result<Vec<Replacement>, Error> {
    let list = match v {
        Value::Array(a) => a,
        other => vec![other],
    };
    list.into_iter()
        .map(|x| {
            serde_json::from_value::<Replacement>(x)
                .map_err(|e| Error::msg(format!("invalid replacement: {e}")))
        })
        .collect()
}

/// Split a field path on dots, keeping bracketed parts together (`[a.b]` loses its brackets
/// unless it is a `[name=value]` selector).
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|p| {
            if p.starts_with('[') && p.ends_with(']') && !p.contains('=') {
                p[1..p.len() - 1].to_string()
            } else {
                p
            }
        })
        .collect()
}

fn list_selector(part: &str) -> Option<(String, String)> {
    let inner = part.strip_prefix('[')?.strip_suffix(']')?;
    let (k, v) = inner.split_once('=')?;
    Some((k.to_string(), v.to_string()))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// kyaml's Lookup: one node at the path (exact `[k=v]` matches).
fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let Some(first) = path.first() else {
        return Some(v);
    };
    if let Some((k, want)) = list_selector(first) {
        let Value::Array(items) = v else { return None };
        let found = items.iter().find(|item| {
            if k.is_empty() {
                scalar_text(item) == want
            } else {
                item.get(&k).is_some_and(|x| scalar_text(x) == want)
            }
        })?;
        return lookup(found, &path[1..]);
    }
    match v {
        Value::Object(m) => lookup(m.get(first)?, &path[1..]),
        Value::Array(items) => {
            let i: usize = first.parse().ok()?;
            lookup(items.get(i)?, &path[1..])
        }
        _ => None,
    }
}

/// What a created field is made of.
#[derive(Clone, Copy)]
enum Create {
    No,
    Scalar,
    Map,
    Seq,
}

fn kind_of(v: &Value) -> Create {
    match v {
        Value::Object(_) => Create::Map,
        Value::Array(_) => Create::Seq,
        _ => Create::Scalar,
    }
}

fn empty_of(c: Create) -> Value {
    match c {
        Create::Map => Value::Object(Map::new()),
        Create::Seq => Value::Array(Vec::new()),
        _ => Value::Null,
    }
}

/// kyaml's PathMatcher: every node the path reaches (creating missing fields if asked).
/// Created scalars are marked by the `created` flag list so their type can follow the text.
fn matches<'a>(
    v: &'a mut Value,
    path: &[String],
    create: Create,
    out: &mut Vec<(&'a mut Value, bool)>,
) -> Result<(), Error> {
    let Some(first) = path.first() else {
        out.push((v, false));
        return Ok(());
    };
    let rest = &path[1..];
    if let Some((k, pattern)) = list_selector(first) {
        let Value::Array(items) = v else {
            return Ok(());
        };
        let re = regex::Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| Error::msg(format!("invalid field path element {first}: {e}")))?;
        for item in items.iter_mut() {
            let hit = if k.is_empty() {
                !item.is_object() && !item.is_array() && re.is_match(&scalar_text(item))
            } else {
                item.get(&k).is_some_and(|x| {
                    !x.is_object() && !x.is_array() && re.is_match(&scalar_text(x))
                })
            };
            if hit {
                matches(item, rest, create, out)?;
            }
        }
        return Ok(());
    }
    if first == "*" {
        match v {
            Value::Array(items) => {
                for item in items.iter_mut() {
                    matches(item, rest, create, out)?;
                }
            }
            Value::Object(m) => {
                for item in m.values_mut() {
                    matches(item, rest, create, out)?;
                }
            }
            _ => {}
        }
        return Ok(());
    }
    if let Ok(i) = first.parse::<usize>()
        && let Value::Array(items) = v
    {
        if items.len() == i && !matches!(create, Create::No) {
            items.push(if rest.is_empty() {
                empty_of(create)
            } else {
                Value::Object(Map::new())
            });
        }
        if let Some(item) = items.get_mut(i) {
            matches(item, rest, create, out)?;
        }
        return Ok(());
    }
    let Value::Object(m) = v else { return Ok(()) };
    let mut created = false;
    if !m.contains_key(first.as_str()) {
        if matches!(create, Create::No) {
            return Ok(());
        }
        let fresh = if rest.is_empty() {
            created = matches!(create, Create::Scalar);
            empty_of(create)
        } else if rest.first().is_some_and(|r| list_selector(r).is_some()) {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        };
        m.insert(first.clone(), fresh);
    }
    let Some(child) = m.get_mut(first.as_str()) else {
        return Ok(());
    };
    if rest.is_empty() {
        out.push((child, created));
        Ok(())
    } else {
        matches(child, rest, create, out)
    }
}

fn ids_of(r: &Resource) -> Vec<ResId> {
    let mut ids = vec![r.cur_id()];
    ids.extend(r.prev_ids.iter().cloned());
    ids
}

/// An id selector whose fields are anchored regular expressions (kustomize HEAD lets
/// replacement selectors say `kind: Deployment|.*Set`); empty fields match anything.
struct IdSelector {
    group: Option<regex::Regex>,
    version: Option<regex::Regex>,
    kind: Option<regex::Regex>,
    name: Option<regex::Regex>,
    namespace: Option<regex::Regex>,
}

fn anchored(s: &str) -> Result<Option<regex::Regex>, Error> {
    if s.is_empty() {
        return Ok(None);
    }
    regex::Regex::new(&format!("^(?:{s})$"))
        .map(Some)
        .map_err(|e| Error::msg(format!("invalid selector '{s}': {e}")))
}

impl IdSelector {
    fn new(
        group: &str,
        version: &str,
        kind: &str,
        name: &str,
        namespace: &str,
    ) -> Result<IdSelector, Error> {
        Ok(IdSelector {
            group: anchored(group)?,
            version: anchored(version)?,
            kind: anchored(kind)?,
            name: anchored(name)?,
            namespace: anchored(namespace)?,
        })
    }

    fn of(s: &kustfile::Selector) -> Result<IdSelector, Error> {
        IdSelector::new(&s.group, &s.version, &s.kind, &s.name, &s.namespace)
    }

    fn is_empty(&self) -> bool {
        self.group.is_none()
            && self.version.is_none()
            && self.kind.is_none()
            && self.name.is_none()
            && self.namespace.is_none()
    }

    fn picks(&self, id: &ResId) -> bool {
        let m = |r: &Option<regex::Regex>, v: &str| r.as_ref().is_none_or(|r| r.is_match(v));
        m(&self.group, &id.gvk.group)
            && m(&self.version, &id.gvk.version)
            && m(&self.kind, &id.gvk.kind)
            && m(&self.name, &id.name)
            && self
                .namespace
                .as_ref()
                .is_none_or(|r| r.is_match(&id.namespace) || r.is_match(id.effective_namespace()))
    }
}

fn labels_match(r: &Resource, s: &kustfile::Selector) -> Result<bool, Error> {
    if !s.label_selector.is_empty()
        && !LabelSelector::parse(&s.label_selector)?.matches(&r.labels())
    {
        return Ok(false);
    }
    if !s.annotation_selector.is_empty()
        && !LabelSelector::parse(&s.annotation_selector)?.matches(&r.annotations())
    {
        return Ok(false);
    }
    Ok(true)
}

fn source_display(s: &SourceSelector) -> String {
    let id = ResId::new(
        Gvk::new(&s.group, &s.version, &s.kind),
        &s.name,
        &s.namespace,
    );
    format!("{id}")
}

fn get_value(m: &ResMap, source: &SourceSelector) -> Result<Value, Error> {
    let sel = IdSelector::new(
        &source.group,
        &source.version,
        &source.kind,
        &source.name,
        &source.namespace,
    )?;
    let mut found: Option<&Resource> = None;
    for r in &m.list {
        if ids_of(r).iter().any(|id| sel.picks(id)) {
            if found.is_some() {
                return Err(Error::msg(format!(
                    "multiple matches for selector {}",
                    source_display(source)
                )));
            }
            found = Some(r);
        }
    }
    let Some(r) = found else {
        return Err(Error::msg(format!(
            "nothing selected by {}",
            source_display(source)
        )));
    };
    let field_path = if source.field_path.is_empty() {
        "metadata.name"
    } else {
        &source.field_path
    };
    let doc = Value::Object(r.obj.clone());
    let v = lookup(&doc, &split_path(field_path)).cloned();
    let v = match v {
        Some(v) if !is_nil_or_empty(&v) => v,
        _ => {
            return Err(Error::msg(format!(
                "fieldPath `{field_path}` is missing for replacement source {}",
                source_display(source)
            )));
        }
    };
    match &source.options {
        Some(o) if !o.delimiter.is_empty() => {
            if v.is_object() || v.is_array() {
                return Err(Error::msg(
                    "delimiter option can only be used with scalar nodes",
                ));
            }
            let text = scalar_text(&v);
            let parts: Vec<&str> = text.split(o.delimiter.as_str()).collect();
            let idx = usize::try_from(o.index).ok().filter(|&i| i < parts.len());
            match idx {
                Some(i) => Ok(Value::String(parts[i].to_string())),
                None => Err(Error::msg(format!(
                    "options.index {} is out of bounds for value {text}",
                    o.index
                ))),
            }
        }
        _ => Ok(v),
    }
}

fn is_nil_or_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Put `value` into a target field: a scalar target keeps its type (kyaml copies only the
/// text), anything else is replaced by the value.
fn set_field(
    options: Option<&FieldOptions>,
    target: &mut Value,
    created: bool,
    value: &Value,
) -> Result<(), Error> {
    let mut value = value.clone();
    if let Some(o) = options
        && !o.delimiter.is_empty()
    {
        if target.is_object() || target.is_array() {
            return Err(Error::msg(
                "delimiter option can only be used with scalar nodes",
            ));
        }
        let current = scalar_text(target);
        let mut parts: Vec<String> = current
            .split(o.delimiter.as_str())
            .map(str::to_string)
            .collect();
        let v = scalar_text(&value);
        if o.index < 0 {
            parts.insert(0, v);
        } else if let Some(slot) = usize::try_from(o.index).ok().and_then(|i| parts.get_mut(i)) {
            *slot = v;
        } else {
            parts.push(v);
        }
        value = Value::String(parts.join(&o.delimiter));
    }
    match target {
        Value::Object(_) | Value::Array(_) => {
            *target = value;
        }
        _ if value.is_object() || value.is_array() => {
            *target = value;
        }
        _ => {
            let text = scalar_text(&value);
            *target = if created || target.is_null() {
                typed_like_plain(&text)
            } else {
                retype(target, &text)?
            };
        }
    }
    Ok(())
}

fn typed_like_plain(text: &str) -> Value {
    ferry_yaml::from_str(text)
        .ok()
        .filter(|v| !v.is_object() && !v.is_array())
        .unwrap_or_else(|| Value::String(text.to_string()))
}

fn retype(target: &Value, text: &str) -> Result<Value, Error> {
    match target {
        Value::String(_) => Ok(Value::String(text.to_string())),
        Value::Number(_) => match typed_like_plain(text) {
            v @ Value::Number(_) => Ok(v),
            _ => Err(Error::msg(format!(
                "cannot decode !!str `{text}` as a !!int"
            ))),
        },
        Value::Bool(_) => match typed_like_plain(text) {
            v @ Value::Bool(_) => Ok(v),
            _ => Err(Error::msg(format!(
                "cannot decode !!str `{text}` as a !!bool"
            ))),
        },
        _ => Ok(typed_like_plain(text)),
    }
}

pub fn apply(m: &mut ResMap, list: &[Replacement]) -> Result<(), Error> {
    for r in list {
        let (Some(source), false) = (&r.source, r.targets.is_empty()) else {
            return Err(Error::msg(
                "replacements must specify a source and at least one target",
            ));
        };
        let value = get_value(m, source)?;
        for t in &r.targets {
            let Some(select) = &t.select else {
                return Err(Error::msg("target must specify resources to select"));
            };
            let select_ids = IdSelector::of(select)?;
            let reject_ids = t
                .reject
                .iter()
                .map(IdSelector::of)
                .collect::<Result<Vec<_>, _>>()?;
            let field_paths: Vec<String> = if t.field_paths.is_empty() {
                vec!["metadata.name".to_string()]
            } else {
                t.field_paths.clone()
            };
            for res in &mut m.list {
                if !labels_match(res, select)? {
                    continue;
                }
                let mut rejected = false;
                for rej in &t.reject {
                    if (rej.label_selector.is_empty() && rej.annotation_selector.is_empty())
                        || !labels_match(res, rej)?
                    {
                        continue;
                    }
                    rejected = true;
                }
                if rejected {
                    continue;
                }
                let ids = ids_of(res);
                // Selected by any of its ids, and rejected if any of its ids is rejected.
                let hit = ids.iter().any(|id| select_ids.picks(id))
                    && !ids.iter().any(|id| {
                        reject_ids
                            .iter()
                            .any(|rej| !rej.is_empty() && rej.picks(id))
                    });
                if !hit {
                    continue;
                }
                let create = if t.options.as_ref().is_some_and(|o| o.create) {
                    kind_of(&value)
                } else {
                    Create::No
                };
                for fp in &field_paths {
                    let mut doc = Value::Object(std::mem::take(&mut res.obj));
                    let result = (|| {
                        let mut found = Vec::new();
                        matches(&mut doc, &split_path(fp), create, &mut found)?;
                        if found.is_empty() {
                            return Err(Error::msg(if matches!(create, Create::No) {
                                format!("unable to find field \"{fp}\" in replacement target")
                            } else {
                                format!(
                                    "unable to find or create field \"{fp}\" in replacement target"
                                )
                            }));
                        }
                        for (slot, created) in found {
                            set_field(t.options.as_ref(), slot, created, &value)?;
                        }
                        Ok(())
                    })();
                    if let Value::Object(o) = doc {
                        res.obj = o;
                    }
                    result?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            split_path("spec.template.spec.containers.[name=nginx].image"),
            vec![
                "spec",
                "template",
                "spec",
                "containers",
                "[name=nginx]",
                "image"
            ]
        );
        assert_eq!(
            split_path("metadata.annotations.[config.kubernetes.io/x]"),
            vec!["metadata", "annotations", "config.kubernetes.io/x"]
        );
    }
}
