//! values.schema.json validation with the messages Helm v4 prints (it uses
//! santhosh-tekuri/jsonschema v6): `- at '/path': got string, want integer`, nested groups
//! for schemas with several failures, `format` not asserted. Go iterates schema properties in
//! random order; errors here follow sorted property order, one of the orders Helm prints.

use serde_json::Value as J;

use super::values::{Plain, Table};

#[derive(Debug, Clone, PartialEq)]
pub struct SchemaError {
    pub loc: String,
    pub msg: String,
    pub causes: Vec<SchemaError>,
}

const GROUP: &str = "validation failed";

fn esc(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

fn jtype(v: &Plain) -> &'static str {
    match v {
        Plain::Null => "null",
        Plain::Bool(_) => "boolean",
        Plain::Int(_) | Plain::Float(_) => "number",
        Plain::Str(_) => "string",
        Plain::List(_) => "array",
        Plain::Map(_) => "object",
    }
}

fn num(v: &Plain) -> Option<f64> {
    match v {
        Plain::Int(i) => Some(*i as f64),
        Plain::Float(f) => Some(*f),
        _ => None,
    }
}

fn fmt_num(f: f64) -> String {
    crate::gofmt::format_v(&crate::value::Value::Float(f))
}

/// How v6 prints an instance value in messages.
fn show(v: &Plain) -> String {
    match v {
        Plain::Null => "<nil>".into(),
        Plain::Bool(b) => b.to_string(),
        Plain::Int(i) => i.to_string(),
        Plain::Float(f) => fmt_num(*f),
        Plain::Str(s) => format!("'{s}'"),
        other => crate::gofmt::format_v(&other.to_value()),
    }
}

fn show_json(v: &J) -> String {
    show(&Plain::from_json(v))
}

fn json_eq(a: &Plain, b: &J) -> bool {
    match (a, b) {
        (Plain::Null, J::Null) => true,
        (Plain::Bool(x), J::Bool(y)) => x == y,
        (Plain::Str(x), J::String(y)) => x == y,
        (x, J::Number(n)) => num(x).is_some_and(|f| Some(f) == n.as_f64()),
        (Plain::List(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Plain::Map(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => false,
    }
}

fn plain_eq(a: &Plain, b: &Plain) -> bool {
    match (a, b) {
        (x, y) if num(x).is_some() && num(y).is_some() => num(x) == num(y),
        (Plain::List(x), Plain::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| plain_eq(p, q))
        }
        (Plain::Map(x), Plain::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| plain_eq(v, w)))
        }
        _ => a == b,
    }
}

fn type_ok(t: &str, v: &Plain) -> bool {
    match t {
        "integer" => num(v).is_some_and(|f| f.fract() == 0.0),
        "number" => num(v).is_some(),
        other => jtype(v) == other,
    }
}

struct Ctx<'a> {
    root: &'a J,
}

fn resolve_ref<'a>(root: &'a J, r: &str) -> Option<&'a J> {
    let ptr = r.strip_prefix('#')?;
    if ptr.is_empty() {
        return Some(root);
    }
    let mut cur = root;
    for seg in ptr.strip_prefix('/')?.split('/') {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        let seg = percent_decode(&seg);
        cur = match cur {
            J::Object(o) => o.get(&seg)?,
            J::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (
                (b[i + 1] as char).to_digit(16),
                (b[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn mk(loc: &str, msg: String) -> SchemaError {
    SchemaError {
        loc: loc.to_string(),
        msg,
        causes: vec![],
    }
}

impl Ctx<'_> {
    fn validate(&self, s: &J, v: &Plain, loc: &str, depth: usize) -> Option<SchemaError> {
        if depth > 256 {
            return None;
        }
        let o = match s {
            J::Bool(true) => return None,
            J::Bool(false) => return Some(mk(loc, "false schema".into())),
            J::Object(o) => o,
            _ => return None,
        };
        let mut errs: Vec<SchemaError> = vec![];
        if let Some(r) = o.get("$ref").and_then(J::as_str)
            && let Some(target) = resolve_ref(self.root, r)
            && let Some(e) = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                self.validate(target, v, loc, depth + 1)
            })
        {
            errs.push(e);
        }
        if let Some(t) = o.get("type") {
            let types: Vec<&str> = match t {
                J::String(s) => vec![s.as_str()],
                J::Array(a) => a.iter().filter_map(J::as_str).collect(),
                _ => vec![],
            };
            if !types.is_empty() && !types.iter().any(|t| type_ok(t, v)) {
                let mut want: Vec<&str> = types.clone();
                want.sort();
                return Some(mk(
                    loc,
                    format!("got {}, want {}", jtype(v), want.join(" or ")),
                ));
            }
        }
        if let Some(J::Array(vals)) = o.get("enum")
            && !vals.iter().any(|e| json_eq(v, e))
        {
            let shown: Vec<String> = vals.iter().map(show_json).collect();
            errs.push(mk(
                loc,
                format!("value must be one of {}", shown.join(", ")),
            ));
        }
        if let Some(c) = o.get("const")
            && !json_eq(v, c)
        {
            errs.push(mk(loc, format!("value must be {}", show_json(c))));
        }
        if let Some(f) = num(v) {
            let n = |k: &str| o.get(k).and_then(J::as_f64);
            let draft4_excl = |k: &str| o.get(k).and_then(J::as_bool).unwrap_or(false);
            if let Some(m) = n("minimum")
                && (f < m || (draft4_excl("exclusiveMinimum") && f <= m))
            {
                let kw = if draft4_excl("exclusiveMinimum") {
                    "exclusiveMinimum"
                } else {
                    "minimum"
                };
                errs.push(mk(
                    loc,
                    format!("{kw}: got {}, want {}", fmt_num(f), fmt_num(m)),
                ));
            }
            if let Some(m) = n("maximum")
                && (f > m || (draft4_excl("exclusiveMaximum") && f >= m))
            {
                let kw = if draft4_excl("exclusiveMaximum") {
                    "exclusiveMaximum"
                } else {
                    "maximum"
                };
                errs.push(mk(
                    loc,
                    format!("{kw}: got {}, want {}", fmt_num(f), fmt_num(m)),
                ));
            }
            if let Some(m) = n("exclusiveMinimum")
                && f <= m
            {
                errs.push(mk(
                    loc,
                    format!("exclusiveMinimum: got {}, want {}", fmt_num(f), fmt_num(m)),
                ));
            }
            if let Some(m) = n("exclusiveMaximum")
                && f >= m
            {
                errs.push(mk(
                    loc,
                    format!("exclusiveMaximum: got {}, want {}", fmt_num(f), fmt_num(m)),
                ));
            }
            if let Some(m) = n("multipleOf")
                && m != 0.0
                && ((f / m).fract() != 0.0)
            {
                errs.push(mk(
                    loc,
                    format!("multipleOf: got {}, want {}", fmt_num(f), fmt_num(m)),
                ));
            }
        }
        if let Plain::Str(st) = v {
            let len = st.chars().count() as u64;
            if let Some(m) = o.get("minLength").and_then(J::as_u64)
                && len < m
            {
                errs.push(mk(loc, format!("minLength: got {len}, want {m}")));
            }
            if let Some(m) = o.get("maxLength").and_then(J::as_u64)
                && len > m
            {
                errs.push(mk(loc, format!("maxLength: got {len}, want {m}")));
            }
            if let Some(p) = o.get("pattern").and_then(J::as_str)
                && let Ok(re) = regex::Regex::new(p)
                && !re.is_match(st)
            {
                errs.push(mk(loc, format!("'{st}' does not match pattern '{p}'")));
            }
        }
        if let Plain::Map(m) = v {
            self.object(o, m, loc, depth, &mut errs);
        }
        if let Plain::List(items) = v {
            self.array(o, items, loc, depth, &mut errs);
        }
        if let Some(J::Array(subs)) = o.get("allOf") {
            let causes: Vec<SchemaError> = subs
                .iter()
                .filter_map(|s| self.sub(s, v, loc, depth))
                .collect();
            if !causes.is_empty() {
                errs.push(SchemaError {
                    loc: loc.into(),
                    msg: "'allOf' failed".into(),
                    causes,
                });
            }
        }
        if let Some(J::Array(subs)) = o.get("anyOf") {
            let results: Vec<Option<SchemaError>> =
                subs.iter().map(|s| self.sub(s, v, loc, depth)).collect();
            if results.iter().all(Option::is_some) && !results.is_empty() {
                errs.push(SchemaError {
                    loc: loc.into(),
                    msg: "'anyOf' failed".into(),
                    causes: results.into_iter().flatten().collect(),
                });
            }
        }
        if let Some(J::Array(subs)) = o.get("oneOf") {
            let results: Vec<Option<SchemaError>> =
                subs.iter().map(|s| self.sub(s, v, loc, depth)).collect();
            let matched: Vec<usize> = results
                .iter()
                .enumerate()
                .filter(|(_, r)| r.is_none())
                .map(|(i, _)| i)
                .collect();
            if matched.is_empty() && !results.is_empty() {
                errs.push(SchemaError {
                    loc: loc.into(),
                    msg: "'oneOf' failed, none matched".into(),
                    causes: results.into_iter().flatten().collect(),
                });
            } else if matched.len() > 1 {
                errs.push(mk(
                    loc,
                    format!(
                        "'oneOf' failed, subschemas {} and {} matched",
                        matched[0], matched[1]
                    ),
                ));
            }
        }
        if let Some(n) = o.get("not")
            && self.sub(n, v, loc, depth).is_none()
        {
            errs.push(mk(loc, "'not' failed".into()));
        }
        if let Some(cond) = o.get("if") {
            let branch = if self.sub(cond, v, loc, depth).is_none() {
                o.get("then")
            } else {
                o.get("else")
            };
            if let Some(b) = branch
                && let Some(e) = self.sub(b, v, loc, depth)
            {
                errs.push(e);
            }
        }
        match errs.len() {
            0 => None,
            1 => errs.pop(),
            _ => Some(SchemaError {
                loc: loc.into(),
                msg: GROUP.into(),
                causes: errs,
            }),
        }
    }

    fn sub(&self, s: &J, v: &Plain, loc: &str, depth: usize) -> Option<SchemaError> {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            self.validate(s, v, loc, depth + 1)
        })
    }

    fn object(
        &self,
        o: &serde_json::Map<String, J>,
        m: &Table,
        loc: &str,
        depth: usize,
        errs: &mut Vec<SchemaError>,
    ) {
        if let Some(n) = o.get("maxProperties").and_then(J::as_u64)
            && m.len() as u64 > n
        {
            errs.push(mk(loc, format!("maxProperties: got {}, want {n}", m.len())));
        }
        if let Some(n) = o.get("minProperties").and_then(J::as_u64)
            && (m.len() as u64) < n
        {
            errs.push(mk(loc, format!("minProperties: got {}, want {n}", m.len())));
        }
        if let Some(J::Array(req)) = o.get("required") {
            let missing: Vec<String> = req
                .iter()
                .filter_map(J::as_str)
                .filter(|k| !m.contains_key(*k))
                .map(|k| format!("'{k}'"))
                .collect();
            match missing.len() {
                0 => {}
                1 => errs.push(mk(loc, format!("missing property {}", missing[0]))),
                _ => errs.push(mk(
                    loc,
                    format!("missing properties {}", missing.join(", ")),
                )),
            }
        }
        if let Some(names) = o.get("propertyNames") {
            for k in m.keys() {
                if let Some(e) = self.sub(names, &Plain::Str(k.clone()), "", depth) {
                    errs.push(SchemaError {
                        loc: String::new(),
                        msg: format!("invalid propertyName '{k}'"),
                        causes: vec![e],
                    });
                }
            }
        }
        if let Some(J::Object(dr)) = o.get("dependentRequired").or_else(|| o.get("dependencies")) {
            for (k, need) in dr {
                if !m.contains_key(k) {
                    continue;
                }
                match need {
                    J::Array(list) => {
                        let missing: Vec<String> = list
                            .iter()
                            .filter_map(J::as_str)
                            .filter(|x| !m.contains_key(*x))
                            .map(|x| format!("'{x}'"))
                            .collect();
                        if !missing.is_empty() {
                            errs.push(mk(
                                loc,
                                format!(
                                    "properties {} required, if '{k}' exists",
                                    missing.join(", ")
                                ),
                            ));
                        }
                    }
                    schema @ (J::Object(_) | J::Bool(_)) => {
                        if let Some(e) = self.sub(schema, &Plain::Map(m.clone()), loc, depth) {
                            errs.push(e);
                        }
                    }
                    _ => {}
                }
            }
        }
        let props = o.get("properties").and_then(J::as_object);
        if let Some(props) = props {
            for (k, s) in props {
                if let Some(val) = m.get(k)
                    && let Some(e) = self.sub(s, val, &format!("{loc}/{}", esc(k)), depth)
                {
                    errs.push(e);
                }
            }
        }
        let mut pattern_matched: std::collections::BTreeSet<&str> = Default::default();
        if let Some(J::Object(pp)) = o.get("patternProperties") {
            for (p, s) in pp {
                let Ok(re) = regex::Regex::new(p) else {
                    continue;
                };
                for (k, val) in m {
                    if re.is_match(k) {
                        pattern_matched.insert(k);
                        if let Some(e) = self.sub(s, val, &format!("{loc}/{}", esc(k)), depth) {
                            errs.push(e);
                        }
                    }
                }
            }
        }
        if let Some(ap) = o.get("additionalProperties") {
            let extra: Vec<&String> = m
                .keys()
                .filter(|k| {
                    !props.is_some_and(|p| p.contains_key(*k))
                        && !pattern_matched.contains(k.as_str())
                })
                .collect();
            match ap {
                J::Bool(false) if !extra.is_empty() => {
                    let names: Vec<String> = extra.iter().map(|k| format!("'{k}'")).collect();
                    let word = if names.len() == 1 {
                        "property"
                    } else {
                        "properties"
                    };
                    errs.push(mk(
                        loc,
                        format!("additional {word} {} not allowed", names.join(", ")),
                    ));
                }
                J::Object(_) => {
                    for k in extra {
                        if let Some(e) = self.sub(ap, &m[k], &format!("{loc}/{}", esc(k)), depth) {
                            errs.push(e);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn array(
        &self,
        o: &serde_json::Map<String, J>,
        items: &[Plain],
        loc: &str,
        depth: usize,
        errs: &mut Vec<SchemaError>,
    ) {
        if let Some(n) = o.get("maxItems").and_then(J::as_u64)
            && items.len() as u64 > n
        {
            errs.push(mk(loc, format!("maxItems: got {}, want {n}", items.len())));
        }
        if let Some(n) = o.get("minItems").and_then(J::as_u64)
            && (items.len() as u64) < n
        {
            errs.push(mk(loc, format!("minItems: got {}, want {n}", items.len())));
        }
        if o.get("uniqueItems").and_then(J::as_bool) == Some(true) {
            'outer: for i in 0..items.len() {
                for j in i + 1..items.len() {
                    if plain_eq(&items[i], &items[j]) {
                        errs.push(mk(loc, format!("items at {i} and {j} are equal")));
                        break 'outer;
                    }
                }
            }
        }
        let mut start = 0;
        let prefix = o
            .get("prefixItems")
            .and_then(J::as_array)
            .or_else(|| o.get("items").and_then(J::as_array));
        if let Some(prefix) = prefix {
            for (i, s) in prefix.iter().enumerate() {
                if let Some(item) = items.get(i)
                    && let Some(e) = self.sub(s, item, &format!("{loc}/{i}"), depth)
                {
                    errs.push(e);
                }
            }
            start = prefix.len();
        }
        let rest = match o.get("items") {
            Some(s @ (J::Object(_) | J::Bool(_))) => Some(s),
            _ => o
                .get("additionalItems")
                .filter(|_| o.get("items").is_some_and(J::is_array)),
        };
        if let Some(s) = rest {
            for (i, item) in items.iter().enumerate().skip(start) {
                if let Some(e) = self.sub(s, item, &format!("{loc}/{i}"), depth) {
                    errs.push(e);
                }
            }
        }
        if let Some(c) = o.get("contains") {
            let count = items
                .iter()
                .filter(|i| self.sub(c, i, loc, depth).is_none())
                .count() as u64;
            let min = o.get("minContains").and_then(J::as_u64).unwrap_or(1);
            if count < min {
                if count == 0 {
                    errs.push(mk(loc, "no items match contains schema".into()));
                } else {
                    errs.push(mk(loc, format!("minContains: got {count}, want {min}")));
                }
            }
            if let Some(max) = o.get("maxContains").and_then(J::as_u64)
                && count > max
            {
                errs.push(mk(loc, format!("maxContains: got {count}, want {max}")));
            }
        }
    }
}

fn render(e: &SchemaError, indent: usize, out: &mut String) {
    out.push_str(&" ".repeat(indent));
    out.push_str(&format!("- at '{}': {}\n", e.loc, e.msg));
    for c in &e.causes {
        render(c, indent + 2, out);
    }
}

/// Validates values against one chart's schema; the error text as Helm prints it under the
/// chart's name (each line `- at '<pointer>': <message>`, ending with a newline).
pub fn validate(schema: &[u8], values: &Table) -> Result<(), String> {
    let root: J =
        serde_json::from_slice(schema).map_err(|e| format!("unable to parse schema: {e}"))?;
    let ctx = Ctx { root: &root };
    let inst = Plain::Map(values.clone());
    match ctx.validate(&root, &inst, "", 0) {
        None => Ok(()),
        Some(e) => {
            let mut out = String::new();
            if e.msg == GROUP && e.loc.is_empty() {
                for c in &e.causes {
                    render(c, 0, &mut out);
                }
            } else {
                render(&e, 0, &mut out);
            }
            Err(out)
        }
    }
}
