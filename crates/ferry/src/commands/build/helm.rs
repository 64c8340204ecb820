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

#[cfg(test)]
mod tests {
    //! The command end to end against `helm template`: each case of
    //! crates/ferry-helm/tests/data/cli holds the arguments (args.txt, paths relative to that
    //! data directory) and what the real Helm SDK prints for them (expected.yaml, made by
    //! crates/ferry-helm/tests/oracle/gen_cli.py with a client-only dry-run install, as
    //! `helm template` runs it).

    use std::path::Path;

    use clap::Parser;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn data() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ferry-helm/tests/data")
    }

    fn run_case(dir: &Path, out: &Path) -> String {
        let text = std::fs::read_to_string(dir.join("args.txt")).expect("args.txt is readable");
        let mut argv = vec!["ferry-build-helm".to_string()];
        let mut path_next = true; // the chart comes first
        for arg in text.lines().filter(|l| !l.is_empty()) {
            if path_next {
                argv.push(data().join(arg).display().to_string());
            } else {
                argv.push(arg.to_string());
            }
            path_next = arg == "--values" || arg == "-f";
        }
        argv.push("--output".into());
        argv.push(out.display().to_string());
        let cli = Cli::try_parse_from(&argv).expect("the case's arguments parse");
        let code = run(cli.args).expect("the chart renders");
        assert_eq!(code, ExitCode::SUCCESS);
        std::fs::read_to_string(out).expect("output file is readable")
    }

    /// Lines (1-based) that differ between two renders by Helm (random names): only their
    /// length is compared.
    fn random_lines(dir: &Path) -> Vec<usize> {
        std::fs::read_to_string(dir.join("random-lines.txt"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().parse().expect("a line number"))
            .collect()
    }

    fn first_difference(got: &str, want: &str, random: &[usize]) -> Option<String> {
        let g: Vec<&str> = got.split('\n').collect();
        let w: Vec<&str> = want.split('\n').collect();
        for i in 0..g.len().max(w.len()) {
            let (a, b) = (g.get(i), w.get(i));
            let same = match (a, b) {
                (Some(a), Some(b)) if random.contains(&(i + 1)) => a.len() == b.len(),
                _ => a == b,
            };
            if !same {
                return Some(format!(
                    "differs at line {}: ferry {a:?}, helm {b:?}",
                    i + 1
                ));
            }
        }
        None
    }

    #[test]
    fn flags_render_what_helm_template_prints() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(data().join("cli"))
            .expect("cli cases exist")
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        assert!(dirs.len() >= 4, "the cli cases are there");
        let mut failures = vec![];
        for dir in &dirs {
            let name = dir.file_name().expect("case name").to_string_lossy();
            let got = run_case(dir, &tmp.path().join(format!("{name}.yaml")));
            let want = std::fs::read_to_string(dir.join("expected.yaml")).expect("expected.yaml");
            if let Some(diff) = first_difference(&got, &want, &random_lines(dir)) {
                failures.push(format!("{name}: {diff}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn errors_carry_helms_words() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let chart = data().join("oracle/errors/required/chart");
        let cli = Cli::try_parse_from([
            "ferry-build-helm".to_string(),
            chart.display().to_string(),
            "--output".into(),
            tmp.path().join("out.yaml").display().to_string(),
        ])
        .expect("arguments parse");
        let err = run(cli.args).expect_err("a required value is missing");
        let want =
            std::fs::read_to_string(data().join("oracle/errors/required/expected-error.txt"))
                .expect("expected-error.txt");
        assert!(
            format!("{err:#}").contains(want.trim()),
            "{err:#} lacks Helm's message {want:?}"
        );
    }
}
