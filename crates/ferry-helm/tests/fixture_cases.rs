//! Every case of the shared Helm fixtures (real charts, output of the real Helm v4.2.3 SDK)
//! must render identically, random fields masked.

mod common;

use std::path::Path;

fn run_dir(dir: &Path) -> Vec<String> {
    let mut failures = vec![];
    let mut cases: Vec<_> = std::fs::read_dir(dir)
        .expect("cases directory exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.join("case.yaml").exists())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    for c in &cases {
        let case = common::Case::load(c);
        let name = c
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let expected_error = std::fs::read_to_string(c.join("expected-error.txt")).ok();
        match (case.render(), expected_error) {
            (Err(e), Some(want)) => {
                for line in want.lines().filter(|l| !l.is_empty()) {
                    if !e.contains(line) {
                        failures.push(format!("{name}: error {e:?} lacks {line:?}"));
                    }
                }
            }
            (Ok(_), Some(want)) => failures.push(format!("{name}: rendered, want error {want:?}")),
            (Ok(out), None) => {
                if let Err(e) = common::compare(c, &out) {
                    failures.push(format!("{name}: {e}"));
                }
            }
            (Err(e), None) => failures.push(format!("{name}: render failed: {e}")),
        }
    }
    failures
}

#[test]
fn shared_fixture_cases_render_like_helm() {
    let failures = run_dir(&common::data_dir().join("cases"));
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn oracle_golden_cases_render_like_helm() {
    let failures = run_dir(&common::data_dir().join("oracle/cases"));
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn oracle_error_cases_fail_like_helm() {
    let failures = run_dir(&common::data_dir().join("oracle/errors"));
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
