//! The GitOps loop at scale, as Flux's MTTP benchmark measures it: 1000 Kustomizations of a
//! podinfo-like app (Deployment, Service, HPA, ConfigMap, ServiceAccount; wait and prune on) on
//! the embedded control plane, reconciled by a separate `ferry controller` process.
//! Prints: time until all are Ready, the controller's peak RSS, commit→applied and
//! edit→corrected latencies (p50/p95). Each commit is announced to a generic webhook Receiver,
//! as a git host's push hook would, so the GitRepository fetches it at once (its poll interval
//! is 10 minutes, as Flux advises with receivers).
//!
//! Flux cannot run on this machine (no kube-apiserver, no container runtime), so its figures
//! are the published ones (flux-benchmark RESULTS.md, v2.9.0, 1000 Kustomizations: 4m13s and
//! 223 MiB on a 16-core runner), printed beside ours for the ratio.
//!
//! The peer measured in the same run is kubectl 1.33 (what Argo CD's sync runs): the same 5000
//! objects, already rendered, applied with `kubectl apply --server-side` to a fresh embedded API
//! server and waited for with `kubectl wait --for=condition=Available`. It does less than the
//! loop (no fetch, no build, no inventory, no prune), so it is a floor for an apply pipeline.
//! kubectl is `$KUBECTL`, else /usr/lib/google-cloud-sdk/bin/kubectl.1.33.
//!
//! `cargo bench -p ferry --bench gitops_loop [-- COUNT]` (default 1000). `FERRY_BENCH_CONCURRENT`
//! sets the controller's `--concurrent` (default 50); `FERRY_BENCH_NO_PEER=1` skips kubectl
//! (for quick runs while tuning; the ratio is then not printed); `FERRY_BENCH_CONTROLLER_LOG=1`
//! passes the controller's log (`FERRY_LOG`) through to stderr; `FERRY_BENCH_FERRY=PATH` runs
//! that ferry binary as the controller instead of this build's (to compare two builds, whose
//! benchmark binaries hold their API servers, in alternating runs).

// A benchmark program: it unwraps what must work and prints its report.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use ferry_api::{Kustomization, condition};
use ferry_apiserver::{ApiServer, SimulationConfig};
use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{
    Api, Client,
    api::{DynamicObject, ListParams, Patch, PatchParams, PostParams},
    core::{ApiResource, GroupVersionKind},
};
use serde_json::json;

const FLUX_SECONDS: f64 = 253.0;
const KUBECTL: &str = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
const FLUX_MIB: f64 = 223.0;
/// How many one-app commits are timed.
const ONE_APP_COMMITS: usize = 10;

/// Tells on stderr which phase starts, so that a profiler can be attached to one of them.
#[allow(clippy::print_stderr)]
fn phase(name: &str) {
    eprintln!("gitops_loop: {name}");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The app's files: a ServiceAccount, Deployment, Service, HPA and ConfigMap, as in Flux's
/// benchmark. `{message}` is replaced in the ConfigMap.
const APP_FILES: [(&str, &str); 5] = [
    (
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: podinfo\n",
    ),
    (
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo\ndata:\n  message: \"{message}\"\n",
    ),
    (
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\nspec:\n  selector:\n    app: podinfo\n  ports:\n  - port: 9898\n    targetPort: 9898\n",
    ),
    (
        "hpa.yaml",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: podinfo\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: podinfo\n  minReplicas: 1\n  maxReplicas: 2\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      target:\n        type: Utilization\n        averageUtilization: 90\n",
    ),
    (
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: podinfo\n  template:\n    metadata:\n      labels:\n        app: podinfo\n    spec:\n      serviceAccountName: podinfo\n      containers:\n      - name: podinfo\n        image: ghcr.io/stefanprodan/podinfo:6.7.0\n        ports:\n        - containerPort: 9898\n",
    ),
];

/// The repository: the five files in `base/`, and one overlay per app (`apps/app-NNNN`) that
/// patches its ConfigMap with the app's own value, so that a commit can change one app or all.
fn write_repo(repo: &Path, count: usize, message: &str) {
    let base = repo.join("base");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(
        base.join("kustomization.yaml"),
        "resources: [sa.yaml, deploy.yaml, svc.yaml, hpa.yaml, cm.yaml]\n",
    )
    .unwrap();
    for (file, text) in APP_FILES {
        std::fs::write(base.join(file), text.replace("{message}", message)).unwrap();
    }
    for i in 0..count {
        write_overlay(repo, &app_name(i), "r0");
    }
}

fn app_name(i: usize) -> String {
    format!("app-{i:04}")
}

fn write_overlay(repo: &Path, app: &str, value: &str) {
    let dir = repo.join("apps").join(app);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("kustomization.yaml"),
        format!(
            "resources: [../../base]\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: podinfo\n    data:\n      app: {app}-{value}\n"
        ),
    )
    .unwrap();
}

fn commit(repo: &Path, message: &str) -> String {
    git(repo, &["add", "-A"]);
    git(
        repo,
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@x",
            "commit",
            "-q",
            "-m",
            message,
        ],
    );
    git(repo, &["rev-parse", "HEAD"])
}

fn dynamic(
    client: &Client,
    api_version: &str,
    kind: &str,
    plural: &str,
    ns: Option<&str>,
) -> Api<DynamicObject> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) a process has used so far; `self` for this one.
fn cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, 11 and 12 after the name and state.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// What the tracker reads of a Kustomization. Its watch decodes only these fields and skips
/// the rest unread (spec, inventory, history, managed fields): the benchmark shares the cores
/// with what it measures, so its own work must stay small.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(from = "TrackedWire")]
struct Tracked {
    metadata: ObjectMeta,
    ready: bool,
    last_applied_revision: Option<String>,
}

#[derive(serde::Deserialize)]
struct TrackedWire {
    metadata: TrackedMeta,
    status: Option<TrackedStatus>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrackedMeta {
    name: String,
    namespace: Option<String>,
    resource_version: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrackedStatus {
    #[serde(default)]
    conditions: Vec<TrackedCondition>,
    last_applied_revision: Option<String>,
}

#[derive(serde::Deserialize)]
struct TrackedCondition {
    #[serde(rename = "type")]
    type_: String,
    status: String,
}

impl From<TrackedWire> for Tracked {
    fn from(wire: TrackedWire) -> Self {
        let status = wire.status;
        Self {
            metadata: ObjectMeta {
                name: Some(wire.metadata.name),
                namespace: wire.metadata.namespace,
                resource_version: wire.metadata.resource_version,
                ..ObjectMeta::default()
            },
            ready: status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.type_ == condition::READY && c.status == "True")
            }),
            last_applied_revision: status.and_then(|s| s.last_applied_revision),
        }
    }
}

impl kube::Resource for Tracked {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(dt: &()) -> std::borrow::Cow<'_, str> {
        Kustomization::kind(dt)
    }
    fn group(dt: &()) -> std::borrow::Cow<'_, str> {
        Kustomization::group(dt)
    }
    fn version(dt: &()) -> std::borrow::Cow<'_, str> {
        Kustomization::version(dt)
    }
    fn plural(dt: &()) -> std::borrow::Cow<'_, str> {
        Kustomization::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// When each Kustomization was first seen Ready with the awaited revision applied, from a watch
/// (polling lists of 1000 Kustomizations would load the machine the loop runs on).
#[derive(Default)]
struct Tracker {
    /// Revision suffix awaited ("" for any) and when the wait started.
    target: Option<(String, Instant)>,
    applied: BTreeMap<String, Duration>,
}

impl Tracker {
    fn observe(&mut self, ks: Tracked) {
        let Some((suffix, since)) = &self.target else {
            return;
        };
        let Some(name) = ks.metadata.name else { return };
        if self.applied.contains_key(&name) {
            return;
        }
        let done = ks.ready
            && ks
                .last_applied_revision
                .is_some_and(|r| r.ends_with(suffix.as_str()));
        if done {
            self.applied.insert(name, since.elapsed());
        }
    }
}

type SharedTracker = std::sync::Arc<std::sync::Mutex<Tracker>>;

fn track(kss: Api<Tracked>) -> SharedTracker {
    let tracker = SharedTracker::default();
    let writer = tracker.clone();
    tokio::spawn(async move {
        let mut events = watcher(kss, watcher::Config::default())
            .default_backoff()
            .applied_objects()
            .boxed();
        while let Some(event) = events.next().await {
            if let Ok(ks) = event {
                writer.lock().unwrap().observe(ks);
            }
        }
    });
    tracker
}

/// Starts awaiting `suffix` (the list of Kustomizations already applied is cleared).
fn await_revision(tracker: &SharedTracker, suffix: &str) {
    let mut t = tracker.lock().unwrap();
    t.applied.clear();
    t.target = Some((suffix.to_owned(), Instant::now()));
}

/// A generic webhook Receiver for the benchmark's GitRepository: what a git host calls on push,
/// so that a commit is fetched at once instead of at the next poll.
struct Hook {
    port: u16,
    path: String,
}

impl Hook {
    async fn create(client: &Client, port: u16) -> Self {
        let secrets = dynamic(client, "v1", "Secret", "secrets", Some("flux-system"));
        let secret: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "webhook-token", "namespace": "flux-system"},
            "stringData": {"token": "bench-token"},
        }))
        .unwrap();
        secrets
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
        let receivers = dynamic(
            client,
            "notification.toolkit.fluxcd.io/v1",
            "Receiver",
            "receivers",
            Some("flux-system"),
        );
        let receiver: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
            "metadata": {"name": "bench", "namespace": "flux-system"},
            "spec": {
                "type": "generic",
                "secretRef": {"name": "webhook-token"},
                "resources": [{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "name": "bench"}],
            },
        }))
        .unwrap();
        receivers
            .create(&PostParams::default(), &receiver)
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = receivers.get("bench").await.unwrap();
            if let Some(path) = r.data["status"]["webhookPath"].as_str() {
                return Self {
                    port,
                    path: path.to_owned(),
                };
            }
            assert!(
                Instant::now() < deadline,
                "Receiver not ready: {:?}",
                r.data["status"]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// POSTs the push notification and checks it was accepted.
    async fn push(&self) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let body = "{}";
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.path,
            body.len()
        );
        conn.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        conn.read_to_string(&mut response).await.unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "webhook refused: {response}"
        );
    }
}

/// What the benchmark watches while it waits: the Kustomizations and the controller's RSS.
struct Probe {
    tracker: SharedTracker,
    kss: Api<Kustomization>,
    pid: u32,
    peak_rss: u64,
}

impl Probe {
    /// Waits until `names` are all applied; returns their latencies, sorted.
    async fn wait_applied(&mut self, names: &[String], limit: Duration) -> Vec<Duration> {
        let Self {
            tracker,
            kss,
            pid,
            peak_rss,
        } = self;
        let pid = *pid;
        let started = Instant::now();
        loop {
            *peak_rss = (*peak_rss).max(rss_kib(pid, "VmRSS:"));
            let missing = {
                let t = tracker.lock().unwrap();
                let missing = names.iter().filter(|n| !t.applied.contains_key(*n)).count();
                if missing == 0 {
                    let mut latencies: Vec<Duration> = names.iter().map(|n| t.applied[n]).collect();
                    latencies.sort();
                    return latencies;
                }
                missing
            };
            if started.elapsed() > limit {
                // One list, to say where they stand.
                let sample = kss.list(&ListParams::default()).await.ok().and_then(|l| {
                    l.items
                        .into_iter()
                        .find(|k| names.contains(&k.metadata.name.clone().unwrap_or_default()))
                        .and_then(|k| k.status)
                });
                panic!("{missing} Kustomizations not applied after {limit:?}; one: {sample:?}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench(count));
}

/// An embedded API server like the one the loop runs on, with its kubeconfig and a client.
async fn start_server(
    dir: &Path,
) -> (
    ferry_apiserver::RunningApiServer,
    std::path::PathBuf,
    Client,
) {
    let server = ApiServer::builder()
        .ephemeral()
        .port(0)
        .simulation(SimulationConfig {
            ready_delay: Duration::from_millis(500),
            ..Default::default()
        })
        .start()
        .await
        .expect("embedded API server");
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&kubeconfig).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let client = Client::try_from(config).unwrap();
    (server, kubeconfig, client)
}

async fn create_namespaces(client: &Client, names: impl Iterator<Item = String>) {
    let namespaces = dynamic(client, "v1", "Namespace", "namespaces", None);
    for name in names {
        let ns: DynamicObject = serde_json::from_value(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        )
        .unwrap();
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap();
    }
}

/// kubectl applying the same objects, rendered, with server-side apply, then waiting for the
/// Deployments: the time both take.
async fn kubectl_peer(count: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let (server, kubeconfig, client) = start_server(dir.path()).await;
    create_namespaces(&client, (0..count).map(|i| format!("app-{i:04}"))).await;
    let manifests = dir.path().join("manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    for i in 0..count {
        let docs: Vec<String> = APP_FILES
            .iter()
            .map(|(_, text)| {
                text.replace("{message}", "v1").replacen(
                    "metadata:\n  name: podinfo\n",
                    &format!("metadata:\n  name: podinfo\n  namespace: app-{i:04}\n"),
                    1,
                )
            })
            .collect();
        std::fs::write(
            manifests.join(format!("app-{i:04}.yaml")),
            docs.join("---\n"),
        )
        .unwrap();
    }
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| KUBECTL.to_owned());
    let run = |args: &[&str]| {
        let status = Command::new(&kubectl)
            .args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdout(Stdio::null())
            .status()
            .expect("kubectl runs");
        assert!(status.success(), "kubectl {args:?}");
    };
    let started = Instant::now();
    run(&["apply", "--server-side", "-f", manifests.to_str().unwrap()]);
    run(&[
        "wait",
        "--for=condition=Available",
        "deployments",
        "--all",
        "-A",
        "--timeout=600s",
    ]);
    let took = started.elapsed();
    server.shutdown().await;
    took
}

async fn bench(count: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (server, kubeconfig, client) = start_server(dir.path()).await;

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in ferry_api::crd::all() {
        let name = crd.metadata.name.clone().unwrap();
        crds.patch(
            &name,
            &PatchParams::apply("bench").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    create_namespaces(
        &client,
        (0..count)
            .map(|i| format!("app-{i:04}"))
            .chain(["flux-system".to_owned()]),
    )
    .await;

    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    write_repo(&repo, count, "v1");
    commit(&repo, "v1");
    let repos: Api<ferry_api::GitRepository> = Api::namespaced(client.clone(), "flux-system");
    repos
        .create(&PostParams::default(), &serde_json::from_value(json!({
            "metadata": {"name": "bench", "namespace": "flux-system"},
            "spec": {"url": format!("file://{}", repo.display()), "interval": "10m", "ref": {"branch": "main"}},
        })).unwrap())
        .await
        .unwrap();

    let storage_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let receiver_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let concurrent = std::env::var("FERRY_BENCH_CONCURRENT").unwrap_or_else(|_| "50".to_owned());
    // Another build of ferry can run as the controller, to compare two versions on one machine.
    let ferry = std::env::var("FERRY_BENCH_FERRY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_ferry").to_owned());
    let mut controller: Child = Command::new(ferry)
        .args([
            "controller",
            "--enable-leader-election=false",
            "--metrics-addr",
            "127.0.0.1:0",
            "--concurrent",
            &concurrent,
            "--concurrent-ssa",
            "5",
        ])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--storage-addr")
        .arg(format!("127.0.0.1:{storage_port}"))
        .arg("--receiver-addr")
        .arg(format!("127.0.0.1:{receiver_port}"))
        .arg("--storage-path")
        .arg(dir.path().join("storage"))
        .arg("--artifact-cache")
        .arg(dir.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(
            if std::env::var_os("FERRY_BENCH_CONTROLLER_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            },
        )
        .spawn()
        .expect("ferry controller");
    let pid = controller.id();

    let hook = Hook::create(&client, receiver_port).await;
    let kss: Api<Kustomization> = Api::namespaced(client.clone(), "flux-system");
    let started = Instant::now();
    for i in 0..count {
        let ks: Kustomization = serde_json::from_value(json!({
            "metadata": {"name": format!("app-{i:04}"), "namespace": "flux-system"},
            "spec": {
                "interval": "60m", "timeout": "2m", "path": format!("./apps/app-{i:04}"), "prune": true, "wait": true,
                "targetNamespace": format!("app-{i:04}"),
                "sourceRef": {"kind": "GitRepository", "name": "bench"},
            },
        }))
        .unwrap();
        kss.create(&PostParams::default(), &ks).await.unwrap();
    }
    let names: Vec<String> = (0..count).map(app_name).collect();
    let mut probe = Probe {
        tracker: track(Api::namespaced(client.clone(), "flux-system")),
        kss: kss.clone(),
        pid,
        peak_rss: 0,
    };
    let tracker = probe.tracker.clone();
    {
        // Awaiting from the controller's start, not from now.
        let mut t = tracker.lock().unwrap();
        t.target = Some((String::new(), started));
    }
    probe.wait_applied(&names, Duration::from_secs(900)).await;
    let all_ready = started.elapsed();

    // A commit that changes every app (their shared base): commit -> applied, per Kustomization.
    phase("a commit changing every app");
    std::fs::write(
        repo.join("base/cm.yaml"),
        APP_FILES[1].1.replace("{message}", "v2"),
    )
    .unwrap();
    let head = commit(&repo, "v2");
    await_revision(&tracker, &head);
    let commit_at = Instant::now();
    hook.push().await;
    let cpu_before = (cpu_time(&pid.to_string()), cpu_time("self"));
    let mut fetched_after = None;
    while fetched_after.is_none() {
        let repo = repos.get("bench").await.unwrap();
        let revision = repo.status.and_then(|s| s.artifact).map(|a| a.revision);
        if revision.is_some_and(|r| r.ends_with(&head)) {
            fetched_after = Some(commit_at.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let commit_latency = probe.wait_applied(&names, Duration::from_secs(600)).await;
    let commit_cpu = (
        cpu_time(&pid.to_string()).saturating_sub(cpu_before.0),
        cpu_time("self").saturating_sub(cpu_before.1),
    );

    // Commits that change one app each: commit -> that app applied. Every Kustomization of the
    // source still reconciles the new revision (as Flux's do); the next commit waits for all.
    phase("commits changing one app each");
    let mut one_app_latency = Vec::new();
    let mut one_app_all = Vec::new();
    for (round, i) in (0..count)
        .step_by((count / ONE_APP_COMMITS).max(1))
        .take(ONE_APP_COMMITS)
        .enumerate()
    {
        let app = app_name(i);
        write_overlay(&repo, &app, &format!("r{}", round + 1));
        let head = commit(&repo, &format!("{app} r{}", round + 1));
        await_revision(&tracker, &head);
        hook.push().await;
        let own = probe
            .wait_applied(std::slice::from_ref(&app), Duration::from_secs(600))
            .await;
        one_app_latency.push(own[0]);
        let all = probe.wait_applied(&names, Duration::from_secs(600)).await;
        one_app_all.push(*all.last().unwrap());
    }
    one_app_latency.sort();
    one_app_all.sort();

    phase("edits");
    // edit -> corrected, on 50 Deployments edited as kubectl would.
    let mut edit_latency = Vec::new();
    let params = PatchParams {
        field_manager: Some("kubectl-edit".to_owned()),
        ..Default::default()
    };
    for i in (0..count).step_by((count / 50).max(1)) {
        let ns = format!("app-{i:04}");
        let deployments = dynamic(&client, "apps/v1", "Deployment", "deployments", Some(&ns));
        let edited = Instant::now();
        deployments
            .patch(
                "podinfo",
                &params,
                &Patch::Merge(json!({"spec": {"replicas": 7}})),
            )
            .await
            .unwrap();
        loop {
            let d = deployments.get("podinfo").await.unwrap();
            if d.data["spec"]["replicas"] == 1 {
                edit_latency.push(edited.elapsed());
                break;
            }
            assert!(
                edited.elapsed() < Duration::from_secs(60),
                "edit in {ns} not corrected"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    edit_latency.sort();
    let hwm = rss_kib(pid, "VmHWM:").max(probe.peak_rss);
    let _ = controller.kill();
    let _ = controller.wait();
    server.shutdown().await;
    let peer = if std::env::var_os("FERRY_BENCH_NO_PEER").is_some() {
        None
    } else {
        Some(kubectl_peer(count).await)
    };

    let mib = hwm as f64 / 1024.0;
    println!(
        "gitops loop, {count} Kustomizations x 5 objects (wait, prune), one ferry controller process (--concurrent {concurrent})"
    );
    println!(
        "  all Ready:          {:>8.2} s   (Flux v2.9 published: {FLUX_SECONDS:.0} s on 16 cores; ratio {:.1}x)",
        all_ready.as_secs_f64(),
        FLUX_SECONDS / all_ready.as_secs_f64()
    );
    if let Some(peer) = peer {
        println!(
            "  kubectl 1.33 apply --server-side + wait of the same objects, same run: {:>8.2} s (ratio {:.2}x)",
            peer.as_secs_f64(),
            peer.as_secs_f64() / all_ready.as_secs_f64()
        );
    }
    println!(
        "  controller peak RSS:{mib:>8.1} MiB (Flux v2.9 published: {FLUX_MIB:.0} MiB; ratio {:.1}x)",
        FLUX_MIB / mib
    );
    println!(
        "  commit -> applied, a commit changing every app:  p50 {:>7.0} ms  p95 {:>7.0} ms  (all {count})",
        percentile(&commit_latency, 0.5).as_secs_f64() * 1e3,
        percentile(&commit_latency, 0.95).as_secs_f64() * 1e3
    );
    println!(
        "      CPU until all applied: controller {:.2} s, API server and this benchmark {:.2} s",
        commit_cpu.0.as_secs_f64(),
        commit_cpu.1.as_secs_f64()
    );
    println!(
        "  commit -> applied, a commit changing one app:    p50 {:>7.0} ms  p95 {:>7.0} ms  ({} commits; all {count} at the new revision: p50 {:.0} ms)",
        percentile(&one_app_latency, 0.5).as_secs_f64() * 1e3,
        percentile(&one_app_latency, 0.95).as_secs_f64() * 1e3,
        one_app_latency.len(),
        percentile(&one_app_all, 0.5).as_secs_f64() * 1e3
    );
    println!(
        "  commit -> artifact: {:>7.0} ms  (a generic webhook Receiver notifies the GitRepository, as a git host's push would)",
        fetched_after.unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "  edit -> corrected:  p50 {:>7.0} ms  p95 {:>7.0} ms  ({} edits)",
        percentile(&edit_latency, 0.5).as_secs_f64() * 1e3,
        percentile(&edit_latency, 0.95).as_secs_f64() * 1e3,
        edit_latency.len()
    );
}
