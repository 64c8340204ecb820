//! Schemas by group/version/kind: the built-in API (converted lazily, one group-version document
//! at a time, shared by every [`Registry`]), CRD versions added and removed at runtime, and
//! custom OpenAPI documents (kustomize's `openapi:` field).

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, OnceLock, RwLock},
};

use serde_json::{Map, Value};

use crate::{
    model::{Converter, ModelError, Node, NodeId, Schema, SchemaSet},
    openapi,
};

/// A group/version/kind. The core group is `""`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    /// Builds a GVK from its parts.
    pub fn new(group: &str, version: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
        }
    }

    /// Builds a GVK from an object's `apiVersion` (`apps/v1`, `v1`) and `kind`.
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = split_api_version(api_version);
        Gvk::new(group, version, kind)
    }

    /// The GVK an object declares with `apiVersion` and `kind`, if both are strings.
    pub fn of(object: &Value) -> Option<Gvk> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        Some(Gvk::from_api_version(api_version, kind))
    }

    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl fmt::Display for Gvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, Kind={}", self.api_version(), self.kind)
    }
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// Where a type's schema came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaSource {
    /// The embedded Kubernetes OpenAPI documents.
    Builtin,
    /// A CustomResourceDefinition version's `openAPIV3Schema`.
    Crd,
    /// A document given to [`Registry::add_openapi_document`].
    Custom,
}

/// The schema of one kind: a root node in a shared arena.
#[derive(Debug)]
pub struct TypeSchema {
    gvk: Gvk,
    set: Arc<SchemaSet>,
    root: NodeId,
    source: SchemaSource,
    /// The CRD version's `openAPIV3Schema` as written (CEL rules are evaluated against it).
    crd_schema: Option<Value>,
    /// `ObjectMeta` in this schema's arena: the root's `metadata`, and what the metadata of
    /// embedded resources (`x-kubernetes-embedded-resource`) is pruned and validated as.
    object_meta: Option<NodeId>,
    /// What validation compiles once per schema (CEL programs, patterns), built on first use.
    compiled: OnceLock<Arc<crate::validation::compiled::Compiled>>,
}

impl TypeSchema {
    /// The kind this schema describes.
    pub fn gvk(&self) -> &Gvk {
        &self.gvk
    }

    /// The root node (the whole object).
    pub fn root(&self) -> Schema<'_> {
        self.set.get(self.root)
    }

    /// Where the schema came from.
    pub fn source(&self) -> SchemaSource {
        self.source
    }

    /// For CRDs: the version's `openAPIV3Schema` exactly as in the CRD.
    pub fn crd_schema(&self) -> Option<&Value> {
        self.crd_schema.as_ref()
    }

    /// The `ObjectMeta` schema of this arena, if the kind has one.
    pub fn object_meta(&self) -> Option<Schema<'_>> {
        match self.object_meta {
            Some(id) => Some(self.set.get(id)),
            None => self.root().property("metadata"),
        }
    }

    /// The validation data compiled for this schema (CEL programs, regular expressions), built
    /// on first use and kept as long as the schema.
    pub(crate) fn compiled(&self) -> &Arc<crate::validation::compiled::Compiled> {
        self.compiled
            .get_or_init(|| Arc::new(crate::validation::compiled::Compiled::build(self)))
    }
}

/// Why a document or CRD could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("openapi document has neither `definitions` (v2) nor `components.schemas` (v3)")]
    NoDefinitions,
    #[error("openapi document: {0}")]
    Model(#[from] ModelError),
    #[error("customresourcedefinition {name:?}: missing or invalid {field}")]
    CrdField { name: String, field: &'static str },
    #[error("customresourcedefinition {name:?} version {version:?}: {source}")]
    CrdSchema {
        name: String,
        version: String,
        source: ModelError,
    },
    #[error("built-in openapi document {path} could not be parsed: {reason}")]
    Builtin { path: &'static str, reason: String },
}

/// One converted built-in group-version document.
struct BuiltinDoc {
    kinds: HashMap<Gvk, Arc<TypeSchema>>,
}

/// Served path and its lazily converted document.
type BuiltinCell = (&'static str, OnceLock<BuiltinDoc>);

fn builtin_docs() -> &'static [BuiltinCell] {
    static DOCS: OnceLock<Box<[BuiltinCell]>> = OnceLock::new();
    DOCS.get_or_init(|| openapi::v3_paths().map(|p| (p, OnceLock::new())).collect())
}

fn builtin_doc(path: &str) -> Option<&'static BuiltinDoc> {
    let (path, cell) = builtin_docs().iter().find(|(p, _)| *p == path)?;
    Some(cell.get_or_init(|| match load_builtin(path) {
        Ok(doc) => doc,
        Err(err) => {
            // The documents are checked in and tested; log and serve an empty table rather than
            // panicking a server.
            tracing::error!(%err, "cannot convert built-in openapi document");
            BuiltinDoc {
                kinds: HashMap::new(),
            }
        }
    }))
}

fn load_builtin(path: &'static str) -> Result<BuiltinDoc, RegistryError> {
    let bytes = openapi::v3(path).ok_or(RegistryError::Builtin {
        path,
        reason: "not embedded".into(),
    })?;
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| RegistryError::Builtin {
        path,
        reason: e.to_string(),
    })?;
    let kinds = convert_document(&doc, SchemaSource::Builtin, |gvk| {
        // A document also lists kinds of other groups (DeleteOptions, WatchEvent): keep its own.
        path == builtin_path(&gvk.group, &gvk.version)
    })?;
    Ok(BuiltinDoc { kinds })
}

fn builtin_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// Converts every definition carrying `x-kubernetes-group-version-kind` into a shared arena.
fn convert_document(
    doc: &Value,
    source: SchemaSource,
    keep: impl Fn(&Gvk) -> bool,
) -> Result<HashMap<Gvk, Arc<TypeSchema>>, RegistryError> {
    let defs = doc
        .get("components")
        .and_then(|c| c.get("schemas"))
        .or_else(|| doc.get("definitions"))
        .and_then(Value::as_object)
        .ok_or(RegistryError::NoDefinitions)?;
    let mut conv = Converter::new(defs, None);
    let mut roots = Vec::new();
    for (name, def) in defs {
        let Some(Value::Array(gvks)) = def.get("x-kubernetes-group-version-kind") else {
            continue;
        };
        for g in gvks {
            let gvk = Gvk::new(
                g.get("group").and_then(Value::as_str).unwrap_or(""),
                g.get("version").and_then(Value::as_str).unwrap_or(""),
                g.get("kind").and_then(Value::as_str).unwrap_or(""),
            );
            if gvk.kind.is_empty() || !keep(&gvk) {
                continue;
            }
            let id = conv.named(name)?;
            roots.push((gvk, id));
        }
    }
    let set = Arc::new(conv.finish());
    let mut kinds = HashMap::with_capacity(roots.len());
    for (gvk, root) in roots {
        // First definition wins, as in kyaml's index.
        kinds.entry(gvk.clone()).or_insert_with(|| {
            Arc::new(TypeSchema {
                gvk,
                set: Arc::clone(&set),
                root,
                source,
                crd_schema: None,
                object_meta: None,
                compiled: OnceLock::new(),
            })
        });
    }
    Ok(kinds)
}

/// The `io.k8s.apimachinery.pkg.apis.meta.v1.*` definitions (ObjectMeta and what it refers to),
/// which CRD schemas are completed with, as the API server does.
fn meta_definitions() -> &'static Map<String, Value> {
    static META: OnceLock<Map<String, Value>> = OnceLock::new();
    META.get_or_init(|| {
        // The smallest embedded document that contains ObjectMeta.
        let doc: Option<Value> =
            openapi::v3("apis/coordination.k8s.io/v1").and_then(|b| serde_json::from_slice(b).ok());
        let mut out = Map::new();
        if let Some(Value::Object(schemas)) =
            doc.as_ref().and_then(|d| d.pointer("/components/schemas"))
        {
            for (name, def) in schemas {
                if name.starts_with("io.k8s.apimachinery.pkg.apis.meta.v1.") {
                    out.insert(name.clone(), def.clone());
                }
            }
        }
        out
    })
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Schemas by GVK. Cheap to create; built-in documents are converted on first lookup of one of
/// their kinds and shared process-wide. Safe to share between threads (`Arc<Registry>`).
pub struct Registry {
    builtin: bool,
    overlay: RwLock<Overlay>,
}

#[derive(Default)]
struct Overlay {
    kinds: HashMap<Gvk, Arc<TypeSchema>>,
    /// CRD name -> the GVKs it registered.
    crds: HashMap<String, Vec<Gvk>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("builtin", &self.builtin)
            .finish_non_exhaustive()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::builtin()
    }
}

impl Registry {
    /// A registry of the built-in Kubernetes 1.35 API.
    pub fn builtin() -> Registry {
        Registry {
            builtin: true,
            overlay: RwLock::new(Overlay::default()),
        }
    }

    /// A registry without the built-in API: kustomize's `openapi:` field replaces the built-in
    /// schema entirely, so build one of these and [`add_openapi_document`](Self::add_openapi_document).
    pub fn empty() -> Registry {
        Registry {
            builtin: false,
            overlay: RwLock::new(Overlay::default()),
        }
    }

    /// The schema of a kind, if known.
    pub fn get(&self, gvk: &Gvk) -> Option<Arc<TypeSchema>> {
        if let Some(found) = self.read().kinds.get(gvk) {
            return Some(Arc::clone(found));
        }
        if !self.builtin {
            return None;
        }
        builtin_doc(&builtin_path(&gvk.group, &gvk.version))?
            .kinds
            .get(gvk)
            .cloned()
    }

    /// The schema of the kind an object declares (`apiVersion` + `kind`).
    pub fn for_object(&self, object: &Value) -> Option<Arc<TypeSchema>> {
        self.get(&Gvk::of(object)?)
    }

    /// Shorthand for [`get`](Self::get) from `apiVersion` and `kind` strings.
    pub fn lookup(&self, api_version: &str, kind: &str) -> Option<Arc<TypeSchema>> {
        self.get(&Gvk::from_api_version(api_version, kind))
    }

    /// Whether the built-in API (not a CRD or custom document) defines this kind.
    pub fn is_builtin(&self, gvk: &Gvk) -> bool {
        self.builtin
            && builtin_doc(&builtin_path(&gvk.group, &gvk.version))
                .is_some_and(|d| d.kinds.contains_key(gvk))
    }

    /// Adds every kind of an OpenAPI v2 (`definitions`) or v3 (`components.schemas`) document,
    /// replacing earlier schemas of the same GVK. Returns the GVKs added.
    pub fn add_openapi_document(&self, doc: &Value) -> Result<Vec<Gvk>, RegistryError> {
        let kinds = convert_document(doc, SchemaSource::Custom, |_| true)?;
        let mut added: Vec<Gvk> = kinds.keys().cloned().collect();
        added.sort();
        self.write().kinds.extend(kinds);
        Ok(added)
    }

    /// Registers the schemas of a CustomResourceDefinition (`apiextensions.k8s.io/v1` object as
    /// JSON), one per version with `schema.openAPIV3Schema`; replaces what an earlier version of
    /// the same CRD registered. Returns the GVKs now registered.
    pub fn add_crd(&self, crd: &Value) -> Result<Vec<Gvk>, RegistryError> {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let field_err = |field| RegistryError::CrdField {
            name: name.clone(),
            field,
        };
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .ok_or_else(|| field_err("spec.group"))?;
        let kind = crd
            .pointer("/spec/names/kind")
            .and_then(Value::as_str)
            .ok_or_else(|| field_err("spec.names.kind"))?;
        let versions = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .ok_or_else(|| field_err("spec.versions"))?;
        let mut kinds = Vec::with_capacity(versions.len());
        for v in versions {
            let version = v
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| field_err("spec.versions[].name"))?;
            let schema = v
                .pointer("/schema/openAPIV3Schema")
                .or_else(|| crd.pointer("/spec/validation/openAPIV3Schema"))
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
            let gvk = Gvk::new(group, version, kind);
            let ts = crd_type_schema(gvk.clone(), schema).map_err(|source| {
                RegistryError::CrdSchema {
                    name: name.clone(),
                    version: version.to_owned(),
                    source,
                }
            })?;
            kinds.push((gvk, Arc::new(ts)));
        }
        let gvks: Vec<Gvk> = kinds.iter().map(|(g, _)| g.clone()).collect();
        let mut overlay = self.write();
        if let Some(old) = overlay.crds.remove(&name) {
            for g in old {
                overlay.kinds.remove(&g);
            }
        }
        overlay.kinds.extend(kinds);
        overlay.crds.insert(name, gvks.clone());
        Ok(gvks)
    }

    /// Removes what [`add_crd`](Self::add_crd) registered for the CRD named `name`
    /// (`widgets.example.com`). Returns the GVKs removed.
    pub fn remove_crd(&self, name: &str) -> Vec<Gvk> {
        let mut overlay = self.write();
        let removed = overlay.crds.remove(name).unwrap_or_default();
        for g in &removed {
            overlay.kinds.remove(g);
        }
        removed
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Overlay> {
        // A panic while holding the lock cannot leave the maps half-updated (single inserts).
        self.overlay
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Overlay> {
        self.overlay
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Converts a CRD version schema; `metadata` becomes ObjectMeta (the server validates and
/// tracks metadata by the built-in type), `apiVersion`/`kind` strings.
fn crd_type_schema(gvk: Gvk, schema: Value) -> Result<TypeSchema, ModelError> {
    let empty = Map::new();
    let mut conv = Converter::new(&empty, Some(meta_definitions()));
    let root = conv.convert(&schema, "")?;
    let meta = conv.named(OBJECT_META)?;
    let string = conv.convert(&serde_json::json!({"type": "string"}), "")?;
    let mut set = conv.finish();
    patch_root(&mut set, root, meta, string);
    Ok(TypeSchema {
        gvk,
        set: Arc::new(set),
        root,
        source: SchemaSource::Crd,
        crd_schema: Some(schema),
        object_meta: Some(meta),
        compiled: OnceLock::new(),
    })
}

fn patch_root(set: &mut SchemaSet, root: NodeId, meta: NodeId, string: NodeId) {
    let node: &mut Node = set.node_mut(root);
    let mut props: Vec<(Box<str>, NodeId)> = node
        .properties
        .iter()
        .filter(|(k, _)| !matches!(&**k, "metadata" | "apiVersion" | "kind"))
        .cloned()
        .collect();
    props.push(("metadata".into(), meta));
    props.push(("apiVersion".into(), string));
    props.push(("kind".into(), string));
    props.sort_by(|a, b| a.0.cmp(&b.0));
    node.properties = props.into_boxed_slice();
    if node.ty.is_none() {
        node.ty = Some(crate::model::JsonType::Object);
    }
}
