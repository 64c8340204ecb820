//! One run of a policy set over many reviews: match, bind, evaluate on all cores, merge.
//!
//! The run is organised per template rather than per object, as Gatekeeper's audit
//! evaluates many reviews per query:
//! 1. every constraint is matched against every review (cheap), which gives for each
//!    constraint the list of reviews to evaluate;
//! 2. each template in use is bound once to the run's data (`data.inventory`, converted to
//!    Rego once for all templates), each constraint's parameters and each review are
//!    converted once, on first use, whatever the number of templates that read them;
//! 3. the (constraint, reviews) lists are cut into small units that the workers (one per core)
//!    take in turn, so a costly template does not leave a core idle; a worker keeps one
//!    prepared evaluator (VM or CEL context) per template for all the units it takes;
//! 4. the findings are put back in review, then constraint order.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use regorus::Value as RegoValue;
use serde_json::Value;

use crate::cel::{self, CelConstraint, CelReview};
use crate::inventory::Inventory;
use crate::matching;
use crate::policy_set::{EvaluationError, Outcome, PolicySet};
use crate::rego::{self, BoundRego, RegoRunner};
use crate::review::Review;
use crate::template::Engine;
use crate::violation::Violation;

/// Reviews per unit of work: small enough that the last units finish together on all cores,
/// large enough that taking a unit costs nothing next to evaluating it.
const UNIT: usize = 16;

/// What one (review, constraint) evaluation produced: violations (message and details) or
/// the reason it could not be evaluated.
struct Finding {
    review: usize,
    constraint: usize,
    result: Result<Vec<(String, Value)>, String>,
}

/// Everything the workers share during a run.
struct Shared<'a> {
    set: &'a PolicySet,
    reviews: &'a [Review],
    namespaces: HashMap<&'a str, &'a Value>,
    inventory: &'a Inventory,
    /// Indices of the reviews each constraint matches.
    matched: Vec<Vec<usize>>,
    /// (constraint, range of `matched[constraint]`).
    units: Vec<(usize, Range<usize>)>,
    next_unit: AtomicUsize,
    /// Per template: bound for Rego when some constraint evaluates it with Rego.
    bound: Vec<Option<Result<BoundRego<'a>, String>>>,
    /// Per constraint, converted on first use.
    rego_parameters: Vec<OnceLock<Result<RegoValue, String>>>,
    cel_constraints: Vec<OnceLock<CelConstraint>>,
    /// Per review, converted on first use.
    rego_reviews: Vec<OnceLock<Result<RegoValue, String>>>,
    cel_reviews: Vec<OnceLock<CelReview>>,
}

impl Shared<'_> {
    fn namespace(&self, name: &str) -> Option<&Value> {
        self.namespaces
            .get(name)
            .copied()
            .or_else(|| self.inventory.namespace(name))
    }
}

pub(crate) fn run(set: &PolicySet, reviews: &[Review], inventory: &Inventory) -> Outcome {
    let constraints = set.constraints();
    let namespaces: HashMap<&str, &Value> = reviews
        .iter()
        .map(Review::any_object)
        .filter(|o| {
            crate::value::get_str(o, &["kind"]) == "Namespace"
                && crate::value::get_str(o, &["apiVersion"]) == "v1"
        })
        .map(|o| (crate::value::get_str(o, &["metadata", "name"]), o))
        .collect();
    let namespace_of = |name: &str| {
        namespaces
            .get(name)
            .copied()
            .or_else(|| inventory.namespace(name))
    };

    let mut findings = Vec::new();
    let mut matched = vec![Vec::new(); constraints.len()];
    for (r, review) in reviews.iter().enumerate() {
        for (c, constraint) in constraints.iter().enumerate() {
            match matching::matches(&constraint.matcher, review, namespace_of) {
                Ok(true) => matched[c].push(r),
                Ok(false) => {}
                Err(e) => findings.push(Finding {
                    review: r,
                    constraint: c,
                    result: Err(e.to_string()),
                }),
            }
        }
    }
    let evaluations = matched.iter().map(Vec::len).sum();

    // Templates some matching constraint evaluates with Rego.
    let mut on_rego = vec![false; set.templates().len()];
    for (c, list) in matched.iter().enumerate() {
        let template = set.template_of(c);
        if !list.is_empty() && set.engine_for(template) == Engine::Rego {
            on_rego[set.template_index_of(c)] = true;
        }
    }
    let inventory_value = set
        .templates()
        .iter()
        .zip(&on_rego)
        .any(|(t, &used)| used && t.uses_inventory())
        .then(|| rego::inventory_value(&inventory.to_json()));
    let bound = set
        .templates()
        .iter()
        .zip(&on_rego)
        .map(|(template, &used)| {
            if !used {
                return None;
            }
            let Some(program) = &template.rego else {
                return Some(Err("template has no Rego".to_owned()));
            };
            let inventory = match (&inventory_value, program.uses_inventory()) {
                (Some(Ok(value)), true) => Some(value),
                (Some(Err(e)), true) => {
                    return Some(Err(format!("the inventory cannot be given to Rego: {e}")));
                }
                _ => None,
            };
            Some(Ok(program.bind(inventory, set.rego_runtime())))
        })
        .collect();

    let units = matched
        .iter()
        .enumerate()
        .flat_map(|(c, list)| {
            (0..list.len())
                .step_by(UNIT)
                .map(move |start| (c, start..(start + UNIT).min(list.len())))
        })
        .collect::<Vec<_>>();
    let shared = Shared {
        set,
        reviews,
        inventory,
        matched,
        next_unit: AtomicUsize::new(0),
        bound,
        rego_parameters: constraints.iter().map(|_| OnceLock::new()).collect(),
        cel_constraints: constraints.iter().map(|_| OnceLock::new()).collect(),
        rego_reviews: reviews.iter().map(|_| OnceLock::new()).collect(),
        cel_reviews: reviews.iter().map(|_| OnceLock::new()).collect(),
        namespaces,
        units,
    };

    let workers = std::thread::available_parallelism()
        .map(NonZeroUsize::get)
        .unwrap_or(1)
        .min(shared.units.len())
        .max(1);
    if workers == 1 {
        findings.extend(Worker::new(&shared).run());
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let shared = &shared;
                    scope.spawn(move || Worker::new(shared).run())
                })
                .collect();
            for handle in handles {
                match handle.join() {
                    Ok(found) => findings.extend(found),
                    // A lost worker would silently drop its findings: let the panic through.
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
    }
    merge(&shared, findings, evaluations)
}

/// One thread's evaluators, kept across the units it takes.
struct Worker<'s, 'a> {
    shared: &'s Shared<'a>,
    /// Per template.
    rego: Vec<Option<RegoRunner<'s>>>,
    cel: Option<kube_cel::cel::Context<'static>>,
    findings: Vec<Finding>,
}

impl<'s, 'a> Worker<'s, 'a> {
    fn new(shared: &'s Shared<'a>) -> Worker<'s, 'a> {
        Worker {
            shared,
            rego: shared.set.templates().iter().map(|_| None).collect(),
            cel: None,
            findings: Vec::new(),
        }
    }

    fn run(mut self) -> Vec<Finding> {
        let shared = self.shared;
        while let Some((constraint, range)) = shared
            .units
            .get(shared.next_unit.fetch_add(1, Ordering::Relaxed))
        {
            for &review in &shared.matched[*constraint][range.clone()] {
                let result = self.evaluate(review, *constraint);
                self.findings.push(Finding {
                    review,
                    constraint: *constraint,
                    result,
                });
            }
        }
        self.findings
    }

    fn evaluate(&mut self, r: usize, c: usize) -> Result<Vec<(String, Value)>, String> {
        let shared = self.shared;
        let set = shared.set;
        let review = &shared.reviews[r];
        let template_index = set.template_index_of(c);
        let template = set.template_of(c);
        match set.engine_for(template) {
            Engine::Cel => {
                let Some(program) = &template.cel else {
                    return Ok(Vec::new());
                };
                let cel_review = shared.cel_reviews[r]
                    .get_or_init(|| CelReview::new(review, shared.namespace(review.namespace())));
                let constraint = &set.constraints()[c];
                let cel_constraint = shared.cel_constraints[c].get_or_init(|| {
                    CelConstraint::new(&constraint.kind, &constraint.name, &constraint.parameters)
                });
                let context = self.cel.get_or_insert_with(cel::base_context);
                Ok(program
                    .evaluate(context, cel_review, cel_constraint)
                    .into_iter()
                    .map(|message| (message, Value::Null))
                    .collect())
            }
            Engine::Rego => {
                let bound = match &shared.bound[template_index] {
                    Some(Ok(bound)) => bound,
                    Some(Err(message)) => return Err(message.clone()),
                    None => return Err("internal error: template not prepared for Rego".into()),
                };
                let runner = self.rego[template_index].get_or_insert_with(|| bound.runner());
                let review_value = shared.rego_reviews[r]
                    .get_or_init(|| rego::to_value(&review.to_request()))
                    .as_ref()
                    .map_err(|e| format!("the review cannot be given to Rego: {e}"))?;
                let parameters = shared.rego_parameters[c]
                    .get_or_init(|| rego::to_value(&set.constraints()[c].parameters))
                    .as_ref()
                    .map_err(|e| format!("the parameters cannot be given to Rego: {e}"))?;
                Ok(runner
                    .evaluate(review_value, parameters)?
                    .into_iter()
                    .map(|v| (v.message, v.details))
                    .collect())
            }
        }
    }
}

/// Puts the findings in review, then constraint order and turns them into the outcome.
fn merge(shared: &Shared<'_>, mut findings: Vec<Finding>, evaluations: usize) -> Outcome {
    // Stable: each worker kept a (review, constraint) pair's findings together.
    findings.sort_by_key(|f| (f.review, f.constraint));
    let set = shared.set;
    let mut outcome = Outcome {
        evaluations,
        ..Outcome::default()
    };
    for finding in findings {
        let review = &shared.reviews[finding.review];
        let constraint = &set.constraints()[finding.constraint];
        match finding.result {
            Ok(found) => {
                let engine = set.engine_for(set.template_of(finding.constraint));
                outcome
                    .violations
                    .extend(found.into_iter().map(|(message, details)| Violation {
                        object: review.object_ref(),
                        location: review.location.clone(),
                        constraint_kind: constraint.kind.clone(),
                        constraint: constraint.name.clone(),
                        action: constraint.action,
                        message,
                        details,
                        engine,
                    }));
            }
            Err(message) => outcome.errors.push(EvaluationError {
                object: review.object_ref(),
                location: review.location.clone(),
                constraint_kind: constraint.kind.clone(),
                constraint: constraint.name.clone(),
                message,
            }),
        }
    }
    outcome
}
