//! `ferry up` on the example repository: the README's first command. The loop comes up on a
//! fresh data directory, applies both environments, and a restart finds the state it left.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use kube::{
    Api,
    api::DynamicObject,
    core::{ApiResource, GroupVersionKind},
};

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn start(data: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("up")
        .arg(examples())
        .args(["--port", "0", "--ready-delay", "0.2", "--interval", "2s"])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ferry up starts")
}

fn interrupt(child: &mut Child) {
    // SIGINT, as Ctrl-C sends it.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().expect("waitable").is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("ferry up did not stop on SIGINT within 20s");
}

async fn connect(data: &Path) -> kube::Client {
    let path = data.join("kubeconfig");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(Instant::now() < deadline, "no kubeconfig written");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&path).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    kube::Client::try_from(config).unwrap()
}

async fn wait_available(client: &kube::Client, namespace: &str) -> DynamicObject {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apps", "v1", "Deployment"),
        "deployments",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &ar);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(d)) = api.get_opt("podinfo").await {
            let available = d.data["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Available" && c["status"] == "True")
            });
            if available {
                return d;
            }
        }
        assert!(
            Instant::now() < deadline,
            "podinfo in {namespace} not available"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn up_runs_the_example_repository_and_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let mut up = start(data.path());
    let client = connect(data.path()).await;
    let dev = wait_available(&client, "dev").await;
    assert_eq!(
        dev.data["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/stefanprodan/podinfo:6.7.1"
    );
    let prod = wait_available(&client, "prod").await;
    assert_eq!(prod.data["spec"]["replicas"], 2);
    interrupt(&mut up);

    // The data directory keeps the cluster: a second start finds the objects and carries on.
    std::fs::remove_file(data.path().join("kubeconfig")).unwrap();
    let mut again = start(data.path());
    let client = connect(data.path()).await;
    wait_available(&client, "prod").await;
    interrupt(&mut again);
}
