//! Rendering a Kustomization's manifests from an extracted artifact, as kustomize-controller
//! does: kustomize build of `spec.path` (a kustomization is generated when the directory has
//! none) with the Kustomization's overrides, then post-build variable substitution. Shared by
//! the reconciler and `ferry build kustomization`.

use std::{
    collections::BTreeMap,
    path::{Component, Path, PathBuf},
    sync::Arc,
};

use ferry_api::{KustomizationSpec, keys};
use ferry_apply::object;
use ferry_kustomize::{BuildOptions, FileFilter, FluxOverrides};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::envsubst::{self, EnvsubstError};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("path {path:?} escapes the artifact root")]
    PathEscapes { path: String },
    #[error("path {path:?} not found in the artifact")]
    PathNotFound { path: String },
    #[error("invalid {field}: {reason}")]
    InvalidSpec { field: &'static str, reason: String },
    #[error("kustomize build failed: {0}")]
    Kustomize(#[from] ferry_kustomize::Error),
    #[error("post-build substitution failed for {object}: {source}")]
    Substitute {
        object: String,
        source: EnvsubstError,
    },
    #[error("post-build substitution produced invalid YAML for {object}: {reason}")]
    SubstitutedYaml { object: String, reason: String },
}

/// Post-build substitution settings, resolved to concrete variables.
#[derive(Clone, Debug, Default)]
pub struct Substitution {
    pub vars: BTreeMap<String, String>,
    /// Fail on `${var}` without a value or default (Flux's `StrictPostBuildSubstitutions`,
    /// on by default since Flux 2.9).
    pub strict: bool,
}

/// The directory a Kustomization builds: `spec.path` inside the artifact, refusing any path
/// that would leave it.
pub fn build_dir(artifact: &Path, path: Option<&str>) -> Result<PathBuf, RenderError> {
    let path = path.unwrap_or("./");
    let mut dir = artifact.to_path_buf();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => dir.push(part),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                if dir == artifact || !dir.pop() {
                    return Err(RenderError::PathEscapes {
                        path: path.to_owned(),
                    });
                }
            }
            Component::Prefix(_) => {
                return Err(RenderError::PathEscapes {
                    path: path.to_owned(),
                });
            }
        }
    }
    if !dir.is_dir() {
        return Err(RenderError::PathNotFound {
            path: path.to_owned(),
        });
    }
    Ok(dir)
}

/// The kustomize overrides a Kustomization spec carries.
pub fn overrides(spec: &KustomizationSpec) -> Result<FluxOverrides, RenderError> {
    // The API types and kustomize's kustomization-file types spell these fields the same way,
    // so a round trip through JSON converts them.
    fn convert<T: serde::de::DeserializeOwned>(
        field: &'static str,
        value: impl serde::Serialize,
    ) -> Result<T, RenderError> {
        serde_json::to_value(value)
            .and_then(serde_json::from_value)
            .map_err(|e| RenderError::InvalidSpec {
                field,
                reason: e.to_string(),
            })
    }
    let common = spec.common_metadata.clone().unwrap_or_default();
    Ok(FluxOverrides {
        target_namespace: spec.target_namespace.clone(),
        name_prefix: spec.name_prefix.clone(),
        name_suffix: spec.name_suffix.clone(),
        patches: convert("spec.patches", spec.patches.clone().unwrap_or_default())?,
        images: convert("spec.images", spec.images.clone().unwrap_or_default())?,
        components: spec.components.clone().unwrap_or_default(),
        common_labels: common.labels.unwrap_or_default(),
        common_annotations: common.annotations.unwrap_or_default(),
    })
}

/// Builds the manifests of `dir` with the overrides (reading files through `filter`, which
/// decrypts SOPS files) and applies substitution.
pub fn render(
    dir: &Path,
    overrides: &FluxOverrides,
    filter: Option<Arc<dyn FileFilter>>,
    substitution: Option<&Substitution>,
) -> Result<Vec<Value>, RenderError> {
    let options = BuildOptions {
        file_filter: filter,
        ..BuildOptions::default()
    };
    let objects = ferry_kustomize::build_flux(dir, overrides, &options)?;
    match substitution {
        Some(substitution) => objects
            .into_iter()
            .map(|obj| substitute(obj, substitution))
            .collect(),
        None => Ok(objects),
    }
}

/// Substitutes variables in one object's YAML unless it opts out.
fn substitute(obj: Value, substitution: &Substitution) -> Result<Value, RenderError> {
    if keys::is_disabled(object::annotation(&obj, keys::SUBSTITUTE_ANNOTATION))
        || keys::is_disabled(object::label(&obj, keys::SUBSTITUTE_ANNOTATION))
    {
        return Ok(obj);
    }
    let yaml = ferry_yaml::to_string(&obj);
    if !yaml.contains("${") {
        return Ok(obj);
    }
    let name = object::display(&obj);
    let expanded =
        envsubst::expand(&yaml, &substitution.vars, substitution.strict).map_err(|source| {
            RenderError::Substitute {
                object: name.clone(),
                source,
            }
        })?;
    ferry_yaml::from_str(&expanded).map_err(|e| RenderError::SubstitutedYaml {
        object: name,
        reason: e.to_string(),
    })
}

/// sha256 of the rendered manifests, the digest Flux records in `status.history`.
pub fn digest(objects: &[Value]) -> String {
    let mut hash = Sha256::new();
    for obj in objects {
        hash.update(ferry_yaml::to_string(obj).as_bytes());
        hash.update(b"---\n");
    }
    format!("sha256:{}", hex::encode(hash.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_dir_stays_inside_the_artifact() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("apps/prod")).unwrap();
        assert_eq!(
            build_dir(root.path(), Some("./apps/prod")).unwrap(),
            root.path().join("apps/prod")
        );
        assert_eq!(
            build_dir(root.path(), Some("apps/prod/../prod")).unwrap(),
            root.path().join("apps/prod")
        );
        assert!(matches!(
            build_dir(root.path(), Some("../etc")),
            Err(RenderError::PathEscapes { .. })
        ));
        assert!(matches!(
            build_dir(root.path(), Some("apps/../../x")),
            Err(RenderError::PathEscapes { .. })
        ));
        assert!(matches!(
            build_dir(root.path(), Some("missing")),
            Err(RenderError::PathNotFound { .. })
        ));
        assert_eq!(build_dir(root.path(), None).unwrap(), root.path());
    }

    #[test]
    fn substitutes_unless_opted_out() {
        let vars = Substitution {
            vars: BTreeMap::from([("env".to_owned(), "prod".to_owned())]),
            strict: true,
        };
        let obj = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"e": "${env}", "d": "${x:=dflt}"}});
        let out = substitute(obj.clone(), &vars).unwrap();
        assert_eq!(out["data"], serde_json::json!({"e": "prod", "d": "dflt"}));
        let mut opted = obj.clone();
        opted["metadata"]["annotations"] =
            serde_json::json!({keys::SUBSTITUTE_ANNOTATION: "disabled"});
        assert_eq!(substitute(opted.clone(), &vars).unwrap(), opted);
        let missing = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"e": "${nope}"}});
        let err = substitute(missing, &vars).unwrap_err().to_string();
        assert!(err.contains("ConfigMap/c") && err.contains("nope"), "{err}");
    }
}
