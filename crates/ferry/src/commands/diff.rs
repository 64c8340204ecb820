//! `ferry diff kustomization NAME --path DIR`: builds the directory as the controller would for
//! the Kustomization, dry-runs every object with server-side apply against the live cluster and
//! prints what would change, as `flux diff kustomization` does: `► Kind/ns/name created`,
//! `► ... drifted` followed by a unified diff, `► ... deleted` for objects of the inventory the
//! build no longer holds (when the Kustomization prunes). Secret values are masked.
//!
//! Exit code: 0 without differences, 1 with differences, 2 on any error.

use std::{collections::BTreeSet, io::IsTerminal, path::PathBuf, process::ExitCode};

use ferry_api::{ObjMetadata, keys};
use ferry_apply::{
    Resources,
    diff::{self, DiffAction, Differ, ObjectDiff},
    object,
};
use kube::ResourceExt;
use serde_json::Value;

use super::{
    cluster_args::{ClusterArgs, block_on},
    kustomization_build,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Compare a local directory built for a Kustomization with the cluster.
    #[command(alias = "ks")]
    Kustomization(KustomizationArgs),
}

#[derive(Debug, clap::Args)]
struct KustomizationArgs {
    /// Name of the Kustomization.
    name: String,
    /// Directory of the manifests to build (replaces the Kustomization's spec.path).
    #[arg(long)]
    path: PathBuf,
    /// Take the Kustomization's spec from this file instead of the cluster.
    #[arg(long)]
    kustomization_file: Option<PathBuf>,
    /// Fail on post-build variables that have neither a value nor a default (otherwise they
    /// become empty, as in the controller's default).
    #[arg(long)]
    strict_substitute: bool,
    /// When to color the output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// ANSI styles of the output, or none.
struct Style {
    on: bool,
}

impl Style {
    const GREEN: &str = "\x1b[32m";
    const BOLD: &str = "\x1b[1m";
    const RED: &str = "\x1b[31m";
    const CYAN: &str = "\x1b[36m";
    const RESET: &str = "\x1b[0m";

    fn paint(&self, color: &str, text: &str) -> String {
        if self.on {
            format!("{color}{text}{}", Self::RESET)
        } else {
            text.to_owned()
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let What::Kustomization(ks_args) = &args.what;
    let style = Style {
        on: match ks_args.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        },
    };
    let outcome = block_on(diff_kustomization(&args.cluster, ks_args, &style)).and_then(|r| r);
    #[allow(clippy::print_stdout, clippy::print_stderr)]
    let code = match outcome {
        Ok(report) => {
            print!("{}", report.text);
            for error in &report.errors {
                eprintln!("✗ {error}");
            }
            if !report.errors.is_empty() {
                ExitCode::from(2)
            } else if report.changed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!("✗ {err:#}");
            ExitCode::from(2)
        }
    };
    Ok(code)
}

/// What the diff found.
struct Report {
    text: String,
    changed: bool,
    errors: Vec<String>,
}

async fn diff_kustomization(
    cluster: &ClusterArgs,
    args: &KustomizationArgs,
    style: &Style,
) -> anyhow::Result<Report> {
    let namespace = &cluster.namespace;
    let client = cluster.client().await?;
    let live = kustomization_build::from_cluster(&client, namespace, &args.name).await;
    let (ks, inventory) = match (&args.kustomization_file, live) {
        (Some(file), live) => {
            // The spec comes from the file; what was applied (if anything) from the cluster.
            let inventory = live.ok().and_then(|ks| ks.status.and_then(|s| s.inventory));
            (
                kustomization_build::from_file(file, namespace, &args.name)?,
                inventory,
            )
        }
        (None, live) => {
            let ks = live?;
            let inventory = ks.status.as_ref().and_then(|s| s.inventory.clone());
            (ks, inventory)
        }
    };
    let substitution =
        kustomization_build::substitution(Some(&client), &ks, args.strict_substitute).await?;
    let objects = kustomization_build::render(&args.path, &ks, substitution).await?;
    let built: BTreeSet<ObjMetadata> = objects
        .iter()
        .filter_map(|o| object::obj_metadata(o).ok())
        .collect();

    let differ = Differ::new(client, Resources::new(), keys::FIELD_MANAGER);
    let (diffs, errors) = differ.diff_all(objects).await;
    let mut report = Report {
        text: String::new(),
        changed: false,
        errors: errors.iter().map(ToString::to_string).collect(),
    };
    for mut d in diffs {
        diff::mask_secrets(&mut d);
        match d.action {
            DiffAction::Created => {
                report.changed = true;
                report
                    .text
                    .push_str(&style.paint(Style::GREEN, &format!("► {} created", d.object)));
                report.text.push('\n');
            }
            DiffAction::Drifted => {
                report.changed = true;
                report
                    .text
                    .push_str(&style.paint(Style::BOLD, &format!("► {} drifted", d.object)));
                report.text.push_str("\n\n");
                report.text.push_str(&unified(&d, style));
                report.text.push('\n');
            }
            DiffAction::Unchanged | DiffAction::Skipped => {}
        }
    }
    // Objects the last apply recorded that the build no longer holds are pruned, if the
    // Kustomization prunes (and nothing failed, which would make the set of built objects
    // uncertain).
    if ks.spec.prune && report.errors.is_empty() {
        match inventory.map(|inv| inv.objects()).transpose() {
            Ok(entries) => {
                for (meta, _) in entries.unwrap_or_default() {
                    if !built.contains(&meta) && !is_self(&meta, &ks) {
                        report.changed = true;
                        report
                            .text
                            .push_str(&style.paint(Style::RED, &format!("► {meta} deleted")));
                        report.text.push('\n');
                    }
                }
            }
            Err(err) => report
                .errors
                .push(format!("Kustomization {namespace}/{}: {err}", args.name)),
        }
    }
    Ok(report)
}

/// Whether an inventory entry is the Kustomization itself (a Kustomization that applies its own
/// definition never prunes itself).
fn is_self(meta: &ObjMetadata, ks: &ferry_api::Kustomization) -> bool {
    meta.group == keys::KUSTOMIZE_GROUP
        && meta.kind == "Kustomization"
        && meta.name == ks.name_any()
        && meta.namespace == ks.namespace().unwrap_or_default()
}

/// The unified diff of the live object and the dry-run result, as YAML.
fn unified(d: &ObjectDiff, style: &Style) -> String {
    let show = |o: &Option<Value>| {
        o.as_ref()
            .map(|o| ferry_yaml::to_string(&diff::comparable(o)))
            .unwrap_or_default()
    };
    let (before, after) = (show(&d.live), show(&d.merged));
    let text = similar::TextDiff::from_lines(&before, &after);
    let mut out = format!("--- {} (live)\n+++ {} (after apply)\n", d.object, d.object);
    for hunk in text.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&style.paint(Style::CYAN, &hunk.header().to_string()));
        out.push('\n');
        for change in hunk.iter_changes() {
            let (sign, color) = match change.tag() {
                similar::ChangeTag::Delete => ('-', Some(Style::RED)),
                similar::ChangeTag::Insert => ('+', Some(Style::GREEN)),
                similar::ChangeTag::Equal => (' ', None),
            };
            let line = format!("{sign}{}", change.value().trim_end_matches('\n'));
            out.push_str(&match color {
                Some(color) => style.paint(color, &line),
                None => line,
            });
            out.push('\n');
        }
    }
    out
}
