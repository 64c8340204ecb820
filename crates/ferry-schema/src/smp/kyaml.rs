//! Strategic merge patch as `kustomize build` applies it: kyaml's merge2 walker with
//! `ListIncreaseDirection: Prepend`, modelled on values instead of YAML nodes.
//!
//! Differences from apimachinery that this reproduces:
//! - associative lists: elements are ordered patch-first (patch order), then elements only in the
//!   original; a patch element with `$patch: replace` leaves the original element unchanged;
//! - only `$patch` is a directive: `$setElementOrder/...`, `$retainKeys` and
//!   `$deleteFromPrimitiveList/...` are kept as ordinary fields;
//! - lists are associative only when the schema gives a `merge` strategy (no inference for kinds
//!   without schema: their lists are replaced);
//! - a merged list element that ends up empty is removed;
//! - a patch with `$patch: delete` at the top deletes the object: the result is `null`.

use serde_json::{Map, Value};

use super::{DIRECTIVE, SmpError, type_name};
use crate::model::Schema;

/// Merges `patch` into `original` in place; `original` becomes `Value::Null` when the patch
/// deletes the whole object.
pub fn merge(
    original: &mut Value,
    patch: &Value,
    schema: Option<Schema<'_>>,
) -> Result<(), SmpError> {
    let dest = std::mem::take(original);
    let dest = if dest.is_null() { None } else { Some(dest) };
    *original = walk(dest, Some(patch.clone()), schema)?
        .map(|(v, _)| v)
        .unwrap_or(Value::Null);
    Ok(())
}

/// Which source a walk result was built on: the destination node (mutated in place in kyaml)
/// or the patch node.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Built {
    Dest,
    Origin,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum NodeKind {
    Map,
    Seq,
    Scalar,
}

fn kind(v: &Value) -> Option<NodeKind> {
    match v {
        Value::Null => None,
        Value::Object(_) => Some(NodeKind::Map),
        Value::Array(_) => Some(NodeKind::Seq),
        _ => Some(NodeKind::Scalar),
    }
}

fn kind_name(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Map => "MappingNode",
        NodeKind::Seq => "SequenceNode",
        NodeKind::Scalar => "ScalarNode",
    }
}

fn walk(
    dest: Option<Value>,
    src: Option<Value>,
    schema: Option<Schema<'_>>,
) -> Result<Option<(Value, Built)>, SmpError> {
    let Some(src) = src else {
        // Nothing to merge: the destination stays as it is (even an explicit null).
        return Ok(dest.map(|d| (d, Built::Dest)));
    };
    let src = Some(src);
    let k = dest
        .as_ref()
        .and_then(kind)
        .or_else(|| src.as_ref().and_then(kind));
    if let Some(k) = k {
        for v in [&dest, &src].into_iter().flatten() {
            if let Some(other) = kind(v)
                && other != k
            {
                return Err(SmpError::Kustomize(format!(
                    "wrong node kind: expected {} but got {}: node contents:\n{}",
                    kind_name(k),
                    kind_name(other),
                    short_yaml(v)
                )));
            }
        }
    }
    match k {
        Some(NodeKind::Seq) => walk_seq(dest, src, schema),
        Some(NodeKind::Scalar) => Ok(walk_scalar(dest, src)),
        Some(NodeKind::Map) | None => walk_map(dest, src, schema),
    }
}

fn walk_scalar(dest: Option<Value>, src: Option<Value>) -> Option<(Value, Built)> {
    // The patch value wins, `null` included (the caller clears null fields).
    match src {
        Some(s) => Some((s, Built::Origin)),
        None => dest.map(|d| (d, Built::Dest)),
    }
}

#[derive(PartialEq)]
enum Directive {
    None,
    Merge,
    Replace,
    Delete,
}

/// Reads and removes a `$patch` directive from a patch map.
fn take_directive(src: &mut Value) -> Result<Directive, SmpError> {
    let Value::Object(m) = src else {
        return Ok(Directive::None);
    };
    let Some(d) = m.get(DIRECTIVE) else {
        return Ok(Directive::None);
    };
    let directive = match d.as_str() {
        Some("delete") => Directive::Delete,
        Some("replace") => Directive::Replace,
        Some("merge") => Directive::Merge,
        _ => {
            return Err(SmpError::Kustomize(format!(
                "unknown patch strategy '{}'",
                scalar_string(d)
            )));
        }
    };
    m.remove(DIRECTIVE);
    Ok(directive)
}

fn walk_map(
    dest: Option<Value>,
    src: Option<Value>,
    schema: Option<Schema<'_>>,
) -> Result<Option<(Value, Built)>, SmpError> {
    let dest_missing = dest.as_ref().is_none_or(Value::is_null);
    let (node, built) = if dest_missing {
        let Some(mut origin) = src.clone() else {
            return Ok(None);
        };
        // An unknown directive is ignored when adding, as kyaml drops that error here.
        if take_directive(&mut origin).unwrap_or(Directive::None) == Directive::Delete {
            return Ok(None);
        }
        if origin.is_null() {
            return Ok(None);
        }
        (origin, Built::Origin)
    } else if src.as_ref().is_some_and(Value::is_null) {
        return Ok(None);
    } else {
        let mut origin = src.clone();
        let directive = match origin.as_mut() {
            Some(o) => take_directive(o)?,
            None => Directive::None,
        };
        match directive {
            Directive::Delete => return Ok(None),
            Directive::Replace => (origin.unwrap_or_default(), Built::Origin),
            _ => (dest.unwrap_or_default(), Built::Dest),
        }
    };
    // After VisitMap the walk continues over the fields of the chosen node and the patch.
    let mut src_map = match src {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    src_map.remove(DIRECTIVE);
    let Value::Object(mut out) = node else {
        return Ok(Some((node, built)));
    };
    let mut names: Vec<String> = out.keys().cloned().collect();
    for k in src_map.keys() {
        if !out.contains_key(k) {
            names.push(k.clone());
        }
    }
    for name in names {
        let field_schema = schema.and_then(|s| s.field(&name));
        let d = out.remove(&name);
        let s = src_map.get(&name).cloned();
        let s = if built == Built::Origin && s.is_none() {
            d.clone()
        } else {
            s
        };
        match walk(d, s, field_schema)? {
            Some((v, _))
                if !v.is_null() || !src_map.contains_key(&name) && built == Built::Dest =>
            {
                out.insert(name, v);
            }
            _ => {}
        }
    }
    Ok(Some((Value::Object(out), built)))
}

fn walk_seq(
    dest: Option<Value>,
    src: Option<Value>,
    schema: Option<Schema<'_>>,
) -> Result<Option<(Value, Built)>, SmpError> {
    let associative = schema.is_some_and(|s| s.has_patch_strategy("merge"));
    if !associative {
        return Ok(match src {
            Some(s) => Some((s, Built::Origin)),
            None => dest.map(|d| (d, Built::Dest)),
        });
    }
    let (dest_list, built) = match (&dest, &src) {
        (None | Some(Value::Null), None | Some(Value::Null)) => return Ok(None),
        (None | Some(Value::Null), Some(s)) => (s.clone(), Built::Origin),
        (Some(_), Some(Value::Null)) => return Ok(None),
        (Some(d), _) => (d.clone(), Built::Dest),
    };
    let Value::Array(dest_list) = dest_list else {
        return Ok(Some((dest_list, built)));
    };
    let src_list = match src {
        Some(Value::Array(s)) => s,
        _ => Vec::new(),
    };
    let item_schema = schema.and_then(|s| s.items());
    let keys: Vec<&str> = match schema {
        Some(s) if !s.node().list_map_keys.is_empty() => {
            s.node().list_map_keys.iter().map(|k| &**k).collect()
        }
        Some(s) => s.patch_merge_key().into_iter().collect(),
        None => Vec::new(),
    };
    let out = if keys.is_empty() {
        merge_primitive(dest_list, &src_list, item_schema)?
    } else {
        merge_associative(dest_list, &src_list, &keys, item_schema)?
    };
    Ok(Some((Value::Array(out), built)))
}

/// kyaml compares list keys by their YAML scalar text.
fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn key_tuple(elem: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            elem.get(*k)
                .filter(|v| !v.is_array() && !v.is_object())
                .map(scalar_string)
                .unwrap_or_default()
        })
        .collect()
}

/// kyaml's `validateKeys`: the keys whose value is known, or all keys when none is.
fn valid_keys<'k>(tuple: &[String], keys: &[&'k str]) -> (Vec<&'k str>, Vec<String>) {
    let (mut vk, mut vv) = (Vec::new(), Vec::new());
    for (k, v) in keys.iter().zip(tuple) {
        if !v.is_empty() {
            vk.push(*k);
            vv.push(v.clone());
        }
    }
    if vk.is_empty() {
        (keys.to_vec(), tuple.to_vec())
    } else {
        (vk, vv)
    }
}

/// `MatchField`: the field exists and its scalar text equals `value`.
fn matches_exact(elem: &Value, keys: &[&str], values: &[String]) -> bool {
    elem.is_object()
        && keys.iter().zip(values).all(|(k, v)| {
            elem.get(*k)
                .is_some_and(|f| !f.is_null() && scalar_string(f) == *v)
        })
}

/// `ElementSetter`'s matcher: an empty value only asks for the field to exist.
fn matches_setter(elem: &Value, keys: &[&str], values: &[String]) -> bool {
    keys.iter().zip(values).all(|(k, v)| match elem.get(*k) {
        Some(f) if !f.is_null() => v.is_empty() || scalar_string(f) == *v,
        _ => false,
    })
}

fn is_empty_map(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty())
}

/// kyaml's `ElementSetter` on a list of maps: drops null and empty elements, replaces every
/// match with `element` (removes them when `None`), appends when nothing matched.
fn element_setter(list: &mut Vec<Value>, element: Option<Value>, keys: &[&str], values: &[String]) {
    let mapping_setter = keys.first().is_some_and(|k| !k.is_empty())
        && values.first().is_some_and(|v| !v.is_empty());
    let mut found = false;
    let mut out = Vec::with_capacity(list.len() + 1);
    for elem in list.drain(..) {
        if elem.is_null() || is_empty_map(&elem) {
            continue;
        }
        if !elem.is_object() && mapping_setter {
            out.push(elem);
            continue;
        }
        if !matches_setter(&elem, keys, values) {
            out.push(elem);
            continue;
        }
        found = true;
        if let Some(e) = &element {
            out.push(e.clone());
        }
    }
    if let Some(e) = element
        && !found
    {
        out.push(e);
    }
    *list = out;
}

fn merge_associative(
    mut dest: Vec<Value>,
    src: &[Value],
    keys: &[&str],
    item_schema: Option<Schema<'_>>,
) -> Result<Vec<Value>, SmpError> {
    // Key tuples, patch elements first (prepend), each once.
    let mut tuples: Vec<Vec<String>> = Vec::new();
    for elem in src.iter().chain(dest.iter()) {
        if !elem.is_object() {
            continue;
        }
        let t = key_tuple(elem, keys);
        if !tuples.contains(&t) {
            tuples.push(t);
        }
    }
    let mut items: Vec<Value> = Vec::new();
    for t in &tuples {
        let (vk, vv) = valid_keys(t, keys);
        let di = dest.iter().position(|e| matches_exact(e, &vk, &vv));
        let s = src.iter().find(|e| matches_exact(e, &vk, &vv)).cloned();
        let d = di.map(|i| dest[i].clone());
        let merged = walk(d, s, item_schema)?;
        match merged {
            None => {
                element_setter(&mut dest, None, &vk, &vv);
                continue;
            }
            Some((v, _)) if v.is_null() || is_empty_map(&v) => {
                element_setter(&mut dest, None, &vk, &vv);
                continue;
            }
            Some((mut v, built)) => {
                if let Value::Object(m) = &mut v {
                    for (k, val) in vk.iter().zip(&vv) {
                        m.entry((*k).to_owned())
                            .or_insert_with(|| Value::String(val.clone()));
                    }
                }
                if built == Built::Dest
                    && let Some(i) = di
                {
                    // kyaml merged into the destination node itself.
                    dest[i] = v.clone();
                }
                element_setter(&mut items, Some(v), &vk, &vv);
            }
        }
    }
    // appendListNode(items, dest) once per tuple, as kyaml's loop does (prepend direction).
    let mut first = true;
    for t in &tuples {
        let (vk, _) = valid_keys(t, keys);
        let from: Vec<Value> = if first {
            std::mem::take(&mut dest)
        } else {
            items.clone()
        };
        first = false;
        if vk.len() > 1 {
            continue;
        }
        for elem in from {
            let Some(kv) = elem.get(vk[0]).filter(|v| !v.is_null()) else {
                items.push(elem);
                continue;
            };
            let value = scalar_string(kv);
            element_setter(&mut items, Some(elem), &vk, &[value]);
        }
    }
    Ok(items)
}

fn merge_primitive(
    dest: Vec<Value>,
    src: &[Value],
    item_schema: Option<Schema<'_>>,
) -> Result<Vec<Value>, SmpError> {
    let mut values: Vec<String> = Vec::new();
    for v in src.iter().chain(dest.iter()) {
        let s = scalar_string(v);
        if !values.contains(&s) {
            values.push(s);
        }
    }
    let mut dest = dest;
    let mut items: Vec<Value> = Vec::new();
    for value in &values {
        let d = dest
            .iter()
            .find(|e| !e.is_object() && scalar_string(e) == *value)
            .cloned();
        let s = src
            .iter()
            .find(|e| !e.is_object() && scalar_string(e) == *value)
            .cloned();
        match walk(d, s, item_schema)? {
            Some((v, _)) if !v.is_null() && !is_empty_map(&v) => set_scalar(&mut items, v, value),
            _ => dest.retain(|e| e.is_object() || scalar_string(e) != *value),
        }
    }
    for elem in dest {
        let value = scalar_string(&elem);
        set_scalar(&mut items, elem, &value);
    }
    Ok(items)
}

fn set_scalar(list: &mut Vec<Value>, element: Value, value: &str) {
    let mut found = false;
    for e in list.iter_mut() {
        if !e.is_object() && !e.is_array() && scalar_string(e) == value {
            *e = element.clone();
            found = true;
        }
    }
    if !found {
        list.push(element);
    }
}

fn short_yaml(v: &Value) -> String {
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}: {}", scalar_or_json(v)))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Array(a) => a
            .iter()
            .map(|v| format!("- {}", scalar_or_json(v)))
            .collect::<Vec<_>>()
            .join("\n"),
        other => format!("{} ({})", scalar_string(other), type_name(other)),
    }
}

fn scalar_or_json(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => v.to_string(),
        other => scalar_string(other),
    }
}
