//! Value validation of custom resources against their structural schema, with kube-openapi's
//! semantics and messages (the validator apiextensions runs): the checks of each node in
//! kube-openapi's order (type, allOf/anyOf/oneOf/not, string, format, number, array, enum,
//! object), and the translation into field errors apiextensions does
//! (`kubeOpenAPIResultToFieldErrors`).
//!
//! On update, a subtree equal to its old value is not reported (validation ratcheting,
//! `CRDValidationRatcheting`, on by default since Kubernetes 1.30): objects correlate by key,
//! `x-kubernetes-list-type: map` items by their keys, sets by value.

use serde_json::{Map, Value};

use super::{
    compiled::Compiled,
    field::{BadValue, FieldError, FieldPath},
    formats, gofmt,
};
use crate::model::{AdditionalProperties, ListType, Schema};

const MAX_DEPTH: usize = 512;

/// Validates `value` against `root` (a custom resource schema root), returning the field errors
/// in kube-openapi's order. `old` enables ratcheting.
pub(crate) fn validate(
    root: Schema<'_>,
    value: &Value,
    old: Option<&Value>,
    compiled: &Compiled,
) -> Vec<FieldError> {
    let mut v = Validator {
        compiled,
        out: Vec::new(),
    };
    v.node(root, value, old, "", 0, true);
    v.out
}

/// Validates `value` against node `s`, naming errors under `prefix` (CRD defaults are checked
/// this way, under `...properties[x].default`).
pub(crate) fn validate_at(
    s: Schema<'_>,
    value: &Value,
    compiled: &Compiled,
    prefix: &str,
) -> Vec<FieldError> {
    let mut v = Validator {
        compiled,
        out: Vec::new(),
    };
    v.node(s, value, None, prefix, 0, false);
    v.out
}

struct Validator<'c> {
    compiled: &'c Compiled,
    out: Vec<FieldError>,
}

/// The field path of a kube-openapi error named `name` (its leading `.` dropped; the root is
/// Go's nil path).
fn err_path(name: &str) -> FieldPath {
    let trimmed = name.strip_prefix('.').unwrap_or(name);
    if trimmed.is_empty() {
        FieldPath::nil()
    } else {
        FieldPath::new(trimmed)
    }
}

fn child_name(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The JSON type kube-openapi infers for a decoded value.
fn sch_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The declared types as kube-openapi joins them (`integer,string` for int-or-string), and
/// whether a JSON type is among them.
struct Declared {
    ty: Option<&'static str>,
    int_or_string: bool,
}

impl Declared {
    fn of(s: Schema<'_>) -> Declared {
        let n = s.node();
        Declared {
            ty: n.ty.map(|t| t.as_str()),
            int_or_string: n.int_or_string,
        }
    }

    fn is_empty(&self) -> bool {
        self.ty.is_none() && !self.int_or_string
    }

    fn contains(&self, t: &str) -> bool {
        if self.int_or_string {
            t == "integer" || t == "string"
        } else {
            self.ty == Some(t)
        }
    }

    fn joined(&self) -> &'static str {
        if self.int_or_string {
            "integer,string"
        } else {
            self.ty.unwrap_or("")
        }
    }
}

/// The schema's format if apiextensions keeps it (others are stripped before validation).
fn kept_format(s: Schema<'_>) -> Option<&str> {
    s.node()
        .format
        .as_deref()
        .filter(|f| formats::is_supported(f))
}

fn is_integral(n: &serde_json::Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.fract() == 0.0 && f.is_finite())
}

impl Validator<'_> {
    fn push(&mut self, e: FieldError) {
        self.out.push(e);
    }

    /// Runs the node's validators; returns nothing, errors go to `self.out`.
    fn node(
        &mut self,
        s: Schema<'_>,
        v: &Value,
        old: Option<&Value>,
        path: &str,
        depth: usize,
        root: bool,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        // Ratcheting: an unchanged subtree keeps whatever errors it had.
        if old == Some(v) {
            return;
        }
        if v.is_null() {
            self.type_check(s, v, path);
            self.enum_check(s, v, path);
            return;
        }
        self.type_check(s, v, path);
        self.compositions(s, v, path, depth);
        if let Value::String(text) = v {
            self.string_checks(s, text, path);
            if let Some(f) = kept_format(s)
                && !formats::check(f, text)
            {
                self.push(FieldError::type_invalid(
                    &err_path(path),
                    text.as_str(),
                    format!("{path} in body must be of type {f}: {}", gofmt::quote(text)),
                ));
            }
        }
        if let Value::Number(num) = v {
            self.number_checks(s, num, v, path);
        }
        if let Value::Array(items) = v {
            self.array_checks(s, items, old, path, depth);
        }
        self.enum_check(s, v, path);
        if let Value::Object(map) = v {
            self.object_checks(s, map, old, path, depth, root);
        }
    }

    fn type_check(&mut self, s: Schema<'_>, v: &Value, path: &str) {
        let types = Declared::of(s);
        if types.is_empty() {
            return;
        }
        let n = s.node();
        if v.is_null() {
            if !n.nullable {
                self.push(FieldError::type_invalid(
                    &err_path(path),
                    "null",
                    format!(
                        "{path} in body must be of type {}: \"null\"",
                        types.joined()
                    ),
                ));
            }
            return;
        }
        let actual = sch_type(v);
        let contains = |t: &str| types.contains(t);
        // A string or array value with a format of a non-numeric schema passes the type check
        // (kube-openapi leaves it to the format validator).
        if !(contains("number") || contains("integer"))
            && kept_format(s).is_some()
            && matches!(v, Value::String(_) | Value::Array(_))
        {
            return;
        }
        let float_int = actual == "number"
            && contains("integer")
            && matches!(v, Value::Number(num) if is_integral(num));
        let int_float = actual == "integer" && contains("number");
        if !(contains(actual) || float_int || int_float) {
            self.push(FieldError::type_invalid(
                &err_path(path),
                actual,
                format!(
                    "{path} in body must be of type {}: {}",
                    types.joined(),
                    gofmt::quote(actual)
                ),
            ));
        }
    }

    /// Validates `v` against a branch schema in isolation: its errors, or none.
    fn branch(&mut self, b: Schema<'_>, v: &Value, path: &str, depth: usize) -> Vec<FieldError> {
        let saved = std::mem::take(&mut self.out);
        self.node(b, v, None, path, depth + 1, false);
        std::mem::replace(&mut self.out, saved)
    }

    fn composite(&mut self, msg: String) {
        self.push(FieldError::invalid(&FieldPath::nil(), "", msg));
    }

    fn compositions(&mut self, s: Schema<'_>, v: &Value, path: &str, depth: usize) {
        let n = s.node();
        // Quoted for the messages of failed compositions only: most nodes have none.
        let quoted = || gofmt::quote(path);
        if !n.any_of.is_empty() {
            let mut best: Option<Vec<FieldError>> = None;
            let mut ok = false;
            for b in s.any_of() {
                let errs = self.branch(b, v, path, depth);
                if errs.is_empty() {
                    ok = true;
                    break;
                }
                if best.as_ref().is_none_or(|prev| errs.len() < prev.len()) {
                    best = Some(errs);
                }
            }
            if !ok {
                self.composite(format!(
                    "{} must validate at least one schema (anyOf)",
                    quoted()
                ));
                self.out.extend(best.unwrap_or_default());
            }
        }
        if !n.one_of.is_empty() {
            let mut valid = 0;
            let mut best: Option<Vec<FieldError>> = None;
            for b in s.one_of() {
                let errs = self.branch(b, v, path, depth);
                if errs.is_empty() {
                    valid += 1;
                    best = None;
                } else if valid == 0 && best.as_ref().is_none_or(|prev| errs.len() < prev.len()) {
                    best = Some(errs);
                }
            }
            if valid != 1 {
                let more = if valid == 0 {
                    "Found none valid".to_owned()
                } else {
                    format!("Found {valid} valid alternatives")
                };
                self.composite(format!(
                    "{} must validate one and only one schema (oneOf). {more}",
                    quoted()
                ));
                if valid == 0 {
                    self.out.extend(best.unwrap_or_default());
                }
            }
        }
        if !n.all_of.is_empty() {
            let mut valid = 0;
            let total = n.all_of.len();
            for b in s.all_of() {
                let errs = self.branch(b, v, path, depth);
                if errs.is_empty() {
                    valid += 1;
                }
                self.out.extend(errs);
            }
            if valid != total {
                let more = if valid == 0 { ". None validated" } else { "" };
                self.composite(format!(
                    "{} must validate all the schemas (allOf){more}",
                    quoted()
                ));
            }
        }
        if let Some(not) = s.not()
            && self.branch(not, v, path, depth).is_empty()
        {
            self.composite(format!("{} must not validate the schema (not)", quoted()));
        }
    }

    fn string_checks(&mut self, s: Schema<'_>, text: &str, path: &str) {
        let l = &s.node().limits;
        let len = text.chars().count() as u64;
        if let Some(max) = l.max_length
            && len > max
        {
            self.push(FieldError::too_long(&err_path(path), max as i64));
            return;
        }
        if let Some(min) = l.min_length
            && len < min
        {
            self.push(FieldError::invalid(
                &err_path(path),
                text,
                format!("{path} in body should be at least {min} chars long"),
            ));
            return;
        }
        if let Some(pattern) = l.pattern.as_deref()
            && let Some(re) = self.compiled.pattern(s.id())
            && !re.is_match(text)
        {
            self.push(FieldError::invalid(
                &err_path(path),
                text,
                format!("{path} in body should match '{pattern}'"),
            ));
        }
    }

    fn number_checks(&mut self, s: Schema<'_>, num: &serde_json::Number, v: &Value, path: &str) {
        let l = &s.node().limits;
        let f = num.as_f64().unwrap_or(0.0);
        let is_int = num.is_i64() || num.is_u64();
        // kube-openapi prints a bound as int64 when both the value and the bound are integral.
        let bound = |b: f64| {
            if is_int && b.fract() == 0.0 && b.abs() < 9.2e18 {
                (b as i64).to_string()
            } else {
                gofmt::float_v(b)
            }
        };
        if let Some(m) = l.multiple_of
            && m > 0.0
        {
            let q = f / m;
            if (q - q.round()).abs() > 1e-9 * q.abs().max(1.0) {
                self.push(FieldError::invalid(
                    &err_path(path),
                    BadValue::of(v),
                    format!("{path} in body should be a multiple of {}", bound(m)),
                ));
            }
        }
        if let Some(max) = l.maximum {
            let fails = if l.exclusive_maximum {
                f >= max
            } else {
                f > max
            };
            if fails {
                let rel = if l.exclusive_maximum {
                    "less than"
                } else {
                    "less than or equal to"
                };
                self.push(FieldError::invalid(
                    &err_path(path),
                    BadValue::of(v),
                    format!("{path} in body should be {rel} {}", bound(max)),
                ));
            }
        }
        if let Some(min) = l.minimum {
            let fails = if l.exclusive_minimum {
                f <= min
            } else {
                f < min
            };
            if fails {
                let rel = if l.exclusive_minimum {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                self.push(FieldError::invalid(
                    &err_path(path),
                    BadValue::of(v),
                    format!("{path} in body should be {rel} {}", bound(min)),
                ));
            }
        }
    }

    fn array_checks(
        &mut self,
        s: Schema<'_>,
        items: &[Value],
        old: Option<&Value>,
        path: &str,
        depth: usize,
    ) {
        let n = s.node();
        if let Some(item_schema) = s.items() {
            let old_items = old.and_then(Value::as_array);
            for (i, item) in items.iter().enumerate() {
                let old_item = old_items.and_then(|o| correlate_item(s, item, i, o));
                self.node(
                    item_schema,
                    item,
                    old_item,
                    &format!("{path}[{i}]"),
                    depth + 1,
                    false,
                );
            }
        }
        let size = items.len() as i64;
        if let Some(min) = n.limits.min_items
            && (size as u64) < min
        {
            self.push(FieldError::invalid(
                &err_path(path),
                BadValue::Int(size),
                format!("{path} in body should have at least {min} items"),
            ));
        }
        if let Some(max) = n.limits.max_items
            && (size as u64) > max
        {
            self.push(FieldError::too_many(&err_path(path), size, max as i64));
        }
        if n.limits.unique_items {
            let mut dup = false;
            for (i, a) in items.iter().enumerate() {
                if items[..i].contains(a) {
                    dup = true;
                    break;
                }
            }
            if dup {
                self.push(FieldError::invalid(
                    &err_path(path),
                    "",
                    format!("{path} in body shouldn't contain duplicates"),
                ));
            }
        }
    }

    fn enum_check(&mut self, s: Schema<'_>, v: &Value, path: &str) {
        let Some(values) = s.node().enum_values.as_deref() else {
            return;
        };
        if values.is_empty() || values.iter().any(|e| json_equal(e, v)) {
            return;
        }
        let allowed: Vec<String> = values
            .iter()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                other => gofmt::json(other),
            })
            .collect();
        self.push(FieldError::not_supported(
            &err_path(path),
            BadValue::of(v),
            &allowed,
        ));
    }

    fn object_checks(
        &mut self,
        s: Schema<'_>,
        map: &Map<String, Value>,
        old: Option<&Value>,
        path: &str,
        depth: usize,
        root: bool,
    ) {
        let n = s.node();
        let count = map.len() as i64;
        if let Some(min) = n.limits.min_properties
            && (count as u64) < min
        {
            self.push(FieldError::invalid(
                &err_path(path),
                BadValue::Int(count),
                format!("{path} in body should have at least {min} properties"),
            ));
            return;
        }
        if let Some(max) = n.limits.max_properties
            && (count as u64) > max
        {
            self.push(FieldError::too_many(&err_path(path), count, max as i64));
            return;
        }
        let old_map = old.and_then(Value::as_object);
        let map_correlates = n.map_type != Some(crate::model::MapType::Atomic);
        match n.additional_properties {
            AdditionalProperties::Schema(_) => {
                if let Some(ap) = s.additional_properties() {
                    for (k, child) in map {
                        if s.property(k).is_none() {
                            let old_child =
                                old_map.filter(|_| map_correlates).and_then(|m| m.get(k));
                            self.node(
                                ap,
                                child,
                                old_child,
                                &format!("{path}.{k}"),
                                depth + 1,
                                false,
                            );
                        }
                    }
                }
            }
            AdditionalProperties::Bool(false) => {
                for k in map.keys() {
                    if s.property(k).is_none() {
                        self.push(FieldError::invalid(
                            &err_path(path),
                            k.as_str(),
                            format!("{path}.{k} in body is a forbidden property"),
                        ));
                    }
                }
            }
            _ => {}
        }
        // kube-openapi walks the declared properties present in the object; iterating the
        // object's (sorted) keys visits the same ones in the same order, with fewer lookups.
        for (k, child) in map {
            let Some(prop) = s.property(k) else {
                continue;
            };
            // The resource's metadata is ObjectMeta, checked on its own; only the name
            // restrictions a CRD may state apply.
            if root && k == "metadata" {
                if let Some(meta) = self.compiled.root_meta() {
                    let old_child = old_map.and_then(|m| m.get(k));
                    self.node(
                        meta,
                        child,
                        old_child,
                        &child_name(path, k),
                        depth + 1,
                        false,
                    );
                }
                continue;
            }
            if root && (k == "apiVersion" || k == "kind") {
                continue;
            }
            let old_child = old_map.and_then(|m| m.get(k));
            self.node(
                prop,
                child,
                old_child,
                &child_name(path, k),
                depth + 1,
                false,
            );
        }
        for req in n.required.iter() {
            if !map.contains_key(&**req) {
                self.push(FieldError::required(
                    &err_path(&format!("{path}.{req}")),
                    "",
                ));
            }
        }
    }
}

/// Numbers compare by value (`1` equals `1.0`), as Go's conversion before DeepEqual does.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The old value correlated with item `i` of a new list, for ratcheting: map-list items by key,
/// set items by value; atomic lists do not correlate their items.
pub(crate) fn correlate_item<'o>(
    list: Schema<'_>,
    item: &Value,
    i: usize,
    old: &'o [Value],
) -> Option<&'o Value> {
    let n = list.node();
    match n.list_type {
        Some(ListType::Map) => {
            let keys = &n.list_map_keys;
            old.iter().find(|o| {
                keys.iter()
                    .all(|k| o.get(&**k).is_some() && o.get(&**k) == item.get(&**k))
            })
        }
        Some(ListType::Set) => old.iter().find(|o| *o == item),
        _ => {
            let _ = i;
            None
        }
    }
}
