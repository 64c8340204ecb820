//! Strategic merge patch.
//!
//! [`strategic_merge`] applies a patch the way the API server and `kubectl patch --type
//! strategic` do (k8s.io/apimachinery/pkg/util/strategicpatch, `MergeParallelList` and
//! `IgnoreUnmatchedNulls` on): merge keys and strategies from the schema, the directives `$patch`
//! (`delete`, `replace`, and `merge` where allowed), `$setElementOrder/<list>`, `$retainKeys`,
//! `$deleteFromPrimitiveList/<list>`, `null` deleting a field, lists without a merge strategy
//! replaced, primitive lists with one merged as sets, and apimachinery's element order.
//!
//! [`Flavor::Kustomize`] gives kustomize's result instead (kyaml's merge2 walker), which differs in
//! element order, empty values and directives: see [`kyaml`]. With it, `original` becomes `null`
//! when the patch deletes the whole object (`$patch: delete` at the top).

mod gofmt;
mod gosort;
pub mod kyaml;

use serde_json::{Map, Value};

use crate::model::Schema;

/// Whose semantics to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// The API server / `kubectl patch` (apimachinery strategicpatch).
    #[default]
    Apimachinery,
    /// `kustomize build` patches (kyaml merge2, list increase direction "prepend"): see [`kyaml`].
    Kustomize,
}

/// A patch that cannot be applied. Messages follow apimachinery's where it has one.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SmpError {
    #[error("unknown patch type: {directive} in map: {map}")]
    BadPatchType { directive: String, map: String },
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    #[error("map: {map} does not contain declared merge key: {key}")]
    NoMergeKey { map: String, key: String },
    #[error("cannot merge lists without merge key for {field}")]
    NoMergeKeyInSchema { field: String },
    #[error("invalid patch: the value of {directive} must be a list, got {value}")]
    NotAList { directive: String, value: String },
    #[error("The order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}")]
    OrderMismatch { patch: String, order: String },
    #[error("lists of different element types cannot be merged: {first} and {second}")]
    MixedTypes { first: String, second: String },
    #[error("patch must be a JSON object, got {got}")]
    NotAnObject { got: &'static str },
    #[error("{0}")]
    Kustomize(String),
}

pub(crate) const DIRECTIVE: &str = "$patch";
pub(crate) const RETAIN_KEYS: &str = "$retainKeys";
pub(crate) const SET_ORDER_PREFIX: &str = "$setElementOrder/";
pub(crate) const DELETE_PRIMITIVE_PREFIX: &str = "$deleteFromPrimitiveList/";

/// Applies `patch` to `original` in place. `schema` is the object's type (from
/// [`Registry`](crate::Registry)); with `None` every list is replaced and maps merge, which is
/// what the server would do if it allowed strategic merge on such a type (it answers 415 for
/// custom resources; callers use JSON merge patch there, see [`json_merge_patch`]).
pub fn strategic_merge(
    original: &mut Value,
    patch: &Value,
    schema: Option<Schema<'_>>,
    flavor: Flavor,
) -> Result<(), SmpError> {
    let Value::Object(patch_map) = patch else {
        return Err(SmpError::NotAnObject {
            got: type_name(patch),
        });
    };
    match flavor {
        Flavor::Kustomize => kyaml::merge(original, patch, schema),
        Flavor::Apimachinery => {
            if !original.is_object() {
                *original = Value::Object(Map::new());
            }
            let Value::Object(orig) = original else {
                unreachable!("set to an object above")
            };
            merge_map(orig, patch_map, schema)?;
            Ok(())
        }
    }
}

/// RFC 7386 JSON merge patch (what the server does for `application/merge-patch+json`).
pub fn json_merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else {
        unreachable!("set to an object above")
    };
    for (k, v) in patch {
        if v.is_null() {
            map.remove(k);
        } else {
            json_merge_patch(map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The patch metadata of a field: its schema, strategy and merge key.
#[derive(Clone, Copy)]
struct FieldMeta<'a> {
    schema: Option<Schema<'a>>,
    merge: bool,
    replace: bool,
    merge_key: Option<&'a str>,
}

fn field_meta<'a>(parent: Option<Schema<'a>>, field: &str) -> FieldMeta<'a> {
    let schema = parent.and_then(|s| s.field(field));
    FieldMeta {
        schema,
        merge: schema.is_some_and(|s| s.has_patch_strategy("merge")),
        replace: schema.is_some_and(|s| s.has_patch_strategy("replace")),
        merge_key: schema.and_then(|s| s.patch_merge_key()),
    }
}

fn merge_map(
    orig: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    schema: Option<Schema<'_>>,
) -> Result<(), SmpError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        match directive.as_str() {
            Some("replace") => {
                *orig = patch
                    .iter()
                    .filter(|(k, _)| *k != DIRECTIVE)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                return Ok(());
            }
            Some("delete") => {
                orig.clear();
                return Ok(());
            }
            _ => {
                return Err(SmpError::BadPatchType {
                    directive: gofmt::value(directive),
                    map: gofmt::map(patch),
                });
            }
        }
    }
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let Value::Array(keys) = retain else {
            return Err(SmpError::NotAList {
                directive: RETAIN_KEYS.into(),
                value: gofmt::value(retain),
            });
        };
        orig.retain(|k, _| keys.iter().any(|r| r.as_str() == Some(k)));
    }
    // `$setElementOrder/<list>` is processed together with its list; those lists are then done.
    let mut done: Vec<&str> = Vec::new();
    for (key, order) in patch {
        let Some(field) = key.strip_prefix(SET_ORDER_PREFIX) else {
            continue;
        };
        merge_with_order(orig, patch, field, order, schema)?;
        done.push(field);
    }
    for (key, patch_v) in patch {
        if key == RETAIN_KEYS || key.starts_with(SET_ORDER_PREFIX) || done.contains(&key.as_str()) {
            continue;
        }
        let (field, is_delete_list) = match key.strip_prefix(DELETE_PRIMITIVE_PREFIX) {
            Some(f) => (f, true),
            None => (key.as_str(), false),
        };
        if patch_v.is_null() {
            orig.remove(field);
            continue;
        }
        let Some(orig_v) = orig.get_mut(field) else {
            if !is_delete_list && let Some(v) = clean_new_value(patch_v) {
                orig.insert(field.to_owned(), v);
            }
            continue;
        };
        let meta = field_meta(schema, field);
        match (orig_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                if meta.replace {
                    *o = p.clone();
                } else {
                    merge_map(o, p, meta.schema)?;
                }
            }
            (Value::Array(o), Value::Array(p)) => {
                let merged = merge_list_handler(std::mem::take(o), p, meta, is_delete_list, field)?;
                *o = merged;
            }
            (orig_v, patch_v) => {
                if !is_delete_list {
                    *orig_v = patch_v.clone();
                }
            }
        }
    }
    Ok(())
}

/// A value the original lacks is taken from the patch, minus what apimachinery drops there:
/// `null` map entries, and any map that carries a `$patch` directive.
fn clean_new_value(v: &Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE) {
                return None;
            }
            Some(Value::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .filter_map(|(k, v)| clean_new_value(v).map(|v| (k.clone(), v)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(
            items.iter().filter_map(clean_new_value_in_list).collect(),
        )),
        other => Some(other.clone()),
    }
}

fn clean_new_value_in_list(v: &Value) -> Option<Value> {
    match v {
        Value::Null => Some(Value::Null),
        other => clean_new_value(other),
    }
}

fn merge_list_handler(
    orig: Vec<Value>,
    patch: &[Value],
    meta: FieldMeta<'_>,
    is_delete_list: bool,
    field: &str,
) -> Result<Vec<Value>, SmpError> {
    if meta.merge {
        merge_list(orig, patch, meta, is_delete_list, field)
    } else {
        Ok(patch.to_vec())
    }
}

fn merge_list(
    mut orig: Vec<Value>,
    patch: &[Value],
    meta: FieldMeta<'_>,
    is_delete_list: bool,
    field: &str,
) -> Result<Vec<Value>, SmpError> {
    if orig.is_empty() && patch.is_empty() {
        return Ok(orig);
    }
    let elements_are_maps = element_kind(&orig, patch)? == Kind::Map;
    let merge_key = meta.merge_key;
    if !elements_are_maps {
        if is_delete_list {
            orig.retain(|v| !patch.contains(v));
            return Ok(orig);
        }
        let mut both = orig.clone();
        both.extend(patch.iter().cloned());
        let (patch_items, server_only) = partition(dedup(both), patch, merge_key);
        return normalize_order(patch_items, server_only, patch, &orig, merge_key);
    }
    let Some(key) = merge_key else {
        return Err(SmpError::NoMergeKeyInSchema {
            field: field.to_owned(),
        });
    };
    // As in apimachinery, the special elements rewrite both the original (deletions) and the
    // patch (ordinary elements; none after `$patch: replace`) before merging and ordering.
    let (orig, plain) = match merge_special_elements(orig, patch, key)? {
        (replaced, None) => (replaced, Vec::new()),
        (orig, Some(plain)) => (orig, plain),
    };
    let merged = merge_without_special(
        orig.clone(),
        &plain,
        key,
        meta.schema.and_then(|s| s.items()),
    )?;
    let (patch_items, server_only) = partition(merged, &plain, merge_key);
    normalize_order(patch_items, server_only, &plain, &orig, merge_key)
}

#[derive(PartialEq, Clone, Copy, Debug)]
enum Kind {
    Map,
    Other(&'static str),
}

fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Object(_) => Kind::Map,
        other => Kind::Other(type_name(other)),
    }
}

/// apimachinery's `sliceElementType`: every element of both lists must have the same type
/// (nulls are skipped).
fn element_kind(orig: &[Value], patch: &[Value]) -> Result<Kind, SmpError> {
    let mut found: Option<Kind> = None;
    for v in orig.iter().chain(patch) {
        if v.is_null() {
            continue;
        }
        let k = kind_of(v);
        match found {
            None => found = Some(k),
            Some(f) if f != k => {
                return Err(SmpError::MixedTypes {
                    first: kind_name(f).into(),
                    second: kind_name(k).into(),
                });
            }
            _ => {}
        }
    }
    Ok(found.unwrap_or(Kind::Other("null")))
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Map => "object",
        Kind::Other(n) => n,
    }
}

fn dedup(values: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(values.len());
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Handles `$patch` elements of a patch list: `delete` removes matching originals, `replace`
/// makes the ordinary elements the whole list (returned as base, with `None` for the rest).
fn merge_special_elements(
    mut orig: Vec<Value>,
    patch: &[Value],
    key: &str,
) -> Result<(Vec<Value>, Option<Vec<Value>>), SmpError> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for v in patch {
        let Some(m) = v.as_object() else {
            plain.push(v.clone());
            continue;
        };
        match m.get(DIRECTIVE) {
            None => plain.push(v.clone()),
            Some(d) => match d.as_str() {
                Some("delete") => {
                    let Some(kv) = m.get(key) else {
                        return Err(SmpError::NoMergeKey {
                            map: gofmt::map(m),
                            key: key.to_owned(),
                        });
                    };
                    orig.retain(|o| o.get(key) != Some(kv));
                }
                Some("replace") => replace = true,
                Some("merge") => return Err(SmpError::MergeDirectiveInList),
                _ => {
                    return Err(SmpError::BadPatchType {
                        directive: gofmt::value(d),
                        map: gofmt::map(m),
                    });
                }
            },
        }
    }
    if replace {
        Ok((plain, None))
    } else {
        Ok((orig, Some(plain)))
    }
}

fn merge_without_special(
    mut orig: Vec<Value>,
    patch: &[Value],
    key: &str,
    item_schema: Option<Schema<'_>>,
) -> Result<Vec<Value>, SmpError> {
    for v in patch {
        let Some(pm) = v.as_object() else { continue };
        let Some(kv) = pm.get(key) else {
            return Err(SmpError::NoMergeKey {
                map: gofmt::map(pm),
                key: key.to_owned(),
            });
        };
        match orig.iter_mut().find(|o| o.get(key) == Some(kv)) {
            Some(Value::Object(om)) => merge_map(om, pm, item_schema)?,
            Some(other) => *other = v.clone(),
            None => orig.push(v.clone()),
        }
    }
    Ok(orig)
}

/// Splits `merged` into items present in `reference` (by merge key, or by value for primitives)
/// and the others, each keeping merged order.
fn partition(
    merged: Vec<Value>,
    reference: &[Value],
    key: Option<&str>,
) -> (Vec<Value>, Vec<Value>) {
    merged
        .into_iter()
        .partition(|item| index_of(reference, item, key).is_some())
}

fn index_of(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    match key {
        Some(k) => {
            let want = item.get(k);
            list.iter()
                .position(|l| l.as_object().is_some() && l.get(k) == want)
        }
        None => list.iter().position(|l| l == item),
    }
}

/// apimachinery's `normalizeElementOrder`: patch items sorted by `patch_order`, server-only items
/// by `server_order`, then merged so both relative orders hold.
fn normalize_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, SmpError> {
    let patch_items = normalize_slice_order(patch_items, patch_order, key)?;
    let server_only = normalize_slice_order(server_only, server_order, key)?;
    Ok(merge_sorted(server_only, patch_items, server_order, key))
}

fn normalize_slice_order(
    mut items: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, SmpError> {
    let mut to_delete = Vec::new();
    if let Some(k) = key {
        for v in items.iter().chain(order) {
            if let Some(m) = v.as_object()
                && !m.contains_key(k)
            {
                return Err(SmpError::NoMergeKey {
                    map: gofmt::map(m),
                    key: k.to_owned(),
                });
            }
        }
        let (keep, delete): (Vec<Value>, Vec<Value>) = items
            .into_iter()
            .partition(|v| v.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"));
        items = keep;
        to_delete = delete;
    }
    gosort::slice_stable(&mut items, |a, b| {
        match (index_of(order, a, key), index_of(order, b, key)) {
            (Some(i), Some(j)) => i < j,
            _ => true,
        }
    });
    items.extend(to_delete);
    Ok(items)
}

fn merge_sorted(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => out.extend(left.by_ref()),
            (None, Some(_)) => out.extend(right.by_ref()),
            (Some(l), Some(r)) => {
                let take_left = match (
                    index_of(server_order, l, key),
                    index_of(server_order, r, key),
                ) {
                    (Some(i), Some(j)) => i < j,
                    _ => false,
                };
                let next = if take_left { left.next() } else { right.next() };
                out.extend(next);
            }
        }
    }
    out
}

fn merge_with_order(
    orig: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    field: &str,
    order: &Value,
    schema: Option<Schema<'_>>,
) -> Result<(), SmpError> {
    let Value::Array(order) = order else {
        return Err(SmpError::NotAList {
            directive: format!("{SET_ORDER_PREFIX}{field}"),
            value: gofmt::value(order),
        });
    };
    let orig_list = match orig.get(field) {
        Some(Value::Array(a)) => Some(a.clone()),
        Some(other) => {
            return Err(SmpError::NotAList {
                directive: field.to_owned(),
                value: gofmt::value(other),
            });
        }
        None => None,
    };
    let patch_list = match patch.get(field) {
        Some(Value::Array(a)) => Some(a.as_slice()),
        Some(other) => {
            return Err(SmpError::NotAList {
                directive: field.to_owned(),
                value: gofmt::value(other),
            });
        }
        None => None,
    };
    let meta = field_meta(schema, field);
    validate_order(patch_list.unwrap_or(&[]), order, meta.merge_key)?;
    let merged = match (orig_list.clone(), patch_list) {
        (Some(o), None) => o,
        (None, Some(p)) => match clean_new_value(&Value::Array(p.to_vec())) {
            Some(Value::Array(v)) => v,
            _ => Vec::new(),
        },
        (Some(o), Some(p)) => merge_list_handler(o, p, meta, false, field)?,
        (None, None) => return Ok(()),
    };
    let orig_list = orig_list.unwrap_or_default();
    let (patch_items, server_only) = partition(merged, order, meta.merge_key);
    // Element type check as apimachinery does before ordering.
    element_kind(&orig_list, patch_list.unwrap_or(&[]))?;
    let both = normalize_order(patch_items, server_only, order, &orig_list, meta.merge_key)?;
    orig.insert(field.to_owned(), Value::Array(both));
    Ok(())
}

/// Every non-delete patch element must appear in the order list, in the same relative order.
fn validate_order(patch: &[Value], order: &[Value], key: Option<&str>) -> Result<(), SmpError> {
    let mut next = 0;
    for item in patch {
        if item.get(DIRECTIVE).is_some() {
            continue;
        }
        let found = order[next..].iter().position(|o| match key {
            Some(k) => o.get(k).is_some() && o.get(k) == item.get(k),
            None => o == item,
        });
        match found {
            Some(i) => next += i + 1,
            None => {
                return Err(SmpError::OrderMismatch {
                    patch: gofmt::list(patch),
                    order: gofmt::list(order),
                });
            }
        }
    }
    Ok(())
}
