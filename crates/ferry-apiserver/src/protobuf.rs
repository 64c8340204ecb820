//! Decoding of `application/vnd.kubernetes.protobuf` request bodies.
//!
//! client-go clientsets (kubectl's `create` generators, Helm's release storage, controllers)
//! send built-in kinds as protobuf: the magic `k8s\0`, then a `runtime.Unknown` envelope holding
//! the apiVersion/kind and the encoded object. This module turns such a body into the JSON the
//! rest of the server works on, from a table of field numbers (data/proto_fields.json.gz, see
//! data/SOURCE.txt). Responses stay JSON: these clients accept it.

use std::{collections::HashMap, io::Read, sync::OnceLock};

use base64::Engine;
use serde_json::{Map, Value, json};

static TABLE_GZ: &[u8] = include_bytes!("../data/proto_fields.json.gz");

/// The media type.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Why a protobuf body could not be decoded (400 BadRequest).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("protobuf body does not start with the k8s magic prefix")]
    Magic,
    #[error("protobuf body is truncated or malformed at byte {0}")]
    Malformed(usize),
    #[error("protobuf body of {0}: unsupported content encoding {1:?}")]
    Encoding(String, String),
    #[error("no protobuf schema for {api_version}, Kind={kind}")]
    UnknownKind { api_version: String, kind: String },
    #[error("protobuf message nests deeper than {0} levels")]
    TooDeep(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Bytes,
    Int32,
    Int64,
    Bool,
    Double,
    Message,
    MapString,
    MapBytes,
    MapMessage,
}

#[derive(Debug)]
struct Field {
    name: String,
    kind: Kind,
    target: Option<String>,
    repeated: bool,
}

type Messages = HashMap<String, HashMap<u32, Field>>;

/// A row of the embedded table: tag, JSON name, kind, target message, repeated.
type RawField = (u32, String, String, Option<String>, u8);

fn messages() -> &'static Messages {
    static TABLE: OnceLock<Messages> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(TABLE_GZ)
            .read_to_end(&mut text)
            .expect("the embedded field table is valid gzip: it is checked in and tested");
        let raw: HashMap<String, Vec<RawField>> = serde_json::from_slice(&text)
            .expect("the embedded field table is valid JSON: it is checked in and tested");
        raw.into_iter()
            .map(|(message, fields)| {
                let fields = fields
                    .into_iter()
                    .filter_map(|(tag, name, kind, target, repeated)| {
                        let kind = match kind.as_str() {
                            "string" => Kind::String,
                            "bytes" => Kind::Bytes,
                            "int32" => Kind::Int32,
                            "int64" => Kind::Int64,
                            "bool" => Kind::Bool,
                            "double" => Kind::Double,
                            "message" => Kind::Message,
                            "map_string" => Kind::MapString,
                            "map_bytes" => Kind::MapBytes,
                            "map_message" => Kind::MapMessage,
                            _ => return None,
                        };
                        Some((
                            tag,
                            Field {
                                name,
                                kind,
                                target,
                                repeated: repeated == 1,
                            },
                        ))
                    })
                    .collect();
                (message, fields)
            })
            .collect()
    })
}

/// OpenAPI definition name of each (apiVersion, kind).
fn definitions() -> &'static HashMap<(String, String), String> {
    static DEFS: OnceLock<HashMap<(String, String), String>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let swagger: Value =
            serde_json::from_slice(ferry_schema::openapi::v2()).unwrap_or(Value::Null);
        let mut out = HashMap::new();
        if let Some(defs) = swagger.get("definitions").and_then(Value::as_object) {
            for (name, def) in defs {
                for gvk in def
                    .get("x-kubernetes-group-version-kind")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let group = gvk.get("group").and_then(Value::as_str).unwrap_or_default();
                    let version = gvk
                        .get("version")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let kind = gvk.get("kind").and_then(Value::as_str).unwrap_or_default();
                    let api_version = if group.is_empty() {
                        version.to_owned()
                    } else {
                        format!("{group}/{version}")
                    };
                    // DeleteOptions and friends are registered in every group; any definition does.
                    out.entry((api_version, kind.to_owned()))
                        .or_insert_with(|| name.clone());
                }
            }
        }
        out
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], base: usize) -> Self {
        Self {
            bytes,
            pos: 0,
            base,
        }
    }

    fn done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn err(&self) -> ProtoError {
        ProtoError::Malformed(self.base + self.pos)
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.pos).ok_or_else(|| self.err())?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.err())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| self.err())?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn length_delimited(&mut self) -> Result<(&'a [u8], usize), ProtoError> {
        let len = usize::try_from(self.varint()?).map_err(|_| self.err())?;
        let start = self.base + self.pos;
        Ok((self.take(len)?, start))
    }

    /// Skips a field of an unknown number.
    fn skip(&mut self, wire: u64) -> Result<(), ProtoError> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.take(8).map(drop),
            2 => self.length_delimited().map(drop),
            5 => self.take(4).map(drop),
            _ => Err(self.err()),
        }
    }
}

const MAX_DEPTH: usize = 64;

fn time_string(seconds: i64, micros: Option<i64>) -> Value {
    let Ok(ts) = jiff::Timestamp::from_second(seconds) else {
        return Value::Null;
    };
    match micros {
        None => json!(ts.to_string()),
        Some(us) => {
            let base = ts.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            json!(format!("{base}.{us:06}Z"))
        }
    }
}

fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let (h, m) = (n / 3_600_000_000_000, (n / 60_000_000_000) % 60);
    let s = (n % 60_000_000_000) as f64 / 1e9;
    let mut out = sign.to_owned();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{s}s"));
    out
}

/// Fields that are plain (non-pointer) Go values with `omitempty`: a zero on the wire means unset.
const OMIT_ZERO: &[&str] = &[
    "hostPort",
    "nodePort",
    "stdin",
    "stdinOnce",
    "tty",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "generation",
];

fn decode_message(
    name: &str,
    bytes: &[u8],
    base: usize,
    depth: usize,
) -> Result<Value, ProtoError> {
    if depth > MAX_DEPTH {
        return Err(ProtoError::TooDeep(MAX_DEPTH));
    }
    let fields = messages().get(name);
    let mut out = Map::new();
    let mut r = Reader::new(bytes, base);
    while !r.done() {
        let key = r.varint()?;
        let (tag, wire) = ((key >> 3) as u32, key & 7);
        let Some(field) = fields.and_then(|f| f.get(&tag)) else {
            r.skip(wire)?;
            continue;
        };
        let value = match (field.kind, wire) {
            (Kind::String, 2) => {
                let (b, _) = r.length_delimited()?;
                Value::String(String::from_utf8_lossy(b).into_owned())
            }
            (Kind::Bytes, 2) => {
                let (b, _) = r.length_delimited()?;
                Value::String(base64::engine::general_purpose::STANDARD.encode(b))
            }
            (Kind::Int32 | Kind::Int64, 2) if field.repeated => {
                // Packed repeated integers.
                let (b, start) = r.length_delimited()?;
                let mut inner = Reader::new(b, start);
                let list = out.entry(field.name.clone()).or_insert_with(|| json!([]));
                while !inner.done() {
                    let v = inner.varint()? as i64;
                    let v = if field.kind == Kind::Int32 {
                        i64::from(v as i32)
                    } else {
                        v
                    };
                    if let Some(a) = list.as_array_mut() {
                        a.push(json!(v));
                    }
                }
                continue;
            }
            (Kind::Int32, 0) => json!(r.varint()? as i64 as i32),
            (Kind::Int64, 0) => json!(r.varint()? as i64),
            (Kind::Bool, 0) => json!(r.varint()? != 0),
            (Kind::Double, 1) => {
                let b = r.take(8)?;
                let mut arr = [0u8; 8];
                arr.copy_from_slice(b);
                json!(f64::from_le_bytes(arr))
            }
            (Kind::Message, 2) => {
                let (b, start) = r.length_delimited()?;
                let target = field.target.as_deref().unwrap_or_default();
                decode_special(target, b, start, depth + 1)?
            }
            (Kind::MapString | Kind::MapBytes | Kind::MapMessage, 2) => {
                let (b, start) = r.length_delimited()?;
                let (k, v) = decode_map_entry(field, b, start, depth + 1)?;
                let map = out.entry(field.name.clone()).or_insert_with(|| json!({}));
                if let Some(m) = map.as_object_mut() {
                    m.insert(k, v);
                }
                continue;
            }
            (_, wire) => {
                r.skip(wire)?;
                continue;
            }
        };
        if field.repeated {
            let list = out.entry(field.name.clone()).or_insert_with(|| json!([]));
            if let Some(a) = list.as_array_mut() {
                a.push(value);
            }
        } else {
            out.insert(field.name.clone(), value);
        }
    }
    // Go's JSON encoding leaves out what these zero values mean: unset.
    out.retain(|k, v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Bool(false) | Value::Number(_) if OMIT_ZERO.contains(&k.as_str()) => {
            v != &json!(0) && v != &json!(false)
        }
        _ => true,
    });
    Ok(Value::Object(out))
}

fn decode_map_entry(
    field: &Field,
    bytes: &[u8],
    base: usize,
    depth: usize,
) -> Result<(String, Value), ProtoError> {
    let mut r = Reader::new(bytes, base);
    let mut key = String::new();
    let mut value = match field.kind {
        Kind::MapMessage => Value::Null,
        _ => json!(""),
    };
    while !r.done() {
        let k = r.varint()?;
        match (k >> 3, k & 7) {
            (1, 2) => key = String::from_utf8_lossy(r.length_delimited()?.0).into_owned(),
            (2, 2) => {
                let (b, start) = r.length_delimited()?;
                value = match field.kind {
                    Kind::MapString => Value::String(String::from_utf8_lossy(b).into_owned()),
                    Kind::MapBytes => {
                        Value::String(base64::engine::general_purpose::STANDARD.encode(b))
                    }
                    _ => decode_special(
                        field.target.as_deref().unwrap_or_default(),
                        b,
                        start,
                        depth,
                    )?,
                };
            }
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok((key, value))
}

fn raw_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

/// Messages whose JSON form is not an object of their fields.
fn decode_special(
    name: &str,
    bytes: &[u8],
    base: usize,
    depth: usize,
) -> Result<Value, ProtoError> {
    let short = name.rsplit('.').next().unwrap_or(name);
    let scalars = |r: &mut Reader<'_>| -> Result<HashMap<u64, (u64, Vec<u8>)>, ProtoError> {
        let mut seen = HashMap::new();
        while !r.done() {
            let key = r.varint()?;
            let entry = match key & 7 {
                0 => (r.varint()?, Vec::new()),
                2 => (0, r.length_delimited()?.0.to_vec()),
                wire => {
                    r.skip(wire)?;
                    continue;
                }
            };
            seen.insert(key >> 3, entry);
        }
        Ok(seen)
    };
    let mut r = Reader::new(bytes, base);
    Ok(match (name.starts_with("io.k8s.apimachinery"), short) {
        (true, "Time") => {
            let f = scalars(&mut r)?;
            let seconds = f.get(&1).map_or(0, |v| v.0 as i64);
            if seconds == 0 {
                Value::Null
            } else {
                time_string(seconds, None)
            }
        }
        (true, "MicroTime") => {
            let f = scalars(&mut r)?;
            let seconds = f.get(&1).map_or(0, |v| v.0 as i64);
            let nanos = f.get(&2).map_or(0, |v| v.0 as i64);
            if seconds == 0 && nanos == 0 {
                Value::Null
            } else {
                time_string(seconds, Some(nanos / 1000))
            }
        }
        (true, "Duration") => json!(go_duration(
            scalars(&mut r)?.get(&1).map_or(0, |v| v.0 as i64)
        )),
        (true, "Quantity") => json!(String::from_utf8_lossy(
            &scalars(&mut r)?
                .get(&1)
                .map(|v| v.1.clone())
                .unwrap_or_default()
        )),
        (true, "IntOrString") => {
            let f = scalars(&mut r)?;
            if f.get(&1).map_or(0, |v| v.0) == 1 {
                json!(String::from_utf8_lossy(
                    &f.get(&3).map(|v| v.1.clone()).unwrap_or_default()
                ))
            } else {
                json!(f.get(&2).map_or(0, |v| v.0 as i64 as i32))
            }
        }
        (true, "RawExtension" | "FieldsV1") => raw_json(
            &scalars(&mut r)?
                .get(&1)
                .map(|v| v.1.clone())
                .unwrap_or_default(),
        ),
        (false, "JSON") => raw_json(
            &scalars(&mut r)?
                .get(&1)
                .map(|v| v.1.clone())
                .unwrap_or_default(),
        ),
        _ => decode_message(name, bytes, base, depth)?,
    })
}

/// Decodes a protobuf request body into the object's JSON, with `apiVersion` and `kind` set.
pub fn decode(body: &[u8]) -> Result<Value, ProtoError> {
    let envelope = body.strip_prefix(b"k8s\0").ok_or(ProtoError::Magic)?;
    let mut r = Reader::new(envelope, 4);
    let (mut api_version, mut kind, mut raw, mut encoding) = (
        String::new(),
        String::new(),
        (&[][..], 0usize),
        String::new(),
    );
    while !r.done() {
        let key = r.varint()?;
        match (key >> 3, key & 7) {
            (1, 2) => {
                let (b, start) = r.length_delimited()?;
                let mut tm = Reader::new(b, start);
                while !tm.done() {
                    let k = tm.varint()?;
                    match (k >> 3, k & 7) {
                        (1, 2) => {
                            api_version =
                                String::from_utf8_lossy(tm.length_delimited()?.0).into_owned()
                        }
                        (2, 2) => {
                            kind = String::from_utf8_lossy(tm.length_delimited()?.0).into_owned()
                        }
                        (_, wire) => tm.skip(wire)?,
                    }
                }
            }
            (2, 2) => raw = r.length_delimited()?,
            (3, 2) => encoding = String::from_utf8_lossy(r.length_delimited()?.0).into_owned(),
            (_, wire) => r.skip(wire)?,
        }
    }
    if !encoding.is_empty() {
        return Err(ProtoError::Encoding(
            format!("{api_version}/{kind}"),
            encoding,
        ));
    }
    let definition = definitions()
        .get(&(api_version.clone(), kind.clone()))
        .or_else(|| {
            (kind == "DeleteOptions")
                .then(|| definitions().get(&("v1".to_owned(), kind.clone())))
                .flatten()
        })
        .ok_or_else(|| ProtoError::UnknownKind {
            api_version: api_version.clone(),
            kind: kind.clone(),
        })?;
    let mut object = decode_message(definition, raw.0, raw.1, 0)?;
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(kind));
    }
    Ok(object)
}

/// Whether a `Content-Type` is the Kubernetes protobuf media type.
pub fn is_protobuf(content_type: &str) -> bool {
    content_type.split(';').next().unwrap_or_default().trim() == MEDIA_TYPE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn field_bytes(tag: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint(tag << 3 | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    fn field_varint(tag: u64, v: u64, out: &mut Vec<u8>) {
        varint(tag << 3, out);
        varint(v, out);
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let mut tm = Vec::new();
        field_bytes(1, api_version.as_bytes(), &mut tm);
        field_bytes(2, kind.as_bytes(), &mut tm);
        let mut unknown = Vec::new();
        field_bytes(1, &tm, &mut unknown);
        field_bytes(2, raw, &mut unknown);
        let mut body = b"k8s\0".to_vec();
        body.extend(unknown);
        body
    }

    #[test]
    fn decodes_a_namespace_as_kubectl_sends_it() {
        // metadata{name: "e2e", labels{a: b}}, spec{}, status{}
        let mut label = Vec::new();
        field_bytes(1, b"a", &mut label);
        field_bytes(2, b"b", &mut label);
        let mut meta = Vec::new();
        field_bytes(1, b"e2e", &mut meta);
        field_bytes(2, b"", &mut meta);
        field_bytes(8, b"", &mut meta);
        field_bytes(11, &label, &mut meta);
        let mut ns = Vec::new();
        field_bytes(1, &meta, &mut ns);
        field_bytes(2, b"", &mut ns);
        field_bytes(3, b"", &mut ns);
        let object = decode(&envelope("v1", "Namespace", &ns)).unwrap();
        assert_eq!(
            object,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "e2e", "labels": {"a": "b"}}, "spec": {}, "status": {}})
        );
    }

    #[test]
    fn decodes_secrets_int_or_string_and_pointers_to_zero() {
        let mut data = Vec::new();
        field_bytes(1, b"k", &mut data);
        field_bytes(2, b"\x00\xff", &mut data);
        let mut secret = Vec::new();
        field_bytes(2, &data, &mut secret);
        field_bytes(3, b"Opaque", &mut secret);
        field_varint(5, 0, &mut secret);
        let object = decode(&envelope("v1", "Secret", &secret)).unwrap();
        assert_eq!(object["data"]["k"], "AP8=");
        assert_eq!(
            object["immutable"], false,
            "pointer fields keep their zero value"
        );

        let mut port = Vec::new();
        field_varint(3, 80, &mut port);
        let mut target = Vec::new();
        field_varint(1, 1, &mut target);
        field_bytes(3, b"http", &mut target);
        field_bytes(4, &target, &mut port);
        field_varint(5, 0, &mut port);
        let mut spec = Vec::new();
        field_bytes(1, &port, &mut spec);
        let mut svc = Vec::new();
        field_bytes(2, &spec, &mut svc);
        let object = decode(&envelope("v1", "Service", &svc)).unwrap();
        assert_eq!(
            object["spec"]["ports"],
            json!([{"port": 80, "targetPort": "http"}])
        );
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert_eq!(decode(b"{}"), Err(ProtoError::Magic));
        assert!(matches!(
            decode(b"k8s\0\x0a\xff\xff\xff\xff\x0f"),
            Err(ProtoError::Malformed(_))
        ));
        assert!(matches!(
            decode(&envelope("v1", "Nope", b"")),
            Err(ProtoError::UnknownKind { .. })
        ));
        // Deep nesting is bounded.
        let mut nested = Vec::new();
        for _ in 0..200 {
            let mut outer = Vec::new();
            field_bytes(1, &nested, &mut outer);
            nested = outer;
        }
        let _ = decode(&envelope("v1", "Namespace", &nested));
    }
}
