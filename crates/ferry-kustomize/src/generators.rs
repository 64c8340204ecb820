//! configMapGenerator and secretGenerator: key/value sources (literals, files, env files)
//! turned into ConfigMaps and Secrets, with generator options and behavior.

use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{Error, ResultExt};
use crate::kustfile::{GeneratorArgs, GeneratorOptions};
use crate::loader::Loader;
use crate::resource::{Behavior, Resource};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ConfigMap,
    Secret,
}

/// Build one generated object from its arguments and the kustomization's generatorOptions.
pub fn generate(
    ldr: &Loader,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    kind: Kind,
) -> Result<Resource, Error> {
    let pairs = collect_pairs(ldr, args)?;
    let kind_name = match kind {
        Kind::ConfigMap => "ConfigMap",
        Kind::Secret => "Secret",
    };
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), Value::String("v1".into()));
    obj.insert("kind".into(), Value::String(kind_name.into()));
    let mut md = Map::new();
    md.insert("name".into(), Value::String(args.name.clone()));
    if !args.namespace.is_empty() {
        md.insert("namespace".into(), Value::String(args.namespace.clone()));
    }
    obj.insert("metadata".into(), Value::Object(md));

    let mut data = Map::new();
    let mut binary = Map::new();
    for (k, v) in pairs {
        check_key(&k)
            .map_err(|e| Error::msg(format!("{} {} {e}", kind_name.to_lowercase(), args.name)))?;
        if data.contains_key(&k) || binary.contains_key(&k) {
            return Err(Error::msg(format!(
                "{} {} illegally repeats the key `{k}`",
                kind_name.to_lowercase(),
                args.name
            )));
        }
        match kind {
            Kind::ConfigMap => match String::from_utf8(v) {
                Ok(s) => {
                    data.insert(k, Value::String(s));
                }
                Err(e) => {
                    binary.insert(k, Value::String(encode_base64(e.as_bytes())));
                }
            },
            Kind::Secret => {
                data.insert(k, Value::String(encode_base64(&v)));
            }
        }
    }
    if kind == Kind::Secret {
        let t = if args.secret_type.is_empty() {
            "Opaque"
        } else {
            &args.secret_type
        };
        obj.insert("type".into(), Value::String(t.to_string()));
    }
    if !data.is_empty() {
        obj.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Object(binary));
    }

    // Local options win over the kustomization's generatorOptions.
    let local = args.options.clone().unwrap_or_default();
    let mut labels = local.labels.clone();
    let mut annotations = local.annotations.clone();
    let mut disable_hash = local.disable_name_suffix_hash.unwrap_or(false);
    let mut immutable = local.immutable.unwrap_or(false);
    if let Some(g) = global {
        for (k, v) in &g.labels {
            labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &g.annotations {
            annotations.entry(k.clone()).or_insert_with(|| v.clone());
        }
        disable_hash |= g.disable_name_suffix_hash.unwrap_or(false);
        immutable |= g.immutable.unwrap_or(false);
    }
    if immutable {
        obj.insert("immutable".into(), Value::Bool(true));
    }
    let mut r = Resource::new(obj);
    if !labels.is_empty() {
        r.set_string_map(
            "labels",
            labels
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        );
    }
    if !annotations.is_empty() {
        r.set_string_map(
            "annotations",
            annotations
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        );
    }
    r.needs_hash = !disable_hash;
    r.behavior = Some(match args.behavior.as_str() {
        "" | "create" => Behavior::Create,
        "merge" => Behavior::Merge,
        "replace" => Behavior::Replace,
        other => {
            return Err(Error::msg(format!("unknown generation behavior '{other}'")));
        }
    });
    Ok(r)
}

fn collect_pairs(ldr: &Loader, args: &GeneratorArgs) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut pairs = Vec::new();
    for lit in &args.literals {
        let (k, v) = parse_literal(lit)?;
        pairs.push((k, v.into_bytes()));
    }
    for f in &args.files {
        let (key, path) = match f.split_once('=') {
            Some((k, p)) => {
                if k.is_empty() {
                    return Err(Error::msg(format!("key name for file path {p} missing")));
                }
                if p.is_empty() {
                    return Err(Error::msg(format!("file path for key name {k} missing")));
                }
                (k.to_string(), p.to_string())
            }
            None => {
                let base = f.rsplit('/').next().unwrap_or(f).to_string();
                (base, f.clone())
            }
        };
        let content = ldr.load(&path)?;
        pairs.push((key, content));
    }
    for env in &args.envs {
        let content = ldr.load(env)?;
        for (k, v) in parse_env(&content).context(|| format!("reading env file '{env}'"))? {
            pairs.push((k, v.into_bytes()));
        }
    }
    Ok(pairs)
}

/// Base64 as kyaml writes Secret data: lines of 70 characters, each ending in a newline when
/// there is more than one.
pub fn encode_base64(bytes: &[u8]) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    const LINE: usize = 70;
    let lines = enc.len() / LINE + 1;
    if lines == 1 {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + lines);
    for chunk in enc.as_bytes().chunks(LINE) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out
}

/// `key=value`; a value wrapped in matching quotes loses them.
fn parse_literal(source: &str) -> Result<(String, String), Error> {
    let invalid = || {
        Error::msg(format!(
            "invalid literal source {source}, expected key=value"
        ))
    };
    if source.starts_with('=') {
        return Err(invalid());
    }
    let (k, v) = source.split_once('=').ok_or_else(invalid)?;
    Ok((k.to_string(), remove_quotes(v).to_string()))
}

fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// An env file: `KEY=VALUE` lines, `#` comments and blank lines skipped, a line without `=`
/// takes its value from the environment of the build.
fn parse_env(content: &[u8]) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for (n, raw) in content.split(|&b| b == b'\n').enumerate() {
        let mut line = raw;
        if n == 0 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| Error::msg(format!("line {n} has invalid utf8 bytes")))?;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, v.to_string()),
            None => (line, std::env::var(line).unwrap_or_default()),
        };
        if !is_env_var_name(key) {
            return Err(Error::msg(format!(
                "{key:?} is not a valid key name: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit"
            )));
        }
        out.push((key.to_string(), value));
    }
    Ok(out)
}

fn is_env_var_name(k: &str) -> bool {
    !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Kubernetes' IsConfigMapKey.
fn check_key(k: &str) -> Result<(), String> {
    if k.is_empty() || k.len() > 253 {
        return Err(format!(
            "invalid key name {k:?}: must be 1 to 253 characters"
        ));
    }
    if !k
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "invalid key name {k:?}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
        ));
    }
    if k == "." || k == ".." || k.starts_with("..") {
        return Err(format!(
            "invalid key name {k:?}: must not be '.' or '..' or start with '..'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(
            parse_literal("a=\"x=y\"").expect("ok"),
            ("a".to_string(), "x=y".to_string())
        );
        assert_eq!(
            parse_literal("TEST=this is a 'test'").expect("ok").1,
            "this is a 'test'"
        );
        assert!(parse_literal("=a").is_err());
        assert!(parse_literal("a").is_err());
    }

    #[test]
    fn env_files() {
        let pairs = parse_env(b"# c\n\nA=1\n  B=two words\n").expect("ok");
        assert_eq!(
            pairs,
            vec![("A".into(), "1".into()), ("B".into(), "two words".into())]
        );
    }
}
