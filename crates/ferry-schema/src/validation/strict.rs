//! `fieldValidation`: unknown and duplicate fields in request bodies, reported the way the real
//! server's strict decoders report them (`unknown field "spec.foo"`, `duplicate field
//! "spec.replicas"`), and turned into the Status or `Warning` headers each directive asks for.
//!
//! Which decoder a request goes through decides the shape of the error:
//! - POST/PUT bodies: 400 `Deployment in version "v1" cannot be handled as a Deployment:
//!   strict decoding error: unknown field "spec.foo", unknown field "spec.bar"`.
//! - JSON and merge patches: 422 with an empty kind, field `patch`, the patched object as the
//!   value: `patch: Invalid value: "{...}": strict decoding error: unknown field "spec.foo"`.
//! - strategic merge patches: the same, with the patch map in Go's `%+v` form as the value.
//! - apply patches: duplicate keys give 400 `error strict decoding patch: ...`; undeclared fields
//!   fail in every mode with the 500 server-side apply gives (see [`apply_undeclared_fields`]).
//!
//! Unknown fields are found in document order for JSON bodies of built-in kinds (the Go decoder
//! reports them as it reads), sorted for custom resources (pruning sorts what it removed), and
//! in key order for YAML bodies (converted to JSON through a Go map first).

use std::borrow::Cow;

use serde_json::Value;

use super::{
    field::{FieldError, FieldPath},
    gofmt,
    prune::{self, Child, Mode},
    status::{Invalid, ValidationError},
};
use crate::{
    model::{JsonType, Schema},
    registry::TypeSchema,
};

/// The `fieldValidation` directive of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Unknown fields are dropped silently.
    Ignore,
    /// Unknown fields are dropped and reported in `Warning` headers (the server's default when
    /// the parameter is absent).
    #[default]
    Warn,
    /// Unknown or duplicate fields fail the request (kubectl's default since 1.27).
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter; absent means `Warn`. `options_kind` is the options type of
    /// the verb (`CreateOptions`, `UpdateOptions`, `PatchOptions`): an unknown value is a 422
    /// about it, as the server's options validation reports.
    pub fn parse(
        param: Option<&str>,
        options_kind: &str,
    ) -> Result<FieldValidation, ValidationError> {
        match param {
            None | Some("") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(Invalid::new(
                options_kind,
                "meta.k8s.io",
                "",
                vec![FieldError::not_supported(
                    &FieldPath::new("fieldValidation"),
                    other,
                    &["", "Ignore", "Strict", "Warn"],
                )],
            )
            .into()),
        }
    }
}

/// What a request's decoding found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrictFindings {
    /// Strict decoding errors in the order the server reports them: `unknown field "a.b"`,
    /// `duplicate field "a"`, YAML duplicate-key errors.
    pub errors: Vec<String>,
    /// For built-in kinds: a value whose JSON type the Go type cannot hold
    /// (`json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of
    /// type int32`). This fails the request whatever the directive.
    pub type_error: Option<String>,
}

/// How the request body reached the decoder (decides the error's shape).
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    /// POST or PUT of an object of `kind` in `version`.
    Body { kind: &'a str, version: &'a str },
    /// A JSON patch or merge patch; `patched` is the object after patching.
    JsonOrMergePatch { patched: &'a Value },
    /// A strategic merge patch; `patch` is the patch as sent.
    StrategicPatch { patch: &'a Value },
    /// A server-side apply patch.
    ApplyPatch,
}

impl StrictFindings {
    /// Findings from the unknown fields [`prune`](super::prune::prune) removed from an object
    /// (patched objects, or bodies already parsed).
    pub fn unknown(paths: &[String]) -> StrictFindings {
        StrictFindings {
            errors: paths
                .iter()
                .map(|p| format!("unknown field {}", gofmt::quote(p)))
                .collect(),
            type_error: None,
        }
    }

    /// Nothing to report.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty() && self.type_error.is_none()
    }

    /// `strict decoding error: unknown field "a", unknown field "b"`.
    pub fn strict_message(&self) -> String {
        format!("strict decoding error: {}", self.errors.join(", "))
    }

    /// Applies the directive: `Ok(warnings)` to send as `Warning` headers (one per finding under
    /// `Warn`), or the error the server answers with.
    pub fn resolve(
        &self,
        directive: FieldValidation,
        request: Request<'_>,
    ) -> Result<Vec<String>, ValidationError> {
        if let Some(type_error) = &self.type_error {
            return Err(self.error(request, type_error));
        }
        if self.errors.is_empty() {
            return Ok(Vec::new());
        }
        match directive {
            FieldValidation::Ignore => Ok(Vec::new()),
            FieldValidation::Warn => Ok(self.errors.clone()),
            FieldValidation::Strict => Err(match request {
                Request::ApplyPatch => ValidationError::BadRequest {
                    message: format!("error strict decoding patch: {}", self.errors.join(", ")),
                },
                _ => self.error(request, &self.strict_message()),
            }),
        }
    }

    fn error(&self, request: Request<'_>, detail: &str) -> ValidationError {
        match request {
            Request::Body { kind, version } => ValidationError::BadRequest {
                message: format!(
                    "{kind} in version {} cannot be handled as a {kind}: {detail}",
                    gofmt::quote(version)
                ),
            },
            Request::JsonOrMergePatch { patched } => patch_invalid(gofmt::json(patched), detail),
            Request::StrategicPatch { patch } => patch_invalid(gofmt::value_v(patch), detail),
            Request::ApplyPatch => ValidationError::BadRequest {
                message: format!("error decoding patch: {detail}"),
            },
        }
    }
}

fn patch_invalid(value: String, detail: &str) -> ValidationError {
    Invalid::new(
        "",
        "",
        "",
        vec![FieldError::invalid(&FieldPath::new("patch"), value, detail)],
    )
    .into()
}

/// Strict-decodes a request body for `ts`: a JSON body is scanned in document order, a YAML
/// body (`is_yaml`) is read as YAML for duplicate keys and converted first.
pub fn check_body(body: &[u8], is_yaml: bool, ts: &TypeSchema) -> StrictFindings {
    if !is_yaml || looks_like_json(body) {
        return scan_json(body, ts);
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return StrictFindings::default();
    };
    let duplicates = yaml_duplicates(text);
    let Ok(value) = serde_saphyr::from_str_with_options::<Value>(text, lenient_yaml()) else {
        return StrictFindings {
            errors: duplicates,
            type_error: None,
        };
    };
    // The server converts YAML to JSON through a Go map (keys sorted) before decoding it:
    // decoding the JSON form gives the same findings in the same order.
    let json = serde_json::to_vec(&value).unwrap_or_default();
    let mut findings = scan_json(&json, ts);
    let mut errors = duplicates;
    errors.append(&mut findings.errors);
    findings.errors = errors;
    findings
}

fn looks_like_json(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

fn lenient_yaml() -> serde_saphyr::Options {
    serde_saphyr::options! { duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins }
}

/// Duplicate mapping keys of a YAML (or JSON) document, in the message sigs.k8s.io/yaml's strict
/// conversion gives: `yaml: unmarshal errors:\n  line 3: key "a" already set in map`.
pub fn yaml_duplicates(text: &str) -> Vec<String> {
    let strict = serde_saphyr::options! { duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error };
    let Err(err) = serde_saphyr::from_str_with_options::<Value>(text, strict) else {
        return Vec::new();
    };
    match err.without_snippet() {
        serde_saphyr::Error::DuplicateMappingKey { key, location } => {
            let key = key.clone().unwrap_or_default();
            vec![format!(
                "yaml: unmarshal errors:\n  line {}: key {} already set in map",
                location.line(),
                gofmt::quote(&key)
            )]
        }
        _ => Vec::new(),
    }
}

/// Strict-decodes a JSON body for `ts`, in document order: unknown fields, duplicate fields and
/// (built-in kinds) the first value of a JSON type its Go field cannot hold. A body that is not
/// JSON yields nothing (the caller's parser reports it).
pub fn scan_json(body: &[u8], ts: &TypeSchema) -> StrictFindings {
    let mode = Mode::of(ts);
    let mut scan = Scanner {
        root_mode: mode,
        bytes: body,
        pos: 0,
        meta: ts.object_meta(),
        errors: Vec::new(),
        duplicates: Vec::new(),
        unknown: Vec::new(),
        type_error: None,
        path: String::new(),
        go_fields: Vec::new(),
        go_structs: Vec::new(),
    };
    let ok = scan.value(Some((ts.root(), mode, true)), 0).is_some();
    if !ok {
        return StrictFindings::default();
    }
    let mut findings = StrictFindings::default();
    match mode {
        // The Go decoder reports as it reads.
        Mode::Typed => {
            findings.errors = scan.errors;
            findings.type_error = scan.type_error;
        }
        // Custom resources: duplicates from the strict JSON read, then what pruning removed,
        // sorted.
        Mode::Structural => {
            findings.errors = scan.duplicates;
            scan.unknown.sort();
            findings.errors.extend(
                scan.unknown
                    .iter()
                    .map(|p| format!("unknown field {}", gofmt::quote(p))),
            );
        }
    }
    findings
}

const MAX_DEPTH: usize = 512;

/// `(schema, mode, report)` of the value being read; `None` when anything goes.
type At<'a> = Option<(Schema<'a>, Mode, bool)>;

struct Scanner<'b, 'a> {
    /// The decoder the body goes through (decides how findings are reported).
    root_mode: Mode,
    bytes: &'b [u8],
    pos: usize,
    meta: Option<Schema<'a>>,
    /// Typed mode: unknown and duplicate fields in document order.
    errors: Vec<String>,
    /// Structural mode: duplicate fields in document order, unknown paths to sort.
    duplicates: Vec<String>,
    unknown: Vec<String>,
    type_error: Option<String>,
    path: String,
    /// Struct field names from the root, for Go's `UnmarshalTypeError.Field`, and the struct
    /// declaring each (`UnmarshalTypeError.Struct` is the innermost).
    go_fields: Vec<Cow<'b, str>>,
    go_structs: Vec<&'a str>,
}

/// The JSON type of a value as Go's decoder names it in type errors.
enum Kind {
    Object,
    Array,
    Str,
    Bool,
    Null,
    /// The literal text of a number.
    Number(usize, usize),
}

impl<'b, 'a> Scanner<'b, 'a> {
    fn ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    /// Reads a string literal (the opening quote is next), borrowed when it has no escapes.
    fn string(&mut self) -> Option<Cow<'b, str>> {
        self.ws();
        if self.peek() != Some(b'"') {
            return None;
        }
        self.pos += 1;
        let start = self.pos;
        let mut has_escape = false;
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    let bytes: &'b [u8] = self.bytes;
                    let raw = &bytes[start..self.pos];
                    self.pos += 1;
                    if !has_escape {
                        return std::str::from_utf8(raw).ok().map(Cow::Borrowed);
                    }
                    let quoted = &bytes[start - 1..self.pos];
                    return serde_json::from_slice::<String>(quoted)
                        .ok()
                        .map(Cow::Owned);
                }
                b'\\' => {
                    has_escape = true;
                    self.pos += 2;
                }
                _ => self.pos += 1,
            }
        }
        None
    }

    fn literal(&mut self) -> Option<Kind> {
        self.ws();
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.') {
                self.pos += 1;
            } else {
                break;
            }
        }
        match &self.bytes[start..self.pos] {
            b"true" | b"false" => Some(Kind::Bool),
            b"null" => Some(Kind::Null),
            [] => None,
            _ => Some(Kind::Number(start, self.pos)),
        }
    }

    /// Reads one value, checking it against `at`. Returns its kind.
    fn value(&mut self, at: At<'a>, depth: usize) -> Option<Kind> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        let kind = match self.peek()? {
            b'{' => {
                self.object(at, depth)?;
                Kind::Object
            }
            b'[' => {
                self.array(at, depth)?;
                Kind::Array
            }
            b'"' => {
                let s = self.string()?;
                if let Some((schema, Mode::Typed, _)) = at {
                    self.check_string(schema, &s);
                }
                Kind::Str
            }
            _ => self.literal()?,
        };
        if let Some((schema, Mode::Typed, _)) = at {
            self.check_type(schema, &kind);
        }
        Some(kind)
    }

    fn object(&mut self, at: At<'a>, depth: usize) -> Option<()> {
        self.eat(b'{')?;
        let mut seen: Vec<Cow<'b, str>> = Vec::new();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            let path_len = self.path.len();
            if !self.path.is_empty() {
                self.path.push('.');
            }
            self.path.push_str(&key);
            if seen.contains(&key) {
                let msg = format!("duplicate field {}", gofmt::quote(&self.path));
                match self.root_mode {
                    Mode::Structural => self.duplicates.push(msg),
                    Mode::Typed => self.errors.push(msg),
                }
            } else {
                seen.push(key.clone());
            }
            let child_at: At<'a> = match at {
                None => None,
                Some((schema, mode, report)) => match prune::child(schema, &key, mode, self.meta) {
                    Child::Known {
                        schema: s,
                        mode: m,
                        silent,
                    } => Some((s, m, report && !silent)),
                    Child::Any => None,
                    Child::Unknown => {
                        if report {
                            match self.root_mode {
                                Mode::Typed => self
                                    .errors
                                    .push(format!("unknown field {}", gofmt::quote(&self.path))),
                                Mode::Structural => self.unknown.push(self.path.clone()),
                            }
                        }
                        None
                    }
                },
            };
            // Go names struct fields (not map keys) in UnmarshalTypeError.Field.
            let struct_field =
                at.is_some_and(|(s, m, _)| m == Mode::Typed && s.property(&key).is_some());
            if struct_field {
                self.go_fields.push(key.clone());
                let holder = at
                    .and_then(|(s, _, _)| s.node().definition.as_deref())
                    .map(|d| d.rsplit('.').next().unwrap_or(d))
                    .unwrap_or_default();
                self.go_structs.push(holder);
            }
            self.value(child_at, depth + 1)?;
            if struct_field {
                self.go_fields.pop();
                self.go_structs.pop();
            }
            self.path.truncate(path_len);
            if self.eat(b',').is_some() {
                continue;
            }
            self.eat(b'}')?;
            return Some(());
        }
    }

    fn array(&mut self, at: At<'a>, depth: usize) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        let item_at = at.and_then(|(s, m, r)| prune::items(s).map(|i| (i, m, r)));
        let mut i = 0usize;
        loop {
            let path_len = self.path.len();
            self.path.push('[');
            self.path.push_str(&i.to_string());
            self.path.push(']');
            self.value(item_at, depth + 1)?;
            self.path.truncate(path_len);
            i += 1;
            if self.eat(b',').is_some() {
                continue;
            }
            self.eat(b']')?;
            return Some(());
        }
    }

    /// Byte strings (`format: byte`) must be base64: Go's decoder fails the whole body
    /// otherwise (`illegal base64 data at input byte 4`).
    fn check_string(&mut self, schema: Schema<'a>, s: &str) {
        if self.type_error.is_some() || schema.node().format.as_deref() != Some("byte") {
            return;
        }
        if let Some(offset) = base64_error_offset(s) {
            self.type_error = Some(format!("illegal base64 data at input byte {offset}"));
        }
    }

    /// Records the first value whose JSON type the declared Go type cannot hold.
    fn check_type(&mut self, schema: Schema<'a>, kind: &Kind) {
        if self.type_error.is_some() {
            return;
        }
        let n = schema.node();
        if n.int_or_string || custom_unmarshaler(schema) {
            return;
        }
        let Some(ty) = n.ty else {
            return;
        };
        let ok = match (ty, kind) {
            (_, Kind::Null) => true,
            (JsonType::Object, Kind::Object) | (JsonType::Array, Kind::Array) => true,
            (JsonType::String, Kind::Str) | (JsonType::Boolean, Kind::Bool) => true,
            (JsonType::Number, Kind::Number(..)) => true,
            (JsonType::Integer, Kind::Number(a, b)) => {
                let text = std::str::from_utf8(&self.bytes[*a..*b]).unwrap_or("");
                match n.format.as_deref() {
                    Some("int32") => text.parse::<i32>().is_ok(),
                    _ => text.parse::<i64>().is_ok(),
                }
            }
            (JsonType::Object, _) if prune::typed_is_any(schema) => true,
            _ => false,
        };
        if ok {
            return;
        }
        let value = match kind {
            Kind::Object => "object".to_owned(),
            Kind::Array => "array".to_owned(),
            Kind::Str => "string".to_owned(),
            Kind::Bool => "bool".to_owned(),
            Kind::Null => "null".to_owned(),
            Kind::Number(a, b) => match ty {
                JsonType::Integer => format!(
                    "number {}",
                    std::str::from_utf8(&self.bytes[*a..*b]).unwrap_or("")
                ),
                _ => "number".to_owned(),
            },
        };
        let go_type = go_type(schema);
        self.type_error = Some(match self.go_fields.last() {
            Some(_) => format!(
                "json: cannot unmarshal {value} into Go struct field {}.{} of type {go_type}",
                self.go_struct_name(),
                self.go_fields.join(".")
            ),
            None => format!("json: cannot unmarshal {value} into Go value of type {go_type}"),
        });
    }

    /// The Go struct holding the innermost field: the definition that declares it.
    fn go_struct_name(&self) -> &str {
        self.go_structs.last().copied().unwrap_or_default()
    }
}

/// Types with their own JSON decoding, which accept more than their schema type says.
fn custom_unmarshaler(schema: Schema<'_>) -> bool {
    match schema.node().definition.as_deref() {
        Some(d) => {
            d.ends_with(".Quantity")
                || d.ends_with(".IntOrString")
                || d.ends_with(".Time")
                || d.ends_with(".MicroTime")
                || d.ends_with(".Duration")
                || d.ends_with(".RawExtension")
                || d.ends_with(".JSON")
        }
        None => schema.node().format.as_deref() == Some("date-time"),
    }
}

/// The Go type a schema node decodes into, as `reflect.Type.String()` prints it.
fn go_type(schema: Schema<'_>) -> String {
    let n = schema.node();
    if let Some(def) = n.definition.as_deref() {
        let mut parts = def.rsplit('.');
        let name = parts.next().unwrap_or(def);
        let pkg = parts.next().unwrap_or("");
        return format!("{pkg}.{name}");
    }
    match n.ty {
        Some(JsonType::String) if n.format.as_deref() == Some("byte") => "[]uint8".into(),
        Some(JsonType::String) => "string".into(),
        Some(JsonType::Boolean) => "bool".into(),
        Some(JsonType::Integer) => match n.format.as_deref() {
            Some("int32") => "int32".into(),
            _ => "int64".into(),
        },
        Some(JsonType::Number) => "float64".into(),
        Some(JsonType::Array) => format!(
            "[]{}",
            schema
                .items()
                .map(go_type)
                .unwrap_or_else(|| "interface {}".into())
        ),
        Some(JsonType::Object) => match schema.additional_properties() {
            Some(v) => format!("map[string]{}", go_type(v)),
            None => "map[string]interface {}".into(),
        },
        None => "interface {}".into(),
    }
}

/// Where Go's standard base64 decoder gives up on `s`, if it does.
fn base64_error_offset(s: &str) -> Option<usize> {
    use base64::Engine;
    if base64::engine::general_purpose::STANDARD.decode(s).is_ok() {
        return None;
    }
    let bytes = s.as_bytes();
    // Go skips \r and \n; the first byte outside the alphabet (or misplaced padding) is where
    // it stops, else the input ends early.
    let mut seen_pad = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\r' | b'\n' => {}
            b'=' => seen_pad = true,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if !seen_pad => {}
            _ => return Some(i),
        }
    }
    let data = bytes.iter().filter(|b| !matches!(b, b'\r' | b'\n')).count();
    Some(data - data % 4)
}

/// Fields of an apply patch that the schema does not declare, as server-side apply refuses them
/// (whatever `fieldValidation` says): HTTP 500 with
/// `failed to create typed patch object (<ns>/<name>; <group>/<version>, Kind=<Kind>):
/// .spec.foo: field not declared in schema`.
pub fn apply_undeclared_fields(
    applied: &Value,
    ts: &TypeSchema,
    namespace: &str,
    name: &str,
) -> Option<ValidationError> {
    let mut errs = Vec::new();
    let mut path = String::new();
    smd_walk(
        applied,
        ts.root(),
        Mode::of(ts),
        ts.object_meta(),
        &mut path,
        &mut errs,
        0,
    );
    if errs.is_empty() {
        return None;
    }
    let gvk = ts.gvk();
    let group_version = if gvk.group.is_empty() {
        format!("/{}", gvk.version)
    } else {
        format!("{}/{}", gvk.group, gvk.version)
    };
    let detail = if errs.len() == 1 {
        errs.remove(0)
    } else {
        let mut lines = vec!["errors:".to_owned()];
        lines.extend(errs.iter().map(|e| format!("  {e}")));
        lines.join("\n")
    };
    Some(ValidationError::Internal {
        message: format!(
            "failed to create typed patch object ({namespace}/{name}; {group_version}, Kind={}): {detail}",
            gvk.kind
        ),
    })
}

/// structured-merge-diff's paths: `.spec.containers[name="app"].foo`, `[0]` for atomic lists.
fn smd_walk<'a>(
    v: &Value,
    node: Schema<'a>,
    mode: Mode,
    meta: Option<Schema<'a>>,
    path: &mut String,
    errs: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child_value) in map {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                match prune::child(node, k, mode, meta) {
                    Child::Known {
                        schema, mode: m, ..
                    } => smd_walk(child_value, schema, m, meta, path, errs, depth + 1),
                    Child::Any => {}
                    Child::Unknown => errs.push(format!("{path}: field not declared in schema")),
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            let Some(item_schema) = prune::items(node) else {
                return;
            };
            let n = node.node();
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                match n.list_type {
                    Some(crate::model::ListType::Map) if !n.list_map_keys.is_empty() => {
                        let keys: Vec<String> = n
                            .list_map_keys
                            .iter()
                            .filter_map(|k| {
                                item.get(&**k).map(|kv| format!("{k}={}", gofmt::json(kv)))
                            })
                            .collect();
                        path.push('[');
                        path.push_str(&keys.join(","));
                        path.push(']');
                    }
                    Some(crate::model::ListType::Set) => {
                        path.push_str("[=");
                        path.push_str(&gofmt::json(item));
                        path.push(']');
                    }
                    _ => {
                        path.push('[');
                        path.push_str(&i.to_string());
                        path.push(']');
                    }
                }
                smd_walk(item, item_schema, mode, meta, path, errs, depth + 1);
                path.truncate(len);
            }
        }
        _ => {}
    }
}
