//! YAML text to JSON values, from granit-parser's event stream.
//!
//! Scalars are resolved with go-yaml's rules (see [`crate::resolve`]): quoted and block scalars
//! are strings, plain ones are looked up. Aliases are expanded (kustomize reads with kyaml's
//! `AnchorsAweigh`) and `<<` merge keys are applied with go-yaml v3's precedence: keys written in
//! the mapping win, then earlier merge sources over later ones.

use granit_parser::{Event, Options, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};
use std::collections::{HashMap, HashSet};

use crate::Error;
use crate::Options as ReadOptions;
use crate::resolve::{Resolved, Schema, resolve_plain, timestamp_rfc3339};

/// Deepest nesting accepted. Deeper input is refused rather than risking the stack in the
/// recursive code (including `Drop`) that later walks the values.
pub const MAX_DEPTH: usize = 256;
/// Most nodes one document may expand to through aliases ("billion laughs" guard).
pub const MAX_NODES: usize = 10_000_000;

enum Frame {
    Map {
        map: Map<String, Value>,
        /// Pending key, and whether it is the merge key `<<`.
        key: Option<(String, bool)>,
        explicit: HashSet<String>,
        merges: Vec<Value>,
        anchor: usize,
        line: usize,
        col: usize,
        /// Where this mapping sits, for the kustomize annotation rule.
        place: Place,
    },
    Seq {
        items: Vec<Value>,
        anchor: usize,
        place: Place,
    },
}

/// The few positions the annotation rule needs to recognise.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Other,
    /// The document root, or an item of a root `items:` list.
    Object,
    RootItems,
    Metadata,
    Annotations,
}

struct Builder {
    schema: Schema,
    annotations_as_text: bool,
    last_wins: bool,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    nodes: usize,
    docs: Vec<Value>,
    root: Option<Value>,
}

fn at(span: &Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

/// Parse every document of `src`. Empty documents (and documents that are only `null`) are
/// dropped when `skip_empty` is set.
pub fn parse(src: &str, read: &ReadOptions, skip_empty: bool) -> Result<Vec<Value>, Error> {
    let mut options = Options::default();
    options.emit_comments = false;
    let parser = Parser::new_from_str_with_options(src, options);
    let mut b = Builder {
        schema: read.schema,
        annotations_as_text: read.annotations_as_text,
        last_wins: read.duplicate_keys_last_wins,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        docs: Vec::new(),
        root: None,
    };
    for item in parser {
        let (event, span) = item.map_err(|e| Error::Syntax {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info(),
        })?;
        match event {
            Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart(..) => {
                b.anchors.clear();
                b.nodes = 0;
                b.root = None;
            }
            Event::DocumentEnd => {
                let doc = b.root.take().unwrap_or(Value::Null);
                if !(skip_empty && doc.is_null()) {
                    b.docs.push(doc);
                }
            }
            Event::Alias(id) => {
                let (line, column) = at(&span);
                let value = b.anchors.get(&id).cloned().ok_or_else(|| Error::Invalid {
                    line,
                    column,
                    message: "unknown anchor".to_string(),
                })?;
                b.nodes += count_nodes(&value);
                if b.nodes > MAX_NODES {
                    return Err(Error::TooLarge {
                        line,
                        column,
                        message: format!("aliases expand to more than {MAX_NODES} nodes"),
                    });
                }
                b.push_value(value, false, &span)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                b.nodes += 1;
                b.scalar(&text, style, anchor, tag.as_deref(), &span)?;
            }
            Event::SequenceStart(_, anchor, _) => {
                b.open(&span)?;
                let place = b.child_place();
                b.stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                    place,
                });
            }
            Event::MappingStart(_, anchor, _) => {
                b.open(&span)?;
                let (line, col) = at(&span);
                let place = b.child_place();
                b.stack.push(Frame::Map {
                    place,
                    map: Map::new(),
                    key: None,
                    explicit: HashSet::new(),
                    merges: Vec::new(),
                    anchor,
                    line,
                    col,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, anchor, .. }) = b.stack.pop() {
                    let v = Value::Array(items);
                    if anchor != 0 {
                        b.anchors.insert(anchor, v.clone());
                    }
                    b.push_value(v, false, &span)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut map,
                    explicit,
                    merges,
                    anchor,
                    line,
                    col,
                    ..
                }) = b.stack.pop()
                {
                    apply_merges(&mut map, &explicit, merges, line, col)?;
                    let v = Value::Object(map);
                    if anchor != 0 {
                        b.anchors.insert(anchor, v.clone());
                    }
                    b.push_value(v, false, &span)?;
                }
            }
            _ => {}
        }
    }
    Ok(b.docs)
}

fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(count_nodes).sum::<usize>(),
        Value::Object(m) => 1 + m.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

fn apply_merges(
    map: &mut Map<String, Value>,
    explicit: &HashSet<String>,
    merges: Vec<Value>,
    line: usize,
    column: usize,
) -> Result<(), Error> {
    for source in merges {
        let sources = match source {
            Value::Object(m) => vec![m],
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Value::Object(m) => out.push(m),
                        _ => {
                            return Err(Error::Invalid {
                                line,
                                column,
                                message: "map merge requires map or sequence of maps as the value"
                                    .to_string(),
                            });
                        }
                    }
                }
                out
            }
            _ => {
                return Err(Error::Invalid {
                    line,
                    column,
                    message: "map merge requires map or sequence of maps as the value".to_string(),
                });
            }
        };
        for m in sources {
            for (k, v) in m {
                if !explicit.contains(&k) && !map.contains_key(&k) {
                    map.insert(k, v);
                }
            }
        }
    }
    Ok(())
}

impl Builder {
    /// The place of a node about to start, from its parent frame and pending key.
    fn child_place(&self) -> Place {
        match self.stack.last() {
            None => Place::Object,
            Some(Frame::Seq { place, .. }) => {
                if *place == Place::RootItems {
                    Place::Object
                } else {
                    Place::Other
                }
            }
            Some(Frame::Map { place, key, .. }) => {
                let key = key.as_ref().map(|(k, _)| k.as_str());
                match (place, key, self.stack.len()) {
                    (Place::Object, Some("metadata"), _) => Place::Metadata,
                    (Place::Object, Some("items"), 1) => Place::RootItems,
                    (Place::Metadata, Some("annotations"), _) => Place::Annotations,
                    _ => Place::Other,
                }
            }
        }
    }

    fn in_annotations(&self) -> bool {
        self.annotations_as_text
            && matches!(
                self.stack.last(),
                Some(Frame::Map {
                    place: Place::Annotations,
                    key: Some(_),
                    ..
                })
            )
    }

    fn open(&mut self, span: &Span) -> Result<(), Error> {
        self.nodes += 1;
        if self.stack.len() >= MAX_DEPTH {
            let (line, column) = at(span);
            return Err(Error::TooLarge {
                line,
                column,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: &Span,
    ) -> Result<(), Error> {
        let (line, column) = at(span);
        // A key position: keep the text (go-yaml v3 decodes any scalar key into a string key
        // with its source text), and recognise the merge key.
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            let is_merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
            let key = match (tag.and_then(Tag::core_suffix), style) {
                (Some("null"), _) => String::new(),
                (None, ScalarStyle::Plain)
                    if resolve_plain(text, self.schema) == Resolved::Null =>
                {
                    String::new()
                }
                _ => text.to_string(),
            };
            if let Some(Frame::Map { key: slot, .. }) = self.stack.last_mut() {
                *slot = Some((key, is_merge));
            }
            if anchor != 0 {
                self.anchors.insert(anchor, Value::String(text.to_string()));
            }
            return Ok(());
        }
        let value = if self.in_annotations() {
            // kustomize rewrites metadata.annotations as a string map of the source texts.
            Value::String(text.to_string())
        } else {
            scalar_value(text, style, tag, self.schema, line, column)?
        };
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        self.push_value(value, true, span)
    }

    fn push_value(&mut self, value: Value, scalar: bool, span: &Span) -> Result<(), Error> {
        // A collection (or alias to one) as an annotation value becomes "".
        let value = if !scalar && self.in_annotations() {
            match value {
                Value::String(_) => value,
                Value::Null => Value::String("null".to_string()),
                Value::Bool(b) => Value::String(b.to_string()),
                Value::Number(n) => Value::String(n.to_string()),
                _ => Value::String(String::new()),
            }
        } else {
            value
        };
        match self.stack.last_mut() {
            None => {
                self.root = Some(value);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(value);
                Ok(())
            }
            Some(Frame::Map {
                map,
                key,
                explicit,
                merges,
                ..
            }) => match key.take() {
                // A collection or alias in key position: go-yaml cannot decode that into a
                // string-keyed map either.
                None => {
                    let (line, column) = at(span);
                    Err(Error::Invalid {
                        line,
                        column,
                        message: "mapping keys must be scalars".to_string(),
                    })
                }
                Some((_, true)) => {
                    merges.push(value);
                    Ok(())
                }
                Some((k, false)) => {
                    if explicit.contains(&k) && !self.last_wins {
                        let (line, column) = at(span);
                        return Err(Error::Invalid {
                            line,
                            column,
                            message: format!("mapping key {k:?} already defined"),
                        });
                    }
                    explicit.insert(k.clone());
                    map.insert(k, value);
                    Ok(())
                }
            },
        }
    }
}

fn scalar_value(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    schema: Schema,
    line: usize,
    column: usize,
) -> Result<Value, Error> {
    let core = tag.and_then(Tag::core_suffix);
    let suffix_name = tag.and_then(|t| t.suffix_in_namespace("tag:yaml.org,2002:"));
    match (core, suffix_name.as_deref()) {
        (Some("str"), _) => return Ok(Value::String(text.to_string())),
        (_, Some("binary")) => {
            use base64::Engine;
            let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(cleaned)
                .map_err(|_| Error::Invalid {
                    line,
                    column,
                    message: "!!binary value contains invalid base64 data".to_string(),
                })?;
            return Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        }
        _ => {}
    }
    let explicit_core = core.is_some() || suffix_name.as_deref() == Some("timestamp");
    if tag.is_some() && !explicit_core {
        // A custom tag (`!foo`): go-yaml leaves the value as its text.
        return Ok(Value::String(text.to_string()));
    }
    if style != ScalarStyle::Plain && !explicit_core {
        return Ok(Value::String(text.to_string()));
    }
    let resolved = resolve_plain(text, schema);
    let wanted = core.or(suffix_name.as_deref());
    let mismatch = || Error::Invalid {
        line,
        column,
        message: format!("cannot decode `{text}` as a !!{}", wanted.unwrap_or("str")),
    };
    let value = match resolved {
        Resolved::Null => Value::Null,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Int(i) => {
            if wanted == Some("float") {
                float_value(i as f64, line, column)?
            } else {
                Value::Number(i.into())
            }
        }
        Resolved::Uint(u) => {
            if wanted == Some("float") {
                float_value(u as f64, line, column)?
            } else {
                Value::Number(u.into())
            }
        }
        Resolved::Float(f) => float_value(f, line, column)?,
        Resolved::Timestamp if schema == Schema::Kyaml => {
            // kyaml's decoder turns plain timestamps into time.Time, which JSON prints in
            // RFC 3339.
            Value::String(timestamp_rfc3339(text).unwrap_or_else(|| text.to_string()))
        }
        Resolved::Timestamp | Resolved::Merge | Resolved::Str => Value::String(text.to_string()),
    };
    if let Some(w) = wanted {
        let ok = match (w, &value) {
            ("null", Value::Null) | ("bool", Value::Bool(_)) | ("float", Value::Number(_)) => true,
            ("int", Value::Number(n)) => !n.is_f64(),
            ("timestamp", Value::String(_)) => matches!(resolved, Resolved::Timestamp),
            ("map" | "seq", _) => false,
            _ => false,
        };
        if !ok {
            return Err(mismatch());
        }
    }
    Ok(value)
}

fn float_value(f: f64, line: usize, column: usize) -> Result<Value, Error> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| Error::Invalid {
            line,
            column,
            message: format!("unsupported value: {f} (JSON has no NaN or infinity)"),
        })
}
