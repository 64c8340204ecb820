//! Assessments per second over the whole health corpus (tests/data/health, 811 objects), on one
//! core, with ferry's built-in rules, against the interpreted mechanisms Argo CD and Flux use
//! for the same judgement in the same run: a Lua health script per object (Argo CD runs its
//! customizations this way, one fresh Lua state per call) and Flux-style CEL expressions per
//! kind. Run with `cargo bench -p ferry-health --bench assess`.
#![allow(clippy::print_stdout)] // a benchmark reports its figures on standard output

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

/// The conventions rule written as an Argo CD health script: Ready condition, else phase.
const CONVENTIONS_LUA: &str = r#"
local hs = { status = "Progressing", message = "Waiting for status" }
if obj.status == nil then return hs end
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      if c.status == "True" then return { status = "Healthy", message = c.message or "" } end
      if c.status == "False" then return { status = "Degraded", message = c.message or "" } end
      return { status = "Progressing", message = c.message or "" }
    end
  end
end
local phase = obj.status.phase
if phase == "Running" or phase == "Succeeded" or phase == "Bound" then return { status = "Healthy", message = phase } end
if phase == "Failed" then return { status = "Degraded", message = phase } end
return hs
"#;

fn group_kind(object: &Value) -> (String, String) {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    (
        group.to_owned(),
        object["kind"].as_str().unwrap_or("").to_owned(),
    )
}

fn main() {
    let objects = corpus();
    let budget = Duration::from_secs(3);
    let builtin = rate(&objects, budget, |o| {
        black_box(ferry_health::assess(black_box(o)));
    });

    let lua = ferry_health::Checks::new(
        &[],
        vec![ferry_health::LuaHealthScript {
            group: "*".to_owned(),
            kind: "*".to_owned(),
            script: CONVENTIONS_LUA.to_owned(),
            use_open_libs: false,
        }],
    )
    .expect("the script compiles");
    let lua_rate = rate(&objects, budget, |o| {
        black_box(lua.assess(black_box(o)));
    });

    let mut kinds: Vec<(String, String)> = objects.iter().map(group_kind).collect();
    kinds.sort();
    kinds.dedup();
    let exprs: Vec<ferry_health::HealthCheckExprs> = kinds
        .iter()
        .map(|(group, kind)| ferry_health::HealthCheckExprs {
            api_version: if group.is_empty() { "v1".to_owned() } else { format!("{group}/v1") },
            kind: kind.clone(),
            in_progress: Some("status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'Unknown')".to_owned()),
            failed: Some("status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'False')".to_owned()),
            current: "status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'True')".to_owned(),
        })
        .collect();
    let cel = ferry_health::Checks::new(&exprs, Vec::new()).expect("the expressions parse");
    let cel_rate = rate(&objects, budget, |o| {
        black_box(cel.assess(black_box(o)));
    });

    println!("corpus: {} objects, {} kinds", objects.len(), kinds.len());
    println!("built-in rules:         {builtin:>10.0} assessments/s (goal: 200000/s)");
    println!(
        "Lua script (Argo CD):   {lua_rate:>10.0} assessments/s; built-in is {:.0}x faster",
        builtin / lua_rate
    );
    println!(
        "CEL exprs (Flux):       {cel_rate:>10.0} assessments/s; built-in is {:.0}x faster",
        builtin / cel_rate
    );
}
