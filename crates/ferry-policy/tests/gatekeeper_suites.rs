//! Runs the Gatekeeper library's own test suites (`suite.yaml`, as `gator verify` reads them)
//! on ferry-policy: every case must be allowed or denied as the suite says, with the
//! violation counts and message regexes it gives. The data is a copy of the library's
//! policies (tests/data/gatekeeper, Apache-2.0: see SOURCE.txt, LICENSE, NOTICE there).
//!
//! Each case runs twice: with the CEL engine preferred (Gatekeeper's default) and with Rego
//! preferred, so both code blocks of the templates that carry both are checked.

#![allow(clippy::print_stdout)] // the test prints the pass rate and each failure with its reason

use std::path::{Path, PathBuf};

use ferry_policy::load::read_file;
use ferry_policy::{EnginePreference, Inventory, Outcome, PolicySet, RegoRuntime, Review};
use regex::Regex;
use serde_json::Value;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gatekeeper")
}

fn documents(path: &Path) -> Result<Vec<Value>, String> {
    read_file(path, &path.to_string_lossy())
        .map(|docs| docs.into_iter().map(|d| d.value).collect())
        .map_err(|e| e.to_string())
}

/// One assertion of a case: `violations` is a count, "yes" (at least one) or "no" (none).
enum Expected {
    Count(usize),
    Some,
    None,
}

fn expected(assertion: &Value) -> Result<Expected, String> {
    match assertion.get("violations") {
        // gator: a missing `violations` means "yes".
        None => Ok(Expected::Some),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(|n| Expected::Count(n as usize))
            .ok_or_else(|| format!("bad count {n}")),
        // Unquoted yes/no are strings to gator; a YAML 1.1 reader may give booleans.
        Some(Value::Bool(true)) => Ok(Expected::Some),
        Some(Value::Bool(false)) => Ok(Expected::None),
        Some(Value::String(s)) if s == "yes" => Ok(Expected::Some),
        Some(Value::String(s)) if s == "no" => Ok(Expected::None),
        Some(other) => Err(format!("bad violations value {other}")),
    }
}

struct Case {
    label: String,
    dir: PathBuf,
    template: PathBuf,
    constraint: PathBuf,
    object: PathBuf,
    inventory: Vec<PathBuf>,
    assertions: Vec<Value>,
}

fn cases() -> Vec<Case> {
    let mut policies: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("tests/data/gatekeeper exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.join("suite.yaml").is_file())
        .collect();
    policies.sort();
    let mut cases = Vec::new();
    for dir in policies {
        let suite = documents(&dir.join("suite.yaml")).expect("suite.yaml parses");
        let suite = &suite[0];
        for test in suite["tests"].as_array().expect("tests") {
            let str_of = |v: &Value| v.as_str().expect("string").to_owned();
            for case in test["cases"].as_array().expect("cases") {
                cases.push(Case {
                    label: format!(
                        "{}/{}/{}",
                        dir.file_name().expect("name").to_string_lossy(),
                        str_of(&test["name"]),
                        str_of(&case["name"])
                    ),
                    dir: dir.clone(),
                    template: dir.join(str_of(&test["template"])),
                    constraint: dir.join(str_of(&test["constraint"])),
                    object: dir.join(str_of(&case["object"])),
                    inventory: case["inventory"]
                        .as_array()
                        .map(|items| items.iter().map(|i| dir.join(str_of(i))).collect())
                        .unwrap_or_default(),
                    assertions: case["assertions"].as_array().cloned().unwrap_or_default(),
                });
            }
        }
    }
    cases
}

fn evaluate(case: &Case, preference: EnginePreference) -> Result<Outcome, String> {
    evaluate_on(case, preference, RegoRuntime::default())
}

fn evaluate_on(
    case: &Case,
    preference: EnginePreference,
    runtime: RegoRuntime,
) -> Result<Outcome, String> {
    let mut policy_docs = documents(&case.template)?;
    policy_docs.extend(documents(&case.constraint)?);
    let set = PolicySet::from_objects(policy_docs)
        .map_err(|e| e.to_string())?
        .with_engine_preference(preference)
        .with_rego_runtime(runtime);
    let objects = documents(&case.object)?;
    let [object] = objects.as_slice() else {
        return Err(format!(
            "{} holds {} documents",
            case.object.display(),
            objects.len()
        ));
    };
    let review = if Review::is_admission_review(object) {
        Review::from_admission_review(object).map_err(|e| e.to_string())?
    } else {
        Review::bare(object.clone())
    };
    let mut inventory = Inventory::new();
    for file in &case.inventory {
        inventory.extend(documents(file)?);
    }
    let _ = &case.dir;
    Ok(set.evaluate(&[review], &inventory))
}

fn check(case: &Case, preference: EnginePreference) -> Result<(), String> {
    let outcome = evaluate(case, preference)?;
    if !outcome.errors.is_empty() {
        return Err(format!("evaluation errors: {:?}", outcome.errors));
    }
    let messages: Vec<&str> = outcome
        .violations
        .iter()
        .map(|v| v.message.as_str())
        .collect();
    for assertion in &case.assertions {
        let filter = match assertion.get("message").and_then(Value::as_str) {
            Some(pattern) => Some(Regex::new(pattern).map_err(|e| e.to_string())?),
            None => None,
        };
        let count = messages
            .iter()
            .filter(|m| filter.as_ref().is_none_or(|re| re.is_match(m)))
            .count();
        let ok = match expected(assertion)? {
            Expected::Count(n) => count == n,
            Expected::Some => count > 0,
            Expected::None => count == 0,
        };
        if !ok {
            return Err(format!(
                "assertion {assertion} failed: {count} matching violation(s) among {messages:?}"
            ));
        }
    }
    Ok(())
}

fn run_suites(preference: EnginePreference) {
    let cases = cases();
    assert_eq!(cases.len(), 160, "the 31 suites hold 160 cases");
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(reason) = check(case, preference) {
            failures.push(format!("{}: {reason}", case.label));
        }
    }
    let passed = cases.len() - failures.len();
    println!(
        "gatekeeper library suites, {preference:?} preferred: {passed}/{} cases pass ({:.1}%)",
        cases.len(),
        100.0 * passed as f64 / cases.len() as f64
    );
    for failure in &failures {
        println!("  FAIL {failure}");
    }
    assert!(
        passed * 100 >= cases.len() * 98,
        "{passed}/{} cases pass, below 98%:\n{}",
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn library_suites_pass_with_cel_preferred() {
    run_suites(EnginePreference::Cel);
}

#[test]
fn library_suites_pass_with_rego_preferred() {
    run_suites(EnginePreference::Rego);
}

/// What an outcome says, in a comparable form: each violation (object, message, details) and
/// each error (object, message), in order.
fn verdicts(outcome: &Outcome) -> Vec<String> {
    let violations = outcome
        .violations
        .iter()
        .map(|v| format!("violation {} {:?} {}", v.object, v.message, v.details));
    let errors = outcome
        .errors
        .iter()
        .map(|e| format!("error {} {:?}", e.object, e.message));
    violations.chain(errors).collect()
}

/// The bytecode VM (ferry's default Rego runtime) gives exactly the interpreter's violations,
/// messages, details and errors on every case of every suite.
#[test]
fn bytecode_vm_agrees_with_the_interpreter_on_every_case() {
    let cases = cases();
    let mut differences = Vec::new();
    for case in &cases {
        let on = |runtime| {
            evaluate_on(case, EnginePreference::Rego, runtime).map(|outcome| verdicts(&outcome))
        };
        let (interpreter, bytecode) = (on(RegoRuntime::Interpreter), on(RegoRuntime::Bytecode));
        if interpreter != bytecode {
            differences.push(format!(
                "{}:\n  interpreter {interpreter:?}\n  bytecode    {bytecode:?}",
                case.label
            ));
        }
    }
    println!(
        "bytecode VM vs interpreter: {}/{} cases identical",
        cases.len() - differences.len(),
        cases.len()
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
