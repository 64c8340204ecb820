#![allow(clippy::unwrap_used)]
//! Strategic merge patch against its oracle, `kubectl patch --local --type strategic`
//! (apimachinery's strategicpatch), on real objects with generated patches.
//!
//! With kubectl installed the oracle runs live; without it the results it gave (recorded in
//! tests/data/smp/apimachinery-golden.jsonl by `FERRY_SCHEMA_REGEN=1`) are the expectation.

mod common;

use std::{path::PathBuf, sync::Mutex};

use common::{GenOptions, Rng, gen_patch, kubectl, kubectl_patch, objects};
use ferry_schema::{
    Registry,
    smp::{Flavor, strategic_merge},
};
use serde_json::{Value, json};

const CASES: usize = 400;

fn golden_path() -> PathBuf {
    common::data_dir().join("smp/apimachinery-golden.jsonl")
}

/// The generated cases: (object, patch).
fn cases(registry: &Registry) -> Vec<(Value, Value)> {
    let objs: Vec<Value> = objects()
        .into_iter()
        .filter(|o| registry.for_object(o).is_some())
        .collect();
    assert!(objs.len() > 150, "most fixtures are current built-in kinds");
    let mut rng = Rng::new(42);
    let opts = GenOptions {
        directives: true,
        nulls: true,
        set_element_order: true,
    };
    (0..CASES)
        .map(|i| {
            let obj = objs[i % objs.len()].clone();
            let ts = registry
                .for_object(&obj)
                .expect("fixtures are built-in kinds");
            let patch = gen_patch(&obj, Some(ts.root()), &mut rng, opts);
            (obj, patch)
        })
        .collect()
}

fn ours(registry: &Registry, obj: &Value, patch: &Value) -> Result<Value, String> {
    let ts = registry.for_object(obj).expect("built-in kind");
    let mut out = obj.clone();
    strategic_merge(&mut out, patch, Some(ts.root()), Flavor::Apimachinery)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Oracle results as `{"ok": object}` / `{"err": message}`, live or recorded.
fn oracle(cases: &[(Value, Value)]) -> Vec<Value> {
    let Some(kubectl) = kubectl() else {
        let text = std::fs::read_to_string(golden_path()).expect("golden file exists");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines.len(),
            cases.len(),
            "golden file matches the generator"
        );
        return lines;
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
                        let i = *n;
                        *n += 1;
                        i
                    };
                    if i >= cases.len() {
                        break;
                    }
                    let (obj, patch) = &cases[i];
                    let r = match kubectl_patch(&kubectl, dir.path(), obj, patch) {
                        Ok(v) => json!({ "ok": v }),
                        Err(e) => json!({ "err": e }),
                    };
                    results.lock().unwrap()[i] = r;
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    if std::env::var_os("FERRY_SCHEMA_REGEN").is_some() {
        std::fs::create_dir_all(golden_path().parent().unwrap()).unwrap();
        common::write_lines(&golden_path(), &results);
    }
    results
}

#[test]
fn generated_patches_match_kubectl_patch() {
    let registry = Registry::builtin();
    let cases = cases(&registry);
    let expected = oracle(&cases);
    let mut failures = Vec::new();
    let (mut ok, mut errors) = (0, 0);
    for (i, ((obj, patch), exp)) in cases.iter().zip(&expected).enumerate() {
        let got = ours(&registry, obj, patch);
        match (exp.get("ok"), exp.get("err"), &got) {
            (Some(want), _, Ok(got)) if want == got => ok += 1,
            (_, Some(want), Err(got)) => {
                // kubectl prints "error: <message>"; apimachinery's message must be ours.
                if want.as_str().unwrap().contains(got.as_str()) {
                    errors += 1;
                } else {
                    failures.push(format!(
                        "case {i}: error text differs\n want: {want}\n got:  {got}\n patch: {patch}"
                    ));
                }
            }
            _ => failures.push(format!(
                "case {i}: results differ\n patch: {patch}\n want: {exp}\n got:  {}",
                match &got {
                    Ok(v) => v.to_string(),
                    Err(e) => e.clone(),
                }
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from kubectl ({ok} equal, {errors} equal errors):\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    assert!(
        errors < CASES / 4,
        "the generator should mostly make valid patches ({errors} errors)"
    );
}
