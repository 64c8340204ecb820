//! Kubernetes `Status` errors: every failure the API returns is one of these, with the HTTP code,
//! `reason` and `details` the real kube-apiserver uses, so clients that branch on them
//! (`IsNotFound`, `IsConflict`, `IsAlreadyExists`, `IsInvalid`, ...) behave the same.

use serde_json::{Map, Value, json};

/// Which object an error is about: the resource (plural) and its group, as the real server puts
/// them in `details` and in messages (`deployments.apps "web" not found`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub group: String,
    pub resource: String,
    pub name: String,
}

impl Subject {
    pub fn new(group: &str, resource: &str, name: &str) -> Self {
        Self {
            group: group.to_owned(),
            resource: resource.to_owned(),
            name: name.to_owned(),
        }
    }

    /// `deployments.apps` or `configmaps` for the core group.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    fn details(&self, kind: &str) -> Map<String, Value> {
        let mut details = Map::new();
        if !self.name.is_empty() {
            details.insert("name".into(), self.name.clone().into());
        }
        if !self.group.is_empty() {
            details.insert("group".into(), self.group.clone().into());
        }
        details.insert("kind".into(), kind.to_owned().into());
        details
    }
}

/// One field-level cause of an `Invalid` error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueDuplicate`,
    /// `FieldValueForbidden`, `FieldValueTooLong`, `FieldValueTypeInvalid`, `FieldManagerConflict`.
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// An API error, rendered as a `metav1.Status` with its HTTP code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Map<String, Value>>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: Map<String, Value>) -> Self {
        self.details = Some(details);
        self
    }

    pub fn not_found(subject: &Subject) -> Self {
        Self::new(
            404,
            "NotFound",
            format!(
                "{} \"{}\" not found",
                subject.qualified_resource(),
                subject.name
            ),
        )
        .with_details(subject.details(&subject.resource))
    }

    /// 404 for a path that names no resource at all (`the server could not find the requested
    /// resource`), which is what clients see for an unknown group/version/resource.
    pub fn no_route() -> Self {
        let mut details = Map::new();
        details.insert(
            "causes".into(),
            json!([{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]),
        );
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(details)
    }

    pub fn already_exists(subject: &Subject) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!(
                "{} \"{}\" already exists",
                subject.qualified_resource(),
                subject.name
            ),
        )
        .with_details(subject.details(&subject.resource))
    }

    /// Optimistic-concurrency failure: the caller's resourceVersion is stale.
    pub fn conflict(subject: &Subject) -> Self {
        Self::conflict_because(
            subject,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    pub fn conflict_because(subject: &Subject, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": {why}",
                subject.qualified_resource(),
                subject.name
            ),
        )
        .with_details(subject.details(&subject.resource))
    }

    /// A 409 with a caller-built message and causes (server-side apply field conflicts).
    pub fn conflict_with_causes(subject: &Subject, message: String, causes: &[Cause]) -> Self {
        let mut details = subject.details(&subject.resource);
        details.insert("causes".into(), causes_json(causes));
        Self::new(409, "Conflict", message).with_details(details)
    }

    /// 422 `Invalid`: `Kind.group "name" is invalid: field: message, field: message`.
    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<Cause>) -> Self {
        let qualified = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        let listed: Vec<String> = causes
            .iter()
            .map(|c| {
                if c.field.is_empty() {
                    c.message.clone()
                } else {
                    format!("{}: {}", c.field, c.message)
                }
            })
            .collect();
        let summary = match listed.len() {
            0 => String::new(),
            1 => listed[0].clone(),
            _ => format!("[{}]", listed.join(", ")),
        };
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), name.to_owned().into());
        }
        if !group.is_empty() {
            details.insert("group".into(), group.to_owned().into());
        }
        details.insert("kind".into(), kind.to_owned().into());
        details.insert("causes".into(), causes_json(&causes));
        Self::new(
            422,
            "Invalid",
            format!("{qualified} \"{name}\" is invalid: {summary}"),
        )
        .with_details(details)
    }

    /// Shorthand for one invalid field.
    pub fn invalid_field(
        kind: &str,
        group: &str,
        name: &str,
        field: &str,
        reason: &str,
        message: String,
    ) -> Self {
        Self::invalid(
            kind,
            group,
            name,
            vec![Cause {
                reason: reason.to_owned(),
                message,
                field: field.to_owned(),
            }],
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn forbidden(subject: &Subject, why: &str) -> Self {
        let verb_target = if subject.name.is_empty() {
            subject.qualified_resource()
        } else {
            format!("{} \"{}\"", subject.qualified_resource(), subject.name)
        };
        Self::new(
            403,
            "Forbidden",
            format!("{verb_target} is forbidden: {why}"),
        )
        .with_details(subject.details(&subject.resource))
    }

    /// Creating content in a namespace that is being deleted.
    pub fn namespace_terminating(subject: &Subject, namespace: &str) -> Self {
        let mut err = Self::forbidden(
            subject,
            &format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        );
        if let Some(details) = err.details.as_mut() {
            details.insert(
                "causes".into(),
                json!([{"reason": "NamespaceTerminating", "message": format!("namespace {namespace} is being terminated"), "field": "metadata.namespace"}]),
            );
        }
        err
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn method_not_allowed(verb: &str, subject: &Subject) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details({
            let mut d = subject.details(&subject.resource);
            d.insert(
                "causes".into(),
                json!([{"message": format!("verb {verb} is not supported")}]),
            );
            d
        })
    }

    /// 410 for a watch or list from a resourceVersion older than the retained history.
    pub fn expired(requested: u64, oldest: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    /// 504 for a list at a resourceVersion the server has not reached (`errors.NewTooLargeResourceVersionError`).
    pub fn too_large_resource_version(requested: u64, current: u64) -> Self {
        let mut details = Map::new();
        details.insert(
            "causes".into(),
            json!([{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}]),
        );
        details.insert("retryAfterSeconds".into(), json!(1));
        Self::new(
            504,
            "Timeout",
            format!("Timeout: Too large resource version: {requested}, current: {current}"),
        )
        .with_details(details)
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Gone", message)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/cbor (got {content_type:?})"
            ),
        )
    }

    pub fn not_acceptable(accept: &str) -> Self {
        Self::new(
            406,
            "NotAcceptable",
            format!(
                "only the following media types are accepted: application/json, application/yaml (requested {accept:?})"
            ),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {}", message.into()),
        )
    }

    /// The `metav1.Status` object for this error (`reason` left out when empty, as for the 500
    /// server-side apply gives for undeclared fields).
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        });
        if !self.reason.is_empty() {
            status["reason"] = self.reason.into();
        }
        if let Some(details) = &self.details {
            status["details"] = Value::Object(details.clone());
        }
        status
    }
}

/// ferry-schema's validation errors carry the real server's code, reason, message and causes.
impl From<ferry_schema::validation::ValidationError> for ApiError {
    fn from(err: ferry_schema::validation::ValidationError) -> Self {
        Self {
            code: err.code(),
            reason: err.reason().unwrap_or_default(),
            message: err.message(),
            details: err.details(),
        }
    }
}

fn causes_json(causes: &[Cause]) -> Value {
    Value::Array(
        causes
            .iter()
            .map(|c| {
                let mut cause = Map::new();
                cause.insert("reason".into(), c.reason.clone().into());
                cause.insert("message".into(), c.message.clone().into());
                if !c.field.is_empty() {
                    cause.insert("field".into(), c.field.clone().into());
                }
                Value::Object(cause)
            })
            .collect(),
    )
}

/// The `Status` a successful delete returns when the object is gone at once.
pub fn success_status(subject: &Subject, uid: &str) -> Value {
    let mut details = subject.details(&subject.resource);
    if !uid.is_empty() {
        details.insert("uid".into(), uid.to_owned().into());
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_matches_kube_apiserver() {
        let err = ApiError::not_found(&Subject::new("apps", "deployments", "web"));
        assert_eq!(
            err.to_status(),
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                   "message":"deployments.apps \"web\" not found","reason":"NotFound",
                   "details":{"name":"web","group":"apps","kind":"deployments"},"code":404})
        );
        let core = ApiError::not_found(&Subject::new("", "configmaps", "x"));
        assert_eq!(core.message, "configmaps \"x\" not found");
    }

    #[test]
    fn invalid_lists_every_cause() {
        let err = ApiError::invalid(
            "ConfigMap",
            "",
            "x",
            vec![
                Cause {
                    reason: "FieldValueRequired".into(),
                    message: "Required value".into(),
                    field: "metadata.name".into(),
                },
                Cause {
                    reason: "FieldValueInvalid".into(),
                    message: "bad".into(),
                    field: "data".into(),
                },
            ],
        );
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            "ConfigMap \"x\" is invalid: [metadata.name: Required value, data: bad]"
        );
    }
}
