//! What `helm template` prints for a render: manifests split into documents, hooks set
//! apart, objects sorted in Helm's install order, each under a `# Source:` header.

use std::sync::OnceLock;

use regex::Regex;

use crate::engine::Rendered;
use crate::yaml::{self, Node};

/// Helm's `InstallOrder`: the kinds it installs first.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// One object of the output.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// Template path (`chart/templates/x.yaml`).
    pub source: String,
    pub kind: String,
    pub name: String,
    pub content: String,
    /// Hook events from `helm.sh/hook` (empty for regular objects).
    pub hooks: Vec<String>,
}

/// Options of `helm template`'s output.
#[derive(Clone, Debug, Default)]
pub struct TemplateOutput {
    pub include_crds: bool,
    pub skip_tests: bool,
    pub no_hooks: bool,
}

fn separator() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Go's `\s` is ASCII whitespace only
    RE.get_or_init(|| Regex::new(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*").expect("static regex"))
}

/// Helm 4's `SplitManifests`: documents of a template's output with leading whitespace
/// trimmed, blank ones dropped. Trailing whitespace stays: the separator's pattern eats it
/// before a `---`, so only a template's last document keeps its final newline, and
/// `helm template` then prints a blank line after it.
pub fn split_manifests(text: &str) -> Vec<String> {
    separator()
        .split(text.trim_start())
        .filter(|d| !d.trim().is_empty())
        .map(|d| d.trim_start().to_string())
        .collect()
}

fn head(doc: &str, source: &str) -> Result<(String, String, Option<String>), String> {
    let node = yaml::parse::parse_first(doc)
        .map_err(|e| format!("YAML parse error on {source}: {}", e.0))?;
    let pairs = match &node {
        Some(Node::Map(p)) => p.as_slice(),
        Some(Node::Null) | None => &[],
        Some(_) => {
            return Err(format!(
                "YAML parse error on {source}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type releaseutil.SimpleHead"
            ));
        }
    };
    let get = |p: &[(Node, Node)], k: &str| -> Option<Node> {
        p.iter()
            .find(|(key, _)| matches!(key, Node::Str(s) if s == k))
            .map(|(_, v)| v.clone())
    };
    let text = |n: Option<Node>| match n {
        Some(Node::Str(s)) => s,
        _ => String::new(),
    };
    let kind = text(get(pairs, "kind"));
    let meta = get(pairs, "metadata");
    let meta_pairs = match &meta {
        Some(Node::Map(p)) => p.clone(),
        _ => vec![],
    };
    let name = text(get(&meta_pairs, "name"));
    let hook = match get(&meta_pairs, "annotations") {
        Some(Node::Map(a)) => match get(&a, "helm.sh/hook") {
            Some(Node::Str(s)) => Some(s),
            _ => None,
        },
        _ => None,
    };
    Ok((kind, name, hook))
}

/// Helm's `SortManifests`: regular manifests and hooks, each sorted in install order.
pub fn sort_manifests(
    files: &[(String, String)],
) -> Result<(Vec<Manifest>, Vec<Manifest>), String> {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut generic = vec![];
    let mut hooks = vec![];
    for (path, content) in sorted {
        if crate::funcs::paths::base(path).starts_with('_') || content.trim().is_empty() {
            continue;
        }
        for doc in split_manifests(content) {
            let (kind, name, hook) = head(&doc, path)?;
            let mut m = Manifest {
                source: path.clone(),
                kind,
                name,
                content: doc,
                hooks: vec![],
            };
            match hook {
                None => generic.push(m),
                Some(h) => {
                    let events: Vec<String> =
                        h.split(',').map(|e| e.trim().to_lowercase()).collect();
                    if events.iter().all(|e| HOOK_EVENTS.contains(&e.as_str())) {
                        m.hooks = events;
                        hooks.push(m);
                    } else {
                        tracing::info!(hook = %h, source = %path, "skipping unknown hook");
                    }
                }
            }
        }
    }
    sort_by_kind(&mut generic);
    sort_by_kind(&mut hooks);
    Ok((generic, hooks))
}

fn sort_by_kind(v: &mut [Manifest]) {
    let rank = |k: &str| INSTALL_ORDER.iter().position(|x| *x == k);
    v.sort_by(|a, b| match (rank(&a.kind), rank(&b.kind)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.kind.cmp(&b.kind),
    });
}

/// The text `helm template` prints.
pub fn template_stream(r: &Rendered, opts: &TemplateOutput) -> Result<String, String> {
    crate::deep(|| template_stream_inner(r, opts))
}

fn template_stream_inner(r: &Rendered, opts: &TemplateOutput) -> Result<String, String> {
    let (manifests, hooks) = sort_manifests(&r.manifests)?;
    let mut release = String::new();
    if opts.include_crds {
        for (path, data) in &r.crds {
            release.push_str(&format!("---\n# Source: {path}\n{data}\n"));
        }
    }
    for m in &manifests {
        release.push_str(&format!("---\n# Source: {}\n{}\n", m.source, m.content));
    }
    let mut out = format!("{}\n", release.trim());
    if !opts.no_hooks {
        for h in &hooks {
            if opts.skip_tests && h.hooks.iter().any(|e| e == "test" || e == "test-success") {
                continue;
            }
            out.push_str(&format!("---\n# Source: {}\n{}\n", h.source, h.content));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_order_and_hooks() {
        let files = vec![
            (
                "c/templates/a.yaml".to_string(),
                "kind: Deployment\nmetadata:\n  name: d\n---\nkind: Service\nmetadata:\n  name: s\n".to_string(),
            ),
            (
                "c/templates/b.yaml".to_string(),
                "kind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n".to_string(),
            ),
            ("c/templates/z.yaml".to_string(), "kind: Widget\nmetadata:\n  name: w\n".to_string()),
            ("c/templates/_h.tpl".to_string(), "kind: ConfigMap".to_string()),
        ];
        let (m, h) = sort_manifests(&files).expect("valid YAML");
        let kinds: Vec<&str> = m.iter().map(|x| x.kind.as_str()).collect();
        assert_eq!(kinds, vec!["Service", "Deployment", "Widget"]);
        assert_eq!(h.len(), 1);
        assert_eq!(
            split_manifests("\n a: 1 \n---\n\n  b: 2\n\n"),
            vec!["a: 1", "b: 2\n\n"]
        );
        // Go's regexp: the first separator's trailing `\s*` eats the newline the second one
        // would need, so the second `---` stays in the document, as in Helm.
        assert_eq!(
            split_manifests("a: 1\n---\n\n---\nb: 2"),
            vec!["a: 1", "---\nb: 2"]
        );
    }
}
