//! User checks on objects from the corpus: an Argo CD Lua health script and Flux CEL expressions
//! written for this test, a script that loops forever (stopped by the instruction limit) and
//! one that raises an error (both give Unknown with the error).

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ferry_health::{
    Basis, Checks, HealthCheckExprs, KStatus, LuaHealthScript, LuaLimits, Status,
    lua_scripts_from_argocd_cm,
};
use support::{Case, corpus};

/// A Certificate script in the style of Argo CD's customizations, written for this test.
const CERTIFICATE_LUA: &str = r#"
local health = { status = "Progressing", message = "waiting for cert-manager" }
if obj.status == nil or obj.status.conditions == nil then
  return health
end
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Issuing" and condition.status == "True" then
    return { status = "Progressing", message = "issuing: " .. (condition.message or "") }
  end
end
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Ready" then
    if condition.status == "True" then
      return { status = "Healthy", message = condition.message }
    end
    return { status = "Degraded", message = condition.message }
  end
end
return health
"#;

/// Flux's RFC-0009 example for cert-manager Certificates, guarded for a missing status.
fn certificate_cel() -> HealthCheckExprs {
    HealthCheckExprs {
        api_version: "cert-manager.io/v1".to_owned(),
        kind: "Certificate".to_owned(),
        in_progress: Some(
            "status.?conditions.orValue([]).exists(e, e.type == 'Issuing' && e.status == 'True')"
                .to_owned(),
        ),
        failed: Some(
            "status.?conditions.orValue([]).exists(e, e.type == 'Ready' && e.status == 'False')"
                .to_owned(),
        ),
        current:
            "status.?conditions.orValue([]).exists(e, e.type == 'Ready' && e.status == 'True')"
                .to_owned(),
    }
}

fn certificates() -> Vec<&'static Case> {
    let cases: Vec<&Case> = corpus()
        .iter()
        .filter(|c| c.kind_dir == "cert-manager.io_Certificate")
        .collect();
    assert_eq!(
        cases.len(),
        6,
        "the corpus has six cert-manager Certificates"
    );
    cases
}

fn script(group: &str, kind: &str, source: &str) -> LuaHealthScript {
    LuaHealthScript {
        group: group.to_owned(),
        kind: kind.to_owned(),
        script: source.to_owned(),
        use_open_libs: false,
    }
}

#[test]
fn a_lua_script_from_argocd_cm_judges_corpus_certificates() {
    let data: BTreeMap<String, String> = [(
        "resource.customizations.health.cert-manager.io_Certificate".to_owned(),
        CERTIFICATE_LUA.to_owned(),
    )]
    .into();
    let checks = Checks::new(&[], lua_scripts_from_argocd_cm(&data)).expect("the script compiles");
    for case in certificates() {
        let health = checks.assess(&case.object);
        assert_eq!(health.basis, Basis::Lua, "{}", case.name);
        assert_eq!(
            health.status, case.expected_status,
            "{}: {health:?}",
            case.name
        );
        // Without CEL expressions for the kind, the script decides the kstatus view too.
        let expected_kstatus = case.expected_status.map(Status::to_kstatus);
        assert_eq!(Some(health.kstatus), expected_kstatus, "{}", case.name);
    }
}

#[test]
fn flux_cel_expressions_judge_corpus_certificates() {
    let checks = Checks::new(&[certificate_cel()], Vec::new()).expect("the expressions parse");
    for case in certificates() {
        let health = checks.assess(&case.object);
        let expected = match case.expected_status {
            Some(Status::Healthy) => KStatus::Current,
            Some(Status::Degraded) => KStatus::Failed,
            _ => KStatus::InProgress,
        };
        assert_eq!(health.kstatus, expected, "{}: {health:?}", case.name);
        // Without a Lua script for the kind, the expressions decide the Argo CD view too.
        assert_eq!(health.basis, Basis::Cel, "{}", case.name);
        assert_eq!(health.status, Some(expected.to_status()), "{}", case.name);
    }
}

#[test]
fn with_both_lua_decides_argo_cds_view_and_cel_kstatus() {
    let lua = script(
        "cert-manager.io",
        "Certificate",
        r#"return {status = "Suspended", message = "parked"}"#,
    );
    let checks = Checks::new(&[certificate_cel()], vec![lua]).expect("both compile");
    let healthy = certificates()
        .into_iter()
        .find(|c| c.expected_status == Some(Status::Healthy))
        .expect("a healthy certificate");
    let health = checks.assess(&healthy.object);
    assert_eq!(
        (health.status, health.message.as_str()),
        (Some(Status::Suspended), "parked")
    );
    assert_eq!(health.kstatus, KStatus::Current);
}

#[test]
fn a_script_that_loops_forever_is_stopped_and_unknown() {
    let looping = script("*.crossplane.io", "*", "while true do end");
    let checks = Checks::new(&[], vec![looping])
        .expect("the script compiles")
        .with_lua_limits(LuaLimits {
            instructions: 5_000_000,
            ..LuaLimits::default()
        });
    let case = corpus()
        .iter()
        .find(|c| c.kind_dir == "rds.aws.crossplane.io_DBInstance")
        .expect("a crossplane object");
    let started = Instant::now();
    let health = checks.assess(&case.object);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(health.status, Some(Status::Unknown));
    assert_eq!(health.kstatus, KStatus::Unknown);
    assert_eq!(
        health.message,
        "lua health script exceeded its limit of 5000000 instructions"
    );
}

#[test]
fn a_script_that_errors_is_unknown_with_the_error() {
    let failing = script(
        "argoproj.io",
        "Rollout",
        r#"if obj.status.phase == nil then error("no phase on " .. obj.metadata.name) end return nil"#,
    );
    let checks = Checks::new(&[], vec![failing]).expect("the script compiles");
    let case = corpus()
        .iter()
        .find(|c| c.name == "argoproj.io_Rollout/05-healthy_legacy_v0.9_observedGeneration")
        .expect("a rollout without a phase");
    let health = checks.assess(&case.object);
    assert_eq!(health.status, Some(Status::Unknown));
    assert!(
        health.message.ends_with(&format!(
            "no phase on {}",
            case.object["metadata"]["name"].as_str().unwrap_or_default()
        )),
        "{}",
        health.message
    );
    // Indexing a missing field is an error too, as in Argo CD.
    let indexing = script(
        "argoproj.io",
        "Rollout",
        "return {status = obj.spec.nothing.here}",
    );
    let checks = Checks::new(&[], vec![indexing]).expect("the script compiles");
    let health = checks.assess(&case.object);
    assert_eq!(health.status, Some(Status::Unknown));
    assert!(
        health.message.contains("attempt to index"),
        "{}",
        health.message
    );
}

#[test]
fn a_cel_expression_on_a_missing_field_is_unknown_not_failed() {
    let unguarded = HealthCheckExprs {
        api_version: "cert-manager.io/v1".to_owned(),
        kind: "Certificate".to_owned(),
        in_progress: None,
        failed: None,
        current: "status.conditions.exists(e, e.type == 'Ready' && e.status == 'True')".to_owned(),
    };
    let checks = Checks::new(&[unguarded], Vec::new()).expect("the expression parses");
    let no_status = certificates()
        .into_iter()
        .find(|c| c.object.get("status").is_none_or(|s| s.is_null()))
        .expect("a certificate without status");
    let health = checks.assess(&no_status.object);
    assert_eq!(health.kstatus, KStatus::Unknown);
    assert!(
        health.kstatus_message.contains("conditions"),
        "{}",
        health.kstatus_message
    );
}

#[test]
fn syntax_errors_are_reported_when_checks_are_built() {
    let broken = script("cert-manager.io", "Certificate", "return {");
    assert!(Checks::new(&[], vec![broken]).is_err());
    let mut bad = certificate_cel();
    bad.current = "status.(".to_owned();
    assert!(Checks::new(&[bad], Vec::new()).is_err());
}

#[test]
fn deletion_is_judged_before_any_check() {
    let checks = Checks::new(&[], vec![script("*", "*", "while true do end")]).expect("compiles");
    let deleted = corpus()
        .iter()
        .find(|c| c.name == "core_Pod/14-pod-deletion")
        .expect("the deleted pod");
    let health = checks.assess(&deleted.object);
    assert_eq!(health.kstatus, KStatus::Terminating);
    assert_eq!(health.message, "Pending deletion");
}
