//! Every kustomization directory of the public GitOps repositories in tests/data/gitops-repos
//! builds to exactly what `kubectl kustomize` printed (RENDERS/), or fails where it failed.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use ferry_kustomize::{BuildOptions, DirCache, build, to_yaml};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gitops-repos")
}

fn kustomization_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    if ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|n| dir.join(n).is_file())
    {
        out.push(dir.to_path_buf());
    }
    for e in entries {
        if e.is_dir() {
            kustomization_dirs(&e, out);
        }
    }
}

#[test]
fn renders_match_kubectl_kustomize() {
    check_renders(|_| BuildOptions::default());
}

/// The same with one directory cache per repository, as a controller keeps one per artifact:
/// the overlays of a repository share what its bases built to.
#[test]
fn renders_match_with_a_directory_cache_per_repository() {
    let mut caches: HashMap<PathBuf, Arc<DirCache>> = HashMap::new();
    check_renders(|repo| BuildOptions {
        dir_cache: Some(
            caches
                .entry(repo.to_path_buf())
                .or_insert_with(|| Arc::new(DirCache::new(repo).unwrap()))
                .clone(),
        ),
        ..BuildOptions::default()
    });
    let kept: usize = caches.values().map(|c| c.len()).sum();
    eprintln!("{kept} directory results cached");
    assert!(kept > 0, "bases were kept");
}

/// Builds every kustomization directory with the options for its repository.
#[allow(clippy::print_stderr)] // the tally of a #[test], printed as the test functions do
fn check_renders(mut options: impl FnMut(&Path) -> BuildOptions) {
    let root = data();
    let mut dirs = Vec::new();
    for repo in std::fs::read_dir(&root).expect("gitops-repos") {
        let repo = repo.expect("entry").path();
        if repo.is_dir() && repo.file_name().is_some_and(|n| n != "RENDERS") {
            let mut found = Vec::new();
            kustomization_dirs(&repo, &mut found);
            dirs.extend(found.into_iter().map(|dir| (repo.clone(), dir)));
        }
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for (repo, dir) in &dirs {
        let rel = dir.strip_prefix(&root).expect("below root");
        let name = rel.to_string_lossy().replace('/', "_");
        let yaml = root.join("RENDERS").join(format!("{name}.yaml"));
        let err = root.join("RENDERS").join(format!("{name}.err"));
        let result = build(dir, &options(repo));
        if let Ok(expected) = std::fs::read_to_string(&yaml) {
            checked += 1;
            match result {
                Ok(objects) => {
                    let actual = to_yaml(&objects);
                    if actual != expected {
                        let line = expected
                            .lines()
                            .zip(actual.lines())
                            .position(|(a, b)| a != b)
                            .map_or(0, |i| i + 1);
                        failures.push(format!("{name}: output differs from line {line}"));
                    }
                }
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        } else if err.exists() {
            checked += 1;
            if result.is_ok() {
                failures.push(format!(
                    "{name}: kubectl kustomize fails here, ferry built it"
                ));
            }
        }
    }
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    let renders = std::fs::read_dir(root.join("RENDERS"))
        .expect("RENDERS")
        .count();
    eprintln!(
        "gitops renders: {}/{checked} match ({renders} renders)",
        checked - failures.len()
    );
    assert_eq!(
        checked, renders,
        "every render has its kustomization directory"
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
