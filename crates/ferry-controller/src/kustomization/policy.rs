//! The opt-in policy gate (ferry's addition; neither Flux nor Argo CD has one): Gatekeeper
//! ConstraintTemplates and constraints kept in the source are evaluated on the rendered objects
//! before anything is applied. A `deny` violation (or an evaluation that could not run) stops
//! the apply with reason PolicyViolation naming the object and the constraint; `warn` and
//! `dryrun` violations are reported in an event and the apply goes on.
//!
//! Opt in per Kustomization with the annotation `ferry.dev/policy-path: <dir in the source>`
//! (the directory holds the templates and constraints, as `ferry policy check --policies` reads
//! them). A Flux configuration without the annotation behaves exactly as under Flux.

use std::path::Path;

use ferry_policy::{Inventory, Outcome, PolicySet, Review};
use serde_json::Value;

/// The annotation that enables the gate and names the policies directory in the source.
pub const POLICY_PATH_ANNOTATION: &str = "ferry.dev/policy-path";

/// What the gate decided.
pub enum Verdict {
    /// Nothing blocks; the messages of non-blocking violations, if any, to report.
    Pass(Vec<String>),
    /// The apply must not happen.
    Deny(String),
}

/// Evaluates the policies of `artifact/<policy_path>` on the rendered objects.
pub fn check(artifact: &Path, policy_path: &str, objects: &[Value]) -> Result<Verdict, String> {
    let dir = super::build::build_dir(artifact, Some(policy_path))
        .map_err(|e| format!("policy path: {e}"))?;
    let documents =
        ferry_policy::load::read_dir(&dir, Some(artifact)).map_err(|e| e.to_string())?;
    let set = PolicySet::from_objects(documents.into_iter().map(|d| d.value))
        .map_err(|e| e.to_string())?;
    let inventory = Inventory::from_objects(objects.iter());
    let reviews: Vec<Review> = objects.iter().cloned().map(Review::create).collect();
    Ok(verdict(&set.evaluate(&reviews, &inventory)))
}

fn verdict(outcome: &Outcome) -> Verdict {
    let lines: Vec<String> = outcome
        .violations
        .iter()
        .map(|v| {
            format!(
                "{} violates {}/{} ({}): {}",
                v.object, v.constraint_kind, v.constraint, v.action, v.message
            )
        })
        .chain(outcome.errors.iter().map(|e| e.to_string()))
        .collect();
    if outcome.denies() {
        Verdict::Deny(lines.join("\n"))
    } else {
        Verdict::Pass(lines)
    }
}
