//! ConstraintTemplates: the constraint kind they define and their compiled code.

use std::fmt;

use serde_json::Value;

use crate::cel::{CelError, CelProgram};
use crate::rego::{RegoError, RegoProgram};
use crate::value::{get, get_str};

/// The only target Gatekeeper's admission templates may name.
pub(crate) const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";

/// A policy engine a template's code runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Engine {
    Rego,
    /// Gatekeeper's `K8sNativeValidation` (CEL).
    Cel,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Rego => "Rego",
            Engine::Cel => "K8sNativeValidation",
        })
    }
}

/// Why a ConstraintTemplate cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("ConstraintTemplate has no metadata.name")]
    MissingName,
    #[error("ConstraintTemplate {template}: spec.crd.spec.names.kind is missing")]
    MissingKind { template: String },
    #[error("ConstraintTemplate {template}: expected exactly one target, found {count}")]
    TargetCount { template: String, count: usize },
    #[error(
        "ConstraintTemplate {template}: unsupported target {target:?} (expected {ADMISSION_TARGET})"
    )]
    UnsupportedTarget { template: String, target: String },
    #[error(
        "ConstraintTemplate {template}: the target has no Rego and no K8sNativeValidation code"
    )]
    NoCode { template: String },
    #[error("ConstraintTemplate {template}: {source}")]
    Rego {
        template: String,
        #[source]
        source: RegoError,
    },
    #[error("ConstraintTemplate {template}: {source}")]
    Cel {
        template: String,
        #[source]
        source: CelError,
    },
}

/// A compiled ConstraintTemplate.
#[derive(Debug)]
pub struct Template {
    /// `metadata.name`.
    pub name: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub kind: String,
    pub(crate) rego: Option<RegoProgram>,
    pub(crate) cel: Option<CelProgram>,
}

impl Template {
    /// Whether `document` is a ConstraintTemplate (`templates.gatekeeper.sh/*`).
    pub fn is_template(document: &Value) -> bool {
        get_str(document, &["kind"]) == "ConstraintTemplate"
            && get_str(document, &["apiVersion"]).starts_with("templates.gatekeeper.sh/")
    }

    /// Parses and compiles a ConstraintTemplate: its Rego (legacy `targets[].rego` + `libs`, or
    /// `code[]` with engine `Rego`) and its CEL (`code[]` with engine `K8sNativeValidation`).
    pub fn compile(document: &Value) -> Result<Template, TemplateError> {
        let name = get_str(document, &["metadata", "name"]).to_owned();
        if name.is_empty() {
            return Err(TemplateError::MissingName);
        }
        let kind = get_str(document, &["spec", "crd", "spec", "names", "kind"]).to_owned();
        if kind.is_empty() {
            return Err(TemplateError::MissingKind { template: name });
        }
        let targets = get(document, &["spec", "targets"])
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let [target] = targets else {
            return Err(TemplateError::TargetCount {
                template: name,
                count: targets.len(),
            });
        };
        let target_name = get_str(target, &["target"]);
        if target_name != ADMISSION_TARGET {
            return Err(TemplateError::UnsupportedTarget {
                template: name,
                target: target_name.to_owned(),
            });
        }
        let rego_error = |source| TemplateError::Rego {
            template: name.clone(),
            source,
        };
        let mut rego = None;
        let legacy_rego = get_str(target, &["rego"]);
        if !legacy_rego.is_empty() {
            let libs = string_list(target.get("libs"));
            rego =
                Some(RegoProgram::compile(&name, legacy_rego, &libs, false).map_err(rego_error)?);
        }
        let mut cel = None;
        let code = target
            .get("code")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for entry in code {
            let source = entry.get("source").unwrap_or(&Value::Null);
            match get_str(entry, &["engine"]) {
                // `code` wins over the legacy field, as in Gatekeeper.
                "Rego" => {
                    let libs = string_list(source.get("libs"));
                    let v1 = get_str(source, &["version"]) == "v1";
                    rego = Some(
                        RegoProgram::compile(&name, get_str(source, &["rego"]), &libs, v1)
                            .map_err(rego_error)?,
                    );
                }
                "K8sNativeValidation" => {
                    cel =
                        Some(
                            CelProgram::compile(source).map_err(|source| TemplateError::Cel {
                                template: name.clone(),
                                source,
                            })?,
                        );
                }
                other => {
                    tracing::debug!(template = %name, engine = other, "skipping code for an unknown engine");
                }
            }
        }
        if rego.is_none() && cel.is_none() {
            return Err(TemplateError::NoCode { template: name });
        }
        Ok(Template {
            name,
            kind,
            rego,
            cel,
        })
    }

    /// The engines this template can run on.
    pub fn engines(&self) -> Vec<Engine> {
        let mut engines = Vec::new();
        if self.cel.is_some() {
            engines.push(Engine::Cel);
        }
        if self.rego.is_some() {
            engines.push(Engine::Rego);
        }
        engines
    }

    /// Whether the template reads `data.inventory` (referential constraints).
    pub fn uses_inventory(&self) -> bool {
        self.rego.as_ref().is_some_and(RegoProgram::uses_inventory)
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
