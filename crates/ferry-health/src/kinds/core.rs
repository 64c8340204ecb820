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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use serde_json::json;

    fn judge(value: serde_json::Value) -> Option<Status> {
        let obj = Object::new(&value);
        crate::rules::lookup(obj.group, obj.kind)
            .and_then(|(rule, _)| rule(&obj))
            .map(|v| v.status)
    }

    #[test]
    fn a_namespace_is_healthy_while_active_and_progressing_while_terminating() {
        assert_eq!(
            judge(json!({"apiVersion": "v1", "kind": "Namespace", "status": {"phase": "Active"}})),
            Some(Status::Healthy)
        );
        assert_eq!(
            judge(json!({"apiVersion": "v1", "kind": "Namespace"})),
            Some(Status::Healthy)
        );
        let stuck = json!({"apiVersion": "v1", "kind": "Namespace", "status": {"phase": "Terminating", "conditions": [
            {"type": "NamespaceFinalizersRemaining", "status": "False"},
            {"type": "NamespaceDeletionContentFailure", "status": "True", "message": "webhook down"}]}});
        let obj = Object::new(&stuck);
        let verdict = namespace(&obj).expect("a verdict");
        assert_eq!(verdict.status, Status::Progressing);
        assert_eq!(verdict.message, "Namespace is terminating: webhook down");
    }

    #[test]
    fn a_lost_claim_is_degraded() {
        assert_eq!(
            judge(
                json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": {"phase": "Lost"}})
            ),
            Some(Status::Degraded)
        );
    }
}
