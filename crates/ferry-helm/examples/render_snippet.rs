//! Renders one template snippet in a throwaway chart, like the oracle probe does:
//! `cargo run -p ferry-helm --example render_snippet -- 'TEMPLATE' ['VALUES YAML']`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use ferry_helm::chart::{ChartFile, Metadata};
use ferry_helm::{Chart, RenderOptions, Values};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tpl = args.get(1).cloned().unwrap_or_default();
    let vals = args.get(2).cloned().unwrap_or_default();
    let chart_yaml = "apiVersion: v2\nname: c\nversion: 0.1.0\nappVersion: \"1.0\"\n";
    let files = vec![
        ChartFile {
            name: "Chart.yaml".into(),
            data: chart_yaml.as_bytes().to_vec(),
        },
        ChartFile {
            name: "values.yaml".into(),
            data: vals.into_bytes(),
        },
        ChartFile {
            name: "templates/t.yaml".into(),
            data: tpl.into_bytes(),
        },
    ];
    let _ = Metadata::default();
    let chart = match Chart::load_files(files) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ERR: {e}");
            return;
        }
    };
    let opts = RenderOptions {
        release_name: "demo".into(),
        namespace: "apps".into(),
        values: Values::default(),
        ..RenderOptions::default()
    };
    match ferry_helm::render(&chart, &opts) {
        Ok(r) => {
            for (n, t) in r.manifests {
                if n == "c/templates/t.yaml" {
                    print!("{t}|END");
                }
            }
        }
        Err(e) => println!("ERR: {e}"),
    }
}
