//! Shared helpers of the integration tests: real-world objects, a deterministic random source,
//! a strategic-merge-patch generator driven by the schema, and the kubectl oracle.
#![allow(dead_code, clippy::unwrap_used)]

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use ferry_schema::{Schema, model::JsonType};
use serde_json::{Map, Value, json};

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The built-in objects copied from kustomize's test suite.
pub fn objects() -> Vec<Value> {
    let text =
        std::fs::read_to_string(data_dir().join("objects/kustomize-cases-objects.json")).unwrap();
    let entries: Vec<Value> = serde_json::from_str(&text).unwrap();
    entries.into_iter().map(|e| e["object"].clone()).collect()
}

/// Reads a multi-document YAML file as JSON values, with kustomize's YAML 1.1 scalar rules.
pub fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let opts = serde_saphyr::options! { strict_booleans: true, legacy_octal_numbers: true };
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(&text, opts)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// Parses a multi-document YAML string as JSON values (YAML 1.1 scalars, as kustomize).
pub fn yaml_docs_str(text: &str) -> Vec<Value> {
    let opts = serde_saphyr::options! { strict_booleans: true, legacy_octal_numbers: true };
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, opts).unwrap();
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// xorshift64*: deterministic, dependency-free.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Which directives the generated patches may use.
#[derive(Clone, Copy)]
pub struct GenOptions {
    pub directives: bool,
    pub nulls: bool,
    pub set_element_order: bool,
}

/// Generates a strategic merge patch for `obj`: field changes, additions, `null` deletions and
/// (when enabled) `$patch`, `$setElementOrder`, `$deleteFromPrimitiveList`, `$retainKeys`.
pub fn gen_patch(
    obj: &Value,
    schema: Option<Schema<'_>>,
    rng: &mut Rng,
    opts: GenOptions,
) -> Value {
    let mut p = gen_map(obj.as_object().unwrap(), schema, rng, opts, 0);
    // Patches always name the object's identity fields as kubectl users write them.
    p.remove("apiVersion");
    p.remove("kind");
    if let Some(Value::Array(keys)) = p.get_mut("$retainKeys") {
        // The result must stay an object kubectl can decode.
        keys.extend([json!("apiVersion"), json!("kind")]);
    }
    if let Some(Value::Object(meta)) = p.get_mut("metadata") {
        // kubectl's printer drops managedFields, so the oracle cannot speak about them.
        meta.remove("managedFields");
    }
    Value::Object(p)
}

fn gen_map(
    m: &Map<String, Value>,
    schema: Option<Schema<'_>>,
    rng: &mut Rng,
    o: GenOptions,
    depth: usize,
) -> Map<String, Value> {
    let mut p = Map::new();
    for (k, v) in m {
        if !rng.chance(if depth < 3 { 60 } else { 35 }) {
            continue;
        }
        let fs = schema.and_then(|s| s.field(k));
        if o.nulls && rng.chance(8) {
            p.insert(k.clone(), Value::Null);
            continue;
        }
        match v {
            Value::Object(sub) => {
                if o.directives && rng.chance(5) {
                    p.insert(k.clone(), json!({"$patch": "delete"}));
                } else if o.directives && rng.chance(5) {
                    let mut r = gen_map(sub, fs, rng, o, depth + 1);
                    r.insert("$patch".into(), json!("replace"));
                    p.insert(k.clone(), Value::Object(r));
                } else {
                    let r = gen_map(sub, fs, rng, o, depth + 1);
                    if !r.is_empty() || rng.chance(20) {
                        p.insert(k.clone(), Value::Object(r));
                    }
                }
            }
            Value::Array(items) => gen_list(&mut p, k, items, fs, rng, o, depth),
            scalar => {
                p.insert(k.clone(), new_scalar(scalar, rng));
            }
        }
    }
    // New fields: a declared property the object lacks, or an unknown one.
    if rng.chance(25) {
        if let Some(s) = schema {
            let absent: Vec<(&str, Schema<'_>)> = s
                .properties()
                .filter(|(n, _)| !m.contains_key(*n))
                .collect();
            if !absent.is_empty() {
                let (name, ps) = *rng.pick(&absent);
                p.insert(name.to_owned(), sample(ps, rng, 0));
            }
        } else {
            p.insert(format!("added{}", rng.below(100)), json!("new"));
        }
    }
    if o.directives && rng.chance(4) && !p.is_empty() {
        let mut keys: Vec<Value> = p
            .keys()
            .filter(|k| !k.starts_with('$'))
            .map(|k| json!(k))
            .collect();
        for k in m.keys() {
            if rng.chance(50) && !keys.contains(&json!(k)) {
                keys.push(json!(k));
            }
        }
        p.insert("$retainKeys".into(), Value::Array(keys));
    }
    p
}

#[allow(clippy::too_many_arguments)]
fn gen_list(
    p: &mut Map<String, Value>,
    k: &str,
    items: &[Value],
    fs: Option<Schema<'_>>,
    rng: &mut Rng,
    o: GenOptions,
    depth: usize,
) {
    let merge = fs.is_some_and(|s| s.has_patch_strategy("merge"));
    let key = fs.and_then(|s| s.patch_merge_key());
    let item_schema = fs.and_then(|s| s.items());
    let maps = items.iter().all(Value::is_object) && !items.is_empty();
    if merge
        && maps
        && let Some(key) = key
    {
        let mut out = Vec::new();
        let mut order = Vec::new();
        for it in items {
            let Some(kv) = it.get(key) else { continue };
            order.push(json!({ key: kv }));
            if rng.chance(40) {
                let mut e = gen_map(it.as_object().unwrap(), item_schema, rng, o, depth + 1);
                e.insert(key.to_owned(), kv.clone());
                if o.directives && rng.chance(12) {
                    e = Map::new();
                    e.insert(key.to_owned(), kv.clone());
                    e.insert("$patch".into(), json!("delete"));
                    order.pop();
                }
                out.push(Value::Object(e));
            }
        }
        if rng.chance(35) {
            // A new element: a copy of an existing one under a new key.
            let mut e = rng.pick(items).as_object().unwrap().clone();
            let new_key = match e.get(key) {
                Some(Value::Number(_)) => json!(9000 + rng.below(50)),
                _ => json!(format!("added-{}", rng.below(100))),
            };
            e.insert(key.to_owned(), new_key.clone());
            let at = rng.below(out.len() + 1);
            out.insert(at, Value::Object(e));
            let at = rng.below(order.len() + 1);
            order.insert(at, json!({ key: new_key }));
        }
        if o.directives && rng.chance(5) {
            out.push(json!({"$patch": "replace"}));
        }
        if out.is_empty() && !rng.chance(20) {
            return;
        }
        if o.set_element_order
            && rng.chance(30)
            && !out
                .iter()
                .any(|e| e.get("$patch") == Some(&json!("replace")))
        {
            // Keep the order consistent with the patch list, as kubectl writes it.
            let in_patch: Vec<Value> = out
                .iter()
                .filter(|e| e.get("$patch").is_none())
                .filter_map(|e| e.get(key).map(|kv| json!({ key: kv })))
                .collect();
            let mut rest: Vec<Value> = order
                .into_iter()
                .filter(|e| !in_patch.contains(e))
                .collect();
            let mut full = in_patch;
            while !rest.is_empty() {
                let e = rest.remove(rng.below(rest.len()));
                let at = rng.below(full.len() + 1);
                full.insert(at, e);
            }
            p.insert(format!("$setElementOrder/{k}"), Value::Array(full));
        }
        p.insert(k.to_owned(), Value::Array(out));
    } else if merge && !maps {
        let mut out: Vec<Value> = Vec::new();
        if rng.chance(60) {
            out.push(json!(format!("v{}", rng.below(20))));
        }
        if let Some(first) = items.first()
            && rng.chance(30)
        {
            out.push(first.clone());
        }
        if o.directives && !items.is_empty() && rng.chance(30) {
            p.insert(
                format!("$deleteFromPrimitiveList/{k}"),
                json!([rng.pick(items).clone()]),
            );
        }
        if o.set_element_order && rng.chance(25) {
            let mut full: Vec<Value> = items.to_vec();
            for v in &out {
                if !full.contains(v) {
                    full.push(v.clone());
                }
            }
            full.reverse();
            p.insert(format!("$setElementOrder/{k}"), Value::Array(full));
        }
        p.insert(k.to_owned(), Value::Array(out));
    } else {
        // Lists replaced wholesale: a shuffled or shortened copy, sometimes with a change.
        let mut out = items.to_vec();
        if !out.is_empty() && rng.chance(50) {
            out.remove(rng.below(out.len()));
        }
        out.reverse();
        p.insert(k.to_owned(), Value::Array(out));
    }
}

fn new_scalar(v: &Value, rng: &mut Rng) -> Value {
    match v {
        Value::String(s) => json!(format!("{s}-{}", rng.below(10))),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!(rng.below(100) + 1),
        Value::Number(_) => json!(1.5),
        Value::Bool(b) => json!(!b),
        other => other.clone(),
    }
}

/// A small valid value for a schema (to add absent fields).
pub fn sample(s: Schema<'_>, rng: &mut Rng, depth: usize) -> Value {
    let n = s.node();
    if let Some(e) = &n.enum_values
        && !e.is_empty()
    {
        return e[rng.below(e.len())].clone();
    }
    if n.int_or_string {
        return json!(8080);
    }
    match n.ty {
        Some(JsonType::String) => json!("sample"),
        Some(JsonType::Integer) => json!(3),
        Some(JsonType::Number) => json!(2),
        Some(JsonType::Boolean) => json!(true),
        Some(JsonType::Array) => {
            if depth > 2 {
                return json!([]);
            }
            match s.items() {
                Some(it) => {
                    let mut v = sample(it, rng, depth + 1);
                    if let (Some(k), Value::Object(m)) = (s.patch_merge_key(), &mut v) {
                        m.entry(k.to_owned()).or_insert(json!("sample-key"));
                    }
                    json!([v])
                }
                None => json!([]),
            }
        }
        _ => {
            let mut m = Map::new();
            if depth < 3 {
                for (name, ps) in s.properties().take(2) {
                    m.insert(name.to_owned(), sample(ps, rng, depth + 1));
                }
                if let Some(ap) = s.additional_properties()
                    && m.is_empty()
                {
                    m.insert("k".into(), sample(ap, rng, depth + 1));
                }
            }
            Value::Object(m)
        }
    }
}

/// The kubectl binary, if installed.
pub fn kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
}

/// `kubectl patch --local --type strategic`: the patched object, or the error text.
pub fn kubectl_patch(
    kubectl: &Path,
    dir: &Path,
    obj: &Value,
    patch: &Value,
) -> Result<Value, String> {
    let file = dir.join("obj.json");
    std::fs::write(&file, serde_json::to_vec(obj).unwrap()).unwrap();
    let out = Command::new(kubectl)
        .args([
            "patch",
            "--local",
            "-o",
            "json",
            "--type",
            "strategic",
            "-f",
        ])
        .arg(&file)
        .arg("-p")
        .arg(serde_json::to_string(patch).unwrap())
        .env("KUBECONFIG", "/dev/null")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// Runs `kubectl kustomize` on a directory.
pub fn kubectl_kustomize(kubectl: &Path, dir: &Path) -> Result<String, String> {
    let out = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// Writes JSON lines.
pub fn write_lines(path: &Path, lines: &[Value]) {
    let mut f = std::fs::File::create(path).unwrap();
    for l in lines {
        writeln!(f, "{}", serde_json::to_string(l).unwrap()).unwrap();
    }
}
