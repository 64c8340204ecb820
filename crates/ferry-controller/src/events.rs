//! Kubernetes Events about reconciled objects, as Flux's controllers record them: core/v1
//! Events with a reason, a message and the revision as an annotation, repeated events
//! aggregated into one with a count.
//!
//! Recording is asynchronous and best effort, as with client-go's event broadcaster (which
//! Flux's controllers use): a reconcile queues its event and goes on, and one task posts the
//! queued events in order. So a reconcile never waits for an event's round trip, and a burst of
//! reconciles (a commit that changes every app) gets its status written before its events are.
//! A failure to post is logged and never fails a reconcile. When more than [`QUEUE_LIMIT`]
//! events wait, further ones are dropped with a warning, as client-go drops them past its queue
//! of 1000.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use k8s_openapi::{
    api::core::v1::{Event, EventSource, ObjectReference},
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time},
};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

/// How many events may wait to be posted. Enough for one event from each of several thousand
/// objects reconciled at once; a queued event holds a few hundred bytes.
pub const QUEUE_LIMIT: usize = 4096;

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

/// Records events for one controller (its `component`), through a queue that the recorders
/// made by [`Recorder::for_component`] share.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Queued>,
    component: Arc<str>,
    /// Whether the drop of an event has been logged since the queue last took one, so that a
    /// long burst logs once rather than once per event.
    dropping: Arc<AtomicBool>,
}

enum Queued {
    Event(Box<Event>),
    /// Answered when every event queued before it has been posted (or has failed).
    Flush(oneshot::Sender<()>),
}

impl Recorder {
    /// A recorder and the task that posts its events with `client`, which ends once every
    /// clone of the recorder is gone and the queue is empty. Must be called on a Tokio runtime.
    pub fn new(client: Client, component: impl Into<String>) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE_LIMIT);
        tokio::spawn(post_queued(client, waiting));
        Self {
            queue,
            component: Arc::from(component.into()),
            dropping: Arc::default(),
        }
    }

    /// A recorder for another controller of this process, posting through the same queue.
    pub fn for_component(&self, component: &str) -> Self {
        Self {
            queue: self.queue.clone(),
            component: Arc::from(component),
            dropping: self.dropping.clone(),
        }
    }

    /// Queues an event about `object`. `annotations` carry the revision under
    /// `<group>/revision` as Flux does, so notification providers can report it. The event's
    /// time is now, not when it is posted.
    pub fn publish<K>(
        &self,
        object: &K,
        event_type: EventType,
        reason: &str,
        message: &str,
        annotations: BTreeMap<String, String>,
    ) where
        K: Resource<DynamicType = ()>,
    {
        let event = self.event(object, event_type, reason, message, annotations);
        match self.queue.try_send(Queued::Event(Box::new(event))) {
            Ok(()) => self.dropping.store(false, Ordering::Relaxed),
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.dropping.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        object = %object.name_any(),
                        %reason,
                        limit = QUEUE_LIMIT,
                        "event queue full: dropping events until it drains"
                    );
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!(object = %object.name_any(), %reason, "event poster stopped: event dropped");
            }
        }
    }

    /// Waits until every event queued so far has been posted, for at most `limit`; false if
    /// that took longer (the events stay queued).
    pub async fn flush(&self, limit: Duration) -> bool {
        let (done, flushed) = oneshot::channel();
        let waited = tokio::time::timeout(limit, async {
            self.queue.send(Queued::Flush(done)).await.is_ok() && flushed.await.is_ok()
        })
        .await;
        waited.unwrap_or(false)
    }

    /// The Event as Flux's recorder makes it. Its name is the object's and a digest of what
    /// makes it the same event, so a repeat is found and counted instead of created again.
    fn event<K>(
        &self,
        object: &K,
        event_type: EventType,
        reason: &str,
        message: &str,
        annotations: BTreeMap<String, String>,
    ) -> Event
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
        // Event times have a resolution of seconds on the wire.
        let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let component = Some(self.component.to_string());
        Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(namespace),
                annotations: Some(annotations),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some(K::api_version(&()).into_owned()),
                kind: Some(K::kind(&()).into_owned()),
                name: Some(object.name_any()),
                namespace: object.namespace(),
                uid: Some(uid),
                resource_version: object.resource_version(),
                field_path: None,
            },
            reason: Some(reason.to_owned()),
            message: Some(message.to_owned()),
            type_: Some(event_type.as_str().to_owned()),
            source: Some(EventSource {
                component: component.clone(),
                host: None,
            }),
            reporting_component: component.clone(),
            reporting_instance: component,
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            count: Some(1),
            ..Event::default()
        }
    }
}

/// Posts the queued events one at a time, in the order they were queued.
async fn post_queued(client: Client, mut waiting: mpsc::Receiver<Queued>) {
    while let Some(queued) = waiting.recv().await {
        match queued {
            Queued::Event(event) => {
                if let Err(err) = post(&client, &event).await {
                    tracing::warn!(
                        object = event.involved_object.name.as_deref().unwrap_or_default(),
                        reason = event.reason.as_deref().unwrap_or_default(),
                        error = %err,
                        "failed to record event"
                    );
                }
            }
            Queued::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// Creates the event, or counts it on the existing one when it repeats.
async fn post(client: &Client, event: &Event) -> Result<(), kube::Error> {
    let namespace = event.metadata.namespace.as_deref().unwrap_or("default");
    let name = event.metadata.name.as_deref().unwrap_or_default();
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    match api.create(&PostParams::default(), event).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let existing = api.get(name).await?;
            let count = existing.count.unwrap_or(1) + 1;
            let patch = json!({"count": count, "lastTimestamp": event.last_timestamp});
            api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .map(|_| ())
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::server_with_repository;

    #[tokio::test]
    async fn queued_events_are_posted_in_order_and_repeats_counted() {
        let (_server, client, repos) = server_with_repository().await;
        let repo = repos.get("repo").await.unwrap();
        let recorder = Recorder::new(client.clone(), "source-controller");
        let kustomize = recorder.for_component("kustomize-controller");
        let revision = BTreeMap::from([(
            "source.toolkit.fluxcd.io/revision".to_owned(),
            "main@sha1:abc".to_owned(),
        )]);
        recorder.publish(&repo, EventType::Normal, "NewArtifact", "stored", revision);
        recorder.publish(
            &repo,
            EventType::Normal,
            "NewArtifact",
            "stored",
            BTreeMap::new(),
        );
        kustomize.publish(
            &repo,
            EventType::Warning,
            "Failed",
            "broken",
            BTreeMap::new(),
        );
        assert!(recorder.flush(Duration::from_secs(10)).await);

        let events: Api<Event> = Api::namespaced(client, "flux-system");
        let mut items = events.list(&Default::default()).await.unwrap().items;
        items.sort_by_key(|e| e.reason.clone());
        assert_eq!(
            items.len(),
            2,
            "a repeat is counted, not created: {items:#?}"
        );
        let (failed, stored) = (&items[0], &items[1]);
        assert_eq!(stored.count, Some(2));
        assert_eq!(stored.type_.as_deref(), Some("Normal"));
        assert_eq!(
            stored.metadata.annotations.as_ref().unwrap()["source.toolkit.fluxcd.io/revision"],
            "main@sha1:abc"
        );
        assert_eq!(
            stored.source.as_ref().unwrap().component.as_deref(),
            Some("source-controller")
        );
        assert_eq!(
            stored.involved_object.kind.as_deref(),
            Some("GitRepository")
        );
        assert_eq!(stored.involved_object.uid, repo.metadata.uid);
        assert_eq!(failed.type_.as_deref(), Some("Warning"));
        assert_eq!(
            failed.reporting_component.as_deref(),
            Some("kustomize-controller")
        );
    }
}
