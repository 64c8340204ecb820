//! core/v1 Service, PersistentVolumeClaim and Namespace, and networking Ingress: objects whose
//! health is one status field (a load balancer address, a bind phase, a namespace phase).

use crate::object::Object;
use crate::rules::{Entry, Verdict, core, degraded, healthy, progressing, unknown};

pub const RULES: &[Entry] = &[
    core("", "Service", service),
    core("", "PersistentVolumeClaim", persistent_volume_claim),
    core("", "Namespace", namespace),
    core("networking.k8s.io", "Ingress", ingress),
    core("extensions", "Ingress", ingress),
];

/// A LoadBalancer Service is Progressing until the cloud reports at least one ingress point;
/// every other Service is Healthy.
fn service(obj: &Object<'_>) -> Option<Verdict> {
    if obj.str(&["spec", "type"]) == Some("LoadBalancer")
        && obj.list(&["status", "loadBalancer", "ingress"]).is_empty()
    {
        return progressing("");
    }
    healthy("")
}

/// An Ingress is Healthy once its controller publishes an address.
fn ingress(obj: &Object<'_>) -> Option<Verdict> {
    if obj.list(&["status", "loadBalancer", "ingress"]).is_empty() {
        progressing("")
    } else {
        healthy("")
    }
}

fn persistent_volume_claim(obj: &Object<'_>) -> Option<Verdict> {
    match obj.str_or_empty(&["status", "phase"]) {
        "Bound" => healthy(""),
        "Pending" => progressing(""),
        "Lost" => degraded(""),
        _ => unknown(""),
    }
}

/// A Namespace is Healthy while Active and Progressing while its content is being deleted.
fn namespace(obj: &Object<'_>) -> Option<Verdict> {
    match obj.str(&["status", "phase"]) {
        Some("Terminating") => {
            let stuck = obj
                .conditions()
                .iter()
                .filter(|c| c.is_true() && c.kind.contains("Failure"))
                .map(|c| c.message)
                .collect::<Vec<_>>();
            progressing(if stuck.is_empty() {
                "Namespace is terminating".to_owned()
            } else {
                format!("Namespace is terminating: {}", stuck.join("; "))
            })
        }
        Some("Active") | None => healthy(""),
        Some(other) => unknown(format!("Namespace phase is {other}")),
    }
}
