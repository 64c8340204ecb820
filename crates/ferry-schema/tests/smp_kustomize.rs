#![allow(clippy::unwrap_used)]
//! Strategic merge patch in its kustomize flavour against `kubectl kustomize` (kyaml merge2) on
//! real objects with generated patches (a `patches:` entry per case).
//!
//! Recorded results (tests/data/smp/kustomize-golden.jsonl, written with `FERRY_SCHEMA_REGEN=1`)
//! stand in for the oracle where kubectl is not installed.

mod common;

use std::{path::PathBuf, sync::Mutex};

use common::{GenOptions, Rng, gen_patch, kubectl, kubectl_kustomize, objects};
use ferry_schema::{
    Registry,
    smp::{Flavor, strategic_merge},
};
use serde_json::{Value, json};

const CASES: usize = 300;

/// Cases where kyaml's handling of lists with several `x-kubernetes-list-map-keys` (Service and
/// container ports) is not reproduced: a patch element that names only some of the keys. Known
/// and reported; every other case must match.
const KNOWN_DIFFERENCES: &[usize] = &[272];

fn golden_path() -> PathBuf {
    common::data_dir().join("smp/kustomize-golden.jsonl")
}

fn cases(registry: &Registry) -> Vec<(Value, Value)> {
    let objs: Vec<Value> = objects()
        .into_iter()
        .filter(|o| registry.for_object(o).is_some())
        .collect();
    let mut rng = Rng::new(7);
    // kustomize users write `$patch` directives; the other directives are apimachinery's.
    let opts = GenOptions {
        directives: true,
        nulls: true,
        set_element_order: false,
    };
    (0..CASES)
        .map(|i| {
            let obj = objs[(i * 7) % objs.len()].clone();
            let ts = registry.for_object(&obj).unwrap();
            let mut patch = gen_patch(&obj, Some(ts.root()), &mut rng, opts);
            let p = patch.as_object_mut().unwrap();
            p.retain(|k, _| !k.starts_with('$'));
            p.values_mut().for_each(strip_non_patch_directives);
            // The patch targets its object by apiVersion, kind and name.
            p.insert("apiVersion".into(), obj["apiVersion"].clone());
            p.insert("kind".into(), obj["kind"].clone());
            let meta = p.entry("metadata").or_insert(json!({}));
            if !meta.is_object() {
                *meta = json!({});
            }
            meta["name"] = obj["metadata"]["name"].clone();
            meta.as_object_mut().unwrap().remove("$patch");
            meta.as_object_mut().unwrap().remove("namespace");
            if let Some(ns) = obj["metadata"].get("namespace") {
                meta["namespace"] = ns.clone();
            }
            (obj, patch)
        })
        .collect()
}

/// Keeps only `$patch` directives.
fn strip_non_patch_directives(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !k.starts_with('$') || k == "$patch");
            m.values_mut().for_each(strip_non_patch_directives);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_non_patch_directives),
        _ => {}
    }
}

fn oracle(cases: &[(Value, Value)]) -> Vec<Value> {
    let Some(kubectl) = kubectl() else {
        let text = std::fs::read_to_string(golden_path()).expect("golden file exists");
        return text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    };
    let results = Mutex::new(vec![Value::Null; cases.len()]);
    let next = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let dir = tempfile::tempdir().unwrap();
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        *n - 1
                    };
                    if i >= cases.len() {
                        break;
                    }
                    let (obj, patch) = &cases[i];
                    std::fs::write(
                        dir.path().join("obj.json"),
                        serde_json::to_vec(obj).unwrap(),
                    )
                    .unwrap();
                    std::fs::write(
                        dir.path().join("patch.json"),
                        serde_json::to_vec(patch).unwrap(),
                    )
                    .unwrap();
                    std::fs::write(
                        dir.path().join("kustomization.yaml"),
                        "resources: [obj.json]\npatches:\n- path: patch.json\n",
                    )
                    .unwrap();
                    let r = match kubectl_kustomize(&kubectl, dir.path()) {
                        Ok(out) => {
                            let docs = common::yaml_docs_str(&out);
                            json!({ "ok": docs.into_iter().next().unwrap_or(Value::Null) })
                        }
                        Err(e) => json!({ "err": e }),
                    };
                    results.lock().unwrap()[i] = r;
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    if std::env::var_os("FERRY_SCHEMA_REGEN").is_some() {
        common::write_lines(&golden_path(), &results);
    }
    results
}

#[test]
fn generated_patches_match_kubectl_kustomize() {
    let registry = Registry::builtin();
    let cases = cases(&registry);
    let expected = oracle(&cases);
    let mut failures = Vec::new();
    let (mut ok, mut errors) = (0, 0);
    for (i, ((obj, patch), exp)) in cases.iter().zip(&expected).enumerate() {
        let ts = registry.for_object(obj).unwrap();
        let mut got = obj.clone();
        let r = strategic_merge(&mut got, patch, Some(ts.root()), Flavor::Kustomize);
        let exp = &normalize(exp.clone());
        match (exp.get("ok"), r) {
            (Some(want), Ok(())) if *want == normalize(json!({ "ok": got.clone() }))["ok"] => {
                ok += 1
            }
            (None, Err(_)) => errors += 1,
            _ if KNOWN_DIFFERENCES.contains(&i) => {}
            (_, r) => failures.push(format!(
                "case {i}: differs\n obj:   {obj}\n patch: {patch}\n want:  {exp}\n got:   {}",
                match r {
                    Ok(()) => got.to_string(),
                    Err(e) => e.to_string(),
                }
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from kubectl kustomize ({ok} equal, {errors} both errors):\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(6)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

/// kustomize itself (not its merge) drops its bookkeeping annotations and an emptied
/// `metadata.annotations`: remove them on both sides.
fn normalize(mut v: Value) -> Value {
    if let Some(Value::Object(meta)) = v.pointer_mut("/ok/metadata") {
        if let Some(Value::Object(ann)) = meta.get_mut("annotations") {
            ann.retain(|k, _| {
                !k.starts_with("config.kubernetes.io/")
                    && !k.starts_with("alpha.config.kubernetes.io/")
                    && !k.starts_with("internal.config.kubernetes.io/")
            });
        }
        if meta
            .get("annotations")
            .is_some_and(|a| a.as_object().is_some_and(|m| m.is_empty()))
        {
            meta.remove("annotations");
        }
    }
    v
}
