//! Built-in plugin configurations listed under `transformers:` and `generators:` (objects with
//! `apiVersion: builtin` and the plugin's kind). External plugins (exec, Go, containers) are
//! refused: kustomize disables them by default too.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::builtins::{Configured, Step};
use crate::error::Error;
use crate::fieldspec::FieldSpec;
use crate::kustfile::{self, GeneratorArgs, Image, Replica, Selector, de_str, de_str_map};
use crate::resource::Resource;
use crate::target::Target;
use crate::transforms::RoleBindingSubjects;

fn specs(v: &[kustfile::FieldSpec]) -> Vec<FieldSpec> {
    v.iter().map(FieldSpec::from).collect()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Common {
    #[serde(default)]
    field_specs: Vec<kustfile::FieldSpec>,
    #[serde(default, deserialize_with = "de_str")]
    prefix: String,
    #[serde(default, deserialize_with = "de_str")]
    suffix: String,
    #[serde(default, deserialize_with = "de_str_map")]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "de_str_map")]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    unset_only: bool,
    #[serde(default, deserialize_with = "de_str")]
    set_role_binding_subjects: String,
    #[serde(default)]
    image_tag: Option<Image>,
    #[serde(default)]
    replica: Option<Replica>,
    #[serde(default)]
    replacements: Option<Value>,
    #[serde(default)]
    target: Option<Selector>,
    #[serde(default, deserialize_with = "de_str")]
    path: String,
    #[serde(default, deserialize_with = "de_str")]
    patch: String,
    #[serde(default, deserialize_with = "de_str")]
    json_op: String,
    #[serde(default)]
    options: BTreeMap<String, bool>,
    #[serde(default, deserialize_with = "kustfile::de_str_vec")]
    paths: Vec<String>,
    #[serde(default, deserialize_with = "de_str")]
    patches: String,
}

fn meta(cfg: &Resource) -> (Option<String>, Option<String>) {
    let name = Some(cfg.name().to_string()).filter(|s| !s.is_empty());
    let ns = Some(cfg.namespace().to_string()).filter(|s| !s.is_empty());
    (name, ns)
}

fn check_builtin(cfg: &Resource) -> Result<(), Error> {
    if cfg.api_version() != "builtin" {
        return Err(Error::msg(format!(
            "external plugins disabled; unable to load external plugin '{}' ({}): ferry runs kustomize's built-in plugins only",
            cfg.kind(),
            cfg.api_version()
        )));
    }
    Ok(())
}

fn parse_common(cfg: &Resource) -> Result<Common, Error> {
    let mut obj = cfg.obj.clone();
    for k in ["apiVersion", "kind", "metadata"] {
        obj.remove(k);
    }
    serde_json::from_value(Value::Object(obj))
        .map_err(|e| Error::msg(format!("invalid {} configuration: {e}", cfg.kind())))
}

/// A transformer plugin configuration as a configured step.
pub fn transformer(t: &Target, cfg: &Resource) -> Result<Configured, Error> {
    check_builtin(cfg)?;
    let c = parse_common(cfg)?;
    let (name, namespace) = meta(cfg);
    let (kind, step): (&'static str, Step) = match cfg.kind() {
        "NamespaceTransformer" => (
            "NamespaceTransformer",
            Step::Namespace {
                namespace: cfg.namespace().to_string(),
                specs: specs(&c.field_specs),
                unset_only: c.unset_only,
                subjects: match c.set_role_binding_subjects.as_str() {
                    "allServiceAccounts" => RoleBindingSubjects::AllServiceAccounts,
                    "none" => RoleBindingSubjects::None,
                    _ => RoleBindingSubjects::DefaultOnly,
                },
            },
        ),
        "PrefixSuffixTransformer" => (
            "PrefixSuffixTransformer",
            Step::Prefix {
                prefix: c.prefix,
                suffix: c.suffix,
                specs: specs(&c.field_specs),
            },
        ),
        "PrefixTransformer" => (
            "PrefixTransformer",
            Step::Prefix {
                prefix: c.prefix,
                suffix: String::new(),
                specs: specs(&c.field_specs),
            },
        ),
        "SuffixTransformer" => (
            "SuffixTransformer",
            Step::Prefix {
                prefix: String::new(),
                suffix: c.suffix,
                specs: specs(&c.field_specs),
            },
        ),
        "LabelTransformer" => (
            "LabelTransformer",
            Step::Labels {
                pairs: c.labels,
                specs: specs(&c.field_specs),
            },
        ),
        "AnnotationsTransformer" => (
            "AnnotationsTransformer",
            Step::Annotations {
                pairs: c.annotations,
                specs: specs(&c.field_specs),
            },
        ),
        "ImageTagTransformer" => (
            "ImageTagTransformer",
            Step::Image {
                image: c.image_tag.unwrap_or_default(),
                specs: specs(&c.field_specs),
            },
        ),
        "ReplicaCountTransformer" => (
            "ReplicaCountTransformer",
            Step::Replicas {
                replica: c.replica.unwrap_or_default(),
                specs: specs(&c.field_specs),
            },
        ),
        "ReplacementTransformer" => {
            let list = match c.replacements {
                Some(v) => {
                    let fields: Vec<kustfile::ReplacementField> = serde_json::from_value(v)
                        .map_err(|e| Error::msg(format!("invalid replacements: {e}")))?;
                    crate::replacements::load(t, &fields)?
                }
                None => Vec::new(),
            };
            ("ReplacementTransformer", Step::Replacements(list))
        }
        "PatchTransformer" => {
            let p = kustfile::Patch {
                path: c.path,
                patch: c.patch,
                target: c.target,
                options: c.options,
            };
            (
                "PatchTransformer",
                Step::Patch(crate::patches::load_patch(t, &p)?),
            )
        }
        "PatchJson6902Transformer" => {
            let p = kustfile::Patch {
                path: c.path,
                patch: c.json_op,
                target: c.target.clone(),
                options: BTreeMap::new(),
            };
            let ops = crate::patches::load_json6902(t, &p)?;
            (
                "PatchJson6902Transformer",
                Step::Json6902 {
                    target: c.target.unwrap_or_default(),
                    ops,
                },
            )
        }
        "PatchStrategicMergeTransformer" => {
            let mut entries: Vec<Value> = c.paths.into_iter().map(Value::String).collect();
            if !c.patches.is_empty() {
                entries.push(Value::String(c.patches));
            }
            (
                "PatchStrategicMergeTransformer",
                Step::StrategicMerge(crate::patches::load_strategic_merge_patches(t, &entries)?),
            )
        }
        "HashTransformer" => ("HashTransformer", Step::Hash),
        other => {
            return Err(Error::msg(format!(
                "unable to load builtin transformer '{other}': not supported by ferry"
            )));
        }
    };
    Ok(Configured {
        step,
        kind,
        name,
        namespace,
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Iam {
    #[serde(default, deserialize_with = "de_str")]
    cloud: String,
    #[serde(default)]
    kubernetes_service: Option<Map<String, Value>>,
    #[serde(default)]
    service_account: Option<Map<String, Value>>,
}

/// A generator plugin configuration: the resources it produces.
pub fn generate(t: &Target, cfg: &Resource) -> Result<Vec<Resource>, Error> {
    check_builtin(cfg)?;
    match cfg.kind() {
        "ConfigMapGenerator" | "SecretGenerator" => {
            let mut obj = cfg.obj.clone();
            for k in ["apiVersion", "kind", "metadata"] {
                obj.remove(k);
            }
            obj.insert("name".into(), Value::String(cfg.name().to_string()));
            if !cfg.namespace().is_empty() {
                obj.insert(
                    "namespace".into(),
                    Value::String(cfg.namespace().to_string()),
                );
            }
            // Plugin configurations are read leniently: unknown fields are ignored.
            const ARGS: [&str; 9] = [
                "namespace",
                "name",
                "behavior",
                "options",
                "literals",
                "files",
                "envs",
                "env",
                "type",
            ];
            obj.retain(|k, _| ARGS.contains(&k.as_str()));
            let args: GeneratorArgs = serde_json::from_value(Value::Object(obj))
                .map_err(|e| Error::msg(format!("invalid {} configuration: {e}", cfg.kind())))?;
            let kind = if cfg.kind() == "ConfigMapGenerator" {
                crate::generators::Kind::ConfigMap
            } else {
                crate::generators::Kind::Secret
            };
            let mut r = crate::generators::generate(&t.ldr, &args, None, kind)?;
            if t.ctx.origin_annotations() {
                r.origin = Some(crate::target::generator_origin_text(
                    &t.kust_file_rel,
                    cfg.kind(),
                    Some(cfg.name()),
                ));
            }
            Ok(vec![r])
        }
        "IAMPolicyGenerator" => {
            let mut obj = cfg.obj.clone();
            for k in ["apiVersion", "kind", "metadata"] {
                obj.remove(k);
            }
            let iam: Iam = serde_json::from_value(Value::Object(obj)).map_err(|e| {
                Error::msg(format!("invalid IAMPolicyGenerator configuration: {e}"))
            })?;
            if iam.cloud != "gke" {
                return Err(Error::msg(format!(
                    "IAMPolicyGenerator: cloud '{}' is not supported (only gke)",
                    iam.cloud
                )));
            }
            let ks = iam.kubernetes_service.unwrap_or_default();
            let sa = iam.service_account.unwrap_or_default();
            let get = |m: &Map<String, Value>, k: &str| {
                m.get(k).and_then(Value::as_str).unwrap_or("").to_string()
            };
            let mut md = Map::new();
            md.insert("name".into(), Value::String(get(&ks, "name")));
            let ns = get(&ks, "namespace");
            if !ns.is_empty() {
                md.insert("namespace".into(), Value::String(ns));
            }
            let mut ann = Map::new();
            ann.insert(
                "iam.gke.io/gcp-service-account".into(),
                Value::String(format!(
                    "{}@{}.iam.gserviceaccount.com",
                    get(&sa, "name"),
                    get(&sa, "projectId")
                )),
            );
            md.insert("annotations".into(), Value::Object(ann));
            let mut obj = Map::new();
            obj.insert("apiVersion".into(), Value::String("v1".into()));
            obj.insert("kind".into(), Value::String("ServiceAccount".into()));
            obj.insert("metadata".into(), Value::Object(md));
            Ok(vec![Resource::new(obj)])
        }
        other => Err(Error::msg(format!(
            "unable to load builtin generator '{other}': not supported by ferry"
        ))),
    }
}
