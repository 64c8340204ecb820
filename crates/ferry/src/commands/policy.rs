//! `ferry policy check [DIR] --policies DIR`: Gatekeeper ConstraintTemplates and constraints
//! evaluated on the manifests of a directory, for pull-request pipelines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ferry_policy::load::{self, Document};
use ferry_policy::report::{self, Format};
use ferry_policy::{EnginePreference, Inventory, PolicySet, Review};

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
    /// Directory of manifests: a kustomize overlay (built) or plain YAML (read recursively).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Directory (or file) holding ConstraintTemplates and constraints.
    #[arg(long)]
    policies: PathBuf,
    /// Extra objects for `data.inventory` and namespaceSelector (e.g. exported live objects).
    #[arg(long)]
    inventory: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    output: Output,
    /// Engine for templates that carry both Rego and CEL.
    #[arg(long, value_enum, default_value = "rego")]
    engine: EngineChoice,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
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

/// The manifests of DIR: `kustomize build` output when DIR holds a kustomization (objects are
/// then located at the kustomization file), else every YAML document found under DIR.
fn render(dir: &Path) -> anyhow::Result<Vec<Document>> {
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

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let policies: Vec<serde_json::Value> =
        read(&args.policies)?.into_iter().map(|d| d.value).collect();
    let set = PolicySet::from_objects(policies)
        .with_context(|| format!("loading policies from {}", args.policies.display()))?
        .with_engine_preference(match args.engine {
            EngineChoice::Cel => EnginePreference::Cel,
            EngineChoice::Rego => EnginePreference::Rego,
        });

    let documents: Vec<Document> = render(&args.dir)?
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
    let outcome = set.evaluate(&reviews, &inventory);
    let format = match args.output {
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
