//! The compact schema model: an arena of nodes converted once from OpenAPI v2/v3 (or a CRD's
//! `openAPIV3Schema`), `$ref`s resolved to node ids, so a walk is a few index lookups and never
//! touches JSON again.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Index of a node in its [`SchemaSet`].
pub type NodeId = u32;

/// The JSON type a schema declares (`type:`); absent means any type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
}

impl JsonType {
    fn parse(s: &str) -> Option<JsonType> {
        Some(match s {
            "object" => JsonType::Object,
            "array" => JsonType::Array,
            "string" => JsonType::String,
            "integer" => JsonType::Integer,
            "number" => JsonType::Number,
            "boolean" => JsonType::Boolean,
            _ => return None,
        })
    }

    /// The name used in OpenAPI and in the API server's messages.
    pub fn as_str(self) -> &'static str {
        match self {
            JsonType::Object => "object",
            JsonType::Array => "array",
            JsonType::String => "string",
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::Boolean => "boolean",
        }
    }
}

/// `x-kubernetes-list-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListType {
    Atomic,
    Set,
    Map,
}

/// `x-kubernetes-map-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapType {
    Atomic,
    Granular,
}

/// `additionalProperties`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdditionalProperties {
    /// Not stated.
    #[default]
    Absent,
    /// `additionalProperties: true|false`.
    Bool(bool),
    /// `additionalProperties: {schema}`.
    Schema(NodeId),
}

/// Numeric and size limits of a node (OpenAPI validation keywords).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    pub multiple_of: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub unique_items: bool,
    pub pattern: Option<Box<str>>,
}

/// One schema node. Fields are public for reading; build nodes with [`SchemaSet`] constructors.
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub ty: Option<JsonType>,
    pub format: Option<Box<str>>,
    pub nullable: bool,
    /// Sorted by name, for binary search.
    pub properties: Box<[(Box<str>, NodeId)]>,
    pub required: Box<[Box<str>]>,
    pub items: Option<NodeId>,
    pub additional_properties: AdditionalProperties,
    pub enum_values: Option<Box<[Value]>>,
    pub default: Option<Value>,
    pub limits: Box<Limits>,
    pub all_of: Box<[NodeId]>,
    pub any_of: Box<[NodeId]>,
    pub one_of: Box<[NodeId]>,
    pub not: Option<NodeId>,
    pub patch_merge_key: Option<Box<str>>,
    /// `x-kubernetes-patch-strategy`, split on commas (`merge`, `replace`, `retainKeys`).
    pub patch_strategies: Box<[Box<str>]>,
    pub list_type: Option<ListType>,
    pub list_map_keys: Box<[Box<str>]>,
    pub map_type: Option<MapType>,
    pub int_or_string: bool,
    pub preserve_unknown_fields: bool,
    pub embedded_resource: bool,
    /// `x-kubernetes-validations` rules as written (objects with `rule`, `message`, ...).
    pub validations: Box<[Value]>,
    /// Properties whose reference site gives a `default` (OpenAPI v3 `allOf: [$ref], default: {}`):
    /// non-pointer Go structs, which the server always has.
    pub site_defaults: Box<[(Box<str>, Value)]>,
    /// The name of the definition this node was converted from, if any.
    pub definition: Option<Box<str>>,
}

/// An arena of schema nodes and the named definitions in it.
#[derive(Debug, Default)]
pub struct SchemaSet {
    nodes: Vec<Node>,
    named: HashMap<Box<str>, NodeId>,
}

/// A node together with its arena: the handle every walker uses.
#[derive(Clone, Copy)]
pub struct Schema<'a> {
    set: &'a SchemaSet,
    id: NodeId,
}

impl std::fmt::Debug for Schema<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema")
            .field("id", &self.id)
            .field("definition", &self.node().definition)
            .field("type", &self.node().ty)
            .finish()
    }
}

impl<'a> Schema<'a> {
    /// The node's data.
    pub fn node(&self) -> &'a Node {
        &self.set.nodes[self.id as usize]
    }

    /// The node's id in its set.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The arena this node lives in.
    pub fn set(&self) -> &'a SchemaSet {
        self.set
    }

    fn at(&self, id: NodeId) -> Schema<'a> {
        Schema { set: self.set, id }
    }

    /// The declared type.
    pub fn ty(&self) -> Option<JsonType> {
        self.node().ty
    }

    /// The schema of property `name` (declared `properties` only).
    pub fn property(&self, name: &str) -> Option<Schema<'a>> {
        let props = &self.node().properties;
        props
            .binary_search_by(|(k, _)| (**k).cmp(name))
            .ok()
            .map(|i| self.at(props[i].1))
    }

    /// Declared properties in name order.
    pub fn properties(&self) -> impl Iterator<Item = (&'a str, Schema<'a>)> + 'a {
        let set = self.set;
        self.node()
            .properties
            .iter()
            .map(move |(k, id)| (&**k, Schema { set, id: *id }))
    }

    /// The schema of a field: a declared property, else the `additionalProperties` schema.
    pub fn field(&self, name: &str) -> Option<Schema<'a>> {
        self.property(name).or_else(|| self.additional_properties())
    }

    /// The `additionalProperties` schema, if one is given.
    pub fn additional_properties(&self) -> Option<Schema<'a>> {
        match self.node().additional_properties {
            AdditionalProperties::Schema(id) => Some(self.at(id)),
            _ => None,
        }
    }

    /// The `items` schema of an array.
    pub fn items(&self) -> Option<Schema<'a>> {
        self.node().items.map(|id| self.at(id))
    }

    /// `allOf`, `anyOf`, `oneOf` branches (value validations in structural schemas).
    pub fn all_of(&self) -> impl Iterator<Item = Schema<'a>> + 'a {
        let set = self.set;
        self.node()
            .all_of
            .iter()
            .map(move |id| Schema { set, id: *id })
    }
    pub fn any_of(&self) -> impl Iterator<Item = Schema<'a>> + 'a {
        let set = self.set;
        self.node()
            .any_of
            .iter()
            .map(move |id| Schema { set, id: *id })
    }
    pub fn one_of(&self) -> impl Iterator<Item = Schema<'a>> + 'a {
        let set = self.set;
        self.node()
            .one_of
            .iter()
            .map(move |id| Schema { set, id: *id })
    }
    pub fn not(&self) -> Option<Schema<'a>> {
        self.node().not.map(|id| self.at(id))
    }

    /// `x-kubernetes-patch-merge-key`.
    pub fn patch_merge_key(&self) -> Option<&'a str> {
        self.node().patch_merge_key.as_deref()
    }

    /// Whether `x-kubernetes-patch-strategy` names `strategy` (`merge`, `replace`, `retainKeys`).
    pub fn has_patch_strategy(&self, strategy: &str) -> bool {
        self.node()
            .patch_strategies
            .iter()
            .any(|s| &**s == strategy)
    }

    /// Whether the node is (or may be) an object with fields.
    pub fn is_object_like(&self) -> bool {
        let n = self.node();
        n.ty == Some(JsonType::Object) || !n.properties.is_empty()
    }
}

/// A schema could not be converted.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    #[error("schema reference {reference:?} does not name a definition of the document")]
    UnresolvedRef { reference: String },
    #[error("schema nesting deeper than {limit} levels at {path}")]
    TooDeep { path: String, limit: usize },
    #[error("schema at {path} is not an object")]
    NotAnObject { path: String },
}

const MAX_DEPTH: usize = 128;

impl SchemaSet {
    /// Looks up a node by id.
    pub fn get(&self, id: NodeId) -> Schema<'_> {
        Schema { set: self, id }
    }

    /// The node converted from definition `name` (`io.k8s.api.apps.v1.Deployment`).
    pub fn definition(&self, name: &str) -> Option<Schema<'_>> {
        self.named.get(name).map(|id| self.get(*id))
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the set holds no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub(crate) fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    fn push(&mut self, node: Node) -> NodeId {
        let id = u32::try_from(self.nodes.len()).expect("fewer than 4 billion schema nodes");
        self.nodes.push(node);
        id
    }
}

/// Converts OpenAPI schemas into a [`SchemaSet`]. Definitions are converted on first reference,
/// so a document's unused definitions cost nothing beyond parsing.
pub(crate) struct Converter<'d> {
    pub(crate) set: SchemaSet,
    defs: &'d Map<String, Value>,
    /// Extra definitions consulted when `defs` lacks a name (ObjectMeta for CRDs).
    fallback: Option<&'d Map<String, Value>>,
}

impl<'d> Converter<'d> {
    pub(crate) fn new(
        defs: &'d Map<String, Value>,
        fallback: Option<&'d Map<String, Value>>,
    ) -> Self {
        Converter {
            set: SchemaSet::default(),
            defs,
            fallback,
        }
    }

    pub(crate) fn finish(self) -> SchemaSet {
        self.set
    }

    /// The node of a named definition, converting it on first use.
    pub(crate) fn named(&mut self, name: &str) -> Result<NodeId, ModelError> {
        self.named_at(name, 0)
    }

    fn named_at(&mut self, name: &str, depth: usize) -> Result<NodeId, ModelError> {
        if let Some(id) = self.set.named.get(name) {
            return Ok(*id);
        }
        let def = self
            .defs
            .get(name)
            .or_else(|| self.fallback.and_then(|f| f.get(name)))
            .ok_or_else(|| ModelError::UnresolvedRef {
                reference: name.to_owned(),
            })?;
        if depth > MAX_DEPTH {
            return Err(ModelError::TooDeep {
                path: name.to_owned(),
                limit: MAX_DEPTH,
            });
        }
        if let Some(target) = def.as_object().and_then(ref_target) {
            // A definition that is only a reference is an alias.
            let id = self.named_at(target, depth + 1)?;
            self.set.named.insert(name.into(), id);
            return Ok(id);
        }
        // Reserve the slot first: definitions may refer to themselves (JSONSchemaProps).
        let id = self.set.push(Node::default());
        self.set.named.insert(name.into(), id);
        let mut node = self.node(def, name, depth)?;
        node.definition = Some(name.into());
        self.set.nodes[id as usize] = node;
        Ok(id)
    }

    /// Converts an inline schema value (which may be a `$ref`) and returns its node id.
    pub(crate) fn convert(&mut self, value: &Value, path: &str) -> Result<NodeId, ModelError> {
        self.convert_at(value, path, 0)
    }

    fn convert_at(
        &mut self,
        value: &Value,
        path: &str,
        depth: usize,
    ) -> Result<NodeId, ModelError> {
        if depth > MAX_DEPTH {
            return Err(ModelError::TooDeep {
                path: path.to_owned(),
                limit: MAX_DEPTH,
            });
        }
        let obj = value.as_object().ok_or_else(|| ModelError::NotAnObject {
            path: path.to_owned(),
        })?;
        if let Some(target) = ref_target(obj) {
            return self.named_at(target, depth + 1);
        }
        // OpenAPI v3 wraps references that carry a description or default: `allOf: [{$ref}]`.
        if let Some(Value::Array(all)) = obj.get("allOf")
            && all.len() == 1
            && !obj.contains_key("properties")
            && !obj.contains_key("type")
            && let Some(target) = all[0].as_object().and_then(ref_target)
        {
            let target_id = self.named_at(target, depth + 1)?;
            let has_own_facts = obj
                .keys()
                .any(|k| k.starts_with("x-kubernetes-") || k == "nullable");
            if !has_own_facts {
                return Ok(target_id);
            }
            // Extensions on the reference site override the definition's (CRDs built from Go
            // types put list/map types there): copy the definition and apply them.
            let mut node = self.set.nodes[target_id as usize].clone();
            apply_extensions(&mut node, obj);
            // `definition` still names the type the node was copied from (Go type names in
            // decode errors come from it).
            return Ok(self.set.push(node));
        }
        let node = self.node(value, path, depth)?;
        Ok(self.set.push(node))
    }

    fn node(&mut self, value: &Value, path: &str, depth: usize) -> Result<Node, ModelError> {
        let obj = value.as_object().ok_or_else(|| ModelError::NotAnObject {
            path: path.to_owned(),
        })?;
        let mut node = Node {
            ty: obj
                .get("type")
                .and_then(Value::as_str)
                .and_then(JsonType::parse),
            format: obj.get("format").and_then(Value::as_str).map(Into::into),
            nullable: obj
                .get("nullable")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            default: obj.get("default").cloned(),
            enum_values: obj
                .get("enum")
                .and_then(Value::as_array)
                .map(|a| a.clone().into_boxed_slice()),
            required: string_list(obj.get("required")),
            ..Node::default()
        };
        node.limits = Box::new(limits(obj));
        if let Some(Value::Object(props)) = obj.get("properties") {
            let mut out = Vec::with_capacity(props.len());
            let mut site_defaults = Vec::new();
            for (name, sub) in props {
                let id = self.convert_at(sub, &format!("{path}.{name}"), depth + 1)?;
                out.push((Box::<str>::from(name.as_str()), id));
                if let Some(d) = sub.get("default")
                    && sub.get("allOf").is_some()
                {
                    site_defaults.push((Box::<str>::from(name.as_str()), d.clone()));
                }
            }
            node.site_defaults = site_defaults.into_boxed_slice();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            node.properties = out.into_boxed_slice();
        }
        if let Some(items) = obj.get("items") {
            // `items` may be an array of schemas in JSON Schema; OpenAPI only allows one.
            let items = match items {
                Value::Array(a) => a.first(),
                other => Some(other),
            };
            if let Some(items) = items {
                node.items = Some(self.convert_at(items, &format!("{path}[]"), depth + 1)?);
            }
        }
        node.additional_properties = match obj.get("additionalProperties") {
            None => AdditionalProperties::Absent,
            Some(Value::Bool(b)) => AdditionalProperties::Bool(*b),
            Some(sub) => AdditionalProperties::Schema(self.convert_at(
                sub,
                &format!("{path}.*"),
                depth + 1,
            )?),
        };
        for (key, slot) in [("allOf", 0), ("anyOf", 1), ("oneOf", 2)] {
            if let Some(Value::Array(branches)) = obj.get(key) {
                let mut ids = Vec::with_capacity(branches.len());
                for b in branches {
                    ids.push(self.convert_at(b, path, depth + 1)?);
                }
                let ids = ids.into_boxed_slice();
                match slot {
                    0 => node.all_of = ids,
                    1 => node.any_of = ids,
                    _ => node.one_of = ids,
                }
            }
        }
        if let Some(not) = obj.get("not") {
            node.not = Some(self.convert_at(not, path, depth + 1)?);
        }
        // Kubernetes' IntOrString: `format: int-or-string` with `oneOf` integer|string (v3), or
        // `type: string, format: int-or-string` (v2).
        if node.format.as_deref() == Some("int-or-string") {
            node.int_or_string = true;
            node.ty = None;
            node.one_of = Box::new([]);
        }
        apply_extensions(&mut node, obj);
        Ok(node)
    }
}

fn ref_target(obj: &Map<String, Value>) -> Option<&str> {
    let r = obj.get("$ref")?.as_str()?;
    r.strip_prefix("#/components/schemas/")
        .or_else(|| r.strip_prefix("#/definitions/"))
}

fn apply_extensions(node: &mut Node, obj: &Map<String, Value>) {
    if let Some(k) = obj
        .get("x-kubernetes-patch-merge-key")
        .and_then(Value::as_str)
    {
        node.patch_merge_key = Some(k.into());
    }
    if let Some(s) = obj
        .get("x-kubernetes-patch-strategy")
        .and_then(Value::as_str)
    {
        node.patch_strategies = s.split(',').map(|p| p.trim().into()).collect();
    }
    match obj.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("atomic") => node.list_type = Some(ListType::Atomic),
        Some("set") => node.list_type = Some(ListType::Set),
        Some("map") => node.list_type = Some(ListType::Map),
        _ => {}
    }
    if obj.contains_key("x-kubernetes-list-map-keys") {
        node.list_map_keys = string_list(obj.get("x-kubernetes-list-map-keys"));
    }
    match obj.get("x-kubernetes-map-type").and_then(Value::as_str) {
        Some("atomic") => node.map_type = Some(MapType::Atomic),
        Some("granular") => node.map_type = Some(MapType::Granular),
        _ => {}
    }
    if obj
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true)
    {
        node.int_or_string = true;
    }
    if obj
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
    {
        node.preserve_unknown_fields = true;
    }
    if obj
        .get("x-kubernetes-embedded-resource")
        .and_then(Value::as_bool)
        == Some(true)
    {
        node.embedded_resource = true;
    }
    if let Some(Value::Array(rules)) = obj.get("x-kubernetes-validations") {
        node.validations = rules.clone().into_boxed_slice();
    }
    if obj.get("nullable").and_then(Value::as_bool) == Some(true) {
        node.nullable = true;
    }
}

fn string_list(v: Option<&Value>) -> Box<[Box<str>]> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(Into::into).collect(),
        _ => Box::new([]),
    }
}

fn limits(obj: &Map<String, Value>) -> Limits {
    let num = |k: &str| obj.get(k).and_then(Value::as_f64);
    let uint = |k: &str| obj.get(k).and_then(Value::as_u64);
    let flag = |k: &str| obj.get(k).and_then(Value::as_bool).unwrap_or(false);
    Limits {
        minimum: num("minimum"),
        maximum: num("maximum"),
        exclusive_minimum: flag("exclusiveMinimum"),
        exclusive_maximum: flag("exclusiveMaximum"),
        multiple_of: num("multipleOf"),
        min_length: uint("minLength"),
        max_length: uint("maxLength"),
        min_items: uint("minItems"),
        max_items: uint("maxItems"),
        min_properties: uint("minProperties"),
        max_properties: uint("maxProperties"),
        unique_items: flag("uniqueItems"),
        pattern: obj.get("pattern").and_then(Value::as_str).map(Into::into),
    }
}
