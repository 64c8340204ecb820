//! Resolving a Kustomization's `spec.sourceRef` to the artifact to build.

use ferry_api::{GitRepository, Kustomization, meta::Artifact};
use kube::{
    Api, Client, ResourceExt,
    runtime::reflector::{ObjectRef, Store},
};

/// Why the source cannot be used (yet).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(
        "cannot access {kind}/{namespace}/{name}, cross-namespace references have been disabled"
    )]
    CrossNamespace {
        kind: String,
        namespace: String,
        name: String,
    },
    #[error("source kind {kind:?} is not supported yet: use a GitRepository")]
    UnsupportedKind { kind: String },
    #[error("Source '{kind}/{namespace}/{name}' not found")]
    NotFound {
        kind: String,
        namespace: String,
        name: String,
    },
    #[error("Source '{kind}/{namespace}/{name}' is not ready, artifact not found")]
    NoArtifact {
        kind: String,
        namespace: String,
        name: String,
    },
    #[error("failed to get source '{kind}/{namespace}/{name}': {source}")]
    Api {
        kind: String,
        namespace: String,
        name: String,
        source: Box<kube::Error>,
    },
}

impl SourceError {
    /// Terminal errors need a spec change; the others may resolve by themselves.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::CrossNamespace { .. } | Self::UnsupportedKind { .. }
        )
    }
}

/// The identity of the source object, for matching watch events to Kustomizations.
pub fn source_key(ks: &Kustomization) -> (String, String, String) {
    let r = &ks.spec.source_ref;
    let namespace = r
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| ks.namespace().unwrap_or_default());
    (r.kind.clone(), namespace, r.name.clone())
}

/// Reads the source and returns its current artifact: from `cached` (the store of the watch
/// whose events trigger the reconciles of a new artifact, so it holds that artifact before such
/// a reconcile starts) when it holds the source, else from the API server.
pub async fn resolve(
    client: &Client,
    cached: Option<&Store<GitRepository>>,
    ks: &Kustomization,
    no_cross_namespace_refs: bool,
) -> Result<Artifact, SourceError> {
    let (kind, namespace, name) = source_key(ks);
    if no_cross_namespace_refs && Some(namespace.as_str()) != ks.namespace().as_deref() {
        return Err(SourceError::CrossNamespace {
            kind,
            namespace,
            name,
        });
    }
    if kind != "GitRepository" {
        return Err(SourceError::UnsupportedKind { kind });
    }
    let stored = cached.and_then(|store| store.get(&ObjectRef::new(&name).within(&namespace)));
    if let Some(artifact) = stored
        .as_ref()
        .and_then(|repo| repo.status.as_ref())
        .and_then(|status| status.artifact.clone())
    {
        return Ok(artifact);
    }
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &namespace);
    let repo = match api.get_opt(&name).await {
        Ok(Some(repo)) => repo,
        Ok(None) => {
            return Err(SourceError::NotFound {
                kind,
                namespace,
                name,
            });
        }
        Err(source) => {
            return Err(SourceError::Api {
                kind,
                namespace,
                name,
                source: Box::new(source),
            });
        }
    };
    repo.status
        .and_then(|s| s.artifact)
        .ok_or(SourceError::NoArtifact {
            kind,
            namespace,
            name,
        })
}
