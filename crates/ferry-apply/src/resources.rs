//! Resolution of a group/version/kind to the resource the API serves it under (plural name,
//! scope), cached and shared by every reconciler. A miss refreshes that one group-version, so
//! kinds of CRDs applied a moment ago resolve without a full rediscovery.

use std::{collections::HashMap, sync::Arc};

use kube::{
    Client,
    core::GroupVersion,
    discovery::{self, ApiCapabilities, ApiResource, Scope},
};
use tokio::sync::RwLock;

use crate::object::Gvk;

/// How a kind is served.
#[derive(Clone, Debug)]
pub struct ResolvedKind {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// A kind the API does not serve.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no matches for kind \"{kind}\" in version \"{api_version}\"")]
    NotServed { kind: String, api_version: String },
    #[error("discovery of {api_version} failed: {source}")]
    Discovery {
        api_version: String,
        source: Box<kube::Error>,
    },
}

/// The shared discovery cache.
#[derive(Clone, Default)]
pub struct Resources {
    kinds: Arc<RwLock<HashMap<Gvk, ResolvedKind>>>,
}

impl Resources {
    pub fn new() -> Self {
        Self::default()
    }

    /// Resolves a kind, asking the API server on a miss.
    pub async fn resolve(&self, client: &Client, gvk: &Gvk) -> Result<ResolvedKind, ResolveError> {
        if let Some(found) = self.kinds.read().await.get(gvk) {
            return Ok(found.clone());
        }
        self.refresh(client, &gvk.group, &gvk.version).await?;
        self.kinds
            .read()
            .await
            .get(gvk)
            .cloned()
            .ok_or_else(|| ResolveError::NotServed {
                kind: gvk.kind.clone(),
                api_version: gvk.api_version(),
            })
    }

    /// Re-reads one group-version from the API server.
    pub async fn refresh(
        &self,
        client: &Client,
        group: &str,
        version: &str,
    ) -> Result<(), ResolveError> {
        let gv = GroupVersion::gv(group, version);
        let api_version = gv.api_version();
        let found = match discovery::pinned_group(client, &gv).await {
            Ok(found) => found,
            Err(kube::Error::Api(status)) if status.code == 404 => {
                // The group-version is not served (yet): forget what was cached for it.
                self.forget(group, version).await;
                return Ok(());
            }
            Err(source) => {
                return Err(ResolveError::Discovery {
                    api_version,
                    source: Box::new(source),
                });
            }
        };
        let mut kinds = self.kinds.write().await;
        kinds.retain(|k, _| !(k.group == group && k.version == version));
        for (resource, caps) in found.versioned_resources(version) {
            insert(&mut kinds, resource, &caps);
        }
        Ok(())
    }

    /// Drops the cached kinds of a group-version (after a CRD is deleted).
    pub async fn forget(&self, group: &str, version: &str) {
        self.kinds
            .write()
            .await
            .retain(|k, _| !(k.group == group && k.version == version));
    }
}

fn insert(kinds: &mut HashMap<Gvk, ResolvedKind>, resource: ApiResource, caps: &ApiCapabilities) {
    let gvk = Gvk {
        group: resource.group.clone(),
        version: resource.version.clone(),
        kind: resource.kind.clone(),
    };
    kinds.insert(
        gvk,
        ResolvedKind {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
        },
    );
}
