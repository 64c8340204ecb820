#![allow(clippy::unwrap_used)]
//! `ferry cluster start|stop` end to end: the binary serves the API, kubectl talks to it through
//! the kubeconfig it writes, state in --data-dir survives a stop and a start, a second start on
//! the same directory is refused, --ephemeral and --insecure-http work.

use std::{
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

const KUBECTL: &str = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";

fn ferry(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.args(args).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn spawn_start(args: &[&str], env: &[(&str, &Path)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.args(["cluster", "start", "--port", "0", "--ready-delay", "0.2"])
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(KUBECTL)
        .env("KUBECONFIG", kubeconfig)
        .env("KUBECACHEDIR", kubeconfig.with_extension("cache"))
        .args(args)
        .output()
        .unwrap()
}

/// Waits until kubectl can reach the server the kubeconfig names.
fn wait_ready(kubeconfig: &Path, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        assert!(
            child.try_wait().unwrap().is_none(),
            "ferry cluster start exited early"
        );
        if kubeconfig.exists()
            && kubectl(kubeconfig, &["get", "ns", "default"])
                .status
                .success()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server never answered through {}", kubeconfig.display());
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("ferry cluster start did not stop");
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn start_stop_restart_with_a_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("state");
    let kubeconfig = tmp.path().join("kubeconfig");
    let data_s = data.to_str().unwrap();
    let kc_s = kubeconfig.to_str().unwrap();
    let mut server = spawn_start(&["--data-dir", data_s, "--kubeconfig", kc_s], &[]);
    wait_ready(&kubeconfig, &mut server);
    let config = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(
        config.contains("https://127.0.0.1:") && config.contains("certificate-authority-data"),
        "{config}"
    );
    let made = kubectl(
        &kubeconfig,
        &["create", "configmap", "kept", "--from-literal=a=b"],
    );
    assert!(made.status.success(), "{}", text(&made));
    assert!(data.join("state.db").exists());

    // A second server on the same directory is refused while the first runs.
    let second = ferry(
        &["cluster", "start", "--data-dir", data_s, "--port", "0"],
        &[],
    );
    assert!(!second.status.success());
    assert!(text(&second).contains("already runs"), "{}", text(&second));

    let stop = ferry(&["cluster", "stop", "--data-dir", data_s], &[]);
    assert!(stop.status.success(), "{}", text(&stop));
    assert!(wait_exit(&mut server).success());
    let again = ferry(&["cluster", "stop", "--data-dir", data_s], &[]);
    assert!(!again.status.success(), "nothing left to stop");
    assert!(text(&again).contains("no server runs"), "{}", text(&again));

    // Restarted on the same data dir: the object, its uid and the token are still there.
    std::fs::remove_file(&kubeconfig).unwrap();
    let mut server = spawn_start(&["--data-dir", data_s, "--kubeconfig", kc_s], &[]);
    wait_ready(&kubeconfig, &mut server);
    let got = kubectl(
        &kubeconfig,
        &["get", "configmap", "kept", "-o", "jsonpath={.data.a}"],
    );
    assert!(got.status.success(), "{}", text(&got));
    assert_eq!(String::from_utf8_lossy(&got.stdout), "b");
    let stop = ferry(&["cluster", "stop", "--data-dir", data_s], &[]);
    assert!(stop.status.success(), "{}", text(&stop));
    assert!(wait_exit(&mut server).success());
}

#[test]
fn ephemeral_plain_http_server() {
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    let state = tmp.path().join("xdg-state");
    let env = [("XDG_STATE_HOME", state.as_path())];
    let mut server = spawn_start(
        &[
            "--ephemeral",
            "--insecure-http",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ],
        &env,
    );
    wait_ready(&kubeconfig, &mut server);
    let config = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(config.contains("http://127.0.0.1:"), "{config}");
    // kubectl sends no token over plain HTTP: on loopback that is the administrator, as on
    // kube-apiserver's old insecure port; a wrong token is still refused.
    let made = kubectl(&kubeconfig, &["create", "namespace", "plain"]);
    assert!(made.status.success(), "{}", text(&made));
    let server_url = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_owned();
    let code = |extra: &[&str]| {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(extra)
            .arg(format!("{server_url}/api/v1/namespaces"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(code(&[]), "200");
    assert_eq!(code(&["-H", "Authorization: Bearer wrong"]), "401");
    let stop = ferry(&["cluster", "stop", "--ephemeral"], &env);
    assert!(stop.status.success(), "{}", text(&stop));
    assert!(wait_exit(&mut server).success());
    assert!(
        !state.join("ferry/cluster-ephemeral/state.db").exists(),
        "nothing is written to disk for an ephemeral server"
    );
}
