//! The built-in transformers a kustomization's fields configure, in kustomize's order:
//! patchesStrategicMerge, patches, namespace, namePrefix, nameSuffix, labels and commonLabels,
//! commonAnnotations, patchesJson6902, replicas, images, replacements.

use std::collections::BTreeMap;

use crate::config::TransformerConfig;
use crate::error::{Error, ResultExt};
use crate::fieldspec::{FieldSpec, merge_all, merge_one};
use crate::kustfile::{Image, Replica, Selector};
use crate::patches::{self, Patch};
use crate::replacements::Replacement;
use crate::resmap::ResMap;
use crate::target::{Target, yaml_scalar};
use crate::transforms::{self, RoleBindingSubjects};

/// One configured transformer.
pub enum Step {
    StrategicMerge(Vec<crate::resource::Resource>),
    Patch(Patch),
    Namespace {
        namespace: String,
        specs: Vec<FieldSpec>,
        unset_only: bool,
        subjects: RoleBindingSubjects,
    },
    Prefix {
        prefix: String,
        suffix: String,
        specs: Vec<FieldSpec>,
    },
    Labels {
        pairs: BTreeMap<String, String>,
        specs: Vec<FieldSpec>,
    },
    Annotations {
        pairs: BTreeMap<String, String>,
        specs: Vec<FieldSpec>,
    },
    Json6902 {
        target: Selector,
        ops: serde_json::Value,
    },
    Replicas {
        replica: Replica,
        specs: Vec<FieldSpec>,
    },
    Image {
        image: Image,
        specs: Vec<FieldSpec>,
    },
    Replacements(Vec<Replacement>),
    /// Adds the content-hash suffix to generated names.
    Hash,
}

/// A step with what the transformerAnnotations record says configured it.
pub struct Configured {
    pub step: Step,
    pub kind: &'static str,
    /// name / namespace of a plugin configuration object.
    pub name: Option<String>,
    pub namespace: Option<String>,
}

impl Configured {
    pub fn builtin(kind: &'static str, step: Step) -> Configured {
        Configured {
            step,
            kind,
            name: None,
            namespace: None,
        }
    }

    pub fn run(&self, t: &Target, m: &mut ResMap) -> Result<(), Error> {
        match &self.step {
            Step::StrategicMerge(ps) => patches::apply_strategic_merge_patches(t, m, ps),
            Step::Patch(p) => patches::apply_patch(t, m, p),
            Step::Namespace {
                namespace,
                specs,
                unset_only,
                subjects,
            } => transforms::Namespace {
                namespace,
                specs,
                unset_only: *unset_only,
                subjects: *subjects,
            }
            .run(m),
            Step::Prefix {
                prefix,
                suffix,
                specs,
            } => transforms::PrefixSuffix {
                prefix,
                suffix,
                specs,
            }
            .run(m),
            Step::Labels { pairs, specs } | Step::Annotations { pairs, specs } => {
                transforms::set_map_entries(m, pairs, specs)
            }
            Step::Json6902 { target, ops } => patches::apply_json6902(m, target, ops, false),
            Step::Replicas { replica, specs } => transforms::ReplicaCount { replica, specs }.run(m),
            Step::Image { image, specs } => transforms::ImageTag { image, specs }.run(m),
            Step::Replacements(list) => crate::replacements::apply(m, list),
            Step::Hash => {
                crate::add_hash_suffixes(m);
                Ok(())
            }
        }
    }

    /// This transformer's entry in `alpha.config.kubernetes.io/transformations`.
    pub fn origin_entry(&self, configured_in: &str) -> String {
        let mut s = format!(
            "- configuredIn: {}\n  configuredBy:\n    apiVersion: builtin\n    kind: {}\n",
            yaml_scalar(configured_in),
            self.kind
        );
        if let Some(n) = &self.name {
            s.push_str(&format!("    name: {}\n", yaml_scalar(n)));
        }
        if let Some(n) = &self.namespace {
            s.push_str(&format!("    namespace: {}\n", yaml_scalar(n)));
        }
        s
    }
}

fn fs_err(e: crate::fieldspec::FieldSpecError) -> Error {
    Error::msg(e.to_string())
}

/// The transformers configured by the kustomization's own fields.
pub fn configure(t: &Target, tc: &TransformerConfig) -> Result<Vec<Configured>, Error> {
    let k = &t.kust;
    let mut out = Vec::new();
    if !k.patches_strategic_merge.is_empty() {
        let ps = patches::load_strategic_merge_patches(t, &k.patches_strategic_merge)?;
        out.push(Configured::builtin(
            "PatchStrategicMergeTransformer",
            Step::StrategicMerge(ps),
        ));
    }
    for p in &k.patches {
        let patch = patches::load_patch(t, p)?;
        out.push(Configured::builtin("PatchTransformer", Step::Patch(patch)));
    }
    if !k.namespace.is_empty() {
        out.push(Configured::builtin(
            "NamespaceTransformer",
            Step::Namespace {
                namespace: k.namespace.clone(),
                specs: tc.namespace.clone(),
                unset_only: false,
                subjects: RoleBindingSubjects::DefaultOnly,
            },
        ));
    }
    if !k.name_prefix.is_empty() {
        out.push(Configured::builtin(
            "PrefixTransformer",
            Step::Prefix {
                prefix: k.name_prefix.clone(),
                suffix: String::new(),
                specs: tc.name_prefix.clone(),
            },
        ));
    }
    if !k.name_suffix.is_empty() {
        out.push(Configured::builtin(
            "SuffixTransformer",
            Step::Prefix {
                prefix: String::new(),
                suffix: k.name_suffix.clone(),
                specs: tc.name_suffix.clone(),
            },
        ));
    }
    if !k.labels.is_empty() || !k.common_labels.is_empty() {
        for label in &k.labels {
            let mut specs: Vec<FieldSpec> = label.fields.iter().map(FieldSpec::from).collect();
            if label.include_selectors {
                merge_all(&mut specs, &tc.common_labels).map_err(fs_err)?;
            } else {
                merge_one(&mut specs, FieldSpec::new("metadata/labels", true)).map_err(fs_err)?;
                if label.include_templates {
                    merge_all(&mut specs, &tc.template_labels).map_err(fs_err)?;
                }
                if label.include_volume_claim_templates {
                    let vct = FieldSpec::with_gvk(
                        crate::resid::Gvk::new("apps", "", "StatefulSet"),
                        "spec/volumeClaimTemplates[]/metadata/labels",
                        true,
                    );
                    merge_one(&mut specs, vct).map_err(fs_err)?;
                }
            }
            out.push(Configured::builtin(
                "LabelTransformer",
                Step::Labels {
                    pairs: label.pairs.clone(),
                    specs,
                },
            ));
        }
        out.push(Configured::builtin(
            "LabelTransformer",
            Step::Labels {
                pairs: k.common_labels.clone(),
                specs: tc.common_labels.clone(),
            },
        ));
    }
    if !k.common_annotations.is_empty() {
        out.push(Configured::builtin(
            "AnnotationsTransformer",
            Step::Annotations {
                pairs: k.common_annotations.clone(),
                specs: tc.common_annotations.clone(),
            },
        ));
    }
    for p in &k.patches_json6902 {
        let target = p.target.clone().unwrap_or_default();
        let ops = patches::load_json6902(t, p).context(|| "loading patchesJson6902".to_string())?;
        out.push(Configured::builtin(
            "PatchJson6902Transformer",
            Step::Json6902 { target, ops },
        ));
    }
    for r in &k.replicas {
        out.push(Configured::builtin(
            "ReplicaCountTransformer",
            Step::Replicas {
                replica: r.clone(),
                specs: tc.replicas.clone(),
            },
        ));
    }
    for img in &k.images {
        out.push(Configured::builtin(
            "ImageTagTransformer",
            Step::Image {
                image: img.clone(),
                specs: tc.images.clone(),
            },
        ));
    }
    if !k.replacements.is_empty() {
        let list = crate::replacements::load(t, &k.replacements)?;
        out.push(Configured::builtin(
            "ReplacementTransformer",
            Step::Replacements(list),
        ));
    }
    Ok(out)
}
