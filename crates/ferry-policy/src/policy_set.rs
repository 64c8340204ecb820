//! A compiled set of templates and constraints, evaluated over many reviews.

use serde::Serialize;
use serde_json::Value;

use crate::constraint::Constraint;
use crate::error::Error;
use crate::evaluation;
use crate::inventory::Inventory;
use crate::rego::RegoRuntime;
use crate::review::{ObjectRef, Review, SourceLocation};
use crate::template::{Engine, Template};
use crate::violation::Violation;

/// Which engine runs a template that has both Rego and CEL code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
///
/// ferry defaults to Rego: both engines give the same verdicts on every case of the
/// Gatekeeper library's suites, and Rego evaluates about 2x faster here (cel 0.13 deep-copies
/// values at each function call). [`EnginePreference::Cel`] is Gatekeeper's own choice when
/// K8s-native validation is on.
pub enum EnginePreference {
    /// CEL (`K8sNativeValidation`) first, as Gatekeeper does with K8s-native validation on.
    Cel,
    /// Rego first (ferry's default).
    #[default]
    Rego,
}

/// A constraint that could not be evaluated on an object.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("constraint {constraint_kind}/{constraint} on {object}: {message}")]
pub struct EvaluationError {
    pub object: ObjectRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
    pub constraint_kind: String,
    pub constraint: String,
    pub message: String,
}

/// What evaluating a policy set produced.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub violations: Vec<Violation>,
    /// Evaluations that failed (a Rego runtime error, a missing Namespace for a selector):
    /// a gate should treat them as blocking, since nothing was checked.
    pub errors: Vec<EvaluationError>,
    /// Number of (object, constraint) pairs evaluated, after matching.
    pub evaluations: usize,
}

impl Outcome {
    /// Whether a violation blocks the change (`deny`), or an evaluation failed.
    pub fn denies(&self) -> bool {
        !self.errors.is_empty() || self.violations.iter().any(Violation::is_deny)
    }
}

/// Templates and constraints, compiled once and evaluated many times.
#[derive(Debug)]
pub struct PolicySet {
    templates: Vec<Template>,
    constraints: Vec<Constraint>,
    /// Index into `templates` of each constraint.
    template_of: Vec<usize>,
    preference: EnginePreference,
    runtime: RegoRuntime,
}

impl PolicySet {
    /// Builds a policy set from documents: ConstraintTemplates and constraints
    /// (`constraints.gatekeeper.sh/*`); other documents are ignored. Every template must
    /// compile and every constraint must have a template; all problems are reported at once.
    pub fn from_objects(documents: impl IntoIterator<Item = Value>) -> Result<PolicySet, Error> {
        let mut errors = Vec::new();
        let mut templates: Vec<Template> = Vec::new();
        let mut constraint_docs = Vec::new();
        // Kinds whose template failed: their constraints are not reported again.
        let mut failed_kinds = Vec::new();
        for document in documents {
            if Template::is_template(&document) {
                match Template::compile(&document) {
                    Ok(template) => {
                        if let Some(existing) = templates.iter().find(|t| t.kind == template.kind) {
                            errors.push(Error::DuplicateTemplate {
                                kind: template.kind.clone(),
                                first: existing.name.clone(),
                                second: template.name.clone(),
                            });
                        } else {
                            templates.push(template);
                        }
                    }
                    Err(e) => {
                        failed_kinds.push(
                            crate::value::get_str(
                                &document,
                                &["spec", "crd", "spec", "names", "kind"],
                            )
                            .to_owned(),
                        );
                        errors.push(e.into());
                    }
                }
            } else if Constraint::is_constraint(&document) {
                constraint_docs.push(document);
            } else {
                tracing::debug!(
                    kind = crate::value::get_str(&document, &["kind"]),
                    "ignoring a document that is neither a ConstraintTemplate nor a constraint"
                );
            }
        }
        let mut constraints: Vec<Constraint> = Vec::new();
        let mut template_of = Vec::new();
        for document in &constraint_docs {
            let constraint = match Constraint::parse(document) {
                Ok(c) => c,
                Err(e) => {
                    errors.push(e.into());
                    continue;
                }
            };
            if constraints
                .iter()
                .any(|c| c.kind == constraint.kind && c.name == constraint.name)
            {
                errors.push(Error::DuplicateConstraint {
                    kind: constraint.kind,
                    name: constraint.name,
                });
                continue;
            }
            match templates.iter().position(|t| t.kind == constraint.kind) {
                Some(index) => {
                    template_of.push(index);
                    constraints.push(constraint);
                }
                None => {
                    if !failed_kinds.contains(&constraint.kind) {
                        errors.push(Error::NoTemplateForConstraint {
                            kind: constraint.kind,
                            name: constraint.name,
                        });
                    }
                }
            }
        }
        if let Some(error) = Error::from_list(errors) {
            return Err(error);
        }
        Ok(PolicySet {
            templates,
            constraints,
            template_of,
            preference: EnginePreference::default(),
            runtime: RegoRuntime::default(),
        })
    }

    /// Chooses the engine for templates that carry both Rego and CEL.
    pub fn with_engine_preference(mut self, preference: EnginePreference) -> PolicySet {
        self.preference = preference;
        self
    }

    /// Chooses how Rego runs: regorus' bytecode VM (the default) or its tree interpreter.
    pub fn with_rego_runtime(mut self, runtime: RegoRuntime) -> PolicySet {
        self.runtime = runtime;
        self
    }

    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    pub(crate) fn rego_runtime(&self) -> RegoRuntime {
        self.runtime
    }

    /// The template of constraint `index` (in [`PolicySet::constraints`] order).
    pub(crate) fn template_of(&self, index: usize) -> &Template {
        &self.templates[self.template_of[index]]
    }

    pub(crate) fn template_index_of(&self, index: usize) -> usize {
        self.template_of[index]
    }

    pub(crate) fn engine_for(&self, template: &Template) -> Engine {
        match (
            self.preference,
            template.cel.is_some(),
            template.rego.is_some(),
        ) {
            (EnginePreference::Cel, true, _) | (EnginePreference::Rego, true, false) => Engine::Cel,
            _ => Engine::Rego,
        }
    }

    /// Evaluates every constraint on every review it matches. `inventory` is `data.inventory`
    /// and the source of Namespace objects for `namespaceSelector` (Namespaces among the
    /// reviews are found too). Work is spread over the available cores.
    ///
    /// Violations and errors come in review order, then constraint order, then the order the
    /// template produced them in.
    pub fn evaluate(&self, reviews: &[Review], inventory: &Inventory) -> Outcome {
        evaluation::run(self, reviews, inventory)
    }
}
