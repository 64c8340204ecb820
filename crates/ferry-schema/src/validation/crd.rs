//! Validation of CustomResourceDefinitions (`apiextensions.k8s.io/v1`) as the server does on
//! create and update, with its messages for the common mistakes: names and group, versions and
//! the storage version, missing schemas (`schemas are required`), what a structural schema
//! requires (`type: Required value: must not be empty for specified object fields`, `items`,
//! metadata restrictions, nothing but value validations under allOf/anyOf/oneOf/not),
//! Kubernetes extensions used inconsistently (list types and map keys, embedded resources,
//! int-or-string), defaults that do not validate or are not pruned, CEL rules that do not
//! compile or are too expensive, scale subresource paths and printer columns.
//!
//! A v1 CRD whose versions all have the same schema is reported at
//! `spec.validation.openAPIV3Schema` (the server converts it to its internal form, which hoists
//! identical per-version schemas), otherwise at `spec.versions[i].schema.openAPIV3Schema`.

use serde_json::{Map, Value};

use super::{
    cel,
    compiled::Compiled,
    cost,
    field::{BadValue, FieldError, FieldPath},
    names,
    status::{Invalid, ValidationError},
    values,
};
use crate::{
    model::{Converter, Schema},
    registry::{Gvk, Registry},
};

const OPENAPI_TYPES: &[&str] = &["array", "boolean", "integer", "number", "object", "string"];
const PRINTER_TYPES: &[&str] = &["boolean", "date", "integer", "number", "string"];
const PRINTER_FORMATS: &[&str] = &[
    "byte",
    "date",
    "date-time",
    "double",
    "float",
    "int32",
    "int64",
    "password",
];
const SUPPORTED_REASONS: &[&str] = &[
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
];
/// `StaticEstimatedCostLimit`, per rule.
const STATIC_COST_LIMIT: u64 = 10_000_000;
/// `StaticEstimatedCRDCostLimit`, for all rules of a schema.
const STATIC_CRD_COST_LIMIT: u64 = 100_000_000;

fn s<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Validates a CRD on create (`old` = `None`) or update. The CRD is taken as sent, with the
/// server's defaults for `singular` and `listKind` applied first.
pub fn validate(crd: &Value, old: Option<&Value>) -> Result<(), ValidationError> {
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    // The checks below recurse through the schema: refuse absurd nesting up front rather than
    // risk the stack (the registry converts at most 128 levels anyway).
    if json_depth(crd) > MAX_CRD_DEPTH {
        return Err(Invalid::new(
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            name,
            vec![FieldError::invalid(
                &FieldPath::new("spec"),
                "",
                format!("schemas may not be nested more than {MAX_CRD_DEPTH} levels deep"),
            )],
        )
        .into());
    }
    let mut errs = Vec::new();
    let spec = crd
        .get("spec")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let sp = FieldPath::root().child("spec");
    let names = spec
        .get("names")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let kind = s(&names, "kind");
    let plural = s(&names, "plural");
    let singular = match s(&names, "singular") {
        "" => kind.to_lowercase(),
        x => x.to_owned(),
    };
    let list_kind = match s(&names, "listKind") {
        "" if !kind.is_empty() => format!("{kind}List"),
        x => x.to_owned(),
    };
    let group = s(&spec, "group");

    // metadata
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mp = FieldPath::root().child("metadata").child("name");
    if name.is_empty() {
        errs.push(FieldError::required(
            &mp,
            "name or generateName is required",
        ));
    } else {
        for msg in names::dns1123_subdomain(name) {
            errs.push(FieldError::invalid(&mp, name, msg));
        }
        if name != format!("{plural}.{group}") {
            errs.push(FieldError::invalid(
                &mp,
                name,
                "must be spec.names.plural+\".\"+spec.group",
            ));
        }
    }

    // spec.group, scope
    if group.is_empty() {
        errs.push(FieldError::required(&sp.child("group"), ""));
    } else if let e @ [_, ..] = names::dns1123_subdomain(group).as_slice() {
        errs.push(FieldError::invalid(&sp.child("group"), group, e.join(",")));
    } else if !group.contains('.') {
        errs.push(FieldError::invalid(
            &sp.child("group"),
            group,
            "should be a domain with at least one dot",
        ));
    }
    match s(&spec, "scope") {
        "" => errs.push(FieldError::required(&sp.child("scope"), "")),
        "Cluster" | "Namespaced" => {}
        other => errs.push(FieldError::not_supported(
            &sp.child("scope"),
            other,
            &["Cluster", "Namespaced"],
        )),
    }
    let preserve = spec.get("preserveUnknownFields").and_then(Value::as_bool) == Some(true);

    // versions
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let hoisted = !versions.is_empty()
        && versions
            .iter()
            .all(|v| v.pointer("/schema/openAPIV3Schema").is_some())
        && versions
            .iter()
            .all(|v| v.get("schema") == versions[0].get("schema"));
    let mut storage = 0;
    let mut seen: Vec<&str> = Vec::new();
    let mut unique = true;
    for (i, v) in versions.iter().enumerate() {
        let vp = sp.child("versions").index(i);
        let vname = s(v, "name");
        if v.get("storage").and_then(Value::as_bool) == Some(true) {
            storage += 1;
        }
        if seen.contains(&vname) {
            unique = false;
        }
        seen.push(vname);
        if let e @ [_, ..] = names::dns1035_label(vname).as_slice() {
            errs.push(FieldError::invalid(&vp.child("name"), vname, e.join(",")));
        }
        if v.pointer("/schema/openAPIV3Schema").is_none() {
            errs.push(FieldError::required(
                &vp.child("schema").child("openAPIV3Schema"),
                "schemas are required",
            ));
        }
        if let Some(sub) = v.get("subresources") {
            errs.extend(subresources(sub, &vp.child("subresources")));
        }
        if let Some(cols) = v.get("additionalPrinterColumns").and_then(Value::as_array) {
            for (j, col) in cols.iter().enumerate() {
                errs.extend(printer_column(
                    col,
                    &vp.child("additionalPrinterColumns").index(j),
                ));
            }
        }
    }
    if !unique {
        errs.push(FieldError::invalid(
            &sp.child("versions"),
            BadValue::Json(Value::Array(versions.clone())),
            "must contain unique version names",
        ));
    }
    if storage != 1 {
        errs.push(FieldError::invalid(
            &sp.child("versions"),
            BadValue::Json(Value::Array(versions.clone())),
            "must have exactly one version marked as storage version",
        ));
    }

    // names
    for (field, value) in [
        ("plural", plural),
        ("singular", singular.as_str()),
        ("kind", kind),
        ("listKind", list_kind.as_str()),
    ] {
        if value.is_empty() {
            errs.push(FieldError::required(&sp.child("names").child(field), ""));
        }
    }
    let np = sp.child("names");
    for (field, value) in [("plural", plural), ("singular", singular.as_str())] {
        if let e @ [_, ..] = names::dns1035_label(value).as_slice()
            && !value.is_empty()
        {
            errs.push(FieldError::invalid(&np.child(field), value, e.join(",")));
        }
    }
    for (field, value) in [("kind", kind), ("listKind", list_kind.as_str())] {
        if let e @ [_, ..] = names::dns1035_label(&value.to_lowercase()).as_slice()
            && !value.is_empty()
        {
            errs.push(FieldError::invalid(
                &np.child(field),
                value,
                format!(
                    "may have mixed case, but should otherwise match: {}",
                    e.join(",")
                ),
            ));
        }
    }
    if !kind.is_empty() && kind == list_kind {
        errs.push(FieldError::invalid(
            &np.child("listKind"),
            list_kind.as_str(),
            "kind and listKind may not be the same",
        ));
    }
    for (i, short) in names
        .get("shortNames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let short = short.as_str().unwrap_or("");
        if let e @ [_, ..] = names::dns1035_label(short).as_slice() {
            errs.push(FieldError::invalid(
                &np.child("shortNames").index(i),
                short,
                e.join(","),
            ));
        }
    }

    // schemas
    let schema_paths: Vec<(FieldPath, &Value, &Value)> = if hoisted {
        vec![(
            sp.child("validation").child("openAPIV3Schema"),
            versions[0]
                .pointer("/schema/openAPIV3Schema")
                .unwrap_or(&Value::Null),
            &versions[0],
        )]
    } else {
        versions
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.pointer("/schema/openAPIV3Schema").map(|sch| {
                    (
                        sp.child("versions")
                            .index(i)
                            .child("schema")
                            .child("openAPIV3Schema"),
                        sch,
                        v,
                    )
                })
            })
            .collect()
    };
    for (p, schema, version) in &schema_paths {
        let status_enabled = version.pointer("/subresources/status").is_some();
        errs.extend(validate_schema(
            schema,
            p,
            status_enabled,
            group,
            kind,
            s(version, "name"),
        ));
    }

    // preserveUnknownFields and conversion
    if preserve {
        errs.push(FieldError::invalid(
            &sp.child("preserveUnknownFields"),
            BadValue::Bool(true),
            "cannot set to true, set x-preserve-unknown-fields to true in spec.versions[*].schema instead",
        ));
    }
    if let Some(conv) = spec.get("conversion") {
        let cp = sp.child("conversion");
        match s(conv, "strategy") {
            "" => errs.push(FieldError::required(&cp.child("strategy"), "")),
            "None" => {
                if conv.get("webhook").is_some() {
                    errs.push(FieldError::forbidden(
                        &cp.child("webhookClientConfig"),
                        "should not be set when strategy is not set to Webhook",
                    ));
                }
            }
            "Webhook" => {
                if conv
                    .get("webhook")
                    .and_then(|w| w.get("clientConfig"))
                    .is_none()
                {
                    errs.push(FieldError::required(
                        &cp.child("webhookClientConfig"),
                        "required when strategy is set to Webhook",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                &cp.child("strategy"),
                other,
                &["None", "Webhook"],
            )),
        }
    }

    // update rules
    if let Some(old) = old {
        let old_spec = old.get("spec").cloned().unwrap_or(Value::Null);
        for (pointer, field) in [
            ("/group", sp.child("group")),
            ("/names/plural", np.child("plural")),
            ("/scope", sp.child("scope")),
            ("/names/kind", np.child("kind")),
        ] {
            let n = spec.pointer(pointer).and_then(Value::as_str).unwrap_or("");
            let o = old_spec
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("");
            if n != o {
                errs.push(FieldError::invalid(&field, n, super::builtin::IMMUTABLE));
            }
        }
    }

    if errs.is_empty() {
        Ok(())
    } else {
        Err(Invalid::new(
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            name,
            errs,
        )
        .into())
    }
}

/// How deeply a CRD may nest before it is refused (without recursion).
const MAX_CRD_DEPTH: usize = 200;

/// The nesting depth of a JSON value, computed iteratively.
fn json_depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    max
}

fn subresources(sub: &Value, p: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(scale) = sub.get("scale") else {
        return errs;
    };
    for (field, prefix, required) in [
        ("specReplicasPath", ".spec.", true),
        ("statusReplicasPath", ".status.", true),
        ("labelSelectorPath", "", false),
    ] {
        let fp = p.child(&format!("scale.{field}"));
        let value = s(scale, field);
        if value.is_empty() {
            if required {
                errs.push(FieldError::required(&fp, ""));
            }
            continue;
        }
        if let Some(e) = simple_json_path(value, &fp) {
            errs.push(e);
        } else if prefix.is_empty() {
            if !value.starts_with(".spec.") && !value.starts_with(".status.") {
                errs.push(FieldError::invalid(
                    &fp,
                    value,
                    "should be a json path under either .spec or .status",
                ));
            }
        } else if !value.starts_with(prefix) {
            errs.push(FieldError::invalid(
                &fp,
                value,
                format!(
                    "should be a json path under {}",
                    prefix.trim_end_matches('.')
                ),
            ));
        }
    }
    errs
}

fn simple_json_path(value: &str, p: &FieldPath) -> Option<FieldError> {
    if value.is_empty() {
        Some(FieldError::invalid(p, value, "must not be empty"))
    } else if !value.starts_with('.') {
        Some(FieldError::invalid(
            p,
            value,
            "must be a simple json path starting with .",
        ))
    } else {
        None
    }
}

fn printer_column(col: &Value, p: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if s(col, "name").is_empty() {
        errs.push(FieldError::required(&p.child("name"), ""));
    }
    let ty = s(col, "type");
    let must = format!("must be one of {}", PRINTER_TYPES.join(","));
    if ty.is_empty() {
        errs.push(FieldError::required(&p.child("type"), must));
    } else if !PRINTER_TYPES.contains(&ty) {
        errs.push(FieldError::invalid(&p.child("type"), ty, must));
    }
    let format = s(col, "format");
    if !format.is_empty() && !PRINTER_FORMATS.contains(&format) {
        errs.push(FieldError::invalid(
            &p.child("format"),
            format,
            format!("must be one of {}", PRINTER_FORMATS.join(",")),
        ));
    }
    let json_path = s(col, "jsonPath");
    if json_path.is_empty() {
        errs.push(FieldError::required(&p.child("JSONPath"), ""));
    } else if let Some(e) = simple_json_path(json_path, &p.child("JSONPath")) {
        errs.push(e);
    }
    errs
}

/// Checks one `openAPIV3Schema`: the standard checks, then structurality, then defaults and
/// CEL cost (as the server, the later stages run only when the earlier found nothing).
fn validate_schema(
    schema: &Value,
    p: &FieldPath,
    status_enabled: bool,
    group: &str,
    kind: &str,
    version: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        errs.push(FieldError::forbidden(
            &p.child("nullable"),
            "nullable cannot be true at the root",
        ));
    }
    if status_enabled
        && let Some(t) = schema.get("type").and_then(Value::as_str)
        && t != "object"
    {
        errs.push(FieldError::invalid(
            &p.child("type"),
            t,
            "only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled",
        ));
    }
    standard(schema, p, Ctx::root(), &mut errs);
    let mut structural = Vec::new();
    structural_invariants(schema, p, Level::Root, &mut structural);
    structural_completeness(schema, p, &mut structural);
    structural.sort_by_key(|e| e.to_string());
    errs.extend(structural);
    if !errs.is_empty() {
        return errs;
    }
    // Defaults and CEL need the compiled schema.
    let reg = Registry::empty();
    let crd = serde_json::json!({
        "metadata": {"name": "validation"},
        "spec": {"group": group, "names": {"kind": kind}, "versions": [{"name": version, "schema": {"openAPIV3Schema": schema}}]}
    });
    let gvk = Gvk::new(group, version, kind);
    if reg.add_crd(&crd).is_err() {
        return errs;
    }
    let Some(ts) = reg.get(&gvk) else {
        return errs;
    };
    defaults_valid(ts.root(), schema, p, ts.compiled(), true, &mut errs);
    cel_costs(&ts, schema, p, &mut errs);
    errs
}

#[derive(Clone, Copy)]
struct Ctx<'r> {
    root: bool,
    /// Inside a resource's apiVersion/kind/metadata (defaults are forbidden there at the top).
    forbid_defaults: Option<&'r str>,
    inside_meta: bool,
}

impl Ctx<'_> {
    fn root() -> Ctx<'static> {
        Ctx {
            root: true,
            forbid_defaults: None,
            inside_meta: false,
        }
    }
}

/// `ValidateCustomResourceDefinitionOpenAPISchema` and the v3 standard validator.
fn standard(sch: &Value, p: &FieldPath, ctx: Ctx<'_>, errs: &mut Vec<FieldError>) {
    let Some(obj) = sch.as_object() else {
        return;
    };
    let ty = obj.get("type").and_then(Value::as_str).unwrap_or("");
    if !ty.is_empty() && !OPENAPI_TYPES.contains(&ty) {
        if ty == "null" {
            errs.push(FieldError::forbidden(
                &p.child("type"),
                "type cannot be set to null, use nullable as an alternative",
            ));
        } else {
            errs.push(FieldError::not_supported(
                &p.child("type"),
                ty,
                OPENAPI_TYPES,
            ));
        }
    }
    if obj.contains_key("default")
        && let Some(reason) = ctx.forbid_defaults
    {
        errs.push(FieldError::forbidden(
            &p.child("default"),
            format!("must not be set {reason}"),
        ));
    }
    for (key, msg) in [
        ("id", "id is not supported"),
        ("additionalItems", "additionalItems is not supported"),
        ("patternProperties", "patternProperties is not supported"),
        ("definitions", "definitions is not supported"),
        ("dependencies", "dependencies is not supported"),
        ("$ref", "$ref is not supported"),
    ] {
        if obj.contains_key(key) {
            errs.push(FieldError::forbidden(&p.child(key), msg));
        }
    }
    if obj.get("items").is_some_and(Value::is_array) {
        errs.push(FieldError::forbidden(
            &p.child("items"),
            "items must be a schema object and not an array",
        ));
    }
    if ctx.inside_meta
        && obj
            .get("x-kubernetes-embedded-resource")
            .and_then(Value::as_bool)
            == Some(true)
    {
        errs.push(FieldError::forbidden(
            &p.child("x-kubernetes-embedded-resource"),
            "must not be used inside of resource meta",
        ));
    }
    if obj.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
        errs.push(FieldError::forbidden(
            &p.child("uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    let props = obj.get("properties").and_then(Value::as_object);
    if let Some(ap) = obj.get("additionalProperties") {
        if props.is_some_and(|m| !m.is_empty()) && (ap == &Value::Bool(false) || ap.is_object()) {
            errs.push(FieldError::forbidden(
                &p.child("additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        let sub = if ctx.inside_meta {
            Ctx {
                forbid_defaults: Some("inside additionalProperties applying to object metadata"),
                root: false,
                ..ctx
            }
        } else {
            Ctx { root: false, ..ctx }
        };
        standard(ap, &p.child("additionalProperties"), sub, errs);
    }
    let embedded = obj
        .get("x-kubernetes-embedded-resource")
        .and_then(Value::as_bool)
        == Some(true);
    if let Some(props) = props {
        for (k, v) in props {
            let mut sub = Ctx { root: false, ..ctx };
            if (ctx.root || embedded) && matches!(k.as_str(), "metadata" | "kind" | "apiVersion") {
                sub.inside_meta = true;
                if ctx.root {
                    sub.forbid_defaults = Some(match k.as_str() {
                        "metadata" => "in top-level metadata",
                        "kind" => "in top-level kind",
                        _ => "in top-level apiVersion",
                    });
                }
            }
            standard(v, &p.child("properties").key(k), sub, errs);
        }
    }
    if let Some(not) = obj.get("not") {
        standard(not, &p.child("not"), Ctx { root: false, ..ctx }, errs);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for (i, b) in obj
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            standard(b, &p.child(key).index(i), Ctx { root: false, ..ctx }, errs);
        }
    }
    if let Some(items) = obj.get("items").filter(|i| i.is_object()) {
        standard(items, &p.child("items"), Ctx { root: false, ..ctx }, errs);
    }
    if obj.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
        errs.push(FieldError::invalid(
            &p.child("x-kubernetes-preserve-unknown-fields"),
            BadValue::Bool(false),
            "must be true or undefined",
        ));
    }
    let map_type = obj.get("x-kubernetes-map-type").and_then(Value::as_str);
    if map_type.is_some() && ty != "object" {
        type_must_be(
            p,
            ty,
            "must be object if x-kubernetes-map-type is specified",
            errs,
        );
    }
    if let Some(mt) = map_type
        && mt != "atomic"
        && mt != "granular"
    {
        errs.push(FieldError::not_supported(
            &p.child("x-kubernetes-map-type"),
            mt,
            &["atomic", "granular"],
        ));
    }
    let list_type = obj.get("x-kubernetes-list-type").and_then(Value::as_str);
    let items = obj.get("items").filter(|i| i.is_object());
    if list_type.is_some() && ty != "array" {
        type_must_be(
            p,
            ty,
            "must be array if x-kubernetes-list-type is specified",
            errs,
        );
    } else if list_type == Some("set")
        && let Some(is) = items
    {
        match is.get("type").and_then(Value::as_str) {
            Some("array") => {
                if let Some(lt) = is.get("x-kubernetes-list-type").and_then(Value::as_str)
                    && lt != "atomic"
                {
                    errs.push(FieldError::invalid(
                        &p.child("items").child("x-kubernetes-list-type"),
                        lt,
                        "must be atomic as item of a list with x-kubernetes-list-type=set",
                    ));
                }
            }
            Some("object")
                if is.get("x-kubernetes-map-type").and_then(Value::as_str) != Some("atomic") =>
            {
                errs.push(FieldError::invalid(
                    &p.child("items").child("x-kubernetes-map-type"),
                    BadValue::Json(Value::Null),
                    "must be atomic as item of a list with x-kubernetes-list-type=set",
                ));
            }
            _ => {}
        }
    }
    if let Some(lt) = list_type
        && !matches!(lt, "atomic" | "set" | "map")
    {
        errs.push(FieldError::not_supported(
            &p.child("x-kubernetes-list-type"),
            lt,
            &["atomic", "set", "map"],
        ));
    }
    let keys: Vec<&str> = obj
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let keys_value = obj
        .get("x-kubernetes-list-map-keys")
        .cloned()
        .unwrap_or(Value::Null);
    if !keys.is_empty() {
        match list_type {
            None => errs.push(FieldError::required(
                &p.child("x-kubernetes-list-type"),
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
            Some("map") => {}
            Some(other) => errs.push(FieldError::invalid(
                &p.child("x-kubernetes-list-type"),
                other,
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
        }
    }
    if list_type == Some("map") {
        if keys.is_empty() {
            errs.push(FieldError::required(
                &p.child("x-kubernetes-list-map-keys"),
                "must not be empty if x-kubernetes-list-type is map",
            ));
        }
        match items {
            None => errs.push(FieldError::required(
                &p.child("items"),
                "must have a schema if x-kubernetes-list-type is map",
            )),
            Some(is) => {
                let ity = is.get("type").and_then(Value::as_str).unwrap_or("");
                if ity != "object" {
                    errs.push(FieldError::invalid(
                        &p.child("items").child("type"),
                        ity,
                        "must be object if parent array's x-kubernetes-list-type is map",
                    ));
                } else {
                    let iprops = is.get("properties").and_then(Value::as_object);
                    let mut seen: Vec<&str> = Vec::new();
                    for k in &keys {
                        match iprops.and_then(|m| m.get(*k)) {
                            Some(ks) => {
                                let kt = ks.get("type").and_then(Value::as_str).unwrap_or("");
                                if kt == "array" || kt == "object" {
                                    errs.push(FieldError::invalid(
                                        &p.child("items").child("properties").key(k).child("type"),
                                        ity,
                                        "must be a scalar type if parent array's x-kubernetes-list-type is map",
                                    ));
                                }
                            }
                            None => errs.push(FieldError::invalid(
                                &p.child("x-kubernetes-list-map-keys"),
                                BadValue::of(&keys_value),
                                "entries must all be names of item properties",
                            )),
                        }
                        if seen.contains(k) {
                            errs.push(FieldError::invalid(
                                &p.child("x-kubernetes-list-map-keys"),
                                BadValue::of(&keys_value),
                                "must not contain duplicate entries",
                            ));
                        }
                        seen.push(k);
                    }
                }
            }
        }
    }
    if let Some(rules) = obj
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
    {
        x_validations(rules, sch, p, errs);
    }
    // Map lists and sets: items not nullable; map keys required or defaulted, not nullable.
    if let (Some(lt @ ("set" | "map")), Some(is)) = (list_type, items) {
        if is.get("nullable").and_then(Value::as_bool) == Some(true) {
            errs.push(FieldError::forbidden(
                &p.child("items").child("nullable"),
                format!("cannot be nullable when x-kubernetes-list-type is {lt}"),
            ));
        }
        if lt == "map" {
            let required: Vec<&str> = is
                .get("required")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for k in &keys {
                let Some(ks) = is.pointer(&format!("/properties/{k}")) else {
                    continue;
                };
                let kp = p.child("items").child("properties").key(k);
                if !required.contains(k) && ks.get("default").is_none() {
                    errs.push(FieldError::required(
                        &kp.child("default"),
                        "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                    ));
                }
                if ks.get("nullable").and_then(Value::as_bool) == Some(true) {
                    errs.push(FieldError::forbidden(
                        &kp.child("nullable"),
                        "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                    ));
                }
            }
        }
    }
}

fn type_must_be(p: &FieldPath, ty: &str, msg: &str, errs: &mut Vec<FieldError>) {
    if ty.is_empty() {
        errs.push(FieldError::required(&p.child("type"), msg));
    } else {
        errs.push(FieldError::invalid(&p.child("type"), ty, msg));
    }
}

/// Rule text checks and compilation of `x-kubernetes-validations`.
fn x_validations(rules: &[Value], sch: &Value, p: &FieldPath, errs: &mut Vec<FieldError>) {
    for (i, rule) in rules.iter().enumerate() {
        let rp = p.child("x-kubernetes-validations").index(i);
        let text = s(rule, "rule");
        let message = s(rule, "message");
        if text.trim().is_empty() {
            errs.push(FieldError::required(
                &rp.child("rule"),
                "rule is not specified",
            ));
        } else if !message.is_empty() && message.trim().is_empty() {
            errs.push(FieldError::invalid(
                &rp.child("message"),
                message,
                "message must be non-empty if specified",
            ));
        } else if message.trim().contains(['\n', '\r']) {
            errs.push(FieldError::invalid(
                &rp.child("message"),
                message,
                "message must not contain line breaks",
            ));
        } else if text.trim().contains(['\n', '\r']) && message.trim().is_empty() {
            errs.push(FieldError::required(
                &rp.child("message"),
                "message must be specified if rule contains line breaks",
            ));
        }
        if let Some(reason) = rule.get("reason").and_then(Value::as_str)
            && !SUPPORTED_REASONS.contains(&reason)
        {
            errs.push(FieldError::not_supported(
                &rp.child("reason"),
                reason,
                SUPPORTED_REASONS,
            ));
        }
    }
    // Compile against the node's schema, as the server does.
    let empty = Map::new();
    let mut conv = Converter::new(&empty, None);
    let Ok(id) = conv.convert(sch, "") else {
        return;
    };
    let set = conv.finish();
    let node: Schema<'_> = set.get(id);
    for rule in cel::compile_node(node) {
        let rp = p.child("x-kubernetes-validations").index(rule.index);
        if rule.rule.trim().is_empty() {
            continue;
        }
        if let Err(e) = &rule.program {
            errs.push(FieldError::invalid(
                &rp.child("rule"),
                BadValue::Json(rule.raw.clone()),
                format!("compilation failed: {e}"),
            ));
            continue;
        }
        if let Some((src, Err(e))) = &rule.message_expression {
            errs.push(FieldError::invalid(
                &rp.child("messageExpression"),
                src.as_str(),
                format!("messageExpression compilation failed: {e}"),
            ));
        }
        if let Some(Err(e)) = &rule.field_path {
            let fp = s(&rule.raw, "fieldPath");
            errs.push(FieldError::invalid(
                &rp.child("fieldPath"),
                fp,
                format!("fieldPath must be a valid path: {e}"),
            ));
        }
        if rule.optional_old_self && !rule.uses_old_self {
            errs.push(FieldError::forbidden(
                &rp.child("optionalOldSelf"),
                "may not be set if oldSelf is not used in rule",
            ));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

/// `validateStructuralInvariants`.
fn structural_invariants(sch: &Value, p: &FieldPath, lvl: Level, errs: &mut Vec<FieldError>) {
    let Some(obj) = sch.as_object() else {
        return;
    };
    let ty = obj.get("type").and_then(Value::as_str).unwrap_or("");
    let flag = |k: &str| obj.get(k).and_then(Value::as_bool) == Some(true);
    let int_or_string = flag("x-kubernetes-int-or-string");
    let preserve = flag("x-kubernetes-preserve-unknown-fields");
    let embedded = flag("x-kubernetes-embedded-resource");
    if ty == "array" && !obj.contains_key("items") {
        errs.push(FieldError::required(&p.child("items"), "must be specified"));
    }
    if let Some(items) = obj.get("items").filter(|i| i.is_object()) {
        structural_invariants(items, &p.child("items"), Level::Item, errs);
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            structural_invariants(v, &p.child("properties").key(k), Level::Field, errs);
        }
    }
    if let Some(ap) = obj.get("additionalProperties") {
        if lvl == Level::Root {
            errs.push(FieldError::forbidden(
                &p.child("additionalProperties"),
                "must not be used at the root",
            ));
        }
        if ap.is_object() {
            structural_invariants(ap, &p.child("additionalProperties"), Level::Field, errs);
        }
    }
    if int_or_string && preserve {
        errs.push(FieldError::invalid(
            &p.child("x-kubernetes-preserve-unknown-fields"),
            BadValue::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if int_or_string && embedded {
        errs.push(FieldError::invalid(
            &p.child("x-kubernetes-embedded-resource"),
            BadValue::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    let skip_any_of = int_or_string && is_int_or_string_any_of(obj.get("anyOf"));
    let skip_first_all_of = int_or_string
        && obj
            .get("allOf")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .is_some_and(|first| is_int_or_string_any_of(first.get("anyOf")));
    value_validation(obj, skip_any_of, skip_first_all_of, p, errs);
    let check_meta = lvl == Level::Root || embedded;
    if embedded && ty != "object" {
        type_must_be(
            p,
            ty,
            "must be object if x-kubernetes-embedded-resource is true",
            errs,
        );
    } else if ty.is_empty() && !int_or_string && !preserve {
        let msg = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(FieldError::required(&p.child("type"), msg));
    }
    if embedded && obj.contains_key("additionalProperties") {
        errs.push(FieldError::forbidden(
            &p.child("additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if lvl == Level::Root && !ty.is_empty() && ty != "object" {
        errs.push(FieldError::invalid(
            &p.child("type"),
            ty,
            "must be object at the root",
        ));
    }
    let props = obj.get("properties").and_then(Value::as_object);
    if check_meta && let Some(props) = props {
        for field in ["kind", "apiVersion"] {
            if let Some(f) = props.get(field) {
                let ft = f.get("type").and_then(Value::as_str).unwrap_or("");
                if ft != "string" {
                    errs.push(FieldError::invalid(
                        &p.child("properties").key(field).child("type"),
                        ft,
                        "must be string",
                    ));
                }
            }
        }
    }
    if let Some(meta) = props.and_then(|m| m.get("metadata")) {
        let mp = p.child("properties").key("metadata");
        let mt = meta.get("type").and_then(Value::as_str).unwrap_or("");
        if check_meta && mt != "object" {
            errs.push(FieldError::invalid(&mp.child("type"), mt, "must be object"));
        }
        if lvl == Level::Root && !metadata_is_restricted_to_names(meta) {
            errs.push(FieldError::forbidden(&mp, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
        }
    }
    if embedded && !preserve && props.is_none_or(Map::is_empty) {
        errs.push(FieldError::required(
            &p.child("properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

fn is_int_or_string_any_of(v: Option<&Value>) -> bool {
    let Some(a) = v.and_then(Value::as_array) else {
        return false;
    };
    a.len() == 2
        && a[0] == serde_json::json!({"type": "integer"})
        && a[1] == serde_json::json!({"type": "string"})
}

/// The root's metadata may only restrict `name` and `generateName`.
fn metadata_is_restricted_to_names(meta: &Value) -> bool {
    let Some(m) = meta.as_object() else {
        return false;
    };
    m.iter().all(|(k, v)| match k.as_str() {
        "type" | "default" => true,
        "properties" => v.as_object().is_some_and(|props| {
            !props.is_empty() && props.keys().all(|k| k == "name" || k == "generateName")
        }),
        _ => false,
    })
}

/// `validateValueValidation`: branches of allOf/anyOf/oneOf/not hold value validations only.
fn value_validation(
    obj: &Map<String, Value>,
    skip_any_of: bool,
    skip_first_all_of: bool,
    p: &FieldPath,
    errs: &mut Vec<FieldError>,
) {
    if !skip_any_of {
        for (i, b) in obj
            .get("anyOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            nested(b, false, &p.child("anyOf").index(i), errs);
        }
    }
    for (i, b) in obj
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        nested(
            b,
            skip_first_all_of && i == 0,
            &p.child("allOf").index(i),
            errs,
        );
    }
    for (i, b) in obj
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        nested(b, false, &p.child("oneOf").index(i), errs);
    }
    if let Some(not) = obj.get("not") {
        nested(not, false, &p.child("not"), errs);
    }
    if let Some(pattern) = obj.get("pattern").and_then(Value::as_str)
        && let Err(e) = regex::Regex::new(pattern)
    {
        errs.push(FieldError::invalid(
            &p.child("pattern"),
            pattern,
            format!(
                "must be a valid regular expression, but isn't: {}",
                e.to_string().lines().last().unwrap_or("")
            ),
        ));
    }
}

/// `validateNestedValueValidation`.
fn nested(sch: &Value, skip_any_of: bool, p: &FieldPath, errs: &mut Vec<FieldError>) {
    let Some(obj) = sch.as_object() else {
        return;
    };
    value_validation(obj, skip_any_of, false, p, errs);
    if let Some(items) = obj.get("items") {
        nested(items, false, &p.child("items"), errs);
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            nested(v, false, &p.child("properties").key(k), errs);
        }
    }
    let checks: &[(&str, &str)] = &[
        ("type", "must be empty to be structural"),
        ("additionalProperties", "must be undefined to be structural"),
        ("default", "must be undefined to be structural"),
        ("title", "must be empty to be structural"),
        ("description", "must be empty to be structural"),
        ("nullable", "must be false to be structural"),
        ("externalDocs", "must be undefined to be structural"),
        (
            "x-kubernetes-preserve-unknown-fields",
            "must be false to be structural",
        ),
        (
            "x-kubernetes-embedded-resource",
            "must be false to be structural",
        ),
        (
            "x-kubernetes-int-or-string",
            "must be false to be structural",
        ),
        (
            "x-kubernetes-list-map-keys",
            "must be empty to be structural",
        ),
        (
            "x-kubernetes-list-type",
            "must be undefined to be structural",
        ),
        (
            "x-kubernetes-map-type",
            "must be undefined to be structural",
        ),
        ("x-kubernetes-validations", "must be empty to be structural"),
    ];
    for (key, msg) in checks {
        let present = match obj.get(*key) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(_) => true,
        };
        if present {
            errs.push(FieldError::forbidden(&p.child(key), *msg));
        }
    }
    if obj
        .get("properties")
        .and_then(|m| m.get("metadata"))
        .is_some()
    {
        errs.push(FieldError::forbidden(
            &p.child("properties").key("metadata"),
            "must not be specified in a nested context",
        ));
    }
}

/// `validateStructuralCompleteness`: fields named in value validations exist in the schema.
fn structural_completeness(sch: &Value, p: &FieldPath, errs: &mut Vec<FieldError>) {
    walk_completeness(Some(sch), sch, p, p, errs);
    fn walk_completeness(
        s: Option<&Value>,
        v: &Value,
        sp: &FieldPath,
        vp: &FieldPath,
        errs: &mut Vec<FieldError>,
    ) {
        let Some(obj) = v.as_object() else {
            return;
        };
        for (key, is_list) in [
            ("not", false),
            ("allOf", true),
            ("anyOf", true),
            ("oneOf", true),
        ] {
            let branches: Vec<(FieldPath, &Value)> = match (obj.get(key), is_list) {
                (Some(Value::Array(a)), true) => a
                    .iter()
                    .enumerate()
                    .map(|(i, b)| (vp.child(key).index(i), b))
                    .collect(),
                (Some(b), false) => vec![(vp.child(key), b)],
                _ => Vec::new(),
            };
            for (bp, b) in branches {
                nested_completeness(s, b, sp, &bp, errs);
            }
        }
    }
    fn nested_completeness(
        s: Option<&Value>,
        v: &Value,
        sp: &FieldPath,
        vp: &FieldPath,
        errs: &mut Vec<FieldError>,
    ) {
        let Some(s) = s else {
            errs.push(FieldError::required(
                sp,
                format!("because it is defined in {vp}"),
            ));
            return;
        };
        walk_completeness(Some(s), v, sp, vp, errs);
        if let Some(items) = v.get("items") {
            nested_completeness(
                s.get("items"),
                items,
                &sp.child("items"),
                &vp.child("items"),
                errs,
            );
        }
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            for (k, vf) in props {
                match s.get("properties").and_then(|m| m.get(k)) {
                    Some(sf) => nested_completeness(
                        Some(sf),
                        vf,
                        &sp.child("properties").key(k),
                        &vp.child("properties").key(k),
                        errs,
                    ),
                    None => errs.push(FieldError::required(
                        &sp.child("properties").key(k),
                        format!("because it is defined in {}", vp.child("properties").key(k)),
                    )),
                }
            }
        }
    }
}

/// `ValidateDefaults`: each default is pruned already and validates against its schema.
fn defaults_valid(
    s: Schema<'_>,
    raw: &Value,
    p: &FieldPath,
    compiled: &Compiled,
    root: bool,
    errs: &mut Vec<FieldError>,
) {
    if let Some(default) = raw.get("default") {
        let dp = p.child("default");
        if !root {
            let mut pruned = default.clone();
            prune_value(&mut pruned, s);
            if &pruned != default {
                errs.push(FieldError::invalid(
                    &dp,
                    BadValue::of(default),
                    "must not have unknown fields",
                ));
            }
            errs.extend(values::validate_at(s, default, compiled, dp.as_str()));
        }
    }
    if let Some(props) = raw.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            if root && k == "metadata" {
                continue;
            }
            if let Some(child) = s.property(k) {
                defaults_valid(
                    child,
                    v,
                    &p.child("properties").key(k),
                    compiled,
                    false,
                    errs,
                );
            }
        }
    }
    if let (Some(items), Some(is)) = (raw.get("items"), s.items()) {
        defaults_valid(is, items, &p.child("items"), compiled, false, errs);
    }
    if let (Some(ap), Some(aps)) = (
        raw.get("additionalProperties").filter(|a| a.is_object()),
        s.additional_properties(),
    ) {
        defaults_valid(
            aps,
            ap,
            &p.child("additionalProperties"),
            compiled,
            false,
            errs,
        );
    }
}

/// Structural pruning of a value against a node (for defaults).
fn prune_value(v: &mut Value, s: Schema<'_>) {
    use super::prune::{Child, Mode, child};
    match v {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                match child(s, &k, Mode::Structural, None) {
                    Child::Known { schema, .. } => {
                        if let Some(c) = map.get_mut(&k) {
                            prune_value(c, schema);
                        }
                    }
                    Child::Any => {}
                    Child::Unknown => {
                        map.remove(&k);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.items() {
                for i in items {
                    prune_value(i, is);
                }
            }
        }
        _ => {}
    }
}

/// Static CEL cost: per rule and for the whole schema.
fn cel_costs(
    ts: &crate::registry::TypeSchema,
    raw: &Value,
    p: &FieldPath,
    errs: &mut Vec<FieldError>,
) {
    let compiled = ts.compiled();
    if !compiled.has_rules() {
        return;
    }
    let mut total: u64 = 0;
    let mut contributors: Vec<(FieldPath, u64)> = Vec::new();
    walk_costs(
        ts.root(),
        raw,
        p,
        1,
        compiled,
        &mut total,
        &mut contributors,
        errs,
        0,
    );
    if total > STATIC_CRD_COST_LIMIT {
        for (rp, c) in &contributors {
            if *c > STATIC_CRD_COST_LIMIT / 100 {
                errs.push(FieldError::forbidden(rp, "contributed to estimated rule & messageExpression cost total exceeding cost limit for entire OpenAPIv3 schema"));
            }
        }
        errs.push(FieldError::forbidden(
            p,
            cost::exceeds_message(
                "x-kubernetes-validations estimated rule & messageExpression cost total for entire OpenAPIv3 schema",
                total,
                STATIC_CRD_COST_LIMIT,
            ),
        ));
    }
}

#[allow(clippy::too_many_arguments)]
fn walk_costs(
    s: Schema<'_>,
    raw: &Value,
    p: &FieldPath,
    cardinality: u64,
    compiled: &Compiled,
    total: &mut u64,
    contributors: &mut Vec<(FieldPath, u64)>,
    errs: &mut Vec<FieldError>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    if let Some(rules) = compiled.cel.by_node.get(&s.id()) {
        for rule in rules {
            let Ok(program) = &rule.program else {
                continue;
            };
            let mut c = cost::estimate(program.expression(), s);
            if let Some((_, Ok(mp))) = &rule.message_expression {
                c = c.saturating_add(cost::estimate(mp.expression(), s));
            }
            let rp = p
                .child("x-kubernetes-validations")
                .index(rule.index)
                .child("rule");
            if c > STATIC_COST_LIMIT {
                errs.push(FieldError::forbidden(
                    &rp,
                    cost::exceeds_message("estimated rule cost", c, STATIC_COST_LIMIT),
                ));
            }
            let weighted = c.saturating_mul(cardinality);
            *total = total.saturating_add(weighted);
            contributors.push((rp, weighted));
        }
    }
    if let Some(props) = raw.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            if let Some(child) = s.property(k) {
                walk_costs(
                    child,
                    v,
                    &p.child("properties").key(k),
                    cardinality,
                    compiled,
                    total,
                    contributors,
                    errs,
                    depth + 1,
                );
            }
        }
    }
    if let (Some(items), Some(is)) = (raw.get("items"), s.items()) {
        let c = cardinality.saturating_mul(cost::max_size(s).max(1));
        walk_costs(
            is,
            items,
            &p.child("items"),
            c,
            compiled,
            total,
            contributors,
            errs,
            depth + 1,
        );
    }
    if let (Some(ap), Some(aps)) = (
        raw.get("additionalProperties").filter(|a| a.is_object()),
        s.additional_properties(),
    ) {
        let c = cardinality.saturating_mul(cost::max_size(s).max(1));
        walk_costs(
            aps,
            ap,
            &p.child("additionalProperties"),
            c,
            compiled,
            total,
            contributors,
            errs,
            depth + 1,
        );
    }
}
