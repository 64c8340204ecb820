//! The API semantics shared by the HTTP handlers and the in-process controllers: create, read,
//! update, patch and delete with the real server's rules (names, namespaces, optimistic
//! concurrency, generation, status subresource, finalizers, deletion propagation, dry run).

use std::{borrow::Cow, sync::Arc};

use serde_json::{Map, Value, json};

use crate::{
    merge,
    meta::{self, metadata_mut},
    parts,
    patch::{self, PatchType},
    resources::{Registry, ResourceInfo},
    schema,
    selector::{FieldSelector, LabelSelector},
    status::{ApiError, Cause, Subject},
    store::{ObjectKey, Precondition, Store, StoreError, Stored},
    strategy,
};

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Main,
    Status,
    /// `namespaces/{name}/finalize`: writes only `spec.finalizers`.
    Finalize,
}

/// `fieldValidation` of a write (absent means `Warn`, as on the real server).
pub use ferry_schema::validation::FieldValidation;

/// Options every write carries.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub dry_run: bool,
    pub field_manager: Option<String>,
    pub field_validation: FieldValidation,
    /// Server-side apply: take ownership of conflicting fields.
    pub force: bool,
}

/// How dependents are treated when their owner is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub dry_run: bool,
    /// The deprecated `orphanDependents` as sent (a `false` makes a pending delete answer 202).
    pub orphan_dependents: Option<bool>,
    pub propagation: Option<Propagation>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
}

/// The result of a write: the object and warnings to return in `Warning` headers.
pub struct WriteOutcome {
    pub object: Written,
    pub created: bool,
    pub warnings: Vec<String>,
}

/// The object a write left: stored, or only made (a dry run). A stored one is answered with
/// the JSON the store keeps, which saves encoding it again.
#[derive(Debug)]
pub enum Written {
    Stored(Arc<Stored>),
    Made(Value),
}

impl Written {
    /// The object as a client of `info` reads it.
    pub fn into_value(self, core: &Core, info: &ResourceInfo) -> Value {
        match self {
            Self::Stored(stored) => core.present(info, &stored),
            Self::Made(value) => value,
        }
    }

    /// Its JSON, as a client of `info` reads it.
    pub fn json(&self, core: &Core, info: &ResourceInfo) -> bytes::Bytes {
        match self {
            Self::Stored(stored) => schema::Reader::new(core, info).json(stored),
            Self::Made(value) => bytes::Bytes::from(
                serde_json::to_vec(value).expect("a serde_json::Value always serializes"),
            ),
        }
    }
}

impl WriteOutcome {
    /// Puts the warnings of an earlier stage (strict decoding) before this write's own.
    pub fn with_earlier_warnings(mut self, mut earlier: Vec<String>) -> Self {
        earlier.append(&mut self.warnings);
        self.warnings = earlier;
        self
    }
}

/// What a delete did.
pub enum DeleteOutcome {
    /// Gone now: the last state.
    Deleted(Value),
    /// Finalizers (or a namespace's cleanup) hold it: the object with its deletionTimestamp.
    Pending(Value),
}

/// List filters and paging.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    /// `resourceVersionMatch=Exact`: the list as it was at this resourceVersion.
    pub exact: Option<u64>,
}

pub struct ListResult {
    pub items: Vec<Arc<Stored>>,
    pub rv: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<u64>,
}

/// The shared API core.
pub struct Core {
    pub registry: Registry,
    /// Schemas for strategic merge patch and server-side apply (built-ins plus CRDs).
    pub schemas: ferry_schema::Registry,
    pub store: Store,
    pub strategy: strategy::Strategy,
    /// The serving CA, published in every namespace's `kube-root-ca.crt`.
    pub ca_pem: std::sync::OnceLock<String>,
}

pub fn subject(info: &ResourceInfo, name: &str) -> Subject {
    Subject::new(&info.group, &info.plural, name)
}

fn store_error(info: &ResourceInfo, err: StoreError, name: &str) -> ApiError {
    match err {
        StoreError::Exists(_) => ApiError::already_exists(&subject(info, name)),
        StoreError::NotFound(_) => ApiError::not_found(&subject(info, name)),
        StoreError::Conflict { .. } => ApiError::conflict(&subject(info, name)),
        StoreError::Expired { requested, oldest } => ApiError::expired(requested, oldest),
        other => ApiError::internal(other.to_string()),
    }
}

/// Encodes a continue token: the resourceVersion of the first page and the last key returned.
fn encode_continue(rv: u64, namespace: &str, name: &str) -> String {
    use base64::Engine;
    let token =
        json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{namespace}/{name}\u{0}")});
    base64::engine::general_purpose::STANDARD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Result<(u64, String, String), ApiError> {
    use base64::Engine;
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| bad())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let rv = value.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let start = value.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    let start = start.strip_suffix('\u{0}').ok_or_else(bad)?;
    let (ns, name) = start.split_once('/').ok_or_else(bad)?;
    Ok((rv, ns.to_owned(), name.to_owned()))
}

pub fn parse_rv(raw: &str) -> Result<u64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {raw}")))
}

impl Core {
    pub fn new(registry: Registry, store: Store, strategy: strategy::Strategy) -> Self {
        Self {
            registry,
            schemas: ferry_schema::Registry::builtin(),
            store,
            strategy,
            ca_pem: std::sync::OnceLock::new(),
        }
    }

    pub fn cluster_ca(&self) -> Option<String> {
        self.ca_pem.get().cloned()
    }

    pub fn key(info: &ResourceInfo, namespace: &str, name: &str) -> ObjectKey {
        ObjectKey::new(
            &info.storage_key(),
            if info.namespaced { namespace } else { "" },
            name,
        )
    }

    /// The object as a client of the caller's version reads it: custom resources stored in
    /// another version only change `apiVersion` (conversion strategy None) and get their
    /// schema's defaults (see [`crate::schema::Reader`]).
    pub fn present(&self, info: &ResourceInfo, stored: &Stored) -> Value {
        crate::schema::Reader::new(self, info).value(stored)
    }

    /// [`Core::present`], borrowed from `stored` when reading changes nothing.
    pub fn present_ref<'s>(&self, info: &ResourceInfo, stored: &'s Stored) -> Cow<'s, Value> {
        crate::schema::Reader::new(self, info).value_ref(stored)
    }

    pub fn get(
        &self,
        info: &ResourceInfo,
        namespace: &str,
        name: &str,
    ) -> Result<Arc<Stored>, ApiError> {
        self.store
            .get(&Self::key(info, namespace, name))
            .ok_or_else(|| ApiError::not_found(&subject(info, name)))
    }

    pub fn list(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ListResult, ApiError> {
        let namespace = if info.namespaced { namespace } else { None };
        let mut start: Option<(String, String)> = None;
        let snapshot = match opts.continue_token.as_deref().filter(|t| !t.is_empty()) {
            None => match opts.exact {
                None => self.store.list(&info.storage_key(), namespace),
                Some(at) => {
                    let current = self.store.current_rv();
                    if at > current {
                        return Err(ApiError::too_large_resource_version(at, current));
                    }
                    self.store
                        .list_at(&info.storage_key(), namespace, at)
                        .map_err(|e| store_error(info, e, ""))?
                }
            },
            Some(token) => {
                // Later pages show the objects as they were when the first page was served.
                let (token_rv, ns, name) = decode_continue(token)?;
                start = Some((ns, name));
                self.store
                    .list_at(&info.storage_key(), namespace, token_rv)
                    .map_err(|_| {
                        ApiError::gone(
                            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                        )
                    })?
            }
        };
        let rv = snapshot.rv;
        let mut items = Vec::new();
        let mut iter = snapshot
            .items
            .into_iter()
            .filter(|s| {
                start.as_ref().is_none_or(|(ns, name)| {
                    let k = (
                        meta::meta_str(&s.value, "namespace"),
                        meta::meta_str(&s.value, "name"),
                    );
                    k > (ns.as_str(), name.as_str())
                })
            })
            .filter(|s| opts.labels.matches_object(&s.value) && opts.fields.matches(&s.value));
        let limit = opts.limit.filter(|l| *l > 0);
        let mut continue_token = None;
        let mut remaining = None;
        for s in iter.by_ref() {
            items.push(s);
            if limit.is_some_and(|l| items.len() >= l) {
                break;
            }
        }
        if limit.is_some_and(|l| items.len() >= l) {
            let rest = iter.count() as u64;
            if rest > 0
                && let Some(last) = items.last()
            {
                continue_token = Some(encode_continue(
                    rv,
                    meta::meta_str(&last.value, "namespace"),
                    meta::meta_str(&last.value, "name"),
                ));
                if opts.labels.is_empty() && opts.fields.is_empty() {
                    remaining = Some(rest);
                }
            }
        }
        Ok(ListResult {
            items,
            rv,
            continue_token,
            remaining,
        })
    }

    fn check_type(info: &ResourceInfo, object: &mut Value) -> Result<(), ApiError> {
        if !object.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request is not a JSON object",
            ));
        }
        match object.get("apiVersion").and_then(Value::as_str) {
            None | Some("") => object["apiVersion"] = Value::String(info.api_version()),
            Some(v) if v == info.api_version() => {}
            Some(v) => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({v}) does not match the expected API version ({})",
                    info.api_version()
                )));
            }
        }
        match object.get("kind").and_then(Value::as_str) {
            None | Some("") => object["kind"] = Value::String(info.kind.clone()),
            Some(k) if k == info.kind => {}
            Some(k) => {
                return Err(ApiError::bad_request(format!(
                    "the kind in the data ({k}) does not match the expected kind ({})",
                    info.kind
                )));
            }
        }
        if !object.get("metadata").is_none_or(Value::is_object) {
            return Err(ApiError::bad_request("metadata must be an object"));
        }
        Ok(())
    }

    /// Converts an incoming object to the storage version (conversion strategy None).
    fn to_storage_version(info: &ResourceInfo, object: &mut Value) {
        if info.version != info.storage_version {
            let api_version = if info.group.is_empty() {
                info.storage_version.clone()
            } else {
                format!("{}/{}", info.group, info.storage_version)
            };
            object["apiVersion"] = Value::String(api_version);
        }
    }

    /// Checks that the namespace of a new object exists and is not being deleted.
    fn check_namespace(
        &self,
        info: &ResourceInfo,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        if !info.namespaced {
            return Ok(());
        }
        if namespace.is_empty() {
            return Err(ApiError::bad_request(
                "the server could not find the requested resource (namespace is required)",
            ));
        }
        let ns = self
            .store
            .get(&ObjectKey::new("/namespaces", "", namespace))
            .ok_or_else(|| ApiError::not_found(&Subject::new("", "namespaces", namespace)))?;
        if meta::is_deleting(&ns.value) {
            return Err(ApiError::namespace_terminating(
                &subject(info, name),
                namespace,
            ));
        }
        Ok(())
    }

    /// Creates an object (POST).
    pub fn create(
        &self,
        info: &ResourceInfo,
        namespace: &str,
        object: Value,
        opts: &WriteOptions,
    ) -> Result<WriteOutcome, ApiError> {
        self.create_inner(info, namespace, object, opts, Managed::Update)
    }

    fn create_inner(
        &self,
        info: &ResourceInfo,
        namespace: &str,
        mut object: Value,
        opts: &WriteOptions,
        managed: Managed,
    ) -> Result<WriteOutcome, ApiError> {
        Self::check_type(info, &mut object)?;
        let meta = metadata_mut(&mut object);
        if info.namespaced {
            match meta.get("namespace").and_then(Value::as_str) {
                Some(ns) if !ns.is_empty() && ns != namespace => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => {
                    meta.insert("namespace".into(), Value::String(namespace.to_owned()));
                }
            }
        } else {
            meta.remove("namespace");
        }
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if name.is_empty()
            && let Some(prefix) = meta
                .get("generateName")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
        {
            name = format!("{prefix}{}", meta::generated_suffix());
            meta.insert("name".into(), Value::String(name.clone()));
        }
        if name.is_empty() {
            return Err(ApiError::invalid_field(
                &info.kind,
                &info.group,
                "",
                "metadata.name",
                "FieldValueRequired",
                "Required value: name or generateName is required".into(),
            ));
        }
        if meta
            .get("resourceVersion")
            .and_then(Value::as_str)
            .is_some_and(|rv| !rv.is_empty())
        {
            return Err(ApiError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        meta.remove("resourceVersion");
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        meta.remove("selfLink");
        meta.insert("uid".into(), Value::String(meta::new_uid()));
        meta.insert("creationTimestamp".into(), Value::String(meta::now()));
        if info.has_generation {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        self.check_namespace(info, namespace, &name)?;
        if info.status_subresource
            && let Some(map) = object.as_object_mut()
        {
            map.remove("status");
        }
        let mut warnings = Vec::new();
        let defaulted_with =
            self.strategy
                .admit(self, info, Part::Main, None, &mut object, &mut warnings)?;
        if managed == Managed::Update {
            merge::record_update(self, info, None, &mut object, Part::Main, opts)?;
        }
        Self::to_storage_version(info, &mut object);
        let key = Self::key(info, namespace, &name);
        if opts.dry_run {
            if self.store.get(&key).is_some() {
                return Err(ApiError::already_exists(&subject(info, &name)));
            }
            return Ok(WriteOutcome {
                object: Written::Made(object),
                created: true,
                warnings,
            });
        }
        let stored = self
            .store
            .commit_with(
                &key,
                Precondition::Absent,
                Some(object),
                Self::read_defaulted(info, defaulted_with),
            )
            .map_err(|e| store_error(info, e, &name))?;
        Ok(WriteOutcome {
            object: Written::Stored(stored),
            created: true,
            warnings,
        })
    }

    /// The schema an admitted object of `info` reads back with unchanged: the one admission
    /// defaulted it with, when it is stored in the version it was admitted in (the same
    /// version's schema defaults its reads; another version's reads are made afresh).
    fn read_defaulted(
        info: &ResourceInfo,
        defaulted_with: Option<Arc<ferry_schema::TypeSchema>>,
    ) -> Option<Arc<ferry_schema::TypeSchema>> {
        defaulted_with.filter(|_| info.version == info.storage_version)
    }

    /// Replaces an object (PUT), or its status, or a namespace's finalizers.
    pub fn update(
        &self,
        info: &ResourceInfo,
        namespace: &str,
        name: &str,
        mut object: Value,
        part: Part,
        opts: &WriteOptions,
    ) -> Result<WriteOutcome, ApiError> {
        Self::check_type(info, &mut object)?;
        let body_name = meta::meta_str(&object, "name");
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if info.namespaced {
            let body_ns = meta::meta_str(&object, "namespace");
            if !body_ns.is_empty() && body_ns != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        let wanted_rv = match meta::meta_str(&object, "resourceVersion") {
            "" => None,
            raw => Some(parse_rv(raw)?),
        };
        loop {
            let current = self.get(info, namespace, name)?;
            if let Some(wanted) = wanted_rv
                && wanted != current.rv
            {
                return Err(ApiError::conflict(&subject(info, name)));
            }
            let old = self.present_ref(info, &current);
            match self.replace(
                info,
                namespace,
                name,
                &current,
                &old,
                object.clone(),
                part,
                opts,
                Managed::Update,
            ) {
                Err(ReplaceError::Raced) if wanted_rv.is_none() => continue,
                Err(ReplaceError::Raced) => return Err(ApiError::conflict(&subject(info, name))),
                Err(ReplaceError::Api(e)) => return Err(e),
                Ok(outcome) => return Ok(outcome),
            }
        }
    }

    /// Applies a patch (JSON, merge, strategic merge or server-side apply) to an object.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        info: &ResourceInfo,
        namespace: &str,
        name: &str,
        patch_type: PatchType,
        body: &[u8],
        part: Part,
        opts: &WriteOptions,
    ) -> Result<WriteOutcome, ApiError> {
        let patch_doc = patch::parse_body(patch_type, body)?;
        for _attempt in 0..64 {
            let current = match self.get(info, namespace, name) {
                Ok(current) => current,
                Err(_) if patch_type == PatchType::Apply && part == Part::Main => {
                    let object =
                        patch::apply_to_new(self, info, namespace, name, &patch_doc, opts)?;
                    let strict = schema::check_apply_duplicates(body, opts.field_validation)?;
                    match self.create_inner(info, namespace, object, opts, Managed::Applied) {
                        Err(e) if e.reason == "AlreadyExists" => continue,
                        other => return other.map(|o| o.with_earlier_warnings(strict)),
                    }
                }
                Err(not_found) => return Err(not_found),
            };
            let live = self.present_ref(info, &current);
            let patched = patch::apply(self, info, &live, patch_type, &patch_doc, part, opts)?;
            // Strict decoding of the result, as the server decodes the patched object (apply
            // patches: duplicate keys of the patch, checked after the apply).
            let strict = match patch_type {
                PatchType::Apply => schema::check_apply_duplicates(body, opts.field_validation)?,
                _ => schema::check_patched(
                    self,
                    info,
                    patch_type,
                    &patch_doc,
                    &patched,
                    opts.field_validation,
                )?,
            };
            if let Some(raw) = patched
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                && !raw.is_empty()
                && parse_rv(raw)? != current.rv
            {
                return Err(ApiError::conflict(&subject(info, name)));
            }
            let mut patched = patched;
            Self::check_type(info, &mut patched)?;
            let managed = if patch_type == PatchType::Apply {
                Managed::Applied
            } else {
                Managed::Update
            };
            match self.replace(
                info, namespace, name, &current, &live, patched, part, opts, managed,
            ) {
                Err(ReplaceError::Raced) => continue,
                Err(ReplaceError::Api(e)) => return Err(e),
                Ok(outcome) => return Ok(outcome.with_earlier_warnings(strict)),
            }
        }
        Err(ApiError::conflict(&subject(info, name)))
    }

    /// The common end of update and patch: merge system fields from `current`, run admission and
    /// write if `current` is still the stored version. `old` is `current` as it reads (custom
    /// resources with their defaults), as the real server decodes it before merging and
    /// validating.
    #[allow(clippy::too_many_arguments)]
    fn replace(
        &self,
        info: &ResourceInfo,
        namespace: &str,
        name: &str,
        current: &Arc<Stored>,
        old: &Value,
        mut object: Value,
        part: Part,
        opts: &WriteOptions,
        managed: Managed,
    ) -> Result<WriteOutcome, ReplaceError> {
        let old_meta = old.get("metadata");
        let old_meta_field = |field: &str| old_meta.and_then(|m| m.get(field));
        // Status and finalize writes change only their part; the rest comes from the stored object.
        match part {
            Part::Main => {}
            Part::Status => parts::keep_only(&mut object, old, "status"),
            Part::Finalize => {
                let finalizers = object
                    .pointer_mut("/spec/finalizers")
                    .map(Value::take)
                    .unwrap_or_else(|| json!([]));
                object = old.clone();
                object["spec"]["finalizers"] = finalizers;
            }
        }
        if part == Part::Main && info.status_subresource {
            parts::restore(&mut object, old, "status");
        }
        let uid = old_meta_field("uid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(body_uid) = object.pointer("/metadata/uid").and_then(Value::as_str)
            && !body_uid.is_empty()
            && body_uid != uid
        {
            return Err(ReplaceError::Api(ApiError::conflict_because(
                &subject(info, name),
                &format!(
                    "Precondition failed: UID in precondition: {body_uid}, UID in object meta: {uid}"
                ),
            )));
        }
        {
            let meta = metadata_mut(&mut object);
            meta.insert("name".into(), Value::String(name.to_owned()));
            if info.namespaced {
                meta.insert("namespace".into(), Value::String(namespace.to_owned()));
            }
            for field in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
            ] {
                match old_meta_field(field) {
                    Some(v) => meta.insert(field.into(), v.clone()),
                    None => meta.remove(field),
                };
            }
            meta.remove("selfLink");
            meta.remove("resourceVersion");
        }
        let deleting = meta::is_deleting(old);
        if deleting {
            let old_finalizers = meta::finalizers(old);
            if let Some(added) = meta::finalizers(&object)
                .into_iter()
                .find(|f| !old_finalizers.contains(f))
            {
                return Err(ReplaceError::Api(ApiError::invalid_field(
                    &info.kind,
                    &info.group,
                    name,
                    "metadata.finalizers",
                    "FieldValueForbidden",
                    format!(
                        "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{\"{added}\"}}"
                    ),
                )));
            }
        }
        let mut warnings = Vec::new();
        let defaulted_with = self
            .strategy
            .admit(self, info, part, Some(old), &mut object, &mut warnings)
            .map_err(ReplaceError::Api)?;
        if managed == Managed::Update {
            merge::record_update(self, info, Some(old), &mut object, part, opts)
                .map_err(ReplaceError::Api)?;
        }
        if info.has_generation {
            let old_gen = old_meta_field("generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let changed = !parts::same_generation_relevant(info.status_subresource, old, &object);
            metadata_mut(&mut object).insert(
                "generation".into(),
                json!(if changed { old_gen + 1 } else { old_gen }),
            );
        }
        Self::to_storage_version(info, &mut object);
        let key = Self::key(info, namespace, name);
        let finished = deleting
            && meta::finalizers(&object).is_empty()
            && strategy::cleanup_finished(info, &object);
        if opts.dry_run {
            let mut shown = object;
            metadata_mut(&mut shown).insert(
                "resourceVersion".into(),
                Value::String(current.rv.to_string()),
            );
            return Ok(WriteOutcome {
                object: Written::Made(shown),
                created: false,
                warnings,
            });
        }
        // A no-op write keeps the resourceVersion and sends no event, as the real server does.
        if parts::same_but_resource_version(&current.value, &object) && !finished {
            return Ok(WriteOutcome {
                object: Written::Stored(Arc::clone(current)),
                created: false,
                warnings,
            });
        }
        let result = self.store.commit_with(
            &key,
            Precondition::Version(current.rv),
            if finished { None } else { Some(object) },
            Self::read_defaulted(info, defaulted_with),
        );
        match result {
            Ok(stored) => Ok(WriteOutcome {
                object: Written::Stored(stored),
                created: false,
                warnings,
            }),
            Err(StoreError::Conflict { .. } | StoreError::NotFound(_)) => Err(ReplaceError::Raced),
            Err(e) => Err(ReplaceError::Api(store_error(info, e, name))),
        }
    }

    /// Deletes an object (DELETE), honouring finalizers and propagation.
    pub fn delete(
        &self,
        info: &ResourceInfo,
        namespace: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        for _attempt in 0..64 {
            let current = self.get(info, namespace, name)?;
            let uid = meta::meta_str(&current.value, "uid");
            if let Some(want) = opts.precondition_uid.as_deref()
                && want != uid
            {
                return Err(ApiError::conflict_because(
                    &subject(info, name),
                    &format!(
                        "Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"
                    ),
                ));
            }
            if let Some(want) = opts.precondition_rv.as_deref()
                && parse_rv(want)? != current.rv
            {
                return Err(ApiError::conflict_because(
                    &subject(info, name),
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {}",
                        current.rv
                    ),
                ));
            }
            let mut object = current.value.clone();
            let propagation = opts
                .propagation
                .unwrap_or_else(|| strategy::default_propagation(info));
            let mut finalizers = meta::finalizers(&object);
            let extra = match propagation {
                Propagation::Foreground => Some("foregroundDeletion"),
                Propagation::Orphan => Some("orphan"),
                Propagation::Background => None,
            };
            let had_finalizers = !finalizers.is_empty();
            // Orphaning or foreground deletion only matters when there are dependents.
            if let Some(extra) = extra
                && !finalizers.iter().any(|f| f == extra)
                && self.has_dependents(uid)
            {
                finalizers.push(extra.to_owned());
            }
            let needs_cleanup = strategy::needs_cleanup_before_delete(info, &object);
            if finalizers.is_empty() && !needs_cleanup && !had_finalizers {
                if opts.dry_run {
                    return Ok(DeleteOutcome::Deleted(self.present(info, &current)));
                }
                match self.store.commit(
                    &Self::key(info, namespace, name),
                    Precondition::Version(current.rv),
                    None,
                ) {
                    Ok(stored) => return Ok(DeleteOutcome::Deleted(self.present(info, &stored))),
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(e) => return Err(store_error(info, e, name)),
                }
            }
            let already = meta::is_deleting(&object);
            meta::set_finalizers(&mut object, &finalizers);
            if !already {
                let meta = metadata_mut(&mut object);
                meta.insert("deletionTimestamp".into(), Value::String(meta::now()));
                meta.insert("deletionGracePeriodSeconds".into(), json!(0));
                if let Some(generation) = meta.get("generation").and_then(Value::as_i64) {
                    meta.insert("generation".into(), json!(generation + 1));
                }
                strategy::on_deletion_started(info, &mut object);
            }
            if opts.dry_run {
                return Ok(DeleteOutcome::Pending(object));
            }
            if already && object == current.value {
                return Ok(DeleteOutcome::Pending(self.present(info, &current)));
            }
            match self.store.commit(
                &Self::key(info, namespace, name),
                Precondition::Version(current.rv),
                Some(object),
            ) {
                Ok(stored) => return Ok(DeleteOutcome::Pending(self.present(info, &stored))),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(store_error(info, e, name)),
            }
        }
        Err(ApiError::conflict(&subject(info, name)))
    }

    /// Whether any stored object names `uid` among its owners.
    pub fn has_dependents(&self, uid: &str) -> bool {
        !uid.is_empty() && !self.dependents_of(uid).is_empty()
    }

    /// Every object that lists `uid` in its ownerReferences, with its resource.
    pub fn dependents_of(&self, uid: &str) -> Vec<(Arc<ResourceInfo>, Arc<Stored>)> {
        let mut out = Vec::new();
        for info in self.registry.storage_resources() {
            for s in self.store.list(&info.storage_key(), None).items {
                let owned = s
                    .value
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| {
                        refs.iter()
                            .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
                    });
                if owned {
                    out.push((info.clone(), s));
                }
            }
        }
        out
    }

    /// Deletes every object matching `opts` (DELETE on a collection); returns what was deleted or
    /// marked for deletion.
    pub fn delete_collection(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        opts: &ListOptions,
        delete: &DeleteOptions,
    ) -> Result<Vec<Value>, ApiError> {
        let listed = self.list(
            info,
            namespace,
            &ListOptions {
                limit: None,
                continue_token: None,
                ..opts.clone()
            },
        )?;
        let mut out = Vec::new();
        for item in listed.items {
            let ns = meta::meta_str(&item.value, "namespace").to_owned();
            let name = meta::meta_str(&item.value, "name").to_owned();
            match self.delete(info, &ns, &name, delete) {
                Ok(DeleteOutcome::Deleted(v) | DeleteOutcome::Pending(v)) => out.push(v),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Convenience for controllers: writes `object` if it changed, retrying on conflicts by
    /// re-running `edit` on the latest version. Returns the stored object, or `None` if it is gone.
    pub fn edit(
        &self,
        info: &ResourceInfo,
        namespace: &str,
        name: &str,
        part: Part,
        mut edit: impl FnMut(&mut Value) -> bool,
    ) -> Result<Option<Value>, ApiError> {
        for _attempt in 0..64 {
            let current = match self.get(info, namespace, name) {
                Ok(c) => c,
                Err(e) if e.code == 404 => return Ok(None),
                Err(e) => return Err(e),
            };
            let old = self.present_ref(info, &current);
            let mut object = Value::clone(&old);
            if !edit(&mut object) {
                return Ok(Some(object));
            }
            let opts = WriteOptions {
                field_manager: Some("kube-controller-manager".into()),
                ..Default::default()
            };
            match self.replace(
                info,
                namespace,
                name,
                &current,
                &old,
                object,
                part,
                &opts,
                Managed::Update,
            ) {
                Err(ReplaceError::Raced) => continue,
                Err(ReplaceError::Api(e)) => return Err(e),
                Ok(outcome) => return Ok(Some(outcome.object.into_value(self, info))),
            }
        }
        Err(ApiError::conflict(&subject(info, name)))
    }
}

/// Who records managed fields for a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Managed {
    /// A create/update/patch: record an `Update` entry for the manager.
    Update,
    /// Server-side apply already computed them.
    Applied,
}

enum ReplaceError {
    /// The stored object changed between read and write.
    Raced,
    Api(ApiError),
}

/// The causes list for one invalid field (helper for strategies).
pub fn cause(reason: &str, field: &str, message: impl Into<String>) -> Cause {
    Cause {
        reason: reason.to_owned(),
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Removes keys whose value is JSON null from a metadata map (labels: null after a merge).
pub fn drop_nulls(map: &mut Map<String, Value>) {
    map.retain(|_, v| !v.is_null());
}
