//! Two `ferry controller` replicas against one cluster: only the Lease holder reconciles, its
//! metrics show the reconciles and its JSON logs the election; when the holder is killed, the
//! other replica takes the Lease over and carries on from Git.

mod common;

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::{Env, wait_for};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

struct Replica {
    child: Child,
    metrics_port: u16,
    log: std::path::PathBuf,
}

impl Replica {
    fn start(env: &Env, name: &str) -> Self {
        let data = env.dir.path().join(name);
        std::fs::create_dir_all(&data).expect("replica directory");
        let log = data.join("stderr.log");
        let metrics_port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_ferry"))
            .args(["--log", "info", "--log-encoding", "json", "controller"])
            .arg("--metrics-addr")
            .arg(format!("127.0.0.1:{metrics_port}"))
            .arg("--storage-addr")
            .arg(format!("127.0.0.1:{}", free_port()))
            .arg("--kubeconfig")
            .arg(env.server.kubeconfig_path())
            .arg("--artifact-cache")
            .arg(data.join("artifacts"))
            .arg("--storage-path")
            .arg(data.join("storage"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("ferry controller starts");
        Self {
            child,
            metrics_port,
            log,
        }
    }

    /// The Lease identity this replica uses: `<hostname>-<pid>`.
    fn identity(&self) -> String {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "ferry".to_owned());
        format!("{host}-{}", self.child.id())
    }

    fn log_lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"))
            })
            .collect()
    }

    fn acquired(&self) -> bool {
        self.log_lines()
            .iter()
            .any(|l| l["message"] == "acquired leadership")
    }

    async fn metrics(&self) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.metrics_port))
            .await
            .expect("the metrics endpoint listens");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .await
            .expect("request sent");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .await
            .expect("response read");
        response
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn holder(env: &Env) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(env.client.clone(), "flux-system");
    leases
        .get_opt("ferry-controller-leader")
        .await
        .ok()
        .flatten()?
        .spec?
        .holder_identity
}

async fn config_value(env: &Env) -> Option<String> {
    env.get("v1", "ConfigMap", Some("default"), "settings")
        .await
        .and_then(|c| c["data"]["value"].as_str().map(str::to_owned))
}

fn write_settings(env: &Env, value: &str) -> String {
    env.repo.write(
        "app/settings.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  value: {value}\n"
        ),
    );
    env.repo.commit(value)
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_lease_holder_reconciles_and_a_standby_takes_over() {
    let env = Env::without_controllers().await;
    write_settings(&env, "one");
    env.create_git_repository("repo").await;
    env.create_kustomization(
        "app",
        json!({"interval": "1m", "path": "./app", "prune": true}),
    )
    .await;

    let mut first = Replica::start(&env, "first");
    let expected = first.identity();
    wait_for(
        "the first replica to hold the Lease",
        Duration::from_secs(30),
        || async { (holder(&env).await.as_deref() == Some(expected.as_str())).then_some(()) },
    )
    .await;
    let second = Replica::start(&env, "second");
    wait_for(
        "the holder to apply from Git",
        Duration::from_secs(30),
        || async { (config_value(&env).await.as_deref() == Some("one")).then_some(()) },
    )
    .await;
    // The standby keeps waiting while the holder renews.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(holder(&env).await, Some(first.identity()));
    assert!(first.acquired(), "the holder logs its election");
    assert!(!second.acquired(), "the standby never held the Lease");

    // The holder's metrics count the reconcile of the Kustomization.
    let metrics = first.metrics().await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("gotk_reconcile_duration_seconds_count")
                && l.contains("kind=\"Kustomization\"")
                && l.contains("name=\"app\"")
        })
        .unwrap_or_else(|| panic!("no reconcile duration of the Kustomization in:\n{metrics}"));
    let count: f64 = line
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a sample value");
    assert!(count >= 1.0, "{line}");

    // The holder dies without releasing the Lease; the standby takes over once it expires
    // and applies what Git says now.
    first.kill();
    write_settings(&env, "two");
    let standby = second.identity();
    wait_for(
        "the standby to take the Lease over",
        Duration::from_secs(40),
        || async { (holder(&env).await.as_deref() == Some(standby.as_str())).then_some(()) },
    )
    .await;
    wait_for(
        "the new holder to apply the new commit",
        Duration::from_secs(30),
        || async { (config_value(&env).await.as_deref() == Some("two")).then_some(()) },
    )
    .await;
    assert!(second.acquired());
    drop(second);
    env.stop().await;
}
