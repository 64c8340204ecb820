//! Output order: kustomize's legacy order (kind rank, then group_version_kind, then
//! namespace and name) unless
//! `sortOptions` says `fifo` (input order) or gives its own first/last kinds.

use crate::resource::Resource;

pub const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

pub const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Sort in kustomize's legacy order with the given first/last kind lists.
pub fn legacy_sort(list: &mut [Resource], first: &[String], last: &[String]) {
    let rank = |kind: &str| -> i64 {
        if let Some(i) = first.iter().position(|k| k == kind) {
            return i as i64 - first.len() as i64;
        }
        if let Some(i) = last.iter().position(|k| k == kind) {
            return i as i64 + 1;
        }
        0
    };
    let mut keyed: Vec<(i64, String, String, Resource)> = Vec::with_capacity(list.len());
    for r in list.iter_mut() {
        let id = r.cur_id();
        let or = |s: &str, d: &'static str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        // kustomize's legacyGVKSortString and legacyResIDSortString.
        let gvk = format!(
            "{}_{}_{}",
            or(&id.gvk.group, "~G"),
            or(&id.gvk.version, "~V"),
            or(&id.gvk.kind, "~K")
        );
        let sort_key = format!(
            "{}|{}|{}",
            id.gvk,
            or(&id.namespace, "~X"),
            or(&id.name, "~N")
        );
        keyed.push((rank(&id.gvk.kind), gvk, sort_key, std::mem::take(r)));
    }
    keyed.sort_by(|a, b| {
        if a.1 != b.1 {
            a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1))
        } else {
            a.2.cmp(&b.2)
        }
    });
    for (slot, (_, _, _, r)) in list.iter_mut().zip(keyed) {
        *slot = r;
    }
}
