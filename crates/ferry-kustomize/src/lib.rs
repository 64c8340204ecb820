//! Kustomize build, byte-identical to kustomize v5.
//!
//! ```no_run
//! use ferry_kustomize::{build, to_yaml, BuildOptions};
//! let objects = build(std::path::Path::new("overlays/prod"), &BuildOptions::default())?;
//! print!("{}", to_yaml(&objects)); // what `kustomize build overlays/prod` prints
//! # Ok::<(), ferry_kustomize::Error>(())
//! ```
//!
//! - [`build`]: a directory holding a kustomization file, as `kustomize build` (legacy kind order
//!   unless the kustomization's `sortOptions` or [`BuildOptions::reorder`] say otherwise).
//! - [`build_flux`]: a directory as Flux's kustomize-controller builds it: a kustomization is
//!   generated when there is none (every YAML file found, recursively; directories holding a
//!   kustomization become bases), and the Flux Kustomization's overrides ([`FluxOverrides`]:
//!   targetNamespace, namePrefix/nameSuffix, patches, images, components, commonMetadata) are
//!   written into it, as the controller does, before building.
//! - [`to_yaml`]: the documents joined by `---`, as kustomize prints them.

mod builtins;
mod config;
mod crds;
mod dircache;
mod error;
mod fieldspec;
mod flux;
mod generators;
mod hash;
mod jsonpatch;
pub mod kustfile;
mod loader;
mod nameref;
mod parsed;
mod patches;
mod plugins;
mod replacements;
mod resid;
mod resmap;
mod resource;
mod selector;
mod sort;
mod target;
mod transforms;
mod vars;

use serde_json::{Map, Value};
use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

pub use dircache::DirCache;
pub use error::Error;
pub use flux::{FluxOverrides, build_flux, generated_kustomization};
pub use kustfile::{Image, Kustomization, Patch, Selector};
pub use loader::{FileFilter, LoadError, LoadRestrictions, RemoteFetcher};
pub use parsed::ParseCache;

use resmap::ResMap;
use target::{BuildContext, Origin, Target};

/// kustomize's `--reorder`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reorder {
    /// Not given: legacy order unless the kustomization has `sortOptions` (kustomize's default).
    #[default]
    Unspecified,
    /// `--reorder legacy`.
    Legacy,
    /// `--reorder none`: input order (what kustomize's own tests use).
    None,
}

/// How to build.
#[derive(Clone, Default)]
pub struct BuildOptions {
    pub load_restrictions: LoadRestrictions,
    pub reorder: Reorder,
    /// Add `app.kubernetes.io/managed-by` ([`MANAGED_BY_VALUE`]) to every object.
    pub add_managed_by_label: bool,
    /// Fetches remote bases (git URLs); without one they are refused.
    pub remote: Option<Arc<dyn RemoteFetcher>>,
    /// Sees every file the build reads (e.g. to decrypt SOPS files in memory).
    pub file_filter: Option<Arc<dyn FileFilter>>,
    /// Keeps what directories named as resources built to, for later builds of the same
    /// unchanging files (see [`DirCache`]).
    pub dir_cache: Option<Arc<DirCache>>,
}

impl BuildOptions {
    /// The directory below which paths resolve lexically (see [`DirCache::without_symlinks`]).
    fn symlink_free_root(&self) -> Option<Arc<std::path::Path>> {
        self.dir_cache.as_ref().and_then(|c| c.symlink_free_root())
    }

    /// Parses kept across builds ([`DirCache::with_parse_cache`]).
    fn parse_cache(&self) -> Option<&ParseCache> {
        self.dir_cache.as_deref().and_then(DirCache::parse_cache)
    }
}

impl std::fmt::Debug for BuildOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildOptions")
            .field("load_restrictions", &self.load_restrictions)
            .field("reorder", &self.reorder)
            .field("add_managed_by_label", &self.add_managed_by_label)
            .field("remote", &self.remote.is_some())
            .field("file_filter", &self.file_filter.is_some())
            .field("dir_cache", &self.dir_cache)
            .finish()
    }
}

/// What kubectl's embedded kustomize writes (its build reports version "(devel)").
pub const MANAGED_BY_VALUE: &str = "kustomize-(devel)";

/// Build the kustomization in `dir`.
pub fn build(dir: &Path, options: &BuildOptions) -> Result<Vec<Value>, Error> {
    let ldr = loader::Loader::new_below(
        dir,
        options.load_restrictions,
        options.remote.clone(),
        options.symlink_free_root(),
    )?
    .with_filter(options.file_filter.clone());
    let kust = kustfile::load(ldr.root(), options.parse_cache())?;
    build_kustomization(ldr, kust, options)
}

/// Build `dir` with an already parsed (possibly amended) kustomization.
pub(crate) fn build_kustomization(
    ldr: loader::Loader,
    kust: Kustomization,
    options: &BuildOptions,
) -> Result<Vec<Value>, Error> {
    let ctx = BuildContext {
        build_metadata: kust.build_metadata.clone(),
        registry: RefCell::new(None),
        dir_cache: options.dir_cache.clone(),
        entered: RefCell::new(Vec::new()),
    };
    if let Some(path) = kust.openapi.get("path") {
        ctx.set_openapi(&ldr, path)?;
    }
    let target = Target::with_kustomization(&ctx, ldr, kust, Origin::default());
    let ra = target.accumulate(target::Accumulator::default())?;
    let mut m = ra.resources;
    add_hash_suffixes(&mut m);
    nameref::fix(&mut m, &ra.config.name_reference)?;
    vars::resolve(&mut m, &ra.vars, &ra.config.var_reference)?;
    m.list.retain(|r| !r.is_local_config());
    apply_sort(&mut m, &target.kust, options.reorder);
    Ok(finish(m, &target.kust, options))
}

/// Append the content hash to the names of generated objects that want one.
pub(crate) fn add_hash_suffixes(m: &mut ResMap) {
    for r in &mut m.list {
        if r.needs_hash {
            let h = hash::name_hash(r);
            r.store_previous_id();
            let name = format!("{}-{h}", r.name());
            r.set_name(&name);
            r.needs_hash = false;
        }
    }
}

fn apply_sort(m: &mut ResMap, k: &Kustomization, reorder: Reorder) {
    match &k.sort_options {
        Some(so) => {
            if so.order == "legacy" {
                let (first, last) = match &so.legacy_sort_options {
                    Some(l) => (l.order_first.clone(), l.order_last.clone()),
                    None => default_orders(),
                };
                sort::legacy_sort(&mut m.list, &first, &last);
            }
        }
        None => {
            if reorder != Reorder::None {
                let (first, last) = default_orders();
                sort::legacy_sort(&mut m.list, &first, &last);
            }
        }
    }
}

fn default_orders() -> (Vec<String>, Vec<String>) {
    (
        sort::ORDER_FIRST.iter().map(|s| s.to_string()).collect(),
        sort::ORDER_LAST.iter().map(|s| s.to_string()).collect(),
    )
}

/// Output form: bookkeeping dropped, buildMetadata annotations and label added, empty
/// annotation maps removed.
fn finish(m: ResMap, k: &Kustomization, options: &BuildOptions) -> Vec<Value> {
    let managed_by =
        options.add_managed_by_label || k.build_metadata.iter().any(|b| b == "managedByLabel");
    let origins = k.build_metadata.iter().any(|b| b == "originAnnotations");
    let transformations = k
        .build_metadata
        .iter()
        .any(|b| b == "transformerAnnotations");
    m.list
        .into_iter()
        .map(|mut r| {
            if managed_by {
                let mut labels = r.labels();
                labels.insert(
                    "app.kubernetes.io/managed-by".into(),
                    Value::String(MANAGED_BY_VALUE.into()),
                );
                r.set_string_map("labels", labels);
            }
            let mut extra = Map::new();
            if origins && let Some(o) = &r.origin {
                extra.insert(
                    "config.kubernetes.io/origin".into(),
                    Value::String(o.clone()),
                );
            }
            if transformations && !r.transformations.is_empty() {
                extra.insert(
                    "alpha.config.kubernetes.io/transformations".into(),
                    Value::String(r.transformations.concat()),
                );
            }
            if !extra.is_empty() {
                let mut ann = r.annotations();
                ann.extend(extra);
                r.set_string_map("annotations", ann);
            }
            if let Some(Value::Object(md)) = r.obj.get_mut("metadata") {
                let empty = matches!(md.get("annotations"), Some(Value::Object(a)) if a.is_empty())
                    || matches!(md.get("annotations"), Some(v) if !v.is_object());
                if empty {
                    md.remove("annotations");
                }
            }
            Value::Object(r.obj)
        })
        .collect()
}

/// The documents as kustomize prints them.
pub fn to_yaml(objects: &[Value]) -> String {
    ferry_yaml::to_string_multi(objects)
}
