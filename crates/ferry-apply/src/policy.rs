//! The per-object apply policy, read once for the apply engine and the dry-run diff alike.

use ferry_api::keys;
use serde_json::Value;

use crate::object;

/// What the `kustomize.toolkit.fluxcd.io/ssa` annotation (and `reconcile: disabled`) asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SsaPolicy {
    /// Take every field from Git, overriding kubectl's changes (the default).
    Override,
    /// Apply, but leave fields other managers own alone.
    Merge,
    /// Create only; never touch an existing object.
    IfNotPresent,
    /// Leave the object alone.
    Ignore,
}

impl SsaPolicy {
    pub(crate) fn of(obj: &Value) -> Self {
        if keys::is_disabled(object::annotation(obj, keys::RECONCILE_ANNOTATION))
            || keys::is_disabled(object::label(obj, keys::RECONCILE_ANNOTATION))
        {
            return Self::Ignore;
        }
        match object::annotation(obj, keys::SSA_ANNOTATION)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("merge") => Self::Merge,
            Some("ifnotpresent") => Self::IfNotPresent,
            Some("ignore") => Self::Ignore,
            _ => Self::Override,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn annotations_choose_the_policy() {
        let with =
            |annotations: Value| json!({"metadata": {"name": "x", "annotations": annotations}});
        assert_eq!(SsaPolicy::of(&with(json!({}))), SsaPolicy::Override);
        assert_eq!(
            SsaPolicy::of(&with(json!({keys::SSA_ANNOTATION: "Merge"}))),
            SsaPolicy::Merge
        );
        assert_eq!(
            SsaPolicy::of(&with(json!({keys::SSA_ANNOTATION: "IfNotPresent"}))),
            SsaPolicy::IfNotPresent
        );
        assert_eq!(
            SsaPolicy::of(&with(json!({keys::SSA_ANNOTATION: "Ignore"}))),
            SsaPolicy::Ignore
        );
        assert_eq!(
            SsaPolicy::of(&with(json!({keys::RECONCILE_ANNOTATION: "disabled"}))),
            SsaPolicy::Ignore
        );
    }
}
