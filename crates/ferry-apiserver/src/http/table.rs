//! Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which
//! `kubectl get` asks for: the columns the real printers show for the common built-ins, a CRD's
//! `additionalPrinterColumns`, and Name/Age for the rest.

use serde_json::{Value, json};

use super::{Query, verbs};
use crate::{core::ListResult, meta, resources::ResourceInfo};

struct Column {
    name: &'static str,
    type_: &'static str,
    format: &'static str,
    priority: i64,
    cell: fn(&Value) -> Value,
}

fn age(obj: &Value) -> Value {
    let created = meta::meta_str(obj, "creationTimestamp");
    match meta::parse_time(created) {
        Some(t) => json!(meta::human_duration(meta::now_seconds() - t)),
        None => json!("<unknown>"),
    }
}

fn int_at(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn count_map(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer)
        .and_then(Value::as_object)
        .map_or(0, |m| m.len() as i64)
}

fn containers(obj: &Value, field: &str) -> Value {
    let list = obj
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array);
    let names: Vec<&str> = list
        .into_iter()
        .flatten()
        .filter_map(|c| c.get(field).and_then(Value::as_str))
        .collect();
    json!(names.join(","))
}

fn selector(obj: &Value) -> Value {
    obj.pointer("/spec/selector")
        .and_then(|s| crate::selector::LabelSelector::from_object(s).ok())
        .map_or(json!("<none>"), |s| json!(s.to_selector_string()))
}

fn columns(info: &ResourceInfo) -> Vec<Column> {
    let name = Column {
        name: "Name",
        type_: "string",
        format: "name",
        priority: 0,
        cell: |o| json!(meta::meta_str(o, "name")),
    };
    let age_col = Column {
        name: "Age",
        type_: "string",
        format: "",
        priority: 0,
        cell: age,
    };
    let mut cols = vec![name];
    match (info.group.as_str(), info.kind.as_str()) {
        ("", "Namespace") => cols.push(Column {
            name: "Status",
            type_: "string",
            format: "",
            priority: 0,
            cell: |o| json!(str_at(o, "/status/phase")),
        }),
        ("", "ConfigMap") => cols.push(Column {
            name: "Data",
            type_: "integer",
            format: "",
            priority: 0,
            cell: |o| json!(count_map(o, "/data") + count_map(o, "/binaryData")),
        }),
        ("", "Secret") => {
            cols.push(Column {
                name: "Type",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| json!(str_at(o, "/type")),
            });
            cols.push(Column {
                name: "Data",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| json!(count_map(o, "/data")),
            });
        }
        ("", "Service") => {
            cols.push(Column {
                name: "Type",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| json!(str_at(o, "/spec/type")),
            });
            cols.push(Column {
                name: "Cluster-IP",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| json!(str_at(o, "/spec/clusterIP")),
            });
            cols.push(Column {
                name: "External-IP",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| {
                    let ips: Vec<&str> = o
                        .pointer("/status/loadBalancer/ingress")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|i| i.get("ip").and_then(Value::as_str))
                        .collect();
                    if ips.is_empty() {
                        if str_at(o, "/spec/type") == "LoadBalancer" {
                            json!("<pending>")
                        } else {
                            json!("<none>")
                        }
                    } else {
                        json!(ips.join(","))
                    }
                },
            });
            cols.push(Column {
                name: "Port(s)",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| {
                    let ports: Vec<String> = o
                        .pointer("/spec/ports")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|p| {
                            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                            let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                            match p.get("nodePort").and_then(Value::as_i64) {
                                Some(np) => format!("{port}:{np}/{proto}"),
                                None => format!("{port}/{proto}"),
                            }
                        })
                        .collect();
                    if ports.is_empty() {
                        json!("<none>")
                    } else {
                        json!(ports.join(","))
                    }
                },
            });
        }
        ("", "Pod") => {
            cols.push(Column {
                name: "Ready",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| {
                    let total = o
                        .pointer("/spec/containers")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    let ready = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
                        .count();
                    json!(format!("{ready}/{total}"))
                },
            });
            cols.push(Column {
                name: "Status",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| {
                    let waiting = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .find_map(|c| c.pointer("/state/waiting/reason").and_then(Value::as_str));
                    json!(waiting.unwrap_or_else(|| str_at(o, "/status/phase")))
                },
            });
            cols.push(Column {
                name: "Restarts",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| {
                    json!(
                        o.pointer("/status/containerStatuses")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
                            .sum::<i64>()
                    )
                },
            });
        }
        ("apps", "Deployment") => {
            cols.push(Column {
                name: "Ready",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| {
                    json!(format!(
                        "{}/{}",
                        int_at(o, "/status/readyReplicas"),
                        int_at(o, "/spec/replicas")
                    ))
                },
            });
            cols.push(Column {
                name: "Up-to-date",
                type_: "integer",
                format: "",
                priority: 0,
                cell: |o| json!(int_at(o, "/status/updatedReplicas")),
            });
            cols.push(Column {
                name: "Available",
                type_: "integer",
                format: "",
                priority: 0,
                cell: |o| json!(int_at(o, "/status/availableReplicas")),
            });
            cols.push(Column {
                name: "Age",
                type_: "string",
                format: "",
                priority: 0,
                cell: age,
            });
            cols.push(Column {
                name: "Containers",
                type_: "string",
                format: "",
                priority: 1,
                cell: |o| containers(o, "name"),
            });
            cols.push(Column {
                name: "Images",
                type_: "string",
                format: "",
                priority: 1,
                cell: |o| containers(o, "image"),
            });
            cols.push(Column {
                name: "Selector",
                type_: "string",
                format: "",
                priority: 1,
                cell: selector,
            });
            return cols;
        }
        ("apps", "StatefulSet") => cols.push(Column {
            name: "Ready",
            type_: "string",
            format: "",
            priority: 0,
            cell: |o| {
                json!(format!(
                    "{}/{}",
                    int_at(o, "/status/readyReplicas"),
                    int_at(o, "/spec/replicas")
                ))
            },
        }),
        ("apps", "ReplicaSet") => {
            cols.push(Column {
                name: "Desired",
                type_: "integer",
                format: "",
                priority: 0,
                cell: |o| json!(int_at(o, "/spec/replicas")),
            });
            cols.push(Column {
                name: "Current",
                type_: "integer",
                format: "",
                priority: 0,
                cell: |o| json!(int_at(o, "/status/replicas")),
            });
            cols.push(Column {
                name: "Ready",
                type_: "integer",
                format: "",
                priority: 0,
                cell: |o| json!(int_at(o, "/status/readyReplicas")),
            });
        }
        ("apps", "DaemonSet") => {
            cols.push(Column {
                name: "Desired",
                type_: "integer",
                format: "",
                priority: 0,
                cell: |o| json!(int_at(o, "/status/desiredNumberScheduled")),
            });
            cols.push(Column {
                name: "Current",
                type_: "integer",
                format: "",
                priority: 0,
                cell: |o| json!(int_at(o, "/status/currentNumberScheduled")),
            });
            cols.push(Column {
                name: "Ready",
                type_: "integer",
                format: "",
                priority: 0,
                cell: |o| json!(int_at(o, "/status/numberReady")),
            });
            cols.push(Column {
                name: "Up-to-date",
                type_: "integer",
                format: "",
                priority: 0,
                cell: |o| json!(int_at(o, "/status/updatedNumberScheduled")),
            });
            cols.push(Column {
                name: "Available",
                type_: "integer",
                format: "",
                priority: 0,
                cell: |o| json!(int_at(o, "/status/numberAvailable")),
            });
        }
        ("batch", "Job") => {
            cols.push(Column {
                name: "Status",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| {
                    let conds = o.pointer("/status/conditions").and_then(Value::as_array);
                    let has = |t: &str| {
                        conds.into_iter().flatten().any(|c| {
                            c.get("type").and_then(Value::as_str) == Some(t)
                                && c.get("status").and_then(Value::as_str) == Some("True")
                        })
                    };
                    json!(if has("Complete") {
                        "Complete"
                    } else if has("Failed") {
                        "Failed"
                    } else {
                        "Running"
                    })
                },
            });
            cols.push(Column {
                name: "Completions",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| {
                    json!(format!(
                        "{}/{}",
                        int_at(o, "/status/succeeded"),
                        o.pointer("/spec/completions")
                            .and_then(Value::as_i64)
                            .unwrap_or(1)
                    ))
                },
            });
        }
        ("", "PersistentVolumeClaim") => {
            cols.push(Column {
                name: "Status",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| json!(str_at(o, "/status/phase")),
            });
            cols.push(Column {
                name: "Volume",
                type_: "string",
                format: "",
                priority: 0,
                cell: |o| json!(str_at(o, "/spec/volumeName")),
            });
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            cols.push(Column {
                name: "Created At",
                type_: "date",
                format: "",
                priority: 0,
                cell: |o| json!(meta::meta_str(o, "creationTimestamp")),
            });
            return cols;
        }
        _ => {}
    }
    cols.push(age_col);
    cols
}

/// A minimal JSONPath for printer columns: `.a.b`, `.a[0]`, `.a[?(@.k=="v")].b`.
fn json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cursor = object;
    let mut rest = path
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim_start_matches('$');
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            cursor = cursor.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = &r[..end];
            rest = &r[end + 1..];
            if let Some(filter) = inner.strip_prefix("?(@.").and_then(|f| f.strip_suffix(')')) {
                let (field, want) = filter.split_once("==")?;
                let want = want.trim().trim_matches(|c| c == '"' || c == '\'');
                cursor = cursor
                    .as_array()?
                    .iter()
                    .find(|item| item.get(field.trim()).and_then(Value::as_str) == Some(want))?;
            } else {
                cursor = cursor.get(inner.parse::<usize>().ok()?)?;
            }
        } else {
            return None;
        }
    }
    Some(cursor)
}

fn custom_cells(info: &ResourceInfo, object: &Value) -> Option<(Vec<Value>, Vec<Value>)> {
    let custom = info.custom.as_ref()?;
    let mut defs = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
    ];
    let mut cells = vec![json!(meta::meta_str(object, "name"))];
    let mut has_age = false;
    for c in &custom.printer_columns {
        defs.push(json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority}));
        let value = json_path(object, &c.json_path)
            .cloned()
            .unwrap_or(Value::Null);
        has_age |= c.json_path == ".metadata.creationTimestamp";
        let cell = if c.type_ == "date" {
            value
                .as_str()
                .and_then(meta::parse_time)
                .map_or(Value::Null, |t| {
                    json!(meta::human_duration(meta::now_seconds() - t))
                })
        } else {
            value
        };
        cells.push(cell);
    }
    if custom.printer_columns.is_empty() && !has_age {
        defs.push(json!({"name": "Age", "type": "date", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0}));
        cells.push(age(object));
    }
    Some((defs, cells))
}

fn row(info: &ResourceInfo, object: &Value, include: Option<&str>) -> Value {
    let cells: Vec<Value> = match custom_cells(info, object) {
        Some((_, cells)) => cells,
        None => columns(info).iter().map(|c| (c.cell)(object)).collect(),
    };
    let embedded = match include.unwrap_or("Metadata") {
        "Object" => object.clone(),
        "None" => Value::Null,
        _ => verbs::partial(object),
    };
    let mut row = json!({"cells": cells});
    if !embedded.is_null() {
        row["object"] = embedded;
    }
    row
}

fn definitions(info: &ResourceInfo, sample: Option<&Value>) -> Vec<Value> {
    if info.custom.is_some() {
        let empty = json!({"metadata": {}});
        return custom_cells(info, sample.unwrap_or(&empty))
            .map(|(d, _)| d)
            .unwrap_or_default();
    }
    columns(info)
        .iter()
        .map(|c| json!({"name": c.name, "type": c.type_, "format": c.format, "description": "", "priority": c.priority}))
        .collect()
}

pub fn object_table(info: &ResourceInfo, objects: &[Value], rv: u64, query: &Query) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv.to_string()},
        "columnDefinitions": definitions(info, objects.first()),
        "rows": objects.iter().map(|o| row(info, o, query.get("includeObject"))).collect::<Vec<_>>(),
    })
}

pub fn list_table(
    info: &ResourceInfo,
    reader: &crate::schema::Reader<'_>,
    result: &ListResult,
    query: &Query,
) -> Value {
    let objects: Vec<Value> = result.items.iter().map(|s| reader.value(s)).collect();
    let mut table = object_table(info, &objects, result.rv, query);
    if let Some(token) = &result.continue_token {
        table["metadata"]["continue"] = json!(token);
    }
    if let Some(remaining) = result.remaining {
        table["metadata"]["remainingItemCount"] = json!(remaining);
    }
    table
}

/// A one-row table for a watch event.
pub fn watch_table(info: &ResourceInfo, object: &Value, rv: u64, include: Option<&str>) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv.to_string()},
        "columnDefinitions": definitions(info, Some(object)),
        "rows": [row(info, object, include)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_path_handles_printer_column_forms() {
        let o = json!({"status": {"conditions": [{"type": "A", "status": "False"}, {"type": "Ready", "status": "True"}]}, "spec": {"l": [5]}});
        assert_eq!(
            json_path(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            Some(&json!("True"))
        );
        assert_eq!(json_path(&o, ".spec.l[0]"), Some(&json!(5)));
        assert_eq!(json_path(&o, ".spec.missing"), None);
    }
}
