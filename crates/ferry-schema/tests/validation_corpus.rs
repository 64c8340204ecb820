#![allow(clippy::unwrap_used, clippy::print_stdout)]
//! Validation against real inputs nobody here wrote: the Flux and Argo CD CRDs must be accepted
//! as CRDs, every Flux / Argo CD object of the example repositories must validate against them,
//! and every built-in object (kustomize renders, Helm renders) must decode without unknown
//! fields and pass the built-in validations.

mod common;

use std::path::{Path, PathBuf};

use ferry_schema::{
    Gvk, Registry, SchemaSource,
    validation::{self, builtin, crd, prune, strict},
};
use serde_json::Value;

fn crds() -> Vec<Value> {
    let dir = common::data_dir().join("crds");
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for f in files {
        out.extend(common::yaml_docs(&f));
    }
    out
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// Files kustomizations use as patches: partial objects, not resources.
fn patch_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for f in files {
        if !f
            .file_name()
            .is_some_and(|n| n == "kustomization.yaml" || n == "kustomization.yml")
        {
            continue;
        }
        let dir = f.parent().unwrap();
        for k in common::yaml_docs(f) {
            let mut paths: Vec<&str> = Vec::new();
            for key in ["patches", "patchesJson6902"] {
                for p in k.get(key).and_then(Value::as_array).into_iter().flatten() {
                    paths.extend(p.get("path").and_then(Value::as_str));
                }
            }
            for p in k
                .get("patchesStrategicMerge")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                paths.extend(p.as_str());
            }
            out.extend(paths.iter().map(|p| dir.join(p)));
        }
    }
    out
}

/// Every object of the copied repositories and renders (kustomize patches left out), with the
/// file it came from.
fn corpus() -> Vec<(String, Value)> {
    let mut files = Vec::new();
    yaml_files(&common::data_dir().join("gitops-repos"), &mut files);
    yaml_files(&common::data_dir().join("helm-renders"), &mut files);
    files.sort();
    let patches = patch_files(&files);
    // The plugin example is a negative case of the repository (kustomize refuses it).
    files.retain(|f| {
        !patches.contains(f) && !f.to_string_lossy().contains("plugins/kustomized-helm")
    });
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let opts = serde_saphyr::options! { strict_booleans: true, legacy_octal_numbers: true };
        let Ok(docs) = serde_saphyr::from_multiple_with_options::<Value>(&text, opts) else {
            continue;
        };
        for d in docs {
            if d.get("apiVersion").is_some() && d.get("kind").is_some() {
                out.push((f.display().to_string(), d));
            }
        }
    }
    out
}

#[test]
fn flux_and_argo_crds_are_valid_crds() {
    let all = crds();
    assert!(all.len() >= 17);
    for c in &all {
        let name = c.pointer("/metadata/name").unwrap().as_str().unwrap();
        if let Err(e) = crd::validate(c, None) {
            panic!("{name}: {}", e.message());
        }
        // As a built-in object, a CRD has no unknown fields either.
        let ts = Registry::builtin()
            .lookup("apiextensions.k8s.io/v1", "CustomResourceDefinition")
            .unwrap();
        let body = serde_json::to_vec(c).unwrap();
        let findings = strict::check_body(&body, false, &ts);
        assert!(findings.is_empty(), "{name}: {findings:?}");
        builtin::validate(ts.gvk(), c, None).unwrap_or_else(|e| panic!("{name}: {}", e.message()));
        // An update to itself is allowed too.
        crd::validate(c, Some(c)).unwrap_or_else(|e| panic!("{name} update: {}", e.message()));
    }
}

#[test]
fn example_objects_validate_against_the_crds() {
    let reg = Registry::builtin();
    for c in crds() {
        reg.add_crd(&c).unwrap();
    }
    let mut checked = 0;
    let mut skipped_versions = Vec::new();
    for (file, obj) in corpus() {
        let gvk = Gvk::of(&obj).unwrap();
        if !(gvk.group.ends_with("toolkit.fluxcd.io") || gvk.group == "argoproj.io") {
            continue;
        }
        let Some(ts) = reg.get(&gvk) else {
            skipped_versions.push(format!("{gvk} ({file})"));
            continue;
        };
        assert_eq!(ts.source(), SchemaSource::Crd);
        let mut o = obj.clone();
        let unknown = prune::prune(&mut o, &ts);
        assert!(
            unknown.is_empty(),
            "{file}: {gvk}: unknown fields {unknown:?}"
        );
        let body = serde_json::to_vec(&obj).unwrap();
        let findings = strict::check_body(&body, false, &ts);
        assert!(findings.is_empty(), "{file}: {findings:?}");
        validation::default_custom_resource(&mut o, &ts);
        if let Err(e) = validation::validate_custom_resource(&ts, &o, None) {
            panic!("{file}: {gvk}: {}", e.message());
        }
        // An update with the same content is valid as well (transition rules see oldSelf).
        validation::validate_custom_resource(&ts, &o, Some(&o))
            .unwrap_or_else(|e| panic!("{file}: {gvk} update: {}", e.message()));
        checked += 1;
    }
    println!(
        "validated {checked} Flux/Argo CD objects; versions no CRD serves: {skipped_versions:#?}"
    );
    assert!(checked >= 60, "only {checked} objects checked");
}

#[test]
fn built_in_objects_have_no_unknown_fields_and_pass_validation() {
    let reg = Registry::builtin();
    let mut checked = 0;
    for (file, obj) in corpus() {
        let gvk = Gvk::of(&obj).unwrap();
        if !reg.is_builtin(&gvk) {
            continue;
        }
        let ts = reg.get(&gvk).unwrap();
        let body = serde_json::to_vec(&obj).unwrap();
        let findings = strict::check_body(&body, false, &ts);
        assert!(findings.is_empty(), "{file}: {gvk}: {findings:?}");
        let mut o = obj.clone();
        assert!(prune::prune(&mut o, &ts).is_empty());
        assert_eq!(o, obj, "{file}: pruning changed a valid object");
        // Renders often leave metadata.name to a generator or omit the namespace; give unnamed
        // objects a name as the server would require.
        if o.pointer("/metadata/name").is_none() {
            continue;
        }
        if let Err(e) = builtin::validate(&gvk, &o, None) {
            panic!("{file}: {gvk}: {}", e.message());
        }
        checked += 1;
    }
    println!("checked {checked} built-in objects");
    assert!(checked >= 100, "only {checked} built-in objects checked");
}
