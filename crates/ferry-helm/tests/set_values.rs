//! `--set` / `--set-string` parsing against Helm's own strvals parser: every expression of
//! tests/data/oracle/set-values.txt, with the values or error message the real Helm SDK produced
//! (tests/oracle/gen_set_values.py wrote set-values.expected.json).

use ferry_helm::Values;

fn expected() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/oracle/set-values.expected.json");
    let text = std::fs::read_to_string(path).expect("set-values.expected.json is readable");
    serde_json::from_str(&text).expect("set-values.expected.json is JSON")
}

fn ferry(line: &str) -> serde_json::Value {
    let (kind, expr) = line.split_once(' ').expect("a kind and an expression");
    let mut v = Values::default();
    let res = match kind {
        "set" => v.set(expr),
        "string" => v.set_string(expr),
        other => panic!("unknown kind {other}"),
    };
    match res {
        Ok(()) => serde_json::json!({ "out": v.to_json() }),
        Err(e) => serde_json::json!({ "err": e }),
    }
}

#[test]
fn set_expressions_parse_like_helm() {
    let exp = expected();
    let cases = exp["cases"].as_object().expect("cases is an object");
    assert!(cases.len() >= 50, "the oracle file holds the cases");
    let mut failures = vec![];
    for (line, want) in cases {
        let got = ferry(line);
        if &got != want {
            failures.push(format!("{line}\n  helm:  {want}\n  ferry: {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} --set expressions differ from Helm:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
