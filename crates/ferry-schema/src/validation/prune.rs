//! Which fields a schema keeps, and dropping the others.
//!
//! Two semantics, as the real server has two decoders:
//! - typed (built-in kinds, decoded into Go structs): a field a struct does not declare is
//!   unknown; maps (`additionalProperties`) take any key; schemas without properties or type
//!   (RawExtension, `JSON`, FieldsV1) take anything.
//! - structural (custom resources, apiextensions' pruning): an object keeps only declared
//!   properties unless it has `x-kubernetes-preserve-unknown-fields`; `apiVersion`, `kind` and
//!   `metadata` of the resource and of embedded resources (`x-kubernetes-embedded-resource`)
//!   are kept, and `metadata` is pruned as `ObjectMeta`. Unknown fields of the root's metadata
//!   are reported; those of embedded metadata are dropped silently, as the server's coercion
//!   does.

use serde_json::Value;

use crate::{
    model::{AdditionalProperties, JsonType, Schema},
    registry::{SchemaSource, TypeSchema},
};

/// How unknown fields are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Typed,
    Structural,
}

impl Mode {
    pub(crate) fn of(ts: &TypeSchema) -> Mode {
        match ts.source() {
            SchemaSource::Crd => Mode::Structural,
            SchemaSource::Builtin | SchemaSource::Custom => Mode::Typed,
        }
    }
}

/// What a schema says about one key of an object value.
pub(crate) enum Child<'a> {
    /// A declared field (or map entry): walk it with this schema and mode; `silent` means
    /// fields pruned below it are not reported.
    Known {
        schema: Schema<'a>,
        mode: Mode,
        silent: bool,
    },
    /// Kept as is, nothing below is checked.
    Any,
    /// Not declared: dropped (and reported).
    Unknown,
}

/// Whether a typed (Go struct) schema node accepts any content: no properties, no map values,
/// and not a scalar.
pub(crate) fn typed_is_any(node: Schema<'_>) -> bool {
    let n = node.node();
    n.properties.is_empty()
        && !matches!(n.additional_properties, AdditionalProperties::Schema(_))
        && matches!(n.ty, None | Some(JsonType::Object))
        && n.items.is_none()
}

/// The schema of `key` inside an object value described by `node`.
pub(crate) fn child<'a>(
    node: Schema<'a>,
    key: &str,
    mode: Mode,
    object_meta: Option<Schema<'a>>,
) -> Child<'a> {
    let n = node.node();
    match mode {
        Mode::Typed => {
            if let Some(s) = node.property(key) {
                return Child::Known {
                    schema: s,
                    mode,
                    silent: false,
                };
            }
            match n.additional_properties {
                AdditionalProperties::Schema(_) => Child::Known {
                    schema: node.additional_properties().unwrap_or(node),
                    mode,
                    silent: false,
                },
                AdditionalProperties::Bool(true) => Child::Any,
                _ if typed_is_any(node) => Child::Any,
                // A value of the wrong type (an object where a string is declared) is a type
                // error, reported as such: do not also call its keys unknown.
                _ if n.properties.is_empty() => Child::Any,
                _ => Child::Unknown,
            }
        }
        Mode::Structural => {
            if n.embedded_resource {
                match key {
                    "apiVersion" | "kind" => return Child::Any,
                    "metadata" => {
                        return match object_meta {
                            Some(meta) => Child::Known {
                                schema: meta,
                                mode: Mode::Typed,
                                silent: true,
                            },
                            None => Child::Any,
                        };
                    }
                    _ => {}
                }
            }
            if let Some(s) = node.property(key) {
                // The resource root's metadata is ObjectMeta (the registry put it there); its
                // unknown fields are reported.
                let typed_meta = object_meta.is_some_and(|m| m.id() == s.id());
                return Child::Known {
                    schema: s,
                    mode: if typed_meta {
                        Mode::Typed
                    } else {
                        Mode::Structural
                    },
                    silent: false,
                };
            }
            match n.additional_properties {
                AdditionalProperties::Schema(_) => Child::Known {
                    schema: node.additional_properties().unwrap_or(node),
                    mode,
                    silent: false,
                },
                AdditionalProperties::Bool(true) => Child::Any,
                _ if n.preserve_unknown_fields => Child::Any,
                _ => Child::Unknown,
            }
        }
    }
}

/// The schema of the items of an array value, or `None` when they are kept as they are.
pub(crate) fn items(node: Schema<'_>) -> Option<Schema<'_>> {
    node.items()
}

/// Removes the fields `ts` does not declare from `object`, the way the server's decoder drops
/// them, and returns the dotted paths of those it reports as unknown
/// (`spec.template.spec.containers[0].foo`), in the order found (keys sorted).
pub fn prune(object: &mut Value, ts: &TypeSchema) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = String::new();
    let meta = ts.object_meta();
    prune_at(
        object,
        ts.root(),
        Mode::of(ts),
        meta,
        &mut path,
        true,
        &mut out,
        0,
    );
    out
}

/// Like [`prune`] without changing the object: the unknown fields it would report.
pub fn unknown_fields(object: &Value, ts: &TypeSchema) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = String::new();
    let meta = ts.object_meta();
    find_at(
        object,
        ts.root(),
        Mode::of(ts),
        meta,
        &mut path,
        true,
        &mut out,
        0,
    );
    out
}

/// Values nested deeper than this are left alone (the request decoder refuses far less).
const MAX_DEPTH: usize = 512;

fn push_key(path: &mut String, key: &str) -> usize {
    let len = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
    len
}

fn push_index(path: &mut String, i: usize) -> usize {
    let len = path.len();
    path.push('[');
    path.push_str(&i.to_string());
    path.push(']');
    len
}

#[allow(clippy::too_many_arguments)]
fn prune_at<'a>(
    v: &mut Value,
    node: Schema<'a>,
    mode: Mode,
    meta: Option<Schema<'a>>,
    path: &mut String,
    report: bool,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            let mut drop: Vec<String> = Vec::new();
            for (k, child_value) in map.iter_mut() {
                match child(node, k, mode, meta) {
                    Child::Known {
                        schema,
                        mode: m,
                        silent,
                    } => {
                        let len = push_key(path, k);
                        prune_at(
                            child_value,
                            schema,
                            m,
                            meta,
                            path,
                            report && !silent,
                            out,
                            depth + 1,
                        );
                        path.truncate(len);
                    }
                    Child::Any => {}
                    Child::Unknown => {
                        if report {
                            let len = push_key(path, k);
                            out.push(path.clone());
                            path.truncate(len);
                        }
                        drop.push(k.clone());
                    }
                }
            }
            for k in drop {
                map.remove(&k);
            }
        }
        Value::Array(list) => {
            if let Some(item_schema) = items(node) {
                for (i, item) in list.iter_mut().enumerate() {
                    let len = push_index(path, i);
                    prune_at(item, item_schema, mode, meta, path, report, out, depth + 1);
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn find_at<'a>(
    v: &Value,
    node: Schema<'a>,
    mode: Mode,
    meta: Option<Schema<'a>>,
    path: &mut String,
    report: bool,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child_value) in map {
                match child(node, k, mode, meta) {
                    Child::Known {
                        schema,
                        mode: m,
                        silent,
                    } => {
                        let len = push_key(path, k);
                        find_at(
                            child_value,
                            schema,
                            m,
                            meta,
                            path,
                            report && !silent,
                            out,
                            depth + 1,
                        );
                        path.truncate(len);
                    }
                    Child::Any => {}
                    Child::Unknown => {
                        if report {
                            let len = push_key(path, k);
                            out.push(path.clone());
                            path.truncate(len);
                        }
                    }
                }
            }
        }
        Value::Array(list) => {
            if let Some(item_schema) = items(node) {
                for (i, item) in list.iter().enumerate() {
                    let len = push_index(path, i);
                    find_at(item, item_schema, mode, meta, path, report, out, depth + 1);
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Registry;
    use serde_json::json;

    #[test]
    fn built_in_unknown_fields_are_dropped_and_reported() {
        let reg = Registry::builtin();
        let ts = reg.lookup("apps/v1", "Deployment").unwrap();
        let mut obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "a", "bogus": 1, "labels": {"any": "key"}},
            "spec": {"foo": 1, "template": {"spec": {"containers": [{"name": "c", "imagee": "x"}]}}}});
        let paths = prune(&mut obj, &ts);
        assert_eq!(
            paths,
            [
                "metadata.bogus",
                "spec.foo",
                "spec.template.spec.containers[0].imagee"
            ]
        );
        assert!(obj["spec"].get("foo").is_none());
        assert_eq!(obj["metadata"]["labels"]["any"], "key");
    }
}
