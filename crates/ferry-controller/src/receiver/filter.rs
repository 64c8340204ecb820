//! The CEL filters of a Receiver (`spec.resourceFilter`, `spec.resources[].filter`): boolean
//! expressions over `res` (the object's apiVersion, kind and metadata) and `req` (the request
//! body when it is JSON, else an empty map), as notification-controller evaluates them.

use ferry_apply::health::json_to_cel;
use kube_cel::{
    KubeCelExt,
    cel::{
        Context, Value as CelValue,
        parser::{Expression, Parser},
    },
};
use serde_json::Value;

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
        context.add_variable_from_value("res", json_to_cel(&partial)?);
        context.add_variable_from_value("req", json_to_cel(req)?);
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
