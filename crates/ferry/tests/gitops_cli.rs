#![allow(clippy::unwrap_used)]
//! The GitOps verbs of the `ferry` binary (install, create kustomization, build, diff, tree,
//! events, export) run as a user runs them, against the embedded API server with ferry's CRDs
//! and, where objects must be reconciled, the controllers running in-process.

mod common;

use common::{Env, ferry, ferry_on, write};
use ferry_test::apiserver::TestApiServer;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use serde_json::{Value, json};

fn docs(yaml: &str) -> Vec<Value> {
    ferry_yaml::from_str_multi(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

fn kinds(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn install_export_prints_the_crds_and_the_controller() {
    let run = ferry(&[
        "install",
        "--export",
        "-n",
        "gitops",
        "--image",
        "registry.example/ferry:test",
    ])
    .await
    .expect_code(0);
    let objects = docs(&run.stdout);
    assert!(run.stdout.starts_with("---\n"));
    assert_eq!(
        kinds(&objects),
        [
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "ClusterRoleBinding",
            "Service",
            "Service",
            "Deployment"
        ]
    );
    // Compared as typed CRDs: YAML prints a float `minimum: 0.0` as `0`, the same number.
    for (printed, generated) in objects.iter().zip(ferry_api::crd::all()) {
        let printed: CustomResourceDefinition = serde_json::from_value(printed.clone()).unwrap();
        assert_eq!(printed.spec, generated.spec);
    }
    let deployment = &objects[10];
    assert_eq!(deployment["metadata"]["namespace"], "gitops");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "registry.example/ferry:test");
    assert_eq!(container["args"][0], "controller");
    assert_eq!(objects[3]["metadata"]["name"], "gitops");
    assert_eq!(
        objects[6]["subjects"][0],
        json!({"kind": "ServiceAccount", "name": "ferry-controller", "namespace": "gitops"})
    );

    let bad = ferry(&["install", "--export", "--timeout", "soon"])
        .await
        .expect_code(2);
    assert!(bad.stderr.contains("--timeout"), "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn install_applies_everything_and_waits_for_the_controller() {
    let server = TestApiServer::start().await;
    let run = ferry_on(&server, &["install", "--timeout", "1m"])
        .await
        .expect_code(0);
    for line in [
        "► installing components in flux-system namespace",
        "CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io created",
        "CustomResourceDefinition/kustomizations.kustomize.toolkit.fluxcd.io created",
        "Namespace/flux-system created",
        "ClusterRole/ferry-controller created",
        "Deployment/flux-system/ferry-controller created",
        "Service/flux-system/source-controller created",
        "✔ ferry-controller: deployment ready",
        "✔ install finished",
    ] {
        assert!(
            run.stdout.lines().any(|l| l == line),
            "missing {line:?} in\n{}",
            run.stdout
        );
    }
    let client = server.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = crds
        .get("kustomizations.kustomize.toolkit.fluxcd.io")
        .await
        .unwrap();
    assert!(
        crd.status
            .unwrap()
            .conditions
            .unwrap()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
    );
    let deployment = common::dynamic_api(&client, "apps/v1", "Deployment", Some("flux-system"))
        .get("ferry-controller")
        .await
        .unwrap();
    let deployment = serde_json::to_value(deployment).unwrap();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["serviceAccountName"],
        "ferry-controller"
    );
    let role = common::dynamic_api(&client, "rbac.authorization.k8s.io/v1", "ClusterRole", None)
        .get("ferry-controller")
        .await
        .unwrap();
    let role = serde_json::to_value(role).unwrap();
    assert!(
        role["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["resources"][0] == "kustomizations")
    );

    // A second install changes nothing.
    let again = ferry_on(&server, &["install", "--timeout", "1m"])
        .await
        .expect_code(0);
    assert!(
        again
            .stdout
            .contains("Deployment/flux-system/ferry-controller unchanged"),
        "{}",
        again.stdout
    );
    assert!(!again.stdout.contains(" created"), "{}", again.stdout);

    // A controller that cannot start is reported, naming it.
    let failing = ferry_on(
        &server,
        &[
            "install",
            "-n",
            "broken",
            "--image",
            "registry.example/ferry:fail",
            "--timeout",
            "10s",
        ],
    )
    .await
    .expect_code(1);
    assert!(
        failing.stderr.contains("ferry-controller"),
        "{}",
        failing.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_kustomization_export_prints_what_flux_prints() {
    let run = ferry(&[
        "create",
        "kustomization",
        "podinfo",
        "--source",
        "podinfo",
        "--path",
        "./kustomize",
        "--prune",
        "--target-namespace",
        "default",
        "--export",
    ])
    .await
    .expect_code(0);
    assert_eq!(
        run.stdout,
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: podinfo\n  namespace: flux-system\n\
         spec:\n  interval: 1m0s\n  path: ./kustomize\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: podinfo\n  \
         targetNamespace: default\n"
    );
    let run = ferry(&[
        "create",
        "ks",
        "apps",
        "-n",
        "tenants",
        "--source",
        "GitRepository/fleet.infra",
        "--wait",
        "--interval",
        "10m",
        "--depends-on",
        "infra/base",
        "--service-account",
        "deployer",
        "--health-check-timeout",
        "3m",
        "--export",
    ])
    .await
    .expect_code(0);
    let ks = &docs(&run.stdout)[0];
    assert_eq!(
        ks["spec"],
        json!({"dependsOn": [{"name": "base", "namespace": "infra"}], "interval": "10m0s", "path": "./", "prune": false,
               "serviceAccountName": "deployer", "sourceRef": {"kind": "GitRepository", "name": "fleet", "namespace": "infra"},
               "timeout": "3m0s", "wait": true})
    );

    let bad = ferry(&[
        "create",
        "kustomization",
        "a",
        "--source",
        "HelmChart/x",
        "--export",
    ])
    .await
    .expect_code(1);
    assert!(
        bad.stderr
            .contains("source kind \"HelmChart\" is not supported"),
        "{}",
        bad.stderr
    );
    let bad = ferry(&[
        "create",
        "kustomization",
        "a",
        "--source",
        "x",
        "--interval",
        "often",
        "--export",
    ])
    .await
    .expect_code(2);
    assert!(bad.stderr.contains("--interval"), "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn create_kustomization_applies_it_and_waits_for_its_reconcile() {
    let env = Env::start().await;
    env.repo.write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n  namespace: default\ndata:\n  k: v\n");
    env.repo.commit("app");
    env.create_git_repository("repo").await;
    let run = env
        .ferry(&[
            "create",
            "kustomization",
            "app",
            "--source",
            "repo",
            "--path",
            "./app",
            "--prune",
            "--timeout",
            "1m",
        ])
        .await
        .expect_code(0);
    for line in [
        "✚ generating Kustomization",
        "► applying Kustomization",
        "✔ Kustomization created",
    ] {
        assert!(run.stdout.contains(line), "{}", run.stdout);
    }
    assert!(
        run.stdout.contains("✔ applied revision main@sha1:"),
        "{}",
        run.stdout
    );
    assert!(
        env.get("v1", "ConfigMap", Some("default"), "hello")
            .await
            .is_some()
    );
    let ks = env
        .get(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            Some("flux-system"),
            "app",
        )
        .await
        .unwrap();
    assert_eq!(ks["spec"]["path"], "./app");
    assert_eq!(ks["spec"]["interval"], "1m0s");

    // A path the source does not hold: the controller keeps retrying (the path may come with
    // the next revision), so the command waits out its timeout and says why it is not ready.
    let failed = env
        .ferry(&[
            "create",
            "kustomization",
            "missing",
            "--source",
            "repo",
            "--path",
            "./nowhere",
            "--timeout",
            "5s",
        ])
        .await
        .expect_code(1);
    assert!(failed.stderr.contains("nowhere"), "{}", failed.stderr);
    env.stop().await;
}

/// The repository of the scenario: a Kustomization `apps` applying a namespace, two
/// ConfigMaps (one with substituted variables), a Secret and a child Kustomization.
fn write_apps(env: &Env) {
    env.repo.write(
        "deploy/namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
    );
    env.repo.write(
        "deploy/web.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: apps\ndata:\n  greeting: ${greeting}\n  env: ${env:=dev}\n  version: v1\n",
    );
    env.repo.write("deploy/old.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n  namespace: apps\ndata:\n  k: v\n");
    env.repo.write(
        "deploy/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: apps\ntype: Opaque\ndata:\n  password: c2VjcmV0LW9uZQ==\n  user: YWRtaW4=\n",
    );
    env.repo.write(
        "deploy/child.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: child\n  namespace: flux-system\nspec:\n  interval: 1m\n  path: ./child\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: repo\n",
    );
    env.repo.write("child/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: child-cm\n  namespace: apps\ndata:\n  k: v\n");
    env.repo.commit("apps");
}

async fn start_apps() -> Env {
    let env = Env::start().await;
    write_apps(&env);
    env.create_git_repository("repo").await;
    let vars = common::dynamic_api(&env.client, "v1", "ConfigMap", Some("flux-system"));
    let cm = serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "vars", "namespace": "flux-system"}, "data": {"env": "prod"}}))
    .unwrap();
    vars.create(&Default::default(), &cm).await.unwrap();
    env.create_kustomization(
        "apps",
        json!({"interval": "1m", "path": "./deploy", "prune": true,
               "postBuild": {"substitute": {"greeting": "hello"}, "substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]}}),
    )
    .await;
    env.wait_ready("apps").await;
    env.wait_ready("child").await;
    env
}

/// Whether `live` holds every field of `built` with the same value.
fn contains(live: &Value, built: &Value) -> bool {
    match (live, built) {
        (Value::Object(l), Value::Object(b)) => b
            .iter()
            .all(|(k, v)| l.get(k).is_some_and(|lv| contains(lv, v))),
        _ => live == built,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn build_diff_tree_events_and_export_on_a_reconciled_kustomization() {
    let env = start_apps().await;
    let deploy = env.repo.dir.join("deploy");
    let deploy = deploy.to_str().unwrap();

    // build: what the controller applied, field for field (substitution and owner labels included).
    let built = env
        .ferry(&["build", "kustomization", "apps", "--path", deploy])
        .await
        .expect_code(0);
    let objects = docs(&built.stdout);
    assert_eq!(objects.len(), 5, "{}", built.stdout);
    let web = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "web")
        .unwrap();
    assert_eq!(
        web["data"],
        json!({"greeting": "hello", "env": "prod", "version": "v1"})
    );
    for obj in &objects {
        assert_eq!(
            obj["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"],
            "apps"
        );
        let live = env
            .get(
                obj["apiVersion"].as_str().unwrap(),
                obj["kind"].as_str().unwrap(),
                obj["metadata"]["namespace"].as_str(),
                obj["metadata"]["name"].as_str().unwrap(),
            )
            .await
            .unwrap();
        assert!(
            contains(&live, obj),
            "the cluster holds something else than the build of {obj}\nlive: {live}"
        );
    }

    // build --dry-run: the Kustomization from a file, substituteFrom left out.
    let file = env.dir.path().join("apps-ks.yaml");
    write(
        &file,
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  interval: 5m\n  prune: true\n  targetNamespace: staging\n  sourceRef:\n    kind: GitRepository\n    name: repo\n  postBuild:\n    substitute:\n      greeting: hi\n    substituteFrom:\n    - kind: ConfigMap\n      name: vars\n",
    );
    let file = file.to_str().unwrap();
    let dry = ferry(&[
        "build",
        "ks",
        "apps",
        "--path",
        deploy,
        "--kustomization-file",
        file,
        "--dry-run",
    ])
    .await
    .expect_code(0);
    let dry_web = docs(&dry.stdout)
        .into_iter()
        .find(|o| o["metadata"]["name"] == "web")
        .unwrap();
    assert_eq!(
        dry_web["data"],
        json!({"greeting": "hi", "env": "dev", "version": "v1"})
    );
    assert_eq!(dry_web["metadata"]["namespace"], "staging");
    let refused = ferry(&["build", "ks", "apps", "--path", deploy, "--dry-run"])
        .await
        .expect_code(1);
    assert!(
        refused.stderr.contains("--kustomization-file"),
        "{}",
        refused.stderr
    );
    let unknown = env
        .ferry(&["build", "kustomization", "nope", "--path", deploy])
        .await
        .expect_code(1);
    assert!(
        unknown
            .stderr
            .contains("Kustomization flux-system/nope not found"),
        "{}",
        unknown.stderr
    );

    // diff of what is applied: nothing.
    let same = env
        .ferry(&["diff", "kustomization", "apps", "--path", deploy])
        .await
        .expect_code(0);
    assert_eq!(same.stdout, "", "{}", same.stderr);

    // diff of a changed copy: drift, creation, deletion, and a Secret shown masked.
    let local = env.dir.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    for entry in std::fs::read_dir(deploy).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), local.join(entry.file_name())).unwrap();
    }
    std::fs::remove_file(local.join("old.yaml")).unwrap();
    let web_yaml = std::fs::read_to_string(local.join("web.yaml")).unwrap();
    write(
        &local.join("web.yaml"),
        &web_yaml.replace("version: v1", "version: v2"),
    );
    let secret = std::fs::read_to_string(local.join("secret.yaml")).unwrap();
    write(
        &local.join("secret.yaml"),
        &secret.replace("c2VjcmV0LW9uZQ==", "c2VjcmV0LXR3bw=="),
    );
    write(
        &local.join("new.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n  namespace: apps\n",
    );
    let local = local.to_str().unwrap();
    let changed = env
        .ferry(&["diff", "ks", "apps", "--path", local])
        .await
        .expect_code(1);
    let out = &changed.stdout;
    for line in [
        "► ConfigMap/apps/web drifted",
        "-  version: v1",
        "+  version: v2",
        "► Secret/apps/creds drifted",
        "-  password: '*** (before)'",
        "+  password: '*** (after)'",
        "► ConfigMap/apps/new created",
        "► ConfigMap/apps/old deleted",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
    for secret_text in ["c2VjcmV0", "YWRtaW4", "secret-one", "secret-two", "admin"] {
        assert!(!out.contains(secret_text), "a Secret value shows in\n{out}");
    }
    assert!(
        !out.contains("child"),
        "the unchanged child Kustomization shows in\n{out}"
    );
    let colored = env
        .ferry(&["diff", "ks", "apps", "--path", local, "--color", "always"])
        .await
        .expect_code(1);
    assert!(
        colored
            .stdout
            .contains("\x1b[1m► ConfigMap/apps/web drifted\x1b[0m"),
        "{}",
        colored.stdout
    );
    assert!(
        colored.stdout.contains("\x1b[32m+  version: v2\x1b[0m"),
        "{}",
        colored.stdout
    );
    let error = env
        .ferry(&["diff", "ks", "apps", "--path", "/nonexistent/dir"])
        .await
        .expect_code(2);
    assert!(
        error.stderr.contains("/nonexistent/dir"),
        "{}",
        error.stderr
    );
    env.ferry(&["diff", "ks", "nope", "--path", local])
        .await
        .expect_code(2);

    // tree: the inventory, with the child Kustomization's own inventory below it.
    let tree = env
        .ferry(&["tree", "kustomization", "apps"])
        .await
        .expect_code(0);
    let lines: Vec<&str> = tree.stdout.lines().collect();
    assert_eq!(
        lines[0], "Kustomization/flux-system/apps",
        "{}",
        tree.stdout
    );
    for object in [
        "Namespace/apps",
        "ConfigMap/apps/web",
        "ConfigMap/apps/old",
        "Secret/apps/creds",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| *l == format!("├── {object}") || *l == format!("└── {object}")),
            "missing {object} in\n{}",
            tree.stdout
        );
    }
    let child = lines
        .iter()
        .position(|l| l.ends_with("── Kustomization/flux-system/child"))
        .unwrap();
    let nested = if lines[child].starts_with('└') {
        "    └── ConfigMap/apps/child-cm"
    } else {
        "│   └── ConfigMap/apps/child-cm"
    };
    assert_eq!(lines[child + 1], nested, "{}", tree.stdout);
    assert_eq!(lines.len(), 7, "{}", tree.stdout);
    let json_tree = env
        .ferry(&["tree", "ks", "apps", "-o", "json"])
        .await
        .expect_code(0);
    let json_tree: Value = serde_json::from_str(&json_tree.stdout).unwrap();
    assert_eq!(json_tree["resource"]["Name"], "apps");
    assert_eq!(json_tree["resources"].as_array().unwrap().len(), 5);
    let compact = env
        .ferry(&["tree", "ks", "apps", "--compact"])
        .await
        .expect_code(0);
    assert_eq!(
        compact.stdout,
        "Kustomization/flux-system/apps\n└── Kustomization/flux-system/child\n"
    );
    let missing = env.ferry(&["tree", "ks", "nope"]).await.expect_code(1);
    assert!(
        missing
            .stderr
            .contains("Kustomization flux-system/nope not found"),
        "{}",
        missing.stderr
    );

    // events: the reconciles of both Kustomizations and of the source.
    let events = env.ferry(&["events"]).await.expect_code(0);
    let header = events.stdout.lines().next().unwrap();
    assert!(
        header.starts_with("LAST SEEN") && header.contains("TYPE") && header.ends_with("MESSAGE"),
        "{}",
        events.stdout
    );
    for object in [
        "Kustomization/apps",
        "Kustomization/child",
        "GitRepository/repo",
    ] {
        assert!(
            events.stdout.contains(object),
            "no event of {object} in\n{}",
            events.stdout
        );
    }
    let for_apps = env
        .ferry(&["events", "--for", "Kustomization/apps"])
        .await
        .expect_code(0);
    assert!(
        for_apps.stdout.contains("Kustomization/apps"),
        "{}",
        for_apps.stdout
    );
    assert!(
        for_apps.stdout.contains("GitRepository/repo"),
        "{}",
        for_apps.stdout
    );
    assert!(
        !for_apps.stdout.contains("Kustomization/child"),
        "{}",
        for_apps.stdout
    );
    let all = env
        .ferry(&["events", "-A", "--types", "Normal"])
        .await
        .expect_code(0);
    assert!(all.stdout.starts_with("NAMESPACE"), "{}", all.stdout);
    assert!(!all.stdout.contains("Warning"), "{}", all.stdout);
    let bad = env
        .ferry(&["events", "--for", "Deployment/web"])
        .await
        .expect_code(1);
    assert!(bad.stderr.contains("Deployment"), "{}", bad.stderr);

    // export: configuration only, which applies back unchanged.
    let export = env
        .ferry(&["export", "kustomization", "apps"])
        .await
        .expect_code(0);
    let exported = docs(&export.stdout);
    assert_eq!(exported.len(), 1);
    assert!(exported[0].get("status").is_none());
    assert_eq!(
        exported[0]["metadata"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["name", "namespace"]
    );
    assert_eq!(
        exported[0]["spec"]["postBuild"]["substitute"],
        json!({"greeting": "hello"})
    );
    let all_ks = env.ferry(&["export", "ks", "--all"]).await.expect_code(0);
    assert_eq!(docs(&all_ks.stdout).len(), 2);
    let git = env
        .ferry(&["export", "source", "git", "repo"])
        .await
        .expect_code(0);
    assert_eq!(docs(&git.stdout)[0]["spec"]["url"], json!(env.repo.url()));
    let nope = env.ferry(&["export", "ks", "nope"]).await.expect_code(1);
    assert!(
        nope.stderr
            .contains("Kustomization flux-system/nope not found"),
        "{}",
        nope.stderr
    );
    env.ferry(&["export", "ks"]).await.expect_code(2);

    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn verbs_that_need_a_cluster_fail_cleanly_without_one() {
    let empty = tempfile::tempdir().unwrap();
    let kubeconfig = empty.path().join("missing-kubeconfig");
    let kubeconfig = kubeconfig.to_str().unwrap();
    for argv in [
        &["tree", "ks", "apps"][..],
        &["events"],
        &["export", "ks", "--all"],
        &["install"],
    ] {
        let mut all = argv.to_vec();
        all.extend(["--kubeconfig", kubeconfig]);
        let run = ferry(&all).await.expect_code(1);
        assert!(
            run.stderr.contains("missing-kubeconfig"),
            "{argv:?}: {}",
            run.stderr
        );
    }
    let run = ferry(&[
        "diff",
        "ks",
        "apps",
        "--path",
        ".",
        "--kubeconfig",
        kubeconfig,
    ])
    .await
    .expect_code(2);
    assert!(run.stderr.contains("missing-kubeconfig"), "{}", run.stderr);
}
