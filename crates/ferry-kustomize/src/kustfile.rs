//! The kustomization file: finding it, reading it as kustomize does (sigs.k8s.io/yaml, i.e.
//! YAML 1.1 scalars, unknown fields rejected, scalars accepted where strings are expected), and
//! kustomize's fix-ups of deprecated fields.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::parsed::ParseCache;

pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];
pub const KUSTOMIZATION_API_VERSION: &str = "kustomize.config.k8s.io/v1beta1";
pub const COMPONENT_API_VERSION: &str = "kustomize.config.k8s.io/v1alpha1";

#[derive(Debug, thiserror::Error)]
pub enum KustFileError {
    #[error(
        "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'",
        dir.display()
    )]
    Missing { dir: PathBuf },
    #[error("Found multiple kustomization files under: {}", dir.display())]
    Multiple { dir: PathBuf },
    #[error("reading '{}': {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Yaml {
        path: PathBuf,
        source: ferry_yaml::Error,
    },
    #[error("invalid Kustomization: {message} (in '{}')", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("apiVersion for Component should be {COMPONENT_API_VERSION} (in '{}')", path.display())]
    ComponentApiVersion { path: PathBuf },
    #[error("apiVersion for Kustomization should be {KUSTOMIZATION_API_VERSION} (in '{}')", path.display())]
    KustomizationApiVersion { path: PathBuf },
    #[error("kind should be Kustomization or Component, not '{kind}' (in '{}')", path.display())]
    Kind { path: PathBuf, kind: String },
}

/// Find the kustomization file of a directory.
pub fn find(dir: &Path) -> Result<PathBuf, KustFileError> {
    let mut found = Vec::new();
    for name in KUSTOMIZATION_FILE_NAMES {
        let p = dir.join(name);
        if p.is_file() {
            found.push(p);
        }
    }
    match found.len() {
        0 => Err(KustFileError::Missing {
            dir: dir.to_path_buf(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(KustFileError::Multiple {
            dir: dir.to_path_buf(),
        }),
    }
}

/// Read and check the kustomization of `dir`, finding its parse in `parsed` when its text was
/// parsed before.
pub fn load(dir: &Path, parsed: Option<&ParseCache>) -> Result<Kustomization, KustFileError> {
    load_file_with(&find(dir)?, parsed)
}

/// Read and check the kustomization file [`find`] found.
pub fn load_file(path: &Path) -> Result<Kustomization, KustFileError> {
    load_file_with(path, None)
}

/// [`load_file`], finding the parse in `parsed` when its text was parsed before.
pub(crate) fn load_file_with(
    path: &Path,
    parsed: Option<&ParseCache>,
) -> Result<Kustomization, KustFileError> {
    let bytes = std::fs::read(path).map_err(|source| KustFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    match parsed {
        Some(cache) => cache.kustomization(&text, path),
        None => parse(&text, path),
    }
}

/// Parse kustomization text; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Kustomization, KustFileError> {
    from_canonical(canonical(text, path)?, path)
}

/// The text as a JSON value with kustomize's field names (what [`parse`] decodes).
pub(crate) fn canonical(text: &str, path: &Path) -> Result<Value, KustFileError> {
    let value =
        ferry_yaml::from_str_with(text, &ferry_yaml::Options::YAML11).map_err(|source| {
            KustFileError::Yaml {
                path: path.to_path_buf(),
                source,
            }
        })?;
    Ok(if value.is_null() {
        Value::Object(Default::default())
    } else {
        canonical_keys(value, KUSTOMIZATION_FIELDS)
    })
}

/// Decodes and checks a value [`canonical`] made.
pub(crate) fn from_canonical(value: Value, path: &Path) -> Result<Kustomization, KustFileError> {
    let k = serde_json::from_value(value).map_err(|e| KustFileError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    fixed(k, path)
}

/// [`from_canonical`] of that value's JSON text.
pub(crate) fn from_canonical_json(json: &str, path: &Path) -> Result<Kustomization, KustFileError> {
    let k = serde_json::from_str(json).map_err(|e| KustFileError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    fixed(k, path)
}

fn fixed(mut k: Kustomization, path: &Path) -> Result<Kustomization, KustFileError> {
    k.fix(path)?;
    Ok(k)
}

/// Field names of a kustomization and of the structures inside it. kustomize decodes the file
/// with encoding/json, which matches field names case-insensitively (`nameprefix` works).
const KUSTOMIZATION_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "openapi",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "imageTags",
    "replacements",
    "replicas",
    "vars",
    "sortOptions",
    "resources",
    "components",
    "crds",
    "bases",
    "configMapGenerator",
    "secretGenerator",
    "helmGlobals",
    "helmCharts",
    "helmChartInflationGenerator",
    "generatorOptions",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
    "inventory",
];

/// Rename keys that match a known field case-insensitively to the field's spelling.
fn canonical_keys(v: Value, fields: &[&str]) -> Value {
    let Value::Object(m) = v else { return v };
    let mut out = serde_json::Map::new();
    for (k, v) in m {
        let key = fields
            .iter()
            .find(|f| f.eq_ignore_ascii_case(&k))
            .map_or(k, |f| (*f).to_string());
        out.insert(key, v);
    }
    Value::Object(out)
}

/// Go's name for a JSON value's type, as in "cannot unmarshal number into ...".
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A string field. kustomize decodes its file as JSON, so a YAML number or boolean where a
/// string is expected is an error (quote it); null leaves the field empty.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn type_error<E: serde::de::Error>(v: &Value) -> E {
    E::custom(format!(
        "json: cannot unmarshal {} into a field of type string",
        json_type(v)
    ))
}

pub fn de_str<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    scalar_text(&v).ok_or_else(|| type_error(&v))
}

pub fn de_str_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a
            .iter()
            .map(|v| scalar_text(v).ok_or_else(|| type_error(v)))
            .collect(),
        v => Err(serde::de::Error::custom(format!(
            "expected a list of strings, got {v}"
        ))),
    }
}

pub fn de_str_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                scalar_text(v)
                    .map(|s| (k.clone(), s))
                    .ok_or_else(|| type_error(v))
            })
            .collect(),
        v => Err(serde::de::Error::custom(format!("expected a map, got {v}"))),
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Kustomization {
    #[serde(default, deserialize_with = "de_str")]
    pub api_version: String,
    #[serde(default, deserialize_with = "de_str")]
    pub kind: String,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default, rename = "openapi", deserialize_with = "de_str_map")]
    pub openapi: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "de_str")]
    pub name_prefix: String,
    #[serde(default, deserialize_with = "de_str")]
    pub name_suffix: String,
    #[serde(default, deserialize_with = "de_str")]
    pub namespace: String,
    #[serde(default, deserialize_with = "de_str_map")]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default, deserialize_with = "de_str_map")]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub patches_strategic_merge: Vec<Value>,
    #[serde(default, rename = "patchesJson6902")]
    pub patches_json6902: Vec<Patch>,
    #[serde(default)]
    pub patches: Vec<Patch>,
    #[serde(default)]
    pub images: Vec<Image>,
    #[serde(default)]
    pub image_tags: Vec<Image>,
    #[serde(default)]
    pub replacements: Vec<ReplacementField>,
    #[serde(default)]
    pub replicas: Vec<Replica>,
    #[serde(default)]
    pub vars: Vec<Var>,
    #[serde(default)]
    pub sort_options: Option<SortOptions>,
    #[serde(default, deserialize_with = "de_str_vec")]
    pub resources: Vec<String>,
    #[serde(default, deserialize_with = "de_str_vec")]
    pub components: Vec<String>,
    #[serde(default, deserialize_with = "de_str_vec")]
    pub crds: Vec<String>,
    #[serde(default, deserialize_with = "de_str_vec")]
    pub bases: Vec<String>,
    #[serde(default)]
    pub config_map_generator: Vec<GeneratorArgs>,
    #[serde(default)]
    pub secret_generator: Vec<GeneratorArgs>,
    #[serde(default)]
    pub helm_globals: Option<Value>,
    #[serde(default)]
    pub helm_charts: Vec<Value>,
    #[serde(default)]
    pub helm_chart_inflation_generator: Vec<Value>,
    #[serde(default)]
    pub generator_options: Option<GeneratorOptions>,
    #[serde(default, deserialize_with = "de_str_vec")]
    pub configurations: Vec<String>,
    #[serde(default)]
    pub generators: Vec<Value>,
    #[serde(default)]
    pub transformers: Vec<Value>,
    #[serde(default)]
    pub validators: Vec<Value>,
    #[serde(default, deserialize_with = "de_str_vec")]
    pub build_metadata: Vec<String>,
    #[serde(default)]
    pub inventory: Option<Value>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldSpec {
    #[serde(default, deserialize_with = "de_str")]
    pub group: String,
    #[serde(default, deserialize_with = "de_str")]
    pub version: String,
    #[serde(default, deserialize_with = "de_str")]
    pub kind: String,
    #[serde(default, deserialize_with = "de_str")]
    pub path: String,
    #[serde(default, rename = "create")]
    pub create: bool,
    /// Only in the namespace table of older configs; kept so such configs parse.
    #[serde(default)]
    pub skip: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Label {
    #[serde(default, deserialize_with = "de_str_map")]
    pub pairs: BTreeMap<String, String>,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
    #[serde(default)]
    pub include_volume_claim_templates: bool,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
}

/// A patch target selector.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Selector {
    #[serde(default, deserialize_with = "de_str")]
    pub group: String,
    #[serde(default, deserialize_with = "de_str")]
    pub version: String,
    #[serde(default, deserialize_with = "de_str")]
    pub kind: String,
    #[serde(default, deserialize_with = "de_str")]
    pub name: String,
    #[serde(default, deserialize_with = "de_str")]
    pub namespace: String,
    #[serde(default, deserialize_with = "de_str")]
    pub label_selector: String,
    #[serde(default, deserialize_with = "de_str")]
    pub annotation_selector: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Patch {
    #[serde(default, deserialize_with = "de_str")]
    pub path: String,
    #[serde(default, deserialize_with = "de_str")]
    pub patch: String,
    #[serde(default)]
    pub target: Option<Selector>,
    #[serde(default)]
    pub options: BTreeMap<String, bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Image {
    #[serde(default, deserialize_with = "de_str")]
    pub name: String,
    #[serde(default, deserialize_with = "de_str")]
    pub new_name: String,
    #[serde(default, deserialize_with = "de_str")]
    pub new_tag: String,
    #[serde(default, deserialize_with = "de_str")]
    pub digest: String,
    #[serde(default, deserialize_with = "de_str")]
    pub tag_suffix: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Replica {
    #[serde(default, deserialize_with = "de_str")]
    pub name: String,
    #[serde(default)]
    pub count: i64,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjRef {
    #[serde(default, deserialize_with = "de_str")]
    pub api_version: String,
    #[serde(default, deserialize_with = "de_str")]
    pub group: String,
    #[serde(default, deserialize_with = "de_str")]
    pub version: String,
    #[serde(default, deserialize_with = "de_str")]
    pub kind: String,
    #[serde(default, deserialize_with = "de_str")]
    pub name: String,
    #[serde(default, deserialize_with = "de_str")]
    pub namespace: String,
    #[serde(default, deserialize_with = "de_str")]
    pub field_path: String,
}

impl ObjRef {
    pub fn gvk(&self) -> crate::resid::Gvk {
        if self.api_version.is_empty() {
            crate::resid::Gvk::new(&self.group, &self.version, &self.kind)
        } else {
            crate::resid::Gvk::from_api_version(&self.api_version, &self.kind)
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldRef {
    #[serde(
        default,
        rename = "fieldpath",
        alias = "fieldPath",
        deserialize_with = "de_str"
    )]
    pub field_path: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Var {
    #[serde(default, deserialize_with = "de_str")]
    pub name: String,
    #[serde(default)]
    pub objref: ObjRef,
    #[serde(default)]
    pub fieldref: FieldRef,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LegacySortOptions {
    #[serde(default, deserialize_with = "de_str_vec")]
    pub order_first: Vec<String>,
    #[serde(default, deserialize_with = "de_str_vec")]
    pub order_last: Vec<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SortOptions {
    #[serde(default, deserialize_with = "de_str")]
    pub order: String,
    #[serde(default)]
    pub legacy_sort_options: Option<LegacySortOptions>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratorOptions {
    #[serde(default, deserialize_with = "de_str_map")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "de_str_map")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub disable_name_suffix_hash: Option<bool>,
    #[serde(default)]
    pub immutable: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratorArgs {
    #[serde(default, deserialize_with = "de_str")]
    pub namespace: String,
    #[serde(default, deserialize_with = "de_str")]
    pub name: String,
    #[serde(default, deserialize_with = "de_str")]
    pub behavior: String,
    #[serde(default)]
    pub options: Option<GeneratorOptions>,
    #[serde(default, deserialize_with = "de_str_vec")]
    pub literals: Vec<String>,
    #[serde(default, deserialize_with = "de_str_vec")]
    pub files: Vec<String>,
    #[serde(default, deserialize_with = "de_str_vec")]
    pub envs: Vec<String>,
    #[serde(default, deserialize_with = "de_str")]
    pub env: String,
    /// Secrets only.
    #[serde(default, rename = "type", deserialize_with = "de_str")]
    pub secret_type: String,
}

/// A `replacements:` entry: a file path, or a replacement written inline.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReplacementField {
    #[serde(default, deserialize_with = "de_str")]
    pub path: String,
    #[serde(default)]
    pub source: Option<Value>,
    #[serde(default)]
    pub targets: Option<Value>,
}

impl Kustomization {
    /// kustomize's FixKustomization: defaults and deprecated-field migrations.
    fn fix(&mut self, path: &Path) -> Result<(), KustFileError> {
        match self.kind.as_str() {
            "" => self.kind = "Kustomization".into(),
            "Kustomization" => {}
            "Component" => {}
            other => {
                return Err(KustFileError::Kind {
                    path: path.to_path_buf(),
                    kind: other.to_string(),
                });
            }
        }
        if self.kind == "Component" {
            if !self.api_version.is_empty() && self.api_version != COMPONENT_API_VERSION {
                return Err(KustFileError::ComponentApiVersion {
                    path: path.to_path_buf(),
                });
            }
        } else if !self.api_version.is_empty() && self.api_version != KUSTOMIZATION_API_VERSION {
            return Err(KustFileError::KustomizationApiVersion {
                path: path.to_path_buf(),
            });
        }
        let bases = std::mem::take(&mut self.bases);
        self.resources.extend(bases);
        let tags = std::mem::take(&mut self.image_tags);
        self.images.extend(tags);
        for g in self
            .config_map_generator
            .iter_mut()
            .chain(self.secret_generator.iter_mut())
        {
            if !g.env.is_empty() {
                let env = std::mem::take(&mut g.env);
                g.envs.push(env);
            }
        }
        Ok(())
    }

    pub fn is_component(&self) -> bool {
        self.kind == "Component"
    }
}
