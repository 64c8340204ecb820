//! Property test: on generated overlays (bases with Deployments, Services, ServiceAccounts and
//! generated ConfigMaps/Secrets; overlays with namespaces, name prefixes/suffixes, labels,
//! annotations, images, replicas, strategic merge and JSON patches, generators merging into the
//! base's) `ferry build kustomize` prints exactly what `kubectl kustomize` prints. Skipped, with a
//! message, where kubectl is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;

fn kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|p| p.join("kubectl"))
        .find(|p| p.is_file())
}

#[derive(Debug, Clone)]
struct App {
    name: String,
    replicas: u8,
    image: String,
    literal: String,
    port: u16,
}

#[derive(Debug, Clone)]
struct Overlay {
    namespace: Option<String>,
    prefix: Option<String>,
    suffix: Option<String>,
    labels: Vec<(String, String)>,
    label_selectors: bool,
    annotations: Vec<(String, String)>,
    new_tag: Option<String>,
    json_patch: bool,
    smp_replicas: Option<u8>,
    merge_literal: Option<String>,
    secret: bool,
    disable_hash: bool,
    fifo: bool,
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{1,6}"
}

fn app() -> impl Strategy<Value = App> {
    (
        name(),
        1u8..5,
        prop_oneof![Just("nginx"), Just("redis"), Just("ghcr.io/org/web")],
        "[a-z0-9 =:_-]{0,20}",
        80u16..9000,
    )
        .prop_map(|(name, replicas, image, literal, port)| App {
            name,
            replicas,
            image: image.to_string(),
            literal,
            port,
        })
}

fn overlay() -> impl Strategy<Value = Overlay> {
    (
        (
            proptest::option::of(name()),
            proptest::option::of("[a-z]{1,4}-"),
            proptest::option::of("-[a-z]{1,4}"),
            proptest::collection::vec((name(), "[a-z0-9]{0,6}"), 0..3),
            any::<bool>(),
            proptest::collection::vec(("[a-z.]{1,8}/[a-z]{1,6}", "[ -~]{0,30}"), 0..2),
        ),
        (
            proptest::option::of("[0-9]\\.[0-9]{1,2}"),
            any::<bool>(),
            proptest::option::of(1u8..9),
            proptest::option::of("[a-z]{1,8}"),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (namespace, prefix, suffix, labels, label_selectors, annotations),
                (new_tag, json_patch, smp_replicas, merge_literal, secret, disable_hash, fifo),
            )| Overlay {
                namespace,
                prefix,
                suffix,
                labels,
                label_selectors,
                annotations,
                new_tag,
                json_patch,
                smp_replicas,
                merge_literal,
                secret,
                disable_hash,
                fifo,
            },
        )
}

fn q(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn write(root: &Path, apps: &[App], o: &Overlay) {
    let w = |p: PathBuf, s: String| {
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, s).expect("write");
    };
    let mut res = String::new();
    let mut gens = String::new();
    for a in apps {
        let n = &a.name;
        w(
            root.join(format!("base/{n}.yaml")),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {n}\n  labels:\n    app: {n}\nspec:\n  replicas: {r}\n  selector:\n    matchLabels:\n      app: {n}\n  template:\n    metadata:\n      labels:\n        app: {n}\n    spec:\n      serviceAccountName: {n}\n      containers:\n      - name: main\n        image: {img}:1.0\n        envFrom:\n        - configMapRef:\n            name: {n}-cfg\n        volumeMounts:\n        - name: secret\n          mountPath: /etc/secret\n      volumes:\n      - name: secret\n        secret:\n          secretName: {n}-sec\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {n}\nspec:\n  selector:\n    app: {n}\n  ports:\n  - port: {p}\n    targetPort: 8080\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {n}\n",
                r = a.replicas,
                img = a.image,
                p = a.port
            ),
        );
        res.push_str(&format!("- {n}.yaml\n"));
        gens.push_str(&format!(
            "- name: {n}-cfg\n  literals:\n  - VALUE={}\n",
            q(&a.literal)
        ));
    }
    let mut secrets = String::new();
    for a in apps {
        secrets.push_str(&format!(
            "- name: {}-sec\n  literals:\n  - token={}\n",
            a.name,
            q(&a.literal)
        ));
    }
    w(
        root.join("base/kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{res}configMapGenerator:\n{gens}secretGenerator:\n{secrets}"
        ),
    );
    let mut k = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\n",
    );
    if let Some(ns) = &o.namespace {
        k.push_str(&format!("namespace: {ns}\n"));
    }
    if let Some(p) = &o.prefix {
        k.push_str(&format!("namePrefix: {p}\n"));
    }
    if let Some(s) = &o.suffix {
        k.push_str(&format!("nameSuffix: {s}\n"));
    }
    if !o.labels.is_empty() {
        k.push_str(&format!(
            "labels:\n- includeSelectors: {}\n  pairs:\n",
            o.label_selectors
        ));
        for (a, b) in &o.labels {
            k.push_str(&format!("    {a}: {}\n", q(b)));
        }
    }
    if !o.annotations.is_empty() {
        k.push_str("commonAnnotations:\n");
        for (a, b) in &o.annotations {
            k.push_str(&format!("  {a}: {}\n", q(b)));
        }
    }
    if let Some(t) = &o.new_tag {
        k.push_str(&format!("images:\n- name: nginx\n  newTag: {}\n- name: ghcr.io/org/web\n  newName: registry.local/web\n", q(t)));
    }
    let mut patches = String::new();
    if o.json_patch {
        patches.push_str("- target:\n    kind: Deployment\n  patch: |-\n    - op: add\n      path: /spec/template/metadata/annotations\n      value:\n        patched: \"true\"\n");
    }
    if let Some(r) = o.smp_replicas {
        let first = &apps[0].name;
        patches.push_str(&format!("- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: {first}\n    spec:\n      replicas: {r}\n      template:\n        spec:\n          containers:\n          - name: main\n            env:\n            - name: EXTRA\n              value: x\n"));
    }
    if !patches.is_empty() {
        k.push_str("patches:\n");
        k.push_str(&patches);
    }
    if let Some(l) = &o.merge_literal {
        k.push_str(&format!(
            "configMapGenerator:\n- name: {}-cfg\n  behavior: merge\n  literals:\n  - EXTRA={l}\n",
            apps[0].name
        ));
    }
    if o.secret {
        k.push_str("secretGenerator:\n- name: overlay-secret\n  literals:\n  - password=s3cr3t\n  type: Opaque\n");
    }
    if o.disable_hash {
        k.push_str(
            "generatorOptions:\n  disableNameSuffixHash: true\n  labels:\n    generated: \"yes\"\n",
        );
    }
    if o.fifo {
        k.push_str("sortOptions:\n  order: fifo\n");
    }
    w(root.join("overlay/kustomization.yaml"), k);
}

fn unique(apps: Vec<App>) -> Vec<App> {
    let mut seen = std::collections::HashSet::new();
    apps.into_iter()
        .filter(|a| seen.insert(a.name.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn same_output_as_kubectl_kustomize(apps in proptest::collection::vec(app(), 1..4), o in overlay()) {
        let Some(kubectl) = kubectl() else {
            eprintln!("kubectl not found: skipping the comparison with kubectl kustomize");
            return Ok(());
        };
        let apps = unique(apps);
        let tmp = tempfile::tempdir().expect("tempdir");
        write(tmp.path(), &apps, &o);
        let dir = tmp.path().join("overlay");
        let theirs = Command::new(&kubectl).arg("kustomize").arg(&dir).output().expect("run kubectl");
        let ours = ferry_kustomize::build(&dir, &ferry_kustomize::BuildOptions::default());
        if theirs.status.success() {
            let ours = ours.map_err(|e| TestCaseError::fail(format!("ferry failed: {e}")))?;
            let text = ferry_kustomize::to_yaml(&ours);
            prop_assert_eq!(text, String::from_utf8_lossy(&theirs.stdout).into_owned());
        } else {
            prop_assert!(ours.is_err(), "kubectl failed ({}) but ferry built it", String::from_utf8_lossy(&theirs.stderr));
        }
    }
}
