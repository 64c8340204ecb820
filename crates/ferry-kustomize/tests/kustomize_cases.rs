//! The krusty test cases of kustomize (tests/data/kustomize-cases): each case's build must give
//! its expected.yaml byte for byte, or fail with the substrings of expected-error.txt.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use ferry_kustomize::{BuildOptions, DirCache, LoadRestrictions, Reorder, build, to_yaml};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kustomize-cases")
}

struct Case {
    name: String,
    build_dir: String,
}

fn cases() -> Vec<Case> {
    let index = std::fs::read_to_string(cases_dir().join("INDEX.tsv")).expect("INDEX.tsv");
    index
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() >= 4).then(|| Case {
                name: cols[0].to_string(),
                build_dir: cols[3].to_string(),
            })
        })
        .collect()
}

fn options(source: &str) -> BuildOptions {
    let mut o = BuildOptions {
        reorder: Reorder::None,
        ..Default::default()
    };
    if source.contains("OVERRIDE: LoadRestrictions=None") {
        o.load_restrictions = LoadRestrictions::None;
    }
    if source.contains("OVERRIDE: Reorder=legacy") {
        o.reorder = Reorder::Legacy;
    }
    o
}

/// Run one case (building with `dir_cache`); Err explains the mismatch.
fn run(case: &Case, dir_cache: Option<Arc<DirCache>>) -> Result<(), String> {
    let dir = cases_dir().join(&case.name);
    let root = std::fs::canonicalize(&dir).map_err(|e| e.to_string())?;
    let source = std::fs::read_to_string(dir.join("SOURCE.txt")).unwrap_or_default();
    let options = BuildOptions {
        dir_cache,
        ..options(&source)
    };
    let result = build(&dir.join(&case.build_dir), &options);
    if let Ok(expected) = std::fs::read_to_string(dir.join("expected.yaml")) {
        let objects = result.map_err(|e| format!("build failed: {e}"))?;
        let actual = to_yaml(&objects);
        if actual != expected {
            let diff: Vec<String> = expected
                .lines()
                .zip(actual.lines())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .take(3)
                .map(|(i, (a, b))| format!("line {}: expected {a:?}, got {b:?}", i + 1))
                .collect();
            return Err(format!(
                "output differs ({} vs {} lines): {}",
                expected.lines().count(),
                actual.lines().count(),
                diff.join("; ")
            ));
        }
        return Ok(());
    }
    if let Ok(spec) = std::fs::read_to_string(dir.join("expected-error.txt")) {
        let err = match result {
            Ok(_) => return Err("build succeeded but must fail".to_string()),
            Err(e) => e.to_string(),
        };
        let err = err.replace(&root.to_string_lossy().into_owned(), "");
        for line in spec.lines() {
            if let Some(want) = line.strip_prefix("error-contains: ")
                && !err.contains(want)
            {
                return Err(format!("error {err:?} lacks {want:?}"));
            }
        }
        return Ok(());
    }
    // TestDisableNameSuffixHashPerObject: two Secret names only.
    let objects = result.map_err(|e| format!("build failed: {e}"))?;
    let names: Vec<String> = objects
        .iter()
        .filter(|o| o["kind"] == "Secret")
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let nohash = names.iter().find(|n| n.starts_with("nohash"));
    let yeshash = names.iter().find(|n| n.starts_with("yeshash"));
    if nohash.map(String::as_str) != Some("nohash")
        || yeshash.map(String::as_str) != Some("yeshash-82c2g5f8f6")
    {
        return Err(format!("secret names {names:?}"));
    }
    Ok(())
}

#[test]
fn krusty_cases() {
    let only = std::env::var("CASE").ok();
    let all = cases();
    assert_eq!(all.len(), 162, "INDEX.tsv lists 162 cases");
    let mut failures = Vec::new();
    let mut diverged = Vec::new();
    let mut kept = 0;
    let mut ran = 0;
    for case in &all {
        if only
            .as_ref()
            .is_some_and(|o| !case.name.contains(o.as_str()))
        {
            continue;
        }
        ran += 1;
        let plain = run(case, None);
        if let Err(why) = &plain {
            failures.push(format!("{}: {why}", case.name));
        }
        // Built twice with one directory cache, the second time from what the first kept: the
        // outcome (failures included) must not change.
        let cache = Arc::new(DirCache::new(&cases_dir().join(&case.name)).unwrap());
        for round in ["filling", "reading"] {
            let cached = run(case, Some(cache.clone()));
            if cached != plain {
                diverged.push(format!("{} ({round} the cache): {cached:?}", case.name));
            }
        }
        kept += cache.len();
    }
    let passed = ran - failures.len();
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    eprintln!("krusty cases: {passed}/{ran} passed; {kept} directory results cached");
    assert!(
        diverged.is_empty(),
        "a directory cache changed: {diverged:#?}"
    );
    if only.is_none() {
        // The bar: at least 98% (159 of 162).
        assert!(passed * 100 >= ran * 98, "{passed}/{ran} passed");
    } else {
        assert!(failures.is_empty());
    }
}
