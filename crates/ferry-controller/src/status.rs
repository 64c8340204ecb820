//! Writing `status` with a JSON merge patch on the status subresource. A merge patch cannot
//! remove a field by leaving it out, so fields present before and absent now are sent as null.

use kube::{
    Api, Resource,
    api::{Patch, PatchParams},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// The merge patch turning `old` status into `new`: the top-level fields that changed (an
/// unchanged inventory of a thousand objects is not sent again).
pub fn merge_patch(old: &Value, new: &Value) -> Value {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let mut status: Map<String, Value> = new
        .as_object()
        .unwrap_or(&empty)
        .iter()
        .filter(|(key, value)| old.get(*key) != Some(*value))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let new = new.as_object().unwrap_or(&empty);
    for (key, value) in old {
        if !new.contains_key(key) && !value.is_null() {
            status.insert(key.clone(), Value::Null);
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
    let old = serde_json::to_value(old).map_err(kube::Error::SerdeError)?;
    let new = serde_json::to_value(new).map_err(kube::Error::SerdeError)?;
    if old == new {
        return Ok(());
    }
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(merge_patch(&old, &new)),
    )
    .await?;
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
}
