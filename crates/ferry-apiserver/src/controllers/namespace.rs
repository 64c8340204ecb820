//! Namespace lifecycle: the built-in namespaces exist, every namespace gets its `default`
//! ServiceAccount and `kube-root-ca.crt` ConfigMap (as the controller manager adds them), and a
//! deleted namespace stays Terminating while its content is deleted, then goes away.

use std::{
    collections::BTreeSet,
    sync::{Mutex, PoisonError},
};

use serde_json::{Value, json};

use crate::{
    core::{Core, DeleteOptions, Part, Propagation, WriteOptions},
    meta,
    store::{Event, EventType},
    strategy::NAMESPACE_FINALIZER,
};

const NAMESPACES: &str = "/namespaces";

/// Creates the namespaces every cluster has, and the `kubernetes` Service.
pub fn ensure_defaults(core: &Core) {
    let Some(ns_info) = core.registry.lookup("", "v1", "namespaces") else {
        return;
    };
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        if core.get(&ns_info, "", name).is_err() {
            let object =
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            if let Err(e) = core.create(&ns_info, "", object, &WriteOptions::default()) {
                tracing::warn!(error = %e, namespace = name, "creating built-in namespace");
            }
        }
    }
    if let Some(svc) = core.registry.lookup("", "v1", "services")
        && core.get(&svc, "default", "kubernetes").is_err()
    {
        let object = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}], "type": "ClusterIP"},
        });
        if let Err(e) = core.create(&svc, "default", object, &WriteOptions::default()) {
            tracing::warn!(error = %e, "creating the kubernetes Service");
        }
    }
}

/// Tracks namespaces being deleted.
#[derive(Default)]
pub struct Lifecycle {
    terminating: Mutex<BTreeSet<String>>,
}

impl Lifecycle {
    fn terminating(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.terminating
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Picks up namespaces that were terminating before a restart, and missing defaults.
    pub fn resume(&self, core: &Core) {
        for ns in core.store.list(NAMESPACES, None).items {
            let name = meta::meta_str(&ns.value, "name").to_owned();
            if meta::is_deleting(&ns.value) {
                self.terminating().insert(name);
            } else {
                populate(core, &name);
            }
        }
    }

    pub fn on_event(&self, core: &Core, event: &Event) {
        if event.key.resource != NAMESPACES {
            if !event.key.namespace.is_empty()
                && event.kind == EventType::Deleted
                && self.terminating().contains(&event.key.namespace)
            {
                self.finish_if_empty(core, &event.key.namespace);
            }
            return;
        }
        let name = event.key.name.clone();
        match event.kind {
            EventType::Deleted => {
                self.terminating().remove(&name);
            }
            EventType::Added if !meta::is_deleting(&event.object.value) => populate(core, &name),
            _ if meta::is_deleting(&event.object.value) => {
                let first = self.terminating().insert(name.clone());
                if first {
                    self.delete_content(core, &name);
                }
            }
            _ => {}
        }
    }

    /// Retries namespaces whose content was held by finalizers.
    pub fn sweep(&self, core: &Core) {
        let names: Vec<String> = self.terminating().iter().cloned().collect();
        for name in names {
            self.delete_content(core, &name);
        }
    }

    fn delete_content(&self, core: &Core, namespace: &str) {
        for info in core.registry.storage_resources() {
            if !info.namespaced {
                continue;
            }
            for item in core.store.list(&info.storage_key(), Some(namespace)).items {
                if meta::is_deleting(&item.value) {
                    continue;
                }
                let name = meta::meta_str(&item.value, "name").to_owned();
                let opts = DeleteOptions {
                    propagation: Some(Propagation::Background),
                    ..Default::default()
                };
                if let Err(e) = core.delete(&info, namespace, &name, &opts)
                    && e.code != 404
                {
                    tracing::warn!(error = %e, namespace, name, "deleting namespace content");
                }
            }
        }
        self.finish_if_empty(core, namespace);
    }

    fn finish_if_empty(&self, core: &Core, namespace: &str) {
        let left: usize = core
            .registry
            .storage_resources()
            .iter()
            .filter(|i| i.namespaced)
            .map(|i| core.store.count(&i.storage_key(), Some(namespace)))
            .sum();
        if left > 0 {
            return;
        }
        let Some(info) = core.registry.lookup("", "v1", "namespaces") else {
            return;
        };
        let result = core.edit(&info, "", namespace, Part::Finalize, |obj| {
            let finalizers: Vec<Value> = obj
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .map(|f| {
                    f.iter()
                        .filter(|x| x.as_str() != Some(NAMESPACE_FINALIZER))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            if obj
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .map(Vec::len)
                == Some(finalizers.len())
            {
                return false;
            }
            obj["spec"]["finalizers"] = json!(finalizers);
            true
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, namespace, "finalizing namespace");
        }
    }
}

/// What the controller manager puts in every namespace.
fn populate(core: &Core, namespace: &str) {
    if let Some(sa) = core.registry.lookup("", "v1", "serviceaccounts")
        && core.get(&sa, namespace, "default").is_err()
    {
        let object = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": namespace}});
        if let Err(e) = core.create(&sa, namespace, object, &WriteOptions::default())
            && e.code != 409
        {
            tracing::debug!(error = %e, namespace, "creating default service account");
        }
    }
    if let Some(cm) = core.registry.lookup("", "v1", "configmaps")
        && core.get(&cm, namespace, "kube-root-ca.crt").is_err()
    {
        let ca = core.cluster_ca().unwrap_or_default();
        let object = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-root-ca.crt", "namespace": namespace, "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
            "data": {"ca.crt": ca},
        });
        if let Err(e) = core.create(&cm, namespace, object, &WriteOptions::default())
            && e.code != 409
        {
            tracing::debug!(error = %e, namespace, "creating kube-root-ca.crt");
        }
    }
}
