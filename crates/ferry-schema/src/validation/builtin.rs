//! The validations of built-in kinds that clients depend on, with the server's messages:
//! metadata names (each kind's name rule), workload selectors that must match their template's
//! labels, fields that may not change (`field is immutable`: Deployment, ReplicaSet and
//! DaemonSet selectors, Job selector and template, Secret type, Service cluster IPs, StatefulSet
//! spec beyond the updatable fields), ConfigMap and Secret `immutable: true`, and Secret types'
//! required keys. Flux and Argo CD recognise immutable-field errors by the Invalid reason and
//! these texts.
//!
//! [`prepare_for_update`] does what the server's update strategies do before validating:
//! a Service update that omits its allocated cluster IPs keeps them.

use serde_json::{Map, Value, json};

use super::{
    field::{BadValue, FieldError, FieldPath},
    meta,
    names::NameRule,
    status::{Invalid, ValidationError},
};
use crate::registry::Gvk;

/// apimachinery's `fieldImmutableErrorMsg`.
pub const IMMUTABLE: &str = "field is immutable";

/// Total size allowed for ConfigMap and Secret data (`MaxSecretSize`).
const MAX_DATA_SIZE: usize = 1024 * 1024;

/// The name rule of a built-in kind's `metadata.name`.
pub fn name_rule(gvk: &Gvk) -> NameRule {
    match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("", "Namespace") => NameRule::Dns1123Label,
        ("", "Service") => NameRule::Dns1035Label,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Dns1123Subdomain,
    }
}

fn path(parts: &[&str]) -> FieldPath {
    parts
        .iter()
        .fold(FieldPath::root(), |p, part| p.child(part))
}

fn at<'v>(v: &'v Value, pointer: &str) -> Option<&'v Value> {
    v.pointer(pointer)
}

/// Validates a built-in object on create (`old` = `None`) or update. Kinds without specific
/// rules get the metadata checks; CustomResourceDefinitions get [`super::crd::validate`]. On
/// update, call it after the server has carried the stored system metadata (uid,
/// creationTimestamp, ...) over and after [`prepare_for_update`], as the real server
/// validates the object it is about to store.
pub fn validate(gvk: &Gvk, object: &Value, old: Option<&Value>) -> Result<(), ValidationError> {
    if gvk.group == "apiextensions.k8s.io" && gvk.kind == "CustomResourceDefinition" {
        return super::crd::validate(object, old);
    }
    let meta_path = FieldPath::root().child("metadata");
    let mut errs = match old {
        None => meta::validate_object_meta(object.get("metadata"), name_rule(gvk), &meta_path),
        Some(o) => {
            meta::validate_object_meta_update(object.get("metadata"), o.get("metadata"), &meta_path)
        }
    };
    match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("apps", "Deployment") => {
            errs.extend(workload_spec(object, "deployment"));
            if let Some(old) = old {
                errs.extend(immutable(
                    object,
                    old,
                    "/spec/selector",
                    &path(&["spec", "selector"]),
                ));
            }
        }
        ("apps", "ReplicaSet") => {
            // apps validation words the ReplicaSet message like the Deployment one.
            errs.extend(workload_spec(object, "deployment"));
            if let Some(old) = old {
                errs.extend(immutable(
                    object,
                    old,
                    "/spec/selector",
                    &path(&["spec", "selector"]),
                ));
            }
        }
        ("apps", "DaemonSet") => {
            errs.extend(workload_spec(object, "daemonset"));
            if let Some(old) = old {
                errs.extend(immutable(
                    object,
                    old,
                    "/spec/selector",
                    &path(&["spec", "selector"]),
                ));
            }
        }
        ("apps", "StatefulSet") => {
            errs.extend(workload_spec(object, "statefulset"));
            if let Some(old) = old {
                errs.extend(statefulset_update(object, old));
            }
        }
        ("batch", "Job") => {
            if let Some(old) = old {
                errs.extend(immutable(
                    object,
                    old,
                    "/spec/selector",
                    &path(&["spec", "selector"]),
                ));
                errs.extend(immutable(
                    object,
                    old,
                    "/spec/template",
                    &path(&["spec", "template"]),
                ));
            }
        }
        ("", "ConfigMap") => {
            errs.extend(config_data(object, "data", "binaryData"));
            if let Some(old) = old {
                errs.extend(immutable_when_set(object, old, &["data", "binaryData"]));
            }
        }
        ("", "Secret") => {
            errs.extend(config_data(object, "data", "stringData"));
            errs.extend(secret_type(object));
            if let Some(old) = old {
                let new_type = object
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("Opaque");
                let old_type = old.get("type").and_then(Value::as_str).unwrap_or("Opaque");
                if new_type != old_type {
                    errs.push(FieldError::invalid(
                        &FieldPath::new("type"),
                        new_type,
                        IMMUTABLE,
                    ));
                }
                errs.extend(immutable_when_set(object, old, &["data"]));
            }
        }
        ("", "Service") => {
            errs.extend(service_spec(object));
            if let Some(old) = old {
                errs.extend(service_cluster_ips(object, old));
            }
        }
        _ => {}
    }
    if errs.is_empty() {
        Ok(())
    } else {
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        Err(Invalid::new(&gvk.kind, &gvk.group, name, errs).into())
    }
}

/// `ValidateImmutableField`.
fn immutable(new: &Value, old: &Value, pointer: &str, field: &FieldPath) -> Vec<FieldError> {
    let n = at(new, pointer);
    let o = at(old, pointer);
    if n == o {
        return Vec::new();
    }
    vec![FieldError::invalid(field, bad_of(n), IMMUTABLE)]
}

fn bad_of(v: Option<&Value>) -> BadValue {
    match v {
        Some(v) => BadValue::of(v),
        None => BadValue::Json(Value::Null),
    }
}

/// Whether a label selector (`matchLabels`, `matchExpressions`) matches `labels`.
pub fn selector_matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    if let Some(ml) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if labels.get(k) != Some(v) {
                return false;
            }
        }
    }
    if let Some(exprs) = selector.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = e.get("key").and_then(Value::as_str).unwrap_or("");
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let have = labels.get(key).and_then(Value::as_str);
            let ok = match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                "In" => have.is_some_and(|h| values.contains(&h)),
                "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

fn selector_is_empty(selector: &Value) -> bool {
    let ml = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    let me = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    ml && me
}

/// Deployment, ReplicaSet, DaemonSet and StatefulSet specs: replicas, selector, template labels,
/// containers.
fn workload_spec(object: &Value, kind: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let no_spec = json!({});
    let spec = object.get("spec").unwrap_or(&no_spec);
    if let Some(r) = spec.get("replicas").and_then(Value::as_i64)
        && r < 0
    {
        errs.push(FieldError::invalid(
            &path(&["spec", "replicas"]),
            BadValue::Int(r),
            "must be greater than or equal to 0",
        ));
    }
    let selector_path = path(&["spec", "selector"]);
    let selector = spec.get("selector").filter(|s| !s.is_null());
    match selector {
        None => errs.push(FieldError::required(&selector_path, "")),
        Some(sel) if selector_is_empty(sel) => errs.push(FieldError::invalid(
            &selector_path,
            BadValue::of(sel),
            format!("empty selector is invalid for {kind}"),
        )),
        Some(_) => {}
    }
    let template_path = path(&["spec", "template"]);
    let empty = Map::new();
    let labels = spec
        .pointer("/template/metadata/labels")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    if let Some(sel) = selector
        && !selector_is_empty(sel)
        && !selector_matches(sel, labels)
    {
        errs.push(FieldError::invalid(
            &template_path.child("metadata").child("labels"),
            BadValue::Json(Value::Object(labels.clone())),
            "`selector` does not match template `labels`",
        ));
    }
    errs.extend(pod_spec(
        spec.pointer("/template/spec"),
        &template_path.child("spec"),
    ));
    if kind != "statefulset"
        && let Some(rp) = spec
            .pointer("/template/spec/restartPolicy")
            .and_then(Value::as_str)
        && rp != "Always"
    {
        errs.push(FieldError::not_supported(
            &template_path.child("spec").child("restartPolicy"),
            rp,
            &["Always"],
        ));
    }
    errs
}

/// The container checks clients meet most often: at least one container, names unique DNS
/// labels, an image for each.
fn pod_spec(spec: Option<&Value>, p: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    let Some(containers) = containers.filter(|c| !c.is_empty()) else {
        errs.push(FieldError::required(&p.child("containers"), ""));
        return errs;
    };
    let mut names: Vec<&str> = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        let cp = p.child("containers").index(i);
        let name = c.get("name").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() {
            errs.push(FieldError::required(&cp.child("name"), ""));
        } else {
            for msg in super::names::dns1123_label(name) {
                errs.push(FieldError::invalid(&cp.child("name"), name, msg));
            }
            if names.contains(&name) {
                errs.push(FieldError::duplicate(&cp.child("name"), name));
            }
            names.push(name);
        }
        if c.get("image")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .is_empty()
        {
            errs.push(FieldError::required(&cp.child("image"), ""));
        }
    }
    errs
}

/// `ValidateStatefulSetUpdate`: only some spec fields may change.
fn statefulset_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let strip = |v: &Value| -> Value {
        let mut spec = v.get("spec").cloned().unwrap_or_else(|| json!({}));
        if let Some(m) = spec.as_object_mut() {
            for f in [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "revisionHistoryLimit",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ] {
                m.remove(f);
            }
        }
        spec
    };
    if strip(new) == strip(old) {
        return Vec::new();
    }
    vec![FieldError::forbidden(
        &FieldPath::new("spec"),
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    )]
}

/// ConfigMap/Secret `immutable: true`: the flag and the data may not change.
fn immutable_when_set(new: &Value, old: &Value, data_fields: &[&str]) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return errs;
    }
    if new.get("immutable").and_then(Value::as_bool) != Some(true) {
        errs.push(FieldError::forbidden(
            &FieldPath::new("immutable"),
            "field is immutable when `immutable` is set",
        ));
    }
    for f in data_fields {
        if new.get(*f) != old.get(*f) {
            errs.push(FieldError::forbidden(
                &FieldPath::new(*f),
                "field is immutable when `immutable` is set",
            ));
        }
    }
    errs
}

/// Keys of ConfigMap/Secret data: `IsConfigMapKey`, no key in both maps, total size.
fn config_data(object: &Value, data: &str, other: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut total = 0usize;
    for field in [data, other] {
        let Some(map) = object.get(field).and_then(Value::as_object) else {
            continue;
        };
        for (k, v) in map {
            for msg in config_key(k) {
                errs.push(FieldError::invalid(
                    &FieldPath::new(field).key(k),
                    k.as_str(),
                    msg,
                ));
            }
            total += v.as_str().map_or(0, str::len);
        }
    }
    if let (Some(a), Some(b)) = (
        object.get(data).and_then(Value::as_object),
        object.get(other).and_then(Value::as_object),
    ) && data == "data"
        && other == "binaryData"
    {
        for k in a.keys() {
            if b.contains_key(k) {
                errs.push(FieldError::invalid(
                    &FieldPath::new(data).key(k),
                    k.as_str(),
                    "duplicate of key present in binaryData",
                ));
            }
        }
    }
    if total > MAX_DATA_SIZE {
        errs.push(FieldError::too_long(
            &FieldPath::new(data),
            MAX_DATA_SIZE as i64,
        ));
    }
    errs
}

/// `IsConfigMapKey`.
fn config_key(k: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if k.len() > 253 {
        errs.push(super::names::max_len_error(253));
    }
    if k.is_empty()
        || !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_owned());
    }
    if k == "." || k == ".." {
        errs.push(format!("must not be '{k}'"));
    } else if k.starts_with("..") {
        errs.push("must not start with '..'".to_owned());
    }
    errs
}

/// Keys the well-known Secret types require.
fn secret_type(object: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let ty = object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("Opaque");
    let has = |k: &str| {
        ["data", "stringData"]
            .iter()
            .any(|f| object.get(*f).and_then(|d| d.get(k)).is_some())
    };
    let required: &[&str] = match ty {
        "kubernetes.io/tls" => &["tls.crt", "tls.key"],
        "kubernetes.io/dockerconfigjson" => &[".dockerconfigjson"],
        "kubernetes.io/dockercfg" => &[".dockercfg"],
        "kubernetes.io/ssh-auth" => &["ssh-privatekey"],
        _ => &[],
    };
    for k in required {
        if !has(k) {
            errs.push(FieldError::required(&FieldPath::new("data").key(k), ""));
        }
    }
    if ty == "kubernetes.io/basic-auth" && !has("username") && !has("password") {
        errs.push(FieldError::required(
            &FieldPath::new("data").key("username"),
            "",
        ));
    }
    errs
}

fn service_spec(object: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let ty = object
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    let headless = object.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
    let ports = object
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if ty != "ExternalName" && !headless && ports == 0 {
        errs.push(FieldError::required(&path(&["spec", "ports"]), ""));
    }
    if !matches!(
        ty,
        "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName"
    ) {
        errs.push(FieldError::not_supported(
            &path(&["spec", "type"]),
            ty,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        ));
    }
    errs
}

fn cluster_ips(v: &Value) -> Vec<String> {
    match v.pointer("/spec/clusterIPs").and_then(Value::as_array) {
        Some(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        None => v
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| vec![s.to_owned()])
            .unwrap_or_default(),
    }
}

/// `validateUpgradeDowngradeClusterIPs`: cluster IPs may not change once set.
fn service_cluster_ips(new: &Value, old: &Value) -> Vec<FieldError> {
    let ty = |v: &Value| {
        v.pointer("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_owned()
    };
    if ty(new) == "ExternalName" || ty(old) == "ExternalName" {
        return Vec::new();
    }
    let n = cluster_ips(new);
    let o = cluster_ips(old);
    let headless = |ips: &[String]| ips.first().map(String::as_str) == Some("None");
    if headless(&n) && headless(&o) {
        return Vec::new();
    }
    let p = path(&["spec", "clusterIPs"]).index(0);
    let bad = BadValue::Json(json!(n));
    let mut errs = Vec::new();
    if o.len() == n.len() {
        for (i, ip) in o.iter().enumerate() {
            if *ip != n[i] {
                errs.push(FieldError::invalid(
                    &path(&["spec", "clusterIPs"]).index(i),
                    bad.clone(),
                    "may not change once set",
                ));
            }
        }
    } else if o.len() > n.len() {
        if n.is_empty() {
            errs.push(FieldError::invalid(
                &p,
                bad,
                "primary clusterIP can not be unset",
            ));
        } else if n[0] != o[0] {
            errs.push(FieldError::invalid(&p, bad, "may not change once set"));
        }
    } else if !o.is_empty() && n[0] != o[0] {
        errs.push(FieldError::invalid(&p, bad, "may not change once set"));
    }
    errs
}

/// What the server's update strategies change before validation: a Service keeps the cluster
/// IPs (and node ports) it was allocated when the update leaves them out, as `kubectl apply`
/// of a manifest without `clusterIP` does.
pub fn prepare_for_update(gvk: &Gvk, new: &mut Value, old: &Value) {
    if gvk.group.is_empty() && gvk.kind == "Service" {
        let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
            return;
        };
        let old_spec = old.get("spec");
        for f in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            let missing = match spec.get(f) {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.is_empty(),
                Some(Value::Array(a)) => a.is_empty(),
                _ => false,
            };
            if missing && let Some(v) = old_spec.and_then(|s| s.get(f)) {
                spec.insert(f.to_owned(), v.clone());
            }
        }
        // Node ports of ports that did not say theirs.
        let old_ports = old_spec
            .and_then(|s| s.get("ports"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for p in ports.iter_mut() {
                let Some(pm) = p.as_object_mut() else {
                    continue;
                };
                if pm.contains_key("nodePort") {
                    continue;
                }
                let same = old_ports.iter().find(|op| {
                    op.get("port") == pm.get("port")
                        && op.get("protocol").unwrap_or(&json!("TCP"))
                            == pm.get("protocol").unwrap_or(&json!("TCP"))
                });
                if let Some(np) = same.and_then(|op| op.get("nodePort")) {
                    pm.insert("nodePort".into(), np.clone());
                }
            }
        }
    }
}
