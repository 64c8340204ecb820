//! Label selectors (equality and set-based, as `labels.Parse` accepts them) and field selectors
//! (`metadata.name`, `metadata.namespace` and the per-kind fields the real server indexes).

use serde_json::{Map, Value};

/// Why a selector string was rejected (400 BadRequest).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("unable to parse requirement: {0}")]
    Label(String),
    #[error("invalid field selector: {0}")]
    Field(String),
    #[error("field label not supported: {0}")]
    UnsupportedField(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    Greater(i64),
    Less(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(input: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&input[start..]);
    parts
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 317
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(value: &str) -> bool {
    value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_set(raw: &str, whole: &str) -> Result<Vec<String>, SelectorError> {
    let inner = raw
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            SelectorError::Label(format!("{whole}: expected a parenthesized set of values"))
        })?;
    let values: Vec<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
    if values.iter().any(|v| !valid_value(v)) {
        return Err(SelectorError::Label(format!(
            "{whole}: invalid label value"
        )));
    }
    Ok(values)
}

impl LabelSelector {
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        if input.trim().is_empty() {
            return Ok(Self { requirements });
        }
        for raw in split_top_level(input) {
            let part = raw.trim();
            if part.is_empty() {
                return Err(SelectorError::Label(format!(
                    "{input}: found '', expected: identifier"
                )));
            }
            let requirement = if let Some(key) = part.strip_prefix('!') {
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::DoesNotExist,
                }
            } else if let Some((key, value)) = part.split_once("!=") {
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::NotEquals(value.trim().to_owned()),
                }
            } else if let Some((key, value)) = part.split_once("==") {
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::Equals(value.trim().to_owned()),
                }
            } else if let Some((key, value)) = part.split_once('=') {
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::Equals(value.trim().to_owned()),
                }
            } else if let Some((key, rest)) = split_word(part, " notin ") {
                Requirement {
                    key: key.to_owned(),
                    op: Op::NotIn(parse_set(rest, part)?),
                }
            } else if let Some((key, rest)) = split_word(part, " in ") {
                Requirement {
                    key: key.to_owned(),
                    op: Op::In(parse_set(rest, part)?),
                }
            } else if let Some((key, value)) = part.split_once('>') {
                let n = value
                    .trim()
                    .parse()
                    .map_err(|_| SelectorError::Label(format!("{part}: not an integer")))?;
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::Greater(n),
                }
            } else if let Some((key, value)) = part.split_once('<') {
                let n = value
                    .trim()
                    .parse()
                    .map_err(|_| SelectorError::Label(format!("{part}: not an integer")))?;
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::Less(n),
                }
            } else {
                Requirement {
                    key: part.to_owned(),
                    op: Op::Exists,
                }
            };
            if !valid_key(&requirement.key) {
                return Err(SelectorError::Label(format!(
                    "{part}: invalid label key {:?}",
                    requirement.key
                )));
            }
            if let Op::Equals(v) | Op::NotEquals(v) = &requirement.op
                && !valid_value(v)
            {
                return Err(SelectorError::Label(format!(
                    "{part}: invalid label value {v:?}"
                )));
            }
            requirements.push(requirement);
        }
        Ok(Self { requirements })
    }

    /// Builds a selector from a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`).
    pub fn from_object(selector: &Value) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in labels {
                requirements.push(Requirement {
                    key: k.clone(),
                    op: Op::Equals(v.as_str().unwrap_or_default().to_owned()),
                });
            }
        }
        if let Some(exprs) = selector.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let values: Vec<String> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                let op = match e.get("operator").and_then(Value::as_str) {
                    Some("In") => Op::In(values),
                    Some("NotIn") => Op::NotIn(values),
                    Some("Exists") => Op::Exists,
                    Some("DoesNotExist") => Op::DoesNotExist,
                    other => {
                        return Err(SelectorError::Label(format!(
                            "{other:?} is not a valid label selector operator"
                        )));
                    }
                };
                requirements.push(Requirement { key, op });
            }
        }
        Ok(Self { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        self.requirements.iter().all(|r| {
            let value = labels.and_then(|l| l.get(&r.key)).and_then(Value::as_str);
            match &r.op {
                Op::Equals(v) => value == Some(v.as_str()),
                Op::NotEquals(v) => value != Some(v.as_str()),
                Op::In(vs) => value.is_some_and(|x| vs.iter().any(|v| v == x)),
                Op::NotIn(vs) => value.is_none_or(|x| !vs.iter().any(|v| v == x)),
                Op::Exists => value.is_some(),
                Op::DoesNotExist => value.is_none(),
                Op::Greater(n) => value
                    .and_then(|x| x.parse::<i64>().ok())
                    .is_some_and(|x| x > *n),
                Op::Less(n) => value
                    .and_then(|x| x.parse::<i64>().ok())
                    .is_some_and(|x| x < *n),
            }
        })
    }

    pub fn matches_object(&self, object: &Value) -> bool {
        self.matches(
            object
                .pointer("/metadata/labels")
                .and_then(Value::as_object),
        )
    }

    /// The selector in the string form `kubectl` and the scale subresource use.
    pub fn to_selector_string(&self) -> String {
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match &r.op {
                Op::Equals(v) => format!("{}={v}", r.key),
                Op::NotEquals(v) => format!("{}!={v}", r.key),
                Op::In(vs) => format!("{} in ({})", r.key, vs.join(",")),
                Op::NotIn(vs) => format!("{} notin ({})", r.key, vs.join(",")),
                Op::Exists => r.key.clone(),
                Op::DoesNotExist => format!("!{}", r.key),
                Op::Greater(n) => format!("{}>{n}", r.key),
                Op::Less(n) => format!("{}<{n}", r.key),
            })
            .collect();
        parts.join(",")
    }
}

fn split_word<'a>(part: &'a str, word: &str) -> Option<(&'a str, &'a str)> {
    let idx = part.find(word)?;
    Some((part[..idx].trim(), &part[idx + word.len()..]))
}

/// A parsed field selector: `field=value`, `field==value`, `field!=value`, comma-separated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<(String, bool, String)>,
}

/// Fields a kind can be selected by besides `metadata.name` and `metadata.namespace`.
fn kind_fields(group: &str, kind: &str) -> &'static [&'static str] {
    match (group, kind) {
        ("", "Pod") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "Event") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("", "Secret") => &["type"],
        ("", "Namespace") => &["status.phase"],
        ("", "Node") => &["spec.unschedulable"],
        ("", "ReplicationController") => &["status.replicas"],
        ("apps", "ReplicaSet") => &["status.replicas"],
        ("batch", "Job") => &["status.successful"],
        _ => &[],
    }
}

impl FieldSelector {
    /// Parses and checks the fields against what `kind` supports (`extra` adds a CRD's
    /// `selectableFields`).
    pub fn parse(
        input: &str,
        group: &str,
        kind: &str,
        extra: &[String],
    ) -> Result<Self, SelectorError> {
        let mut terms = Vec::new();
        if input.trim().is_empty() {
            return Ok(Self { terms });
        }
        for part in input.split(',') {
            let part = part.trim();
            let (field, negate, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, false, v)
            } else {
                return Err(SelectorError::Field(format!(
                    "{part}: expected field=value"
                )));
            };
            let field = field.trim();
            let supported = field == "metadata.name"
                || field == "metadata.namespace"
                || kind_fields(group, kind).contains(&field)
                || extra.iter().any(|f| f.trim_start_matches('.') == field);
            if !supported {
                return Err(SelectorError::UnsupportedField(field.to_owned()));
            }
            terms.push((field.to_owned(), negate, value.trim().to_owned()));
        }
        Ok(Self { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The exact `metadata.name` this selector pins, if any (`kubectl wait`, `kubectl get -w NAME`).
    pub fn pinned_name(&self) -> Option<&str> {
        self.terms
            .iter()
            .find(|(f, neg, _)| f == "metadata.name" && !neg)
            .map(|(_, _, v)| v.as_str())
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.terms.iter().all(|(field, negate, want)| {
            let mut cursor = Some(object);
            for seg in field.split('.') {
                cursor = cursor.and_then(|c| c.get(seg));
            }
            let actual = match cursor {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            (actual == *want) != *negate
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn equality_and_set_based_selectors() {
        let l = labels(json!({"app": "web", "tier": "frontend", "n": "5"}));
        let ok = |s: &str| LabelSelector::parse(s).unwrap().matches(Some(&l));
        assert!(ok("app=web"));
        assert!(ok("app==web,tier!=backend"));
        assert!(ok("app in (web, api),tier notin (backend)"));
        assert!(ok("app,!missing"));
        assert!(ok("n>4") && !ok("n<4"));
        assert!(!ok("app=api"));
        assert!(!ok("missing in (x)"));
        assert!(ok("missing notin (x)"));
        assert!(ok(""));
        assert!(LabelSelector::parse("app=web,,x").is_err());
        assert!(LabelSelector::parse("a in x").is_err());
    }

    #[test]
    fn field_selectors_check_supported_fields() {
        let obj =
            json!({"metadata": {"name": "a", "namespace": "ns"}, "status": {"phase": "Running"}});
        let fs = FieldSelector::parse(
            "metadata.name=a,metadata.namespace!=other",
            "",
            "ConfigMap",
            &[],
        )
        .unwrap();
        assert!(fs.matches(&obj));
        assert_eq!(fs.pinned_name(), Some("a"));
        assert!(
            FieldSelector::parse("status.phase=Running", "", "Pod", &[])
                .unwrap()
                .matches(&obj)
        );
        assert_eq!(
            FieldSelector::parse("spec.foo=x", "", "ConfigMap", &[]),
            Err(SelectorError::UnsupportedField("spec.foo".into()))
        );
    }

    #[test]
    fn selector_objects_render_as_strings() {
        let s = LabelSelector::from_object(&json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "t", "operator": "In", "values": ["a", "b"]}]})).unwrap();
        assert_eq!(s.to_selector_string(), "app=web,t in (a,b)");
    }
}
