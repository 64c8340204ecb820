//! `ferry health [-o json] FILE...`: the health of every object in the files (for example saved
//! with `kubectl get -o yaml`), in Argo CD's and kstatus' words. `-` reads standard input;
//! `kind: List` documents are expanded. User checks can be tried out with `--argocd-cm` (an
//! argocd-cm ConfigMap with `resource.customizations.health.*` Lua scripts) and
//! `--health-check-exprs` (a Flux Kustomization or HelmRelease with `spec.healthCheckExprs`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use ferry_health::{Checks, Health, HealthCheckExprs, LuaHealthScript};
use serde_json::{Value, json};

/// Files larger than this are refused: a health dump is a few objects, not a cluster backup.
const MAX_FILE_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// YAML or JSON files holding objects (`-` for standard input).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    output: Output,
    /// An argocd-cm ConfigMap whose Lua health customizations apply.
    #[arg(long, value_name = "FILE")]
    argocd_cm: Option<PathBuf>,
    /// A Flux Kustomization or HelmRelease whose `spec.healthCheckExprs` apply.
    #[arg(long, value_name = "FILE")]
    health_check_exprs: Option<PathBuf>,
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("opening {}", path.display()))?
            .take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    if text.len() as u64 > MAX_FILE_BYTES {
        bail!(
            "{} is larger than {} MiB",
            path.display(),
            MAX_FILE_BYTES >> 20
        );
    }
    Ok(text)
}

fn read_objects(path: &Path) -> anyhow::Result<Vec<Value>> {
    let text = read_text(path)?;
    let documents =
        ferry_yaml::from_str_multi(&text).with_context(|| format!("parsing {}", path.display()))?;
    let mut objects = Vec::new();
    for document in documents {
        match document.get("items").and_then(Value::as_array) {
            // `kubectl get -o yaml` of several objects gives a List.
            Some(items)
                if document
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List")) =>
            {
                objects.extend(items.iter().cloned());
            }
            _ if document.is_object() => objects.push(document),
            _ => bail!("{}: a document is not an object", path.display()),
        }
    }
    Ok(objects)
}

fn lua_scripts(path: &Path) -> anyhow::Result<Vec<LuaHealthScript>> {
    let mut scripts = Vec::new();
    for config_map in read_objects(path)? {
        let data: BTreeMap<String, String> = config_map
            .get("data")
            .and_then(Value::as_object)
            .map(|data| {
                data.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        scripts.extend(ferry_health::lua_scripts_from_argocd_cm(&data));
        if let Some(legacy) = data.get("resource.customizations") {
            let parsed = ferry_yaml::from_str(legacy)
                .with_context(|| format!("{}: parsing resource.customizations", path.display()))?;
            scripts.extend(ferry_health::lua_scripts_from_legacy_customizations(
                &parsed,
            ));
        }
    }
    Ok(scripts)
}

fn health_check_exprs(path: &Path) -> anyhow::Result<Vec<HealthCheckExprs>> {
    let mut all = Vec::new();
    for object in read_objects(path)? {
        if let Some(exprs) = object.pointer("/spec/healthCheckExprs") {
            let exprs: Vec<HealthCheckExprs> = serde_json::from_value(exprs.clone())
                .with_context(|| format!("{}: spec.healthCheckExprs", path.display()))?;
            all.extend(exprs);
        }
    }
    Ok(all)
}

fn field<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn display_name(object: &Value) -> String {
    let namespace = field(object, "/metadata/namespace");
    let name = field(object, "/metadata/name");
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    }
}

fn print_text(rows: &[(String, Value, Health)]) {
    let header = ["FILE", "KIND", "NAME", "HEALTH", "KSTATUS", "MESSAGE"];
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|(file, object, health)| {
            let message = if health.message.is_empty() {
                &health.kstatus_message
            } else {
                &health.message
            };
            [
                file.clone(),
                field(object, "/kind").to_owned(),
                display_name(object),
                health.status.map_or("-".to_owned(), |s| s.to_string()),
                health.kstatus.to_string(),
                message.split_whitespace().collect::<Vec<_>>().join(" "),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &table {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.trim_end().to_owned()
    };
    #[allow(clippy::print_stdout)]
    {
        println!("{}", line(header));
        for row in &table {
            println!(
                "{}",
                line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]])
            );
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let lua = match &args.argocd_cm {
        Some(path) => lua_scripts(path)?,
        None => Vec::new(),
    };
    let cel = match &args.health_check_exprs {
        Some(path) => health_check_exprs(path)?,
        None => Vec::new(),
    };
    let checks = Checks::new(&cel, lua).context("compiling the health checks")?;
    let mut rows = Vec::new();
    for path in &args.files {
        for object in read_objects(path)? {
            let health = checks.assess(&object);
            rows.push((path.display().to_string(), object, health));
        }
    }
    match args.output {
        Output::Text => print_text(&rows),
        Output::Json => {
            let report: Vec<Value> = rows
                .iter()
                .map(|(file, object, health)| {
                    json!({
                        "file": file,
                        "apiVersion": field(object, "/apiVersion"),
                        "kind": field(object, "/kind"),
                        "namespace": field(object, "/metadata/namespace"),
                        "name": field(object, "/metadata/name"),
                        "health": health,
                    })
                })
                .collect();
            #[allow(clippy::print_stdout)]
            {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
