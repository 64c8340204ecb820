//! One kustomization directory turned into resources: resources and bases first, then
//! generators, components, transformers and vars, the order kustomize's KustTarget follows.

use serde_json::{Map, Value};
use std::path::Path;

use crate::config::{ConfigFile, TransformerConfig};
use crate::dircache::{Built, DirCache, DirKey};
use crate::error::{Error, ResultExt};
use crate::kustfile::{self, Kustomization, Var};
use crate::loader::Loader;
use crate::plugins;
use crate::resmap::ResMap;
use crate::resource::Resource;

/// Where a resource or transformer was declared (buildMetadata annotations).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub path: String,
}

impl Origin {
    /// Go's `filepath.Join(origin.Path, p)`: joined and cleaned, relative parts kept.
    pub fn append(&self, p: &str) -> Origin {
        let mut parts: Vec<&str> = Vec::new();
        for part in self.path.split('/').chain(p.split('/')) {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.last().is_some_and(|l| *l != "..") {
                        parts.pop();
                    } else {
                        parts.push("..");
                    }
                }
                other => parts.push(other),
            }
        }
        Origin {
            path: parts.join("/"),
        }
    }
}

/// What a build shares across kustomization levels.
pub struct BuildContext {
    /// buildMetadata of the top kustomization (kustomize passes it down to every base).
    pub build_metadata: Vec<String>,
    /// The schema set by an `openapi:` field. Like kustomize's global schema, the last one set
    /// stays in force for the rest of the build.
    pub registry: std::cell::RefCell<Option<std::sync::Arc<ferry_schema::Registry>>>,
    /// Directory results kept across builds ([`BuildOptions::dir_cache`](crate::BuildOptions)).
    pub dir_cache: Option<std::sync::Arc<DirCache>>,
    /// Every directory the build entered as a resource or component, in order.
    pub entered: std::cell::RefCell<Vec<std::path::PathBuf>>,
}

impl BuildContext {
    /// Parses kept across builds ([`DirCache::with_parse_cache`]).
    pub fn parse_cache(&self) -> Option<&crate::ParseCache> {
        self.dir_cache.as_deref().and_then(DirCache::parse_cache)
    }
}

fn builtin_registry() -> std::sync::Arc<ferry_schema::Registry> {
    static BUILTIN: std::sync::OnceLock<std::sync::Arc<ferry_schema::Registry>> =
        std::sync::OnceLock::new();
    BUILTIN
        .get_or_init(|| std::sync::Arc::new(ferry_schema::Registry::builtin()))
        .clone()
}

impl BuildContext {
    /// The schema strategic merge patches use.
    pub fn registry(&self) -> std::sync::Arc<ferry_schema::Registry> {
        self.registry
            .borrow()
            .clone()
            .unwrap_or_else(builtin_registry)
    }

    /// Replace the schema with the OpenAPI document at `path` (kustomization `openapi.path`).
    pub fn set_openapi(&self, ldr: &Loader, path: &str) -> Result<(), Error> {
        let bytes = ldr.load(path)?;
        let doc: Value = serde_json::from_slice(&bytes)
            .or_else(|_| ferry_yaml::from_str(&String::from_utf8_lossy(&bytes)))
            .map_err(|e| Error::msg(format!("reading openapi schema '{path}': {e}")))?;
        let reg = ferry_schema::Registry::empty();
        reg.add_openapi_document(&doc)
            .map_err(|e| Error::msg(format!("loading openapi schema '{path}': {e}")))?;
        *self.registry.borrow_mut() = Some(std::sync::Arc::new(reg));
        Ok(())
    }

    pub fn origin_annotations(&self) -> bool {
        self.build_metadata.iter().any(|b| b == "originAnnotations")
    }
    pub fn transformer_annotations(&self) -> bool {
        self.build_metadata
            .iter()
            .any(|b| b == "transformerAnnotations")
    }
}

#[derive(Clone, Debug, Default)]
pub struct Accumulator {
    pub resources: ResMap,
    pub config: std::sync::Arc<TransformerConfig>,
    pub vars: Vec<Var>,
}

impl Accumulator {
    fn merge_config(&mut self, c: &std::sync::Arc<TransformerConfig>) -> Result<(), Error> {
        if std::sync::Arc::ptr_eq(&self.config, c) || c.is_empty() {
            return Ok(());
        }
        if self.config.is_empty() {
            self.config = c.clone();
            return Ok(());
        }
        std::sync::Arc::make_mut(&mut self.config)
            .merge(c)
            .map_err(|e| Error::msg(e.to_string()))
            .context(|| "merging config".to_string())
    }

    /// kustomize's MergeVars: bind each var to the one resource its objref names.
    fn merge_vars(&mut self, incoming: &[Var]) -> Result<(), Error> {
        for v in incoming {
            let gvk = v.objref.gvk();
            let target = crate::resid::ResId::new(gvk, &v.objref.name, &v.objref.namespace);
            let strict = !target.namespace.is_empty() || target.gvk.is_cluster_scoped();
            let matched = if strict {
                self.resources.matching_id(&target)
            } else {
                self.resources.matching_any_id(|id| id.gvkn_equals(&target))
            };
            if matched.len() > 1 {
                return Err(Error::msg(format!(
                    "found {} resId matches for var {} (unable to disambiguate)",
                    matched.len(),
                    var_display(v)
                )));
            }
            if let Some(&i) = matched.first() {
                self.resources.list[i].ref_var_names.push(v.name.clone());
            }
        }
        for v in incoming {
            if self.vars.iter().any(|o| o.name == v.name) {
                return Err(Error::msg(format!("var '{}' already encountered", v.name)));
            }
            self.vars.push(v.clone());
        }
        Ok(())
    }

    fn merge_accumulator(&mut self, other: &Accumulator) -> Result<(), Error> {
        for v in &other.vars {
            if self.vars.iter().any(|o| o.name == v.name) {
                return Err(Error::msg(format!("var '{}' already encountered", v.name)));
            }
            self.vars.push(v.clone());
        }
        Ok(())
    }
}

pub fn var_display(v: &Var) -> String {
    format!(
        "{{{} {{{} {} {} {} {}}} {{{}}}}}",
        v.name,
        v.objref.api_version,
        v.objref.kind,
        v.objref.name,
        v.objref.namespace,
        v.objref.group,
        v.fieldref.field_path
    )
}

/// One kustomization directory being built.
pub struct Target<'c> {
    pub ctx: &'c BuildContext,
    pub ldr: Loader,
    pub kust: Kustomization,
    /// Directory of this kustomization relative to the build root.
    pub origin: Origin,
    /// Path of the kustomization file relative to the build root (for annotations).
    pub kust_file_rel: String,
}

impl<'c> Target<'c> {
    pub fn load(ctx: &'c BuildContext, ldr: Loader, origin: Origin) -> Result<Target<'c>, Error> {
        let kust = kustfile::load(ldr.root(), ctx.parse_cache())?;
        Ok(Self::with_kustomization(ctx, ldr, kust, origin))
    }

    pub fn with_kustomization(
        ctx: &'c BuildContext,
        ldr: Loader,
        kust: Kustomization,
        origin: Origin,
    ) -> Target<'c> {
        let kust_file_rel = origin.append("kustomization.yaml").path;
        Target {
            ctx,
            ldr,
            kust,
            origin,
            kust_file_rel,
        }
    }

    pub fn accumulate(&self, ra: Accumulator) -> Result<Accumulator, Error> {
        let mut ra = self
            .accumulate_resources(ra, &self.kust.resources)
            .context(|| "accumulating resources".to_string())?;
        let mut tc = TransformerConfig::builtin_shared();
        for path in &self.kust.configurations {
            let bytes = self.ldr.load(path)?;
            let cfg = ConfigFile::parse(&String::from_utf8_lossy(&bytes))
                .and_then(|f| f.into_config().map_err(|e| e.to_string()))
                .map_err(Error::msg)
                .context(|| format!("loading configuration '{path}'"))?;
            std::sync::Arc::make_mut(&mut tc)
                .merge(&cfg)
                .map_err(|e| Error::msg(e.to_string()))?;
        }
        ra.merge_config(&tc)?;
        if !self.kust.crds.is_empty() {
            let crd_config = crate::crds::config_from_crds(&self.ldr, &self.kust.crds)
                .context(|| format!("loading CRDs {:?}", self.kust.crds))?;
            ra.merge_config(&std::sync::Arc::new(crd_config))?;
        }
        self.run_generators(&mut ra)?;
        let mut ra = self
            .accumulate_components(ra, &self.kust.components)
            .context(|| "accumulating components".to_string())?;
        self.run_transformers(&mut ra)?;
        if !self.kust.validators.is_empty() {
            return Err(Error::msg(
                "validators are external plugins, which ferry does not run",
            ));
        }
        ra.merge_vars(&self.kust.vars)
            .context(|| "merging vars".to_string())?;
        Ok(ra)
    }

    fn accumulate_resources(
        &self,
        mut ra: Accumulator,
        paths: &[String],
    ) -> Result<Accumulator, Error> {
        // Only appends happen here, so one index of ids serves every entry.
        let mut seen = ra.resources.id_index();
        for path in paths {
            match self.accumulate_file(&mut ra, path, &mut seen) {
                Ok(()) => {}
                Err(file_err) => {
                    let is_yaml_error = matches!(
                        &file_err,
                        Error::Context { source, .. } if matches!(**source, Error::Yaml { .. })
                    );
                    let child = match self.ldr.child(path) {
                        Ok(c) => c,
                        Err(e) => {
                            if is_yaml_error {
                                return Err(file_err);
                            }
                            return Err(
                                Error::from(e).context(format!("accumulation err='{file_err}'"))
                            );
                        }
                    };
                    let origin = self.origin.append(path);
                    ra = self
                        .accumulate_directory(ra, child, false, origin, Some(&mut seen))
                        .map_err(|e| e.context(format!("accumulation err='{file_err}'")))?;
                }
            }
        }
        Ok(ra)
    }

    fn accumulate_file(
        &self,
        ra: &mut Accumulator,
        path: &str,
        seen: &mut std::collections::HashSet<u64>,
    ) -> Result<(), Error> {
        let wrap = || format!("accumulating resources from '{path}'");
        let bytes = self.ldr.load(path).context(wrap)?;
        let mut resources =
            resources_from_bytes(&bytes, &self.ldr.display_path(path)).context(wrap)?;
        if self.ctx.origin_annotations() {
            let text = origin_text(&self.origin.append(path).path);
            for r in &mut resources {
                r.origin = Some(text.clone());
            }
        }
        ra.resources
            .append_all_indexed(resources, seen)
            .context(|| format!("merging resources from '{path}'"))
    }

    fn accumulate_directory(
        &self,
        mut ra: Accumulator,
        ldr: Loader,
        is_component: bool,
        origin: Origin,
        seen: Option<&mut std::collections::HashSet<u64>>,
    ) -> Result<Accumulator, Error> {
        let root = ldr.root().to_path_buf();
        self.ctx.entered.borrow_mut().push(root.clone());
        let sub_ra = if is_component {
            let sub = self.load_directory(ldr, true, origin)?;
            let r = sub.accumulate(ra)?;
            ra = Accumulator::default();
            r
        } else {
            self.build_directory(ldr, origin)?
        };
        ra.merge_config(&sub_ra.config)?;
        ra.merge_accumulator(&sub_ra)?;
        let appended = match seen {
            Some(seen) => ra.resources.append_all_indexed(sub_ra.resources.list, seen),
            None => ra.resources.append_all(sub_ra.resources.list),
        };
        appended.context(|| format!("recursed merging from path '{}'", root.display()))?;
        Ok(ra)
    }

    /// A directory named as a resource, built on its own: taken from the build's
    /// [`DirCache`] when it holds it, else built (and kept there when it may be).
    fn build_directory(&self, ldr: Loader, origin: Origin) -> Result<Accumulator, Error> {
        let root = ldr.root().to_path_buf();
        let key = self.ctx.dir_cache.as_ref().and_then(|cache| {
            (cache.covers(&root) && !ldr.has_filter() && self.ctx.registry.borrow().is_none()).then(
                || DirKey {
                    dir: root.clone(),
                    origin: origin.path.clone(),
                    build_metadata: self.ctx.build_metadata.clone(),
                    restrictions: ldr.restrictions(),
                },
            )
        });
        if let (Some(cache), Some(key)) = (&self.ctx.dir_cache, &key)
            && let Some(built) = cache.get(key)
        {
            for dir in &built.entered {
                ldr.check_cycle(dir)?;
            }
            self.ctx
                .entered
                .borrow_mut()
                .extend(built.entered.iter().cloned());
            return Ok(built.accumulated.clone());
        }
        let mark = self.ctx.entered.borrow().len();
        let sub = self.load_directory(ldr, false, origin)?;
        let accumulated = sub
            .accumulate(Accumulator::default())
            .context(|| format!("recursed accumulation of path '{}'", root.display()))?;
        // An `openapi:` field below changed the schema for the rest of the build: the result
        // depended on more than the files.
        if let (Some(cache), Some(key)) = (&self.ctx.dir_cache, key)
            && self.ctx.registry.borrow().is_none()
        {
            let entered = self.ctx.entered.borrow()[mark..].to_vec();
            cache.put(
                key,
                Built {
                    accumulated: accumulated.clone(),
                    entered,
                },
            );
        }
        Ok(accumulated)
    }

    /// The kustomization of a directory named as a resource or component, checked to be the
    /// kind it was named as.
    fn load_directory(
        &self,
        ldr: Loader,
        is_component: bool,
        origin: Origin,
    ) -> Result<Target<'c>, Error> {
        let root = ldr.root().to_path_buf();
        let sub = Target::load(self.ctx, ldr, origin)
            .context(|| format!("couldn't make target for path '{}'", root.display()))?;
        if let Some(path) = sub.kust.openapi.get("path") {
            self.ctx.set_openapi(&sub.ldr, path)?;
        }
        if is_component && !sub.kust.is_component() {
            return Err(Error::msg(format!(
                "{}: expected kind 'Component' for path '{}' but got '{}'",
                kustfile::find(&root)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                root.display(),
                sub.kust.kind
            )));
        }
        if !is_component && sub.kust.is_component() {
            return Err(Error::msg(format!(
                "{}: expected kind != 'Component' for path '{}'",
                kustfile::find(&root)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                root.display()
            )));
        }
        Ok(sub)
    }

    fn accumulate_components(
        &self,
        mut ra: Accumulator,
        paths: &[String],
    ) -> Result<Accumulator, Error> {
        for path in paths {
            let ldr = self
                .ldr
                .child(path)
                .map_err(|e| Error::msg(format!("loader.New {:?}", e.to_string())))?;
            let origin = self.origin.append(path);
            ra = self
                .accumulate_directory(ra, ldr, true, origin, None)
                .map_err(|e| Error::msg(format!("accumulateDirectory: {:?}", e.to_string())))?;
        }
        Ok(ra)
    }

    fn run_generators(&self, ra: &mut Accumulator) -> Result<(), Error> {
        let global = self.kust.generator_options.as_ref();
        for args in &self.kust.config_map_generator {
            let r = crate::generators::generate(
                &self.ldr,
                args,
                global,
                crate::generators::Kind::ConfigMap,
            )?;
            let r = self.with_generator_origin(r, "ConfigMapGenerator", None);
            ra.resources
                .absorb(r)
                .context(|| "merging from generator".to_string())?;
        }
        for args in &self.kust.secret_generator {
            let r = crate::generators::generate(
                &self.ldr,
                args,
                global,
                crate::generators::Kind::Secret,
            )?;
            let r = self.with_generator_origin(r, "SecretGenerator", None);
            ra.resources
                .absorb(r)
                .context(|| "merging from generator".to_string())?;
        }
        if !self.kust.helm_charts.is_empty() || !self.kust.helm_chart_inflation_generator.is_empty()
        {
            return Err(Error::msg(
                "helmCharts need the helm program (kustomize --enable-helm); ferry renders Helm charts through HelmRelease instead",
            ));
        }
        if !self.kust.generators.is_empty() {
            let configs = self.plugin_configs(&self.kust.generators)?;
            for cfg in configs {
                for r in plugins::generate(self, &cfg)? {
                    ra.resources
                        .absorb(r)
                        .context(|| "merging from generator".to_string())?;
                }
            }
        }
        Ok(())
    }

    fn with_generator_origin(&self, mut r: Resource, kind: &str, name: Option<&str>) -> Resource {
        if self.ctx.origin_annotations() {
            r.origin = Some(generator_origin_text(&self.kust_file_rel, kind, name));
        }
        r
    }

    /// Plugin configurations named by `generators:` / `transformers:`: inline YAML, files, or
    /// kustomization directories whose output are the configurations.
    pub fn plugin_configs(&self, entries: &[Value]) -> Result<Vec<Resource>, Error> {
        let mut out = Vec::new();
        let mut paths = Vec::new();
        for e in entries {
            let text = match e {
                Value::String(s) => s.clone(),
                other => return Err(Error::msg(format!("invalid plugin entry {other}"))),
            };
            let inline =
                ferry_yaml::from_str_multi_with(&text, &ferry_yaml::Options::KUSTOMIZE_RESOURCES)
                    .ok()
                    .filter(|docs| !docs.is_empty() && docs.iter().all(Value::is_object));
            match inline {
                Some(docs) => {
                    for d in docs {
                        if let Value::Object(m) = d {
                            out.push(Resource::new(m));
                        }
                    }
                }
                None => paths.push(text),
            }
        }
        if !paths.is_empty() {
            let ra = self.accumulate_resources(Accumulator::default(), &paths)?;
            out.extend(ra.resources.list);
        }
        Ok(out)
    }

    fn run_transformers(&self, ra: &mut Accumulator) -> Result<(), Error> {
        let steps = crate::builtins::configure(self, &ra.config)?;
        for step in steps {
            step.run(self, &mut ra.resources)?;
            if self.ctx.transformer_annotations() {
                let text = step.origin_entry(&self.kust_file_rel);
                for r in &mut ra.resources.list {
                    r.transformations.push(text.clone());
                }
            }
        }
        if !self.kust.transformers.is_empty() {
            let configs = self.plugin_configs(&self.kust.transformers)?;
            for cfg in configs {
                let step = plugins::transformer(self, &cfg)?;
                step.run(self, &mut ra.resources)?;
                if self.ctx.transformer_annotations() {
                    let text = step.origin_entry(&self.kust_file_rel);
                    for r in &mut ra.resources.list {
                        r.transformations.push(text.clone());
                    }
                }
            }
        }
        Ok(())
    }
}

/// The `config.kubernetes.io/origin` annotation for a resource read from a file.
pub fn origin_text(path: &str) -> String {
    format!("path: {}\n", yaml_scalar(path))
}

pub fn generator_origin_text(configured_in: &str, kind: &str, name: Option<&str>) -> String {
    let mut s = format!(
        "configuredIn: {}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n",
        yaml_scalar(configured_in)
    );
    if let Some(n) = name {
        s.push_str(&format!("  name: {}\n", yaml_scalar(n)));
    }
    s
}

/// A scalar as it appears inside a small YAML annotation value.
pub fn yaml_scalar(s: &str) -> String {
    let doc = ferry_yaml::to_string(&Value::String(s.to_string()));
    doc.trim_end_matches('\n').to_string()
}

/// Resources from a YAML stream, as kustomize's resource factory reads them: empty documents
/// dropped, `*List` kinds expanded (their items go after the other documents), kind and name
/// required.
pub fn resources_from_bytes(bytes: &[u8], path: &Path) -> Result<Vec<Resource>, Error> {
    resources_from_docs(documents(bytes, path)?, path)
}

/// The YAML documents of a resource file, as kustomize reads them.
pub(crate) fn documents(bytes: &[u8], path: &Path) -> Result<Vec<Value>, Error> {
    let text = String::from_utf8_lossy(bytes);
    ferry_yaml::from_str_multi_with(&text, &ferry_yaml::Options::KUSTOMIZE_RESOURCES).map_err(
        |source| Error::Yaml {
            path: path.to_path_buf(),
            source,
        },
    )
}

/// The resources the [`documents`] of the file at `path` hold.
pub(crate) fn resources_from_docs(docs: Vec<Value>, path: &Path) -> Result<Vec<Resource>, Error> {
    let mut queue: std::collections::VecDeque<Value> = docs.into();
    let mut out = Vec::new();
    while let Some(doc) = queue.pop_front() {
        let map = match doc {
            Value::Object(m) if m.is_empty() => continue,
            Value::Object(m) => m,
            Value::Null => continue,
            other => {
                return Err(Error::msg(format!(
                    "{}: expected an object, found {}",
                    path.display(),
                    json_kind(&other)
                )));
            }
        };
        let kind = crate::resource::str_at(&map, &["kind"]).to_string();
        if kind.is_empty() {
            return Err(Error::msg(format!(
                "missing kind in object {} (in '{}')",
                short(&map),
                path.display()
            )));
        }
        if kind.ends_with("List") {
            match map.get("items") {
                None => {}
                Some(Value::Null) => continue,
                Some(Value::Array(items)) => {
                    for item in items {
                        queue.push_back(normalize_item(item.clone()));
                    }
                    continue;
                }
                Some(_) => {
                    return Err(Error::msg(format!(
                        "expected array in {kind}/items (in '{}')",
                        path.display()
                    )));
                }
            }
        } else if crate::resource::str_at(&map, &["metadata", "name"]).is_empty() {
            return Err(Error::msg(format!(
                "missing metadata.name in object {} (in '{}')",
                short(&map),
                path.display()
            )));
        }
        if map.values().any(has_null_list_item) {
            return Err(Error::msg(format!(
                "empty item in a list of object {} (in '{}')",
                short(&map),
                path.display()
            )));
        }
        out.push(Resource::new(normalize_annotations(map)));
    }
    Ok(out)
}

/// List items were decoded as plain values; give their annotations kustomize's string form.
fn normalize_item(v: Value) -> Value {
    match v {
        Value::Object(mut m) => {
            if let Some(Value::Object(md)) = m.get_mut("metadata")
                && let Some(Value::Object(ann)) = md.get_mut("annotations")
            {
                for v in ann.values_mut() {
                    let s = match v {
                        Value::String(_) => continue,
                        Value::Null => "null".to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => String::new(),
                    };
                    *v = Value::String(s);
                }
            }
            Value::Object(m)
        }
        other => other,
    }
}

/// kustomize drops `metadata.annotations` when it is empty or not a map.
fn normalize_annotations(mut map: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(md)) = map.get_mut("metadata") {
        let drop = match md.get("annotations") {
            Some(Value::Object(a)) => a.is_empty(),
            Some(_) => true,
            None => false,
        };
        if drop {
            md.remove("annotations");
        }
    }
    map
}

fn has_null_list_item(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().any(|x| x.is_null() || has_null_list_item(x)),
        Value::Object(m) => m.values().any(has_null_list_item),
        _ => false,
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        _ => "null",
    }
}

fn short(m: &Map<String, Value>) -> String {
    let s = Value::Object(m.clone()).to_string();
    if s.len() > 200 {
        format!(
            "{}...",
            &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}
