//! `x-kubernetes-validations`: CEL rules compiled once per schema (the cel interpreter and the
//! Kubernetes function libraries come from kube-cel) and evaluated as apiextensions does:
//! `self` bound to the value at the rule's node (declared field names escaped, `date-time` as
//! timestamps, `duration` as durations, `byte` as bytes; at the resource root only
//! `metadata.name` and `metadata.generateName` visible), `oldSelf` on update (transition rules
//! are skipped on create unless `optionalOldSelf`), `message`/`messageExpression`, `reason`,
//! `fieldPath`, runtime cost limits, and ratcheting (errors of non-transition rules on unchanged
//! values become warnings).
//!
//! kube-cel's own tree walker converts the whole value at every schema node and escapes field
//! names differently from the API server (`my_field` would become `my__field`), so the walk and
//! the value conversion are done here; kube-cel supplies the language and libraries.

use std::{borrow::Cow, collections::HashMap, sync::Arc};

use kube_cel::{
    KubeCelExt,
    cel::{
        self, Context, ExecutionError, IdedExpr, Program,
        common::ast::{EntryExpr, Expr},
        objects::{Key, Map as CelMap, OptionalValue},
    },
};
use serde_json::Value;

use super::{
    cost,
    field::{BadValue, ErrorType, FieldError, FieldPath},
    formats, gofmt,
};
use crate::model::{AdditionalProperties, JsonType, ListType, MapType, NodeId, Schema};

/// Largest cost of one rule evaluation (`PerCallLimit`).
pub const PER_CALL_LIMIT: u64 = 1_000_000;
/// Cost all rules of one object may spend (`RuntimeCELCostBudget`).
pub const RUNTIME_COST_BUDGET: i64 = 10_000_000;
/// Longest message a `messageExpression` may produce.
const MAX_MESSAGE_EXPRESSION_BYTES: usize = 5 * 1024;

/// One compiled rule of a node's `x-kubernetes-validations`.
#[derive(Debug)]
pub(crate) struct CelRule {
    /// Position in the node's list.
    pub index: usize,
    /// The rule as written in the CRD (for error values).
    pub raw: Value,
    pub rule: String,
    pub program: Result<Program, String>,
    pub message: String,
    pub message_expression: Option<(String, Result<Program, String>)>,
    pub reason: Option<String>,
    /// `fieldPath` relative to the node, normalised (`spec.x`, `map[key]`), or why it is invalid.
    pub field_path: Option<Result<String, String>>,
    pub optional_old_self: bool,
    pub uses_old_self: bool,
    /// The fields of `self`/`oldSelf` the rule (and its messageExpression) selects, when it
    /// uses them only through field selection: the values bound for evaluation are cut down to
    /// these (the interpreter copies bound values on every reference). `None`: the whole value.
    pub fields: Option<Vec<String>>,
}

/// The first-level fields of `self` and `oldSelf` an expression selects, or `None` when it uses
/// either as a whole (compared, iterated, passed to a function).
fn selected_fields(e: &IdedExpr, out: &mut Option<Vec<String>>) {
    match &e.expr {
        Expr::Select(sel) => {
            if let Expr::Ident(name) = &sel.operand.expr
                && (name == "self" || name == "oldSelf")
            {
                if let Some(fields) = out.as_mut()
                    && !fields.contains(&sel.field)
                {
                    fields.push(sel.field.clone());
                }
                return;
            }
            selected_fields(&sel.operand, out);
        }
        Expr::Ident(name) => {
            if name == "self" || name == "oldSelf" {
                *out = None;
            }
        }
        Expr::Call(call) => {
            if let Some(t) = &call.target {
                selected_fields(t, out);
            }
            for a in &call.args {
                selected_fields(a, out);
            }
        }
        Expr::Comprehension(c) => {
            for x in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                selected_fields(x, out);
            }
        }
        Expr::List(l) => {
            for x in &l.elements {
                selected_fields(x, out);
            }
        }
        Expr::Map(m) => {
            for entry in &m.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    selected_fields(&me.key, out);
                    selected_fields(&me.value, out);
                }
            }
        }
        Expr::Struct(st) => {
            for entry in &st.entries {
                if let EntryExpr::StructField(f) = &entry.expr {
                    selected_fields(&f.value, out);
                }
            }
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// The rules of a schema, by node.
#[derive(Debug, Default)]
pub(crate) struct CelRules {
    pub by_node: HashMap<NodeId, Vec<CelRule>>,
    /// Nodes whose subtree (including themselves) holds rules: the walk skips the others.
    pub below: HashMap<NodeId, bool>,
}

impl CelRules {
    pub(crate) fn is_empty(&self) -> bool {
        self.by_node.is_empty()
    }

    fn has_below(&self, id: NodeId) -> bool {
        self.below.get(&id).copied().unwrap_or(false)
    }
}

fn compile(source: &str) -> Result<Program, String> {
    Program::compile(source).map_err(|e| e.to_string())
}

/// Compiles the rules of one node.
pub(crate) fn compile_node(s: Schema<'_>) -> Vec<CelRule> {
    let mut out = Vec::new();
    for (index, raw) in s.node().validations.iter().enumerate() {
        let rule = raw
            .get("rule")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let program = compile(&rule);
        let uses_old_self = program
            .as_ref()
            .is_ok_and(|p| p.references().has_variable("oldSelf"));
        let message_expression = raw
            .get("messageExpression")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(|m| (m.to_owned(), compile(m)));
        let field_path = raw
            .get("fieldPath")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(|p| normalize_field_path(p, s));
        let mut fields = Some(Vec::new());
        if let Ok(p) = &program {
            selected_fields(p.expression(), &mut fields);
        }
        if let Some((_, Ok(mp))) = &message_expression {
            selected_fields(mp.expression(), &mut fields);
        }
        out.push(CelRule {
            fields,
            index,
            raw: raw.clone(),
            message: raw
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            reason: raw.get("reason").and_then(Value::as_str).map(str::to_owned),
            optional_old_self: raw.get("optionalOldSelf").and_then(Value::as_bool) == Some(true),
            rule,
            program,
            message_expression,
            field_path,
            uses_old_self,
        });
    }
    out
}

/// `ValidFieldPath`: a JSON path of `.field` and `['key']` steps that exists in the schema, as a
/// field path string (`spec.x`, `labels[key]`).
pub(crate) fn normalize_field_path(json_path: &str, s: Schema<'_>) -> Result<String, String> {
    let mut out = FieldPath::root();
    let mut cur = s;
    let b = json_path.as_bytes();
    let mut i = 0;
    let step =
        |cur: Schema<'_>, name: &str, out: &FieldPath| -> Result<(FieldPath, bool), String> {
            if !cur.node().properties.is_empty() {
                if cur.property(name).is_some() {
                    Ok((out.child(name), true))
                } else {
                    Err("does not refer to a valid field".into())
                }
            } else if cur.additional_properties().is_some() {
                Ok((out.key(name), false))
            } else {
                Err("does not refer to a valid field".into())
            }
        };
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && b[end] != b'.' && b[end] != b'[' {
                    end += 1;
                }
                if start == end {
                    return Err("unexpected end of JSON path".into());
                }
                let name = &json_path[start..end];
                let (next, named) = step(cur, name, &out)?;
                cur = if named {
                    cur.property(name).unwrap_or(cur)
                } else {
                    cur.additional_properties().unwrap_or(cur)
                };
                out = next;
                i = end;
            }
            b'[' => {
                let rest = &json_path[i + 1..];
                let Some(stripped) = rest.strip_prefix('\'') else {
                    return Err(format!(
                        "expected single quoted string but got {}",
                        rest.split(']').next().unwrap_or("")
                    ));
                };
                let Some(close) = stripped.find("']") else {
                    return Err("unexpected end of JSON path".into());
                };
                let name = &stripped[..close];
                let (next, named) = step(cur, name, &out)?;
                cur = if named {
                    cur.property(name).unwrap_or(cur)
                } else {
                    cur.additional_properties().unwrap_or(cur)
                };
                out = next;
                i += 1 + 1 + close + 2;
            }
            other => return Err(format!("expected [ or . but got: {}", other as char)),
        }
    }
    Ok(out.as_str().to_owned())
}

// --- values --------------------------------------------------------------------------------

const CEL_RESERVED: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// The API server's field-name escaping (`cel.Escape`): `__` → `__underscores__`, `.` →
/// `__dot__`, `-` → `__dash__`, `/` → `__slash__`, reserved words → `__word__`; names with other
/// characters, or starting with a digit, are not accessible.
pub fn escape_field_name(ident: &str) -> Option<Cow<'_, str>> {
    let first = ident.chars().next()?;
    if first.is_ascii_digit() {
        return None;
    }
    if CEL_RESERVED.contains(&ident) {
        return Some(Cow::Owned(format!("__{ident}__")));
    }
    let plain = ident
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !ident.contains("__");
    if plain {
        return Some(Cow::Borrowed(ident));
    }
    let mut out = String::with_capacity(ident.len() + 8);
    let b = ident.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' if b.get(i + 1) == Some(&b'_') => {
                out.push_str("__underscores__");
                i += 2;
                continue;
            }
            b'.' => out.push_str("__dot__"),
            b'-' => out.push_str("__dash__"),
            b'/' => out.push_str("__slash__"),
            c if c.is_ascii_alphanumeric() || c == b'_' => out.push(c as char),
            _ => return None,
        }
        i += 1;
    }
    Some(Cow::Owned(out))
}

fn key(s: impl Into<String>) -> Key {
    Key::String(Arc::new(s.into()))
}

fn number(n: &serde_json::Number, as_double: bool) -> cel::Value {
    if as_double {
        return cel::Value::Float(n.as_f64().unwrap_or(f64::NAN));
    }
    if let Some(i) = n.as_i64() {
        cel::Value::Int(i)
    } else if let Some(u) = n.as_u64() {
        cel::Value::UInt(u)
    } else {
        cel::Value::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Converts a JSON value for CEL following its schema (`UnstructuredToVal`): declared field
/// names escaped (map keys not), formats as CEL types, a resource's metadata reduced to its
/// name fields.
pub fn to_cel(v: &Value, s: Option<Schema<'_>>, resource_root: bool, depth: usize) -> cel::Value {
    to_cel_fields(v, s, resource_root, depth, None)
}

/// [`to_cel`] keeping only the given (escaped) first-level fields of an object.
fn to_cel_fields(
    v: &Value,
    s: Option<Schema<'_>>,
    resource_root: bool,
    depth: usize,
    only: Option<&[String]>,
) -> cel::Value {
    if depth > 256 {
        return cel::Value::Null;
    }
    match v {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => number(n, s.is_some_and(|s| s.node().ty == Some(JsonType::Number))),
        Value::String(text) => string_value(text, s),
        Value::Array(items) => {
            let item_schema = s.and_then(|s| s.items());
            cel::Value::List(Arc::new(
                items
                    .iter()
                    .map(|i| to_cel(i, item_schema, false, depth + 1))
                    .collect(),
            ))
        }
        Value::Object(map) => {
            let mut out: HashMap<Key, cel::Value> = HashMap::with_capacity(map.len());
            let node = s.map(|s| s.node());
            // Maps (additionalProperties) and objects of unknown fields keep their keys as written;
            // declared fields are escaped.
            let is_map = node.is_some_and(|n| {
                n.properties.is_empty()
                    && (matches!(n.additional_properties, AdditionalProperties::Schema(_))
                        || n.preserve_unknown_fields)
            });
            let embedded = resource_root || node.is_some_and(|n| n.embedded_resource);
            for (k, child) in map {
                if embedded
                    && k == "metadata"
                    && only.is_none_or(|o| o.iter().any(|f| f == "metadata"))
                {
                    // Only the name fields of a resource's metadata are visible to rules.
                    let mut meta: HashMap<Key, cel::Value> = HashMap::new();
                    if let Some(m) = child.as_object() {
                        for f in ["name", "generateName"] {
                            if let Some(Value::String(x)) = m.get(f) {
                                meta.insert(key(f), cel::Value::String(Arc::new(x.clone())));
                            }
                        }
                    }
                    out.insert(
                        key("metadata"),
                        cel::Value::Map(CelMap {
                            map: Arc::new(meta),
                        }),
                    );
                    continue;
                }
                let child_schema =
                    s.and_then(|s| s.property(k).or_else(|| s.additional_properties()));
                let name = if is_map || s.is_none() {
                    Some(Cow::Borrowed(k.as_str()))
                } else {
                    escape_field_name(k)
                };
                if let (Some(only), Some(n)) = (only, name.as_deref())
                    && !only.iter().any(|f| f == n)
                {
                    continue;
                }
                if let Some(name) = name {
                    out.insert(
                        key(name.into_owned()),
                        to_cel(child, child_schema, false, depth + 1),
                    );
                }
            }
            cel::Value::Map(CelMap { map: Arc::new(out) })
        }
    }
}

fn string_value(text: &str, s: Option<Schema<'_>>) -> cel::Value {
    let n = s.map(|s| s.node());
    if n.is_some_and(|n| n.int_or_string) {
        return cel::Value::String(Arc::new(text.to_owned()));
    }
    match n.and_then(|n| n.format.as_deref()) {
        Some("date-time") => {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
                return cel::Value::Timestamp(t);
            }
        }
        Some("duration") => {
            if let Some(d) = parse_go_duration(text) {
                return cel::Value::Duration(d);
            }
        }
        Some("byte") => {
            use base64::Engine;
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text) {
                return cel::Value::Bytes(Arc::new(bytes));
            }
        }
        _ => {}
    }
    cel::Value::String(Arc::new(text.to_owned()))
}

/// Go's `time.ParseDuration`.
fn parse_go_duration(s: &str) -> Option<chrono::Duration> {
    if !formats::is_go_duration(s) {
        return None;
    }
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body == "0" {
        return Some(chrono::Duration::zero());
    }
    let mut total = 0f64;
    let mut rest = body;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let (unit_ns, len) = [
            ("ns", 1.0),
            ("us", 1e3),
            ("µs", 1e3),
            ("μs", 1e3),
            ("ms", 1e6),
            ("s", 1e9),
            ("m", 60e9),
            ("h", 3600e9),
        ]
        .iter()
        .filter(|(u, _)| rest.starts_with(u))
        .max_by_key(|(u, _)| u.len())
        .map(|(u, f)| (*f, u.len()))?;
        total += value * unit_ns;
        rest = &rest[len..];
    }
    let ns = if neg { -total } else { total };
    if !ns.is_finite() || ns.abs() > 9.2e18 {
        return None;
    }
    Some(chrono::Duration::nanoseconds(ns as i64))
}

// --- evaluation ----------------------------------------------------------------------------

thread_local! {
    /// The function libraries, registered once per thread (a cel context is not shared between
    /// threads).
    static BASE: Context<'static> = Context::default().with_all();
}

/// What evaluating the rules of one object produced.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub errors: Vec<FieldError>,
    /// Errors of rules on unchanged values (ratcheting): sent as `Warning` headers.
    pub warnings: Vec<String>,
}

struct Walk<'r> {
    rules: &'r CelRules,
    budget: i64,
    out: Outcome,
}

/// Evaluates every rule of the schema against `v` (and `old` on update).
pub(crate) fn validate(
    rules: &CelRules,
    root: Schema<'_>,
    v: &Value,
    old: Option<&Value>,
    path: &FieldPath,
) -> Outcome {
    let mut w = Walk {
        rules,
        budget: RUNTIME_COST_BUDGET,
        out: Outcome::default(),
    };
    let unchanged = old == Some(v);
    w.node(root, v, old, path, true, unchanged, 0);
    w.out
}

/// The schema type apiextensions puts in error values (`sts.Type`).
fn type_name(s: Schema<'_>) -> &'static str {
    s.node().ty.map(JsonType::as_str).unwrap_or("")
}

impl Walk<'_> {
    /// Returns false when the budget ran out (stop everything).
    #[allow(clippy::too_many_arguments)]
    fn node(
        &mut self,
        s: Schema<'_>,
        v: &Value,
        old: Option<&Value>,
        path: &FieldPath,
        resource_root: bool,
        unchanged: bool,
        depth: usize,
    ) -> bool {
        if depth > 256 || v.is_null() || !self.rules.has_below(s.id()) {
            return true;
        }
        if let Some(rules) = self.rules.by_node.get(&s.id())
            && !self.expressions(s, rules, v, old, path, resource_root, unchanged)
        {
            return false;
        }
        for branch in s.all_of() {
            if !self.node(branch, v, old, path, resource_root, false, depth + 1) {
                return false;
            }
        }
        let n = s.node();
        match v {
            Value::Object(map) => {
                let correlatable = n.map_type != Some(MapType::Atomic);
                let old_map = old.and_then(Value::as_object).filter(|_| correlatable);
                for (k, child) in map {
                    let embedded_child = |cs: Schema<'_>| cs.node().embedded_resource;
                    let (cs, child_path) = if let Some(p) = s.property(k) {
                        (p, path.child(k))
                    } else if let Some(ap) = s.additional_properties() {
                        (ap, path.key(k))
                    } else {
                        continue;
                    };
                    let old_child = old_map.and_then(|m| m.get(k));
                    // Ratcheting looks at the nearest value that correlates with an old one.
                    let child_unchanged = if correlatable {
                        old_child.is_some_and(|o| o == child)
                    } else {
                        unchanged
                    };
                    if !self.node(
                        cs,
                        child,
                        old_child,
                        &child_path,
                        embedded_child(cs),
                        child_unchanged,
                        depth + 1,
                    ) {
                        return false;
                    }
                }
            }
            Value::Array(items) => {
                let Some(is) = s.items() else {
                    return true;
                };
                let old_items = old.and_then(Value::as_array);
                for (i, item) in items.iter().enumerate() {
                    // Only map-lists correlate items with their old values for CEL.
                    let old_item = match n.list_type {
                        Some(ListType::Map) => {
                            old_items.and_then(|o| super::values::correlate_item(s, item, i, o))
                        }
                        _ => None,
                    };
                    let item_unchanged = match n.list_type {
                        Some(ListType::Map) => old_item.is_some_and(|o| o == item),
                        _ => unchanged,
                    };
                    if !self.node(
                        is,
                        item,
                        old_item,
                        &path.index(i),
                        is.node().embedded_resource,
                        item_unchanged,
                        depth + 1,
                    ) {
                        return false;
                    }
                }
            }
            _ => {}
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn expressions(
        &mut self,
        s: Schema<'_>,
        rules: &[CelRule],
        v: &Value,
        old: Option<&Value>,
        path: &FieldPath,
        resource_root: bool,
        unchanged: bool,
    ) -> bool {
        let ty = type_name(s);
        if self.budget <= 0 {
            self.out.errors.push(FieldError::invalid(
                path,
                ty,
                "validation failed due to running out of cost budget, no further validation rules will be run",
            ));
            return false;
        }
        // Values bound as a whole, built once for the rules that need them.
        let mut whole: Option<(cel::Value, Option<cel::Value>)> = None;
        for rule in rules {
            let program = match &rule.program {
                Ok(p) => p,
                Err(e) => {
                    self.out.errors.push(FieldError::invalid(
                        path,
                        ty,
                        format!("rule compile error: {e}"),
                    ));
                    continue;
                }
            };
            if rule.rule.trim().is_empty() {
                continue;
            }
            if rule.uses_old_self && old.is_none() && !rule.optional_old_self {
                continue;
            }
            // The cel interpreter cannot meter evaluation, so the cost is estimated from the
            // rule and the actual sizes of the values before it runs.
            let rule_cost = cost::runtime(program.expression(), v, old, Some(s));
            if rule_cost > PER_CALL_LIMIT {
                self.out.errors.push(FieldError::invalid(
                    path,
                    ty,
                    format!(
                        "'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: {}",
                        rule_error_string(rule)
                    ),
                ));
                return false;
            }
            if rule_cost as i64 > self.budget {
                self.out.errors.push(FieldError::invalid(
                    path,
                    ty,
                    "validation failed due to running out of cost budget, no further validation rules will be run",
                ));
                return false;
            }
            self.budget -= rule_cost as i64;
            let (self_val, old_val) = match &rule.fields {
                Some(fields) => (
                    to_cel_fields(v, Some(s), resource_root, 0, Some(fields)),
                    old.map(|o| to_cel_fields(o, Some(s), resource_root, 0, Some(fields))),
                ),
                None => whole
                    .get_or_insert_with(|| {
                        (
                            to_cel(v, Some(s), resource_root, 0),
                            old.map(|o| to_cel(o, Some(s), resource_root, 0)),
                        )
                    })
                    .clone(),
            };
            let result = BASE.with(|base| {
                let mut ctx = base.new_inner_scope();
                ctx.add_variable_from_value("self", self_val);
                bind_old_self(&mut ctx, rule, old_val.as_ref());
                let r = program.execute(&ctx);
                let msg = match (&r, &rule.message_expression) {
                    (Ok(cel::Value::Bool(false)), Some((src, Ok(mp)))) => {
                        Some(message_expression(mp, src, &ctx))
                    }
                    _ => None,
                };
                (r, msg)
            });
            let (result, msg) = result;
            match result {
                Ok(cel::Value::Bool(true)) => {}
                Ok(cel::Value::Bool(false)) => {
                    let field = match &rule.field_path {
                        Some(Ok(p)) => path.child(p),
                        _ => path.clone(),
                    };
                    let detail = match msg {
                        Some(Ok(m)) => m,
                        _ => rule_message_or_default(rule),
                    };
                    let bad =
                        if matches!(s.node().ty, Some(JsonType::Object) | Some(JsonType::Array)) {
                            BadValue::Omit
                        } else {
                            BadValue::of(v)
                        };
                    let err = field_error_for_reason(&field, bad, detail, rule.reason.as_deref());
                    if !rule.uses_old_self && unchanged {
                        self.out.warnings.push(err.to_string());
                    } else {
                        self.out.errors.push(err);
                    }
                }
                Ok(_) => {
                    self.out.errors.push(FieldError::invalid(
                        path,
                        ty,
                        format!(
                            "rule did not evaluate to bool evaluating rule: {}",
                            rule_error_string(rule)
                        ),
                    ));
                }
                Err(e) => {
                    let detail = match cel_error(&e) {
                        CelError::NoSuchOverload => format!(
                            "'no such overload': call arguments did not match a supported operator, function or macro signature for rule: {}",
                            rule_error_string(rule)
                        ),
                        CelError::Other(text) => {
                            format!("{text} evaluating rule: {}", rule_error_string(rule))
                        }
                    };
                    self.out.errors.push(FieldError::invalid(path, ty, detail));
                }
            }
        }
        true
    }
}

fn bind_old_self(ctx: &mut Context<'_>, rule: &CelRule, old: Option<&cel::Value>) {
    if rule.optional_old_self {
        let opt = match old {
            Some(o) => OptionalValue::of(o.clone()),
            None => OptionalValue::none(),
        };
        ctx.add_variable_from_value("oldSelf", cel::Value::Opaque(Arc::new(opt)));
    } else if let Some(o) = old {
        ctx.add_variable_from_value("oldSelf", o.clone());
    }
}

/// Evaluates a `messageExpression`; an error means the static message is used.
fn message_expression(program: &Program, _src: &str, ctx: &Context<'_>) -> Result<String, String> {
    match program.execute(ctx) {
        Ok(cel::Value::String(s)) => {
            let trimmed = s.trim();
            if trimmed.len() > MAX_MESSAGE_EXPRESSION_BYTES {
                Err(format!(
                    "messageExpression beyond allowable length of {MAX_MESSAGE_EXPRESSION_BYTES}"
                ))
            } else if trimmed.contains('\n') {
                Err("messageExpression should not contain line breaks".into())
            } else if trimmed.is_empty() {
                Err("messageExpression should evaluate to a non-empty string".into())
            } else {
                Ok(trimmed.to_owned())
            }
        }
        Ok(_) => Err("messageExpression failed to convert to string".into()),
        Err(e) => Err(format!("messageExpression evaluation failed due to: {e}")),
    }
}

/// `ruleMessageOrDefault`.
fn rule_message_or_default(rule: &CelRule) -> String {
    if rule.message.is_empty() {
        format!("failed rule: {}", rule_error_string(rule))
    } else {
        rule.message.trim().to_owned()
    }
}

/// `ruleErrorString`.
fn rule_error_string(rule: &CelRule) -> String {
    if rule.message.is_empty() {
        rule.rule.trim().to_owned()
    } else {
        rule.message.trim().to_owned()
    }
}

/// `fieldErrorForReason`.
fn field_error_for_reason(
    path: &FieldPath,
    bad: BadValue,
    detail: String,
    reason: Option<&str>,
) -> FieldError {
    match reason.and_then(ErrorType::from_reason) {
        Some(ErrorType::Forbidden) => FieldError::forbidden(path, detail),
        Some(ErrorType::Required) => FieldError::required(path, detail),
        Some(ErrorType::Duplicate) => FieldError::duplicate(path, bad),
        _ => FieldError::with_type(path, ErrorType::Invalid, bad, detail),
    }
}

enum CelError {
    NoSuchOverload,
    Other(String),
}

/// cel-go's texts for runtime errors.
fn cel_error(e: &ExecutionError) -> CelError {
    match e {
        ExecutionError::NoSuchKey(k) => CelError::Other(format!("no such key: {k}")),
        ExecutionError::NoSuchOverload
        | ExecutionError::UnsupportedBinaryOperator(..)
        | ExecutionError::UnsupportedUnaryOperator(..)
        | ExecutionError::ValuesNotComparable(..)
        | ExecutionError::UnexpectedType { .. }
        | ExecutionError::UnsupportedTargetType { .. }
        | ExecutionError::NotSupportedAsMethod { .. } => CelError::NoSuchOverload,
        ExecutionError::DivisionByZero(_) => CelError::Other("division by zero".into()),
        ExecutionError::RemainderByZero(_) => CelError::Other("modulus by zero".into()),
        ExecutionError::Overflow(..) => CelError::Other("integer overflow".into()),
        ExecutionError::IndexOutOfBounds(i) => {
            CelError::Other(format!("index out of bounds: {}", cel_value_text(i)))
        }
        ExecutionError::UndeclaredReference(name) => {
            CelError::Other(format!("undeclared reference to '{name}'"))
        }
        ExecutionError::FunctionError { message, .. } => CelError::Other(message.clone()),
        other => CelError::Other(other.to_string()),
    }
}

fn cel_value_text(v: &cel::Value) -> String {
    match v {
        cel::Value::Int(i) => i.to_string(),
        cel::Value::UInt(u) => u.to_string(),
        cel::Value::String(s) => gofmt::quote(s),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_api_server() {
        assert_eq!(
            escape_field_name("namespace").as_deref(),
            Some("__namespace__")
        );
        assert_eq!(
            escape_field_name("foo-bar").as_deref(),
            Some("foo__dash__bar")
        );
        assert_eq!(
            escape_field_name("a.b/c").as_deref(),
            Some("a__dot__b__slash__c")
        );
        assert_eq!(escape_field_name("my_field").as_deref(), Some("my_field"));
        assert_eq!(
            escape_field_name("a__b").as_deref(),
            Some("a__underscores__b")
        );
        assert_eq!(escape_field_name("1abc"), None);
        assert_eq!(escape_field_name("a b"), None);
    }

    #[test]
    fn go_durations() {
        assert_eq!(
            parse_go_duration("1h30m"),
            Some(chrono::Duration::minutes(90))
        );
        assert_eq!(
            parse_go_duration("1.5s"),
            Some(chrono::Duration::milliseconds(1500))
        );
        assert_eq!(parse_go_duration("x"), None);
    }
}
