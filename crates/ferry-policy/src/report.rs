//! Violations rendered for people and for CI systems: text, JSON, GitHub Actions and
//! Azure DevOps annotation lines.

use std::fmt::Write;

use crate::policy_set::{EvaluationError, Outcome};
use crate::review::SourceLocation;
use crate::violation::Violation;

/// Output formats of `ferry policy check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// `::error file=...,line=...,title=...::message` workflow commands.
    Github,
    /// `##vso[task.logissue type=error;sourcepath=...;linenumber=...]message` logging commands.
    Azure,
}

/// Renders the outcome; every format ends with a newline when it prints anything.
pub fn render(outcome: &Outcome, format: Format) -> String {
    match format {
        Format::Text => text(outcome),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(outcome)
                .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
            s.push('\n');
            s
        }
        Format::Github => annotations(outcome, github_line),
        Format::Azure => annotations(outcome, azure_line),
    }
}

fn location(source: Option<&SourceLocation>) -> String {
    match source {
        Some(SourceLocation {
            file,
            line: Some(line),
        }) => format!("{file}:{line}"),
        Some(SourceLocation { file, line: None }) => file.clone(),
        None => "-".to_owned(),
    }
}

fn text(outcome: &Outcome) -> String {
    let mut out = String::new();
    for v in &outcome.violations {
        let _ = writeln!(
            out,
            "{} {} {} {}/{}: {}",
            location(v.location.as_ref()),
            v.action.as_str().to_uppercase(),
            v.object,
            v.constraint_kind,
            v.constraint,
            v.message
        );
    }
    for e in &outcome.errors {
        let _ = writeln!(
            out,
            "{} ERROR {} {}/{}: {}",
            location(e.location.as_ref()),
            e.object,
            e.constraint_kind,
            e.constraint,
            e.message
        );
    }
    let denied = outcome.violations.iter().filter(|v| v.is_deny()).count();
    let _ = writeln!(
        out,
        "{} violation(s) ({} deny, {} warn/dryrun), {} error(s), {} evaluation(s)",
        outcome.violations.len(),
        denied,
        outcome.violations.len() - denied,
        outcome.errors.len(),
        outcome.evaluations
    );
    out
}

/// `deny` and errors fail the pipeline; `warn` and `dryrun` are warnings.
enum Level {
    Error,
    Warning,
}

fn annotations(
    outcome: &Outcome,
    line: fn(Level, Option<&SourceLocation>, &str, &str) -> String,
) -> String {
    let mut out = String::new();
    for v in &outcome.violations {
        let level = if v.is_deny() {
            Level::Error
        } else {
            Level::Warning
        };
        out.push_str(&line(level, v.location.as_ref(), &title(v), &v.message));
    }
    for e in &outcome.errors {
        out.push_str(&line(
            Level::Error,
            e.location.as_ref(),
            &error_title(e),
            &e.message,
        ));
    }
    out
}

fn title(v: &Violation) -> String {
    format!(
        "{} {}/{} ({})",
        v.object, v.constraint_kind, v.constraint, v.action
    )
}

fn error_title(e: &EvaluationError) -> String {
    format!(
        "{} {}/{} (evaluation error)",
        e.object, e.constraint_kind, e.constraint
    )
}

/// GitHub escapes `%`, CR and LF in messages, and also `:` and `,` in properties.
fn github_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn github_property(s: &str) -> String {
    github_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github_line(
    level: Level,
    source: Option<&SourceLocation>,
    title: &str,
    message: &str,
) -> String {
    let command = match level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let mut properties = Vec::new();
    if let Some(source) = source {
        properties.push(format!("file={}", github_property(&source.file)));
        if let Some(line) = source.line {
            properties.push(format!("line={line}"));
        }
    }
    properties.push(format!("title={}", github_property(title)));
    format!(
        "::{command} {}::{}\n",
        properties.join(","),
        github_data(message)
    )
}

/// Azure DevOps escapes `%`, CR, LF, `;` and `]` in properties and `%`, CR, LF in messages.
fn azure_data(s: &str) -> String {
    s.replace('%', "%AZP25")
        .replace('\r', "%AZP0D")
        .replace('\n', "%AZP0A")
}

fn azure_property(s: &str) -> String {
    azure_data(s).replace(';', "%AZP3B").replace(']', "%AZP5D")
}

fn azure_line(level: Level, source: Option<&SourceLocation>, title: &str, message: &str) -> String {
    let kind = match level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let mut properties = format!("type={kind}");
    if let Some(source) = source {
        let _ = write!(properties, ";sourcepath={}", azure_property(&source.file));
        if let Some(line) = source.line {
            let _ = write!(properties, ";linenumber={line}");
        }
    }
    format!(
        "##vso[task.logissue {properties}]{}: {}\n",
        azure_data(title),
        azure_data(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraint::EnforcementAction;
    use crate::review::ObjectRef;
    use crate::template::Engine;

    fn outcome() -> Outcome {
        Outcome {
            violations: vec![Violation {
                object: ObjectRef {
                    group: String::new(),
                    version: "v1".into(),
                    kind: "Pod".into(),
                    namespace: "apps".into(),
                    name: "web".into(),
                },
                location: Some(SourceLocation {
                    file: "apps/web.yaml".into(),
                    line: Some(3),
                }),
                constraint_kind: "K8sRequiredLabels".into(),
                constraint: "must-have-owner".into(),
                action: EnforcementAction::Deny,
                message: "you must provide labels: {\"owner\"}, 100%".into(),
                details: serde_json::Value::Null,
                engine: Engine::Rego,
            }],
            errors: vec![],
            evaluations: 1,
        }
    }

    #[test]
    fn github_annotation_escapes_properties_and_message() {
        let line = render(&outcome(), Format::Github);
        assert_eq!(
            line,
            "::error file=apps/web.yaml,line=3,title=Pod/apps/web K8sRequiredLabels/must-have-owner (deny)::you must provide labels: {\"owner\"}, 100%25\n"
        );
    }

    #[test]
    fn azure_annotation_names_file_and_line() {
        let line = render(&outcome(), Format::Azure);
        assert_eq!(
            line,
            "##vso[task.logissue type=error;sourcepath=apps/web.yaml;linenumber=3]Pod/apps/web K8sRequiredLabels/must-have-owner (deny): you must provide labels: {\"owner\"}, 100%AZP25\n"
        );
    }

    #[test]
    fn text_lists_violation_and_summary() {
        let text = render(&outcome(), Format::Text);
        assert!(text.starts_with(
            "apps/web.yaml:3 DENY Pod/apps/web K8sRequiredLabels/must-have-owner: you must"
        ));
        assert!(
            text.contains("1 violation(s) (1 deny, 0 warn/dryrun), 0 error(s), 1 evaluation(s)")
        );
    }
}
