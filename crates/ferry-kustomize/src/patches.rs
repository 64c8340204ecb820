//! Patches: strategic merge (through ferry-schema's kustomize flavour of SMP, with merge keys
//! from the Kubernetes OpenAPI or the kustomization's `openapi:` document) and JSON 6902.

use serde_json::Value;

use crate::error::{Error, ResultExt};
use crate::kustfile::{self, Selector};
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::selector::select;
use crate::target::{Target, documents, resources_from_bytes, resources_from_docs};

pub enum PatchBody {
    StrategicMerge(Vec<Resource>),
    Json(Value),
}

pub struct Patch {
    pub body: PatchBody,
    pub target: Option<Selector>,
    pub text: String,
}

/// Is this text a JSON 6902 patch (a list of operations, in JSON or YAML)?
fn json_ops(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() || starts_with_plain_scalar(text) {
        return None;
    }
    let v = if trimmed.starts_with('[') {
        serde_json::from_str::<Value>(trimmed)
            .ok()
            .or_else(|| ferry_yaml::from_str_with(text, &ferry_yaml::Options::YAML11).ok())?
    } else {
        ferry_yaml::from_str_with(text, &ferry_yaml::Options::YAML11).ok()?
    };
    match &v {
        Value::Array(items) if items.iter().all(Value::is_object) => Some(v),
        _ => None,
    }
}

/// Whether the first line that is not blank or a comment starts with a letter: a mapping key or
/// a plain scalar, so the first document is no list of operations. Most patches are strategic
/// merge patches that start so (`apiVersion:`), and this spares them a second parse.
fn starts_with_plain_scalar(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .and_then(|line| line.chars().next())
        .is_some_and(|c| c.is_ascii_alphabetic())
}

/// A `patches:` entry (or a PatchTransformer configuration).
pub fn load_patch(t: &Target, p: &kustfile::Patch) -> Result<Patch, Error> {
    let inline = p.patch.trim().to_string();
    let text = match (inline.is_empty(), p.path.is_empty()) {
        (true, true) => {
            return Err(Error::msg(
                "must specify one of patch and path in a patches entry",
            ));
        }
        (false, false) => {
            return Err(Error::msg(format!(
                "patch and path can't be set at the same time\n{inline}"
            )));
        }
        (false, true) => inline,
        (true, false) => String::from_utf8_lossy(&t.ldr.load(&p.path)?).into_owned(),
    };
    if let Some(ops) = json_ops(&text) {
        return Ok(Patch {
            body: PatchBody::Json(ops),
            target: p.target.clone(),
            text,
        });
    }
    let path = t.ldr.display_path(&p.path);
    let unparsable = |e: Error| {
        Error::msg(format!("unable to parse SM or JSON patch from {text}")).context(e.to_string())
    };
    let parse = || documents(text.as_bytes(), &path);
    let docs = match t.ctx.parse_cache() {
        // Only inline patches: a patch file may have been decrypted by a file filter.
        Some(cache) if p.path.is_empty() => cache.inline_patch(&text, parse),
        _ => parse(),
    }
    .map_err(unparsable)?;
    let mut resources = resources_from_docs(docs, &path).map_err(unparsable)?;
    let allow_name = p.options.get("allowNameChange").copied().unwrap_or(false);
    let allow_kind = p.options.get("allowKindChange").copied().unwrap_or(false);
    for r in &mut resources {
        r.allow_name_change = allow_name;
        r.allow_kind_change = allow_kind;
    }
    Ok(Patch {
        body: PatchBody::StrategicMerge(resources),
        target: p.target.clone(),
        text,
    })
}

/// `patchesStrategicMerge:` entries: inline patches or files.
pub fn load_strategic_merge_patches(t: &Target, entries: &[Value]) -> Result<Vec<Resource>, Error> {
    let mut out = Vec::new();
    let mut names = Vec::new();
    for e in entries {
        let Value::String(s) = e else {
            return Err(Error::msg(format!(
                "invalid patchesStrategicMerge entry {e}"
            )));
        };
        names.push(s.clone());
        // Like kustomize, first try the entry as patch text, then as a file name.
        match resources_from_bytes(s.as_bytes(), std::path::Path::new("<inline>")) {
            Ok(rs) => out.extend(rs),
            Err(_) => {
                let bytes = t.ldr.load(s)?;
                out.extend(resources_from_bytes(&bytes, &t.ldr.display_path(s))?);
            }
        }
    }
    if out.is_empty() {
        return Err(Error::msg(format!(
            "patch appears to be empty; files=[{}], Patch=",
            names.join(" ")
        )));
    }
    Ok(out)
}

/// The operations of a `patchesJson6902:` entry.
pub fn load_json6902(t: &Target, p: &kustfile::Patch) -> Result<Value, Error> {
    let text = if !p.patch.trim().is_empty() {
        p.patch.clone()
    } else if !p.path.is_empty() {
        String::from_utf8_lossy(&t.ldr.load(&p.path)?).into_owned()
    } else {
        return Err(Error::msg("patchesJson6902 entry needs a patch or a path"));
    };
    json_ops(&text).ok_or_else(|| Error::msg(format!("unable to parse JSON patch from {text}")))
}

/// Merge `patch` into `r` as kustomize's Resource.ApplySmPatch does. Returns false when the
/// patch deleted the object.
pub fn smp_into(t: &Target, r: &mut Resource, patch: &Resource) -> Result<bool, Error> {
    let (name, ns, kind) = (
        r.name().to_string(),
        r.namespace().to_string(),
        r.kind().to_string(),
    );
    if patch.allow_name_change || patch.allow_kind_change {
        r.store_previous_id();
    }
    let mut p = patch.obj.clone();
    // The patch takes the target's apiVersion and keeps its own kind.
    p.insert(
        "apiVersion".into(),
        Value::String(r.api_version().to_string()),
    );
    let registry = t.ctx.registry();
    let schema_owner = registry.lookup(r.api_version(), &kind);
    let schema = schema_owner.as_ref().map(|s| s.root());
    let mut doc = Value::Object(std::mem::take(&mut r.obj));
    let patch_value = Value::Object(p);
    let result = ferry_schema::smp::strategic_merge(
        &mut doc,
        &patch_value,
        schema,
        ferry_schema::smp::Flavor::Kustomize,
    );
    if let Err(e) = result {
        if let Value::Object(m) = doc {
            r.obj = m;
        }
        return Err(Error::msg(e.to_string()));
    }
    match doc {
        Value::Object(m) if !m.is_empty() => r.obj = m,
        _ => return Ok(false),
    }
    if !patch.allow_kind_change {
        r.set_kind(&kind);
    }
    if !patch.allow_name_change {
        r.set_name(&name);
    }
    r.set_namespace(&ns);
    Ok(true)
}

/// Apply one patch to the resources at `targets` (indices), dropping deleted ones.
fn smp_targets(
    t: &Target,
    m: &mut ResMap,
    targets: &[usize],
    patch: &Resource,
) -> Result<(), Error> {
    let mut deleted = Vec::new();
    for &i in targets {
        let id = m.list[i].cur_id();
        let kept =
            smp_into(t, &mut m.list[i], patch).context(|| format!("applying patch to {id}"))?;
        if !kept {
            deleted.push(i);
        }
    }
    for i in deleted.into_iter().rev() {
        m.list.remove(i);
    }
    Ok(())
}

pub fn apply_strategic_merge_patches(
    t: &Target,
    m: &mut ResMap,
    patches: &[Resource],
) -> Result<(), Error> {
    for patch in patches {
        let id = patch.org_id();
        let i = m
            .get_by_id(&id)
            .map_err(|e| Error::msg(format!("{e}; failed to find unique target for patch {id}")))?;
        smp_targets(t, m, &[i], patch)?;
    }
    Ok(())
}

pub fn apply_patch(t: &Target, m: &mut ResMap, p: &Patch) -> Result<(), Error> {
    match &p.body {
        PatchBody::StrategicMerge(patches) => {
            if let Some(target) = &p.target {
                if patches.len() > 1 {
                    return Err(Error::msg(format!(
                        "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field: {}",
                        p.text
                    )));
                }
                for patch in patches {
                    let selected = select(&m.list, target)?;
                    smp_targets(t, m, &selected, patch)?;
                }
            } else {
                apply_strategic_merge_patches(t, m, patches)?;
            }
            Ok(())
        }
        PatchBody::Json(ops) => {
            let Some(target) = &p.target else {
                return Err(Error::msg(format!(
                    "must specify a target for JSON patch {}",
                    p.text
                )));
            };
            apply_json6902(m, target, ops, true)
        }
    }
}

pub fn apply_json6902(
    m: &mut ResMap,
    target: &Selector,
    ops: &Value,
    store_previous: bool,
) -> Result<(), Error> {
    let selected = select(&m.list, target)?;
    for i in selected {
        let r = &mut m.list[i];
        if store_previous {
            r.store_previous_id();
        }
        let id = r.cur_id();
        let mut doc = Value::Object(std::mem::take(&mut r.obj));
        let result = crate::jsonpatch::apply(&mut doc, ops);
        if let Value::Object(obj) = doc {
            r.obj = obj;
        }
        result.map_err(|e| Error::msg(format!("applying JSON patch to {id}: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_told_from_strategic_merge_patches_by_their_first_line() {
        for ops in [
            "- op: add\n  path: /a\n  value: 1\n",
            "# a comment first\n\n  - op: remove\n    path: /a\n",
            r#"[{"op": "remove", "path": "/a"}]"#,
            "--- \n- op: remove\n  path: /a\n",
        ] {
            assert!(json_ops(ops).is_some(), "{ops:?} holds operations");
        }
        for smp in [
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
            "# comment\nkind: ConfigMap\n",
            "\"kind\": ConfigMap\n",
            "- not an operation\n",
        ] {
            assert!(json_ops(smp).is_none(), "{smp:?} holds no operations");
        }
    }
}
