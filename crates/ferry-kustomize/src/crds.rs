//! `crds:`: OpenAPI definitions (kube-openapi's `{name: {Schema, Dependencies}}` form) whose
//! `x-kubernetes-*` extensions add name references, label and annotation fields and name
//! prefix fields for custom kinds.

use serde_json::{Map, Value};

use crate::config::{NameBackRefs, TransformerConfig};
use crate::error::Error;
use crate::fieldspec::FieldSpec;
use crate::loader::Loader;
use crate::resid::Gvk;

pub fn config_from_crds(ldr: &Loader, paths: &[String]) -> Result<TransformerConfig, Error> {
    let mut tc = TransformerConfig::default();
    for path in paths {
        let bytes = ldr.load(path)?;
        let text = String::from_utf8_lossy(&bytes);
        let doc = ferry_yaml::from_str(&text).map_err(|e| Error::msg(format!("{path}: {e}")))?;
        let Value::Object(defs) = doc else {
            return Err(Error::msg(format!(
                "{path}: expected a map of OpenAPI definitions"
            )));
        };
        for name in defs.keys() {
            let kind = name.rsplit('.').next().unwrap_or(name);
            let gvk = Gvk::new("", "", kind);
            load_definition(&mut tc, &gvk, &defs, name, &mut Vec::new(), 0)?;
        }
    }
    Ok(tc)
}

fn load_definition(
    tc: &mut TransformerConfig,
    gvk: &Gvk,
    defs: &Map<String, Value>,
    name: &str,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<(), Error> {
    if depth > 64 {
        return Ok(());
    }
    let Some(props) = defs
        .get(name)
        .and_then(|d| d.get("Schema"))
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    for (prop, p) in props {
        path.push(prop.clone());
        let fs = |extra: Option<&str>| {
            let mut parts = path.clone();
            if let Some(e) = extra {
                parts.push(e.to_string());
            }
            FieldSpec::with_gvk(gvk.clone(), &parts.join("/"), false)
        };
        let has = |k: &str| p.get(k).and_then(Value::as_str).is_some();
        let err = |e: crate::fieldspec::FieldSpecError| Error::msg(e.to_string());
        if has("x-kubernetes-annotation") {
            crate::fieldspec::merge_one(&mut tc.common_annotations, fs(None)).map_err(err)?;
        }
        if has("x-kubernetes-label-selector") {
            crate::fieldspec::merge_one(&mut tc.common_labels, fs(None)).map_err(err)?;
        }
        if has("x-kubernetes-identity") {
            crate::fieldspec::merge_one(&mut tc.name_prefix, fs(None)).map_err(err)?;
        }
        if let (Some(version), Some(kind)) = (
            p.get("x-kubernetes-object-ref-api-version")
                .and_then(Value::as_str),
            p.get("x-kubernetes-object-ref-kind")
                .and_then(Value::as_str),
        ) {
            let key = p
                .get("x-kubernetes-object-ref-name-key")
                .and_then(Value::as_str)
                .unwrap_or("name");
            let entry = NameBackRefs {
                gvk: Gvk::new("", version, kind),
                referrers: vec![fs(Some(key))],
            };
            let mut other = TransformerConfig::default();
            other.name_reference.push(entry);
            tc.merge(&other).map_err(err)?;
        }
        if let Some(r) = p.get("$ref").and_then(Value::as_str) {
            load_definition(tc, gvk, defs, r, path, depth + 1)?;
        }
        path.pop();
    }
    Ok(())
}
