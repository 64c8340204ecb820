#![allow(clippy::unwrap_used)]
//! kubectl 1.33 (and 1.32) end to end against the embedded API server: every verb of the issue,
//! judged by a client nobody here wrote.

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use ferry_test::apiserver::TestApiServer;

const KUBECTL_133: &str = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn new(bin: &str, kubeconfig: &Path) -> Self {
        assert!(
            Path::new(bin).exists(),
            "{bin} is required by this test (kubectl 1.33 from the google-cloud-sdk packages)"
        );
        // A private cache dir: discovery and OpenAPI caches from other servers on the same port must not leak in.
        Self {
            bin: bin.into(),
            kubeconfig: kubeconfig.to_owned(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        let cache = self.kubeconfig.with_file_name("kube-cache");
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", cache)
            .env("HOME", self.kubeconfig.parent().unwrap())
            .args(args);
        cmd
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        self.ok_stdin(args, None)
    }

    fn ok_stdin(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and expects failure; returns stderr.
    fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            !out.status.success(),
            "kubectl {args:?} should fail but printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut full = args.to_vec();
        full.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&full)).unwrap()
    }
}

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: e2e
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
"#;

const CONFIG: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: e2e
data:
  color: blue
  size: small
"#;

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        description: A widget for tests.
        properties:
          spec:
            type: object
            description: What the widget should be.
            properties:
              size: {type: integer, description: How big the widget is.}
              color: {type: string}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
"#;

fn scenario(k: &Kubectl) {
    // Discovery.
    let resources = k.ok(&["api-resources"]);
    for expected in [
        "deployments",
        "deploy",
        "apps/v1",
        "customresourcedefinitions",
        "horizontalpodautoscalers",
        "leases",
    ] {
        assert!(
            resources.contains(expected),
            "api-resources lacks {expected}:\n{resources}"
        );
    }
    assert!(k.ok(&["api-versions"]).contains("networking.k8s.io/v1"));
    assert!(k.ok(&["version"]).contains("Server Version: v1.35"));

    k.ok(&["create", "namespace", "e2e"]);

    // Client-side apply: create, then no change, then a change.
    let applied = k.ok_stdin(&["apply", "-f", "-"], Some(DEPLOYMENT));
    assert!(applied.contains("deployment.apps/web created"), "{applied}");
    let again = k.ok_stdin(&["apply", "-f", "-"], Some(DEPLOYMENT));
    assert!(again.contains("unchanged"), "{again}");
    let changed = DEPLOYMENT.replace("nginx:1.27", "nginx:1.28");
    assert!(
        k.ok_stdin(&["apply", "-f", "-"], Some(&changed))
            .contains("configured")
    );

    // Rollout and wait see the simulated status.
    k.ok(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "e2e",
        "--timeout=60s",
    ]);
    k.ok(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "-n",
        "e2e",
        "--timeout=60s",
    ]);
    let deploy = k.json(&["get", "deployment", "web", "-n", "e2e"]);
    assert_eq!(deploy["status"]["availableReplicas"], 2);
    assert_eq!(deploy["metadata"]["generation"], 2);
    let yaml = k.ok(&["get", "deploy", "web", "-n", "e2e", "-o", "yaml"]);
    assert!(
        yaml.contains("image: nginx:1.28")
            && yaml.contains("kubectl.kubernetes.io/last-applied-configuration"),
        "{yaml}"
    );
    let table = k.ok(&["get", "deploy", "-n", "e2e"]);
    assert!(table.contains("READY") && table.contains("2/2"), "{table}");

    // Scale through the scale subresource.
    k.ok(&["scale", "deployment/web", "-n", "e2e", "--replicas=3"]);
    k.ok(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "e2e",
        "--timeout=60s",
    ]);
    assert_eq!(
        k.json(&["get", "deploy", "web", "-n", "e2e"])["status"]["readyReplicas"],
        3
    );

    // Server-side apply: conflict with another manager, then --force-conflicts.
    k.ok_stdin(
        &[
            "apply",
            "--server-side",
            "--field-manager=team-a",
            "-f",
            "-",
        ],
        Some(CONFIG),
    );
    let other = CONFIG.replace("blue", "red");
    let conflict = k.fails(
        &[
            "apply",
            "--server-side",
            "--field-manager=team-b",
            "-f",
            "-",
        ],
        Some(&other),
    );
    assert!(
        conflict.contains("conflict")
            && conflict.contains("team-a")
            && conflict.contains(".data.color"),
        "{conflict}"
    );
    k.ok_stdin(
        &[
            "apply",
            "--server-side",
            "--field-manager=team-b",
            "--force-conflicts",
            "-f",
            "-",
        ],
        Some(&other),
    );
    let cm = k.json(&[
        "get",
        "configmap",
        "settings",
        "-n",
        "e2e",
        "--show-managed-fields",
    ]);
    assert_eq!(cm["data"]["color"], "red");
    let managers: Vec<&str> = cm["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap())
        .collect();
    assert!(
        managers.contains(&"team-a") && managers.contains(&"team-b"),
        "{managers:?}"
    );

    // diff: exit 1 with a diff when the manifest differs, 0 when not.
    let diff = k.run(&["diff", "-f", "-"], Some(&other.replace("small", "large")));
    assert_eq!(
        diff.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(
        text.contains("-  size: small") && text.contains("+  size: large"),
        "{text}"
    );

    // label, annotate, and the three patch types.
    k.ok(&[
        "label",
        "configmap",
        "settings",
        "-n",
        "e2e",
        "tier=backend",
    ]);
    k.ok(&[
        "annotate",
        "configmap",
        "settings",
        "-n",
        "e2e",
        "note=hello",
    ]);
    k.ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "e2e",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"extra":"1"}}"#,
    ]);
    k.ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "e2e",
        "--type",
        "json",
        "-p",
        r#"[{"op":"remove","path":"/data/size"}]"#,
    ]);
    k.ok(&["patch", "deployment", "web", "-n", "e2e", "--type", "strategic", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}"#]);
    let cm = k.json(&["get", "cm", "settings", "-n", "e2e"]);
    assert_eq!(cm["metadata"]["labels"]["tier"], "backend");
    assert_eq!(cm["metadata"]["annotations"]["note"], "hello");
    assert_eq!(
        cm["data"],
        serde_json::json!({"color": "red", "extra": "1"})
    );
    let containers = k.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "e2e",
        "-o",
        "jsonpath={.spec.template.spec.containers[*].name}",
    ]);
    assert_eq!(
        containers, "sidecar nginx",
        "patch items come first, as kubectl patch --local orders them"
    );
    let selected = k.ok(&[
        "get",
        "cm",
        "-n",
        "e2e",
        "-l",
        "tier in (backend)",
        "-o",
        "name",
    ]);
    assert_eq!(selected.trim(), "configmap/settings");

    // get --watch sees a change as it happens.
    let mut watch = k
        .command(&[
            "get",
            "configmaps",
            "-n",
            "e2e",
            "--watch",
            "--output-watch-events",
            "-o",
            "name",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    let Some(Ok(first)) = lines.next() else {
        let out = watch.wait_with_output().unwrap();
        panic!(
            "kubectl get --watch ended at once: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    assert!(first.starts_with("configmap/"), "{first}");
    k.ok(&[
        "create",
        "configmap",
        "watched",
        "-n",
        "e2e",
        "--from-literal=a=b",
    ]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut saw = false;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if line.contains("configmap/watched") {
            saw = true;
            break;
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(saw, "the watch saw configmap/watched being added");

    // explain reads the OpenAPI v3 documents.
    let explain = k.ok(&["explain", "deployment.spec.replicas"]);
    assert!(explain.contains("Number of desired pods"), "{explain}");

    // A CRD, established, explained, and a custom resource with printer columns.
    k.ok_stdin(&["apply", "-f", "-"], Some(CRD));
    k.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=30s",
    ]);
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: e2e}\nspec: {size: 3, color: green}\n";
    let created = k.ok_stdin(&["apply", "-f", "-"], Some(widget));
    assert!(
        created.contains("widget.example.com/w1 created"),
        "{created}"
    );
    let widgets = k.ok(&["get", "wd", "-n", "e2e"]);
    assert!(
        widgets.contains("SIZE") && widgets.contains('3'),
        "{widgets}"
    );
    let explain = k.ok(&["explain", "widgets.spec.size"]);
    assert!(explain.contains("How big the widget is"), "{explain}");
    k.ok_stdin(
        &["apply", "--server-side", "-f", "-"],
        Some(&widget.replace("size: 3", "size: 4")),
    );
    assert_eq!(
        k.json(&["get", "widget", "w1", "-n", "e2e"])["spec"]["size"],
        4
    );

    // Delete with a finalizer: held until the finalizer is removed.
    k.ok(&["create", "configmap", "held", "-n", "e2e"]);
    k.ok(&[
        "patch",
        "configmap",
        "held",
        "-n",
        "e2e",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
    ]);
    k.ok(&["delete", "configmap", "held", "-n", "e2e", "--wait=false"]);
    let held = k.json(&["get", "cm", "held", "-n", "e2e"]);
    assert!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    k.ok(&[
        "patch",
        "configmap",
        "held",
        "-n",
        "e2e",
        "--type",
        "json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]);
    let gone = k.fails(&["get", "cm", "held", "-n", "e2e"], None);
    assert!(
        gone.contains("NotFound") || gone.contains("not found"),
        "{gone}"
    );

    // Namespace deletion cascades to its content and waits for it.
    k.ok(&["delete", "namespace", "e2e", "--timeout=60s"]);
    let gone = k.fails(&["get", "namespace", "e2e"], None);
    assert!(gone.contains("not found"), "{gone}");
    let left = k.ok(&["get", "widgets", "-A", "-o", "name"]);
    assert!(left.trim().is_empty(), "{left}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_33_scenario() {
    let server = TestApiServer::start().await;
    let kubectl = Kubectl::new(KUBECTL_133, server.kubeconfig_path());
    tokio::task::block_in_place(|| scenario(&kubectl));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_32_scenario() {
    let server = TestApiServer::start().await;
    let kubectl = Kubectl::new("/usr/bin/kubectl", server.kubeconfig_path());
    tokio::task::block_in_place(|| scenario(&kubectl));
}
