//! Chart.yaml (and the v1 requirements.yaml) decoded as Helm decodes them: sigs.k8s.io/yaml
//! into Go structs, so scalars bound for string fields are converted (`appVersion: 1.10`
//! becomes "1.1"), keys match field names case-insensitively, unknown keys are ignored.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::value::{Entries, MapKind, Value};
use crate::yaml::{self, Node};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// How a dependency's `import-values` entry was written.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportValue {
    /// `- data` (imports `exports.data`)
    Name(String),
    /// `- child: a.b` / `parent: c`
    Map { child: String, parent: String },
    /// what Helm keeps after processing: a `map[string]string`
    Processed { child: String, parent: String },
    /// anything else (ignored by Helm, kept in .Chart)
    Other,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub import_values: Vec<ImportValue>,
    pub alias: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    pub annotations: Option<BTreeMap<String, String>>,
    pub kube_version: String,
    pub dependencies: Vec<Dependency>,
    pub chart_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

fn type_err(got: &Node, field: &str, go_type: &str) -> DecodeError {
    let kind = match got {
        Node::Map(_) => "object",
        Node::Seq(_) => "array",
        Node::Bool(_) => "bool",
        Node::Str(_) | Node::Binary(_) => "string",
        _ => "number",
    };
    DecodeError(format!(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go struct field {field} of type {go_type}"
    ))
}

/// sigs.k8s.io/yaml's coercion of a scalar into a string field.
fn string_field(n: &Node, field: &str) -> Result<String, DecodeError> {
    Ok(match n {
        Node::Null => String::new(),
        Node::Str(s) => s.clone(),
        Node::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        Node::Int(i) => i.to_string(),
        Node::Uint(u) => u.to_string(),
        Node::Float(f) => crate::gofmt::format_float_bits(*f, 'g', -1, 32),
        Node::Bool(b) => b.to_string(),
        other => return Err(type_err(other, field, "string")),
    })
}

fn bool_field(n: &Node, field: &str) -> Result<bool, DecodeError> {
    match n {
        Node::Null => Ok(false),
        Node::Bool(b) => Ok(*b),
        other => Err(type_err(other, field, "bool")),
    }
}

fn string_list(n: &Node, field: &str) -> Result<Vec<String>, DecodeError> {
    match n {
        Node::Null => Ok(vec![]),
        Node::Seq(items) => items.iter().map(|i| string_field(i, field)).collect(),
        other => Err(type_err(other, field, "[]string")),
    }
}

/// Looks a field up as encoding/json does: exact name first, then case-insensitively.
fn lookup<'a>(pairs: &'a [(Node, Node)], name: &str) -> Option<&'a Node> {
    let mut exact = None;
    let mut folded = None;
    for (k, v) in pairs {
        if let Node::Str(k) = k {
            if k == name {
                exact = Some(v);
            } else if k.eq_ignore_ascii_case(name) {
                folded = Some(v);
            }
        }
    }
    exact.or(folded)
}

fn as_map<'a>(n: &'a Node, what: &str) -> Result<&'a [(Node, Node)], DecodeError> {
    match n {
        Node::Map(p) => Ok(p),
        Node::Null => Ok(&[]),
        other => Err(type_err(other, what, what)),
    }
}

fn maintainer(n: &Node) -> Result<Maintainer, DecodeError> {
    let p = as_map(n, "chart.Maintainer")?;
    let f = |name: &str| -> Result<String, DecodeError> {
        lookup(p, name)
            .map(|v| string_field(v, &format!("Maintainer.{name}")))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    Ok(Maintainer {
        name: f("name")?,
        email: f("email")?,
        url: f("url")?,
    })
}

fn import_value(n: &Node) -> ImportValue {
    match n {
        Node::Str(s) => ImportValue::Name(s.clone()),
        Node::Map(p) => {
            let get = |k: &str| match lookup(p, k) {
                Some(Node::Str(s)) => Some(s.clone()),
                _ => None,
            };
            match (get("child"), get("parent")) {
                (Some(child), Some(parent)) => ImportValue::Map { child, parent },
                _ => ImportValue::Other,
            }
        }
        _ => ImportValue::Other,
    }
}

fn dependency(n: &Node) -> Result<Dependency, DecodeError> {
    let p = as_map(n, "chart.Dependency")?;
    let f = |name: &str| -> Result<String, DecodeError> {
        lookup(p, name)
            .map(|v| string_field(v, &format!("Dependency.{name}")))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    Ok(Dependency {
        name: f("name")?,
        version: f("version")?,
        repository: f("repository")?,
        condition: f("condition")?,
        tags: lookup(p, "tags")
            .map(|v| string_list(v, "Dependency.tags"))
            .transpose()?
            .unwrap_or_default(),
        enabled: lookup(p, "enabled")
            .map(|v| bool_field(v, "Dependency.enabled"))
            .transpose()?
            .unwrap_or(false),
        import_values: match lookup(p, "import-values") {
            Some(Node::Seq(items)) => items.iter().map(import_value).collect(),
            Some(Node::Null) | None => vec![],
            Some(other) => {
                return Err(type_err(
                    other,
                    "Dependency.import-values",
                    "[]interface {}",
                ));
            }
        },
        alias: f("alias")?,
    })
}

/// Parses `dependencies:` from a document (Chart.yaml or requirements.yaml).
pub fn dependencies_of(doc: &Node) -> Result<Option<Vec<Dependency>>, DecodeError> {
    let p = as_map(doc, "chart.Metadata")?;
    match lookup(p, "dependencies") {
        None | Some(Node::Null) => Ok(None),
        Some(Node::Seq(items)) => Ok(Some(
            items.iter().map(dependency).collect::<Result<_, _>>()?,
        )),
        Some(other) => Err(type_err(
            other,
            "Metadata.dependencies",
            "[]*chart.Dependency",
        )),
    }
}

impl Metadata {
    /// Decodes Chart.yaml text.
    pub fn parse(text: &str) -> Result<Metadata, DecodeError> {
        let doc = yaml::parse::parse_first(text)
            .map_err(|e| DecodeError(format!("error converting YAML to JSON: {}", e.0)))?
            .unwrap_or(Node::Map(vec![]));
        let p = as_map(&doc, "chart.Metadata")?;
        let f = |name: &str| -> Result<String, DecodeError> {
            lookup(p, name)
                .map(|v| string_field(v, &format!("Metadata.{name}")))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let annotations = match lookup(p, "annotations") {
            None | Some(Node::Null) => None,
            Some(Node::Map(pairs)) => {
                let mut m = BTreeMap::new();
                for (k, v) in pairs {
                    let k = yaml::key_string(k).map_err(|e| DecodeError(e.0))?;
                    m.insert(k, string_field(v, "Metadata.annotations")?);
                }
                Some(m)
            }
            Some(other) => {
                return Err(type_err(other, "Metadata.annotations", "map[string]string"));
            }
        };
        Ok(Metadata {
            name: f("name")?,
            home: f("home")?,
            sources: lookup(p, "sources")
                .map(|v| string_list(v, "Metadata.sources"))
                .transpose()?
                .unwrap_or_default(),
            version: f("version")?,
            description: f("description")?,
            keywords: lookup(p, "keywords")
                .map(|v| string_list(v, "Metadata.keywords"))
                .transpose()?
                .unwrap_or_default(),
            maintainers: match lookup(p, "maintainers") {
                None | Some(Node::Null) => vec![],
                Some(Node::Seq(items)) => items.iter().map(maintainer).collect::<Result<_, _>>()?,
                Some(other) => {
                    return Err(type_err(
                        other,
                        "Metadata.maintainers",
                        "[]*chart.Maintainer",
                    ));
                }
            },
            icon: f("icon")?,
            api_version: f("apiVersion")?,
            condition: f("condition")?,
            tags: f("tags")?,
            app_version: f("appVersion")?,
            deprecated: lookup(p, "deprecated")
                .map(|v| bool_field(v, "Metadata.deprecated"))
                .transpose()?
                .unwrap_or(false),
            annotations,
            kube_version: f("kubeVersion")?,
            dependencies: dependencies_of(&doc)?.unwrap_or_default(),
            chart_type: f("type")?,
        })
    }

    /// Helm's `Metadata.Validate` (which also sanitizes text fields).
    pub fn validate(&mut self) -> Result<(), String> {
        let sanitize = |s: &str| -> String {
            s.chars()
                .filter_map(|c| {
                    if c.is_whitespace() {
                        Some(' ')
                    } else if crate::gofmt::is_print(c) {
                        Some(c)
                    } else {
                        None
                    }
                })
                .collect()
        };
        self.name = sanitize(&self.name);
        self.description = sanitize(&self.description);
        self.home = sanitize(&self.home);
        self.icon = sanitize(&self.icon);
        self.condition = sanitize(&self.condition);
        self.tags = sanitize(&self.tags);
        self.app_version = sanitize(&self.app_version);
        self.kube_version = sanitize(&self.kube_version);
        for s in self.sources.iter_mut().chain(self.keywords.iter_mut()) {
            *s = sanitize(s);
        }
        let v = |m: String| format!("validation: {m}");
        if self.api_version.is_empty() {
            return Err(v("chart.metadata.apiVersion is required".into()));
        }
        if self.name.is_empty() {
            return Err(v("chart.metadata.name is required".into()));
        }
        if self.name != crate::funcs::paths::base(&self.name) {
            return Err(v(format!(
                "chart.metadata.name {} is invalid",
                crate::gofmt::quote(&self.name)
            )));
        }
        if self.version.is_empty() {
            return Err(v("chart.metadata.version is required".into()));
        }
        if crate::funcs::semver::Version::parse(&self.version).is_err() {
            return Err(v(format!(
                "chart.metadata.version {} is invalid",
                crate::gofmt::quote(&self.version)
            )));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return Err(v(
                "chart.metadata.type must be application or library".into()
            ));
        }
        for m in &mut self.maintainers {
            m.name = sanitize(&m.name);
            m.email = sanitize(&m.email);
            m.url = sanitize(&m.url);
        }
        let mut seen = std::collections::BTreeSet::new();
        for d in &mut self.dependencies {
            d.name = sanitize(&d.name);
            d.version = sanitize(&d.version);
            d.repository = sanitize(&d.repository);
            d.alias = sanitize(&d.alias);
            d.condition = sanitize(&d.condition);
            if !d.alias.is_empty()
                && !d
                    .alias
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(v(format!(
                    "dependency {} has disallowed characters in the alias",
                    crate::gofmt::quote(&d.name)
                )));
            }
            let key = if d.alias.is_empty() {
                d.name.clone()
            } else {
                d.alias.clone()
            };
            if !seen.insert(key.clone()) {
                return Err(v(format!(
                    "more than one dependency with name or alias {}",
                    crate::gofmt::quote(&key)
                )));
            }
        }
        Ok(())
    }

    pub fn is_library(&self) -> bool {
        self.chart_type == "library"
    }

    /// `.Chart` as Helm v4 gives it to templates: a map of the metadata fields and `IsRoot`.
    pub fn to_value(&self, is_root: bool) -> Value {
        let s = |x: &str| Value::str(x);
        let strs = |v: &[String]| Value::list(v.iter().map(|x| Value::str(x)).collect());
        let mut e = Entries::new();
        let mut put = |k: &str, v: Value| {
            e.insert(Rc::from(k), v);
        };
        put("APIVersion", s(&self.api_version));
        put(
            "Annotations",
            match &self.annotations {
                None => Value::nil_map(MapKind::Str),
                Some(a) => Value::map_of(
                    MapKind::Str,
                    a.iter()
                        .map(|(k, v)| (Rc::from(k.as_str()), Value::str(v)))
                        .collect(),
                ),
            },
        );
        put("AppVersion", s(&self.app_version));
        put("Condition", s(&self.condition));
        put(
            "Dependencies",
            Value::list(self.dependencies.iter().map(dependency_value).collect()),
        );
        put("Deprecated", Value::Bool(self.deprecated));
        put("Description", s(&self.description));
        put("Home", s(&self.home));
        put("Icon", s(&self.icon));
        put("IsRoot", Value::Bool(is_root));
        put("Keywords", strs(&self.keywords));
        put("KubeVersion", s(&self.kube_version));
        put(
            "Maintainers",
            Value::list(
                self.maintainers
                    .iter()
                    .map(|m| {
                        let mut me = Entries::new();
                        me.insert(Rc::from("Email"), s(&m.email));
                        me.insert(Rc::from("Name"), s(&m.name));
                        me.insert(Rc::from("URL"), s(&m.url));
                        Value::map(me)
                    })
                    .collect(),
            ),
        );
        put("Name", s(&self.name));
        put("Sources", strs(&self.sources));
        put("Tags", s(&self.tags));
        put("Type", s(&self.chart_type));
        put("Version", s(&self.version));
        Value::map(e)
    }
}

fn dependency_value(d: &Dependency) -> Value {
    let mut e = Entries::new();
    let mut put = |k: &str, v: Value| {
        e.insert(Rc::from(k), v);
    };
    put("Alias", Value::str(&d.alias));
    put("Condition", Value::str(&d.condition));
    put("Enabled", Value::Bool(d.enabled));
    put(
        "ImportValues",
        Value::list(
            d.import_values
                .iter()
                .map(|iv| match iv {
                    ImportValue::Name(n) => Value::str(n),
                    ImportValue::Map { child, parent } => {
                        let mut m = Entries::new();
                        m.insert(Rc::from("child"), Value::str(child));
                        m.insert(Rc::from("parent"), Value::str(parent));
                        Value::map(m)
                    }
                    ImportValue::Processed { child, parent } => {
                        let mut m = Entries::new();
                        m.insert(Rc::from("child"), Value::str(child));
                        m.insert(Rc::from("parent"), Value::str(parent));
                        Value::map_of(MapKind::Str, m)
                    }
                    ImportValue::Other => Value::Nil,
                })
                .collect(),
        ),
    );
    put("Name", Value::str(&d.name));
    put("Repository", Value::str(&d.repository));
    put(
        "Tags",
        Value::list(d.tags.iter().map(|t| Value::str(t)).collect()),
    );
    put("Version", Value::str(&d.version));
    Value::map(e)
}
