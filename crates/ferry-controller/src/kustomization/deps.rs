//! `spec.dependsOn`: a Kustomization is applied only after the Kustomizations it depends on are
//! ready at their current generation and, when they build from the same source, have applied
//! the same revision.

use ferry_api::{Kustomization, condition};
use kube::{Api, Client, ResourceExt};

use super::source::source_key;

#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    #[error("dependency '{namespace}/{name}' is not ready")]
    NotReady { namespace: String, name: String },
    #[error("dependency '{namespace}/{name}' revision is not up to date")]
    NotUpToDate { namespace: String, name: String },
    #[error("unable to get '{namespace}/{name}' dependency: {reason}")]
    Unavailable {
        namespace: String,
        name: String,
        reason: String,
    },
    #[error(
        "cannot access dependency '{namespace}/{name}', cross-namespace references have been disabled"
    )]
    CrossNamespace { namespace: String, name: String },
    #[error("dependency '{namespace}/{name}' uses readyExpr, which ferry does not evaluate yet")]
    ReadyExprUnsupported { namespace: String, name: String },
}

/// The namespace/name of each dependency.
pub fn dependencies(ks: &Kustomization) -> Vec<(String, String)> {
    let own = ks.namespace().unwrap_or_default();
    ks.spec
        .depends_on
        .iter()
        .flatten()
        .map(|d| {
            (
                d.namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| own.clone()),
                d.name.clone(),
            )
        })
        .collect()
}

/// Checks every dependency; `revision` is the artifact revision this Kustomization is about to
/// apply.
pub async fn check(
    client: &Client,
    ks: &Kustomization,
    revision: &str,
    no_cross_namespace_refs: bool,
) -> Result<(), DependencyError> {
    let own_ns = ks.namespace().unwrap_or_default();
    for (dep, (namespace, name)) in ks.spec.depends_on.iter().flatten().zip(dependencies(ks)) {
        if dep.ready_expr.is_some() {
            return Err(DependencyError::ReadyExprUnsupported { namespace, name });
        }
        if no_cross_namespace_refs && namespace != own_ns {
            return Err(DependencyError::CrossNamespace { namespace, name });
        }
        let api: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
        let found = api
            .get_opt(&name)
            .await
            .map_err(|e| DependencyError::Unavailable {
                namespace: namespace.clone(),
                name: name.clone(),
                reason: e.to_string(),
            })?;
        let Some(found) = found else {
            return Err(DependencyError::Unavailable {
                namespace,
                name,
                reason: "not found".to_owned(),
            });
        };
        let status = found.status.clone().unwrap_or_default();
        let ready = condition::is_true(&status.conditions, condition::READY)
            && status.observed_generation == found.metadata.generation;
        if !ready {
            return Err(DependencyError::NotReady { namespace, name });
        }
        if source_key(&found) == source_key(ks)
            && status.last_applied_revision.as_deref() != Some(revision)
        {
            return Err(DependencyError::NotUpToDate { namespace, name });
        }
    }
    Ok(())
}
