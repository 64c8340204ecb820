//! Rendering a Kustomization's manifests from an extracted artifact, as kustomize-controller
//! does: kustomize build of `spec.path` (a kustomization is generated when the directory has
//! none) with the Kustomization's overrides, then post-build variable substitution. Shared by
//! the reconciler and `ferry build kustomization`.

use std::{
    collections::BTreeMap,
    path::{Component, Path, PathBuf},
    sync::Arc,
};

use ferry_api::{
    KustomizationSpec, keys,
    kustomize::{PostBuild, SubstituteReference},
};
use ferry_apply::object;
use ferry_kustomize::{BuildOptions, DirCache, FileFilter, FluxOverrides};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
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
    /// Fail on `${var}` without a value or default (Flux's `StrictPostBuildSubstitutions`
    /// feature gate, off by default); otherwise such a variable becomes empty.
    pub strict: bool,
}

/// The variables of `spec.postBuild`, as kustomize-controller resolves them: the ConfigMaps and
/// Secrets of `substituteFrom` in order (in the Kustomization's namespace; a missing one is an
/// error unless optional), then `substitute`. Without a client (`ferry build --dry-run`) the
/// `substituteFrom` sources are skipped. `None` when there is nothing to substitute.
pub async fn resolve_substitution(
    client: Option<&kube::Client>,
    namespace: &str,
    post: Option<&PostBuild>,
    strict: bool,
) -> Result<Option<Substitution>, String> {
    let Some(post) = post else {
        return Ok(None);
    };
    let mut vars = BTreeMap::new();
    if let Some(client) = client {
        for from in post.substitute_from.iter().flatten() {
            match read_variables(client, namespace, from).await? {
                Some(data) => vars.extend(data),
                None if from.optional.unwrap_or(false) => {}
                None => {
                    return Err(format!(
                        "substitute from '{}' error: {} '{namespace}/{}' not found",
                        from.kind, from.kind, from.name
                    ));
                }
            }
        }
    }
    vars.extend(post.substitute.clone().unwrap_or_default());
    if vars.is_empty() && post.substitute_strategy.as_deref() != Some("Always") {
        return Ok(None);
    }
    Ok(Some(Substitution { vars, strict }))
}

/// The data of one `substituteFrom` source; `None` when it does not exist.
async fn read_variables(
    client: &kube::Client,
    namespace: &str,
    from: &SubstituteReference,
) -> Result<Option<BTreeMap<String, String>>, String> {
    let not_readable = |e: kube::Error| {
        format!(
            "substitute from {} '{namespace}/{}': {e}",
            from.kind, from.name
        )
    };
    match from.kind.as_str() {
        "ConfigMap" => Ok(Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .get_opt(&from.name)
            .await
            .map_err(not_readable)?
            .map(|cm| cm.data.unwrap_or_default())),
        "Secret" => Ok(Api::<Secret>::namespaced(client.clone(), namespace)
            .get_opt(&from.name)
            .await
            .map_err(not_readable)?
            .map(|s| {
                s.data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                    .collect()
            })),
        other => Err(format!(
            "substituteFrom kind {other:?} is not ConfigMap or Secret"
        )),
    }
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
/// The fields of a Kustomization's spec that Flux honours and ferry does not yet, as they are
/// set (values that change nothing are fine).
pub fn unsupported_fields(spec: &KustomizationSpec) -> Vec<&'static str> {
    let mut found = Vec::new();
    if spec.ignore_missing_components == Some(true) {
        found.push("spec.ignoreMissingComponents");
    }
    if spec.build_metadata.as_ref().is_some_and(|m| !m.is_empty()) {
        found.push("spec.buildMetadata");
    }
    if spec.ignore.as_ref().is_some_and(|rules| !rules.is_empty()) {
        found.push("spec.ignore (drift ignore rules)");
    }
    if spec
        .kube_config
        .as_ref()
        .is_some_and(|k| k.config_map_ref.is_some())
    {
        found.push("spec.kubeConfig.configMapRef");
    }
    if spec
        .decryption
        .as_ref()
        .is_some_and(|d| d.service_account_name.is_some())
    {
        found.push("spec.decryption.serviceAccountName");
    }
    found
}

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
/// decrypts SOPS files, and taking the bases `dir_cache` kept from earlier builds of the same
/// artifact) and applies substitution.
pub fn render(
    dir: &Path,
    overrides: &FluxOverrides,
    filter: Option<Arc<dyn FileFilter>>,
    dir_cache: Option<Arc<DirCache>>,
    substitution: Option<&Substitution>,
) -> Result<Vec<Value>, RenderError> {
    let options = BuildOptions {
        file_filter: filter,
        dir_cache,
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

/// sha256 of the rendered manifests, recorded in `status.history` as Flux records the sha256 of
/// its build there. Flux hashes its build's YAML text; this hashes the objects' compact JSON, so
/// the values differ from Flux's for the same build (they are only compared with each other).
pub fn digest(objects: &[Value]) -> String {
    let mut hash = Sha256::new();
    // Each object is written whole into a buffer and hashed in one update: written straight
    // into the hasher, serde_json's many small writes each paid for an update call.
    let mut buffer = Vec::with_capacity(1024);
    for obj in objects {
        // Compact JSON rather than YAML: the same objects hash alike either way, and emitting
        // YAML for every object of every build was 4% of the controller's CPU in a fleet-wide
        // commit. Writing a Value into a Vec cannot fail.
        buffer.clear();
        let _ = serde_json::to_writer(&mut buffer, obj);
        buffer.push(b'\n');
        hash.update(&buffer);
    }
    format!("sha256:{}", hex::encode(hash.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_ferry_cannot_honour_are_named() {
        let spec = |extra: serde_json::Value| -> KustomizationSpec {
            let mut base = serde_json::json!({"interval": "1m", "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": "repo"}});
            base.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value(base).unwrap()
        };
        assert!(
            unsupported_fields(&spec(
                serde_json::json!({"ignoreMissingComponents": false, "buildMetadata": [], "ignore": []})
            ))
            .is_empty()
        );
        assert_eq!(
            unsupported_fields(&spec(serde_json::json!({
                "ignoreMissingComponents": true,
                "buildMetadata": ["originAnnotations"],
                "ignore": [{"paths": ["/spec/replicas"]}],
                "kubeConfig": {"configMapRef": {"name": "identity"}},
                "decryption": {"provider": "sops", "serviceAccountName": "sops"}
            }))),
            [
                "spec.ignoreMissingComponents",
                "spec.buildMetadata",
                "spec.ignore (drift ignore rules)",
                "spec.kubeConfig.configMapRef",
                "spec.decryption.serviceAccountName"
            ]
        );
    }

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
