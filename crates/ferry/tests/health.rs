//! `ferry health` on objects of the health corpus (crates/ferry-health/tests/data/health), run
//! as a real process.

use std::path::PathBuf;
use std::process::Command;

fn corpus(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../ferry-health/tests/data/health")
        .join(file)
}

fn ferry(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .output()
        .expect("the ferry binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn prints_a_table_of_both_views() {
    let degraded = corpus("apps_Deployment/04-deployment-degraded.yaml");
    let paused = corpus("apps_Deployment/03-deployment-suspended.yaml");
    let (ok, stdout, stderr) =
        ferry(&["health".as_ref(), degraded.as_os_str(), paused.as_os_str()]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("FILE"), "{stdout}");
    assert!(
        lines[1].contains("Deployment")
            && lines[1].contains("Degraded")
            && lines[1].contains("Failed")
    );
    assert!(
        lines[1].contains("exceeded its progress deadline"),
        "{stdout}"
    );
    assert!(
        lines[2].contains("Suspended") && lines[2].contains("Deployment is paused"),
        "{stdout}"
    );
}

#[test]
fn prints_json_with_the_full_health() {
    let certificate = corpus("cert-manager.io_Certificate/02-progressing_issuing.yaml");
    let (ok, stdout, stderr) = ferry(&[
        "health".as_ref(),
        "-o".as_ref(),
        "json".as_ref(),
        certificate.as_os_str(),
    ]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(report[0]["kind"], "Certificate");
    assert_eq!(report[0]["health"]["status"], "Progressing");
    assert_eq!(
        report[0]["health"]["message"],
        "Issuing certificate as Secret does not exist"
    );
    assert_eq!(report[0]["health"]["kstatus"], "InProgress");
    assert_eq!(report[0]["health"]["basis"], "ecosystem");
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let (ok, _, stderr) = ferry(&["health".as_ref(), "does-not-exist.yaml".as_ref()]);
    assert!(!ok);
    assert!(stderr.contains("does-not-exist.yaml"), "{stderr}");
}
