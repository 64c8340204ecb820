//! Features the krusty cases cover little: each tests/data/extra-cases directory builds to what
//! `kubectl kustomize` printed for it; and kustomize's load restrictions.

use std::path::{Path, PathBuf};

use ferry_kustomize::{BuildOptions, LoadRestrictions, build, to_yaml};

fn extra() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/extra-cases")
}

fn case(name: &str) {
    let dir = extra().join(name);
    let build_dir = match std::fs::read_to_string(dir.join("BUILD_DIR")) {
        Ok(sub) => dir.join(sub.trim()),
        Err(_) => dir.clone(),
    };
    let expected = std::fs::read_to_string(dir.join("expected.yaml")).expect("expected.yaml");
    let objects =
        build(&build_dir, &BuildOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let actual = to_yaml(&objects);
    if actual != expected {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map_or(0, |i| i + 1);
        panic!("{name}: output differs from line {line}:\n{actual}");
    }
}

#[test]
fn custom_openapi_schema_gives_merge_keys() {
    case("openapi-schema");
}

#[test]
fn sort_options_legacy_with_custom_order() {
    case("sort-legacy-custom");
}

#[test]
fn sort_options_fifo() {
    case("sort-fifo");
}

#[test]
fn managed_by_label() {
    case("managed-by");
}

#[test]
fn name_references_across_kinds() {
    case("name-references");
}

#[test]
fn generators_from_files_and_env_files() {
    case("generator-files");
}

fn write(p: &Path, s: &str) {
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, s).expect("write");
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";

#[test]
fn files_outside_the_root_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    write(&root.join("outside.yaml"), CM);
    write(
        &root.join("app/kustomization.yaml"),
        "resources:\n- ../outside.yaml\n",
    );
    let err = build(&root.join("app"), &BuildOptions::default()).expect_err("refused");
    assert!(err.to_string().contains("is not in or below"), "{err}");
    let ok = build(
        &root.join("app"),
        &BuildOptions {
            load_restrictions: LoadRestrictions::None,
            ..Default::default()
        },
    );
    assert_eq!(ok.expect("allowed without restrictions").len(), 1);
}

#[cfg(unix)]
#[test]
fn symlinks_cannot_escape_the_root() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    write(&root.join("secret/cm.yaml"), CM);
    write(
        &root.join("app/kustomization.yaml"),
        "resources:\n- link.yaml\n",
    );
    std::os::unix::fs::symlink(root.join("secret/cm.yaml"), root.join("app/link.yaml"))
        .expect("symlink");
    let err = build(&root.join("app"), &BuildOptions::default()).expect_err("refused");
    assert!(err.to_string().contains("is not in or below"), "{err}");
}

#[test]
fn remote_bases_are_refused_without_a_fetcher() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        &tmp.path().join("kustomization.yaml"),
        "resources:\n- https://github.com/kubernetes-sigs/kustomize//examples/multibases?ref=v1.0.6\n",
    );
    let err = build(tmp.path(), &BuildOptions::default()).expect_err("refused");
    assert!(
        err.to_string().contains("remote bases are disabled"),
        "{err}"
    );
}

#[test]
fn remote_bases_use_the_fetcher() {
    struct Local(PathBuf);
    impl ferry_kustomize::RemoteFetcher for Local {
        fn fetch(&self, url: &str) -> Result<PathBuf, String> {
            assert_eq!(url, "github.com/example/repo//base?ref=v1");
            Ok(self.0.clone())
        }
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        &tmp.path().join("fetched/kustomization.yaml"),
        "resources:\n- cm.yaml\n",
    );
    write(&tmp.path().join("fetched/cm.yaml"), CM);
    write(
        &tmp.path().join("app/kustomization.yaml"),
        "resources:\n- github.com/example/repo//base?ref=v1\nnamePrefix: p-\n",
    );
    let options = BuildOptions {
        remote: Some(std::sync::Arc::new(Local(tmp.path().join("fetched")))),
        ..Default::default()
    };
    let objects = build(&tmp.path().join("app"), &options).expect("build");
    assert_eq!(objects[0]["metadata"]["name"], "p-x");
}

#[test]
fn missing_kustomization_is_reported() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = build(tmp.path(), &BuildOptions::default()).expect_err("no kustomization");
    assert!(err.is_missing_kustomization());
    assert!(
        err.to_string()
            .contains("unable to find one of 'kustomization.yaml'"),
        "{err}"
    );
}

#[test]
fn cycles_are_detected() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        &tmp.path().join("a/kustomization.yaml"),
        "resources:\n- ../b\n",
    );
    write(
        &tmp.path().join("b/kustomization.yaml"),
        "resources:\n- ../a\n",
    );
    let err = build(&tmp.path().join("a"), &BuildOptions::default()).expect_err("cycle");
    assert!(err.to_string().contains("cycle detected"), "{err}");
}

/// A kept directory result records the directories its build entered, and a later use checks
/// them for cycles with the kustomizations that lead to it then. With unchanged files and the
/// origin in the key no cycle can hide behind a kept result; this test changes a file the cache
/// has read (which its contract forbids) to show that even then none does.
#[test]
fn cycles_are_detected_through_a_kept_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    write(
        &root.join("a/kustomization.yaml"),
        "resources:\n- ../base\n",
    );
    write(
        &root.join("base/kustomization.yaml"),
        "resources:\n- ../b\n",
    );
    write(
        &root.join("b/kustomization.yaml"),
        "resources:\n- cm.yaml\n",
    );
    write(
        &root.join("b/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    );
    let cache = std::sync::Arc::new(ferry_kustomize::DirCache::new(root).expect("cache"));
    let cached = BuildOptions {
        dir_cache: Some(cache.clone()),
        ..BuildOptions::default()
    };
    assert_eq!(build(&root.join("a"), &cached).expect("a builds").len(), 1);
    assert!(!cache.is_empty(), "base kept");
    // b now names base, whose kept result came through b.
    write(
        &root.join("b/kustomization.yaml"),
        "resources:\n- ../base\n",
    );
    for options in [&cached, &BuildOptions::default()] {
        let err = build(&root.join("b"), options).expect_err("cycle");
        assert!(err.to_string().contains("cycle detected"), "{err}");
    }
}

/// A tree whose cache vouches that no symlinks lie below it resolves its paths without asking
/// the file system about each component, and with the same outcome: bases below the tree
/// build, and files outside the kustomization root, missing files and missing bases fail
/// with the messages of a build without the cache.
#[test]
fn a_symlink_free_tree_resolves_paths_with_the_same_checks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tree = tmp.path().join("tree");
    write(
        &tree.join("base/kustomization.yaml"),
        "resources: [cm.yaml]\n",
    );
    write(&tree.join("base/cm.yaml"), CM);
    write(&tree.join("shared.yaml"), CM);
    write(&tmp.path().join("outside.yaml"), CM);
    let cache = ferry_kustomize::DirCache::new(&tree)
        .expect("cache")
        .without_symlinks();
    let cached = BuildOptions {
        dir_cache: Some(std::sync::Arc::new(cache)),
        ..BuildOptions::default()
    };
    let app = tree.join("app");
    write(&app.join("kustomization.yaml"), "resources: [../base]\n");
    assert_eq!(build(&app, &cached).expect("the base builds").len(), 1);
    for text in [
        "resources: [../shared.yaml]\n",
        "resources: [../../outside.yaml]\n",
        "resources: [missing.yaml]\n",
        "resources: [../missing-base]\n",
        "resources: [../base/cm.yaml]\n",
    ] {
        write(&app.join("kustomization.yaml"), text);
        let plain = build(&app, &BuildOptions::default()).expect_err(text);
        let err = build(&app, &cached).expect_err(text);
        assert_eq!(err.to_string(), plain.to_string(), "{text}");
    }
    // `..` after a name is cleaned away as kustomize cleans it, with or without the cache.
    write(
        &app.join("kustomization.yaml"),
        "resources: [../base/cm.yaml/..]\n",
    );
    assert_eq!(build(&app, &cached).expect("cleaned to ../base").len(), 1);
}

/// Trees of successive revisions sharing a parse cache build what they build without it: an
/// unchanged kustomization file or inline patch is taken from the cache, a changed one parsed
/// anew, and a broken one fails naming its own file each time (errors are not kept).
#[test]
fn trees_sharing_a_parse_cache_build_as_without_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let parsed = std::sync::Arc::new(ferry_kustomize::ParseCache::new());
    let overlay = "resources: [../base]\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: cm\n    data:\n      app: one\n";
    let revision = |name: &str, message: &str, overlay: &str| {
        let tree = tmp.path().join(name);
        write(
            &tree.join("base/kustomization.yaml"),
            "resources: [cm.yaml]\n",
        );
        write(
            &tree.join("base/cm.yaml"),
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  message: {message}\n"
            ),
        );
        write(&tree.join("app/kustomization.yaml"), overlay);
        let cache = ferry_kustomize::DirCache::new(&tree)
            .expect("cache")
            .without_symlinks()
            .with_parse_cache(parsed.clone());
        let cached = BuildOptions {
            dir_cache: Some(std::sync::Arc::new(cache)),
            ..BuildOptions::default()
        };
        let app = tree.join("app");
        (build(&app, &BuildOptions::default()), build(&app, &cached))
    };
    let same = |(plain, cached): (
        Result<Vec<serde_json::Value>, ferry_kustomize::Error>,
        Result<Vec<serde_json::Value>, ferry_kustomize::Error>,
    )| {
        let plain = plain.expect("builds");
        assert_eq!(cached.expect("builds with the cache"), plain);
        plain
    };

    let first = same(revision("r1", "v1", overlay));
    assert_eq!(first[0]["data"]["app"], "one");
    // The overlay's file, its patch and the base's file.
    assert_eq!(parsed.len(), 3);
    // A new revision changing only the base: the overlay and its patch come from the cache.
    let second = same(revision("r2", "v2", overlay));
    assert_eq!(second[0]["data"]["message"], "v2");
    assert_eq!(second[0]["data"]["app"], "one");
    assert_eq!(parsed.len(), 3);
    // A changed overlay is parsed anew.
    let changed = same(revision(
        "r3",
        "v2",
        &overlay.replace("app: one", "app: two"),
    ));
    assert_eq!(changed[0]["data"]["app"], "two");
    assert_eq!(parsed.len(), 5);
    // A broken overlay fails naming its own file, in every tree.
    for name in ["r4", "r5"] {
        let (plain, cached) = revision(name, "v2", "resources: [../base\n");
        let (plain, cached) = (plain.expect_err("broken"), cached.expect_err("broken"));
        assert_eq!(cached.to_string(), plain.to_string());
        assert!(cached.to_string().contains(name), "{cached}");
    }
}

/// A file filter sees every file the build reads (resources and generator inputs) and its
/// output is what the build uses; its errors name the file.
#[test]
fn file_filter_transforms_every_file_read() {
    use ferry_kustomize::FileFilter;

    struct Rot(std::sync::Mutex<Vec<String>>);
    impl FileFilter for Rot {
        fn filter(&self, path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            self.0.lock().unwrap().push(name.clone());
            if name == "broken.env" {
                return Err("cannot decrypt".to_owned());
            }
            Ok(String::from_utf8(bytes)
                .unwrap()
                .replace("SECRET", "plain")
                .into_bytes())
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("kustomization.yaml"), "resources: [cm.yaml]\nsecretGenerator:\n- name: s\n  envs: [vars.env]\n  options:\n    disableNameSuffixHash: true\n").unwrap();
    std::fs::write(
        dir.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: SECRET\n",
    )
    .unwrap();
    std::fs::write(dir.join("vars.env"), "K=SECRET\n").unwrap();
    let filter = std::sync::Arc::new(Rot(Default::default()));
    let options = BuildOptions {
        file_filter: Some(filter.clone()),
        ..Default::default()
    };
    let objects = build(dir, &options).expect("build");
    let cm = objects.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
    assert_eq!(cm["data"]["k"], "plain");
    let secret = objects.iter().find(|o| o["kind"] == "Secret").unwrap();
    assert_eq!(secret["data"]["K"], "cGxhaW4="); // base64("plain")
    let seen = filter.0.lock().unwrap().clone();
    assert!(
        seen.contains(&"cm.yaml".to_owned()) && seen.contains(&"vars.env".to_owned()),
        "{seen:?}"
    );

    std::fs::write(
        dir.join("kustomization.yaml"),
        "secretGenerator:\n- name: s\n  envs: [broken.env]\n",
    )
    .unwrap();
    std::fs::write(dir.join("broken.env"), "K=v\n").unwrap();
    let err = build(dir, &options).expect_err("the filter's error stops the build");
    assert!(
        err.to_string().contains("broken.env") && err.to_string().contains("cannot decrypt"),
        "{err}"
    );
}
