//! `ferry policy check` run as a program: Gatekeeper library policies on a directory of
//! manifests, each output format, and the exit code a pull-request pipeline relies on.

use std::path::{Path, PathBuf};
use std::process::Command;

fn library(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ferry-policy/tests/data/gatekeeper")
        .join(path)
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup(name: &str) -> Scratch {
    let root =
        std::env::temp_dir().join(format!("ferry-policy-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("repo/apps")).expect("scratch dir is writable");
    std::fs::create_dir_all(root.join("policies")).expect("scratch dir is writable");
    for (from, to) in [
        ("uniqueingresshost/template.yaml", "ingress-template.yaml"),
        (
            "uniqueingresshost/samples/unique-ingress-host/constraint.yaml",
            "ingress-constraint.yaml",
        ),
        ("disallowedtags/template.yaml", "tags-template.yaml"),
    ] {
        std::fs::copy(library(from), root.join("policies").join(to))
            .expect("scratch dir is writable");
    }
    std::fs::write(
        root.join("policies/tags-constraint.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sDisallowedTags\nmetadata:\n  name: no-latest\nspec:\n  enforcementAction: warn\n  match:\n    kinds:\n    - apiGroups: [\"\"]\n      kinds: [\"Pod\"]\n  parameters:\n    tags: [\"latest\"]\n",
    )
    .expect("scratch dir is writable");
    std::fs::write(
        root.join("repo/apps/web.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  containers:\n  - name: web\n    image: nginx:latest\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  rules:\n  - host: shop.example.com\n",
    )
    .expect("scratch dir is writable");
    Scratch(root)
}

fn check(root: &Path, output: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["policy", "check"])
        .arg(root.join("repo"))
        .arg("--policies")
        .arg(root.join("policies"))
        .args(["-o", output])
        .output()
        .expect("scratch dir is writable");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("output is UTF-8"),
    )
}

#[test]
fn warnings_pass_and_a_deny_violation_fails_the_pipeline() {
    let scratch = setup("exit");
    let root = &scratch.0;
    // Only the warn constraint is violated: reported, exit 0.
    let (code, text) = check(root, "text");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("apps/web.yaml:1 WARN Pod/shop/web K8sDisallowedTags/no-latest: container <web> uses a disallowed tag <nginx:latest>"),
        "{text}"
    );
    // A second Ingress with the same host violates the deny constraint: exit 1.
    std::fs::write(
        root.join("repo/apps/copy.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: copy\n  namespace: other\nspec:\n  rules:\n  - host: shop.example.com\n",
    )
    .expect("scratch dir is writable");
    let (code, github) = check(root, "github");
    assert_eq!(code, 1, "{github}");
    assert!(github.contains("::error file=apps/copy.yaml,line=1,title=Ingress/other/copy K8sUniqueIngressHost/unique-ingress-host (deny)::ingress host conflicts with an existing ingress <shop.example.com>\n"), "{github}");
    assert!(
        github.contains("::warning file=apps/web.yaml,line=1,"),
        "{github}"
    );
    let (_, azure) = check(root, "azure");
    assert!(azure.contains("##vso[task.logissue type=error;sourcepath=apps/copy.yaml;linenumber=1]Ingress/other/copy"), "{azure}");
    let (_, json) = check(root, "json");
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("scratch dir is writable");
    assert_eq!(
        parsed["violations"].as_array().map(Vec::len),
        Some(3),
        "{json}"
    );
}

#[test]
fn a_policy_error_names_the_template() {
    let scratch = setup("error");
    let root = &scratch.0;
    std::fs::write(
        root.join("policies/orphan.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sMissing\nmetadata:\n  name: orphan\n",
    )
    .expect("scratch dir is writable");
    let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["policy", "check"])
        .arg(root.join("repo"))
        .arg("--policies")
        .arg(root.join("policies"))
        .output()
        .expect("scratch dir is writable");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "constraint K8sMissing/orphan: no ConstraintTemplate defines kind K8sMissing"
        ),
        "{stderr}"
    );
}

#[test]
fn a_kustomize_overlay_is_built_before_the_check() {
    let scratch = setup("overlay");
    let root = &scratch.0;
    let apps = root.join("repo/apps");
    std::fs::write(
        apps.join("copy.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: copy\nspec:\n  rules:\n  - host: shop.example.com\n",
    )
    .expect("scratch dir is writable");
    std::fs::write(
        apps.join("kustomization.yaml"),
        "resources:\n- web.yaml\n- copy.yaml\nnamespace: team\n",
    )
    .expect("scratch dir is writable");
    let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["policy", "check"])
        .arg(&apps)
        .arg("--policies")
        .arg(root.join("policies"))
        .output()
        .expect("the ferry binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // kustomize moved both Ingresses to namespace team; they conflict with each other.
    assert!(
        text.contains(
            "kustomization.yaml DENY Ingress/team/copy K8sUniqueIngressHost/unique-ingress-host"
        ),
        "{text}"
    );
    assert!(
        text.contains("kustomization.yaml DENY Ingress/team/web "),
        "{text}"
    );
}
