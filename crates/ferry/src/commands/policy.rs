//! `ferry policy check [DIR] --policies DIR`: Gatekeeper ConstraintTemplates and constraints
//! evaluated on the manifests of a directory, for pull-request pipelines.
//!
//! `ferry policy check --kustomization NAME [-n NS] --path DIR [--policies DIR]`: the objects the
//! controller would apply for that Kustomization (read from the cluster; DIR is the local
//! checkout of its `spec.path`), checked as the controller's policy gate checks them: against
//! live objects (`oldObject` of UPDATE reviews, `data.inventory`) and, without `--policies`,
//! against the ConstraintTemplates and constraints installed in the cluster.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use ferry_controller::kustomization::policy as gate;
use ferry_policy::load::{self, Document};
use ferry_policy::report::{self, Format};
use ferry_policy::{EnginePreference, Inventory, PolicySet, Review, SourceLocation};

use super::{
    cluster_args::{ClusterArgs, block_on},
    kustomization_build,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Evaluate the policies on the manifests of DIR; exit 1 on a `deny` violation.
    Check(CheckArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Output {
    Text,
    Json,
    /// GitHub Actions annotations (`::error file=...::`).
    Github,
    /// Azure DevOps logging commands (`##vso[task.logissue ...]`).
    Azure,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EngineChoice {
    /// K8sNativeValidation first, as Gatekeeper does when K8s-native validation is on.
    Cel,
    /// Rego first: same verdicts on the Gatekeeper library, about twice as fast.
    Rego,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Directory of manifests: a Helm chart (rendered), a kustomize overlay (built) or plain
    /// YAML (read recursively).
    #[arg(default_value = ".", conflicts_with = "kustomization")]
    dir: PathBuf,
    /// Check what the controller would apply for this Kustomization (read from the cluster,
    /// namespace -n), built from --path, against live objects of the cluster.
    #[arg(long, requires = "path")]
    kustomization: Option<String>,
    /// With --kustomization: the local checkout of the Kustomization's spec.path.
    #[arg(long, requires = "kustomization")]
    path: Option<PathBuf>,
    /// Directory (or file) holding ConstraintTemplates and constraints. With --kustomization and
    /// without it, the templates and constraints installed in the cluster (Gatekeeper's).
    #[arg(long, required_unless_present = "kustomization")]
    policies: Option<PathBuf>,
    /// Values file for a Helm chart DIR (YAML or JSON); may be repeated, later files win.
    #[arg(short = 'f', long = "values")]
    values: Vec<PathBuf>,
    /// Extra objects for `data.inventory` and namespaceSelector (e.g. exported live objects).
    #[arg(long)]
    inventory: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    output: Output,
    /// Engine for templates that carry both Rego and CEL.
    #[arg(long, value_enum, default_value = "rego")]
    engine: EngineChoice,
    #[command(flatten)]
    cluster: ClusterArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Check(args) if args.kustomization.is_some() => {
            block_on(check_kustomization(args))?
        }
        Command::Check(args) => check(args),
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<Document>> {
    let documents = if path.is_dir() {
        load::read_dir(path, Some(path))
    } else {
        load::read_file(path, &path.to_string_lossy())
    };
    documents.with_context(|| format!("reading {}", path.display()))
}

/// The manifests of DIR: `helm template` output when DIR is a chart (objects located at their
/// template), `kustomize build` output when DIR holds a kustomization (objects are then located
/// at the kustomization file), else every YAML document found under DIR.
fn render(dir: &Path, values: &[PathBuf]) -> anyhow::Result<Vec<Document>> {
    if dir.join("Chart.yaml").is_file() {
        return render_chart(dir, values);
    }
    let Some(kustomization) = kustomization_file(dir) else {
        return read(dir);
    };
    let objects = ferry_kustomize::build(dir, &ferry_kustomize::BuildOptions::default())
        .with_context(|| format!("kustomize build {}", dir.display()))?;
    let shown = kustomization
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(objects
        .into_iter()
        .map(|value| Document {
            value,
            source: ferry_policy::SourceLocation {
                file: shown.clone(),
                line: None,
            },
        })
        .collect())
}

/// Renders a chart as `helm template DIR -f VALUES…` does (release `release-name` in
/// `default`), hooks included: they are applied too.
fn render_chart(dir: &Path, values_files: &[PathBuf]) -> anyhow::Result<Vec<Document>> {
    let chart =
        ferry_helm::Chart::load(dir).with_context(|| format!("loading chart {}", dir.display()))?;
    let mut values = ferry_helm::Values::default();
    for file in values_files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading values file {}", file.display()))?;
        values.merge(
            ferry_helm::Values::load(&text)
                .map_err(|e| anyhow::anyhow!("failed to parse {}: {e}", file.display()))?,
        );
    }
    let options = ferry_helm::RenderOptions {
        values,
        ..ferry_helm::RenderOptions::default()
    };
    let rendered = ferry_helm::render(&chart, &options)
        .map_err(|e| anyhow::anyhow!("rendering chart {}: {e}", dir.display()))?;
    let mut documents = Vec::new();
    for (template, content) in &rendered.manifests {
        let parsed = load::parse_documents(content, template)
            .map_err(|(line, e)| anyhow::anyhow!("{template} (rendered) line {line}: {e}"))?;
        // Lines of the rendered text are not lines of the template: locate by template only.
        documents.extend(parsed.into_iter().map(|mut d| {
            d.source.line = None;
            d
        }));
    }
    Ok(documents)
}

/// A kustomization file makes a directory a kustomize overlay.
fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

fn is_policy_or_config(value: &serde_json::Value) -> bool {
    let api_version = value["apiVersion"].as_str().unwrap_or("");
    value["kind"].as_str().unwrap_or("").is_empty()
        || api_version.is_empty()
        || api_version.starts_with("kustomize.config.k8s.io/")
        || api_version.starts_with("templates.gatekeeper.sh/")
        || api_version.starts_with("constraints.gatekeeper.sh/")
}

fn compile(policies: Vec<serde_json::Value>, args: &CheckArgs) -> anyhow::Result<PolicySet> {
    let from = match &args.policies {
        Some(path) => path.display().to_string(),
        None => "the cluster".to_owned(),
    };
    Ok(PolicySet::from_objects(policies)
        .with_context(|| format!("loading policies from {from}"))?
        .with_engine_preference(match args.engine {
            EngineChoice::Cel => EnginePreference::Cel,
            EngineChoice::Rego => EnginePreference::Rego,
        }))
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let Some(policies_path) = &args.policies else {
        bail!("--policies is required without --kustomization");
    };
    let policies: Vec<serde_json::Value> =
        read(policies_path)?.into_iter().map(|d| d.value).collect();
    let set = compile(policies, &args)?;

    let documents: Vec<Document> = render(&args.dir, &args.values)?
        .into_iter()
        .filter(|d| !is_policy_or_config(&d.value))
        .collect();
    let mut inventory = Inventory::from_objects(documents.iter().map(|d| &d.value));
    for path in &args.inventory {
        inventory.extend(read(path)?.into_iter().map(|d| d.value));
    }
    let mut reviews = Vec::with_capacity(documents.len());
    for document in documents {
        let review = if Review::is_admission_review(&document.value) {
            Review::from_admission_review(&document.value).with_context(|| {
                format!(
                    "{}:{}",
                    document.source.file,
                    document.source.line.unwrap_or(1)
                )
            })?
        } else {
            Review::create(document.value)
        };
        reviews.push(review.with_location(document.source));
    }
    evaluate_and_print(&set, &reviews, &inventory, args.output)
}

/// The `--kustomization` form: rendered as the controller renders, reviewed as its gate
/// reviews (the reading of the cluster is the gate's own code).
async fn check_kustomization(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let (Some(name), Some(path)) = (&args.kustomization, &args.path) else {
        bail!("--kustomization needs --path");
    };
    let namespace = &args.cluster.namespace;
    let client = args.cluster.client().await?;
    let resources = ferry_apply::Resources::new();
    let ks = kustomization_build::from_cluster(&client, namespace, name).await?;
    let substitution = kustomization_build::substitution(Some(&client), &ks, false).await?;
    let objects = kustomization_build::render(path, &ks, substitution).await?;

    let policies = match &args.policies {
        Some(dir) => read(dir)?.into_iter().map(|d| d.value).collect(),
        None => gate::cluster_policies(&client, &resources)
            .await
            .context("reading the cluster's ConstraintTemplates and constraints (no --policies)")?,
    };
    let set = compile(policies, &args)?;
    let live = gate::live_objects(&client, &resources, &objects, gate::uses_inventory(&set))
        .await
        .context("reading live objects")?;
    let (reviews, mut inventory) = live.reviews_and_inventory(objects);
    for extra in &args.inventory {
        inventory.extend(read(extra)?.into_iter().map(|d| d.value));
    }
    // Violations point at the kustomization file (or the directory) that produced the objects.
    let file = kustomization_file(path)
        .unwrap_or_else(|| path.clone())
        .display()
        .to_string();
    let reviews: Vec<Review> = reviews
        .into_iter()
        .map(|review| {
            review.with_location(SourceLocation {
                file: file.clone(),
                line: None,
            })
        })
        .collect();
    evaluate_and_print(&set, &reviews, &inventory, args.output)
}

/// Evaluates, prints in the chosen format, and exits 1 on a `deny` violation.
fn evaluate_and_print(
    set: &PolicySet,
    reviews: &[Review],
    inventory: &Inventory,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let outcome = set.evaluate(reviews, inventory);
    let format = match output {
        Output::Text => Format::Text,
        Output::Json => Format::Json,
        Output::Github => Format::Github,
        Output::Azure => Format::Azure,
    };
    #[allow(clippy::print_stdout)]
    {
        print!("{}", report::render(&outcome, format));
    }
    Ok(if outcome.denies() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
