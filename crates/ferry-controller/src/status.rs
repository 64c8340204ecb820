//! Writing `status` with a JSON merge patch on the status subresource. A merge patch cannot
//! remove a field by leaving it out, so fields present before and absent now are sent as null.

mod deferred;
mod fields;

pub use deferred::{DeferredStatus, Written};
pub use fields::StatusFields;

use kube::{
    Api, Resource,
    api::{Patch, PatchParams},
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The merge patch turning any of `olds` into `new`: the top-level fields that differ from at
/// least one of them (an unchanged inventory of a thousand objects is not sent again). For a
/// status whose last write may or may not have landed.
pub fn merge_patch_from<S: StatusFields>(olds: &[&S], new: &S) -> serde_json::Result<Value> {
    let mut status = Map::new();
    for old in olds {
        new.changed_fields(old, &mut status)?;
    }
    let mut patch = Map::new();
    patch.insert("status".to_owned(), Value::Object(status));
    Ok(Value::Object(patch))
}

/// Patches the status of `name` from `old` to `new`; does nothing when they are equal.
pub async fn patch_status<K, S>(
    api: &Api<K>,
    name: &str,
    old: &S,
    new: &S,
) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
    S: StatusFields,
{
    patch_status_from(api, name, &[old], new).await
}

/// Patches the status of `name` to `new` from whichever of `olds` the server holds; does
/// nothing when they all equal `new`.
pub async fn patch_status_from<K, S>(
    api: &Api<K>,
    name: &str,
    olds: &[&S],
    new: &S,
) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
    S: StatusFields,
{
    match status_patch(olds, new)? {
        Some(patch) => send_status_patch(api, name, patch).await,
        None => Ok(()),
    }
}

/// The merge patch from whichever of `olds` the server holds to `new`, `None` when they all
/// equal `new`.
pub fn status_patch<S: StatusFields>(olds: &[&S], new: &S) -> Result<Option<Value>, kube::Error> {
    if olds.iter().all(|old| *old == new) {
        return Ok(None);
    }
    merge_patch_from(olds, new)
        .map(Some)
        .map_err(kube::Error::SerdeError)
}

/// Sends a merge patch of the status of `name`.
pub async fn send_status_patch<K>(api: &Api<K>, name: &str, patch: Value) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    // What `Api::patch_status` sends, without decoding the object the server answers with:
    // nothing reads it, and for a Kustomization decoding it cost more than building the patch.
    let request = kube::core::Request::new(api.resource_url())
        .patch_subresource(
            "status",
            name,
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .map_err(kube::Error::BuildRequest)?;
    api.clone().into_client().request_text(request).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use ferry_api::{condition::Condition, kustomize::KustomizationStatus};
    use serde_json::json;

    use super::*;

    fn ready(reason: &str) -> Vec<Condition> {
        serde_json::from_value(json!([{"type": "Ready", "status": "True", "reason": reason,
            "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]))
        .unwrap()
    }

    #[test]
    fn clears_fields_that_went_away() {
        let old = KustomizationStatus {
            last_applied_revision: Some("a".into()),
            observed_generation: Some(2),
            inventory: Some(Default::default()),
            ..Default::default()
        };
        let new = KustomizationStatus {
            last_applied_revision: Some("b".into()),
            observed_generation: Some(2),
            ..Default::default()
        };
        assert_eq!(
            merge_patch_from(&[&old], &new).unwrap(),
            json!({"status": {"lastAppliedRevision": "b", "inventory": null}})
        );
    }

    #[test]
    fn a_patch_from_either_of_two_states_carries_what_differs_from_each() {
        let saved = KustomizationStatus {
            last_applied_revision: Some("a".into()),
            conditions: ready("Succeeded"),
            last_handled_reconcile_at: Some("t".into()),
            ..Default::default()
        };
        let reported = KustomizationStatus {
            last_applied_revision: Some("a".into()),
            conditions: ready("Progressing"),
            last_attempted_revision: Some("b".into()),
            ..Default::default()
        };
        let new = KustomizationStatus {
            last_applied_revision: Some("b".into()),
            conditions: ready("Succeeded"),
            last_attempted_revision: Some("b".into()),
            ..Default::default()
        };
        let patch = merge_patch_from(&[&saved, &reported], &new).unwrap();
        assert_eq!(patch["status"]["lastAppliedRevision"], "b");
        assert_eq!(patch["status"]["conditions"][0]["reason"], "Succeeded");
        assert_eq!(patch["status"]["lastAttemptedRevision"], "b");
        assert_eq!(patch["status"]["lastHandledReconcileAt"], Value::Null);
        assert_eq!(patch["status"].as_object().unwrap().len(), 4);
    }
}
