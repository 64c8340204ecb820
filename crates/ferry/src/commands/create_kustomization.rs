//! `ferry create kustomization NAME --source [<kind>/]<name>[.<namespace>] [--path] [--prune]
//! [--interval] [--wait] [--health-check] [--target-namespace] [--depends-on]
//! [--service-account] [--export]`: writes a Kustomization as `flux create kustomization` does
//! (same flags, defaults and object), then waits for its first reconcile; `--export` prints it.

use std::{
    path::{Component, Path},
    process::ExitCode,
    time::Duration,
};

use anyhow::{Context as _, bail};
use ferry_api::{GoDuration, Kustomization};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::{Map, Value, json};

use super::cluster_args::{ClusterArgs, block_on};

/// Source kinds a Kustomization may build from (the CRD's enum).
const SOURCE_KINDS: &[&str] = &[
    "GitRepository",
    "OCIRepository",
    "Bucket",
    "ExternalArtifact",
];
/// Kinds `--health-check` accepts, with the API version each is checked under.
const HEALTH_CHECK_KINDS: &[(&str, &str)] = &[
    ("Deployment", "apps/v1"),
    ("DaemonSet", "apps/v1"),
    ("StatefulSet", "apps/v1"),
    ("HelmRelease", "helm.toolkit.fluxcd.io/v2"),
];

#[derive(Debug, clap::Args)]
pub struct Args {
    name: String,
    /// Source of the manifests: `[<kind>/]<name>[.<namespace>]`; the kind defaults to
    /// GitRepository.
    #[arg(long)]
    source: String,
    /// Directory of the manifests in the source, relative to its root.
    #[arg(long, default_value = "./")]
    path: String,
    /// Delete the objects that left the source.
    #[arg(long)]
    prune: bool,
    /// How often the manifests are applied again.
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    interval: GoDuration,
    /// Interval after a failed reconcile.
    #[arg(long, value_parser = parse_duration)]
    retry_interval: Option<GoDuration>,
    /// Check the health of every applied object.
    #[arg(long)]
    wait: bool,
    /// Object whose health is checked, `<kind>/<name>.<namespace>` (comma separated or
    /// repeated).
    #[arg(long, value_delimiter = ',')]
    health_check: Vec<String>,
    /// Timeout of the health checks (spec.timeout, with --wait or --health-check).
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    health_check_timeout: GoDuration,
    /// Kustomizations that must be ready first, `<name>` or `<namespace>/<name>` (comma
    /// separated or repeated).
    #[arg(long, value_delimiter = ',')]
    depends_on: Vec<String>,
    /// Namespace of every namespaced object it applies.
    #[arg(long)]
    target_namespace: Option<String>,
    /// Service account to impersonate when applying.
    #[arg(long = "service-account")]
    service_account: Option<String>,
    /// Secret holding a kubeconfig (key `value`) to apply to another cluster.
    #[arg(long)]
    kubeconfig_secret_ref: Option<String>,
    /// Decryption provider (sops).
    #[arg(long, value_parser = ["sops"])]
    decryption_provider: Option<String>,
    /// Secret holding the decryption keys.
    #[arg(long, requires = "decryption_provider")]
    decryption_secret: Option<String>,
    /// Labels of the Kustomization, `key=value` (comma separated or repeated).
    #[arg(long, value_delimiter = ',')]
    label: Vec<String>,
    /// Print the object as YAML instead of applying it.
    #[arg(long)]
    export: bool,
    /// How long to wait for the reconcile.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    timeout: GoDuration,
}

fn parse_duration(s: &str) -> Result<GoDuration, String> {
    s.parse::<GoDuration>().map_err(|e| e.to_string())
}

#[allow(clippy::print_stdout)]
fn say(symbol: &str, message: impl std::fmt::Display) {
    println!("{symbol} {message}");
}

/// `[<kind>/]<name>[.<namespace>]` as flux reads it: the namespace follows the first dot.
fn source_ref(value: &str) -> anyhow::Result<Value> {
    let (kind, rest) = match value.split_once('/') {
        Some((kind, rest)) => (kind, rest),
        None => ("GitRepository", value),
    };
    if !SOURCE_KINDS.contains(&kind) {
        bail!(
            "--source {value:?}: source kind {kind:?} is not supported, must be one of: {}",
            SOURCE_KINDS.join(", ")
        );
    }
    let (name, namespace) = match rest.split_once('.') {
        Some((name, namespace)) => (name, Some(namespace)),
        None => (rest, None),
    };
    if name.is_empty() || namespace == Some("") {
        bail!("--source {value:?}: expected [<kind>/]<name>[.<namespace>]");
    }
    let mut reference = json!({"kind": kind, "name": name});
    if let Some(namespace) = namespace {
        reference["namespace"] = json!(namespace);
    }
    Ok(reference)
}

/// A path inside the source: relative, never above its root, written `./dir` as flux does.
fn safe_relative_path(path: &str) -> anyhow::Result<String> {
    let p = Path::new(path);
    let mut depth: i32 = 0;
    for component in p.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    bail!("--path {path:?} leaves the source's root");
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                bail!("--path {path:?} must be relative to the source's root")
            }
        }
    }
    let trimmed = path.trim_start_matches("./");
    Ok(if trimmed.is_empty() {
        "./".to_owned()
    } else {
        format!("./{trimmed}")
    })
}

fn health_check(value: &str) -> anyhow::Result<Value> {
    let invalid =
        || anyhow::anyhow!("invalid health check {value:?}: expected <kind>/<name>.<namespace>");
    let (kind, rest) = value.split_once('/').ok_or_else(invalid)?;
    let (name, namespace) = rest.split_once('.').ok_or_else(invalid)?;
    if name.is_empty() || namespace.is_empty() || namespace.contains('.') {
        return Err(invalid());
    }
    let Some((kind, api_version)) = HEALTH_CHECK_KINDS.iter().find(|(k, _)| *k == kind) else {
        let kinds: Vec<&str> = HEALTH_CHECK_KINDS.iter().map(|(k, _)| *k).collect();
        bail!(
            "invalid health check kind {kind:?}: it can be {}",
            kinds.join(", ")
        );
    };
    Ok(json!({"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace}))
}

fn dependency(value: &str) -> anyhow::Result<Value> {
    match value.split_once('/') {
        Some((namespace, name))
            if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
        {
            Ok(json!({"name": name, "namespace": namespace}))
        }
        None if !value.is_empty() => Ok(json!({"name": value})),
        _ => bail!("invalid --depends-on {value:?}: expected <name> or <namespace>/<name>"),
    }
}

/// The Kustomization `flux create kustomization` builds from these flags.
fn kustomization(args: &Args, namespace: &str) -> anyhow::Result<Value> {
    let mut spec = Map::new();
    if !args.depends_on.is_empty() {
        let deps = args
            .depends_on
            .iter()
            .map(|d| dependency(d))
            .collect::<anyhow::Result<Vec<_>>>()?;
        spec.insert("dependsOn".to_owned(), Value::Array(deps));
    }
    spec.insert("interval".to_owned(), json!(args.interval.to_string()));
    spec.insert("path".to_owned(), json!(safe_relative_path(&args.path)?));
    spec.insert("prune".to_owned(), json!(args.prune));
    spec.insert("sourceRef".to_owned(), source_ref(&args.source)?);
    if let Some(retry) = args.retry_interval {
        spec.insert("retryInterval".to_owned(), json!(retry.to_string()));
    }
    if let Some(target) = &args.target_namespace {
        spec.insert("targetNamespace".to_owned(), json!(target));
    }
    if !args.health_check.is_empty() && !args.wait {
        let checks = args
            .health_check
            .iter()
            .map(|c| health_check(c))
            .collect::<anyhow::Result<Vec<_>>>()?;
        spec.insert("healthChecks".to_owned(), Value::Array(checks));
        spec.insert(
            "timeout".to_owned(),
            json!(args.health_check_timeout.to_string()),
        );
    }
    if args.wait {
        spec.insert("wait".to_owned(), json!(true));
        spec.insert(
            "timeout".to_owned(),
            json!(args.health_check_timeout.to_string()),
        );
    }
    if let Some(sa) = &args.service_account {
        spec.insert("serviceAccountName".to_owned(), json!(sa));
    }
    if let Some(secret) = &args.kubeconfig_secret_ref {
        spec.insert(
            "kubeConfig".to_owned(),
            json!({"secretRef": {"name": secret}}),
        );
    }
    if let Some(provider) = &args.decryption_provider {
        let mut decryption = json!({"provider": provider});
        if let Some(secret) = &args.decryption_secret {
            decryption["secretRef"] = json!({"name": secret});
        }
        spec.insert("decryption".to_owned(), decryption);
    }
    let mut metadata = json!({"name": args.name, "namespace": namespace});
    if !args.label.is_empty() {
        let mut labels = Map::new();
        for label in &args.label {
            let Some((key, value)) = label.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                bail!("invalid --label {label:?}: expected key=value");
            };
            labels.insert(key.to_owned(), json!(value));
        }
        metadata["labels"] = Value::Object(labels);
    }
    let object = json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": metadata,
        "spec": spec,
    });
    // Everything the controller will read must parse.
    serde_json::from_value::<Kustomization>(object.clone())
        .context("the flags make an invalid Kustomization")?;
    Ok(object)
}

pub fn run(args: &Args, cluster: &ClusterArgs) -> anyhow::Result<ExitCode> {
    let namespace = &cluster.namespace;
    if !args.export {
        say("✚", "generating Kustomization");
    }
    let object = kustomization(args, namespace)?;
    if args.export {
        #[allow(clippy::print_stdout)]
        {
            print!("---\n{}", ferry_yaml::to_string(&object));
        }
        return Ok(ExitCode::SUCCESS);
    }
    block_on(async {
        let client = cluster.client().await?;
        let api: Api<Kustomization> = Api::namespaced(client, namespace);
        say("►", "applying Kustomization");
        api.patch(
            &args.name,
            &PatchParams::apply("ferry").force(),
            &Patch::Apply(&object),
        )
        .await
        .with_context(|| format!("applying Kustomization {namespace}/{}", args.name))?;
        say("✔", "Kustomization created");
        let timeout: Duration = args.timeout.0;
        super::reconcile::wait_kustomization(&api, &args.name, None, timeout).await?;
        Ok(ExitCode::SUCCESS)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn object(argv: &[&str]) -> anyhow::Result<Value> {
        let cli = Cli::try_parse_from(["create"].iter().chain(argv))?;
        kustomization(&cli.args, "flux-system")
    }

    #[test]
    fn builds_the_object_flux_builds() {
        let o = object(&["podinfo", "--source", "podinfo"]).unwrap();
        assert_eq!(
            o["spec"],
            json!({"interval": "1m0s", "path": "./", "prune": false, "sourceRef": {"kind": "GitRepository", "name": "podinfo"}})
        );
        let o = object(&[
            "apps",
            "--source",
            "OCIRepository/apps.infra",
            "--path",
            "deploy/prod",
            "--prune",
            "--interval",
            "10m",
            "--wait",
            "--health-check-timeout",
            "3m",
            "--depends-on",
            "infra,other/db",
            "--target-namespace",
            "prod",
            "--service-account",
            "deployer",
            "--retry-interval",
            "90s",
            "--label",
            "team=a",
        ])
        .unwrap();
        assert_eq!(o["metadata"]["labels"], json!({"team": "a"}));
        assert_eq!(
            o["spec"],
            json!({
                "dependsOn": [{"name": "infra"}, {"name": "db", "namespace": "other"}],
                "interval": "10m0s", "path": "./deploy/prod", "prune": true,
                "sourceRef": {"kind": "OCIRepository", "name": "apps", "namespace": "infra"},
                "retryInterval": "1m30s", "targetNamespace": "prod", "wait": true, "timeout": "3m0s",
                "serviceAccountName": "deployer",
            })
        );
        let o = object(&[
            "a",
            "--source",
            "r",
            "--health-check",
            "Deployment/web.apps,HelmRelease/db.data",
        ])
        .unwrap();
        assert_eq!(
            o["spec"]["healthChecks"],
            json!([
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "apps"},
                {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "name": "db", "namespace": "data"},
            ])
        );
        assert_eq!(o["spec"]["timeout"], json!("2m0s"));
    }

    #[test]
    fn refuses_what_flux_refuses() {
        for argv in [
            &["a", "--source", "HelmRepository/r"][..],
            &["a", "--source", "r", "--path", "/etc"],
            &["a", "--source", "r", "--path", "../other"],
            &["a", "--source", "r", "--health-check", "Deployment/web"],
            &["a", "--source", "r", "--health-check", "Pod/web.apps"],
            &["a", "--source", "r", "--interval", "5 minutes"],
            &["a", "--source", "r", "--depends-on", "a/b/c"],
            &["a", "--source", "r", "--label", "novalue"],
            &["a", "--source", "r", "--decryption-provider", "vault"],
            &["a", "--source", "r.", "--prune"],
        ] {
            assert!(object(argv).is_err(), "{argv:?} must be refused");
        }
    }
}
