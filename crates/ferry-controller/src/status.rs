//! Writing `status` with a JSON merge patch on the status subresource. A merge patch cannot
//! remove a field by leaving it out, so fields present before and absent now are sent as null.

mod deferred;

pub use deferred::{DeferredStatus, Written};

use kube::{
    Api, Resource,
    api::{Patch, PatchParams},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// The merge patch turning `old` status into `new`: the top-level fields that changed (an
/// unchanged inventory of a thousand objects is not sent again).
pub fn merge_patch(old: &Value, new: &Value) -> Value {
    merge_patch_from(&[old], new)
}

/// The merge patch turning any of `olds` into `new`: the top-level fields that differ from at
/// least one of them. For a status whose last write may or may not have landed.
pub fn merge_patch_from(olds: &[&Value], new: &Value) -> Value {
    let empty = Map::new();
    let new = new.as_object().unwrap_or(&empty);
    let olds: Vec<&Map<String, Value>> = olds
        .iter()
        .map(|old| old.as_object().unwrap_or(&empty))
        .collect();
    let mut status: Map<String, Value> = new
        .iter()
        .filter(|(key, value)| olds.iter().any(|old| old.get(*key) != Some(*value)))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    for old in &olds {
        for (key, value) in old.iter() {
            if !new.contains_key(key) && !value.is_null() {
                status.insert(key.clone(), Value::Null);
            }
        }
    }
    let mut patch = Map::new();
    patch.insert("status".to_owned(), Value::Object(status));
    Value::Object(patch)
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
    S: Serialize,
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
    S: Serialize,
{
    let new = serde_json::to_value(new).map_err(kube::Error::SerdeError)?;
    let olds = olds
        .iter()
        .map(|old| serde_json::to_value(old).map_err(kube::Error::SerdeError))
        .collect::<Result<Vec<Value>, _>>()?;
    if olds.iter().all(|old| *old == new) {
        return Ok(());
    }
    let olds: Vec<&Value> = olds.iter().collect();
    let patch = Patch::Merge(merge_patch_from(&olds, &new));
    // What `Api::patch_status` sends, without decoding the object the server answers with:
    // nothing reads it, and for a Kustomization decoding it cost more than building the patch.
    let request = kube::core::Request::new(api.resource_url())
        .patch_subresource("status", name, &PatchParams::default(), &patch)
        .map_err(kube::Error::BuildRequest)?;
    api.clone().into_client().request_text(request).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clears_fields_that_went_away() {
        let old = json!({"lastAppliedRevision": "a", "inventory": {"entries": []}, "observedGeneration": 2});
        let new = json!({"lastAppliedRevision": "b", "observedGeneration": 2});
        assert_eq!(
            merge_patch(&old, &new),
            json!({"status": {"lastAppliedRevision": "b", "inventory": null}})
        );
    }

    #[test]
    fn a_patch_from_either_of_two_states_carries_what_differs_from_each() {
        let saved = json!({"lastAppliedRevision": "a", "conditions": ["ready"], "history": [1]});
        let reported = json!({"lastAppliedRevision": "a", "conditions": ["progressing"], "lastAttemptedRevision": "b"});
        let new = json!({"lastAppliedRevision": "b", "conditions": ["ready"], "lastAttemptedRevision": "b"});
        assert_eq!(
            merge_patch_from(&[&saved, &reported], &new),
            json!({"status": {
                "lastAppliedRevision": "b",
                "conditions": ["ready"],
                "lastAttemptedRevision": "b",
                "history": null,
            }})
        );
    }
}
