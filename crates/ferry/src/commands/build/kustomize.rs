//! `ferry build kustomize DIR`: kustomize build, byte-identical output.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ferry_kustomize::{BuildOptions, FluxOverrides, LoadRestrictions, Reorder};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LoadRestrictor {
    #[value(name = "LoadRestrictionsRootOnly")]
    RootOnly,
    #[value(name = "LoadRestrictionsNone")]
    None,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ReorderFlag {
    Legacy,
    None,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory holding the kustomization (default: the current directory).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Which files may be read: only below the kustomization root (kustomize's default) or any.
    #[arg(long, value_enum, default_value = "LoadRestrictionsRootOnly")]
    load_restrictor: LoadRestrictor,
    /// Output order when the kustomization has no sortOptions (default: legacy kind order).
    #[arg(long, value_enum)]
    reorder: Option<ReorderFlag>,
    /// Add `app.kubernetes.io/managed-by` to every object.
    #[arg(long)]
    enable_managedby_label: bool,
    /// Build as Flux's kustomize-controller does: a directory without a kustomization gets one
    /// listing its YAML files.
    #[arg(long)]
    flux: bool,
    /// Write the output to this file instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let options = BuildOptions {
        load_restrictions: match args.load_restrictor {
            LoadRestrictor::RootOnly => LoadRestrictions::RootOnly,
            LoadRestrictor::None => LoadRestrictions::None,
        },
        reorder: match args.reorder {
            None => Reorder::Unspecified,
            Some(ReorderFlag::Legacy) => Reorder::Legacy,
            Some(ReorderFlag::None) => Reorder::None,
        },
        add_managed_by_label: args.enable_managedby_label,
        remote: None,
        file_filter: None,
        dir_cache: None,
    };
    let objects = if args.flux {
        ferry_kustomize::build_flux(&args.dir, &FluxOverrides::default(), &options)
    } else {
        ferry_kustomize::build(&args.dir, &options)
    }
    .with_context(|| format!("building {}", args.dir.display()))?;
    let text = ferry_kustomize::to_yaml(&objects);
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .context("writing to standard output")?;
            out.flush().context("writing to standard output")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
