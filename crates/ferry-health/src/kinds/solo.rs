//! Gloo Edge (`gateway.solo.io`, `gloo.solo.io`, `enterprise.gloo.solo.io`): every resource is
//! validated by the Gloo controllers, which write a `state` (Pending, Accepted, Rejected,
//! Warning; or their numbers 0-3 in older versions) either at the top of the status or per
//! installation namespace under `status.statuses`.

use serde_json::Value;

use crate::object::{Object, field};
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("gateway.solo.io", "*", validated_resource),
    ecosystem("gloo.solo.io", "*", validated_resource),
    ecosystem("enterprise.gloo.solo.io", "*", validated_resource),
];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    Accepted,
    Pending,
    Warning,
    Rejected,
}

fn state_of(report: &Value) -> Option<State> {
    match report.get("state")? {
        Value::String(s) => match s.as_str() {
            "Pending" => Some(State::Pending),
            "Accepted" => Some(State::Accepted),
            "Rejected" => Some(State::Rejected),
            "Warning" => Some(State::Warning),
            _ => None,
        },
        Value::Number(n) => match n.as_i64()? {
            0 => Some(State::Pending),
            1 => Some(State::Accepted),
            2 => Some(State::Rejected),
            3 => Some(State::Warning),
            _ => None,
        },
        _ => None,
    }
}

fn validated_resource(obj: &Object<'_>) -> Option<Verdict> {
    let Some(status) = obj.get(&["status"]).filter(|s| s.is_object()) else {
        return progressing("Update in progress");
    };
    // One report per installation namespace, or a single report at the top.
    let reports: Vec<&Value> = match status.get("statuses").and_then(Value::as_object) {
        Some(per_namespace) => per_namespace.values().collect(),
        None => vec![status],
    };
    let worst = reports
        .iter()
        .filter_map(|r| state_of(r).map(|s| (s, *r)))
        .max_by_key(|(s, _)| *s);
    match worst {
        Some((State::Accepted, _)) => healthy("The resource has been validated"),
        Some((State::Pending, _)) => suspended("The resource has not yet been validated"),
        Some((State::Warning | State::Rejected, report)) => degraded(field(report, "reason")),
        None => progressing("Update in progress"),
    }
}
