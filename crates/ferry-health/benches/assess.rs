//! Assessments per second over the whole health corpus (tests/data/health, 811 objects), on one
#![allow(clippy::print_stdout)] // a benchmark reports its figures on standard output
//! core: ferry's built-in rules. Run with `cargo bench -p ferry-health --bench assess`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

fn corpus() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/health");
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv is readable");
    let options =
        serde_saphyr::options! { duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins };
    index
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').nth(2))
        .map(|case| {
            let text = std::fs::read_to_string(dir.join(format!("{case}.yaml")))
                .expect("case file is readable");
            let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(&text, options.clone())
                .expect("case file is YAML");
            docs.into_iter()
                .find(|d| !d.is_null())
                .expect("case file holds an object")
        })
        .collect()
}

/// Runs `pass` over the corpus until `budget` has elapsed; returns objects per second.
fn rate(objects: &[Value], budget: Duration, mut pass: impl FnMut(&Value)) -> f64 {
    // Warm up caches and lazily built tables.
    objects.iter().for_each(&mut pass);
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < budget {
        for object in objects {
            pass(object);
        }
        done += objects.len() as u64;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let objects = corpus();
    let budget = Duration::from_secs(3);
    let builtin = rate(&objects, budget, |o| {
        black_box(ferry_health::assess(black_box(o)));
    });
    println!("corpus: {} objects", objects.len());
    println!("built-in rules: {builtin:.0} assessments/s (goal: 200000/s)");
}
