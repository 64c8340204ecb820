//! Building a local directory as the controller would build it for a Kustomization: the
//! Kustomization's overrides (targetNamespace, patches, images, components, ...), post-build
//! substitution and the owner labels. Shared by `ferry build kustomization` and
//! `ferry diff kustomization`; the rendering itself is the controller's
//! (`ferry_controller::kustomization::build`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use ferry_api::{Kustomization, keys};
use ferry_controller::kustomization::build;
use kube::{Api, Client, ResourceExt};
use serde_json::Value;

/// Largest Kustomization file read (a Kustomization is a few KiB; this bounds a wrong path).
const MAX_KUSTOMIZATION_FILE: u64 = 4 << 20;

/// Reads the Kustomization `name` from the cluster.
pub async fn from_cluster(
    client: &Client,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Kustomization> {
    let api: Api<Kustomization> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(Some(ks)) => Ok(ks),
        Ok(None) => bail!("Kustomization {namespace}/{name} not found"),
        Err(err) => Err(err).with_context(|| format!("reading Kustomization {namespace}/{name}")),
    }
}

/// Reads the Kustomization `name` from a YAML file (which may hold other documents).
pub fn from_file(path: &Path, namespace: &str, name: &str) -> anyhow::Result<Kustomization> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if size > MAX_KUSTOMIZATION_FILE {
        bail!(
            "{} is {size} bytes, more than a Kustomization file can be",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let documents =
        ferry_yaml::from_str_multi(&text).with_context(|| format!("parsing {}", path.display()))?;
    let found = documents.into_iter().find(|doc| {
        doc.get("kind").and_then(Value::as_str) == Some("Kustomization")
            && doc
                .get("apiVersion")
                .and_then(Value::as_str)
                .is_some_and(|v| v.starts_with(&format!("{}/", keys::KUSTOMIZE_GROUP)))
            && doc.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
    });
    let Some(mut doc) = found else {
        bail!("{} holds no Kustomization named {name:?}", path.display());
    };
    if doc.pointer("/metadata/namespace").is_none()
        && let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut)
    {
        meta.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
    }
    serde_json::from_value(doc)
        .with_context(|| format!("{}: Kustomization {name} is not valid", path.display()))
}

/// The post-build variables, as the controller resolves them (`substituteFrom` read from the
/// cluster; skipped without a client, as `--dry-run` asks). `strict`: a variable without value
/// or default is an error (`--strict-substitute`) instead of empty.
pub async fn substitution(
    client: Option<&Client>,
    ks: &Kustomization,
    strict: bool,
) -> anyhow::Result<Option<build::Substitution>> {
    let namespace = ks.namespace().unwrap_or_default();
    build::resolve_substitution(client, &namespace, ks.spec.post_build.as_ref(), strict)
        .await
        .map_err(anyhow::Error::msg)
}

/// Builds `dir` for the Kustomization and sets its owner labels, as the controller does
/// before applying.
pub async fn render(
    dir: &Path,
    ks: &Kustomization,
    substitution: Option<build::Substitution>,
) -> anyhow::Result<Vec<Value>> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let unsupported = build::unsupported_fields(&ks.spec);
    if !unsupported.is_empty() {
        bail!(
            "Kustomization {}: not supported by ferry yet: {}",
            ks.name_any(),
            unsupported.join(", ")
        );
    }
    let overrides =
        build::overrides(&ks.spec).with_context(|| format!("Kustomization {}", ks.name_any()))?;
    let dir: PathBuf = dir.to_path_buf();
    let shown = dir.display().to_string();
    let mut objects = tokio::task::spawn_blocking(move || {
        build::render(&dir, &overrides, None, None, substitution.as_ref())
    })
    .await
    .context("the build task failed")?
    .with_context(|| format!("building {shown}"))?;
    let owner = BTreeMap::from([
        (keys::OWNER_NAME_LABEL.to_owned(), ks.name_any()),
        (
            keys::OWNER_NAMESPACE_LABEL.to_owned(),
            ks.namespace().unwrap_or_default(),
        ),
    ]);
    for obj in &mut objects {
        ferry_apply::object::set_labels(obj, &owner);
    }
    Ok(objects)
}
