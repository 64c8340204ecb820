//! `ferry export kustomization|source git [NAME | --all]`: objects as YAML to commit to Git,
//! as `flux export` prints them: apiVersion, kind, name, namespace, labels, annotations and
//! spec; no status and nothing the server or kubectl set.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use ferry_api::{GitRepository, Kustomization};
use kube::{Api, Resource, ResourceExt, api::ListParams};
use serde_json::{Map, Value, json};

use super::cluster_args::{ClusterArgs, block_on};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Kustomizations.
    #[command(alias = "ks")]
    Kustomization(Selection),
    /// Sources.
    #[command(subcommand)]
    Source(SourceKind),
}

#[derive(Debug, clap::Subcommand)]
enum SourceKind {
    /// GitRepositories.
    Git(Selection),
}

#[derive(Debug, clap::Args)]
struct Selection {
    /// The object to export.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    name: Option<String>,
    /// Export every object of the kind in the namespace.
    #[arg(long)]
    all: bool,
}

/// Annotations that record a client's bookkeeping rather than configuration.
const DROPPED_ANNOTATIONS: &[&str] = &["kubectl.kubernetes.io/last-applied-configuration"];

/// The exported form of an object.
fn exported<K>(object: &K, spec: Value) -> Value
where
    K: Resource<DynamicType = ()>,
{
    let mut metadata = Map::new();
    metadata.insert("name".to_owned(), json!(object.name_any()));
    if let Some(namespace) = object.namespace() {
        metadata.insert("namespace".to_owned(), json!(namespace));
    }
    if !object.labels().is_empty() {
        metadata.insert("labels".to_owned(), json!(object.labels()));
    }
    let annotations: Map<String, Value> = object
        .annotations()
        .iter()
        .filter(|(k, _)| !DROPPED_ANNOTATIONS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    if !annotations.is_empty() {
        metadata.insert("annotations".to_owned(), Value::Object(annotations));
    }
    json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": metadata,
        "spec": spec,
    })
}

/// Reads the selected objects of one kind, exported.
async fn select<K>(
    api: Api<K>,
    selection: &Selection,
    namespace: &str,
    spec: fn(&K) -> Value,
) -> anyhow::Result<Vec<Value>>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let kind = K::kind(&());
    match &selection.name {
        Some(name) => match api
            .get_opt(name)
            .await
            .with_context(|| format!("reading {kind} {namespace}/{name}"))?
        {
            Some(object) => Ok(vec![exported(&object, spec(&object))]),
            None => bail!("{kind} {namespace}/{name} not found"),
        },
        None => {
            let list = api
                .list(&ListParams::default())
                .await
                .with_context(|| format!("listing {kind} objects in {namespace}"))?;
            Ok(list.items.iter().map(|o| exported(o, spec(o))).collect())
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let namespace = &args.cluster.namespace;
    block_on(async {
        let client = args.cluster.client().await?;
        let (kind, objects) = match &args.what {
            What::Kustomization(selection) => (
                "Kustomization",
                select::<Kustomization>(
                    Api::namespaced(client, namespace),
                    selection,
                    namespace,
                    |k| serde_json::to_value(&k.spec).expect("a Kustomization spec serialises"),
                )
                .await?,
            ),
            What::Source(SourceKind::Git(selection)) => (
                "GitRepository",
                select::<GitRepository>(
                    Api::namespaced(client, namespace),
                    selection,
                    namespace,
                    |g| serde_json::to_value(&g.spec).expect("a GitRepository spec serialises"),
                )
                .await?,
            ),
        };
        #[allow(clippy::print_stdout, clippy::print_stderr)]
        if objects.is_empty() {
            eprintln!("✗ no {kind} objects found in {namespace} namespace");
        } else {
            for object in &objects {
                print!("---\n{}", ferry_yaml::to_string(object));
            }
        }
        Ok(ExitCode::SUCCESS)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_configuration_only() {
        let ks: Kustomization = serde_json::from_value(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {
                "name": "apps", "namespace": "flux-system", "uid": "u", "resourceVersion": "7",
                "generation": 3, "managedFields": [{"manager": "ferry"}], "finalizers": ["finalizers.fluxcd.io"],
                "labels": {"team": "a"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "note": "x"},
            },
            "spec": {"interval": "10m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "repo"}},
            "status": {"observedGeneration": 3},
        }))
        .unwrap();
        let out = exported(&ks, serde_json::to_value(&ks.spec).unwrap());
        assert_eq!(
            out,
            json!({
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": "apps", "namespace": "flux-system", "labels": {"team": "a"}, "annotations": {"note": "x"}},
                "spec": {"interval": "10m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "repo"}},
            })
        );
    }
}
