//! Event-driven drift correction, ferry's addition to Flux's interval-based one. The objects in
//! Kustomizations' inventories are watched (one watch per kind, on the owner label); when one is
//! deleted, or changed by a writer other than ferry in anything but its status, the owning
//! Kustomization is queued for an immediate reconcile, which puts Git's state back.
//!
//! Because every change by others reaches it, the watcher can also vouch that a Kustomization's
//! objects are still as its last successful apply left them (see [`DriftWatcher::is_clean`]):
//! a reconcile whose build is unchanged then skips the dry-run of every object, which is what
//! lets a commit that changes one app of a thousand reach that app quickly.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ferry_api::{Kustomization, ObjMetadata, keys};
use ferry_apply::{
    LiveCache, Resources, Settled, Watched, health,
    object::{self, Gvk},
};
use futures::{StreamExt, channel::mpsc};
use kube::{
    Api, Client,
    api::DynamicObject,
    runtime::{WatchStreamExt, reflector::ObjectRef, watcher},
};
use serde_json::Value;

/// Identity of a watched object without its version.
type ObjKey = ObjMetadata;

#[derive(Default)]
struct State {
    /// Kinds (group/version/kind) with a running watch.
    watched: HashSet<Gvk>,
    /// Which Kustomization owns each tracked object.
    owners: HashMap<ObjKey, ObjectRef<Kustomization>>,
    /// Objects each Kustomization tracks (with the version of their kind's watch).
    tracked: HashMap<ObjectRef<Kustomization>, Vec<(ObjKey, String)>>,
    /// Each seen object as of its latest event: version, fingerprint of its desired-state
    /// fields, whether kubectl's fields need taking back, whether it is Current by kstatus.
    seen: HashMap<ObjKey, Watched>,
    /// Drift seen per Kustomization (changes by others, deletions), counted.
    epochs: HashMap<ObjectRef<Kustomization>, u64>,
    /// When each kind's watch last finished its initial list; absent while it (re)lists, when
    /// events may have been missed.
    synced: HashMap<Gvk, Instant>,
    /// What each Kustomization's last successful full apply left.
    clean: HashMap<ObjectRef<Kustomization>, Clean>,
    /// What ferry's last apply of each object left (see [`ferry_apply::Settled`]).
    settled: HashMap<ObjKey, Settled>,
}

/// What a build and the Kustomization's spec were when its objects were last applied in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanKey {
    /// Digest of the built objects.
    pub digest: String,
    pub generation: Option<i64>,
    /// The `reconcile.fluxcd.io/requestedAt` annotation: a request always applies in full.
    pub requested_at: Option<String>,
}

/// Taken when a full apply starts: the drift count and the time.
#[derive(Clone, Copy, Debug)]
pub struct ApplyMark {
    epoch: u64,
    started: Instant,
}

struct Clean {
    key: CleanKey,
    mark: ApplyMark,
}

/// Watches applied objects and queues their owners when they drift.
#[derive(Clone)]
pub struct DriftWatcher {
    client: Client,
    resources: Resources,
    field_manager: String,
    trigger: mpsc::UnboundedSender<ObjectRef<Kustomization>>,
    state: Arc<Mutex<State>>,
}

impl DriftWatcher {
    /// A watcher and the stream of Kustomizations to reconcile because of drift.
    pub fn new(
        client: Client,
        resources: Resources,
        field_manager: &str,
    ) -> (Self, mpsc::UnboundedReceiver<ObjectRef<Kustomization>>) {
        let (trigger, triggered) = mpsc::unbounded();
        let watcher = Self {
            client,
            resources,
            field_manager: field_manager.to_owned(),
            trigger,
            state: Arc::default(),
        };
        (watcher, triggered)
    }

    /// Tracks the objects of a Kustomization (replacing what it tracked before) and starts
    /// watching their kinds.
    pub async fn track(&self, owner: ObjectRef<Kustomization>, objects: &[(ObjMetadata, String)]) {
        let new_kinds: Vec<Gvk> = {
            let mut state = self.state();
            Self::forget(&mut state, &owner, objects);
            for (meta, _) in objects {
                state.owners.insert(meta.clone(), owner.clone());
            }
            state.tracked.insert(owner, objects.to_vec());
            let mut new_kinds = Vec::new();
            for (meta, version) in objects {
                let gvk = Gvk::of(meta, version);
                if state.watched.insert(gvk.clone()) {
                    new_kinds.push(gvk);
                }
            }
            new_kinds
        };
        for gvk in new_kinds {
            self.spawn_watch(gvk).await;
        }
    }

    /// Stops tracking a Kustomization's objects (suspended, deleted, or opted out).
    pub fn untrack(&self, owner: &ObjectRef<Kustomization>) {
        Self::forget(&mut self.state(), owner, &[]);
    }

    /// Drops what is known of `owner`'s tracking, and what ferry's applies left of its objects
    /// that are not among `kept` (those it still applies).
    fn forget(state: &mut State, owner: &ObjectRef<Kustomization>, kept: &[(ObjMetadata, String)]) {
        state.clean.remove(owner);
        let kept: HashSet<&ObjKey> = kept.iter().map(|(meta, _)| meta).collect();
        if let Some(objects) = state.tracked.remove(owner) {
            for (meta, _) in objects {
                if state.owners.get(&meta) == Some(owner) {
                    state.owners.remove(&meta);
                }
                if !kept.contains(&meta) {
                    state.settled.remove(&meta);
                }
            }
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("drift state lock is never poisoned")
    }

    /// To take before a full apply of `owner`'s objects starts.
    pub fn mark(&self, owner: &ObjectRef<Kustomization>) -> ApplyMark {
        ApplyMark {
            epoch: self.state().epochs.get(owner).copied().unwrap_or(0),
            started: Instant::now(),
        }
    }

    /// Records that the full apply begun at `mark` succeeded (the objects are tracked already).
    pub fn record_clean(&self, owner: &ObjectRef<Kustomization>, mark: ApplyMark, key: CleanKey) {
        let mut state = self.state();
        if state.tracked.contains_key(owner) {
            state.clean.insert(owner.clone(), Clean { key, mark });
        }
    }

    /// Forgets the last successful apply (a later reconcile failed).
    pub fn forget_clean(&self, owner: &ObjectRef<Kustomization>) {
        self.state().clean.remove(owner);
    }

    /// Whether `owner`'s objects are still as its last full apply left them, for a build and
    /// spec equal to `key`: that apply succeeded less than `max_age` ago, every object has been
    /// seen by a watch that was listing before the apply started and has not restarted since,
    /// and no change by others nor deletion has been seen since. `Some(all_current)` if so,
    /// with whether every object is Current by kstatus as of its latest event.
    pub fn is_clean(
        &self,
        owner: &ObjectRef<Kustomization>,
        key: &CleanKey,
        max_age: Duration,
    ) -> Option<bool> {
        let state = self.state();
        let clean = state.clean.get(owner)?;
        let epoch = state.epochs.get(owner).copied().unwrap_or(0);
        if clean.key != *key || clean.mark.epoch != epoch || clean.mark.started.elapsed() >= max_age
        {
            return None;
        }
        let mut all_current = true;
        for (meta, version) in state.tracked.get(owner)? {
            let gvk = Gvk::of(meta, version);
            let listed_before = state
                .synced
                .get(&gvk)
                .is_some_and(|at| *at <= clean.mark.started);
            let seen = state.seen.get(meta).filter(|_| listed_before)?;
            all_current &= seen.current;
        }
        Some(all_current)
    }

    /// Whether the watch of this group and kind is listing (has finished its initial list and
    /// not restarted since).
    fn kind_synced(state: &State, meta: &ObjMetadata) -> bool {
        state
            .synced
            .keys()
            .any(|gvk| gvk.group == meta.group && gvk.kind == meta.kind)
    }

    async fn spawn_watch(&self, gvk: Gvk) {
        let resolved = match self.resources.resolve(&self.client, &gvk).await {
            Ok(resolved) => resolved,
            Err(err) => {
                tracing::warn!(kind = %gvk, error = %err, "cannot watch kind for drift");
                self.state().watched.remove(&gvk);
                return;
            }
        };
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resolved.resource);
        let config = watcher::Config::default().labels(keys::OWNER_NAME_LABEL);
        let this = self.clone();
        tokio::spawn(async move {
            let mut events = watcher(api, config).default_backoff().boxed();
            while let Some(event) = events.next().await {
                match event {
                    Ok(watcher::Event::InitApply(obj)) => this.observe(&obj, false),
                    Ok(watcher::Event::Apply(obj)) => this.observe(&obj, true),
                    Ok(watcher::Event::Delete(obj)) => this.deleted(&obj),
                    Ok(watcher::Event::Init) => {
                        this.state().synced.remove(&gvk);
                    }
                    Ok(watcher::Event::InitDone) => {
                        this.state().synced.insert(gvk.clone(), Instant::now());
                    }
                    Err(err) => {
                        this.state().synced.remove(&gvk);
                        tracing::debug!(kind = %gvk, error = %err, "drift watch error, retrying")
                    }
                }
            }
        });
    }

    fn observe(&self, obj: &DynamicObject, live: bool) {
        let Ok(value) = serde_json::to_value(obj) else {
            return;
        };
        let Ok(meta) = object::obj_metadata(&value) else {
            return;
        };
        let current = health::assess(&value).kstatus == health::KStatus::Current;
        let watched = Watched::of(&value, &self.field_manager, current);
        let owner = {
            let mut state = self.state();
            let print = watched.fingerprint;
            let before = state.seen.insert(meta.clone(), watched);
            let changed = before.is_some_and(|b| b.fingerprint != print);
            if !(live && changed && last_writer_is_external(&value, &self.field_manager)) {
                return;
            }
            let owner = state.owners.get(&meta).cloned();
            if let Some(owner) = &owner {
                *state.epochs.entry(owner.clone()).or_default() += 1;
            }
            owner
        };
        if let Some(owner) = owner {
            tracing::info!(object = %meta, kustomization = %owner, "drift detected, reconciling");
            let _ = self.trigger.unbounded_send(owner);
        }
    }

    fn deleted(&self, obj: &DynamicObject) {
        let Ok(value) = serde_json::to_value(obj) else {
            return;
        };
        let Ok(meta) = object::obj_metadata(&value) else {
            return;
        };
        let owner = {
            let mut state = self.state();
            state.seen.remove(&meta);
            state.settled.remove(&meta);
            let owner = state.owners.get(&meta).cloned();
            if let Some(owner) = &owner {
                *state.epochs.entry(owner.clone()).or_default() += 1;
            }
            owner
        };
        if let Some(owner) = owner {
            tracing::info!(object = %meta, kustomization = %owner, "managed object deleted, reconciling");
            let _ = self.trigger.unbounded_send(owner);
        }
    }
}

impl LiveCache for DriftWatcher {
    fn lookup(&self, object: &ObjMetadata) -> Option<Watched> {
        let state = self.state();
        if !Self::kind_synced(&state, object) {
            return None;
        }
        state.seen.get(object).cloned()
    }

    fn settled(&self, object: &ObjMetadata) -> Option<Settled> {
        self.state().settled.get(object).cloned()
    }

    fn settle(&self, object: &ObjMetadata, settled: Settled) {
        self.state().settled.insert(object.clone(), settled);
    }
}

/// Whether the latest write to the object's main resource came from a manager other than us
/// (subresource writes like status and scale are other controllers' business).
fn last_writer_is_external(obj: &Value, field_manager: &str) -> bool {
    let Some(entries) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return true;
    };
    let main = entries.iter().filter(|e| {
        e.get("subresource")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .is_empty()
    });
    let time = |e: &Value| {
        e.get("time")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let ours = main
        .clone()
        .filter(|e| e.get("manager").and_then(Value::as_str) == Some(field_manager))
        .map(time)
        .max();
    let Some(ours) = ours else { return true };
    main.filter(|e| e.get("manager").and_then(Value::as_str) != Some(field_manager))
        .any(|e| time(e) >= ours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tells_our_writes_from_others() {
        let ours = json!({"metadata": {"managedFields": [
            {"manager": "ferry", "operation": "Apply", "time": "2026-01-01T00:00:02Z"},
            {"manager": "kubectl-edit", "operation": "Update", "time": "2026-01-01T00:00:01Z"},
            {"manager": "sim", "operation": "Update", "subresource": "status", "time": "2026-01-01T00:00:09Z"}
        ]}});
        assert!(!last_writer_is_external(&ours, "ferry"));
        let theirs = json!({"metadata": {"managedFields": [
            {"manager": "ferry", "operation": "Apply", "time": "2026-01-01T00:00:02Z"},
            {"manager": "kubectl-edit", "operation": "Update", "time": "2026-01-01T00:00:03Z"}
        ]}});
        assert!(last_writer_is_external(&theirs, "ferry"));
    }
}
