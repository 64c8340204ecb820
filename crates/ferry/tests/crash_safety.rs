//! Crash safety of the GitOps loop: `ferry controller` is killed (SIGKILL) at random points
//! while it applies and prunes 500 objects, and the desired set changes between kills. After a
//! last, uninterrupted run, the cluster must hold exactly what Git describes: nothing missing,
//! nothing orphaned, and the inventory must list exactly those objects.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use std::{
    collections::BTreeSet,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use ferry_api::{Kustomization, condition, keys};
use ferry_test::apiserver::TestApiServer;
use k8s_openapi::{
    api::core::v1::ConfigMap,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client,
    api::{ListParams, Patch, PatchParams, PostParams},
};
use serde_json::json;

const OBJECTS: usize = 500;
const KILLS: usize = 20;

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// Writes the desired set of round `round`: 500 ConfigMaps whose names shift by 25 per round,
/// so every round adds 25 objects and removes 25.
fn write_round(repo: &Path, round: usize) -> BTreeSet<String> {
    let dir = repo.join("objects");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = BTreeSet::new();
    let mut doc = String::new();
    for i in (round * 25)..(round * 25 + OBJECTS) {
        let name = format!("cm-{i:05}");
        doc.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: crash\ndata:\n  round: \"{round}\"\n"
        ));
        names.insert(name);
    }
    std::fs::write(dir.join("all.yaml"), doc).unwrap();
    std::fs::write(
        dir.join("ns.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: crash\n",
    )
    .unwrap();
    git(repo, &["add", "-A"]);
    git(
        repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@x",
            "commit",
            "-q",
            "-m",
            &format!("round {round}"),
        ],
    );
    names
}

/// A free loopback port, kept for the artifact server across restarts (the artifact URLs in
/// the GitRepository's status must stay valid, as a Service address would in a cluster).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_controller(kubeconfig: &Path, data: &Path, storage_port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args([
            "controller",
            "--enable-leader-election=false",
            "--metrics-addr",
            "127.0.0.1:0",
            "--concurrent-ssa",
            "8",
        ])
        .arg("--storage-addr")
        .arg(format!("127.0.0.1:{storage_port}"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--artifact-cache")
        .arg(data.join("artifacts"))
        .arg("--storage-path")
        .arg(data.join("storage"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ferry controller starts")
}

async fn install(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in ferry_api::crd::all() {
        let name = crd.metadata.name.clone().unwrap();
        crds.patch(
            &name,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let _ = ns
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "flux-system"}})).unwrap(),
        )
        .await;
}

async fn owned_configmaps(client: &Client) -> BTreeSet<String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "crash");
    let params = ListParams::default().labels(&format!("{}=crash", keys::OWNER_NAME_LABEL));
    api.list(&params)
        .await
        .map(|l| {
            l.items
                .into_iter()
                .filter_map(|c| c.metadata.name)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_controller_converges_without_orphans_or_missing_objects() {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    install(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let mut desired = write_round(&repo, 0);

    let repos: Api<ferry_api::GitRepository> = Api::namespaced(client.clone(), "flux-system");
    repos
        .create(&PostParams::default(), &serde_json::from_value(json!({
            "metadata": {"name": "repo", "namespace": "flux-system"},
            "spec": {"url": format!("file://{}", repo.display()), "interval": "1s", "ref": {"branch": "main"}},
        })).unwrap())
        .await
        .unwrap();
    let kss: Api<Kustomization> = Api::namespaced(client.clone(), "flux-system");
    kss.create(&PostParams::default(), &serde_json::from_value(json!({
            "metadata": {"name": "crash", "namespace": "flux-system"},
            "spec": {"interval": "1m", "path": "./objects", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "repo"}},
        })).unwrap())
        .await
        .unwrap();

    // Kill at pseudo-random points (a fixed LCG: reproducible runs) from early in the first
    // apply to late in a prune.
    let storage_port = free_port();
    let mut seed: u64 = 0x5eed;
    for round in 1..=KILLS {
        let mut controller = start_controller(server.kubeconfig_path(), dir.path(), storage_port);
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(200 + (seed >> 33) % 2500);
        tokio::time::sleep(delay).await;
        controller.kill().expect("SIGKILL");
        controller.wait().unwrap();
        if round % 2 == 0 {
            desired = write_round(&repo, round);
        }
    }

    // A last run without interruption converges.
    let mut controller = start_controller(server.kubeconfig_path(), dir.path(), storage_port);
    let head = String::from_utf8(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(&repo)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let ks = kss.get("crash").await.unwrap();
        let status = ks.status.unwrap_or_default();
        let applied_head = status
            .last_applied_revision
            .as_deref()
            .is_some_and(|r| r.ends_with(&head));
        if applied_head && condition::is_true(&status.conditions, condition::READY) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "did not converge: {:?}",
            status.conditions
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    controller.kill().unwrap();
    controller.wait().unwrap();

    let live = owned_configmaps(&client).await;
    let missing: Vec<_> = desired.difference(&live).collect();
    let orphaned: Vec<_> = live.difference(&desired).collect();
    assert!(
        missing.is_empty(),
        "{} missing, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    assert!(
        orphaned.is_empty(),
        "{} orphaned, e.g. {:?}",
        orphaned.len(),
        orphaned.first()
    );
    // No ConfigMap in the namespace escaped the owner labels either.
    let all: Api<ConfigMap> = Api::namespaced(client.clone(), "crash");
    let unlabelled: Vec<String> = all
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|c| {
            c.metadata
                .labels
                .as_ref()
                .is_none_or(|l| !l.contains_key(keys::OWNER_NAME_LABEL))
        })
        .filter_map(|c| c.metadata.name)
        .filter(|n| n != "kube-root-ca.crt")
        .collect();
    assert!(unlabelled.is_empty(), "{unlabelled:?}");
    let inventory: BTreeSet<String> = kss
        .get("crash")
        .await
        .unwrap()
        .status
        .unwrap()
        .inventory
        .unwrap()
        .entries
        .into_iter()
        .filter_map(|e| ferry_api::ObjMetadata::parse(&e.id).ok())
        .filter(|m| m.kind == "ConfigMap")
        .map(|m| m.name)
        .collect();
    assert_eq!(
        inventory, desired,
        "the inventory lists exactly the desired objects"
    );
}
