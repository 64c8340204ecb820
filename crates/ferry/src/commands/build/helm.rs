//! `ferry build helm CHART`: render a chart natively, printing what `helm template` prints.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ferry_helm::output::{TemplateOutput, template_stream};
use ferry_helm::{Chart, RenderOptions, Values};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Chart directory or packaged chart (.tgz).
    chart: PathBuf,
    /// Values file (YAML or JSON); may be repeated, later files win.
    #[arg(short = 'f', long = "values")]
    values: Vec<PathBuf>,
    /// Set a value: `a.b=c`, lists with `{x,y}` or `l[0]=x`; may be repeated.
    #[arg(long = "set")]
    set: Vec<String>,
    /// Set a string value (no type inference); may be repeated.
    #[arg(long = "set-string")]
    set_string: Vec<String>,
    /// Release name (`.Release.Name`).
    #[arg(long, default_value = "release-name")]
    name: String,
    /// Release namespace (`.Release.Namespace`).
    #[arg(short, long, default_value = "default")]
    namespace: String,
    /// Kubernetes version for `.Capabilities.KubeVersion` (Helm's default when absent).
    #[arg(long)]
    kube_version: Option<String>,
    /// API versions added to `.Capabilities.APIVersions`; may be repeated.
    #[arg(short = 'a', long = "api-versions")]
    api_versions: Vec<String>,
    /// Also print the chart's crds/ files.
    #[arg(long)]
    include_crds: bool,
    /// Leave out test hooks.
    #[arg(long)]
    skip_tests: bool,
    /// Leave out hooks.
    #[arg(long)]
    no_hooks: bool,
    /// Do not validate values against values.schema.json.
    #[arg(long)]
    skip_schema_validation: bool,
    /// Write the output to this file instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[allow(clippy::print_stderr)] // the deprecation warning, as helm prints it
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let chart = Chart::load(&args.chart)
        .with_context(|| format!("loading chart {}", args.chart.display()))?;
    let mut values = Values::default();
    for f in &args.values {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("reading values file {}", f.display()))?;
        let v = Values::load(&text)
            .map_err(|e| anyhow::anyhow!("failed to parse {}: {e}", f.display()))?;
        values.merge(v);
    }
    for s in &args.set {
        values
            .set(s)
            .map_err(|e| anyhow::anyhow!("failed parsing --set data {s:?}: {e}"))?;
    }
    for s in &args.set_string {
        values
            .set_string(s)
            .map_err(|e| anyhow::anyhow!("failed parsing --set-string data {s:?}: {e}"))?;
    }
    let opts = RenderOptions {
        release_name: args.name,
        namespace: args.namespace,
        values,
        kube_version: args.kube_version,
        api_versions: args.api_versions,
        skip_schema_validation: args.skip_schema_validation,
        ..RenderOptions::default()
    };
    if chart.metadata.deprecated {
        // Helm's own warning, on stderr so the rendered stream stays clean.
        eprintln!("WARNING: This chart is deprecated");
    }
    ferry_helm::check_installable(&chart, &opts).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rendered = ferry_helm::render(&chart, &opts).map_err(|e| anyhow::anyhow!("{e}"))?;
    let out = template_stream(
        &rendered,
        &TemplateOutput {
            include_crds: args.include_crds,
            skip_tests: args.skip_tests,
            no_hooks: args.no_hooks,
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout()
            .lock()
            .write_all(out.as_bytes())
            .context("writing standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
