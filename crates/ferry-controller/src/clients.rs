//! Clients for applying on behalf of a Kustomization: the controller's own, one impersonating a
//! service account (`spec.serviceAccountName`), or one for another cluster from a kubeconfig in
//! a Secret (`spec.kubeConfig.secretRef`). Built clients are cached; a remote cluster gets its
//! own discovery cache.

use std::{collections::HashMap, sync::Arc};

use ferry_apply::Resources;
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};
use tokio::sync::Mutex;

/// A client and the discovery cache of the cluster it talks to.
#[derive(Clone)]
pub struct Target {
    pub client: Client,
    pub resources: Resources,
    /// Whether this is the controller's own cluster (drift watches only run there).
    pub local: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("failed to read kubeconfig Secret '{namespace}/{name}': {source}")]
    SecretRead {
        namespace: String,
        name: String,
        source: Box<kube::Error>,
    },
    #[error("kubeconfig Secret '{namespace}/{name}' has no key {key}")]
    SecretKeyMissing {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("invalid kubeconfig in Secret '{namespace}/{name}': {reason}")]
    Kubeconfig {
        namespace: String,
        name: String,
        reason: String,
    },
    #[error("failed to build a client impersonating {user}: {reason}")]
    Impersonation { user: String, reason: String },
}

#[derive(Clone, Hash, PartialEq, Eq)]
enum Key {
    Impersonate {
        user: String,
    },
    Remote {
        namespace: String,
        name: String,
        resource_version: String,
        key: String,
    },
}

/// Builds and caches clients.
#[derive(Clone)]
pub struct ClientCache {
    base: Config,
    local: Client,
    resources: Resources,
    built: Arc<Mutex<HashMap<Key, Target>>>,
}

impl ClientCache {
    pub fn new(base: Config, local: Client, resources: Resources) -> Self {
        Self {
            base,
            local,
            resources,
            built: Arc::default(),
        }
    }

    /// The controller's own client.
    pub fn local(&self) -> Target {
        Target {
            client: self.local.clone(),
            resources: self.resources.clone(),
            local: true,
        }
    }

    /// A client impersonating `system:serviceaccount:<namespace>:<name>`, as Flux's
    /// impersonation does, on the controller's own cluster.
    pub async fn impersonating(
        &self,
        namespace: &str,
        service_account: &str,
    ) -> Result<Target, ClientError> {
        let user = format!("system:serviceaccount:{namespace}:{service_account}");
        let key = Key::Impersonate { user: user.clone() };
        if let Some(found) = self.built.lock().await.get(&key) {
            return Ok(found.clone());
        }
        let mut config = self.base.clone();
        config.auth_info.impersonate = Some(user.clone());
        config.auth_info.impersonate_groups = Some(vec![
            "system:serviceaccounts".to_owned(),
            format!("system:serviceaccounts:{namespace}"),
        ]);
        let client = Client::try_from(config).map_err(|e| ClientError::Impersonation {
            user,
            reason: e.to_string(),
        })?;
        let target = Target {
            client,
            resources: self.resources.clone(),
            local: true,
        };
        self.built.lock().await.insert(key, target.clone());
        Ok(target)
    }

    /// A client for the cluster of the kubeconfig held in a Secret (key `value` or
    /// `value.yaml` unless given), optionally impersonating a service account there.
    pub async fn remote(
        &self,
        namespace: &str,
        name: &str,
        key: Option<&str>,
    ) -> Result<Target, ClientError> {
        let secrets: Api<Secret> = Api::namespaced(self.local.clone(), namespace);
        let secret = secrets
            .get(name)
            .await
            .map_err(|source| ClientError::SecretRead {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                source: Box::new(source),
            })?;
        let data = secret.data.unwrap_or_default();
        let candidates: Vec<&str> = match key {
            Some(key) => vec![key],
            None => vec!["value", "value.yaml"],
        };
        let (used_key, bytes) = candidates
            .iter()
            .find_map(|k| data.get(*k).map(|v| (k.to_string(), v.0.clone())))
            .ok_or_else(|| ClientError::SecretKeyMissing {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                key: candidates.join(" or "),
            })?;
        let cache_key = Key::Remote {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            resource_version: secret.metadata.resource_version.unwrap_or_default(),
            key: used_key,
        };
        if let Some(found) = self.built.lock().await.get(&cache_key) {
            return Ok(found.clone());
        }
        let invalid = |reason: String| ClientError::Kubeconfig {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            reason,
        };
        let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8".to_owned()))?;
        let kubeconfig = Kubeconfig::from_yaml(&text).map_err(|e| invalid(e.to_string()))?;
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(|e| invalid(e.to_string()))?;
        let client = Client::try_from(config).map_err(|e| invalid(e.to_string()))?;
        let target = Target {
            client,
            resources: Resources::new(),
            local: false,
        };
        self.built.lock().await.insert(cache_key, target.clone());
        Ok(target)
    }
}
