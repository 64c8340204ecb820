//! `ValidateObjectMeta` and `ValidateObjectMetaUpdate` (apimachinery's
//! `pkg/api/validation/objectmeta.go`): names, generateName, labels, annotations, finalizers,
//! and the fields an update may not change.

use serde_json::{Map, Value};

use super::{
    field::{BadValue, FieldError, FieldPath},
    names::{self, NameRule},
};

/// The total size annotations may have (`TotalAnnotationSizeLimitB`).
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

fn meta_str<'v>(meta: &'v Map<String, Value>, key: &str) -> &'v str {
    meta.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Validates `metadata` on create (and the parts every write checks).
pub fn validate_object_meta(
    metadata: Option<&Value>,
    rule: NameRule,
    path: &FieldPath,
) -> Vec<FieldError> {
    let empty = Map::new();
    let meta = metadata.and_then(Value::as_object).unwrap_or(&empty);
    let mut errs = Vec::new();
    let generate_name = meta_str(meta, "generateName");
    if !generate_name.is_empty() {
        for msg in rule.check(generate_name, true) {
            errs.push(FieldError::invalid(
                &path.child("generateName"),
                generate_name,
                msg,
            ));
        }
    }
    let name = meta_str(meta, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            &path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for msg in rule.check(name, false) {
            errs.push(FieldError::invalid(&path.child("name"), name, msg));
        }
    }
    if let Some(g) = meta.get("generation").and_then(Value::as_i64)
        && g < 0
    {
        errs.push(FieldError::invalid(
            &path.child("generation"),
            BadValue::Int(g),
            "must be greater than or equal to 0",
        ));
    }
    errs.extend(validate_labels(meta.get("labels"), &path.child("labels")));
    errs.extend(validate_annotations(
        meta.get("annotations"),
        &path.child("annotations"),
    ));
    errs.extend(validate_finalizers(
        meta.get("finalizers"),
        &path.child("finalizers"),
    ));
    errs
}

/// `ValidateLabels`: keys are qualified names, values label values.
pub fn validate_labels(labels: Option<&Value>, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(map) = labels.and_then(Value::as_object) else {
        return errs;
    };
    for (k, v) in map {
        for msg in names::qualified_name(k) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        let v = v.as_str().unwrap_or("");
        for msg in names::label_value(v) {
            errs.push(FieldError::invalid(path, v, msg));
        }
    }
    errs
}

/// `ValidateAnnotations`: lower-cased keys are qualified names; the total size is bounded.
pub fn validate_annotations(annotations: Option<&Value>, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(map) = annotations.and_then(Value::as_object) else {
        return errs;
    };
    let mut total = 0usize;
    for (k, v) in map {
        for msg in names::qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        total += k.len() + v.as_str().map_or(0, str::len);
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(
            path,
            TOTAL_ANNOTATION_SIZE_LIMIT as i64,
        ));
    }
    errs
}

/// `ValidateFinalizers`: qualified names, no duplicates.
pub fn validate_finalizers(finalizers: Option<&Value>, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(list) = finalizers.and_then(Value::as_array) else {
        return errs;
    };
    let mut seen: Vec<&str> = Vec::new();
    for (i, f) in list.iter().enumerate() {
        let f = f.as_str().unwrap_or("");
        for msg in names::qualified_name(f) {
            errs.push(FieldError::invalid(&path.index(i), f, msg));
        }
        if seen.contains(&f) {
            errs.push(FieldError::duplicate(&path.index(i), f));
        }
        seen.push(f);
    }
    errs
}

/// `ValidateObjectMetaUpdate`: fields that may not change, plus what every write checks.
pub fn validate_object_meta_update(
    new: Option<&Value>,
    old: Option<&Value>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let empty = Map::new();
    let meta = new.and_then(Value::as_object).unwrap_or(&empty);
    let old_meta = old.and_then(Value::as_object).unwrap_or(&empty);
    let mut errs = Vec::new();
    for field in ["name", "namespace", "uid", "creationTimestamp"] {
        let n = meta
            .get(field)
            .cloned()
            .unwrap_or(Value::String(String::new()));
        let o = old_meta
            .get(field)
            .cloned()
            .unwrap_or(Value::String(String::new()));
        if n != o {
            errs.push(FieldError::invalid(
                &path.child(field),
                BadValue::of(&n),
                super::builtin::IMMUTABLE,
            ));
        }
    }
    errs.extend(validate_labels(meta.get("labels"), &path.child("labels")));
    errs.extend(validate_annotations(
        meta.get("annotations"),
        &path.child("annotations"),
    ));
    errs.extend(validate_finalizers(
        meta.get("finalizers"),
        &path.child("finalizers"),
    ));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_labels() {
        let errs = validate_object_meta(
            Some(&json!({"name": "Web", "labels": {"app": "bad value"}})),
            NameRule::Dns1123Subdomain,
            &FieldPath::root().child("metadata"),
        );
        assert_eq!(errs.len(), 2);
        assert!(
            errs[0].to_string().starts_with(
                r#"metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain"#
            )
        );
        assert!(
            errs[1]
                .to_string()
                .starts_with(r#"metadata.labels: Invalid value: "bad value": a valid label"#)
        );
        let errs = validate_object_meta(
            Some(&json!({})),
            NameRule::Dns1123Subdomain,
            &FieldPath::root().child("metadata"),
        );
        assert_eq!(
            errs[0].to_string(),
            "metadata.name: Required value: name or generateName is required"
        );
    }
}
