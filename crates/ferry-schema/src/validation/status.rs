//! The errors validation returns, each convertible straight into the `metav1.Status` the real
//! API server sends: 422 `Invalid` with `details.causes`, 400 `BadRequest` (strict decoding,
//! undecodable values) and the 500 server-side apply gives for fields a schema does not declare.

use serde_json::{Map, Value, json};

use super::field::{FieldError, aggregate};

/// `apierrors.NewInvalid(groupKind, name, errs)`: HTTP 422, reason `Invalid`.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The kind (`Deployment`); empty for errors about a request rather than an object.
    pub kind: String,
    /// The API group (`apps`; empty for the core group).
    pub group: String,
    /// The object name.
    pub name: String,
    /// The field errors, in the order the server reports them.
    pub errors: Vec<FieldError>,
}

impl Invalid {
    /// An `Invalid` error about an object of `kind` in `group`.
    pub fn new(kind: &str, group: &str, name: &str, errors: Vec<FieldError>) -> Invalid {
        Invalid {
            kind: kind.to_owned(),
            group: group.to_owned(),
            name: name.to_owned(),
            errors,
        }
    }

    /// `Kind.group` (`Deployment.apps`) or `Kind` for the core group.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// `Deployment.apps "web" is invalid: spec.replicas: Invalid value: ...`.
    pub fn message(&self) -> String {
        let head = format!(
            "{} {} is invalid",
            self.qualified_kind(),
            super::gofmt::quote(&self.name)
        );
        if self.errors.is_empty() {
            head
        } else {
            format!("{head}: {}", aggregate(&self.errors))
        }
    }

    /// `details.causes`: `[{"reason", "message", "field"}]`.
    pub fn causes(&self) -> Vec<Value> {
        self.errors.iter().map(FieldError::cause).collect()
    }

    /// `details`: name, group, kind (each left out when empty, as `omitempty` does) and causes.
    pub fn details(&self) -> Map<String, Value> {
        let mut d = Map::new();
        if !self.name.is_empty() {
            d.insert("name".into(), self.name.clone().into());
        }
        if !self.group.is_empty() {
            d.insert("group".into(), self.group.clone().into());
        }
        if !self.kind.is_empty() {
            d.insert("kind".into(), self.kind.clone().into());
        }
        d.insert("causes".into(), Value::Array(self.causes()));
        d
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// Why a write was refused, ready to be sent as a `Status`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationError {
    /// 422 `Invalid`: field errors.
    #[error("{0}")]
    Invalid(Invalid),
    /// 400 `BadRequest`: the body could not be decoded as the kind (strict decoding errors on
    /// create/update, values of the wrong JSON type for a built-in kind).
    #[error("{message}")]
    BadRequest { message: String },
    /// 500 without a reason: what server-side apply answers for fields the schema does not
    /// declare (`failed to create typed patch object (...): .spec.x: field not declared in
    /// schema`).
    #[error("{message}")]
    Internal { message: String },
}

impl ValidationError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ValidationError::Invalid(_) => 422,
            ValidationError::BadRequest { .. } => 400,
            ValidationError::Internal { .. } => 500,
        }
    }

    /// The Status `reason` (`Invalid`, `BadRequest`), or `None` where the server sends none.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            ValidationError::Invalid(_) => Some("Invalid"),
            ValidationError::BadRequest { .. } => Some("BadRequest"),
            ValidationError::Internal { .. } => None,
        }
    }

    /// The Status `message`.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The Status `details`, if any.
    pub fn details(&self) -> Option<Map<String, Value>> {
        match self {
            ValidationError::Invalid(inv) => Some(inv.details()),
            _ => None,
        }
    }

    /// The whole `metav1.Status` body.
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message(),
        });
        if let Some(reason) = self.reason() {
            s["reason"] = reason.into();
        }
        if let Some(details) = self.details() {
            s["details"] = Value::Object(details);
        }
        s["code"] = self.code().into();
        s
    }
}

impl From<Invalid> for ValidationError {
    fn from(i: Invalid) -> ValidationError {
        ValidationError::Invalid(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::field::FieldPath;

    #[test]
    fn invalid_status_has_the_server_shape() {
        let inv = Invalid::new(
            "Widget",
            "example.com",
            "w1",
            vec![FieldError::type_invalid(
                &FieldPath::new("spec.replicas"),
                "string",
                "spec.replicas in body must be of type integer: \"string\"",
            )],
        );
        let st = ValidationError::from(inv).status();
        assert_eq!(
            st["message"],
            r#"Widget.example.com "w1" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#
        );
        assert_eq!(st["code"], 422);
        assert_eq!(st["reason"], "Invalid");
        assert_eq!(
            st["details"]["causes"][0]["reason"],
            "FieldValueTypeInvalid"
        );
        assert_eq!(st["details"]["causes"][0]["field"], "spec.replicas");
        assert_eq!(st["details"]["kind"], "Widget");
    }

    #[test]
    fn request_level_invalid_has_an_empty_kind() {
        let inv = Invalid::new(
            "",
            "",
            "",
            vec![FieldError::invalid(&FieldPath::new("patch"), "{}", "x")],
        );
        assert_eq!(
            inv.message(),
            r#" "" is invalid: patch: Invalid value: "{}": x"#
        );
        assert!(inv.details().get("kind").is_none());
    }
}
