//! Strategic merge patch and server-side apply throughput, with a peer measured in the same run:
//! `kubectl patch --local` for SMP (one process per patch, as the CLI works), and the issue's
//! goal of 2,000 server-side applies per second for apply.
//! Run: `cargo bench -p ferry-schema --bench schema`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::{hint::black_box, process::Command, time::Instant};

use ferry_schema::{
    Registry,
    smp::{Flavor, strategic_merge},
    ssa::{Request, apply},
};
use serde_json::json;

fn main() {
    let reg = Registry::builtin();
    let t0 = Instant::now();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    println!(
        "first lookup of apps/v1 (converts the document): {:?}",
        t0.elapsed()
    );

    let obj = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [
                {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}], "ports": [{"containerPort": 80}]},
                {"name": "b", "image": "b:1"}],
                "volumes": [{"name": "v", "configMap": {"name": "cm"}}]}}}
    });
    let patch = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [
        {"name": "a", "image": "a:2", "env": [{"name": "Y", "value": "2"}]}, {"name": "c", "image": "c"}]}}}});

    for flavor in [Flavor::Apimachinery, Flavor::Kustomize] {
        let n = 20_000;
        let t = Instant::now();
        for _ in 0..n {
            let mut o = obj.clone();
            strategic_merge(&mut o, &patch, Some(ts.root()), flavor).unwrap();
            black_box(o);
        }
        let per = t.elapsed() / n;
        println!(
            "smp {flavor:?}: {per:?} per patch ({:.0}/s)",
            1.0 / per.as_secs_f64()
        );
        if flavor == Flavor::Apimachinery
            && let Ok(dir) = tempfile_dir()
        {
            let file = dir.join("obj.json");
            std::fs::write(&file, obj.to_string()).unwrap();
            let runs = 5;
            let t = Instant::now();
            let mut ok = true;
            for _ in 0..runs {
                ok &= Command::new("kubectl")
                    .args([
                        "patch",
                        "--local",
                        "-o",
                        "json",
                        "--type",
                        "strategic",
                        "-f",
                    ])
                    .arg(&file)
                    .arg("-p")
                    .arg(patch.to_string())
                    .output()
                    .is_ok_and(|o| o.status.success());
            }
            if ok {
                let kubectl = t.elapsed() / runs;
                println!(
                    "  kubectl patch --local: {kubectl:?} per patch; ratio {:.0}x",
                    kubectl.as_secs_f64() / per.as_secs_f64()
                );
            }
        }
    }

    let cm = reg.lookup("v1", "ConfigMap").unwrap();
    let req = Request {
        manager: "bench",
        subresource: None,
        api_version: "v1",
        now: "2026-01-01T00:00:00Z",
        status_subresource: false,
    };
    let mut live = None;
    let n = 20_000;
    let t = Instant::now();
    for i in 0..n {
        let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"app": "x"}},
            "data": {"key": format!("value-{}", i % 7), "other": "fixed"}});
        let out = apply(live.as_ref(), &applied, &req, false, Some(cm.root())).unwrap();
        live = Some(out);
    }
    let per = t.elapsed() / n;
    let rate = 1.0 / per.as_secs_f64();
    println!(
        "server-side apply of a small ConfigMap (schema work only): {per:?} per apply ({rate:.0}/s, {:.0}x the 2,000/s goal)",
        rate / 2000.0
    );
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("ferry-schema-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
