//! Garbage collection by ownerReferences: dependents of a deleted owner are deleted
//! (background), foreground deletion waits for dependents before releasing the owner's
//! `foregroundDeletion` finalizer, and the `orphan` finalizer strips owner references first.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, MutexGuard, PoisonError},
};

use serde_json::Value;

use crate::{
    core::{Core, DeleteOptions, Part, Propagation},
    meta,
    store::{Event, EventType, ObjectKey},
};

/// Owner uid -> dependents, plus every live uid.
#[derive(Default)]
struct Index {
    dependents: HashMap<String, HashSet<ObjectKey>>,
    owners_of: HashMap<ObjectKey, Vec<String>>,
    live: HashMap<String, ObjectKey>,
    /// Owners being deleted in the foreground or with orphaning, to re-check on sweep.
    pending: HashSet<ObjectKey>,
}

pub struct Collector {
    index: Mutex<Index>,
}

fn owner_uids(value: &Value) -> Vec<String> {
    value
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Index {
    fn forget(&mut self, key: &ObjectKey) {
        if let Some(owners) = self.owners_of.remove(key) {
            for o in owners {
                if let Some(set) = self.dependents.get_mut(&o) {
                    set.remove(key);
                    if set.is_empty() {
                        self.dependents.remove(&o);
                    }
                }
            }
        }
    }

    fn record(&mut self, key: &ObjectKey, value: &Value) {
        self.forget(key);
        let uid = meta::meta_str(value, "uid");
        if !uid.is_empty() {
            self.live.insert(uid.to_owned(), key.clone());
        }
        let owners = owner_uids(value);
        for o in &owners {
            self.dependents
                .entry(o.clone())
                .or_default()
                .insert(key.clone());
        }
        if !owners.is_empty() {
            self.owners_of.insert(key.clone(), owners);
        }
        let f = meta::finalizers(value);
        if meta::is_deleting(value) && f.iter().any(|x| x == "foregroundDeletion" || x == "orphan")
        {
            self.pending.insert(key.clone());
        } else {
            self.pending.remove(key);
        }
    }
}

impl Collector {
    pub fn new(core: &Core) -> Self {
        let collector = Self {
            index: Mutex::new(Index::default()),
        };
        collector.rebuild(core);
        collector
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Rebuilds the index from the store and collects dependents whose owners are gone.
    pub fn rebuild(&self, core: &Core) {
        let mut index = Index::default();
        for info in core.registry.storage_resources() {
            for s in core.store.list(&info.storage_key(), None).items {
                let key = Core::key(
                    &info,
                    meta::meta_str(&s.value, "namespace"),
                    meta::meta_str(&s.value, "name"),
                );
                index.record(&key, &s.value);
            }
        }
        let orphans: Vec<ObjectKey> = index
            .owners_of
            .iter()
            .filter(|(_, owners)| owners.iter().all(|o| !index.live.contains_key(o)))
            .map(|(k, _)| k.clone())
            .collect();
        *self.index() = index;
        for key in orphans {
            delete_key(core, &key, Propagation::Background);
        }
    }

    pub fn on_event(&self, core: &Core, event: &Event) {
        let uid = meta::meta_str(&event.object.value, "uid").to_owned();
        let mut to_delete = Vec::new();
        let mut pending = None;
        {
            let mut index = self.index();
            match event.kind {
                EventType::Deleted => {
                    index.forget(&event.key);
                    index.pending.remove(&event.key);
                    index.live.remove(&uid);
                    if let Some(deps) = index.dependents.get(&uid) {
                        for dep in deps.clone() {
                            let all_gone = index.owners_of.get(&dep).is_none_or(|owners| {
                                owners
                                    .iter()
                                    .all(|o| o == &uid || !index.live.contains_key(o))
                            });
                            if all_gone {
                                to_delete.push(dep);
                            }
                        }
                    }
                }
                _ => {
                    index.record(&event.key, &event.object.value);
                    if index.pending.contains(&event.key) {
                        pending = Some(event.key.clone());
                    }
                    // A dependent created after its owner is gone is collected too.
                    let owners = owner_uids(&event.object.value);
                    if !owners.is_empty() && owners.iter().all(|o| !index.live.contains_key(o)) {
                        to_delete.push(event.key.clone());
                    }
                }
            }
        }
        for key in to_delete {
            delete_key(core, &key, Propagation::Background);
        }
        if let Some(key) = pending {
            self.progress(core, &key);
        }
    }

    /// Re-checks owners waiting on their dependents.
    pub fn sweep(&self, core: &Core) {
        let pending: Vec<ObjectKey> = self.index().pending.iter().cloned().collect();
        for key in pending {
            self.progress(core, &key);
        }
    }

    fn progress(&self, core: &Core, key: &ObjectKey) {
        let Some(stored) = core.store.get(key) else {
            return;
        };
        let Some(info) = resource_of(core, key) else {
            return;
        };
        let uid = meta::meta_str(&stored.value, "uid").to_owned();
        let finalizers = meta::finalizers(&stored.value);
        let deps: Vec<ObjectKey> = self
            .index()
            .dependents
            .get(&uid)
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_default();
        if finalizers.iter().any(|f| f == "orphan") {
            for dep in &deps {
                let Some(dep_info) = resource_of(core, dep) else {
                    continue;
                };
                let _ = core.edit(&dep_info, &dep.namespace, &dep.name, Part::Main, |obj| {
                    let Some(refs) = obj
                        .pointer_mut("/metadata/ownerReferences")
                        .and_then(Value::as_array_mut)
                    else {
                        return false;
                    };
                    let before = refs.len();
                    refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
                    if refs.is_empty()
                        && let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut)
                    {
                        m.remove("ownerReferences");
                        return true;
                    }
                    before
                        != obj
                            .pointer("/metadata/ownerReferences")
                            .and_then(Value::as_array)
                            .map_or(0, Vec::len)
                });
            }
            remove_finalizer(core, &info, key, "orphan");
        } else if finalizers.iter().any(|f| f == "foregroundDeletion") {
            if deps.is_empty() {
                remove_finalizer(core, &info, key, "foregroundDeletion");
            } else {
                for dep in deps {
                    delete_key(core, &dep, Propagation::Foreground);
                }
            }
        }
    }
}

fn resource_of(
    core: &Core,
    key: &ObjectKey,
) -> Option<std::sync::Arc<crate::resources::ResourceInfo>> {
    core.registry
        .storage_resources()
        .into_iter()
        .find(|r| r.storage_key() == key.resource)
}

fn remove_finalizer(
    core: &Core,
    info: &crate::resources::ResourceInfo,
    key: &ObjectKey,
    finalizer: &str,
) {
    let _ = core.edit(info, &key.namespace, &key.name, Part::Main, |obj| {
        let mut f = meta::finalizers(obj);
        let before = f.len();
        f.retain(|x| x != finalizer);
        meta::set_finalizers(obj, &f);
        f.len() != before
    });
}

fn delete_key(core: &Core, key: &ObjectKey, propagation: Propagation) {
    let Some(info) = resource_of(core, key) else {
        return;
    };
    if core
        .store
        .get(key)
        .is_some_and(|s| meta::is_deleting(&s.value))
    {
        return;
    }
    let opts = DeleteOptions {
        propagation: Some(propagation),
        ..Default::default()
    };
    if let Err(e) = core.delete(&info, &key.namespace, &key.name, &opts)
        && e.code != 404
    {
        tracing::warn!(error = %e, object = %key, "garbage collecting dependent");
    }
}
