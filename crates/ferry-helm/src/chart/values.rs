//! Values: Helm's value files (YAML read through JSON, so numbers are float64), `--set`
//! expressions (strvals: typed ints, lists, escapes), merging of several value files, and
//! the coalescing of user values with chart defaults across subcharts and globals.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::value::{Entries, IntKind, Value};
use crate::yaml::{self, Node};

/// A values tree with Go's dynamic types; `Send + Sync`, unlike template values. Clones,
/// comparisons and drops do not recurse on the caller's stack without bound (values nest up
/// to 10000 levels).
#[derive(Debug)]
pub enum Plain {
    Null,
    Bool(bool),
    /// int64 (from `--set`)
    Int(i64),
    /// float64 (every number read from YAML or JSON)
    Float(f64),
    Str(String),
    List(Vec<Plain>),
    Map(BTreeMap<String, Plain>),
}

impl Clone for Plain {
    fn clone(&self) -> Self {
        stacker::maybe_grow(32 * 1024, 1024 * 1024, || match self {
            Plain::Null => Plain::Null,
            Plain::Bool(b) => Plain::Bool(*b),
            Plain::Int(i) => Plain::Int(*i),
            Plain::Float(f) => Plain::Float(*f),
            Plain::Str(s) => Plain::Str(s.clone()),
            Plain::List(l) => Plain::List(l.clone()),
            Plain::Map(m) => Plain::Map(m.clone()),
        })
    }
}

impl PartialEq for Plain {
    fn eq(&self, other: &Self) -> bool {
        stacker::maybe_grow(32 * 1024, 1024 * 1024, || match (self, other) {
            (Plain::Null, Plain::Null) => true,
            (Plain::Bool(a), Plain::Bool(b)) => a == b,
            (Plain::Int(a), Plain::Int(b)) => a == b,
            (Plain::Float(a), Plain::Float(b)) => a == b,
            (Plain::Str(a), Plain::Str(b)) => a == b,
            (Plain::List(a), Plain::List(b)) => a == b,
            (Plain::Map(a), Plain::Map(b)) => a == b,
            _ => false,
        })
    }
}

impl Plain {
    /// The map inside, taken out; `Err(self)` for any other kind.
    pub fn into_map(mut self) -> Result<Table, Plain> {
        match &mut self {
            Plain::Map(m) => Ok(std::mem::take(m)),
            _ => Err(self),
        }
    }
}

impl Drop for Plain {
    fn drop(&mut self) {
        // Values nest up to go-yaml's 10000 levels: recursing that deep would overflow the
        // stack, so children go through a work list, unless the stack has room to spare (the
        // common case, and faster).
        if stacker::remaining_stack().is_some_and(|r| r > 256 * 1024) {
            return;
        }
        let mut work: Vec<Plain> = match self {
            Plain::List(l) if !l.is_empty() => std::mem::take(l),
            Plain::Map(m) if !m.is_empty() => std::mem::take(m).into_values().collect(),
            _ => return,
        };
        while let Some(mut p) = work.pop() {
            match &mut p {
                Plain::List(l) => work.append(l),
                Plain::Map(m) => work.extend(std::mem::take(m).into_values()),
                _ => {}
            }
        }
    }
}

pub type Table = BTreeMap<String, Plain>;

/// A map of values (what `-f values.yaml` and `--set` produce).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Values(pub Table);

impl Plain {
    /// The JSON-through value of a YAML node (sigs.k8s.io/yaml).
    pub fn from_node(n: &Node) -> Result<Plain, String> {
        Ok(match n {
            Node::Null => Plain::Null,
            Node::Bool(b) => Plain::Bool(*b),
            Node::Int(i) => Plain::Float(*i as f64),
            Node::Uint(u) => Plain::Float(*u as f64),
            Node::Float(f) => {
                if !f.is_finite() {
                    return Err(format!(
                        "error converting YAML to JSON: json: unsupported value: {}",
                        crate::gofmt::format_float(*f, 'g', -1)
                    ));
                }
                Plain::Float(*f)
            }
            Node::Str(s) => Plain::Str(s.clone()),
            Node::Binary(b) => Plain::Str(String::from_utf8_lossy(b).into_owned()),
            Node::Seq(items) => Plain::List(
                items
                    .iter()
                    .map(Plain::from_node)
                    .collect::<Result<_, _>>()?,
            ),
            Node::Map(pairs) => {
                let mut m = Table::new();
                for (k, v) in pairs {
                    m.insert(yaml::key_string(k).map_err(|e| e.0)?, Plain::from_node(v)?);
                }
                Plain::Map(m)
            }
        })
    }

    /// [`Plain::from_node`] of a node the caller gives up: strings and keys move instead of
    /// being copied.
    pub fn from_node_owned(n: Node) -> Result<Plain, String> {
        Ok(match n {
            Node::Str(s) => Plain::Str(s),
            Node::Seq(items) => Plain::List(
                items
                    .into_iter()
                    .map(Plain::from_node_owned)
                    .collect::<Result<_, _>>()?,
            ),
            Node::Map(pairs) => {
                let mut m = Table::new();
                for (k, v) in pairs {
                    let k = match k {
                        Node::Str(s) => s,
                        other => yaml::key_string(&other).map_err(|e| e.0)?,
                    };
                    m.insert(k, Plain::from_node_owned(v)?);
                }
                Plain::Map(m)
            }
            other => Plain::from_node(&other)?,
        })
    }

    /// A JSON value (`json.Unmarshal` into interface{}: numbers are float64).
    pub fn from_json(v: &serde_json::Value) -> Plain {
        match v {
            serde_json::Value::Null => Plain::Null,
            serde_json::Value::Bool(b) => Plain::Bool(*b),
            serde_json::Value::Number(n) => Plain::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Plain::Str(s.clone()),
            serde_json::Value::Array(a) => Plain::List(a.iter().map(Plain::from_json).collect()),
            serde_json::Value::Object(o) => Plain::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Plain::from_json(v)))
                    .collect(),
            ),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Plain::Null => serde_json::Value::Null,
            Plain::Bool(b) => serde_json::Value::Bool(*b),
            Plain::Int(i) => serde_json::Value::from(*i),
            Plain::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Plain::Str(s) => serde_json::Value::String(s.clone()),
            Plain::List(l) => serde_json::Value::Array(l.iter().map(Plain::to_json).collect()),
            Plain::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// The template value (maps are `map[string]interface {}`).
    pub fn to_value(&self) -> Value {
        match self {
            Plain::Null => Value::Nil,
            Plain::Bool(b) => Value::Bool(*b),
            Plain::Int(i) => Value::Int(*i, IntKind::Int64),
            Plain::Float(f) => Value::Float(*f),
            Plain::Str(s) => Value::str(s),
            Plain::List(l) => Value::list(l.iter().map(Plain::to_value).collect()),
            Plain::Map(m) => Value::map(table_entries(m)),
        }
    }

    /// Back from a template value (for values rendered by templates).
    pub fn from_value(v: &Value) -> Plain {
        match v {
            Value::Nil => Plain::Null,
            Value::Bool(b) => Plain::Bool(*b),
            Value::Int(i, _) => Plain::Int(*i),
            Value::Float(f) => Plain::Float(*f),
            Value::Str(s) => Plain::Str(s.to_string()),
            Value::BStr(b) | Value::Bytes(b) => Plain::Str(String::from_utf8_lossy(b).into_owned()),
            Value::List(l) => Plain::List(l.items.iter().map(Plain::from_value).collect()),
            Value::Map(m) => Plain::Map(
                m.entries
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.to_string(), Plain::from_value(v)))
                    .collect(),
            ),
            Value::Object(o) => Plain::from_value(&o.json()),
        }
    }

    fn is_table(&self) -> bool {
        matches!(self, Plain::Map(_))
    }
}

pub fn table_entries(m: &Table) -> Entries {
    m.iter()
        .map(|(k, v)| (Rc::from(k.as_str()), v.to_value()))
        .collect()
}

impl Values {
    /// Helm's `ReadValues`: YAML (or JSON) text, its first document; an empty document is an
    /// empty map.
    pub fn from_yaml(text: &str) -> Result<Values, String> {
        crate::deep(|| Self::decode_document(text, "common.Values"))
    }

    /// Helm v4's `LoadValues` (a chart's values.yaml, `-f` files): a stream of YAML documents,
    /// split on `---` lines as Kubernetes' YAMLReader splits them, each a map, merged in order
    /// with `MergeMaps` (later documents win, maps merge).
    pub fn load(text: &str) -> Result<Values, String> {
        crate::deep(|| Self::load_inner(text))
    }

    fn load_inner(text: &str) -> Result<Values, String> {
        // one document (no `---` line): decoded in place rather than copied line by line
        if !text.starts_with("---") && !text.contains("\n---") {
            if text.is_empty() {
                return Ok(Values::default());
            }
            return Self::decode_document(text, "map[string]interface {}")
                .map_err(|e| format!("cannot unmarshal yaml document: {e}"));
        }
        let mut out = Values::default();
        let mut buf = String::new();
        let flush = |buf: &mut String, out: &mut Values| -> Result<(), String> {
            if !buf.is_empty() {
                let doc = Self::decode_document(buf, "map[string]interface {}")
                    .map_err(|e| format!("cannot unmarshal yaml document: {e}"))?;
                out.merge(doc);
                buf.clear();
            }
            Ok(())
        };
        for line in text.split_inclusive('\n') {
            if let Some(rest) = line.strip_prefix("---") {
                let trimmed = rest.trim();
                if !trimmed.is_empty() && !trimmed.starts_with('#') {
                    flush(&mut buf, &mut out)?;
                    return Err(format!(
                        "error reading yaml document: invalid Yaml document separator: {trimmed}"
                    ));
                }
                flush(&mut buf, &mut out)?;
                continue;
            }
            buf.push_str(line);
        }
        flush(&mut buf, &mut out)?;
        Ok(out)
    }

    fn decode_document(text: &str, go_type: &str) -> Result<Values, String> {
        let node = yaml::parse::parse_first(text)
            .map_err(|e| format!("error converting YAML to JSON: {}", e.0))?;
        match node {
            None | Some(Node::Null) => Ok(Values::default()),
            Some(n @ Node::Map(_)) => Ok(Values(
                Plain::from_node_owned(n)?.into_map().unwrap_or_default(),
            )),
            Some(other) => Err(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type {go_type}",
                match other {
                    Node::Seq(_) => "array",
                    Node::Str(_) | Node::Binary(_) => "string",
                    Node::Bool(_) => "bool",
                    _ => "number",
                }
            )),
        }
    }

    /// Values given as JSON (a HelmRelease's `spec.values`).
    pub fn from_json(v: &serde_json::Value) -> Result<Values, String> {
        match Plain::from_json(v).into_map() {
            Ok(m) => Ok(Values(m)),
            Err(Plain::Null) => Ok(Values::default()),
            Err(_) => Err("values must be a JSON object".into()),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        Plain::Map(self.0.clone()).to_json()
    }

    /// Helm's `mergeMaps`: later value files override earlier ones, maps merged recursively.
    pub fn merge(&mut self, other: Values) {
        merge_maps(&mut self.0, other.0);
    }

    /// `--set key=value[,key=value]` (typed: ints become int64, true/false/null typed).
    pub fn set(&mut self, expr: &str) -> Result<(), String> {
        strvals::parse_into(expr, &mut self.0, false)
    }

    /// `--set-string key=value` (every value a string).
    pub fn set_string(&mut self, expr: &str) -> Result<(), String> {
        strvals::parse_into(expr, &mut self.0, true)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn merge_maps(a: &mut Table, b: Table) {
    for (k, v) in b {
        match v.into_map() {
            Ok(vm) => {
                if let Some(Plain::Map(am)) = a.get_mut(&k) {
                    merge_maps(am, vm);
                } else {
                    a.insert(k, Plain::Map(vm));
                }
            }
            Err(v) => {
                a.insert(k, v);
            }
        }
    }
}

/// Chart defaults without their nulls: Helm v4 drops null chart defaults (they never reach
/// `.Values` and never delete anything), while nulls in user values delete chart keys.
pub fn strip_nulls(t: &Table) -> Table {
    t.iter()
        .filter(|(_, v)| !matches!(v, Plain::Null))
        .map(|(k, v)| {
            (
                k.clone(),
                match v {
                    Plain::Map(m) => Plain::Map(strip_nulls(m)),
                    other => other.clone(),
                },
            )
        })
        .collect()
}

/// Helm's `coalesceTablesFullKey(dst, src, merge)`: `dst` wins; `src` fills in.
pub fn coalesce_tables(dst: &mut Table, src: Table, merge: bool) {
    for (key, val) in src {
        match dst.get_mut(&key) {
            None => {
                if !matches!(val, Plain::Null) {
                    dst.insert(key, val);
                }
            }
            Some(Plain::Null) => {
                if !merge {
                    dst.remove(&key);
                }
            }
            Some(Plain::Map(dm)) => match val.into_map() {
                Ok(sm) => coalesce_tables(dm, sm, merge),
                Err(Plain::Null) => {}
                Err(_) => {
                    tracing::warn!(key = %key, "destination is a table; ignoring non-table value")
                }
            },
            Some(_) => {
                if val.is_table() {
                    tracing::warn!(key = %key, "cannot overwrite table with non table");
                }
            }
        }
    }
}

pub mod strvals {
    //! Helm's `pkg/strvals` parser for `--set`.
    use super::{Plain, Table};

    const MAX_NESTED: usize = 30;
    const MAX_INDEX: usize = 65536;

    struct Scanner {
        chars: Vec<char>,
        pos: usize,
        string_only: bool,
    }

    enum Stop {
        Eof,
        At(char),
    }

    impl Scanner {
        fn runes_until(&mut self, stop: &[char]) -> (String, Stop) {
            let mut v = String::new();
            while self.pos < self.chars.len() {
                let c = self.chars[self.pos];
                self.pos += 1;
                if stop.contains(&c) {
                    return (v, Stop::At(c));
                }
                if c == '\\' {
                    if self.pos >= self.chars.len() {
                        return (v, Stop::Eof);
                    }
                    v.push(self.chars[self.pos]);
                    self.pos += 1;
                    continue;
                }
                v.push(c);
            }
            (v, Stop::Eof)
        }

        fn typed(&self, v: &str) -> Plain {
            if self.string_only {
                return Plain::Str(v.to_string());
            }
            if v.eq_ignore_ascii_case("true") {
                return Plain::Bool(true);
            }
            if v.eq_ignore_ascii_case("false") {
                return Plain::Bool(false);
            }
            if v.eq_ignore_ascii_case("null") {
                return Plain::Null;
            }
            if v == "0" {
                return Plain::Int(0);
            }
            if !v.is_empty()
                && !v.starts_with('0')
                && let Some(i) = crate::gonum::parse_int10(v)
            {
                return Plain::Int(i);
            }
            Plain::Str(v.to_string())
        }

        /// `valList`: `{a,b}` → Some(list); `Err` with "" on EOF.
        fn val_list(&mut self) -> Result<Option<Vec<Plain>>, String> {
            if self.pos >= self.chars.len() {
                return Err(String::new());
            }
            if self.chars[self.pos] != '{' {
                return Ok(None);
            }
            self.pos += 1;
            let mut list = vec![];
            loop {
                let (rs, stop) = self.runes_until(&[',', '}']);
                match stop {
                    Stop::Eof => return Err("list must terminate with '}'".into()),
                    Stop::At('}') => {
                        if self.pos < self.chars.len() && self.chars[self.pos] == ',' {
                            self.pos += 1;
                        }
                        list.push(self.typed(&rs));
                        return Ok(Some(list));
                    }
                    Stop::At(_) => list.push(self.typed(&rs)),
                }
            }
        }

        fn key_index(&mut self) -> Result<usize, String> {
            let (v, stop) = self.runes_until(&[']']);
            if let Stop::Eof = stop {
                return Err("error parsing index: EOF".into());
            }
            let i: i64 = v.parse().map_err(|_| {
                format!(
                    "error parsing index: strconv.Atoi: parsing {}: invalid syntax",
                    crate::gofmt::quote(&v)
                )
            })?;
            if i < 0 {
                return Err(format!("negative {i} index not allowed"));
            }
            if i as usize > MAX_INDEX {
                return Err(format!(
                    "index of {i} is greater than maximum supported index of {MAX_INDEX}"
                ));
            }
            Ok(i as usize)
        }

        /// Returns Ok(true) to continue parsing, Ok(false) at the end.
        fn key(&mut self, data: &mut Table, level: usize) -> Result<bool, String> {
            let (k, stop) = self.runes_until(&['=', '[', ',', '.']);
            match stop {
                Stop::Eof => {
                    if k.is_empty() {
                        return Ok(false);
                    }
                    Err(format!("key {} has no value", crate::gofmt::quote(&k)))
                }
                Stop::At('[') => {
                    let i = self.key_index()?;
                    let list = match data.get(&k) {
                        None => vec![],
                        Some(Plain::List(l)) => l.clone(),
                        Some(other) => return Err(unable(other, "[]interface {}")),
                    };
                    let r = self.list_item(list, i, level);
                    match r {
                        Ok((list, more)) => {
                            set(data, &k, Plain::List(list));
                            Ok(more)
                        }
                        Err(e) => Err(e),
                    }
                }
                Stop::At('=') => match self.val_list() {
                    Ok(Some(list)) => {
                        set(data, &k, Plain::List(list));
                        Ok(true)
                    }
                    Err(e) if e.is_empty() => {
                        set(data, &k, Plain::Str(String::new()));
                        Ok(false)
                    }
                    Err(e) => Err(e),
                    Ok(None) => {
                        let (rs, stop) = self.runes_until(&[',']);
                        let v = self.typed(&rs);
                        set(data, &k, v);
                        Ok(!matches!(stop, Stop::Eof))
                    }
                },
                Stop::At(',') => {
                    set(data, &k, Plain::Str(String::new()));
                    Err(format!(
                        "key {} has no value (cannot end with ,)",
                        crate::gofmt::quote(&k)
                    ))
                }
                Stop::At(_) => {
                    let level = level + 1;
                    if level > MAX_NESTED {
                        return Err(format!(
                            "value name nested level is greater than maximum supported nested level of {MAX_NESTED}"
                        ));
                    }
                    let mut inner = match data.get(&k) {
                        None => Table::new(),
                        Some(Plain::Map(m)) => m.clone(),
                        Some(other) => return Err(unable(other, "map[string]interface {}")),
                    };
                    let r = self.key(&mut inner, level);
                    if r.is_ok() && inner.is_empty() {
                        return Err(format!("key map {} has no value", crate::gofmt::quote(&k)));
                    }
                    if !inner.is_empty() {
                        set(data, &k, Plain::Map(inner));
                    }
                    r
                }
            }
        }

        fn list_item(
            &mut self,
            mut list: Vec<Plain>,
            i: usize,
            level: usize,
        ) -> Result<(Vec<Plain>, bool), String> {
            let (k, stop) = self.runes_until(&['[', '.', '=']);
            if !k.is_empty() {
                return Err(format!(
                    "unexpected data at end of array index: {}",
                    // Helm formats the rune slice it read, hence Go's `%q` of a `[]rune`
                    crate::gofmt::quote_runes(&k)
                ));
            }
            match stop {
                Stop::Eof => Err("EOF".into()),
                Stop::At('=') => match self.val_list() {
                    Ok(Some(vl)) => {
                        set_index(&mut list, i, Plain::List(vl));
                        Ok((list, true))
                    }
                    Err(e) if e.is_empty() => {
                        set_index(&mut list, i, Plain::Str(String::new()));
                        Ok((list, false))
                    }
                    Err(e) => Err(e),
                    Ok(None) => {
                        let (rs, stop) = self.runes_until(&[',']);
                        let v = self.typed(&rs);
                        set_index(&mut list, i, v);
                        Ok((list, !matches!(stop, Stop::Eof)))
                    }
                },
                Stop::At('[') => {
                    let next = self.key_index()?;
                    let cur = match list.get(i) {
                        Some(Plain::List(l)) => l.clone(),
                        Some(Plain::Null) | None => vec![],
                        Some(other) => return Err(unable(other, "[]interface {}")),
                    };
                    let (l2, more) = self.list_item(cur, next, level)?;
                    set_index(&mut list, i, Plain::List(l2));
                    Ok((list, more))
                }
                Stop::At(_) => {
                    let mut inner = match list.get(i) {
                        Some(Plain::Map(m)) => m.clone(),
                        _ => Table::new(),
                    };
                    let more = self.key(&mut inner, level)?;
                    set_index(&mut list, i, Plain::Map(inner));
                    Ok((list, more))
                }
            }
        }
    }

    fn unable(v: &Plain, want: &str) -> String {
        let got = match v {
            Plain::Null => "nil",
            Plain::Bool(_) => "bool",
            Plain::Int(_) => "int64",
            Plain::Float(_) => "float64",
            Plain::Str(_) => "string",
            Plain::List(_) => "[]interface {}",
            Plain::Map(_) => "map[string]interface {}",
        };
        format!("unable to parse key: interface conversion: interface {{}} is {got}, not {want}")
    }

    fn set(data: &mut Table, key: &str, v: Plain) {
        if !key.is_empty() {
            data.insert(key.to_string(), v);
        }
    }

    fn set_index(list: &mut Vec<Plain>, i: usize, v: Plain) {
        if list.len() <= i {
            list.resize(i + 1, Plain::Null);
        }
        list[i] = v;
    }

    /// `strvals.ParseInto` (or `ParseIntoString` when `string_only`).
    pub fn parse_into(expr: &str, dest: &mut Table, string_only: bool) -> Result<(), String> {
        let mut sc = Scanner {
            chars: expr.chars().collect(),
            pos: 0,
            string_only,
        };
        while sc.key(dest, 0)? {}
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(expr: &str) -> serde_json::Value {
        let mut v = Values::default();
        v.set(expr).expect("valid --set");
        v.to_json()
    }

    #[test]
    fn set_syntax() {
        assert_eq!(
            set("a=1,b=true,c=null,d=010,e=x"),
            serde_json::json!({"a":1,"b":true,"c":null,"d":"010","e":"x"})
        );
        assert_eq!(set("a.b.c=1"), serde_json::json!({"a":{"b":{"c":1}}}));
        assert_eq!(set("l[1]=x"), serde_json::json!({"l":[null,"x"]}));
        assert_eq!(set("l[0].n=x"), serde_json::json!({"l":[{"n":"x"}]}));
        assert_eq!(set("l={a,b}"), serde_json::json!({"l":["a","b"]}));
        assert_eq!(set("a\\.b=1"), serde_json::json!({"a.b":1}));
        assert_eq!(set("a=x\\,y"), serde_json::json!({"a":"x,y"}));
        let mut v = Values::default();
        assert!(v.set("a").is_err());
    }

    #[test]
    fn values_files_read_numbers_as_floats() {
        let v = Values::from_yaml("a: 1\nb: [yes]\n").expect("valid");
        assert_eq!(v.0.get("a"), Some(&Plain::Float(1.0)));
        assert_eq!(v.0.get("b"), Some(&Plain::List(vec![Plain::Bool(true)])));
        assert!(Values::from_yaml("- 1").is_err());
    }
}
