//! `ferry policy check` run as a program: Gatekeeper library policies on a directory of
//! manifests, each output format, and the exit code a pull-request pipeline relies on; and the
//! `--kustomization` form against a real API server (live objects, the cluster's constraints).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};

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

#[test]
fn a_helm_chart_is_rendered_before_the_check() {
    let scratch = setup("chart");
    let root = &scratch.0;
    let chart = root.join("chart");
    std::fs::create_dir_all(chart.join("templates")).expect("scratch dir is writable");
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    )
    .expect("scratch dir is writable");
    std::fs::write(chart.join("values.yaml"), "hosts: [shop.example.com]\n")
        .expect("scratch dir is writable");
    // One Ingress per listed host, named after the release.
    std::fs::write(
        chart.join("templates/ingress.yaml"),
        "{{- range $i, $host := .Values.hosts }}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {{ $.Release.Name }}-{{ $i }}\n  namespace: {{ $.Release.Namespace }}\nspec:\n  rules:\n  - host: {{ $host }}\n{{- end }}\n",
    )
    .expect("scratch dir is writable");
    let run = |values: Option<&Path>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
        command
            .args(["policy", "check"])
            .arg(&chart)
            .arg("--policies")
            .arg(root.join("policies"));
        if let Some(values) = values {
            command.arg("-f").arg(values);
        }
        let out = command.output().expect("the ferry binary runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, text, stderr) = run(None);
    assert_eq!(code, Some(0), "{text}{stderr}");
    // A values file listing the host twice renders two conflicting Ingresses.
    let values = root.join("twice.yaml");
    std::fs::write(&values, "hosts: [shop.example.com, shop.example.com]\n")
        .expect("scratch dir is writable");
    let (code, text, stderr) = run(Some(&values));
    assert_eq!(code, Some(1), "{text}{stderr}");
    for name in ["release-name-0", "release-name-1"] {
        assert!(
            text.contains(&format!("shop/templates/ingress.yaml DENY Ingress/default/{name} K8sUniqueIngressHost/unique-ingress-host")),
            "{text}"
        );
    }
}

/// The controller's policy test data (templates written for ferry, Gatekeeper's CRDs).
fn gate_data(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ferry-controller/tests/data/policies")
            .join(name),
    )
    .expect("test data is readable")
}

/// Server-side applies a YAML object whose resource is `plural`.
async fn apply(client: &kube::Client, plural: &str, yaml: &str) {
    let object: Value = ferry_yaml::from_str(yaml).expect("test YAML parses");
    let api_version = object["apiVersion"].as_str().expect("apiVersion");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, object["kind"].as_str().expect("kind"));
    let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
    let api: kube::Api<DynamicObject> = match object["metadata"]["namespace"].as_str() {
        Some(ns) => kube::Api::namespaced_with(client.clone(), ns, &resource),
        None => kube::Api::all_with(client.clone(), &resource),
    };
    api.patch(
        object["metadata"]["name"].as_str().expect("name"),
        &PatchParams::apply("kubectl").force(),
        &Patch::Apply(&object),
    )
    .await
    .expect("apply succeeds");
}

async fn wait_established(client: &kube::Client, name: &str) {
    let crds = common::dynamic_api(
        client,
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        None,
    );
    common::wait_for(
        &format!("CRD {name} established"),
        std::time::Duration::from_secs(10),
        || {
            let crds = crds.clone();
            async move {
                let crd = serde_json::to_value(crds.get(name).await.ok()?).ok()?;
                crd["status"]["conditions"]
                    .as_array()?
                    .iter()
                    .any(|c| c["type"] == "Established" && c["status"] == "True")
                    .then_some(())
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kustomization_is_checked_against_live_objects_and_the_clusters_constraints() {
    let env = common::Env::without_controllers().await;
    // The Kustomization moves everything into namespace shop, as the controller would.
    env.create_kustomization(
        "shop",
        json!({"interval": "1h", "path": "./shop", "prune": true, "targetNamespace": "shop"}),
    )
    .await;
    common::create_namespace(&env.client, "shop").await;
    common::create_namespace(&env.client, "team-b").await;
    // Live: another team's Ingress holding the host, and the ConfigMap as applied before.
    apply(
        &env.client,
        "ingresses",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: storefront\n  namespace: team-b\nspec:\n  rules:\n  - host: shop.example.com\n",
    )
    .await;
    apply(
        &env.client,
        "configmaps",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\n  labels:\n    team: payments\n",
    )
    .await;

    // The local checkout: an Ingress for the same host and the ConfigMap handed to another team.
    let checkout = env.dir.path().join("checkout/shop");
    common::write(
        &checkout.join("ingress.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  rules:\n  - host: shop.example.com\n",
    );
    common::write(
        &checkout.join("settings.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels:\n    team: search\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx:latest\n",
    );
    let policies = env.dir.path().join("policies");
    common::write(
        &policies.join("ingress-template.yaml"),
        &gate_data("uniqueingresshost-template.yaml"),
    );
    common::write(
        &policies.join("ingress-constraint.yaml"),
        &std::fs::read_to_string(library(
            "uniqueingresshost/samples/unique-ingress-host/constraint.yaml",
        ))
        .expect("library constraint is readable"),
    );
    common::write(
        &policies.join("labels-template.yaml"),
        &gate_data("immutablelabels-template.yaml"),
    );
    common::write(
        &policies.join("labels-constraint.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sImmutableLabels\nmetadata:\n  name: team-is-immutable\nspec:\n  match:\n    kinds:\n      - apiGroups: [\"\"]\n        kinds: [\"ConfigMap\"]\n  parameters:\n    labels: [\"team\"]\n",
    );
    let checkout_arg = checkout.display().to_string();
    let policies_arg = policies.display().to_string();

    // --policies: both violations come from live objects only (the rendered set alone has one
    // Ingress per host and no old ConfigMap).
    let run = env
        .ferry(&[
            "policy",
            "check",
            "--kustomization",
            "shop",
            "-n",
            "flux-system",
            "--path",
            &checkout_arg,
            "--policies",
            &policies_arg,
        ])
        .await
        .expect_code(1);
    assert!(
        run.stdout.contains("DENY Ingress/shop/web K8sUniqueIngressHost/unique-ingress-host: ingress host conflicts with an existing ingress <shop.example.com>"),
        "{}", run.stdout
    );
    assert!(
        run.stdout.contains("DENY ConfigMap/shop/settings K8sImmutableLabels/team-is-immutable: label <team> is immutable: <payments> cannot become <search>"),
        "{}", run.stdout
    );
    // Without the live objects the same check passes.
    let offline = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["policy", "check"])
        .arg(&checkout)
        .arg("--policies")
        .arg(&policies)
        .output()
        .expect("the ferry binary runs");
    assert_eq!(
        offline.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&offline.stdout)
    );

    // No --policies: the cluster's constraints, and an error while Gatekeeper is missing.
    let args = [
        "policy",
        "check",
        "--kustomization",
        "shop",
        "--path",
        &checkout_arg,
        "-o",
        "json",
    ];
    let run = env.ferry(&args).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("is OPA Gatekeeper installed?"),
        "{}",
        run.stderr
    );
    apply(
        &env.client,
        "customresourcedefinitions",
        &gate_data("gatekeeper-crds.yaml"),
    )
    .await;
    wait_established(&env.client, "constrainttemplates.templates.gatekeeper.sh").await;
    apply(
        &env.client,
        "constrainttemplates",
        &std::fs::read_to_string(library("disallowedtags/template.yaml"))
            .expect("library template is readable"),
    )
    .await;
    // The CRD Gatekeeper's controller generates for the template's kind (the embedded API
    // server runs no Gatekeeper, so the test creates it as Gatekeeper would).
    apply(
        &env.client,
        "customresourcedefinitions",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: k8sdisallowedtags.constraints.gatekeeper.sh\nspec:\n  group: constraints.gatekeeper.sh\n  names:\n    kind: K8sDisallowedTags\n    listKind: K8sDisallowedTagsList\n    plural: k8sdisallowedtags\n    singular: k8sdisallowedtags\n  scope: Cluster\n  versions:\n  - name: v1beta1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n",
    )
    .await;
    wait_established(&env.client, "k8sdisallowedtags.constraints.gatekeeper.sh").await;
    apply(
        &env.client,
        "k8sdisallowedtags",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sDisallowedTags\nmetadata:\n  name: no-latest\nspec:\n  match:\n    kinds:\n    - apiGroups: [\"\"]\n      kinds: [\"Pod\"]\n  parameters:\n    tags: [\"latest\"]\n",
    )
    .await;
    let run = env.ferry(&args).await.expect_code(1);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON output");
    let violations = report["violations"].as_array().expect("violations");
    assert_eq!(violations.len(), 1, "{}", run.stdout);
    assert_eq!(violations[0]["constraint"], "no-latest", "{}", run.stdout);
    assert!(
        run.stdout.contains("Pod") && run.stdout.contains("\"shop\""),
        "{}",
        run.stdout
    );
}
