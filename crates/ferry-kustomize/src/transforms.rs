//! The field-spec driven built-in transformers: namespace, name prefix/suffix, labels and
//! annotations, images, replica counts.

use regex::Regex;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::error::Error;
use crate::fieldspec::{CreateKind, FieldSpec, apply};
use crate::kustfile::{Image, Replica};
use crate::resid::Gvk;
use crate::resmap::ResMap;
use crate::resource::Resource;

fn walk_err(r: &Resource, fs: &FieldSpec, message: String) -> Error {
    Error::msg(format!(
        "considering field '{}' of object {}: {message}",
        fs.path,
        r.cur_id()
    ))
}

fn set_string(v: &mut Value, s: &str) -> Result<(), String> {
    match v {
        Value::Object(_) | Value::Array(_) => {
            Err("wrong node kind: expected ScalarNode".to_string())
        }
        _ => {
            *v = Value::String(s.to_string());
            Ok(())
        }
    }
}

/// How the namespace transformer treats RoleBinding / ClusterRoleBinding subjects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RoleBindingSubjects {
    /// Subjects named "default".
    #[default]
    DefaultOnly,
    AllServiceAccounts,
    None,
}

pub struct Namespace<'a> {
    pub namespace: &'a str,
    pub specs: &'a [FieldSpec],
    pub unset_only: bool,
    pub subjects: RoleBindingSubjects,
}

impl Namespace<'_> {
    pub fn run(&self, m: &mut ResMap) -> Result<(), Error> {
        if self.namespace.is_empty() {
            return Ok(());
        }
        for r in &mut m.list {
            if r.obj.is_empty() {
                continue;
            }
            r.store_previous_id();
            self.apply_one(r)?;
        }
        // Every object's id must still be unique (kustomize checks after each object; with
        // one namespace for all, a clash found then is also a clash at the end).
        let mut seen = std::collections::HashMap::new();
        for (i, r) in m.list.iter().enumerate() {
            if let Some(j) = seen.insert(crate::resmap::id_hash(r), i)
                && m.list[j].id_ref().key() == r.id_ref().key()
            {
                return Err(Error::msg(format!(
                    "namespace transformation produces ID conflict: {}",
                    r.cur_id()
                )));
            }
        }
        Ok(())
    }

    fn set(&self, v: &mut Value) -> Result<(), String> {
        if self.unset_only && matches!(v, Value::String(s) if !s.is_empty()) {
            return Ok(());
        }
        set_string(v, self.namespace)
    }

    fn apply_one(&self, r: &mut Resource) -> Result<(), Error> {
        let gvk = r.gvk();
        let api_version = r.api_version().to_string();
        if !gvk.is_cluster_scoped() {
            let fs = FieldSpec::new("metadata/namespace", true);
            apply(&mut r.obj, &fs, CreateKind::Scalar, &mut |v: &mut Value| {
                self.set(v)
            })
            .map_err(|e| walk_err(r, &fs, e))?;
        }
        let is_binding = gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding";
        if is_binding {
            self.role_binding_subjects(r);
        }
        for fs in self.specs {
            if fs.path == "metadata/namespace" {
                continue;
            }
            if fs.path == "metadata/name" && api_version != "v1" {
                continue;
            }
            if is_binding && fs.path == "subjects" {
                continue;
            }
            apply(&mut r.obj, fs, CreateKind::Scalar, &mut |v: &mut Value| {
                self.set(v)
            })
            .map_err(|e| {
                walk_err(
                    r,
                    fs,
                    format!("namespace field specs must target scalar nodes: {e}"),
                )
            })?;
        }
        Ok(())
    }

    fn role_binding_subjects(&self, r: &mut Resource) {
        if self.subjects == RoleBindingSubjects::None {
            return;
        }
        let Some(Value::Array(subjects)) = r.obj.get_mut("subjects") else {
            return;
        };
        for s in subjects {
            let Value::Object(s) = s else { continue };
            let selected = match self.subjects {
                RoleBindingSubjects::DefaultOnly => {
                    matches!(s.get("name"), Some(Value::String(n)) if n == "default")
                }
                RoleBindingSubjects::AllServiceAccounts => {
                    matches!(s.get("kind"), Some(Value::String(k)) if k == "ServiceAccount")
                }
                RoleBindingSubjects::None => false,
            };
            if !selected {
                continue;
            }
            let current = s.get("namespace").and_then(Value::as_str).unwrap_or("");
            if self.unset_only && !current.is_empty() {
                continue;
            }
            s.insert(
                "namespace".into(),
                Value::String(self.namespace.to_string()),
            );
        }
    }
}

/// Kinds a name prefix or suffix never applies to.
fn prefix_skipped(id_gvk: &Gvk) -> bool {
    id_gvk.kind == "CustomResourceDefinition"
        || (id_gvk.kind == "APIService" && id_gvk.group == "apiregistration.k8s.io")
        || id_gvk.kind == "Namespace"
}

/// namePrefix / nameSuffix (and the legacy PrefixSuffixTransformer, which does both).
pub struct PrefixSuffix<'a> {
    pub prefix: &'a str,
    pub suffix: &'a str,
    pub specs: &'a [FieldSpec],
}

impl PrefixSuffix<'_> {
    pub fn run(&self, m: &mut ResMap) -> Result<(), Error> {
        for r in &mut m.list {
            let org = r.org_id();
            if prefix_skipped(&org.gvk) {
                continue;
            }
            for fs in self.specs {
                if !org.gvk.is_selected(&fs.gvk) {
                    continue;
                }
                if fs.path == "metadata/name" {
                    if !self.prefix.is_empty() {
                        r.prefixes.push(self.prefix.to_string());
                    }
                    if !self.suffix.is_empty() {
                        r.suffixes.push(self.suffix.to_string());
                    }
                    if !self.prefix.is_empty() || !self.suffix.is_empty() {
                        r.store_previous_id();
                    }
                }
                let (p, s) = (self.prefix, self.suffix);
                apply(&mut r.obj, fs, CreateKind::Scalar, &mut |v: &mut Value| {
                    let cur = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => return Err("wrong node kind: expected ScalarNode".to_string()),
                    };
                    *v = Value::String(format!("{p}{cur}{s}"));
                    Ok(())
                })
                .map_err(|e| walk_err(r, fs, e))?;
            }
        }
        Ok(())
    }
}

/// Set key/value pairs in the maps the specs reach (labels, annotations).
pub fn set_map_entries(
    m: &mut ResMap,
    pairs: &BTreeMap<String, String>,
    specs: &[FieldSpec],
) -> Result<(), Error> {
    if pairs.is_empty() {
        return Ok(());
    }
    for r in &mut m.list {
        for (k, v) in pairs {
            for fs in specs {
                apply(
                    &mut r.obj,
                    fs,
                    CreateKind::Mapping,
                    &mut |node: &mut Value| {
                        if node.is_null() {
                            *node = Value::Object(Map::new());
                        }
                        match node {
                            Value::Object(map) => {
                                map.insert(k.clone(), Value::String(v.clone()));
                                Ok(())
                            }
                            _ => Err("wrong node kind: expected MappingNode".to_string()),
                        }
                    },
                )
                .map_err(|e| walk_err(r, fs, e))?;
            }
        }
    }
    Ok(())
}

/// kustomize's image reference split: name, tag, digest.
pub fn split_image(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[slash..];
    let id = search.find('@');
    let ic = search.find(':');
    match (ic, id) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (None, Some(id)) => {
            let id = id + slash;
            (
                image[..id].to_string(),
                String::new(),
                image[id + 1..].to_string(),
            )
        }
        (Some(ic), Some(id)) if id < ic => {
            let id = id + slash;
            (
                image[..id].to_string(),
                String::new(),
                image[id + 1..].to_string(),
            )
        }
        (Some(ic), Some(id)) => {
            let (ic, id) = (ic + slash, id + slash);
            (
                image[..ic].to_string(),
                image[ic + 1..id].to_string(),
                image[id + 1..].to_string(),
            )
        }
        (Some(ic), None) => {
            let ic = ic + slash;
            (
                image[..ic].to_string(),
                image[ic + 1..].to_string(),
                String::new(),
            )
        }
    }
}

pub struct ImageTag<'a> {
    pub image: &'a Image,
    pub specs: &'a [FieldSpec],
}

impl ImageTag<'_> {
    fn pattern(&self) -> Result<Regex, Error> {
        Regex::new(&format!(
            "^{}(@sha256)?(:[a-zA-Z0-9_.{{}}-]*)?$",
            self.image.name
        ))
        .map_err(|e| Error::msg(format!("invalid image name '{}': {e}", self.image.name)))
    }

    fn update(&self, pattern: &Regex, v: &mut Value) -> Result<(), String> {
        let Value::String(value) = v else {
            if v.is_null() {
                return Ok(());
            }
            return Err("wrong node kind: expected ScalarNode".to_string());
        };
        if !pattern.is_match(value) {
            return Ok(());
        }
        let (mut name, mut tag, mut digest) = split_image(value);
        let img = self.image;
        if !img.new_name.is_empty() {
            name = img.new_name.clone();
        }
        if !img.new_tag.is_empty() && !img.digest.is_empty() {
            tag = img.new_tag.clone();
            digest = img.digest.clone();
        } else if !img.new_tag.is_empty() {
            tag = img.new_tag.clone();
            digest.clear();
        } else if !img.digest.is_empty() {
            tag.clear();
            digest = img.digest.clone();
        }
        if !img.tag_suffix.is_empty() {
            tag.push_str(&img.tag_suffix);
        }
        if !tag.is_empty() {
            name.push(':');
            name.push_str(&tag);
        }
        if !digest.is_empty() {
            name.push('@');
            name.push_str(&digest);
        }
        *value = name;
        Ok(())
    }

    pub fn run(&self, m: &mut ResMap) -> Result<(), Error> {
        let pattern = self.pattern()?;
        for r in &mut m.list {
            if r.kind() == "CustomResourceDefinition" {
                continue;
            }
            // Every containers/initContainers list anywhere in the object.
            let mut err = None;
            let mut whole = Value::Object(std::mem::take(&mut r.obj));
            self.walk_containers(&pattern, &mut whole, &mut err);
            if let Value::Object(m) = whole {
                r.obj = m;
            }
            if let Some(e) = err {
                return Err(Error::msg(format!("updating image in {}: {e}", r.cur_id())));
            }
            for fs in self.specs {
                apply(&mut r.obj, fs, CreateKind::None, &mut |v: &mut Value| {
                    self.update(&pattern, v)
                })
                .map_err(|e| walk_err(r, fs, e))?;
            }
        }
        Ok(())
    }

    fn walk_containers(&self, pattern: &Regex, v: &mut Value, err: &mut Option<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    self.walk_containers(pattern, child, err);
                    if (k == "containers" || k == "initContainers")
                        && let Value::Array(items) = child
                    {
                        for item in items {
                            if let Value::Object(c) = item
                                && let Some(image) = c.get_mut("image")
                                && let Err(e) = self.update(pattern, image)
                            {
                                *err = Some(e);
                            }
                        }
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk_containers(pattern, item, err);
                }
            }
            _ => {}
        }
    }
}

pub struct ReplicaCount<'a> {
    pub replica: &'a Replica,
    pub specs: &'a [FieldSpec],
}

impl ReplicaCount<'_> {
    pub fn run(&self, m: &mut ResMap) -> Result<(), Error> {
        let mut found = false;
        for fs in self.specs {
            let name = &self.replica.name;
            let matched = m.matching_any_id(|id| &id.name == name && id.gvk.is_selected(&fs.gvk));
            if matched.is_empty() {
                continue;
            }
            found = true;
            for i in matched {
                let r = &mut m.list[i];
                let count = self.replica.count;
                apply(&mut r.obj, fs, CreateKind::Scalar, &mut |v: &mut Value| {
                    *v = Value::Number(count.into());
                    Ok(())
                })
                .map_err(|e| Error::msg(format!("transforming replicas {}: {e}", r.cur_id())))?;
            }
        }
        if !found {
            let gvks: Vec<String> = self.specs.iter().map(|f| f.gvk.to_string()).collect();
            return Err(Error::msg(format!(
                "resource with name {} does not match a config with the following GVK [{}]",
                self.replica.name,
                gvks.join(" ")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_split() {
        let s = |x: &str| split_image(x);
        assert_eq!(s("nginx"), ("nginx".into(), "".into(), "".into()));
        assert_eq!(s("nginx:1.2"), ("nginx".into(), "1.2".into(), "".into()));
        assert_eq!(
            s("localhost:5000/nginx:1.2@sha256:ab"),
            (
                "localhost:5000/nginx".into(),
                "1.2".into(),
                "sha256:ab".into()
            )
        );
        assert_eq!(
            s("a/b@sha256:x"),
            ("a/b".into(), "".into(), "sha256:x".into())
        );
    }
}
