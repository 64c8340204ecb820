//! Read-only access to an unstructured Kubernetes object: its group, version and kind, and typed
//! lookups of nested fields that never fail (a missing or mistyped field reads as absent).

use serde_json::{Map, Value};

/// One object under assessment, with the fields every rule reads looked up once.
#[derive(Debug, Clone)]
pub struct Object<'a> {
    /// The whole object.
    pub value: &'a Value,
    /// API group ("" for the core group).
    pub group: &'a str,
    /// API version without the group ("v1").
    pub version: &'a str,
    /// Kind ("Deployment").
    pub kind: &'a str,
    status: Option<&'a Map<String, Value>>,
    generation: Option<i64>,
    observed_generation: Option<i64>,
    deleting: bool,
    conditions: Conditions<'a>,
}

impl<'a> Object<'a> {
    /// Reads `apiVersion` and `kind`; both may be missing (they then read as "").
    pub fn new(value: &'a Value) -> Object<'a> {
        let api_version = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let (group, version) = match api_version.rsplit_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        let metadata = value.get("metadata").and_then(Value::as_object);
        let status = value.get("status").and_then(Value::as_object);
        let generation = metadata.and_then(|m| m.get("generation")).and_then(as_int);
        let deleting = metadata
            .and_then(|m| m.get("deletionTimestamp"))
            .is_some_and(|v| !v.is_null() && v.as_str() != Some(""));
        Object {
            value,
            group,
            version,
            kind,
            status,
            generation,
            observed_generation: status
                .and_then(|s| s.get("observedGeneration"))
                .and_then(as_int),
            deleting,
            conditions: Conditions::at(status.and_then(|s| s.get("conditions"))),
        }
    }

    /// The value at a path of object keys.
    pub fn get(&self, path: &[&str]) -> Option<&'a Value> {
        lookup(self.value, path)
    }

    /// A string at a path.
    pub fn str(&self, path: &[&str]) -> Option<&'a str> {
        self.get(path).and_then(Value::as_str)
    }

    /// A string at a path, "" when absent.
    pub fn str_or_empty(&self, path: &[&str]) -> &'a str {
        self.str(path).unwrap_or("")
    }

    /// An integer at a path (a JSON number with no fraction).
    pub fn int(&self, path: &[&str]) -> Option<i64> {
        self.get(path).and_then(as_int)
    }

    /// A boolean at a path; `false` when absent.
    pub fn flag(&self, path: &[&str]) -> bool {
        self.get(path).and_then(Value::as_bool).unwrap_or(false)
    }

    /// An array at a path; empty when absent.
    pub fn list(&self, path: &[&str]) -> &'a [Value] {
        self.get(path)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// `.status` as a map, when it is one.
    pub fn status(&self) -> Option<&'a Map<String, Value>> {
        self.status
    }

    /// True when `.status` is absent, null or an empty map.
    pub fn has_no_status(&self) -> bool {
        self.status().is_none_or(Map::is_empty)
    }

    /// `.metadata.name`.
    pub fn name(&self) -> &'a str {
        self.str_or_empty(&["metadata", "name"])
    }

    /// `.metadata.generation`.
    pub fn generation(&self) -> Option<i64> {
        self.generation
    }

    /// `.status.observedGeneration`.
    pub fn observed_generation(&self) -> Option<i64> {
        self.observed_generation
    }

    /// True when the controller has not yet observed the latest spec: both generations are set
    /// and differ.
    pub fn generation_not_observed(&self) -> bool {
        matches!((self.generation(), self.observed_generation()), (Some(g), Some(o)) if g != o)
    }

    /// True when `metadata.deletionTimestamp` is set.
    pub fn is_deleting(&self) -> bool {
        self.deleting
    }

    /// An annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.get(&["metadata", "annotations", key])
            .and_then(Value::as_str)
    }

    /// The conditions at `.status.conditions`.
    pub fn conditions(&self) -> &Conditions<'a> {
        &self.conditions
    }
}

/// The value at a path of object keys below `value`.
pub fn lookup<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut current = value;
    for key in path {
        current = current.as_object()?.get(*key)?;
    }
    Some(current)
}

/// A JSON number with no fraction as an integer (YAML and JSON writers sometimes give `1.0`).
pub fn as_int(value: &Value) -> Option<i64> {
    if let Some(n) = value.as_i64() {
        return Some(n);
    }
    let f = value.as_f64()?;
    // Exact comparison on purpose: only whole numbers within i64's range count.
    (f.fract() == 0.0 && f >= i64::MIN as f64 && f <= i64::MAX as f64).then_some(f as i64)
}

/// A string field of a map-like value, "" when absent or not a string.
pub fn field<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// One entry of a conditions list, with the standard fields Kubernetes API conventions name.
#[derive(Debug, Clone, Copy)]
pub struct Condition<'a> {
    /// `type`.
    pub kind: &'a str,
    /// `status`: "True", "False" or "Unknown" by convention (some controllers write booleans).
    pub status: &'a str,
    /// `reason`, "" when absent.
    pub reason: &'a str,
    /// `message`, "" when absent.
    pub message: &'a str,
    /// `observedGeneration`, when the condition carries one.
    pub observed_generation: Option<i64>,
}

impl<'a> Condition<'a> {
    /// Reads one entry in a single pass over its fields (conditions are read on every
    /// assessment, so no per-field map lookups).
    fn from_value(value: &'a Value) -> Option<Condition<'a>> {
        let map = value.as_object()?;
        let mut condition = Condition {
            kind: "",
            status: "",
            reason: "",
            message: "",
            observed_generation: None,
        };
        let mut has_type = false;
        for (key, field) in map {
            match key.as_str() {
                "type" => {
                    condition.kind = field.as_str()?;
                    has_type = true;
                }
                "status" => {
                    condition.status = match field {
                        Value::String(s) => s.as_str(),
                        Value::Bool(true) => "True",
                        Value::Bool(false) => "False",
                        _ => "",
                    }
                }
                "reason" => condition.reason = field.as_str().unwrap_or(""),
                "message" => condition.message = field.as_str().unwrap_or(""),
                "observedGeneration" => condition.observed_generation = as_int(field),
                _ => {}
            }
        }
        has_type.then_some(condition)
    }

    /// `status` is "True" (any case).
    pub fn is_true(&self) -> bool {
        self.status.eq_ignore_ascii_case("true")
    }

    /// `status` is "False" (any case).
    pub fn is_false(&self) -> bool {
        self.status.eq_ignore_ascii_case("false")
    }

    /// `status` is "Unknown" (any case).
    pub fn is_unknown(&self) -> bool {
        self.status.eq_ignore_ascii_case("unknown")
    }
}

/// The well-formed conditions of one list, in order, read once.
#[derive(Debug, Clone, Default)]
pub struct Conditions<'a> {
    entries: Vec<Condition<'a>>,
}

impl<'a> Conditions<'a> {
    /// The conditions in a JSON array (none when the value is absent or not an array).
    pub fn at(value: Option<&'a Value>) -> Conditions<'a> {
        Conditions {
            entries: value
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(Condition::from_value).collect())
                .unwrap_or_default(),
        }
    }

    /// Every well-formed condition, in order.
    pub fn iter(&self) -> impl Iterator<Item = Condition<'a>> + '_ {
        self.entries.iter().copied()
    }

    /// The first condition of a type.
    pub fn get(&self, kind: &str) -> Option<Condition<'a>> {
        self.iter().find(|c| c.kind == kind)
    }

    /// True when there is no well-formed condition.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
