//! Renders a chart directory many times, for profiling:
//! `cargo run --release -p ferry-helm --example profile_render -- CHART [N] [VALUES_JSON]`.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use ferry_helm::{Chart, RenderOptions, Values};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let chart = args.get(1).cloned().unwrap_or_else(|| ".".into());
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let values = args.get(3).cloned().unwrap_or_else(|| "{}".into());
    let opts = RenderOptions {
        release_name: "demo".into(),
        namespace: "apps".into(),
        values: Values::from_yaml(&values).expect("values parse"),
        ..RenderOptions::default()
    };
    let mut load = 0.0;
    let mut render = 0.0;
    for _ in 0..n {
        // cold, as the benchmark measures
        ferry_helm::clear_caches();
        let t = Instant::now();
        let c = Chart::load(std::path::Path::new(&chart)).expect("chart loads");
        load += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let r = ferry_helm::render(&c, &opts).expect("chart renders");
        render += t.elapsed().as_secs_f64();
        std::hint::black_box(r);
    }
    println!(
        "load {:.3} ms, render {:.3} ms",
        load * 1e3 / n as f64,
        render * 1e3 / n as f64
    );
}
