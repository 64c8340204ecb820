//! Schema checks on writes and reads, delegated to ferry-schema's `validation` module, at the
//! points of a request where the real server makes them:
//!
//! 1. strict decoding (`fieldValidation`): unknown and duplicate fields of a POST/PUT body
//!    ([`check_body`]), of the object a JSON, merge or strategic merge patch produced
//!    ([`check_patched`]), of a server-side apply patch ([`check_apply_fields`],
//!    [`check_apply_duplicates`]); each gives the `Warning` texts to send or the error;
//! 2. admission ([`admit`]): unknown fields dropped, custom resources defaulted and validated
//!    against their structural schema with CEL rules, built-in kinds and CRDs validated by their
//!    own rules (immutable fields, selectors, names);
//! 3. reads ([`Reader`]): custom resources get their schema's defaults, so defaults a CRD gains
//!    later show up without a write.

use std::{borrow::Cow, sync::Arc};

use bytes::Bytes;
use ferry_schema::{
    SchemaSource, TypeSchema,
    validation::{
        self, FieldValidation, StrictFindings,
        strict::{self, Request},
    },
};
use serde_json::Value;

use crate::{
    core::{Core, Part},
    meta,
    patch::PatchType,
    resources::ResourceInfo,
    status::ApiError,
    store::{Defaulted, Stored},
};

/// The schema of a resource in the version the request addresses, if ferry-schema knows it.
pub fn type_schema(core: &Core, info: &ResourceInfo) -> Option<Arc<TypeSchema>> {
    core.schemas.lookup(&info.api_version(), &info.kind)
}

/// How a POST/PUT body's media type reaches the strict decoder: JSON (`Some(false)`), YAML
/// (`Some(true)`), or a decoder without strict mode (protobuf: `None`).
fn strict_decoder(content_type: &str) -> Option<bool> {
    match content_type.split(';').next().unwrap_or_default().trim() {
        "" | "application/json" | "*/*" => Some(false),
        "application/yaml" | "application/x-yaml" | "text/yaml" => Some(true),
        _ => None,
    }
}

/// Strict decoding of a POST or PUT body: the `Warning` texts to send, or the 400 the server
/// answers under `Strict` (`ConfigMap in version "v1" cannot be handled as a ConfigMap: strict
/// decoding error: unknown field "spec"`). Values a built-in kind's Go type cannot hold fail
/// under every directive, as decoding them does.
pub fn check_body(
    core: &Core,
    info: &ResourceInfo,
    content_type: &str,
    body: &[u8],
    directive: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    let (Some(is_yaml), Some(ts)) = (strict_decoder(content_type), type_schema(core, info)) else {
        return Ok(Vec::new());
    };
    Ok(strict::check_body(body, is_yaml, &ts).resolve(
        directive,
        Request::Body {
            kind: &info.kind,
            version: &info.version,
        },
    )?)
}

/// Strict decoding of the object a JSON, merge or strategic merge patch produced: its unknown
/// fields, as the server finds them decoding the patched JSON (422 `patch: Invalid value: ...`
/// under `Strict`).
pub fn check_patched(
    core: &Core,
    info: &ResourceInfo,
    patch_type: PatchType,
    patch: &Value,
    patched: &Value,
    directive: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    if directive == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    let Some(ts) = type_schema(core, info) else {
        return Ok(Vec::new());
    };
    let findings = StrictFindings::unknown(&validation::prune::unknown_fields(patched, &ts));
    let request = match patch_type {
        PatchType::Strategic => Request::StrategicPatch { patch },
        _ => Request::JsonOrMergePatch { patched },
    };
    Ok(findings.resolve(directive, request)?)
}

/// Fields of an apply patch the schema does not declare: server-side apply refuses them with a
/// 500 whatever `fieldValidation` says (`failed to create typed patch object (...): .spec.foo:
/// field not declared in schema`).
pub fn check_apply_fields(
    core: &Core,
    info: &ResourceInfo,
    applied: &Value,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    let Some(ts) = type_schema(core, info) else {
        return Ok(());
    };
    let namespace = if info.namespaced { namespace } else { "" };
    match strict::apply_undeclared_fields(applied, &ts, namespace, name) {
        Some(err) => Err(err.into()),
        None => Ok(()),
    }
}

/// Duplicate keys of an apply patch, checked after the apply as the server does: 400 under
/// `Strict`, warnings under `Warn`, nothing under `Ignore`.
pub fn check_apply_duplicates(
    body: &[u8],
    directive: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    if directive == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Ok(Vec::new());
    };
    if !may_have_duplicates(text) {
        return Ok(Vec::new());
    }
    let findings = StrictFindings {
        errors: strict::yaml_duplicates(text),
        type_error: None,
    };
    Ok(findings.resolve(directive, Request::ApplyPatch)?)
}

/// A cheap pre-check for [`check_apply_duplicates`]: a JSON body (what kube-rs and client-go
/// send) without a repeated key in any object cannot have duplicates, and proving that is much
/// cheaper than a second YAML parse. YAML bodies always get the full check.
fn may_have_duplicates(text: &str) -> bool {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        return true;
    }
    json_has_duplicate_keys(trimmed.as_bytes()).unwrap_or(true)
}

/// Whether some JSON object of `bytes` repeats a key; `None` if that cannot be told cheaply
/// (escaped strings, malformed or absurdly nested input): the YAML check then decides.
fn json_has_duplicate_keys(bytes: &[u8]) -> Option<bool> {
    enum Frame<'a> {
        Object {
            keys: std::collections::HashSet<&'a [u8]>,
            expect_key: bool,
        },
        Array,
    }
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' if stack.len() < 512 => stack.push(Frame::Object {
                keys: Default::default(),
                expect_key: true,
            }),
            b'[' if stack.len() < 512 => stack.push(Frame::Array),
            b'{' | b'[' => return None,
            b'}' => match stack.pop()? {
                Frame::Object { .. } => {}
                Frame::Array => return None,
            },
            b']' => match stack.pop()? {
                Frame::Array => {}
                Frame::Object { .. } => return None,
            },
            b',' | b':' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = bytes[i] == b',';
                }
            }
            b'"' => {
                let start = i + 1;
                let len = bytes[start..].iter().position(|b| *b == b'"')?;
                let literal = &bytes[start..start + len];
                if literal.contains(&b'\\') {
                    return None;
                }
                if let Some(Frame::Object {
                    keys,
                    expect_key: true,
                }) = stack.last_mut()
                    && !keys.insert(literal)
                {
                    return Some(true);
                }
                i = start + len;
            }
            _ => {}
        }
        i += 1;
    }
    stack.is_empty().then_some(false)
}

/// Admission's schema part for a write of `part`: unknown fields dropped, custom resources
/// defaulted and validated (CEL rules with `oldSelf` on update), built-in kinds and CRDs
/// validated. `old` is the stored object as read (defaulted) on update, with the system
/// metadata already carried over to `object`. Returns warnings (ratcheted CEL errors).
pub fn admit(
    core: &Core,
    info: &ResourceInfo,
    part: Part,
    old: Option<&Value>,
    object: &mut Value,
) -> Result<Admitted, ApiError> {
    let Some(ts) = type_schema(core, info) else {
        // No schema (cannot happen for the served kinds, all documented): names at least.
        let name = meta::meta_str(object, "name").to_owned();
        if old.is_none()
            && let Some(why) = meta::validate_name(&name, false)
        {
            return Err(ApiError::invalid_field(
                &info.kind,
                &info.group,
                &name,
                "metadata.name",
                "FieldValueInvalid",
                format!("Invalid value: {name:?}: {why}"),
            ));
        }
        return Ok(Admitted::default());
    };
    // Status (and finalize) writes of built-in kinds validate only what they change, which
    // the status strategies check loosely: dropping unknown fields is what matters.
    if part != Part::Main && ts.source() != SchemaSource::Crd {
        validation::prune::prune(object, &ts);
        return Ok(Admitted::default());
    }
    let warnings = validation::admit(&ts, object, old)?;
    let defaulted_with = (ts.source() == SchemaSource::Crd).then_some(ts);
    Ok(Admitted {
        warnings,
        defaulted_with,
    })
}

/// What admission did to an object.
#[derive(Default)]
pub struct Admitted {
    /// Warnings to send (ratcheted CEL errors).
    pub warnings: Vec<String>,
    /// The schema whose defaults the whole object now holds (custom resources): a read of
    /// the object as written, with this schema, needs no defaulting.
    pub defaulted_with: Option<Arc<TypeSchema>>,
}

/// How objects of one resource are read back: in the request's version, custom resources
/// with their schema's defaults. Built per request, so a list looks the schema up once.
#[derive(Clone)]
pub struct Reader<'a> {
    info: &'a ResourceInfo,
    schema: Option<Arc<TypeSchema>>,
}

impl<'a> Reader<'a> {
    pub fn new(core: &Core, info: &'a ResourceInfo) -> Self {
        Self::with_schema(info, Self::schema_for(core, info))
    }

    /// The schema a reader of `info` defaults with (custom resources only).
    pub fn schema_for(core: &Core, info: &ResourceInfo) -> Option<Arc<TypeSchema>> {
        if info.custom.is_some() {
            type_schema(core, info).filter(|ts| ts.source() == SchemaSource::Crd)
        } else {
            None
        }
    }

    /// A reader with a schema looked up earlier ([`Reader::schema_for`]).
    pub fn with_schema(info: &'a ResourceInfo, schema: Option<Arc<TypeSchema>>) -> Self {
        Self { info, schema }
    }

    /// The object a client sees.
    pub fn value(&self, stored: &Stored) -> Value {
        match self.read(stored) {
            Read::Stored => stored.value.clone(),
            Read::Defaulted(value, _) => value.clone(),
            Read::Fresh(value) => value,
        }
    }

    /// [`Reader::value`], borrowed from `stored` when this read changes nothing or was
    /// worked out before.
    pub fn value_ref<'s>(&self, stored: &'s Stored) -> Cow<'s, Value> {
        match self.read(stored) {
            Read::Stored => Cow::Borrowed(&stored.value),
            Read::Defaulted(value, _) => Cow::Borrowed(value),
            Read::Fresh(value) => Cow::Owned(value),
        }
    }

    /// Its JSON: the stored bytes when nothing changes (built-ins, and custom resources
    /// already carrying their defaults), else re-encoded.
    pub fn json(&self, stored: &Stored) -> Bytes {
        match self.read(stored) {
            Read::Stored => stored.json.clone(),
            Read::Defaulted(_, json) => json.clone(),
            Read::Fresh(value) => Bytes::from(
                serde_json::to_vec(&value).expect("a serde_json::Value always serializes"),
            ),
        }
    }

    fn read<'s>(&self, stored: &'s Stored) -> Read<'s> {
        if self.info.version != self.info.storage_version {
            let mut value = stored.value.clone();
            value["apiVersion"] = Value::String(self.info.api_version());
            if let Some(ts) = &self.schema {
                validation::default_custom_resource(&mut value, ts);
            }
            return Read::Fresh(value);
        }
        let Some(ts) = &self.schema else {
            return Read::Stored;
        };
        // Defaulting is worked out once per stored version and schema: watch events, responses
        // and patches read the same object again and again.
        let memo = stored.defaulted.get_or_init(|| Defaulted {
            schema: Arc::clone(ts),
            read: defaulted(stored, ts).map(|value| {
                let json =
                    serde_json::to_vec(&value).expect("a serde_json::Value always serializes");
                (value, Bytes::from(json))
            }),
        });
        if !Arc::ptr_eq(&memo.schema, ts) {
            // The CRD changed since the memo: read with the schema of now, without keeping it.
            return defaulted(stored, ts).map_or(Read::Stored, Read::Fresh);
        }
        match &memo.read {
            None => Read::Stored,
            Some((value, json)) => Read::Defaulted(value, json),
        }
    }
}

/// The stored object with the schema's defaults, or `None` when it already holds them all.
fn defaulted(stored: &Stored, ts: &TypeSchema) -> Option<Value> {
    let mut value = stored.value.clone();
    validation::default_custom_resource(&mut value, ts);
    (value != stored.value).then_some(value)
}

/// How a stored object reads: as stored, defaulted (remembered with it), or made for this read.
enum Read<'s> {
    Stored,
    Defaulted(&'s Value, &'s Bytes),
    Fresh(Value),
}
