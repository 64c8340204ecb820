//! OpenShift: a Route is admitted by each router it is exposed on; an IngressController reports
//! the OpenShift operator conditions (Available, Progressing, Degraded) and its replica counts.

use crate::object::{Conditions, Object};
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing};

pub const RULES: &[Entry] = &[
    ecosystem("route.openshift.io", "Route", route),
    ecosystem(
        "operator.openshift.io",
        "IngressController",
        ingress_controller,
    ),
];

fn route(obj: &Object<'_>) -> Option<Verdict> {
    let ingress = obj.list(&["status", "ingress"]);
    let admitted: Vec<Option<bool>> = ingress
        .iter()
        .map(|i| {
            Conditions::at(i.get("conditions"))
                .get("Admitted")
                .filter(|c| !c.is_unknown())
                .map(|c| c.is_true())
        })
        .collect();
    if admitted.contains(&Some(false)) {
        return degraded("Route is degraded");
    }
    if admitted.is_empty() || admitted.contains(&None) {
        return progressing("Route is still getting admitted");
    }
    healthy("Route is healthy")
}

fn ingress_controller(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("Degraded")
        && c.is_true()
    {
        return degraded(c.message);
    }
    let spec = obj.int(&["spec", "replicas"]).unwrap_or(1);
    let available = obj.int(&["status", "availableReplicas"]).unwrap_or(0);
    if conditions
        .get("DeploymentReplicasAllAvailable")
        .is_some_and(|c| c.is_false())
    {
        return progressing(format!("{available}/{spec} of replicas are available"));
    }
    match conditions.get("Available") {
        Some(c) if c.is_true() => healthy("IngressController is available"),
        Some(c) if c.is_false() => degraded(c.message),
        _ => progressing("Status of IngressController is not known yet"),
    }
}
