//! Object storage: every object lives in memory (serialized once per write, so lists and watches
//! copy bytes rather than re-encode) and, unless ephemeral, in a SQLite database in WAL mode.
//! One global resourceVersion counter orders all writes; a bounded history of events lets
//! watches resume from a recent resourceVersion, and older ones get 410 Expired.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError},
};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

/// Where an object lives: its resource's storage key (`apps/deployments`), namespace ("" for
/// cluster-scoped objects) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub resource: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(resource: &str, namespace: &str, name: &str) -> Self {
        Self {
            resource: resource.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.resource, self.name)
        } else {
            write!(f, "{} {}/{}", self.resource, self.namespace, self.name)
        }
    }
}

/// One stored object version: the value (with `metadata.resourceVersion` set) and its JSON.
#[derive(Debug)]
pub struct Stored {
    pub value: Value,
    pub json: Bytes,
    pub rv: u64,
    /// How a custom resource reads with its schema's defaults, worked out on its first read
    /// (see [`crate::schema::Reader`]): every watch event, response and patch reads it again.
    pub defaulted: OnceLock<Defaulted>,
}

/// A stored object as read with one schema's defaults.
#[derive(Debug)]
pub struct Defaulted {
    /// The schema it was defaulted with; a later schema (a CRD update) reads it anew.
    pub schema: Arc<ferry_schema::TypeSchema>,
    /// The defaulted object and its JSON, or `None` when the stored one already holds every
    /// default (as objects written since the schema took effect do).
    pub read: Option<(Value, Bytes)>,
}

impl Stored {
    fn new(mut value: Value, rv: u64) -> Self {
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        let json =
            Bytes::from(serde_json::to_vec(&value).expect("a serde_json::Value always serializes"));
        Self {
            value,
            json,
            rv,
            defaulted: OnceLock::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// A change, as watches see it.
#[derive(Debug)]
pub struct Event {
    pub kind: EventType,
    pub key: ObjectKey,
    /// The new state; for deletions, the last state stamped with the deletion's resourceVersion.
    pub object: Arc<Stored>,
    /// The state before the change (for selector transitions), if there was one.
    pub previous: Option<Arc<Stored>>,
}

/// What a write expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Create: the key must be free.
    Absent,
    /// Update or delete: the object must exist at exactly this resourceVersion.
    Version(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Exists(ObjectKey),
    #[error("{0} not found")]
    NotFound(ObjectKey),
    #[error("{key} was modified: expected resourceVersion {expected}, found {found}")]
    Conflict {
        key: ObjectKey,
        expected: u64,
        found: u64,
    },
    #[error("too old resource version: {requested} ({oldest})")]
    Expired { requested: u64, oldest: u64 },
    #[error("sqlite database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("sqlite database {path}: object {key} holds invalid JSON: {source}")]
    Corrupt {
        path: PathBuf,
        key: String,
        source: serde_json::Error,
    },
    #[error("creating data directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

struct Db {
    conn: rusqlite::Connection,
    path: PathBuf,
}

impl Db {
    fn open(path: &Path) -> Result<Self, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let conn = rusqlite::Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS objects(
                resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                rv INTEGER NOT NULL, data BLOB NOT NULL,
                PRIMARY KEY(resource, namespace, name)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
        )
        .map_err(err)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    fn write(
        &mut self,
        key: &ObjectKey,
        object: Option<&Stored>,
        rv: u64,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        match object {
            Some(stored) => {
                tx.prepare_cached(
                    "INSERT INTO objects(resource, namespace, name, rv, data) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(resource, namespace, name) DO UPDATE SET rv = excluded.rv, data = excluded.data",
                )
                .map_err(err)?
                .execute(rusqlite::params![key.resource, key.namespace, key.name, rv as i64, &stored.json[..]])
                .map_err(err)?;
            }
            None => {
                tx.prepare_cached(
                    "DELETE FROM objects WHERE resource = ?1 AND namespace = ?2 AND name = ?3",
                )
                .map_err(err)?
                .execute(rusqlite::params![key.resource, key.namespace, key.name])
                .map_err(err)?;
            }
        }
        tx.prepare_cached("INSERT INTO meta(key, value) VALUES ('rv', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .map_err(err)?
            .execute([rv as i64])
            .map_err(err)?;
        tx.commit().map_err(err)
    }

    #[allow(clippy::type_complexity)]
    fn load(&self) -> Result<(u64, Vec<(ObjectKey, Stored)>), StoreError> {
        let err = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let rv: u64 = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'rv'", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|v| v.max(0) as u64)
            .or_else(|e| {
                if matches!(e, rusqlite::Error::QueryReturnedNoRows) {
                    Ok(0)
                } else {
                    Err(err(e))
                }
            })?;
        let mut stmt = self
            .conn
            .prepare("SELECT resource, namespace, name, rv, data FROM objects")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    ObjectKey {
                        resource: row.get(0)?,
                        namespace: row.get(1)?,
                        name: row.get(2)?,
                    },
                    row.get::<_, i64>(3)?,
                    row.get::<_, Vec<u8>>(4)?,
                ))
            })
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (key, obj_rv, data) = row.map_err(err)?;
            let value: Value =
                serde_json::from_slice(&data).map_err(|source| StoreError::Corrupt {
                    path: self.path.clone(),
                    key: key.to_string(),
                    source,
                })?;
            let obj_rv = obj_rv.max(0) as u64;
            out.push((
                key,
                Stored {
                    json: Bytes::from(data),
                    value,
                    rv: obj_rv,
                    defaulted: OnceLock::new(),
                },
            ));
        }
        Ok((rv, out))
    }
}

struct State {
    rv: u64,
    objects: HashMap<String, BTreeMap<(String, String), Arc<Stored>>>,
    history: VecDeque<Arc<Event>>,
    /// Watches may resume from any resourceVersion >= this.
    oldest_resumable: u64,
    db: Option<Db>,
}

/// The object store. Cheap to share behind an `Arc`.
pub struct Store {
    state: Mutex<State>,
    events: broadcast::Sender<Arc<Event>>,
    history_limit: usize,
}

/// A consistent snapshot of some objects and the resourceVersion it was taken at.
pub struct Snapshot {
    pub items: Vec<Arc<Stored>>,
    pub rv: u64,
}

/// What a watch starting at some resourceVersion must first replay, and the live feed after it.
pub struct WatchStart {
    pub replay: Vec<Arc<Event>>,
    pub receiver: broadcast::Receiver<Arc<Event>>,
    pub rv: u64,
}

impl Store {
    /// Opens (or creates) the database at `path`, or keeps everything in memory when `None`.
    pub fn open(path: Option<&Path>, history_limit: usize) -> Result<Self, StoreError> {
        let mut objects: HashMap<String, BTreeMap<(String, String), Arc<Stored>>> = HashMap::new();
        let (db, rv) = match path {
            Some(path) => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                        path: parent.to_owned(),
                        source,
                    })?;
                }
                let db = Db::open(path)?;
                let (rv, rows) = db.load()?;
                for (key, stored) in rows {
                    objects
                        .entry(key.resource)
                        .or_default()
                        .insert((key.namespace, key.name), Arc::new(stored));
                }
                (Some(db), rv)
            }
            None => (None, 0),
        };
        let (events, _) = broadcast::channel(16 * 1024);
        Ok(Self {
            state: Mutex::new(State {
                rv,
                objects,
                history: VecDeque::new(),
                oldest_resumable: rv,
                db,
            }),
            events,
            history_limit: history_limit.max(16),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The newest resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    pub fn get(&self, key: &ObjectKey) -> Option<Arc<Stored>> {
        self.lock()
            .objects
            .get(&key.resource)?
            .get(&(key.namespace.clone(), key.name.clone()))
            .cloned()
    }

    /// Every object of a resource (optionally of one namespace), ordered by namespace then name.
    pub fn list(&self, resource: &str, namespace: Option<&str>) -> Snapshot {
        let state = self.lock();
        let items = match state.objects.get(resource) {
            None => Vec::new(),
            Some(map) => match namespace {
                None => map.values().cloned().collect(),
                Some(ns) => map
                    .range((ns.to_owned(), String::new())..)
                    .take_while(|((n, _), _)| n == ns)
                    .map(|(_, v)| v.clone())
                    .collect(),
            },
        };
        Snapshot {
            items,
            rv: state.rv,
        }
    }

    /// The objects of a resource (optionally of one namespace) as they were at resourceVersion
    /// `at`, ordered as [`Store::list`]: the later pages of a paged list are served from the
    /// first page's revision, as etcd serves them. Rebuilt from the current state by undoing the
    /// history after `at`; `Expired` once that history is gone.
    pub fn list_at(
        &self,
        resource: &str,
        namespace: Option<&str>,
        at: u64,
    ) -> Result<Snapshot, StoreError> {
        let state = self.lock();
        if at < state.oldest_resumable {
            return Err(StoreError::Expired {
                requested: at,
                oldest: state.oldest_resumable,
            });
        }
        let mut items: BTreeMap<(String, String), Arc<Stored>> = match state.objects.get(resource) {
            None => BTreeMap::new(),
            Some(map) => map
                .iter()
                .filter(|((ns, _), _)| namespace.is_none_or(|want| want == ns))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        for event in state.history.iter().rev() {
            if event.object.rv <= at {
                break;
            }
            if event.key.resource != resource
                || namespace.is_some_and(|ns| ns != event.key.namespace)
            {
                continue;
            }
            let slot = (event.key.namespace.clone(), event.key.name.clone());
            match &event.previous {
                Some(previous) => items.insert(slot, previous.clone()),
                None => items.remove(&slot),
            };
        }
        Ok(Snapshot {
            items: items.into_values().collect(),
            rv: at.min(state.rv),
        })
    }

    /// Number of objects of a resource in a namespace (or everywhere).
    pub fn count(&self, resource: &str, namespace: Option<&str>) -> usize {
        let state = self.lock();
        match (state.objects.get(resource), namespace) {
            (None, _) => 0,
            (Some(map), None) => map.len(),
            (Some(map), Some(ns)) => map.keys().filter(|(n, _)| n == ns).count(),
        }
    }

    /// Writes (or, with `None`, deletes) one object if `precondition` holds, and returns the stored
    /// version (for deletes: the last state stamped with the deletion's resourceVersion).
    pub fn commit(
        &self,
        key: &ObjectKey,
        precondition: Precondition,
        value: Option<Value>,
    ) -> Result<Arc<Stored>, StoreError> {
        self.commit_with(key, precondition, value, None)
    }

    /// [`Store::commit`] of a value that already holds every default of `defaulted_with` (it
    /// went through admission with that schema), so that its reads need not default it again.
    pub fn commit_with(
        &self,
        key: &ObjectKey,
        precondition: Precondition,
        value: Option<Value>,
        defaulted_with: Option<Arc<ferry_schema::TypeSchema>>,
    ) -> Result<Arc<Stored>, StoreError> {
        let mut state = self.lock();
        let slot = (key.namespace.clone(), key.name.clone());
        let previous = state
            .objects
            .get(&key.resource)
            .and_then(|m| m.get(&slot))
            .cloned();
        match (precondition, &previous) {
            (Precondition::Absent, Some(_)) => return Err(StoreError::Exists(key.clone())),
            (Precondition::Version(_), None) => return Err(StoreError::NotFound(key.clone())),
            (Precondition::Version(expected), Some(prev)) if prev.rv != expected => {
                return Err(StoreError::Conflict {
                    key: key.clone(),
                    expected,
                    found: prev.rv,
                });
            }
            _ => {}
        }
        let rv = state.rv + 1;
        let (kind, stored) = match value {
            Some(v) => {
                let kind = if previous.is_some() {
                    EventType::Modified
                } else {
                    EventType::Added
                };
                let stored = Stored::new(v, rv);
                if let Some(schema) = defaulted_with {
                    // Set before any reader sees it: the watch event goes out below.
                    let _ = stored.defaulted.set(Defaulted { schema, read: None });
                }
                (kind, Arc::new(stored))
            }
            None => {
                let prev = previous
                    .as_ref()
                    .ok_or_else(|| StoreError::NotFound(key.clone()))?;
                (
                    EventType::Deleted,
                    Arc::new(Stored::new(prev.value.clone(), rv)),
                )
            }
        };
        if let Some(db) = state.db.as_mut() {
            db.write(key, (kind != EventType::Deleted).then_some(&*stored), rv)?;
        }
        state.rv = rv;
        let map = state.objects.entry(key.resource.clone()).or_default();
        if kind == EventType::Deleted {
            map.remove(&slot);
        } else {
            map.insert(slot, stored.clone());
        }
        let event = Arc::new(Event {
            kind,
            key: key.clone(),
            object: stored.clone(),
            previous,
        });
        state.history.push_back(event.clone());
        while state.history.len() > self.history_limit {
            if let Some(dropped) = state.history.pop_front() {
                state.oldest_resumable = dropped.object.rv;
            }
        }
        // Nobody listening is fine: watches subscribe under the same lock, so none can miss it.
        let _ = self.events.send(event);
        Ok(stored)
    }

    /// Starts a watch after resourceVersion `from`: the events since then (all resources; the
    /// caller filters) and a receiver for later ones, taken atomically.
    pub fn watch_from(&self, from: u64) -> Result<WatchStart, StoreError> {
        let state = self.lock();
        if from < state.oldest_resumable {
            return Err(StoreError::Expired {
                requested: from,
                oldest: state.oldest_resumable,
            });
        }
        let replay = state
            .history
            .iter()
            .filter(|e| e.object.rv > from)
            .cloned()
            .collect();
        Ok(WatchStart {
            replay,
            receiver: self.events.subscribe(),
            rv: state.rv,
        })
    }

    /// Starts a watch at the current state: a snapshot of the resource plus a receiver for
    /// everything after it, taken atomically.
    pub fn snapshot_and_watch(
        &self,
        resource: &str,
        namespace: Option<&str>,
    ) -> (Snapshot, broadcast::Receiver<Arc<Event>>) {
        let state = self.lock();
        let receiver = self.events.subscribe();
        let items = match state.objects.get(resource) {
            None => Vec::new(),
            Some(map) => map
                .iter()
                .filter(|((n, _), _)| namespace.is_none_or(|ns| ns == n))
                .map(|(_, v)| v.clone())
                .collect(),
        };
        (
            Snapshot {
                items,
                rv: state.rv,
            },
            receiver,
        )
    }

    /// A receiver for every future event (controllers).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// Oldest resourceVersion a watch can still resume from.
    pub fn oldest_resumable(&self) -> u64 {
        self.lock().oldest_resumable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"}})
    }

    #[test]
    fn writes_bump_one_global_resource_version() {
        let store = Store::open(None, 100).unwrap();
        let a = ObjectKey::new("/configmaps", "ns", "a");
        let first = store
            .commit(&a, Precondition::Absent, Some(obj("a")))
            .unwrap();
        assert_eq!(first.rv, 1);
        assert_eq!(first.value["metadata"]["resourceVersion"], "1");
        assert!(matches!(
            store.commit(&a, Precondition::Absent, Some(obj("a"))),
            Err(StoreError::Exists(_))
        ));
        assert!(matches!(
            store.commit(&a, Precondition::Version(7), Some(obj("a"))),
            Err(StoreError::Conflict {
                expected: 7,
                found: 1,
                ..
            })
        ));
        let second = store
            .commit(&a, Precondition::Version(1), Some(obj("a")))
            .unwrap();
        assert_eq!(second.rv, 2);
        let gone = store.commit(&a, Precondition::Version(2), None).unwrap();
        assert_eq!(gone.rv, 3);
        assert!(store.get(&a).is_none());
    }

    #[test]
    fn lists_at_an_earlier_revision_undo_later_writes() {
        let store = Store::open(None, 16).unwrap();
        let key = |n: &str| ObjectKey::new("/configmaps", "default", n);
        let obj = |n: &str, v: &str| json!({"metadata": {"name": n}, "data": {"v": v}});
        store
            .commit(&key("a"), Precondition::Absent, Some(obj("a", "1")))
            .unwrap();
        let b = store
            .commit(&key("b"), Precondition::Absent, Some(obj("b", "1")))
            .unwrap();
        let at = store.current_rv();
        store
            .commit(&key("b"), Precondition::Version(b.rv), Some(obj("b", "2")))
            .unwrap();
        store
            .commit(&key("c"), Precondition::Absent, Some(obj("c", "1")))
            .unwrap();
        let a = store.get(&key("a")).unwrap();
        store
            .commit(&key("a"), Precondition::Version(a.rv), None)
            .unwrap();
        let then = store.list_at("/configmaps", Some("default"), at).unwrap();
        let seen: Vec<(String, String)> = then
            .items
            .iter()
            .map(|s| {
                (
                    s.value["metadata"]["name"].as_str().unwrap().to_owned(),
                    s.value["data"]["v"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [("a".into(), "1".into()), ("b".into(), "1".into())],
            "a deleted later is back, b as it was, c not yet there"
        );
        assert_eq!(then.rv, at);
        for i in 0..20 {
            store
                .commit(
                    &key(&format!("f{i}")),
                    Precondition::Absent,
                    Some(obj("f", "x")),
                )
                .unwrap();
        }
        assert!(matches!(
            store.list_at("/configmaps", None, at),
            Err(StoreError::Expired { .. })
        ));
    }

    #[test]
    fn watches_replay_history_and_expire_old_versions() {
        let store = Store::open(None, 16).unwrap();
        for i in 0..40 {
            let k = ObjectKey::new("/configmaps", "ns", &format!("c{i}"));
            store
                .commit(&k, Precondition::Absent, Some(obj(&format!("c{i}"))))
                .unwrap();
        }
        let start = store.watch_from(30).unwrap();
        assert_eq!(start.replay.len(), 10);
        assert!(matches!(
            store.watch_from(2),
            Err(StoreError::Expired { requested: 2, .. })
        ));
    }

    #[test]
    fn sqlite_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let store = Store::open(Some(&path), 100).unwrap();
            let k = ObjectKey::new("/configmaps", "ns", "a");
            store
                .commit(&k, Precondition::Absent, Some(obj("a")))
                .unwrap();
            let k2 = ObjectKey::new("/configmaps", "ns", "b");
            store
                .commit(&k2, Precondition::Absent, Some(obj("b")))
                .unwrap();
            store.commit(&k2, Precondition::Version(2), None).unwrap();
        }
        let store = Store::open(Some(&path), 100).unwrap();
        assert_eq!(store.current_rv(), 3);
        let snap = store.list("/configmaps", Some("ns"));
        assert_eq!(snap.items.len(), 1);
        assert_eq!(snap.items[0].value["metadata"]["resourceVersion"], "1");
        assert!(matches!(
            store.watch_from(1),
            Err(StoreError::Expired { .. })
        ));
    }
}
