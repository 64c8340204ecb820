//! Building a directory the way Flux's kustomize-controller does: generate a kustomization when
//! the directory has none, write the Flux Kustomization's overrides into it, then build.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::BuildOptions;
use crate::error::Error;
use crate::kustfile::{self, Image, Kustomization, Patch};
use crate::loader::Loader;

/// The fields of a Flux `Kustomization` (kustomize.toolkit.fluxcd.io) that change the build.
#[derive(Clone, Debug, Default)]
pub struct FluxOverrides {
    /// `spec.targetNamespace`: replaces the kustomization's `namespace`.
    pub target_namespace: Option<String>,
    /// `spec.namePrefix` / `spec.nameSuffix`.
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    /// `spec.patches`: appended to `patches`.
    pub patches: Vec<Patch>,
    /// `spec.images`: appended to `images`.
    pub images: Vec<Image>,
    /// `spec.components`: appended to `components` (paths relative to the directory).
    pub components: Vec<String>,
    /// `spec.commonMetadata.labels` / `.annotations`: kustomize-controller sets them on the
    /// metadata of every built object (not on selectors or pod templates), overriding keys the
    /// objects already have.
    pub common_labels: BTreeMap<String, String>,
    pub common_annotations: BTreeMap<String, String>,
}

impl FluxOverrides {
    /// Write the overrides into a kustomization, as kustomize-controller does.
    pub fn apply_to(&self, k: &mut Kustomization) {
        if let Some(ns) = self.target_namespace.as_ref().filter(|s| !s.is_empty()) {
            k.namespace = ns.clone();
        }
        if let Some(p) = self.name_prefix.as_ref().filter(|s| !s.is_empty()) {
            k.name_prefix = p.clone();
        }
        if let Some(s) = self.name_suffix.as_ref().filter(|s| !s.is_empty()) {
            k.name_suffix = s.clone();
        }
        k.patches.extend(self.patches.iter().cloned());
        k.images.extend(self.images.iter().cloned());
        k.components.extend(self.components.iter().cloned());
    }

    /// Set commonMetadata on built objects, as kustomize-controller does after the build.
    pub fn apply_common_metadata(&self, objects: &mut [serde_json::Value]) {
        for o in objects {
            let Some(obj) = o.as_object_mut() else {
                continue;
            };
            let md = obj
                .entry("metadata")
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            let Some(md) = md.as_object_mut() else {
                continue;
            };
            for (field, pairs) in [
                ("labels", &self.common_labels),
                ("annotations", &self.common_annotations),
            ] {
                if pairs.is_empty() {
                    continue;
                }
                let map = md
                    .entry(field)
                    .or_insert_with(|| serde_json::Value::Object(Default::default()));
                if !map.is_object() {
                    *map = serde_json::Value::Object(Default::default());
                }
                if let Some(map) = map.as_object_mut() {
                    for (k, v) in pairs {
                        map.insert(k.clone(), serde_json::Value::String(v.clone()));
                    }
                }
            }
        }
    }
}

/// Flux's generated kustomization for a directory without one: every `.yaml`/`.yml` file below
/// it (in walk order), and every subdirectory holding a kustomization as a base (not descended
/// into). Files that are not Kubernetes YAML are an error, as in Flux.
pub fn generated_kustomization(dir: &Path) -> Result<Kustomization, Error> {
    let mut resources = Vec::new();
    scan(dir, dir, &mut resources, 0)?;
    Ok(Kustomization {
        api_version: kustfile::KUSTOMIZATION_API_VERSION.into(),
        kind: "Kustomization".into(),
        resources,
        ..Default::default()
    })
}

fn has_kustomization(dir: &Path) -> bool {
    kustfile::KUSTOMIZATION_FILE_NAMES
        .iter()
        .any(|n| dir.join(n).is_file())
}

fn scan(base: &Path, dir: &Path, out: &mut Vec<String>, depth: usize) -> Result<(), Error> {
    if depth > 64 {
        return Err(Error::msg(format!(
            "{}: directories nested too deeply",
            dir.display()
        )));
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::msg(format!("reading directory '{}': {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    // filepath.Walk visits entries in lexical order.
    entries.sort();
    for path in entries {
        let rel = path.strip_prefix(base).unwrap_or(&path);
        let rel = format!("./{}", rel.to_string_lossy());
        if path.is_dir() {
            if has_kustomization(&path) {
                out.push(rel);
            } else {
                scan(base, &path, out, depth + 1)?;
            }
            continue;
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "yaml" && ext != "yml" {
            continue;
        }
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::msg(format!("reading '{}': {e}", path.display())))?;
        crate::target::resources_from_bytes(&bytes, &path).map_err(|e| {
            Error::msg(format!(
                "failed to decode Kubernetes YAML from {}: {e}",
                path.display()
            ))
        })?;
        out.push(rel);
    }
    Ok(())
}

/// Build `dir` as kustomize-controller does, with the given overrides.
pub fn build_flux(
    dir: &Path,
    overrides: &FluxOverrides,
    options: &BuildOptions,
) -> Result<Vec<serde_json::Value>, Error> {
    let ldr = Loader::new_below(
        dir,
        options.load_restrictions,
        options.remote.clone(),
        options.symlink_free_root(),
    )?
    .with_filter(options.file_filter.clone());
    let mut k = match kustfile::find(ldr.root()) {
        Ok(path) => kustfile::load_file_with(&path, options.parse_cache())?,
        Err(kustfile::KustFileError::Missing { .. }) => generated_kustomization(ldr.root())?,
        Err(other) => return Err(other.into()),
    };
    overrides.apply_to(&mut k);
    let mut objects = crate::build_kustomization(ldr, k, options)?;
    overrides.apply_common_metadata(&mut objects);
    Ok(objects)
}
