//! The object under review, shaped the way Gatekeeper hands it to a template.
//!
//! Gatekeeper turns an admission request (or, in `gator` and audit, a bare object) into
//! `input.review`: the JSON form of Kubernetes' `AdmissionRequest`, with `kind`
//! `{group, version, kind}`, `name`, `namespace`, `operation`, `userInfo`, `object`, `oldObject`
//! and `dryRun`. [`Review::to_request`] builds that document.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::value::{get, get_str, split_api_version};

/// The admission operation a review stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }

    fn parse(s: &str) -> Option<Operation> {
        match s {
            "CREATE" => Some(Operation::Create),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            "CONNECT" => Some(Operation::Connect),
            _ => None,
        }
    }
}

/// Where a rendered object came from, for annotations in pull requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceLocation {
    /// Path of the file, as the caller wants it shown (usually relative to the checked dir).
    pub file: String,
    /// 1-based line of the document's start in the file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// Identifies an object: group, version, kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub struct ObjectRef {
    pub group: String,
    pub version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    /// The reference of a Kubernetes object (`apiVersion`, `kind`, `metadata`).
    pub fn of(object: &Value) -> ObjectRef {
        let (group, version) = split_api_version(get_str(object, &["apiVersion"]));
        ObjectRef {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: get_str(object, &["kind"]).to_owned(),
            namespace: get_str(object, &["metadata", "namespace"]).to_owned(),
            name: get_str(object, &["metadata", "name"]).to_owned(),
        }
    }
}

impl fmt::Display for ObjectRef {
    /// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// Why a document could not be read as an `AdmissionReview`.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("AdmissionReview has no request")]
    NoRequest,
    #[error("AdmissionReview request has neither object nor oldObject")]
    NoObject,
    #[error("AdmissionReview request has unknown operation {0:?}")]
    UnknownOperation(String),
}

/// One object to evaluate, with the admission context Gatekeeper would give it.
#[derive(Debug, Clone)]
pub struct Review {
    /// The object (`null` for a DELETE, whose object is in `old_object`).
    pub object: Value,
    pub old_object: Option<Value>,
    /// `None` renders `"operation": ""`, as `gator` does for bare objects.
    pub operation: Option<Operation>,
    /// `userInfo` of the request (`username`, `uid`, `groups`, `extra`).
    pub user_info: Option<Value>,
    pub dry_run: bool,
    pub location: Option<SourceLocation>,
    /// The request document when the review came from an `AdmissionReview`, used verbatim.
    request: Option<Map<String, Value>>,
}

impl Review {
    /// A review of `object` being created: what applying a new object asks admission.
    pub fn create(object: Value) -> Review {
        Review::with_operation(object, Some(Operation::Create))
    }

    /// A review of `object` replacing `old_object` (the live one).
    pub fn update(object: Value, old_object: Value) -> Review {
        let mut review = Review::with_operation(object, Some(Operation::Update));
        review.old_object = Some(old_object);
        review
    }

    /// A review of a bare object with no operation, exactly as `gator` and Gatekeeper's audit
    /// build it.
    pub fn bare(object: Value) -> Review {
        Review::with_operation(object, None)
    }

    fn with_operation(object: Value, operation: Option<Operation>) -> Review {
        Review {
            object,
            old_object: None,
            operation,
            user_info: None,
            dry_run: false,
            location: None,
            request: None,
        }
    }

    /// A review from an `admission.k8s.io` `AdmissionReview` document (its `request`).
    pub fn from_admission_review(document: &Value) -> Result<Review, ReviewError> {
        let request = document
            .get("request")
            .and_then(Value::as_object)
            .ok_or(ReviewError::NoRequest)?;
        let object = request.get("object").cloned().unwrap_or(Value::Null);
        let old_object = request.get("oldObject").cloned().filter(|v| !v.is_null());
        if object.is_null() && old_object.is_none() {
            return Err(ReviewError::NoObject);
        }
        let operation = match request.get("operation").and_then(Value::as_str) {
            None | Some("") => None,
            Some(op) => Some(
                Operation::parse(op).ok_or_else(|| ReviewError::UnknownOperation(op.to_owned()))?,
            ),
        };
        Ok(Review {
            object,
            old_object,
            operation,
            user_info: request.get("userInfo").cloned(),
            dry_run: request
                .get("dryRun")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            location: None,
            request: Some(request.clone()),
        })
    }

    /// Whether `document` is an `AdmissionReview` rather than a Kubernetes object to review.
    pub fn is_admission_review(document: &Value) -> bool {
        get_str(document, &["kind"]) == "AdmissionReview"
            && get_str(document, &["apiVersion"]).starts_with("admission.k8s.io/")
    }

    pub fn with_location(mut self, source: SourceLocation) -> Review {
        self.location = Some(source);
        self
    }

    /// The object that identifies the review: the object, or the old object of a DELETE.
    /// (Gatekeeper's CEL `variables.anyObject` is the same choice.)
    pub fn any_object(&self) -> &Value {
        match &self.old_object {
            Some(old) if self.object.is_null() => old,
            _ => &self.object,
        }
    }

    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::of(self.any_object())
    }

    /// The namespace the object lives in (`""` when cluster-scoped or unset).
    pub fn namespace(&self) -> &str {
        get_str(self.any_object(), &["metadata", "namespace"])
    }

    pub fn operation_str(&self) -> &'static str {
        self.operation.map(Operation::as_str).unwrap_or("")
    }

    /// `input.review`: the JSON `AdmissionRequest` Gatekeeper builds.
    pub fn to_request(&self) -> Value {
        if let Some(request) = &self.request {
            let mut request = request.clone();
            // Older AdmissionReviews in the wild omit kind; templates rely on it.
            if !request.contains_key("kind") {
                request.insert("kind".into(), self.kind_json());
            }
            return Value::Object(request);
        }
        let object = self.any_object();
        let mut request = Map::new();
        request.insert("uid".into(), Value::String(String::new()));
        request.insert("kind".into(), self.kind_json());
        request.insert(
            "resource".into(),
            json!({"group": "", "version": "", "resource": ""}),
        );
        let name = get_str(object, &["metadata", "name"]);
        if !name.is_empty() {
            request.insert("name".into(), Value::String(name.to_owned()));
        }
        let namespace = get_str(object, &["metadata", "namespace"]);
        if !namespace.is_empty() {
            request.insert("namespace".into(), Value::String(namespace.to_owned()));
        }
        request.insert(
            "operation".into(),
            Value::String(self.operation_str().to_owned()),
        );
        request.insert(
            "userInfo".into(),
            self.user_info.clone().unwrap_or_else(|| json!({})),
        );
        if !self.object.is_null() {
            request.insert("object".into(), self.object.clone());
        }
        if let Some(old) = &self.old_object {
            request.insert("oldObject".into(), old.clone());
        }
        if self.dry_run {
            request.insert("dryRun".into(), Value::Bool(true));
        }
        Value::Object(request)
    }

    fn kind_json(&self) -> Value {
        let object = self.any_object();
        let (group, version) = split_api_version(get_str(object, &["apiVersion"]));
        json!({"group": group, "version": version, "kind": get_str(object, &["kind"])})
    }

    /// The labels of the object (and of the old object), for label selectors.
    pub(crate) fn label_sets(&self) -> impl Iterator<Item = Option<&Map<String, Value>>> {
        [Some(&self.object), self.old_object.as_ref()]
            .into_iter()
            .flatten()
            .filter(|o| !o.is_null())
            .map(|o| get(o, &["metadata", "labels"]).and_then(Value::as_object))
    }
}
