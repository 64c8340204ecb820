//! Building directories as Flux's kustomize-controller does: a kustomization is generated where
//! there is none, and the Flux Kustomization's overrides are written into it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ferry_kustomize::{
    BuildOptions, FluxOverrides, Image, Patch, Selector, build, build_flux, to_yaml,
};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

#[test]
fn directories_without_kustomization_build_like_flux() {
    let goldens = data().join("flux-generated");
    let mut checked = 0;
    for entry in std::fs::read_dir(&goldens).expect("flux-generated") {
        let path = entry.expect("entry").path();
        let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
            continue;
        };
        if ext != "yaml" && ext != "err" {
            continue;
        }
        let stem = stem.to_string_lossy();
        let (repo, rest) = stem.split_once('_').expect("repo_path name");
        let dir = data()
            .join("gitops-repos")
            .join(repo)
            .join(rest.replace('_', "/"));
        assert!(dir.is_dir(), "{}", dir.display());
        let result = build_flux(&dir, &FluxOverrides::default(), &BuildOptions::default());
        if ext == "yaml" {
            let expected = std::fs::read_to_string(&path).expect("golden");
            let objects = result.unwrap_or_else(|e| panic!("{stem}: {e}"));
            assert_eq!(to_yaml(&objects), expected, "{stem}");
        } else {
            let err = result.expect_err("kustomize fails on this directory");
            assert!(
                err.to_string().contains("missing metadata.name"),
                "{stem}: {err}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn generated_kustomization_lists_files_and_bases() {
    let dir = data().join("gitops-repos/flux2-kustomize-helm-example/clusters/production");
    let k = ferry_kustomize::generated_kustomization(&dir).expect("generate");
    assert_eq!(
        k.resources,
        vec![
            "./apps.yaml",
            "./artifacts.yaml",
            "./flux-system",
            "./infrastructure.yaml"
        ]
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let p = e.expect("entry").path();
        let dest = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

/// The overrides give what kustomize gives when the same fields are written into the
/// kustomization by hand (checked with kubectl where it is installed, else with ferry).
#[test]
fn overrides_are_written_into_the_kustomization() {
    let src = data().join("gitops-repos/flux2-kustomize-helm-example/apps/staging");
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("repo");
    copy_dir(
        &data().join("gitops-repos/flux2-kustomize-helm-example/apps"),
        &root.join("apps"),
    );
    let staging = root.join("apps/staging");
    assert!(src.is_dir());
    std::fs::create_dir_all(staging.join("extra")).expect("mkdir");
    std::fs::write(
        staging.join("extra/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations:\n  component: extra\n",
    )
    .expect("write component");

    let overrides = FluxOverrides {
        target_namespace: Some("tenant-a".into()),
        name_prefix: Some("a-".into()),
        name_suffix: None,
        patches: vec![Patch {
            patch: "- op: add\n  path: /spec/timeout\n  value: 10m\n".into(),
            target: Some(Selector {
                kind: "HelmRelease".into(),
                ..Default::default()
            }),
            ..Default::default()
        }],
        images: vec![Image {
            name: "ghcr.io/stefanprodan/podinfo".into(),
            new_tag: "6.7.0".into(),
            ..Default::default()
        }],
        components: vec!["extra".into()],
        common_labels: BTreeMap::from([("owner".to_string(), "team-a".to_string())]),
        common_annotations: BTreeMap::from([("flux".to_string(), "yes".to_string())]),
    };
    let ours = build_flux(&staging, &overrides, &BuildOptions::default()).expect("flux build");

    // The same build with the fields written by hand.
    let original = std::fs::read_to_string(staging.join("kustomization.yaml")).expect("read");
    // staging's kustomization ends with its `patches:` list; Flux appends to that list.
    let by_hand = format!(
        "{original}  - patch: |\n      - op: add\n        path: /spec/timeout\n        value: 10m\n    target:\n      kind: HelmRelease\nnamespace: tenant-a\nnamePrefix: a-\nimages:\n- name: ghcr.io/stefanprodan/podinfo\n  newTag: 6.7.0\ncomponents:\n- extra\n"
    );
    assert!(
        original.trim_end().ends_with("kind: HelmRelease") && !original.contains("\nnamespace:")
    );
    std::fs::write(staging.join("kustomization.yaml"), by_hand).expect("write");
    let expected = match which_kubectl() {
        Some(k) => {
            let out = std::process::Command::new(k)
                .arg("kustomize")
                .arg(&staging)
                .output()
                .expect("kubectl");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).expect("utf8")
        }
        None => to_yaml(&build(&staging, &BuildOptions::default()).expect("build")),
    };
    // commonMetadata goes onto each object's metadata after the build.
    let mut expected_objects = ferry_yaml::from_str_multi(&expected).expect("parse");
    for o in &mut expected_objects {
        o["metadata"]["labels"]["owner"] = "team-a".into();
        o["metadata"]["annotations"]["flux"] = "yes".into();
    }
    assert_eq!(to_yaml(&ours), to_yaml(&expected_objects));
    assert!(expected.contains("namespace: tenant-a") && expected.contains("component: extra"));
}

fn which_kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|p| p.join("kubectl"))
        .find(|p| p.is_file())
}
