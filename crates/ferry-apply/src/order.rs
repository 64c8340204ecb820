//! The order objects are applied in, and the stages of a staged apply, as Flux's ssa package
//! defines them: cluster definitions first (CRDs, Namespaces, ClusterRoles), then `*Class`
//! kinds, then the rest in a fixed kind order; webhooks last so they cannot block the apply.

use std::cmp::Ordering;

use serde_json::Value;

use crate::object;

/// Kinds applied first, in this order; every other kind follows, by group and kind.
const FIRST: &[&str] = &[
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds applied last.
const LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// A stage of a staged apply. Objects of a stage are applied and waited for before the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// CustomResourceDefinitions, Namespaces and ClusterRoles.
    ClusterDefinitions,
    /// Kinds whose name ends in `Class`.
    ClassDefinitions,
    /// Everything else.
    Resources,
}

pub fn stage_of(kind: &str) -> Stage {
    match kind {
        "CustomResourceDefinition" | "Namespace" | "ClusterRole" => Stage::ClusterDefinitions,
        k if k.ends_with("Class") => Stage::ClassDefinitions,
        _ => Stage::Resources,
    }
}

fn rank(kind: &str) -> usize {
    if let Some(i) = FIRST.iter().position(|k| *k == kind) {
        i
    } else if let Some(i) = LAST.iter().position(|k| *k == kind) {
        FIRST.len() + 2 + i
    } else {
        FIRST.len() + 1
    }
}

/// Flux's reconcile order: kind rank, then group and kind for the unranked, then namespace and
/// name so the order is deterministic.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    let key = |o: &Value| {
        let kind = object::kind(o).unwrap_or_default().to_owned();
        let group = object::api_version(o)
            .and_then(|v| v.rsplit_once('/').map(|(g, _)| g.to_owned()))
            .unwrap_or_default();
        (
            rank(&kind),
            group,
            kind,
            object::namespace(o).unwrap_or_default().to_owned(),
            object::name(o).unwrap_or_default().to_owned(),
        )
    };
    key(a).cmp(&key(b))
}

/// Sorts objects into apply order.
pub fn sort(objects: &mut [Value]) {
    objects.sort_by(compare);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(api: &str, kind: &str, ns: &str, name: &str) -> Value {
        json!({"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": ns}})
    }

    #[test]
    fn sorts_definitions_first_and_webhooks_last() {
        let mut objs = vec![
            obj(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "",
                "w",
            ),
            obj("apps/v1", "Deployment", "b", "web"),
            obj("example.com/v1", "Widget", "a", "x"),
            obj("v1", "Namespace", "", "b"),
            obj(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "",
                "widgets.example.com",
            ),
            obj("apps/v1", "Deployment", "a", "web"),
            obj("v1", "ConfigMap", "a", "cfg"),
        ];
        sort(&mut objs);
        let kinds: Vec<String> = objs.iter().map(object::display).collect();
        assert_eq!(
            kinds,
            [
                "CustomResourceDefinition/widgets.example.com",
                "Namespace/b",
                "ConfigMap/a/cfg",
                "Deployment/a/web",
                "Deployment/b/web",
                "Widget/a/x",
                "ValidatingWebhookConfiguration/w",
            ]
        );
    }

    #[test]
    fn stages_follow_flux() {
        assert_eq!(stage_of("Namespace"), Stage::ClusterDefinitions);
        assert_eq!(stage_of("IngressClass"), Stage::ClassDefinitions);
        assert_eq!(stage_of("Deployment"), Stage::Resources);
    }
}
