//! Transformer configuration: which fields each built-in transformer touches. Starts from
//! kustomize's defaults (data/builtin/, see its README), extended by `configurations:` files and
//! by `crds:`, merged up from bases.

use serde::Deserialize;
use std::sync::OnceLock;

use crate::fieldspec::{FieldSpec, FieldSpecError, merge_all};
use crate::kustfile;
use crate::resid::Gvk;

/// Which referrer fields hold the name of an object of kind `gvk`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameBackRefs {
    pub gvk: Gvk,
    pub referrers: Vec<FieldSpec>,
}

#[derive(Clone, Debug, Default)]
pub struct TransformerConfig {
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub common_labels: Vec<FieldSpec>,
    pub template_labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
    pub var_reference: Vec<FieldSpec>,
    pub name_reference: Vec<NameBackRefs>,
}

/// The file format of `configurations:` (and of the built-in tables).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigFile {
    #[serde(default)]
    pub name_prefix: Vec<kustfile::FieldSpec>,
    #[serde(default)]
    pub name_suffix: Vec<kustfile::FieldSpec>,
    #[serde(default)]
    pub namespace: Vec<kustfile::FieldSpec>,
    #[serde(default)]
    pub common_labels: Vec<kustfile::FieldSpec>,
    #[serde(default)]
    pub template_labels: Vec<kustfile::FieldSpec>,
    #[serde(default)]
    pub labels: Vec<kustfile::FieldSpec>,
    #[serde(default)]
    pub common_annotations: Vec<kustfile::FieldSpec>,
    #[serde(default)]
    pub images: Vec<kustfile::FieldSpec>,
    #[serde(default)]
    pub replicas: Vec<kustfile::FieldSpec>,
    #[serde(default)]
    pub var_reference: Vec<kustfile::FieldSpec>,
    #[serde(default)]
    pub name_reference: Vec<NameRefEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameRefEntry {
    #[serde(default, deserialize_with = "kustfile::de_str")]
    pub group: String,
    #[serde(default, deserialize_with = "kustfile::de_str")]
    pub version: String,
    #[serde(default, deserialize_with = "kustfile::de_str")]
    pub kind: String,
    #[serde(default)]
    pub field_specs: Vec<kustfile::FieldSpec>,
}

fn specs(v: &[kustfile::FieldSpec]) -> Vec<FieldSpec> {
    v.iter().map(FieldSpec::from).collect()
}

impl ConfigFile {
    pub fn parse(text: &str) -> Result<ConfigFile, String> {
        let v = ferry_yaml::from_str_with(text, &ferry_yaml::Options::YAML11)
            .map_err(|e| e.to_string())?;
        if v.is_null() {
            return Ok(ConfigFile::default());
        }
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    pub fn into_config(self) -> Result<TransformerConfig, FieldSpecError> {
        let mut c = TransformerConfig {
            name_prefix: specs(&self.name_prefix),
            name_suffix: specs(&self.name_suffix),
            namespace: specs(&self.namespace),
            common_labels: specs(&self.common_labels),
            template_labels: specs(&self.template_labels),
            common_annotations: specs(&self.common_annotations),
            images: specs(&self.images),
            replicas: specs(&self.replicas),
            var_reference: specs(&self.var_reference),
            name_reference: Vec::new(),
        };
        // Older configuration files call commonLabels "labels".
        merge_all(&mut c.common_labels, &specs(&self.labels))?;
        for e in self.name_reference {
            let entry = NameBackRefs {
                gvk: Gvk::new(&e.group, &e.version, &e.kind),
                referrers: specs(&e.field_specs),
            };
            merge_name_ref(&mut c.name_reference, entry)?;
        }
        Ok(c)
    }
}

fn merge_name_ref(list: &mut Vec<NameBackRefs>, other: NameBackRefs) -> Result<(), FieldSpecError> {
    if let Some(existing) = list.iter_mut().find(|n| n.gvk == other.gvk) {
        return merge_all(&mut existing.referrers, &other.referrers);
    }
    list.push(other);
    Ok(())
}

const BUILTIN_TABLES: [&str; 8] = [
    include_str!("../data/builtin/namereference.yaml"),
    include_str!("../data/builtin/namespace.yaml"),
    include_str!("../data/builtin/nameprefix.yaml"),
    include_str!("../data/builtin/commonlabels.yaml"),
    include_str!("../data/builtin/commonannotations.yaml"),
    include_str!("../data/builtin/images.yaml"),
    include_str!("../data/builtin/replicas.yaml"),
    include_str!("../data/builtin/varreference.yaml"),
];

impl TransformerConfig {
    /// kustomize's default configuration, shared (most kustomizations use exactly it, so
    /// merging configurations up the tree is usually free).
    pub fn builtin_shared() -> std::sync::Arc<TransformerConfig> {
        static SHARED: OnceLock<std::sync::Arc<TransformerConfig>> = OnceLock::new();
        SHARED
            .get_or_init(|| std::sync::Arc::new(TransformerConfig::builtin().clone()))
            .clone()
    }

    pub fn is_empty(&self) -> bool {
        self.name_prefix.is_empty()
            && self.name_suffix.is_empty()
            && self.namespace.is_empty()
            && self.common_labels.is_empty()
            && self.template_labels.is_empty()
            && self.common_annotations.is_empty()
            && self.images.is_empty()
            && self.replicas.is_empty()
            && self.var_reference.is_empty()
            && self.name_reference.is_empty()
    }

    /// kustomize's default configuration.
    pub fn builtin() -> &'static TransformerConfig {
        static DEFAULT: OnceLock<TransformerConfig> = OnceLock::new();
        DEFAULT.get_or_init(|| {
            let mut c = TransformerConfig::default();
            for table in BUILTIN_TABLES {
                let parsed = ConfigFile::parse(table)
                    .and_then(|f| f.into_config().map_err(|e| e.to_string()))
                    .expect("built-in tables are valid (checked by the builtin_tables test)");
                c.merge(&parsed)
                    .expect("built-in tables do not conflict (checked by the builtin_tables test)");
            }
            c
        })
    }

    pub fn merge(&mut self, o: &TransformerConfig) -> Result<(), FieldSpecError> {
        merge_all(&mut self.name_prefix, &o.name_prefix)?;
        merge_all(&mut self.name_suffix, &o.name_suffix)?;
        merge_all(&mut self.namespace, &o.namespace)?;
        merge_all(&mut self.common_labels, &o.common_labels)?;
        merge_all(&mut self.template_labels, &o.template_labels)?;
        merge_all(&mut self.common_annotations, &o.common_annotations)?;
        merge_all(&mut self.images, &o.images)?;
        merge_all(&mut self.replicas, &o.replicas)?;
        merge_all(&mut self.var_reference, &o.var_reference)?;
        for n in &o.name_reference {
            merge_name_ref(&mut self.name_reference, n.clone())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables() {
        for table in BUILTIN_TABLES {
            let parsed = ConfigFile::parse(table).expect("parse");
            parsed.into_config().expect("no conflicts");
        }
        let c = TransformerConfig::builtin();
        assert!(c.name_reference.iter().any(|n| n.gvk.kind == "ConfigMap"));
        assert_eq!(c.name_prefix, vec![FieldSpec::new("metadata/name", false)]);
        assert!(!c.var_reference.is_empty());
    }
}
