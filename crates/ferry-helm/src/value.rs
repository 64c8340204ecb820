//! The values templates work on, modelled on the Go types Helm and Sprig produce.
//!
//! Go's text/template is reflection-driven: what a template prints, which functions accept a
//! value, and how errors read all depend on the dynamic Go type (`int` vs `int64` vs `float64`,
//! `[]interface {}` vs `[]string`, `map[string]interface {}` vs `common.Values`). Each value
//! therefore carries enough of its Go type to reproduce that behaviour.
//!
//! Maps are shared and mutable (`set`, `unset`, `merge` change them in place, and the change is
//! visible through every reference, as with Go maps); lists are immutable (Sprig never mutates a
//! slice it returns to the template).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use crate::object::Object;

/// Shared immutable string.
pub type Str = Rc<str>;

/// A Go integer type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntKind {
    Int,
    Int64,
    Int32,
    Uint8,
    Uint64,
    Uint32,
    Uint,
}

impl IntKind {
    pub fn name(self) -> &'static str {
        match self {
            IntKind::Int => "int",
            IntKind::Int64 => "int64",
            IntKind::Int32 => "int32",
            IntKind::Uint8 => "uint8",
            IntKind::Uint64 => "uint64",
            IntKind::Uint32 => "uint32",
            IntKind::Uint => "uint",
        }
    }
    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            IntKind::Uint8 | IntKind::Uint64 | IntKind::Uint32 | IntKind::Uint
        )
    }
}

/// The Go slice type of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// `[]interface {}`
    Iface,
    /// `[]string`
    Str,
    /// `[]int`
    Int,
    /// `common.VersionSet` (a named `[]string`)
    VersionSet,
    /// `[][]interface {}` (Sprig's chunk)
    Lists,
}

/// The Go map type of a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    /// `map[string]interface {}`
    Iface,
    /// `common.Values` (a named `map[string]interface {}` with methods)
    Values,
    /// `map[string]string`
    Str,
    /// `engine.files` (a named `map[string][]byte` with methods)
    Files,
}

impl MapKind {
    /// Whether the element type is `interface {}` (lookups yield interface-wrapped values).
    pub fn iface_elems(self) -> bool {
        matches!(self, MapKind::Iface | MapKind::Values)
    }
}

pub type Entries = BTreeMap<Str, Value>;

/// A Go map with string keys; Go iterates and prints them in sorted order, as BTreeMap does.
/// The storage is shared between values of different named map types that Go converts
/// between (`common.Values` and `map[string]interface {}` views of one map).
#[derive(Debug)]
pub struct MapVal {
    pub kind: MapKind,
    pub entries: Rc<RefCell<Entries>>,
    /// A typed nil map: prints `map[]`, encodes as JSON `null`.
    pub nil: bool,
}

/// A Go slice.
#[derive(Debug)]
pub struct ListVal {
    pub kind: ListKind,
    pub items: Vec<Value>,
    /// A typed nil slice: prints `[]`, encodes as JSON `null`.
    pub nil: bool,
}

#[derive(Clone, Default)]
pub enum Value {
    /// Go's untyped nil (a nil `interface {}` or an invalid reflect.Value).
    #[default]
    Nil,
    Bool(bool),
    Int(i64, IntKind),
    Float(f64),
    Str(Str),
    /// A Go string holding bytes that are not valid UTF-8 (b64dec of binary data).
    BStr(Rc<[u8]>),
    Bytes(Rc<[u8]>),
    List(Rc<ListVal>),
    Map(Rc<MapVal>),
    Object(Rc<dyn Object>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i, k) => write!(f, "{i}_{}", k.name()),
            Value::Float(x) => write!(f, "{x}f"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::BStr(b) => write!(f, "bstr{b:?}"),
            Value::Bytes(b) => write!(f, "bytes{b:?}"),
            Value::List(l) => f.debug_list().entries(l.items.iter()).finish(),
            Value::Map(m) => f.debug_map().entries(m.entries.borrow().iter()).finish(),
            Value::Object(o) => write!(f, "<{}>", o.type_name()),
        }
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }
    pub fn string(s: String) -> Value {
        Value::Str(Rc::from(s))
    }
    /// A Go string from raw bytes: `Str` when they are UTF-8, else `BStr`.
    pub fn from_bytes(b: Vec<u8>) -> Value {
        match String::from_utf8(b) {
            Ok(s) => Value::string(s),
            Err(e) => Value::BStr(Rc::from(e.into_bytes())),
        }
    }
    /// The bytes of a string value (`Str` or `BStr`).
    pub fn str_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s.as_bytes()),
            Value::BStr(b) => Some(b),
            _ => None,
        }
    }
    pub fn int(i: i64) -> Value {
        Value::Int(i, IntKind::Int)
    }
    pub fn int64(i: i64) -> Value {
        Value::Int(i, IntKind::Int64)
    }
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(ListVal {
            kind: ListKind::Iface,
            items,
            nil: false,
        }))
    }
    pub fn list_of(kind: ListKind, items: Vec<Value>) -> Value {
        Value::List(Rc::new(ListVal {
            kind,
            items,
            nil: false,
        }))
    }
    pub fn str_list(items: Vec<String>) -> Value {
        Value::list_of(
            ListKind::Str,
            items.into_iter().map(Value::string).collect(),
        )
    }
    pub fn map(entries: Entries) -> Value {
        Value::map_of(MapKind::Iface, entries)
    }
    pub fn map_of(kind: MapKind, entries: Entries) -> Value {
        Value::Map(Rc::new(MapVal {
            kind,
            entries: Rc::new(RefCell::new(entries)),
            nil: false,
        }))
    }
    pub fn empty_map() -> Value {
        Value::map(Entries::new())
    }
    /// A typed nil map (Go's `map[...]...(nil)`).
    pub fn nil_map(kind: MapKind) -> Value {
        Value::Map(Rc::new(MapVal {
            kind,
            entries: Rc::new(RefCell::new(Entries::new())),
            nil: true,
        }))
    }
    /// A typed nil slice.
    pub fn nil_list(kind: ListKind) -> Value {
        Value::List(Rc::new(ListVal {
            kind,
            items: vec![],
            nil: true,
        }))
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Rc<MapVal>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// A map whose elements are `interface {}` (what Helm calls a table).
    pub fn as_table(&self) -> Option<&Rc<MapVal>> {
        match self {
            Value::Map(m) if m.kind.iface_elems() => Some(m),
            _ => None,
        }
    }

    /// Go's `%T` name of the dynamic type.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_, k) => k.name().into(),
            Value::Float(_) => "float64".into(),
            Value::Str(_) | Value::BStr(_) => "string".into(),
            Value::Bytes(_) => "[]uint8".into(),
            Value::List(l) => match l.kind {
                ListKind::Iface => "[]interface {}".into(),
                ListKind::Str => "[]string".into(),
                ListKind::Int => "[]int".into(),
                ListKind::VersionSet => "common.VersionSet".into(),
                ListKind::Lists => "[][]interface {}".into(),
            },
            Value::Map(m) => match m.kind {
                MapKind::Iface => "map[string]interface {}".into(),
                MapKind::Values => "common.Values".into(),
                MapKind::Str => "map[string]string".into(),
                MapKind::Files => "engine.files".into(),
            },
            Value::Object(o) => o.type_name().into(),
        }
    }

    /// Go's `reflect.Kind` name.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_, k) => k.name(),
            Value::Float(_) => "float64",
            Value::Str(_) | Value::BStr(_) => "string",
            Value::Bytes(_) | Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => o.kind_name(),
        }
    }

    /// Go's template truth (`isTrue`): empty collections, zero numbers, "" and nil are false.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i, _) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::BStr(b) | Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.items.is_empty(),
            Value::Map(m) => !m.entries.borrow().is_empty(),
            Value::Object(o) => o.truth(),
        }
    }

    /// Length as Go's `len` sees it, for types that have one.
    pub fn go_len(&self) -> Option<usize> {
        match self {
            Value::Str(s) => Some(s.len()),
            Value::BStr(b) | Value::Bytes(b) => Some(b.len()),
            Value::List(l) => Some(l.items.len()),
            Value::Map(m) => Some(m.entries.borrow().len()),
            _ => None,
        }
    }

    /// Copies maps and lists recursively (Sprig's deepCopy, Helm's copystructure).
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::List(l) => {
                Value::list_of(l.kind, l.items.iter().map(Value::deep_copy).collect())
            }
            Value::Map(m) => Value::map_of(
                m.kind,
                m.entries
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Same storage (for maps) — Go's identity of map headers.
    pub fn same_map(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Map(a), Value::Map(b)) => Rc::ptr_eq(&a.entries, &b.entries),
            _ => false,
        }
    }

    /// The same map storage seen as another named map type (a Go conversion).
    pub fn retyped(&self, kind: MapKind) -> Value {
        match self {
            Value::Map(m) if m.kind != kind => Value::Map(Rc::new(MapVal {
                kind,
                entries: m.entries.clone(),
                nil: m.nil,
            })),
            other => other.clone(),
        }
    }
}

impl MapVal {
    pub fn get(&self, key: &str) -> Option<Value> {
        self.entries.borrow().get(key).cloned()
    }
    pub fn insert(&self, key: &str, value: Value) {
        self.entries.borrow_mut().insert(Rc::from(key), value);
    }
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.entries.borrow_mut().remove(key)
    }
    pub fn contains(&self, key: &str) -> bool {
        self.entries.borrow().contains_key(key)
    }
    pub fn keys(&self) -> Vec<Str> {
        self.entries.borrow().keys().cloned().collect()
    }
    pub fn snapshot(&self) -> Vec<(Str, Value)> {
        self.entries
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}
