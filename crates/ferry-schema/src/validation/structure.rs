//! The checks apiextensions runs on a custom resource besides OpenAPI value validation:
//! `x-kubernetes-list-type` set and map uniqueness (`listtype.ValidateListSetsAndMaps`) and
//! embedded resources (`objectmeta.Validate`: apiVersion and kind required, metadata valid).

use serde_json::{Map, Value, json};

use super::{
    compiled::Compiled,
    field::{BadValue, FieldError, FieldPath},
    meta,
    names::{self, NameRule},
};
use crate::model::{ListType, Schema};

const MAX_DEPTH: usize = 512;

/// Duplicate items of `set` and `map` lists, anywhere in `v`.
pub(crate) fn list_sets_and_maps(
    s: Schema<'_>,
    v: &Value,
    path: &FieldPath,
    out: &mut Vec<FieldError>,
    compiled: &Compiled,
    depth: usize,
) {
    if depth > MAX_DEPTH || !compiled.lists_below(s.id()) {
        return;
    }
    match v {
        Value::Array(items) => {
            match s.node().list_type {
                Some(ListType::Set) => list_set(path, items, out),
                Some(ListType::Map) => list_map(s, path, items, out),
                _ => {}
            }
            if let Some(item_schema) = s.items() {
                for (i, item) in items.iter().enumerate() {
                    list_sets_and_maps(item_schema, item, &path.index(i), out, compiled, depth + 1);
                }
            }
        }
        Value::Object(map) => {
            for (k, child) in map {
                if let Some(p) = s.property(k) {
                    list_sets_and_maps(p, child, &path.child(k), out, compiled, depth + 1);
                } else if let Some(ap) = s.additional_properties() {
                    list_sets_and_maps(ap, child, &path.key(k), out, compiled, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Reports the second occurrence of each repeated item (a third is not reported again).
fn list_set(path: &FieldPath, items: &[Value], out: &mut Vec<FieldError>) {
    for (i, item) in items.iter().enumerate() {
        let before = items[..i].iter().filter(|o| *o == item).count();
        if before == 1 {
            out.push(FieldError::duplicate(&path.index(i), BadValue::of(item)));
        }
    }
}

fn list_map(s: Schema<'_>, path: &FieldPath, items: &[Value], out: &mut Vec<FieldError>) {
    for (i, item) in items.iter().enumerate() {
        if !item.is_null() && !item.is_object() {
            out.push(FieldError::invalid(
                &path.index(i),
                BadValue::of(item),
                "must be an object for an array of list-type map",
            ));
            return;
        }
    }
    let keys = &s.node().list_map_keys;
    let item_schema = s.items();
    // The key of each item: key fields, with a missing field taking its default.
    let key_of = |item: &Value| -> Option<Map<String, Value>> {
        let obj = item.as_object()?;
        let mut k = Map::new();
        for name in keys.iter() {
            let v = obj.get(&**name).cloned().or_else(|| {
                item_schema
                    .and_then(|is| is.property(name))
                    .and_then(|p| p.node().default.clone())
            });
            if let Some(v) = v {
                k.insert(name.to_string(), v);
            }
        }
        Some(k)
    };
    let all: Vec<Option<Map<String, Value>>> = items.iter().map(key_of).collect();
    for (i, k) in all.iter().enumerate() {
        let Some(k) = k else {
            continue;
        };
        let before = all[..i].iter().filter(|o| o.as_ref() == Some(k)).count();
        if before == 1 {
            out.push(FieldError::duplicate(
                &path.index(i),
                BadValue::Json(Value::Object(k.clone())),
            ));
        }
    }
}

/// Embedded resources (`x-kubernetes-embedded-resource`) below the root: apiVersion and kind are
/// required and well-formed, metadata valid.
pub(crate) fn embedded_resources(
    s: Schema<'_>,
    v: &Value,
    path: &FieldPath,
    out: &mut Vec<FieldError>,
    compiled: &Compiled,
    depth: usize,
) {
    if depth > MAX_DEPTH || !compiled.embedded_below(s.id()) {
        return;
    }
    match v {
        Value::Object(map) => {
            if s.node().embedded_resource {
                embedded(map, path, out);
            }
            for (k, child) in map {
                if let Some(p) = s.property(k) {
                    embedded_resources(p, child, &path.child(k), out, compiled, depth + 1);
                } else if let Some(ap) = s.additional_properties() {
                    embedded_resources(ap, child, &path.key(k), out, compiled, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.items() {
                for (i, item) in items.iter().enumerate() {
                    embedded_resources(is, item, &path.index(i), out, compiled, depth + 1);
                }
            }
        }
        _ => {}
    }
}

fn embedded(map: &Map<String, Value>, path: &FieldPath, out: &mut Vec<FieldError>) {
    if !map.contains_key("apiVersion") {
        out.push(FieldError::required(
            &path.child("apiVersion"),
            "must not be empty",
        ));
    }
    if !map.contains_key("kind") {
        out.push(FieldError::required(
            &path.child("kind"),
            "must not be empty",
        ));
    }
    for (k, v) in map {
        match k.as_str() {
            "apiVersion" => match v.as_str() {
                None => out.push(FieldError::invalid(
                    &path.child(k),
                    BadValue::of(v),
                    "must be a string",
                )),
                Some("") => out.push(FieldError::invalid(&path.child(k), "", "must not be empty")),
                Some(av) if av.matches('/').count() > 1 => out.push(FieldError::invalid(
                    &path.child(k),
                    av,
                    format!("unexpected GroupVersion string: {av}"),
                )),
                Some(_) => {}
            },
            "kind" => match v.as_str() {
                None => out.push(FieldError::invalid(
                    &path.child(k),
                    BadValue::of(v),
                    "must be a string",
                )),
                Some("") => out.push(FieldError::invalid(&path.child(k), "", "must not be empty")),
                Some(kind) => {
                    let errs = names::dns1035_label(&kind.to_lowercase());
                    if !errs.is_empty() {
                        out.push(FieldError::invalid(
                            &path.child(k),
                            kind,
                            format!(
                                "may have mixed case, but should otherwise match: {}",
                                errs.join(",")
                            ),
                        ));
                    }
                }
            },
            "metadata" => {
                let Some(m) = v.as_object() else {
                    out.push(FieldError::invalid(
                        &path.child(k),
                        BadValue::of(v),
                        "metadata must be an object",
                    ));
                    continue;
                };
                let mut m = m.clone();
                // An embedded object need not be named: the server fills a placeholder to skip
                // the name check.
                if m.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
                {
                    m.insert("name".into(), json!("fakename"));
                }
                out.extend(meta::validate_object_meta(
                    Some(&Value::Object(m)),
                    NameRule::PathSegment,
                    &path.child("metadata"),
                ));
            }
            _ => {}
        }
    }
}
