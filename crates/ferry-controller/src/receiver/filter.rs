//! The CEL filters of a Receiver (`spec.resourceFilter`, `spec.resources[].filter`): boolean
//! expressions over `res` (the object's apiVersion, kind and metadata) and `req` (the request
//! body when it is JSON, else an empty map), as notification-controller evaluates them.

use std::{collections::HashMap, sync::Arc};

use kube_cel::{
    KubeCelExt,
    cel::{
        Context, Value as CelValue,
        objects::{Key, Map},
        parser::{Expression, Parser},
    },
};
use serde_json::Value;

/// Objects nest at most this deep before conversion gives up (bad input must not overflow).
const MAX_DEPTH: usize = 64;

/// A parsed filter.
#[derive(Debug)]
pub struct Filter {
    source: String,
    expression: Expression,
}

impl Filter {
    /// Parses an expression; the error is the parser's message.
    pub fn parse(source: &str) -> Result<Self, String> {
        let expression = Parser::default()
            .enable_optional_syntax(true)
            .parse(source)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            source: source.to_owned(),
            expression,
        })
    }

    /// Evaluates the filter for one object; anything else than a boolean is an error.
    pub fn evaluate(&self, res: &Value, req: &Value) -> Result<bool, String> {
        let mut context = Context::default().with_all();
        let partial = partial_metadata(res);
        context.add_variable_from_value("res", to_cel(&partial, 0)?);
        context.add_variable_from_value("req", to_cel(req, 0)?);
        match CelValue::resolve(&self.expression, &context) {
            Ok(CelValue::Bool(b)) => Ok(b),
            Ok(other) => Err(format!(
                "filter {:?} must evaluate to a boolean, not {:?}",
                self.source,
                other.type_of()
            )),
            Err(e) => Err(format!("filter {:?} failed: {e}", self.source)),
        }
    }
}

/// What notification-controller hands the filter as `res`: apiVersion, kind and metadata.
fn partial_metadata(object: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in ["apiVersion", "kind", "metadata"] {
        if let Some(v) = object.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

/// JSON to CEL: integers that fit stay `int`, maps are keyed by strings.
fn to_cel(value: &Value, depth: usize) -> Result<CelValue, String> {
    if depth > MAX_DEPTH {
        return Err(format!("value nests deeper than {MAX_DEPTH} levels"));
    }
    Ok(match value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => CelValue::Int(i),
            (None, Some(u)) => CelValue::UInt(u),
            _ => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(items) => CelValue::List(Arc::new(
            items
                .iter()
                .map(|item| to_cel(item, depth + 1))
                .collect::<Result<Vec<_>, _>>()?,
        )),
        Value::Object(map) => {
            let mut converted = HashMap::with_capacity(map.len());
            for (key, item) in map {
                converted.insert(Key::String(Arc::new(key.clone())), to_cel(item, depth + 1)?);
            }
            CelValue::Map(Map {
                map: Arc::new(converted),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_read_the_object_and_the_request() {
        let obj = json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "podinfo", "labels": {"team": "a"}},
            "spec": {"url": "https://example.com"},
        });
        let req = json!({"ref": "refs/heads/main", "repository": {"name": "podinfo"}});
        let by_name = Filter::parse("res.metadata.name == req.repository.name").unwrap();
        assert_eq!(by_name.evaluate(&obj, &req), Ok(true));
        let by_ref = Filter::parse("req.ref == 'refs/heads/dev'").unwrap();
        assert_eq!(by_ref.evaluate(&obj, &req), Ok(false));
        // Only metadata is visible, as in Flux.
        let spec = Filter::parse("res.spec.url != ''").unwrap();
        assert!(spec.evaluate(&obj, &req).is_err());
        let not_bool = Filter::parse("res.metadata.name").unwrap();
        assert!(
            not_bool
                .evaluate(&obj, &req)
                .unwrap_err()
                .contains("boolean")
        );
        assert!(Filter::parse("res.metadata.name ==").is_err());
    }
}
