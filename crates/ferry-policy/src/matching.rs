//! Gatekeeper's `spec.match` semantics: which reviews a constraint applies to.

use serde_json::{Map, Value};

use crate::constraint::{LabelSelector, Match, Scope};
use crate::review::Review;
use crate::value::{get, get_str, split_api_version};

/// A constraint could not be matched against an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    #[error(
        "namespaceSelector needs Namespace {0:?}, which is neither among the rendered objects nor in the inventory"
    )]
    NamespaceNotFound(String),
}

/// Whether `review` is selected by `m`. `namespace_of` returns the Namespace object by name.
pub(crate) fn matches<'n>(
    m: &Match,
    review: &Review,
    namespace_of: impl Fn(&str) -> Option<&'n Value>,
) -> Result<bool, MatchError> {
    let object = review.any_object();
    let is_namespace = is_namespace(object);
    let namespace = review.namespace();
    // Objects without a namespace are cluster-scoped (a Namespace counts as cluster-scoped).
    let cluster_scoped = namespace.is_empty();
    if !kinds_match(m, object) {
        return Ok(false);
    }
    match m.scope {
        Scope::All => {}
        Scope::Cluster if !cluster_scoped => return Ok(false),
        Scope::Namespaced if cluster_scoped => return Ok(false),
        _ => {}
    }
    // For a Namespace, the namespace criteria apply to its own name.
    let effective_namespace = if is_namespace {
        get_str(object, &["metadata", "name"])
    } else {
        namespace
    };
    let namespace_applies = is_namespace || !cluster_scoped;
    if namespace_applies
        && !m.namespaces.is_empty()
        && !m
            .namespaces
            .iter()
            .any(|p| glob_match(p, effective_namespace))
    {
        return Ok(false);
    }
    if namespace_applies
        && m.excluded_namespaces
            .iter()
            .any(|p| glob_match(p, effective_namespace))
    {
        return Ok(false);
    }
    if let Some(name) = &m.name
        && !glob_match(name, get_str(object, &["metadata", "name"]))
    {
        return Ok(false);
    }
    if let Some(selector) = &m.label_selector {
        // On UPDATE a change to the labels must not let an object slip out of a constraint:
        // Gatekeeper matches when the object or the old object matches.
        if !review
            .label_sets()
            .any(|labels| selector_matches(selector, labels))
        {
            return Ok(false);
        }
    }
    if let Some(selector) = &m.namespace_selector {
        if is_namespace {
            if !review
                .label_sets()
                .any(|labels| selector_matches(selector, labels))
            {
                return Ok(false);
            }
        } else if !cluster_scoped {
            let ns = namespace_of(namespace)
                .ok_or_else(|| MatchError::NamespaceNotFound(namespace.to_owned()))?;
            let labels = get(ns, &["metadata", "labels"]).and_then(Value::as_object);
            if !selector_matches(selector, labels) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn is_namespace(object: &Value) -> bool {
    get_str(object, &["kind"]) == "Namespace" && get_str(object, &["apiVersion"]) == "v1"
}

fn kinds_match(m: &Match, object: &Value) -> bool {
    if m.kinds.is_empty() {
        return true;
    }
    let (group, _) = split_api_version(get_str(object, &["apiVersion"]));
    let kind = get_str(object, &["kind"]);
    m.kinds.iter().any(|selector| {
        let group_ok = selector.api_groups.is_empty()
            || selector.api_groups.iter().any(|g| g == "*" || g == group);
        let kind_ok =
            selector.kinds.is_empty() || selector.kinds.iter().any(|k| k == "*" || k == kind);
        group_ok && kind_ok
    })
}

/// Gatekeeper's namespace and name patterns: exact, `prefix*`, `*suffix` (or `*` for all).
pub(crate) fn glob_match(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return value.starts_with(prefix);
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return value.ends_with(suffix);
    }
    pattern == value
}

/// Kubernetes label selector semantics; an empty selector matches everything.
pub(crate) fn selector_matches(
    selector: &LabelSelector,
    labels: Option<&Map<String, Value>>,
) -> bool {
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    let labels_ok = selector
        .match_labels
        .iter()
        .all(|(k, v)| label(k) == Some(v.as_str()));
    labels_ok
        && selector.match_expressions.iter().all(|req| {
            let value = label(&req.key);
            match req.operator.as_str() {
                "In" => value.is_some_and(|v| req.values.iter().any(|x| x == v)),
                "NotIn" => value.is_none_or(|v| !req.values.iter().any(|x| x == v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                // An unknown operator selects nothing, as the API server rejects it.
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Match {
        serde_json::from_value(v).unwrap()
    }

    fn pod(ns: &str, labels: Value) -> Review {
        Review::bare(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": ns, "labels": labels}}))
    }

    fn no_ns(_: &str) -> Option<&'static Value> {
        None
    }

    #[test]
    fn kinds_groups_and_wildcards() {
        let r = pod("a", json!({}));
        assert!(
            matches(
                &m(json!({"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]})),
                &r,
                no_ns
            )
            .unwrap()
        );
        assert!(
            !matches(
                &m(json!({"kinds": [{"apiGroups": ["apps"], "kinds": ["Pod"]}]})),
                &r,
                no_ns
            )
            .unwrap()
        );
        assert!(
            matches(
                &m(json!({"kinds": [{"apiGroups": ["*"], "kinds": ["*"]}]})),
                &r,
                no_ns
            )
            .unwrap()
        );
        assert!(
            !matches(
                &m(json!({"kinds": [{"apiGroups": [""], "kinds": ["Service"]}]})),
                &r,
                no_ns
            )
            .unwrap()
        );
    }

    #[test]
    fn namespaces_with_prefix_and_suffix_globs() {
        let r = pod("kube-system", json!({}));
        assert!(!matches(&m(json!({"excludedNamespaces": ["kube-*"]})), &r, no_ns).unwrap());
        assert!(!matches(&m(json!({"excludedNamespaces": ["*-system"]})), &r, no_ns).unwrap());
        assert!(matches(&m(json!({"excludedNamespaces": ["*-public"]})), &r, no_ns).unwrap());
        assert!(matches(&m(json!({"namespaces": ["kube-system"]})), &r, no_ns).unwrap());
        assert!(!matches(&m(json!({"namespaces": ["default"]})), &r, no_ns).unwrap());
        // Cluster-scoped objects are not filtered by namespaces.
        let crb = Review::bare(json!({"apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding", "metadata": {"name": "x"}}));
        assert!(matches(&m(json!({"namespaces": ["default"]})), &crb, no_ns).unwrap());
        assert!(!matches(&m(json!({"scope": "Namespaced"})), &crb, no_ns).unwrap());
        // A Namespace is matched by its own name.
        let ns = Review::bare(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-x"}}),
        );
        assert!(!matches(&m(json!({"excludedNamespaces": ["kube-*"]})), &ns, no_ns).unwrap());
    }

    #[test]
    fn label_and_namespace_selectors() {
        let r = pod("team", json!({"app": "web", "tier": "front"}));
        let sel = m(json!({"labelSelector": {"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]},
                                 {"key": "x", "operator": "DoesNotExist"}]}}));
        assert!(matches(&sel, &r, no_ns).unwrap());
        let sel = m(
            json!({"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}}),
        );
        assert!(!matches(&sel, &r, no_ns).unwrap());
        let ns_sel = m(json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}}));
        assert_eq!(
            matches(&ns_sel, &r, no_ns),
            Err(MatchError::NamespaceNotFound("team".into()))
        );
        let team = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team", "labels": {"env": "prod"}}});
        assert!(matches(&ns_sel, &r, |_| Some(&team)).unwrap());
    }

    #[test]
    fn name_glob() {
        let r = pod("a", json!({}));
        assert!(matches(&m(json!({"name": "p*"})), &r, no_ns).unwrap());
        assert!(!matches(&m(json!({"name": "q"})), &r, no_ns).unwrap());
    }
}
