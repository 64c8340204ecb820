//! The ResourceManager: server-side apply of a set of objects in Flux's staged order, with a
//! dry-run first so that unchanged objects are not written (skipped when a watch vouches for
//! the object: see [`crate::live`]), field ownership taken back from
//! kubectl, and immutable-field changes recreated on request; delete for prune; and waiting
//! for objects to become ready.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use ferry_api::{ObjMetadata, keys};
use futures::{StreamExt, stream};
use kube::{
    Api, Client,
    api::{DeleteParams, DynamicObject, Patch, PatchParams, PropagationPolicy},
};
use serde_json::Value;

use crate::{
    changeset::{Action, ChangeSet, ChangeSetEntry},
    cleanup, drift,
    error::{ApplyError, api_reason, is_immutable, is_not_found},
    live::{LiveCache, Settled, Watched},
    object::{self, Gvk},
    order::{self, Stage},
    policy::SsaPolicy,
    resources::{ResolvedKind, Resources},
};

/// How objects are applied.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Recreate every object whose immutable fields changed (`spec.force`); objects annotated
    /// `kustomize.toolkit.fluxcd.io/force: enabled` are recreated regardless.
    pub force: bool,
    /// How long a stage waits for its CRDs to be established and Namespaces to be active.
    pub stage_timeout: Duration,
    /// How long a remembered apply stands in for a dry-run of the same manifest (see
    /// [`crate::live::Settled::still_holds`]); zero dry-runs every object. Only a manager with
    /// a [`LiveCache`] remembers.
    pub trust_settled_for: Duration,
    /// How long a recreate waits for the old object to be gone.
    pub recreate_timeout: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            force: false,
            stage_timeout: Duration::from_secs(60),
            trust_settled_for: Duration::ZERO,
            recreate_timeout: Duration::from_secs(60),
        }
    }
}

/// Applies, deletes and reads objects of any kind with one field manager.
#[derive(Clone)]
pub struct ResourceManager {
    client: Client,
    resources: Resources,
    field_manager: String,
    concurrency: usize,
    cache: Option<Arc<dyn LiveCache>>,
}

/// What is known of the live object before its dry-run.
enum Known {
    /// Read from the API: the object, or `None` if it does not exist.
    Read(Option<Value>),
    /// A watch's view of it: it exists.
    Watched(Watched),
}

/// An object resolved to its API endpoint.
struct Target {
    meta: ObjMetadata,
    gvk: Gvk,
    api: Api<DynamicObject>,
}

impl ResourceManager {
    pub fn new(client: Client, resources: Resources, field_manager: impl Into<String>) -> Self {
        Self {
            client,
            resources,
            field_manager: field_manager.into(),
            concurrency: 4,
            cache: None,
        }
    }

    /// Takes what `cache` knows of live objects instead of reading each before its dry-run.
    pub fn with_cache(mut self, cache: Arc<dyn LiveCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// How many objects are dry-run and applied at once.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Whether a watch's view stands in for reads (see [`Self::with_cache`]).
    pub fn has_cache(&self) -> bool {
        self.cache.is_some()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    async fn target(&self, obj: &mut Value) -> Result<Target, ApplyError> {
        let display = object::display(obj);
        let gvk = object::gvk(obj).map_err(|source| ApplyError::InvalidObject {
            object: display.clone(),
            source,
        })?;
        let resolved = self
            .resources
            .resolve(&self.client, &gvk)
            .await
            .map_err(|source| ApplyError::Resolve {
                object: display.clone(),
                source,
            })?;
        if !resolved.namespaced {
            // A namespace on a cluster-scoped object is meaningless; the server would ignore it,
            // but the inventory must record the object without it.
            if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("namespace");
            }
        } else if object::namespace(obj).is_none() {
            return Err(ApplyError::NamespaceMissing { object: display });
        }
        let meta = object::obj_metadata(obj).map_err(|source| ApplyError::InvalidObject {
            object: display,
            source,
        })?;
        let api = self.api(&resolved, &meta.namespace);
        Ok(Target { meta, gvk, api })
    }

    fn api(&self, resolved: &ResolvedKind, namespace: &str) -> Api<DynamicObject> {
        if resolved.namespaced {
            Api::namespaced_with(self.client.clone(), namespace, &resolved.resource)
        } else {
            Api::all_with(self.client.clone(), &resolved.resource)
        }
    }

    /// Applies objects in stages: cluster definitions (waited for until CRDs are established
    /// and Namespaces active), then `*Class` kinds, then the rest. Objects are sorted into
    /// Flux's order within each stage.
    pub async fn apply_all_staged(
        &self,
        mut objects: Vec<Value>,
        opts: &ApplyOptions,
    ) -> Result<ChangeSet, ApplyError> {
        order::sort(&mut objects);
        let mut stages: BTreeMap<Stage, Vec<Value>> = BTreeMap::new();
        for obj in objects {
            let stage = order::stage_of(object::kind(&obj).unwrap_or_default());
            stages.entry(stage).or_default().push(obj);
        }
        let mut changes = ChangeSet::default();
        let last = stages.keys().next_back().copied();
        for (stage, objects) in stages {
            let applied = self.apply_all(objects.clone(), opts).await?;
            changes.extend(applied);
            if Some(stage) != last && stage == Stage::ClusterDefinitions {
                self.wait_for_definitions(&objects, opts.stage_timeout)
                    .await?;
            }
        }
        Ok(changes)
    }

    /// Applies objects concurrently (bounded), keeping their order in the change set. Every
    /// object is attempted; the errors of all failed objects are reported together.
    pub async fn apply_all(
        &self,
        objects: Vec<Value>,
        opts: &ApplyOptions,
    ) -> Result<ChangeSet, ApplyError> {
        let results: Vec<Result<ChangeSetEntry, ApplyError>> = stream::iter(objects)
            .map(|obj| self.apply(obj, opts))
            .buffered(self.concurrency)
            .collect()
            .await;
        let mut changes = ChangeSet::default();
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok(entry) => changes.entries.push(entry),
                Err(err) => errors.push(err),
            }
        }
        match ApplyError::join(errors) {
            Some(err) => Err(err),
            None => Ok(changes),
        }
    }

    /// Applies one object: dry-run, compare with the live object, apply only when it differs.
    /// With a [`LiveCache`], an object that still holds what the same manifest's last apply
    /// left is not sent at all, and one whose manifest changed since is applied without the
    /// dry-run.
    pub async fn apply(
        &self,
        mut obj: Value,
        opts: &ApplyOptions,
    ) -> Result<ChangeSetEntry, ApplyError> {
        let target = self.target(&mut obj).await?;
        let entry = |action, resource_version: Option<&str>| ChangeSetEntry {
            object: target.meta.clone(),
            version: target.gvk.version.clone(),
            action,
            resource_version: resource_version.map(str::to_owned),
        };
        let policy = SsaPolicy::of(&obj);
        if policy == SsaPolicy::Ignore {
            return Ok(entry(Action::Skipped, None));
        }
        let name = target.meta.name.clone();
        let known = match self.cache.as_ref().and_then(|c| c.lookup(&target.meta)) {
            // Taking back kubectl's fields needs the live managedFields.
            Some(watched) if !(policy == SsaPolicy::Override && watched.needs_cleanup) => {
                Known::Watched(watched)
            }
            _ => Known::Read(self.get_live(&target).await?),
        };
        let mut exists = match &known {
            Known::Read(live) => live.is_some(),
            Known::Watched(_) => true,
        };
        if exists && policy == SsaPolicy::IfNotPresent {
            return Ok(entry(Action::Skipped, None));
        }
        // Only a manager with a cache remembers applies, so only it needs the hash.
        let manifest = self.cache.as_ref().map(|_| drift::manifest_hash(&obj));
        let (settled, watched) = match (&known, &self.cache) {
            (Known::Watched(watched), Some(cache)) => (cache.settled(&target.meta), Some(watched)),
            _ => (None, None),
        };
        if let (Some(settled), Some(watched), Some(manifest)) = (&settled, watched, manifest)
            && settled.still_holds(manifest, watched, opts.trust_settled_for)
        {
            return Ok(entry(Action::Unchanged, Some(&watched.resource_version)));
        }
        if let (Some(settled), Some(watched)) = (&settled, watched)
            && manifest != Some(settled.manifest)
        {
            // The manifest changed since ferry last applied it, so the object changes too: a
            // dry-run would only say so. It is applied straight away (the server writes
            // nothing if the result is the same, which the unchanged resourceVersion shows).
            let applied = match self.patch_apply(&target, &obj, false).await {
                Ok(applied) => applied,
                Err(err) => {
                    return self
                        .rejected(&target, &obj, err, opts, false)
                        .await
                        .map(|action| entry(action, None));
                }
            };
            self.remember(&target, manifest, &applied);
            let version = object::resource_version(&applied);
            let action = if version == Some(&watched.resource_version) {
                Action::Unchanged
            } else {
                Action::Configured
            };
            return Ok(entry(action, version));
        }

        let mut cleaned = false;
        if let (Known::Read(Some(live)), SsaPolicy::Override) = (&known, policy) {
            cleaned = self.cleanup(&target, live).await?;
        }

        let dry_run = match self.patch_apply(&target, &obj, true).await {
            Ok(result) => result,
            Err(err) => {
                return self
                    .rejected(&target, &obj, err, opts, true)
                    .await
                    .map(|action| entry(action, None));
            }
        };
        let dry_version = object::resource_version(&dry_run);
        let unchanged = !cleaned
            && match &known {
                Known::Read(Some(live)) => !drift::has_drifted(live, &dry_run),
                Known::Read(None) => false,
                // The dry-run ran on the object the watch saw only if their versions agree;
                // otherwise it changed since, and is read to compare.
                Known::Watched(watched) if dry_version == Some(&watched.resource_version) => {
                    drift::fingerprint(&dry_run) == watched.fingerprint
                }
                Known::Watched(_) => {
                    let live = self.get_live(&target).await?;
                    exists = live.is_some();
                    live.is_some_and(|live| !drift::has_drifted(&live, &dry_run))
                }
            };
        if unchanged {
            self.remember(&target, manifest, &dry_run);
            return Ok(entry(Action::Unchanged, dry_version));
        }
        let applied = self
            .patch_apply(&target, &obj, false)
            .await
            .map_err(|source| ApplyError::Api {
                object: target.meta.to_string(),
                verb: "apply",
                source: Box::new(source),
            })?;
        tracing::debug!(object = %target.meta, %name, created = !exists, "applied");
        self.remember(&target, manifest, &applied);
        Ok(entry(
            if exists {
                Action::Configured
            } else {
                Action::Created
            },
            object::resource_version(&applied),
        ))
    }

    /// What becomes of an object the API server refused to apply (or dry-run): recreated when
    /// an immutable field changed and force allows it, else the error naming the object.
    async fn rejected(
        &self,
        target: &Target,
        obj: &Value,
        err: kube::Error,
        opts: &ApplyOptions,
        dry_run: bool,
    ) -> Result<Action, ApplyError> {
        let forced =
            opts.force || keys::is_enabled(object::annotation(obj, keys::FORCE_ANNOTATION));
        if is_immutable(&err) && forced {
            self.recreate(target, obj, opts).await?;
            return Ok(Action::Created);
        }
        let object = target.meta.to_string();
        let verb = if dry_run { "dry-run" } else { "apply" };
        let (reason, message) = api_reason(&err);
        Err(if is_immutable(&err) {
            ApplyError::Immutable {
                object,
                verb,
                reason,
                message,
            }
        } else {
            ApplyError::Rejected {
                object,
                verb,
                reason,
                message,
            }
        })
    }

    /// Records in the cache what applying `manifest` left: `result`, as the API returned it.
    fn remember(&self, target: &Target, manifest: Option<u64>, result: &Value) {
        if let (Some(cache), Some(manifest)) = (&self.cache, manifest) {
            let settled = Settled {
                manifest,
                fingerprint: drift::fingerprint(result),
                resource_version: object::resource_version(result)
                    .unwrap_or_default()
                    .to_owned(),
                current: crate::health::assess(result).kstatus == crate::health::KStatus::Current,
                at: std::time::Instant::now(),
            };
            cache.settle(&target.meta, settled);
        }
    }

    async fn get_live(&self, target: &Target) -> Result<Option<Value>, ApplyError> {
        match target.api.get_opt(&target.meta.name).await {
            Ok(found) => Ok(found.map(to_value)),
            Err(source) => Err(ApplyError::Api {
                object: target.meta.to_string(),
                verb: "get",
                source: Box::new(source),
            }),
        }
    }

    async fn patch_apply(
        &self,
        target: &Target,
        obj: &Value,
        dry_run: bool,
    ) -> Result<Value, kube::Error> {
        let mut params = PatchParams::apply(&self.field_manager).force();
        if dry_run {
            params = params.dry_run();
        }
        target
            .api
            .patch(&target.meta.name, &params, &Patch::Apply(obj))
            .await
            .map(to_value)
    }

    /// Moves kubectl's fields into our ownership and strips client-side-apply leftovers.
    async fn cleanup(&self, target: &Target, live: &Value) -> Result<bool, ApplyError> {
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let Some(ops) = cleanup::cleanup_patch(live, &self.field_manager, &now) else {
            return Ok(false);
        };
        let patch: json_patch::Patch =
            serde_json::from_value(ops).expect("cleanup builds valid JSON patch operations");
        target
            .api
            .patch(
                &target.meta.name,
                &PatchParams::default(),
                &Patch::<()>::Json(patch),
            )
            .await
            .map_err(|source| ApplyError::Api {
                object: target.meta.to_string(),
                verb: "patch managed fields",
                source: Box::new(source),
            })?;
        Ok(true)
    }

    /// Deletes the object, waits until it is gone (finalizers may hold it), and creates it anew.
    async fn recreate(
        &self,
        target: &Target,
        obj: &Value,
        opts: &ApplyOptions,
    ) -> Result<(), ApplyError> {
        let object = target.meta.to_string();
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..Default::default()
        };
        match target.api.delete(&target.meta.name, &params).await {
            Ok(_) => {}
            Err(err) if is_not_found(&err) => {}
            Err(source) => {
                return Err(ApplyError::Api {
                    object,
                    verb: "delete",
                    source: Box::new(source),
                });
            }
        }
        let deadline = tokio::time::Instant::now() + opts.recreate_timeout;
        loop {
            if self.get_live(target).await?.is_none() {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApplyError::RecreateTimeout {
                    object,
                    timeout: opts.recreate_timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.patch_apply(target, obj, false)
            .await
            .map_err(|source| ApplyError::Api {
                object,
                verb: "apply",
                source: Box::new(source),
            })?;
        Ok(())
    }

    /// Waits until the CRDs of a stage are established and its Namespaces active, then makes
    /// sure the new kinds resolve.
    async fn wait_for_definitions(
        &self,
        objects: &[Value],
        timeout: Duration,
    ) -> Result<(), ApplyError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pending: Vec<Value> = objects.to_vec();
        loop {
            let mut still = Vec::new();
            for obj in pending {
                let mut probe = obj.clone();
                let target = self.target(&mut probe).await?;
                let ready = match self.get_live(&target).await? {
                    Some(live) => definition_ready(&live),
                    None => false,
                };
                if ready {
                    if object::kind(&obj) == Some("CustomResourceDefinition") {
                        self.refresh_crd_kinds(&obj).await;
                    }
                } else {
                    still.push(obj);
                }
            }
            if still.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApplyError::StageTimeout {
                    stage: "cluster definitions",
                    pending: still.iter().map(object::display).collect(),
                });
            }
            pending = still;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn refresh_crd_kinds(&self, crd: &Value) {
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for version in crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(version) = version.get("name").and_then(Value::as_str)
                && let Err(err) = self.resources.refresh(&self.client, group, version).await
            {
                tracing::warn!(%group, %version, error = %err, "discovery refresh after CRD apply failed");
            }
        }
    }

    /// Reads an object by identity and version; `None` when it does not exist or its kind is
    /// no longer served.
    pub async fn get(
        &self,
        meta: &ObjMetadata,
        version: &str,
    ) -> Result<Option<Value>, ApplyError> {
        let gvk = Gvk::of(meta, version);
        let resolved = match self.resources.resolve(&self.client, &gvk).await {
            Ok(resolved) => resolved,
            Err(crate::resources::ResolveError::NotServed { .. }) => return Ok(None),
            Err(source) => {
                return Err(ApplyError::Resolve {
                    object: meta.to_string(),
                    source,
                });
            }
        };
        let target = Target {
            meta: meta.clone(),
            gvk,
            api: self.api(&resolved, &meta.namespace),
        };
        self.get_live(&target).await
    }

    /// Deletes objects (prune), only those that still carry `owner_labels` and are not opted
    /// out with `kustomize.toolkit.fluxcd.io/prune: disabled`. Objects already gone count as
    /// deleted. Returns what was done and, separately, the objects whose delete failed, which
    /// the caller keeps in its inventory to retry.
    pub async fn delete_all(
        &self,
        objects: &[(ObjMetadata, String)],
        owner_labels: &BTreeMap<String, String>,
    ) -> (ChangeSet, Vec<(ObjMetadata, String, ApplyError)>) {
        // Owned items: a future borrowing the slice's elements would not be general enough for
        // the runtime's Send bounds.
        let results: Vec<_> = stream::iter(objects.to_vec())
            .map(|(meta, version)| async move {
                let result = self.delete_owned(&meta, &version, owner_labels).await;
                (meta, version, result)
            })
            .buffered(self.concurrency)
            .collect()
            .await;
        let mut changes = ChangeSet::default();
        let mut failures = Vec::new();
        for (meta, version, result) in results {
            match result {
                Ok(action) => changes.push(meta, version, action),
                Err(err) => failures.push((meta, version, err)),
            }
        }
        (changes, failures)
    }

    async fn delete_owned(
        &self,
        meta: &ObjMetadata,
        version: &str,
        owner_labels: &BTreeMap<String, String>,
    ) -> Result<Action, ApplyError> {
        let Some(live) = self.get(meta, version).await? else {
            return Ok(Action::Deleted);
        };
        let owned = owner_labels
            .iter()
            .all(|(k, v)| object::label(&live, k) == Some(v.as_str()));
        let opted_out = keys::is_disabled(object::annotation(&live, keys::PRUNE_ANNOTATION))
            || keys::is_disabled(object::label(&live, keys::PRUNE_ANNOTATION))
            || keys::is_disabled(object::annotation(&live, keys::RECONCILE_ANNOTATION));
        if !owned || opted_out {
            return Ok(Action::Skipped);
        }
        let gvk = Gvk::of(meta, version);
        let resolved = self
            .resources
            .resolve(&self.client, &gvk)
            .await
            .map_err(|source| ApplyError::Resolve {
                object: meta.to_string(),
                source,
            })?;
        let api = self.api(&resolved, &meta.namespace);
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..Default::default()
        };
        match api.delete(&meta.name, &params).await {
            Ok(_) => Ok(Action::Deleted),
            Err(err) if is_not_found(&err) => Ok(Action::Deleted),
            Err(source) => Err(ApplyError::Api {
                object: meta.to_string(),
                verb: "delete",
                source: Box::new(source),
            }),
        }
    }
}

/// Whether a stage-one object is usable by the next stage.
fn definition_ready(live: &Value) -> bool {
    match object::kind(live) {
        Some("CustomResourceDefinition") => live
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|conds| {
                conds.iter().any(|c| {
                    c.get("type").and_then(Value::as_str) == Some("Established")
                        && c.get("status").and_then(Value::as_str) == Some("True")
                })
            }),
        Some("Namespace") => matches!(
            live.pointer("/status/phase").and_then(Value::as_str),
            None | Some("Active")
        ),
        _ => true,
    }
}

fn to_value(obj: DynamicObject) -> Value {
    serde_json::to_value(obj).expect("a DynamicObject always serialises")
}
