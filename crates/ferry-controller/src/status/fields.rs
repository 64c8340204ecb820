//! Which top-level fields of a status changed, compared as typed values.
//!
//! A merge patch of a status carries the top-level fields that changed. Finding them by
//! serializing the old and the new status whole and comparing the JSON trees cost more than
//! the rest of a quick reconcile's status write: a Kustomization's status holds its inventory
//! and history. Comparing the typed fields first leaves only the changed ones to serialize.

use ferry_api::{
    kustomize::KustomizationStatus, receiver::ReceiverStatus, source::GitRepositoryStatus,
};
use serde_json::{Map, Value};

/// A status whose top-level fields can be compared one by one.
pub trait StatusFields: PartialEq {
    /// Adds to `patch` each top-level field of `self` that differs from `old`: its JSON, or
    /// null where `self` leaves the field out (a merge patch removes a field only so).
    fn changed_fields(&self, old: &Self, patch: &mut Map<String, Value>) -> serde_json::Result<()>;
}

/// A field serde leaves out of the JSON when it is empty (`skip_serializing_if`); every field
/// of a status is one.
trait Omitted {
    fn omitted(&self) -> bool;
}

impl<T> Omitted for Option<T> {
    fn omitted(&self) -> bool {
        self.is_none()
    }
}

impl<T> Omitted for Vec<T> {
    fn omitted(&self) -> bool {
        self.is_empty()
    }
}

/// Implements [`StatusFields`] for a status from its fields and their JSON names. The tests
/// check the list against the type's serialization, so a field added to the type and not here
/// fails them.
macro_rules! status_fields {
    ($ty:ty { $($field:ident: $json:literal),* $(,)? }) => {
        impl StatusFields for $ty {
            fn changed_fields(
                &self,
                old: &Self,
                patch: &mut Map<String, Value>,
            ) -> serde_json::Result<()> {
                $(
                    if self.$field != old.$field {
                        let value = if self.$field.omitted() {
                            Value::Null
                        } else {
                            serde_json::to_value(&self.$field)?
                        };
                        patch.insert($json.to_owned(), value);
                    }
                )*
                Ok(())
            }
        }
    };
}

status_fields!(KustomizationStatus {
    observed_generation: "observedGeneration",
    conditions: "conditions",
    last_applied_revision: "lastAppliedRevision",
    last_applied_origin_revision: "lastAppliedOriginRevision",
    last_attempted_revision: "lastAttemptedRevision",
    last_handled_reconcile_at: "lastHandledReconcileAt",
    inventory: "inventory",
    history: "history",
});

status_fields!(GitRepositoryStatus {
    observed_generation: "observedGeneration",
    conditions: "conditions",
    artifact: "artifact",
    included_artifacts: "includedArtifacts",
    observed_ignore: "observedIgnore",
    observed_recurse_submodules: "observedRecurseSubmodules",
    observed_include: "observedInclude",
    observed_sparse_checkout: "observedSparseCheckout",
    source_verification_mode: "sourceVerificationMode",
    last_handled_reconcile_at: "lastHandledReconcileAt",
});

status_fields!(ReceiverStatus {
    conditions: "conditions",
    last_handled_reconcile_at: "lastHandledReconcileAt",
    observed_generation: "observedGeneration",
    webhook_path: "webhookPath",
});

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;
    use serde_json::json;

    use super::*;

    fn condition() -> Value {
        json!({"type": "Ready", "status": "True", "reason": "Succeeded", "message": "m",
               "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1})
    }

    fn artifact() -> Value {
        json!({"path": "p", "url": "http://x/p", "revision": "main@sha1:abc",
               "digest": "sha256:00", "lastUpdateTime": "2026-01-01T00:00:00Z", "size": 1})
    }

    /// Every field set, as JSON: the lists below must name each of them.
    fn full_statuses() -> [(&'static str, Value); 3] {
        [
            (
                "Kustomization",
                json!({
                    "observedGeneration": 2,
                    "conditions": [condition()],
                    "lastAppliedRevision": "a",
                    "lastAppliedOriginRevision": "o",
                    "lastAttemptedRevision": "b",
                    "lastHandledReconcileAt": "now",
                    "inventory": {"entries": [{"id": "ns_cm__ConfigMap", "v": "v1"}]},
                    "history": [{"digest": "sha256:1", "firstReconciled": "2026-01-01T00:00:00Z",
                        "lastReconciled": "2026-01-01T00:00:00Z", "lastReconciledDuration": "1s",
                        "lastReconciledStatus": "ReconciliationSucceeded", "totalReconciliations": 1,
                        "metadata": {"revision": "a"}}],
                }),
            ),
            (
                "GitRepository",
                json!({
                    "observedGeneration": 2,
                    "conditions": [condition()],
                    "artifact": artifact(),
                    "includedArtifacts": [artifact()],
                    "observedIgnore": "*.md",
                    "observedRecurseSubmodules": true,
                    "observedInclude": [{"repository": {"name": "other"}}],
                    "observedSparseCheckout": ["apps"],
                    "sourceVerificationMode": "HEAD",
                    "lastHandledReconcileAt": "now",
                }),
            ),
            (
                "Receiver",
                json!({
                    "conditions": [condition()],
                    "lastHandledReconcileAt": "now",
                    "observedGeneration": 2,
                    "webhookPath": "/hook/x",
                }),
            ),
        ]
    }

    fn changed<S: StatusFields>(new: &S, old: &S) -> Value {
        let mut patch = Map::new();
        new.changed_fields(old, &mut patch).unwrap();
        Value::Object(patch)
    }

    fn check<S: StatusFields + serde::Serialize + DeserializeOwned + Default>(
        kind: &str,
        json: &Value,
    ) {
        let full: S = serde_json::from_value(json.clone()).unwrap();
        let serialized = serde_json::to_value(&full).unwrap();
        assert_eq!(&serialized, json, "{kind}: the sample sets every field");
        assert_eq!(
            changed(&full, &S::default()),
            serialized,
            "{kind}: every field is compared"
        );
        let nulls: Map<String, Value> = serialized
            .as_object()
            .unwrap()
            .keys()
            .map(|k| (k.clone(), Value::Null))
            .collect();
        assert_eq!(
            changed(&S::default(), &full),
            Value::Object(nulls),
            "{kind}"
        );
        assert_eq!(changed(&full, &full), json!({}), "{kind}");
    }

    #[test]
    fn every_field_of_each_status_is_compared_under_its_json_name() {
        let [kustomization, git, receiver] = full_statuses();
        check::<KustomizationStatus>(kustomization.0, &kustomization.1);
        check::<GitRepositoryStatus>(git.0, &git.1);
        check::<ReceiverStatus>(receiver.0, &receiver.1);
    }

    #[test]
    fn only_the_fields_that_differ_are_sent() {
        let old: KustomizationStatus =
            serde_json::from_value(full_statuses()[0].1.clone()).unwrap();
        let mut new = old.clone();
        new.last_applied_revision = Some("c".into());
        new.last_handled_reconcile_at = None;
        assert_eq!(
            changed(&new, &old),
            json!({"lastAppliedRevision": "c", "lastHandledReconcileAt": null})
        );
    }
}
