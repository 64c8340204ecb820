//! The set of functions a template may call is Helm's: for every name of
//! tests/data/oracle/functions.txt (Sprig v3, Go's builtins, Helm's additions and look-alikes
//! Helm does not have), ferry defines it exactly when the real Helm SDK does, and words the
//! parse error of an undefined one as Helm does (tests/oracle/gen_functions.py made
//! functions.expected.json). Every function's behaviour is checked by the snippet and golden
//! cases; this test pins down that none is missing and none is extra.

use ferry_helm::chart::ChartFile;
use ferry_helm::{Chart, RenderOptions};

fn probe(name: &str) -> Result<(), String> {
    let files = vec![
        ChartFile {
            name: "Chart.yaml".into(),
            data: b"apiVersion: v2\nname: c\nversion: 0.1.0\n".to_vec(),
        },
        ChartFile {
            name: "templates/t.yaml".into(),
            data: format!("{{{{ if false }}}}{{{{ {name} }}}}{{{{ end }}}}").into_bytes(),
        },
    ];
    let chart = Chart::load_files(files).map_err(|e| e.to_string())?;
    let opts = RenderOptions {
        release_name: "demo".into(),
        namespace: "apps".into(),
        ..RenderOptions::default()
    };
    ferry_helm::render(&chart, &opts)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn template_functions_are_exactly_helms() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/oracle/functions.expected.json");
    let text = std::fs::read_to_string(path).expect("functions.expected.json is readable");
    let exp: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let funcs = exp["functions"]
        .as_object()
        .expect("functions is an object");
    let defined = funcs.values().filter(|v| v["defined"] == true).count();
    assert!(
        defined >= 230 && funcs.len() > defined,
        "both kinds of names are probed"
    );
    let mut failures = vec![];
    for (name, want) in funcs {
        let got = probe(name);
        let ok = match (&got, want["defined"].as_bool()) {
            (Ok(()), Some(true)) => true,
            (Err(e), Some(false)) => Some(e.as_str()) == want["err"].as_str(),
            _ => false,
        };
        if !ok {
            failures.push(format!("{name}: helm {want}, ferry {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} names differ from Helm:\n{}",
        failures.len(),
        funcs.len(),
        failures.join("\n")
    );
}
