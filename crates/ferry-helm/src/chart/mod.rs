//! Charts: loading from a directory or a `.tgz` archive as Helm's loader does (.helmignore,
//! size limits, path checks, subcharts in `charts/` as directories or archives), metadata,
//! values and dependencies.

pub mod deps;
pub mod ignore;
pub mod metadata;
pub mod schema;
pub mod values;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use metadata::{Dependency, Maintainer, Metadata};
pub use values::{Plain, Values};

/// Helm's limit on one file of a chart (`MaxDecompressedFileSize`).
pub const MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;
/// Helm's limit on a whole decompressed chart (`MaxDecompressedChartSize`).
pub const MAX_CHART_SIZE: u64 = 100 * 1024 * 1024;

/// A file of a chart, with its path relative to the chart root (`templates/x.yaml`).
#[derive(Clone, Debug, PartialEq)]
pub struct ChartFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// A loaded chart. Cheap to clone relative to rendering; `Send + Sync`, so it can be cached
/// and rendered from any thread.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub metadata: Metadata,
    pub templates: Vec<ChartFile>,
    /// Default values (values.yaml), as Helm reads them (numbers are float64).
    pub values: Values,
    /// values.schema.json
    pub schema: Option<Vec<u8>>,
    /// Every other file (what `.Files` sees), including `crds/`.
    pub files: Vec<ChartFile>,
    /// Subcharts from `charts/`, sorted by directory or archive name.
    pub dependencies: Vec<Chart>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A chart Helm refuses to load, with Helm's wording.
    #[error("{0}")]
    Invalid(String),
}

impl LoadError {
    fn io(path: &Path, source: std::io::Error) -> LoadError {
        LoadError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn invalid(msg: impl Into<String>) -> LoadError {
    LoadError::Invalid(msg.into())
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The text of a file, invalid UTF-8 replaced (validated at full speed first, as nearly
/// every file is valid).
fn utf8(data: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(data) {
        Ok(text) => text.into(),
        Err(_) => String::from_utf8_lossy(data),
    }
}

fn trim_bom(mut data: Vec<u8>) -> Vec<u8> {
    if data.starts_with(UTF8_BOM) {
        data.drain(..3);
    }
    data
}

impl Chart {
    /// Loads a chart from a directory or a `.tgz` archive.
    pub fn load(path: impl AsRef<Path>) -> Result<Chart, LoadError> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|e| LoadError::io(path, e))?;
        if meta.is_dir() {
            return Chart::load_dir(path);
        }
        let mut f = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
        let mut data = vec![];
        f.by_ref()
            .take(MAX_CHART_SIZE + 1)
            .read_to_end(&mut data)
            .map_err(|e| LoadError::io(path, e))?;
        Chart::load_archive(&data)
    }

    /// Helm's `LoadDir`: walks the directory in lexical order, applying `.helmignore`.
    pub fn load_dir(dir: &Path) -> Result<Chart, LoadError> {
        let mut rules = match std::fs::read_to_string(dir.join(".helmignore")) {
            Ok(text) => ignore::Rules::parse(&text).map_err(invalid)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ignore::Rules::default(),
            Err(e) => return Err(LoadError::io(&dir.join(".helmignore"), e)),
        };
        rules.add_defaults();
        let mut files = vec![];
        let mut total = 0u64;
        walk(dir, dir, &rules, &mut files, &mut total, 0)?;
        Chart::load_files(files)
    }

    /// Helm's `LoadArchive`: a gzipped tar whose entries sit under one top directory.
    pub fn load_archive(data: &[u8]) -> Result<Chart, LoadError> {
        let gz = flate2::read::GzDecoder::new(data);
        let mut tar = tar::Archive::new(gz);
        let mut files = vec![];
        let mut remaining = MAX_CHART_SIZE as i64;
        let entries = tar
            .entries()
            .map_err(|e| invalid(format!("reading chart archive: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| invalid(format!("reading chart archive: {e}")))?;
            let kind = entry.header().entry_type();
            if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
                continue;
            }
            if kind.is_gnu_longname() || kind.is_gnu_longlink() {
                continue;
            }
            let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let delim = if raw_name.contains('\\') { '\\' } else { '/' };
            let parts: Vec<&str> = raw_name.split(delim).collect();
            let n = parts[1..].join("/");
            if n.starts_with('/') {
                return Err(invalid("chart illegally contains absolute paths"));
            }
            let n = crate::funcs::paths::clean(&n);
            if n == "." {
                return Err(invalid(format!(
                    "chart illegally contains content outside the base directory: {}",
                    crate::gofmt::quote(&raw_name)
                )));
            }
            if n.starts_with("..") {
                return Err(invalid("chart illegally references parent directory"));
            }
            let b = n.as_bytes();
            if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
                return Err(invalid("chart contains illegally named files"));
            }
            if parts[0] == "Chart.yaml" {
                return Err(invalid("chart yaml not in base directory"));
            }
            let size = entry.header().size().unwrap_or(0);
            if size as i64 > remaining {
                return Err(invalid(format!(
                    "decompressed chart is larger than the maximum size {MAX_CHART_SIZE}"
                )));
            }
            if size > MAX_FILE_SIZE {
                return Err(invalid(format!(
                    "decompressed chart file {} is larger than the maximum file size {MAX_FILE_SIZE}",
                    crate::gofmt::quote(&raw_name)
                )));
            }
            let mut buf = vec![];
            let read = entry
                .by_ref()
                .take(remaining.max(0) as u64)
                .read_to_end(&mut buf)
                .map_err(|e| invalid(format!("reading chart archive: {e}")))?;
            remaining -= read as i64;
            if (read as u64) < size || remaining <= 0 {
                return Err(invalid(format!(
                    "decompressed chart is larger than the maximum size {MAX_CHART_SIZE}"
                )));
            }
            files.push(ChartFile {
                name: n,
                data: trim_bom(buf),
            });
        }
        if files.is_empty() {
            return Err(invalid("no files in chart archive"));
        }
        Chart::load_files(files)
    }

    /// Helm's `LoadFiles`: sorts the files of a chart into metadata, values, templates,
    /// subcharts and other files.
    pub fn load_files(files: Vec<ChartFile>) -> Result<Chart, LoadError> {
        crate::deep(|| Chart::load_files_inner(files))
    }

    fn load_files_inner(files: Vec<ChartFile>) -> Result<Chart, LoadError> {
        let mut metadata: Option<Metadata> = None;
        for f in &files {
            if f.name == "Chart.yaml" {
                let mut m = Metadata::parse(&utf8(&f.data))
                    .map_err(|e| invalid(format!("cannot load Chart.yaml: {e}")))?;
                if m.api_version.is_empty() {
                    m.api_version = "v1".into();
                }
                metadata = Some(m);
            }
        }
        let mut chart = Chart {
            metadata: metadata.clone().unwrap_or_default(),
            templates: vec![],
            values: Values::default(),
            schema: None,
            files: vec![],
            dependencies: vec![],
        };
        let mut subcharts: std::collections::BTreeMap<String, Vec<ChartFile>> = Default::default();
        for f in files {
            match f.name.as_str() {
                "Chart.yaml" | "Chart.lock" => {}
                "values.yaml" => {
                    chart.values = Values::load(&utf8(&f.data))
                        .map_err(|e| invalid(format!("cannot load values.yaml: {e}")))?;
                }
                "values.schema.json" => chart.schema = Some(f.data),
                "requirements.yaml" => {
                    let doc = crate::yaml::parse::parse_first(&String::from_utf8_lossy(&f.data))
                        .map_err(|e| {
                            invalid(format!(
                                "cannot load requirements.yaml: error converting YAML to JSON: {}",
                                e.0
                            ))
                        })?
                        .unwrap_or(crate::yaml::Node::Map(vec![]));
                    if let Some(deps) = metadata::dependencies_of(&doc)
                        .map_err(|e| invalid(format!("cannot load requirements.yaml: {e}")))?
                    {
                        chart.metadata.dependencies = deps;
                    }
                    if chart.metadata.api_version == "v1" {
                        chart.files.push(f);
                    }
                }
                "requirements.lock" => {
                    if chart.metadata.api_version == "v1" {
                        chart.files.push(f);
                    }
                }
                n if n.starts_with("templates/") => chart.templates.push(f),
                n if n.starts_with("charts/") => {
                    if n.ends_with(".prov") {
                        chart.files.push(f);
                        continue;
                    }
                    let fname = n["charts/".len()..].to_string();
                    let cname = fname.split('/').next().unwrap_or("").to_string();
                    subcharts.entry(cname).or_default().push(ChartFile {
                        name: fname,
                        data: f.data,
                    });
                }
                _ => chart.files.push(f),
            }
        }
        if metadata.is_none() {
            return Err(invalid("Chart.yaml file is missing"));
        }
        chart.metadata.validate().map_err(invalid)?;
        for (n, files) in subcharts {
            if n.starts_with('_') || n.starts_with('.') {
                continue;
            }
            let sub = if n.ends_with(".tgz") {
                let Some(file) = files.into_iter().next() else {
                    continue;
                };
                if file.name != n {
                    return Err(invalid(format!(
                        "error unpacking subchart tar in {}: expected {n}, got {}",
                        chart.metadata.name, file.name
                    )));
                }
                Chart::load_archive(&file.data)
            } else {
                let buff: Vec<ChartFile> = files
                    .into_iter()
                    .filter_map(|f| {
                        let (_, rest) = f.name.split_once('/')?;
                        Some(ChartFile {
                            name: rest.to_string(),
                            data: f.data,
                        })
                    })
                    .collect();
                Chart::load_files(buff)
            };
            let sub = sub.map_err(|e| {
                invalid(format!(
                    "error unpacking subchart {n} in {}: {e}",
                    chart.metadata.name
                ))
            })?;
            chart.dependencies.push(sub);
        }
        Ok(chart)
    }

    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// CRD files of this chart and its subcharts (`crds/*.yaml|yml|json`), as
    /// (path under the chart's full path, contents).
    pub fn crd_objects(&self, full_path: &str) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![];
        for f in &self.files {
            let ext = crate::funcs::paths::ext(&f.name);
            if f.name.starts_with("crds/") && matches!(ext.as_str(), ".yaml" | ".yml" | ".json") {
                out.push((format!("{full_path}/{}", f.name), f.data.clone()));
            }
        }
        for d in &self.dependencies {
            out.extend(d.crd_objects(&format!("{full_path}/charts/{}", d.name())));
        }
        out
    }
}

fn walk(
    root: &Path,
    dir: &Path,
    rules: &ignore::Rules,
    files: &mut Vec<ChartFile>,
    total: &mut u64,
    depth: usize,
) -> Result<(), LoadError> {
    if depth > 64 {
        return Err(invalid(format!(
            "{}: directory nesting too deep",
            dir.display()
        )));
    }
    // The file type comes with the directory entry (no stat per entry); only symbolic links,
    // which Helm's sympath.Walk follows, are stat'ed.
    let mut entries: Vec<(std::ffi::OsString, PathBuf, std::fs::FileType)> = vec![];
    for entry in std::fs::read_dir(dir).map_err(|e| LoadError::io(dir, e))? {
        let entry = entry.map_err(|e| LoadError::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| LoadError::io(&path, e))?;
        entries.push((entry.file_name(), path, kind));
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (file_name, path, kind) in entries {
        let rel = path
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let (is_dir, is_file) = if kind.is_symlink() {
            let meta = std::fs::metadata(&path).map_err(|e| LoadError::io(&path, e))?;
            (meta.is_dir(), meta.is_file())
        } else {
            (kind.is_dir(), kind.is_file())
        };
        if is_dir {
            if rules.ignore(&rel, true) {
                continue;
            }
            walk(root, &path, rules, files, total, depth + 1)?;
            continue;
        }
        if rules.ignore(&rel, false) {
            continue;
        }
        if !is_file {
            return Err(invalid(format!(
                "cannot load irregular file {} as it has file mode type bits set",
                path.display()
            )));
        }
        let mut file = std::fs::File::open(&path).map_err(|e| LoadError::io(&path, e))?;
        let len = file.metadata().map_err(|e| LoadError::io(&path, e))?.len();
        if len > MAX_FILE_SIZE {
            return Err(invalid(format!(
                "chart file {} is larger than the maximum file size {MAX_FILE_SIZE}",
                crate::gofmt::quote(&file_name.to_string_lossy())
            )));
        }
        *total += len;
        if *total > MAX_CHART_SIZE {
            return Err(invalid(format!(
                "chart is larger than the maximum size {MAX_CHART_SIZE}"
            )));
        }
        let mut data = Vec::with_capacity(len as usize + 1);
        file.by_ref()
            .take(MAX_FILE_SIZE + 1)
            .read_to_end(&mut data)
            .map_err(|e| LoadError::io(&path, e))?;
        files.push(ChartFile {
            name: rel,
            data: trim_bom(data),
        });
    }
    Ok(())
}
