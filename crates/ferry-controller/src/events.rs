//! Kubernetes Events about reconciled objects, as Flux's controllers record them: core/v1
//! Events with a reason, a message and the revision as an annotation, repeated events
//! aggregated into one with a count. Recording is best effort: a failure is logged, never
//! fails a reconcile.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Event;
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::clock;

/// `Normal` or `Warning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// Records events for one controller.
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    component: String,
}

impl Recorder {
    pub fn new(client: Client, component: impl Into<String>) -> Self {
        Self {
            client,
            component: component.into(),
        }
    }

    /// Records an event about `object`. `annotations` carry the revision under
    /// `<group>/revision` as Flux does, so notification providers can report it.
    pub async fn publish<K>(
        &self,
        object: &K,
        event_type: EventType,
        reason: &str,
        message: &str,
        annotations: BTreeMap<String, String>,
    ) where
        K: Resource<DynamicType = ()>,
    {
        if let Err(err) = self
            .try_publish(object, event_type, reason, message, annotations)
            .await
        {
            tracing::warn!(object = %object.name_any(), %reason, error = %err, "failed to record event");
        }
    }

    async fn try_publish<K>(
        &self,
        object: &K,
        event_type: EventType,
        reason: &str,
        message: &str,
        annotations: BTreeMap<String, String>,
    ) -> Result<(), kube::Error>
    where
        K: Resource<DynamicType = ()>,
    {
        let namespace = object.namespace().unwrap_or_else(|| "default".to_owned());
        let uid = object.uid().unwrap_or_default();
        let mut hash = Sha256::new();
        for part in [uid.as_str(), event_type.as_str(), reason, message] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let name = format!(
            "{}.{}",
            object.name_any(),
            &hex::encode(hash.finalize())[..16]
        );
        let now = clock::now_rfc3339();
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
            "involvedObject": {
                "apiVersion": K::api_version(&()),
                "kind": K::kind(&()),
                "name": object.name_any(),
                "namespace": object.namespace(),
                "uid": uid,
                "resourceVersion": object.resource_version(),
            },
            "reason": reason,
            "message": message,
            "type": event_type.as_str(),
            "source": {"component": self.component},
            "reportingComponent": self.component,
            "reportingInstance": self.component,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        });
        let event: Event = serde_json::from_value(event).map_err(kube::Error::SerdeError)?;
        match api.create(&PostParams::default(), &event).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                let existing = api.get(&name).await?;
                let count = existing.count.unwrap_or(1) + 1;
                let patch = json!({"count": count, "lastTimestamp": now});
                api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                    .map(|_| ())
            }
            Err(err) => Err(err),
        }
    }
}
