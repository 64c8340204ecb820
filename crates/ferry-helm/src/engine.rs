//! Rendering a chart as Helm v4's install action renders it: dependencies processed, values
//! coalesced and validated against schemas, every template of the chart tree parsed into one
//! set (deepest first, so a parent's `define` wins), non-partial templates executed in
//! Helm's order, `<no value>` removed, errors worded as Helm words them.

use std::rc::Rc;
use std::sync::OnceLock;

use regex::Regex;

use crate::capabilities::{self, Capabilities, KubeVersion};
use crate::chart::values::{Table, table_entries};
use crate::chart::{Chart, Values, deps, schema};
use crate::funcs;
use crate::template::{Engine, GoError, Scope};
use crate::value::{Entries, MapKind, Value};

/// What to render, as `helm template` / `helm install` options give it.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    pub release_name: String,
    pub namespace: String,
    /// User-supplied values (already merged from value files and `--set`).
    pub values: Values,
    /// `.Capabilities.KubeVersion`; Helm's default when `None`.
    pub kube_version: Option<String>,
    /// API versions added to Helm's default set.
    pub api_versions: Vec<String>,
    pub is_install: bool,
    pub is_upgrade: bool,
    pub revision: i64,
    pub skip_schema_validation: bool,
    /// Bound on the bytes all templates may write in one render.
    pub max_output_bytes: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            release_name: "release-name".into(),
            namespace: "default".into(),
            values: Values::default(),
            kube_version: None,
            api_versions: vec![],
            is_install: true,
            is_upgrade: false,
            revision: 1,
            skip_schema_validation: false,
            max_output_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The output of a render.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rendered {
    /// Every rendered, non-partial template except NOTES.txt files, by template path
    /// (`chart/templates/x.yaml`, `chart/charts/sub/templates/y.yaml`), sorted by path.
    pub manifests: Vec<(String, String)>,
    /// The root chart's rendered NOTES.txt.
    pub notes: Option<String>,
    /// Files of `crds/` directories of the chart tree (not templated).
    pub crds: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// Values that do not coalesce, or `--kube-version` that does not parse.
    #[error("{0}")]
    Values(String),
    /// Values rejected by values.schema.json files.
    #[error(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{0}"
    )]
    Schema(String),
    /// A template that does not parse or fails to execute; Helm's wording.
    #[error("{0}")]
    Template(String),
}

struct Renderable {
    name: String,
    text: Rc<str>,
    /// the chart's top-level map (shared by the chart's templates)
    vals: Rc<crate::value::MapVal>,
    base_path: String,
}

/// The checks `helm install` and `helm template` make that the template engine does not:
/// the chart type is installable, every dependency of Chart.yaml is present in `charts/`,
/// and the chart's `kubeVersion` admits the target Kubernetes version. Helm's wording.
pub fn check_installable(chart: &Chart, opts: &RenderOptions) -> Result<(), RenderError> {
    let ty = chart.metadata.chart_type.as_str();
    if !matches!(ty, "" | "application") {
        return Err(RenderError::Values(format!(
            "{ty} charts are not installable"
        )));
    }
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.name() == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(RenderError::Values(format!(
            "an error occurred while checking for chart dependencies. You may need to run \
             `helm dependency build` to fetch missing dependencies: found in Chart.yaml, but \
             missing in charts/ directory: {}",
            missing.join(", ")
        )));
    }
    let want = chart.metadata.kube_version.as_str();
    if !want.is_empty() {
        let kube = KubeVersion::parse(
            opts.kube_version
                .as_deref()
                .unwrap_or(capabilities::DEFAULT_KUBE_VERSION),
        )
        .map_err(RenderError::Values)?;
        if !crate::funcs::semver::is_compatible_range(want, &kube.version) {
            return Err(RenderError::Values(format!(
                "chart requires kubeVersion: {want} which is incompatible with Kubernetes {}",
                kube.version
            )));
        }
    }
    Ok(())
}

/// Renders `chart` with `opts`.
pub fn render(chart: &Chart, opts: &RenderOptions) -> Result<Rendered, RenderError> {
    crate::deep(|| render_inner(chart, opts))
}

fn render_inner(chart: &Chart, opts: &RenderOptions) -> Result<Rendered, RenderError> {
    let mut chart = chart.clone();
    let user: &Table = &opts.values.0;
    deps::process(&mut chart, user).map_err(RenderError::Values)?;
    let values = deps::coalesce(&chart, user, false).map_err(RenderError::Values)?;
    if !opts.skip_schema_validation {
        let mut report = String::new();
        validate_schemas(&chart, &values, &mut report);
        if !report.is_empty() {
            return Err(RenderError::Schema(report));
        }
    }
    let kube = match &opts.kube_version {
        Some(v) => KubeVersion::parse(v).map_err(RenderError::Values)?,
        None => {
            KubeVersion::parse(capabilities::DEFAULT_KUBE_VERSION).map_err(RenderError::Values)?
        }
    };
    let mut api: Vec<String> = capabilities::DEFAULT_API_VERSIONS
        .iter()
        .map(|s| s.to_string())
        .collect();
    api.extend(opts.api_versions.iter().cloned());
    let caps = Value::Object(Rc::new(Capabilities::new(kube, &api)));

    let mut release = Entries::new();
    release.insert(Rc::from("Name"), Value::str(&opts.release_name));
    release.insert(Rc::from("Namespace"), Value::str(&opts.namespace));
    release.insert(Rc::from("IsUpgrade"), Value::Bool(opts.is_upgrade));
    release.insert(Rc::from("IsInstall"), Value::Bool(opts.is_install));
    release.insert(Rc::from("Revision"), Value::int(opts.revision));
    release.insert(Rc::from("Service"), Value::str("Helm"));
    let release = Value::map(release);

    let root_values = Value::map_of(MapKind::Values, table_entries(&values));
    let mut templates: Vec<Renderable> = vec![];
    collect(
        &chart,
        None,
        &root_values,
        &release,
        &caps,
        "",
        &mut templates,
    );
    let root_name = chart.name().to_string();

    let out = execute(templates, opts.max_output_bytes)?;

    let notes_suffix = "NOTES.txt";
    let root_notes = format!("{root_name}/templates/{notes_suffix}");
    let mut rendered = Rendered::default();
    for (name, text) in out {
        if name.ends_with(notes_suffix) {
            if name == root_notes {
                rendered.notes = Some(text);
            }
            continue;
        }
        rendered.manifests.push((name, text));
    }
    rendered.manifests.sort_by(|a, b| a.0.cmp(&b.0));
    rendered.crds = chart
        .crd_objects(&root_name)
        .into_iter()
        .map(|(n, d)| (n, String::from_utf8_lossy(&d).into_owned()))
        .collect();
    Ok(rendered)
}

fn validate_schemas(chart: &Chart, values: &Table, report: &mut String) {
    if let Some(s) = &chart.schema
        && let Err(e) = schema::validate(s, values)
    {
        report.push_str(&format!("{}:\n{e}", chart.name()));
    }
    for d in &chart.dependencies {
        let sub = match values.get(d.name()) {
            Some(crate::chart::Plain::Map(m)) => m.clone(),
            _ => Table::new(),
        };
        validate_schemas(d, &sub, report);
    }
}

/// Helm's `recAllTpls`: builds each chart's top-level map and lists its templates.
fn collect(
    chart: &Chart,
    parent: Option<&Rc<crate::value::MapVal>>,
    root_values: &Value,
    release: &Value,
    caps: &Value,
    parent_path: &str,
    out: &mut Vec<Renderable>,
) -> Value {
    let is_root = parent.is_none();
    let values = if is_root {
        root_values.clone()
    } else {
        parent
            .and_then(|p| p.get("Values"))
            .and_then(|v| match v {
                Value::Map(m) => m.get(chart.name()),
                _ => None,
            })
            .filter(|v| v.as_table().is_some())
            .map(|v| v.retyped(MapKind::Values))
            .unwrap_or_else(|| Value::map_of(MapKind::Values, Entries::new()))
    };
    let files: Entries = chart
        .files
        .iter()
        .map(|f| {
            (
                Rc::from(f.name.as_str()),
                Value::Bytes(Rc::from(f.data.as_slice())),
            )
        })
        .collect();
    let subcharts = Value::empty_map();
    let mut next = Entries::new();
    next.insert(Rc::from("Chart"), chart.metadata.to_value(is_root));
    next.insert(Rc::from("Files"), Value::map_of(MapKind::Files, files));
    next.insert(Rc::from("Release"), release.clone());
    next.insert(Rc::from("Capabilities"), caps.clone());
    next.insert(Rc::from("Values"), values);
    next.insert(Rc::from("Subcharts"), subcharts.clone());
    let next = Value::map(next);
    let Value::Map(next_map) = &next else {
        return next;
    };
    let full_path = if is_root {
        chart.name().to_string()
    } else {
        format!("{parent_path}/charts/{}", chart.name())
    };
    if let Value::Map(sc) = &subcharts {
        for child in &chart.dependencies {
            let child_next = collect(
                child,
                Some(next_map),
                root_values,
                release,
                caps,
                &full_path,
                out,
            );
            sc.insert(child.name(), child_next);
        }
    }
    for t in &chart.templates {
        if chart.metadata.is_library() && !crate::funcs::paths::base(&t.name).starts_with('_') {
            continue;
        }
        out.push(Renderable {
            name: format!("{full_path}/{}", t.name),
            // one copy, validated at full speed (a lossy conversion only for invalid UTF-8)
            text: match std::str::from_utf8(&t.data) {
                Ok(text) => Rc::from(text),
                Err(_) => Rc::from(String::from_utf8_lossy(&t.data)),
            },
            vals: next_map.clone(),
            base_path: format!("{full_path}/templates"),
        });
    }
    next
}

/// Helm's `sortTemplates`: deeper paths first, then reverse lexical order.
fn sort_templates(t: &mut [Renderable]) {
    // the depth of each path counted once, not in every comparison
    t.sort_by_cached_key(|r| {
        (
            std::cmp::Reverse(r.name.bytes().filter(|&b| b == b'/').count()),
            std::cmp::Reverse(r.name.clone()),
        )
    });
}

fn execute(
    mut templates: Vec<Renderable>,
    limit: usize,
) -> Result<Vec<(String, String)>, RenderError> {
    sort_templates(&mut templates);
    let funcs = funcs::helm_funcs();
    let mut engine = Engine::new(funcs, limit);
    let mut scope = Scope::new("gotpl");
    {
        let has = |n: &str| engine.has_func(n);
        for t in &templates {
            scope
                .parse_shared(&t.name, t.text.clone(), &has)
                .map_err(|e| RenderError::Template(cleanup_parse_error(&t.name, &e.0)))?;
        }
    }
    let mut out = vec![];
    for t in &templates {
        if crate::funcs::paths::base(&t.name).starts_with('_') {
            continue;
        }
        let mut tmpl = Entries::new();
        tmpl.insert(Rc::from("Name"), Value::str(&t.name));
        tmpl.insert(Rc::from("BasePath"), Value::str(&t.base_path));
        t.vals
            .insert("Template", Value::map_of(MapKind::Values, tmpl));
        let text = engine
            .execute(&scope, &t.name, Value::Map(t.vals.clone()))
            .map_err(|e| RenderError::Template(format_exec_error(&t.name, &e)))?;
        out.push((t.name.clone(), text.replace("<no value>", "")));
    }
    Ok(out)
}

/// Helm's `cleanupParseError`.
fn cleanup_parse_error(filename: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({filename}): {err}");
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    )
}

fn warn_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?s)HELM_ERR_START(.*)HELM_ERR_END").expect("static regex"))
}

fn exec_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?s)^template: ([^:\s]+:\d+:\d+): (executing "[^"]*" at <.*?>:) (.*)$"#)
            .expect("static regex")
    })
}

#[derive(PartialEq)]
struct Traceable {
    location: String,
    executed: String,
    message: String,
    raw: String,
}

/// Helm v4's formatting of template execution errors: `required`/`fail` messages with their
/// location; otherwise, when every error in the chain is a template error, a trace of
/// locations; otherwise Go's error text.
pub fn format_exec_error(filename: &str, err: &GoError) -> String {
    let text = err.text();
    if !err.is_exec() {
        return text.to_string();
    }
    let tokens: Vec<&str> = text.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({filename}): {text}");
    }
    if let Some(c) = warn_regex().captures(tokens[2]) {
        return format!("execution error at ({}): {}", tokens[1], &c[1]);
    }
    let mut traces: Vec<Traceable> = vec![];
    for link in &err.links {
        let t = if let Some(c) = exec_regex().captures(link) {
            Traceable {
                location: c[1].to_string(),
                executed: c[2].to_string(),
                message: c[3].to_string(),
                raw: link.clone(),
            }
        } else if link.starts_with("template: ") {
            Traceable {
                location: String::new(),
                executed: String::new(),
                message: link.clone(),
                raw: link.clone(),
            }
        } else {
            return text.to_string();
        };
        if traces.last() != Some(&t) {
            traces.push(t);
        }
    }
    for i in 0..traces.len().saturating_sub(1) {
        let next = traces[i + 1].raw.clone();
        let m = traces[i].message.replace(&next, "");
        traces[i].message = m.trim_end().to_string();
    }
    let mut out = String::new();
    for t in &traces {
        if !t.location.is_empty() {
            out.push_str(&t.location);
            out.push_str("\n  ");
        }
        if !t.executed.is_empty() {
            out.push_str(&t.executed);
            out.push_str("\n    ");
        }
        if !t.message.is_empty() {
            out.push_str(&t.message);
            out.push('\n');
        }
    }
    out.trim().to_string()
}
