//! Field errors as apimachinery's `field.Error` renders them (Kubernetes 1.35): the cause types,
//! `ErrorBody()` (`Invalid value: "x": detail`), `Error()` (`spec.x: ...`) and the aggregate
//! message (`[a, b]`, duplicates dropped).

use std::fmt;

use serde_json::{Value, json};

use super::gofmt;

/// A field path as `field.Path` prints it: `spec.containers[0].env[FOO]`. The empty path is the
/// object root; [`FieldPath::nil`] is Go's nil path, printed `<nil>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(Option<String>);

impl FieldPath {
    /// The root of an object (prints as the empty string).
    pub fn root() -> FieldPath {
        FieldPath(Some(String::new()))
    }

    /// Go's nil `*field.Path`, which prints as `<nil>`.
    pub fn nil() -> FieldPath {
        FieldPath(None)
    }

    /// A path from its dotted form, as given (`spec.replicas`).
    pub fn new(path: impl Into<String>) -> FieldPath {
        FieldPath(Some(path.into()))
    }

    /// `path.Child(name)`.
    pub fn child(&self, name: &str) -> FieldPath {
        match &self.0 {
            Some(p) if !p.is_empty() => FieldPath(Some(format!("{p}.{name}"))),
            _ => FieldPath(Some(name.to_owned())),
        }
    }

    /// `path.Index(i)`.
    pub fn index(&self, i: usize) -> FieldPath {
        FieldPath(Some(format!("{}[{i}]", self.0.as_deref().unwrap_or(""))))
    }

    /// `path.Key(k)`.
    pub fn key(&self, k: &str) -> FieldPath {
        FieldPath(Some(format!("{}[{k}]", self.0.as_deref().unwrap_or(""))))
    }

    /// The printed path.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("<nil>")
    }

    /// Whether this is the (empty) root path.
    pub fn is_root(&self) -> bool {
        self.0.as_deref() == Some("")
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `field.ErrorType`, whose string form is the Status cause `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooShort,
    TooMany,
    Internal,
    TypeInvalid,
}

impl ErrorType {
    /// The cause reason: `FieldValueInvalid`, `FieldValueRequired`, ...
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooShort => "FieldValueTooShort",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::Internal => "InternalError",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// The type from a cause reason (`x-kubernetes-validations[].reason`).
    pub fn from_reason(reason: &str) -> Option<ErrorType> {
        Some(match reason {
            "FieldValueNotFound" => ErrorType::NotFound,
            "FieldValueRequired" => ErrorType::Required,
            "FieldValueDuplicate" => ErrorType::Duplicate,
            "FieldValueInvalid" => ErrorType::Invalid,
            "FieldValueNotSupported" => ErrorType::NotSupported,
            "FieldValueForbidden" => ErrorType::Forbidden,
            "FieldValueTooLong" => ErrorType::TooLong,
            "FieldValueTooShort" => ErrorType::TooShort,
            "FieldValueTooMany" => ErrorType::TooMany,
            "InternalError" => ErrorType::Internal,
            "FieldValueTypeInvalid" => ErrorType::TypeInvalid,
            _ => return None,
        })
    }

    /// The human form that starts each message (`Invalid value`, `Required value`, ...).
    pub fn text(self) -> &'static str {
        match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooShort => "Too short",
            ErrorType::TooMany => "Too many",
            ErrorType::Internal => "Internal error",
        }
    }
}

/// The offending value of a field error, kept in the shape Go would print it.
#[derive(Debug, Clone, PartialEq)]
pub enum BadValue {
    /// `field.OmitValueType{}`: the message names no value.
    Omit,
    /// A Go string, printed `%q`.
    Str(String),
    /// An int64/int32/float64/bool, printed `%v`.
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Anything else, printed as `json.Marshal` would (maps, lists, null).
    Json(Value),
}

impl BadValue {
    /// The bad value for a decoded JSON value the way the API server holds it (unstructured:
    /// int64, float64, string, bool, maps and lists).
    pub fn of(v: &Value) -> BadValue {
        match v {
            Value::String(s) => BadValue::Str(s.clone()),
            Value::Bool(b) => BadValue::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => BadValue::Int(i),
                None => BadValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            other => BadValue::Json(other.clone()),
        }
    }

    fn render(&self) -> Option<String> {
        Some(match self {
            BadValue::Omit => return None,
            BadValue::Str(s) => gofmt::quote(s),
            BadValue::Int(i) => i.to_string(),
            BadValue::Float(f) => gofmt::float_v(*f),
            BadValue::Bool(b) => b.to_string(),
            BadValue::Json(v) => gofmt::json(v),
        })
    }
}

impl From<&str> for BadValue {
    fn from(s: &str) -> BadValue {
        BadValue::Str(s.to_owned())
    }
}

impl From<String> for BadValue {
    fn from(s: String) -> BadValue {
        BadValue::Str(s)
    }
}

/// One field error (`field.Error`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub error_type: ErrorType,
    pub field: FieldPath,
    pub bad_value: BadValue,
    pub detail: String,
}

impl FieldError {
    fn new(error_type: ErrorType, field: &FieldPath, bad: BadValue, detail: String) -> FieldError {
        FieldError {
            error_type,
            field: field.clone(),
            bad_value: bad,
            detail,
        }
    }

    /// `field.Invalid(path, value, detail)`.
    pub fn invalid(
        field: &FieldPath,
        value: impl Into<BadValue>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(ErrorType::Invalid, field, value.into(), detail.into())
    }

    /// `field.TypeInvalid(path, value, detail)`.
    pub fn type_invalid(
        field: &FieldPath,
        value: impl Into<BadValue>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(ErrorType::TypeInvalid, field, value.into(), detail.into())
    }

    /// `field.Required(path, detail)`.
    pub fn required(field: &FieldPath, detail: impl Into<String>) -> Self {
        Self::new(
            ErrorType::Required,
            field,
            BadValue::Str(String::new()),
            detail.into(),
        )
    }

    /// `field.Forbidden(path, detail)`.
    pub fn forbidden(field: &FieldPath, detail: impl Into<String>) -> Self {
        Self::new(
            ErrorType::Forbidden,
            field,
            BadValue::Str(String::new()),
            detail.into(),
        )
    }

    /// `field.Duplicate(path, value)`.
    pub fn duplicate(field: &FieldPath, value: impl Into<BadValue>) -> Self {
        Self::new(ErrorType::Duplicate, field, value.into(), String::new())
    }

    /// `field.NotSupported(path, value, validValues)`: `supported values: "a", "b"`.
    pub fn not_supported<S: AsRef<str>>(
        field: &FieldPath,
        value: impl Into<BadValue>,
        valid: &[S],
    ) -> Self {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| gofmt::quote(v.as_ref())).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(ErrorType::NotSupported, field, value.into(), detail)
    }

    /// `field.TooLong(path, value, max)`: `may not be more than N bytes`.
    pub fn too_long(field: &FieldPath, max: i64) -> Self {
        let detail = if max >= 0 {
            format!(
                "may not be more than {max} {}",
                if max == 1 { "byte" } else { "bytes" }
            )
        } else {
            "value is too long".to_owned()
        };
        Self::new(
            ErrorType::TooLong,
            field,
            BadValue::Str("<value omitted>".into()),
            detail,
        )
    }

    /// `field.TooMany(path, actual, max)`: `must have at most N items`.
    pub fn too_many(field: &FieldPath, actual: i64, max: i64) -> Self {
        let detail = if max >= 0 {
            format!(
                "must have at most {max} {}",
                if max == 1 { "item" } else { "items" }
            )
        } else {
            "too many items".to_owned()
        };
        let bad = if actual >= 0 {
            BadValue::Int(actual)
        } else {
            BadValue::Omit
        };
        Self::new(ErrorType::TooMany, field, bad, detail)
    }

    /// `field.InternalError(path, err)`.
    pub fn internal(field: &FieldPath, err: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, field, BadValue::Omit, err.into())
    }

    /// The same error with a cause type taken from a validation rule's `reason`.
    pub fn with_type(
        field: &FieldPath,
        error_type: ErrorType,
        bad: BadValue,
        detail: String,
    ) -> Self {
        Self::new(error_type, field, bad, detail)
    }

    /// `ErrorBody()`: the message without the field (`Invalid value: 3: must be even`).
    pub fn body(&self) -> String {
        let mut s = String::from(self.error_type.text());
        match self.error_type {
            ErrorType::Required
            | ErrorType::Forbidden
            | ErrorType::TooLong
            | ErrorType::TooShort
            | ErrorType::Internal => {}
            _ => {
                if let Some(v) = self.bad_value.render() {
                    s.push_str(": ");
                    s.push_str(&v);
                }
            }
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// The Status cause: `{"reason", "message", "field"}`.
    pub fn cause(&self) -> Value {
        json!({"reason": self.error_type.reason(), "message": self.body(), "field": self.field.as_str()})
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// `ErrorList.ToAggregate().Error()`: one message, or `[a, b]` with repeated messages dropped.
pub fn aggregate(errors: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::with_capacity(errors.len());
    for e in errors {
        let msg = e.to_string();
        if !seen.contains(&msg) {
            seen.push(msg);
        }
    }
    aggregate_messages(&seen)
}

/// utilerrors' aggregate of plain messages: one as is, several as `[a, b]`.
pub fn aggregate_messages(messages: &[String]) -> String {
    match messages {
        [] => String::new(),
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_follow_error_body() {
        let p = FieldPath::root().child("spec").child("replicas");
        assert_eq!(
            FieldError::type_invalid(
                &p,
                "string",
                "spec.replicas in body must be of type integer: \"string\""
            )
            .to_string(),
            r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#
        );
        assert_eq!(
            FieldError::required(&p, "").to_string(),
            "spec.replicas: Required value"
        );
        assert_eq!(
            FieldError::not_supported(&p, "x", &["a", "b"]).to_string(),
            r#"spec.replicas: Unsupported value: "x": supported values: "a", "b""#
        );
        assert_eq!(
            FieldError::too_long(&p, 5).body(),
            "Too long: may not be more than 5 bytes"
        );
        assert_eq!(
            FieldError::too_many(&p, 4, 3).body(),
            "Too many: 4: must have at most 3 items"
        );
        assert_eq!(
            FieldError::invalid(&FieldPath::nil(), BadValue::Json(Value::Null), "x").to_string(),
            "<nil>: Invalid value: null: x"
        );
        assert_eq!(
            FieldError::invalid(&p, BadValue::Omit, "must be positive").body(),
            "Invalid value: must be positive"
        );
        assert_eq!(
            FieldError::invalid(
                &p,
                BadValue::Json(serde_json::json!({"b": 1, "a": "<"})),
                "bad"
            )
            .body(),
            r#"Invalid value: {"a":"\u003c","b":1}: bad"#
        );
        assert_eq!(
            FieldPath::root()
                .child("a")
                .index(0)
                .key("k")
                .child("b")
                .as_str(),
            "a[0][k].b"
        );
    }

    #[test]
    fn aggregate_drops_repeats() {
        let p = FieldPath::new("a");
        let e = FieldError::required(&p, "");
        assert_eq!(aggregate(std::slice::from_ref(&e)), "a: Required value");
        let f = FieldError::forbidden(&FieldPath::new("b"), "no");
        assert_eq!(
            aggregate(&[e.clone(), f, e]),
            "[a: Required value, b: Forbidden: no]"
        );
    }
}
