//! Per-kind admission on every write, in the real server's order: defaults of built-in kinds,
//! what each kind's strategy prepares (namespace lifecycle fields, Service cluster IPs and
//! node ports, CRD name defaults, the Job selector), then validation through
//! [`crate::schema::admit`] (unknown fields dropped, custom resources defaulted and validated
//! with their CEL rules, built-in kinds and CRDs validated).

use std::{
    collections::BTreeSet,
    net::Ipv4Addr,
    sync::{Arc, Mutex, PoisonError},
};

use ferry_schema::TypeSchema;

use serde_json::{Value, json};

use crate::{
    core::{Core, Part, Propagation},
    defaults, meta,
    resources::ResourceInfo,
    status::ApiError,
};

/// The namespace finalizer the namespace controller removes once the namespace is empty.
pub const NAMESPACE_FINALIZER: &str = "kubernetes";

/// Per-kind write rules. Holds the allocators that need memory across writes.
#[derive(Default)]
pub struct Strategy {
    allocation: Mutex<()>,
}

impl Strategy {
    /// Runs admission for a create (`old` is `None`) or an update of `object` (`old` is the
    /// stored object as read), writing `part`. Warnings (ratcheted CEL errors) go to `warnings`.
    /// Returns the schema whose defaults the object now holds (custom resources).
    pub fn admit(
        &self,
        core: &Core,
        info: &ResourceInfo,
        part: Part,
        old: Option<&Value>,
        object: &mut Value,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Arc<TypeSchema>>, ApiError> {
        let name = meta::meta_str(object, "name").to_owned();
        if info.custom.is_none() {
            defaults::apply(&info.group, &info.kind, object);
        }
        match (info.group.as_str(), info.kind.as_str()) {
            ("", "Namespace") => {
                let meta = meta::metadata_mut(object);
                let labels = meta.entry("labels").or_insert_with(|| json!({}));
                if let Some(labels) = labels.as_object_mut() {
                    labels.insert(
                        "kubernetes.io/metadata.name".into(),
                        Value::String(name.clone()),
                    );
                }
                match old {
                    None => {
                        let spec = object
                            .as_object_mut()
                            .map(|o| o.entry("spec").or_insert_with(|| json!({})));
                        if let Some(Value::Object(spec)) = spec
                            && !spec.contains_key("finalizers")
                        {
                            spec.insert("finalizers".into(), json!([NAMESPACE_FINALIZER]));
                        }
                        object["status"] = json!({"phase": "Active"});
                    }
                    Some(old) => {
                        if let Some(status) = old.get("status") {
                            object["status"] = status.clone();
                        }
                    }
                }
            }
            ("", "Service") => self.admit_service(core, info, old, object)?,
            ("apiextensions.k8s.io", "CustomResourceDefinition") => default_crd(object),
            ("batch", "Job") if old.is_none() => admit_job(object),
            _ => {}
        }
        let admitted = crate::schema::admit(core, info, part, old, object)?;
        warnings.extend(admitted.warnings);
        if info.kind == "CustomResourceDefinition" && info.group == "apiextensions.k8s.io" {
            // Validation passed, so the CRD serves: the resources it defines must be derivable.
            crate::resources::crd_resources(object).map_err(|e| {
                ApiError::invalid_field(
                    &info.kind,
                    &info.group,
                    &name,
                    "spec",
                    "FieldValueInvalid",
                    e.reason,
                )
            })?;
        }
        Ok(admitted.defaulted_with)
    }

    fn admit_service(
        &self,
        core: &Core,
        info: &ResourceInfo,
        old: Option<&Value>,
        object: &mut Value,
    ) -> Result<(), ApiError> {
        let svc_type = object
            .pointer("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_owned();
        if svc_type == "ExternalName" {
            return Ok(());
        }
        // Allocated values survive updates that leave them out, as the real registry keeps them.
        if let Some(old) = old {
            for field in ["clusterIP", "clusterIPs"] {
                if object
                    .pointer(&format!("/spec/{field}"))
                    .is_none_or(|v| v.is_null() || v == "")
                    && let Some(v) = old.pointer(&format!("/spec/{field}"))
                {
                    object["spec"][field] = v.clone();
                }
            }
            if let (Some(new_ports), Some(old_ports)) = (
                object
                    .pointer_mut("/spec/ports")
                    .and_then(Value::as_array_mut),
                old.pointer("/spec/ports").and_then(Value::as_array),
            ) {
                for p in new_ports.iter_mut() {
                    if p.get("nodePort").is_none()
                        && let Some(op) = old_ports.iter().find(|o| o.get("port") == p.get("port"))
                        && let Some(np) = op.get("nodePort")
                    {
                        p["nodePort"] = np.clone();
                    }
                }
            }
        }
        let current_ip = object
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let node_ports = matches!(svc_type.as_str(), "NodePort" | "LoadBalancer");
        let needs_port = node_ports
            && object
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .is_some_and(|ports| ports.iter().any(|p| p.get("nodePort").is_none()));
        if current_ip.is_empty() || needs_port {
            self.allocate(core, info, object, &current_ip, needs_port)?;
        } else if object.pointer("/spec/clusterIPs").is_none() {
            object["spec"]["clusterIPs"] = json!([current_ip]);
        }
        Ok(())
    }

    /// Gives the Service a free cluster IP (when `current_ip` is empty) and free node ports
    /// (when `needs_port`). Only writes that need an address pay for reading every Service:
    /// re-applying a Service that has one must not cost a scan of all of them.
    fn allocate(
        &self,
        core: &Core,
        info: &ResourceInfo,
        object: &mut Value,
        current_ip: &str,
        needs_port: bool,
    ) -> Result<(), ApiError> {
        let _guard = self
            .allocation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let services = core.store.list(&info.storage_key(), None).items;
        let mut used_ips = BTreeSet::new();
        let mut used_ports = BTreeSet::new();
        for s in &services {
            if let Some(ip) = s
                .value
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
            {
                used_ips.insert(u32::from(ip));
            }
            for p in s
                .value
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = p.get("nodePort").and_then(Value::as_u64) {
                    used_ports.insert(n);
                }
            }
        }
        if current_ip.is_empty() {
            // 10.96.0.0/12, skipping .0 and 10.96.0.1 (the `kubernetes` Service's address).
            let base = u32::from(Ipv4Addr::new(10, 96, 0, 0));
            let ip = (2..(1u32 << 20))
                .map(|i| base + i)
                .find(|ip| !used_ips.contains(ip))
                .ok_or_else(|| {
                    ApiError::internal("failed to allocate a serviceIP: range is full")
                })?;
            let ip = Ipv4Addr::from(ip).to_string();
            object["spec"]["clusterIP"] = json!(ip);
            object["spec"]["clusterIPs"] = json!([ip]);
        } else if object.pointer("/spec/clusterIPs").is_none() {
            object["spec"]["clusterIPs"] = json!([current_ip]);
        }
        if needs_port
            && let Some(ports) = object
                .pointer_mut("/spec/ports")
                .and_then(Value::as_array_mut)
        {
            for p in ports {
                if p.get("nodePort").is_none() {
                    let port = (30000..=32767u64)
                        .find(|n| !used_ports.contains(n))
                        .ok_or_else(|| {
                            ApiError::internal("failed to allocate a nodePort: range is full")
                        })?;
                    used_ports.insert(port);
                    p["nodePort"] = json!(port);
                }
            }
        }
        Ok(())
    }
}

fn admit_job(object: &mut Value) {
    // The Job controller's selector: the job's uid and name, also stamped on the pod template.
    let uid = meta::meta_str(object, "uid").to_owned();
    let name = meta::meta_str(object, "name").to_owned();
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true)
        || spec.contains_key("selector")
    {
        return;
    }
    spec.insert(
        "selector".into(),
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
    );
    if let Some(labels) = spec
        .get_mut("template")
        .and_then(Value::as_object_mut)
        .map(|t| t.entry("metadata").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
        .map(|m| m.entry("labels").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    {
        for (k, v) in [
            ("batch.kubernetes.io/controller-uid", &uid),
            ("batch.kubernetes.io/job-name", &name),
            ("controller-uid", &uid),
            ("job-name", &name),
        ] {
            labels.entry(k).or_insert_with(|| json!(v));
        }
    }
}

/// The defaults the real server gives a CRD on decode: conversion strategy `None`, `singular`
/// and `listKind` from the kind. Validation ([`ferry_schema::validation::crd::validate`])
/// follows in [`crate::schema::admit`].
fn default_crd(object: &mut Value) {
    let kind = object
        .pointer("/spec/names/kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    spec.entry("conversion")
        .or_insert_with(|| json!({"strategy": "None"}));
    if kind.is_empty() {
        return;
    }
    if let Some(names) = spec.get_mut("names").and_then(Value::as_object_mut) {
        names
            .entry("singular")
            .or_insert_with(|| json!(kind.to_lowercase()));
        names
            .entry("listKind")
            .or_insert_with(|| json!(format!("{kind}List")));
    }
}

/// The deletion propagation used when the request names none.
pub fn default_propagation(info: &ResourceInfo) -> Propagation {
    // batch/v1 Jobs orphan their pods by default for compatibility, as the real JobStrategy does.
    if info.group == "batch" && info.kind == "Job" {
        Propagation::Orphan
    } else {
        Propagation::Background
    }
}

/// Whether deletion must wait for a cleanup a controller performs (namespaces: content removal).
pub fn needs_cleanup_before_delete(info: &ResourceInfo, object: &Value) -> bool {
    info.is_namespace()
        && object
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
}

/// Whether a deleting object's cleanup is done (namespace `spec.finalizers` empty).
pub fn cleanup_finished(info: &ResourceInfo, object: &Value) -> bool {
    !needs_cleanup_before_delete(info, object)
}

/// Marks the start of a deletion (namespaces enter the Terminating phase).
pub fn on_deletion_started(info: &ResourceInfo, object: &mut Value) {
    if info.is_namespace() {
        object["status"] = json!({"phase": "Terminating"});
    }
}
