//! Throughput and latency of the embedded API server over HTTPS, measured with kube-rs:
//! server-side applies per second of small ConfigMaps (goal >= 2,000/s on 2 cores), list and
//! watch latency with 10,000 objects, and kubectl's own per-invocation cost for comparison (no
//! real kube-apiserver can run here to serve as a peer).
//!
//! `cargo bench -p ferry-apiserver --bench apiserver` (env BENCH_OBJECTS, BENCH_APPLIES,
//! BENCH_CONCURRENCY override the sizes).
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::{
    process::Command,
    time::{Duration, Instant},
};

use ferry_test::apiserver::TestApiServer;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api,
    api::{ListParams, Patch, PatchParams, WatchEvent, WatchParams},
};
use serde_json::json;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cm(i: usize, round: usize) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i:05}"), "labels": {"bench": "yes"}},
           "data": {"key": format!("value-{round}"), "index": i.to_string()}})
}

async fn apply_all(
    api: &Api<ConfigMap>,
    count: usize,
    round: usize,
    concurrency: usize,
) -> Duration {
    let params = PatchParams::apply("bench");
    let start = Instant::now();
    futures::stream::iter(0..count)
        .map(|i| {
            let api = api.clone();
            let params = params.clone();
            async move {
                api.patch(&format!("cm-{i:05}"), &params, &Patch::Apply(cm(i, round)))
                    .await
                    .map(drop)
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let objects = env("BENCH_OBJECTS", 10_000);
    let applies = env("BENCH_APPLIES", 5_000).min(objects);
    let concurrency = env("BENCH_CONCURRENCY", 32);
    let server = TestApiServer::start().await;
    let client = server.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    // Server-side apply throughput: creates, then updates of the same objects.
    let created = apply_all(&api, applies, 0, concurrency).await;
    let updated = apply_all(&api, applies, 1, concurrency).await;
    let rate = |d: Duration| applies as f64 / d.as_secs_f64();
    println!(
        "server-side apply, {applies} small ConfigMaps, {concurrency} concurrent requests over HTTPS (kube-rs):"
    );
    println!("  create: {:>8.0} applies/s", rate(created));
    println!(
        "  update: {:>8.0} applies/s   (goal >= 2000/s)",
        rate(updated)
    );

    // Fill up to `objects` for list and watch latency.
    if objects > applies {
        let params = PatchParams::apply("bench");
        futures::stream::iter(applies..objects)
            .map(|i| {
                let api = api.clone();
                let params = params.clone();
                async move {
                    api.patch(&format!("cm-{i:05}"), &params, &Patch::Apply(cm(i, 0)))
                        .await
                        .map(drop)
                }
            })
            .buffer_unordered(concurrency)
            .try_collect::<Vec<()>>()
            .await
            .unwrap();
    }
    let mut lists = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let listed = api.list(&ListParams::default()).await.unwrap();
        lists.push(start.elapsed());
        assert!(listed.items.len() >= objects);
    }
    let mut selected = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let listed = api
            .list(
                &ListParams::default()
                    .labels("bench=yes")
                    .fields("metadata.name=cm-00042"),
            )
            .await
            .unwrap();
        selected.push(start.elapsed());
        assert_eq!(listed.items.len(), 1);
    }
    println!("list with {objects} objects in the namespace:");
    println!(
        "  full list (decoded by kube-rs): median {:?}",
        median(lists)
    );
    println!(
        "  list by field selector (1 hit): median {:?}",
        median(selected)
    );

    // Watch latency: time from a write's response to the event arriving on an open watch.
    let mut stream = api
        .watch(
            &WatchParams::default().fields("metadata.name=cm-00007"),
            "0",
        )
        .await
        .unwrap()
        .boxed();
    // Drain the initial ADDED event.
    let _ = stream.next().await;
    let mut latencies = Vec::new();
    for round in 0..100 {
        let start = Instant::now();
        api.patch(
            "cm-00007",
            &PatchParams::apply("bench"),
            &Patch::Apply(cm(7, 1000 + round)),
        )
        .await
        .unwrap();
        loop {
            match stream.try_next().await.unwrap() {
                Some(WatchEvent::Modified(_)) => break,
                Some(_) => continue,
                None => panic!("watch ended"),
            }
        }
        latencies.push(start.elapsed());
    }
    println!(
        "watch with {objects} objects: write-to-event latency median {:?}, max {:?}",
        median(latencies.clone()),
        latencies.iter().max().unwrap()
    );

    // kubectl's own cost per invocation (process start, discovery cache, TLS): the floor a
    // kubectl-driven peer benchmark would pay per apply, whatever the server.
    let kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
    if std::path::Path::new(kubectl).exists() {
        let manifest = server.dir().join("one.json");
        std::fs::write(&manifest, cm(1, 99).to_string()).unwrap();
        let runs = 10;
        let start = Instant::now();
        for _ in 0..runs {
            let status = tokio::task::block_in_place(|| {
                Command::new(kubectl)
                    .env("KUBECONFIG", server.kubeconfig_path())
                    .env("KUBECACHEDIR", server.dir().join("cache"))
                    .args(["apply", "--server-side", "--field-manager=bench", "-f"])
                    .arg(&manifest)
                    .output()
                    .unwrap()
                    .status
            });
            assert!(status.success());
        }
        let per = start.elapsed() / runs;
        println!(
            "kubectl apply --server-side (one object per invocation): {per:?} each = {:.0} applies/s; in-process kube-rs is {:.0}x that",
            1.0 / per.as_secs_f64(),
            rate(updated) * per.as_secs_f64()
        );
    }
    println!("peer: no real kube-apiserver can run on this machine; figures are absolute.");
    server.shutdown().await;
}
