//! Defaulting of built-in kinds, as the real server's registered defaulters fill them in, so
//! clients see the same stored objects (`kubectl diff`, drift detection and health checks read
//! them). Idempotent: it runs on every write.

use serde_json::{Map, Value, json};

fn obj(value: &mut Value) -> Option<&mut Map<String, Value>> {
    value.as_object_mut()
}

fn default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_owned(), value);
    }
}

fn child<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    map.get_mut(key).and_then(Value::as_object_mut)
}

/// Applies the defaults of `group`/`kind` in place.
pub fn apply(group: &str, kind: &str, object: &mut Value) {
    let Some(root) = obj(object) else { return };
    match (group, kind) {
        ("apps", "Deployment") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            default(spec, "replicas", json!(1));
            default(spec, "revisionHistoryLimit", json!(10));
            default(spec, "progressDeadlineSeconds", json!(600));
            default(spec, "strategy", json!({}));
            if let Some(strategy) = child(spec, "strategy") {
                default(strategy, "type", json!("RollingUpdate"));
                if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                    default(strategy, "rollingUpdate", json!({}));
                    if let Some(ru) = child(strategy, "rollingUpdate") {
                        default(ru, "maxUnavailable", json!("25%"));
                        default(ru, "maxSurge", json!("25%"));
                    }
                }
            }
            pod_template(spec);
        }
        ("apps", "ReplicaSet") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            default(spec, "replicas", json!(1));
            pod_template(spec);
        }
        ("apps", "StatefulSet") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            default(spec, "replicas", json!(1));
            default(spec, "podManagementPolicy", json!("OrderedReady"));
            default(spec, "revisionHistoryLimit", json!(10));
            default(spec, "updateStrategy", json!({}));
            if let Some(us) = child(spec, "updateStrategy") {
                default(us, "type", json!("RollingUpdate"));
                if us.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                    default(us, "rollingUpdate", json!({}));
                    if let Some(ru) = child(us, "rollingUpdate") {
                        default(ru, "partition", json!(0));
                    }
                }
            }
            default(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            if let Some(templates) = spec
                .get_mut("volumeClaimTemplates")
                .and_then(Value::as_array_mut)
            {
                for t in templates {
                    if let Some(t) = t.as_object_mut() {
                        default(t, "apiVersion", json!("v1"));
                        default(t, "kind", json!("PersistentVolumeClaim"));
                        if let Some(spec) = child(t, "spec") {
                            default(spec, "volumeMode", json!("Filesystem"));
                        }
                    }
                }
            }
            pod_template(spec);
        }
        ("apps", "DaemonSet") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            default(spec, "revisionHistoryLimit", json!(10));
            default(spec, "updateStrategy", json!({}));
            if let Some(us) = child(spec, "updateStrategy") {
                default(us, "type", json!("RollingUpdate"));
                if us.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                    default(us, "rollingUpdate", json!({}));
                    if let Some(ru) = child(us, "rollingUpdate") {
                        default(ru, "maxUnavailable", json!(1));
                        default(ru, "maxSurge", json!(0));
                    }
                }
            }
            pod_template(spec);
        }
        ("batch", "Job") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            job_spec(spec);
        }
        ("batch", "CronJob") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            default(spec, "concurrencyPolicy", json!("Allow"));
            default(spec, "suspend", json!(false));
            default(spec, "successfulJobsHistoryLimit", json!(3));
            default(spec, "failedJobsHistoryLimit", json!(1));
            if let Some(jt) = child(spec, "jobTemplate").and_then(|t| child(t, "spec")) {
                job_spec(jt);
            }
        }
        ("", "Pod") => {
            if let Some(spec) = child(root, "spec") {
                pod_spec(spec);
            }
        }
        ("", "Service") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            default(spec, "type", json!("ClusterIP"));
            let svc_type = spec
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP")
                .to_owned();
            if svc_type != "ExternalName" {
                default(spec, "sessionAffinity", json!("None"));
                default(spec, "internalTrafficPolicy", json!("Cluster"));
                default(spec, "ipFamilyPolicy", json!("SingleStack"));
                default(spec, "ipFamilies", json!(["IPv4"]));
            }
            if matches!(svc_type.as_str(), "NodePort" | "LoadBalancer") {
                default(spec, "externalTrafficPolicy", json!("Cluster"));
            }
            if svc_type == "LoadBalancer" {
                default(spec, "allocateLoadBalancerNodePorts", json!(true));
            }
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports {
                    if let Some(p) = p.as_object_mut() {
                        default(p, "protocol", json!("TCP"));
                        if matches!(p.get("targetPort"), Some(v) if v == &json!(0) || v == &json!(""))
                        {
                            p.remove("targetPort");
                        }
                        if let Some(port) = p.get("port").cloned() {
                            default(p, "targetPort", port);
                        }
                    }
                }
            }
        }
        ("", "Secret") => {
            default(root, "type", json!("Opaque"));
            if let Some(Value::Object(string_data)) = root.remove("stringData") {
                use base64::Engine;
                let data = root.entry("data").or_insert_with(|| json!({}));
                if let Some(data) = data.as_object_mut() {
                    for (k, v) in string_data {
                        let text = v.as_str().unwrap_or_default();
                        data.insert(
                            k,
                            json!(base64::engine::general_purpose::STANDARD.encode(text)),
                        );
                    }
                }
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(spec) = child(root, "spec") {
                default(spec, "volumeMode", json!("Filesystem"));
            }
        }
        ("", "ServiceAccount" | "ConfigMap") => {}
        ("networking.k8s.io", "NetworkPolicy") => {
            if let Some(spec) = child(root, "spec")
                && !spec.contains_key("policyTypes")
            {
                let mut types = vec![json!("Ingress")];
                if spec.contains_key("egress") {
                    types.push(json!("Egress"));
                }
                spec.insert("policyTypes".into(), Value::Array(types));
            }
        }
        ("policy", "PodDisruptionBudget") => {}
        ("autoscaling", "HorizontalPodAutoscaler") => {
            if let Some(spec) = child(root, "spec") {
                default(spec, "minReplicas", json!(1));
                default(
                    spec,
                    "metrics",
                    json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
                );
            }
        }
        _ => {}
    }
}

fn job_spec(spec: &mut Map<String, Value>) {
    default(spec, "backoffLimit", json!(6));
    default(spec, "completionMode", json!("NonIndexed"));
    default(spec, "suspend", json!(false));
    default(spec, "manualSelector", Value::Null);
    spec.remove("manualSelector");
    if spec.get("completions").is_none_or(Value::is_null)
        && spec.get("parallelism").is_none_or(Value::is_null)
    {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    default(spec, "parallelism", json!(1));
    default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    pod_template(spec);
}

fn pod_template(spec: &mut Map<String, Value>) {
    if let Some(pod_spec_map) = child(spec, "template").and_then(|t| child(t, "spec")) {
        pod_spec(pod_spec_map);
    }
}

fn pod_spec(spec: &mut Map<String, Value>) {
    default(spec, "restartPolicy", json!("Always"));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default(spec, "dnsPolicy", json!("ClusterFirst"));
    default(spec, "securityContext", json!({}));
    default(spec, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers"] {
        if let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in containers {
                if let Some(c) = c.as_object_mut() {
                    container(c);
                }
            }
        }
    }
    if let Some(volumes) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in volumes {
            let Some(v) = v.as_object_mut() else { continue };
            for source in ["configMap", "secret"] {
                if let Some(s) = child(v, source) {
                    default(s, "defaultMode", json!(420));
                }
            }
        }
    }
}

fn container(c: &mut Map<String, Value>) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
    let name_part = image.rsplit('/').next().unwrap_or_default();
    let latest =
        !image.contains('@') && (!name_part.contains(':') || name_part.ends_with(":latest"));
    default(
        c,
        "imagePullPolicy",
        json!(if latest { "Always" } else { "IfNotPresent" }),
    );
    default(c, "terminationMessagePath", json!("/dev/termination-log"));
    default(c, "terminationMessagePolicy", json!("File"));
    default(c, "resources", json!({}));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            if let Some(p) = p.as_object_mut() {
                default(p, "protocol", json!("TCP"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_get_the_real_defaults_and_stay_stable() {
        let mut d = json!({"spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}}});
        apply("apps", "Deployment", &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        let again = {
            let mut x = d.clone();
            apply("apps", "Deployment", &mut x);
            x
        };
        assert_eq!(again, d);
    }

    #[test]
    fn secrets_fold_string_data_into_data() {
        let mut s = json!({"stringData": {"a": "hi"}});
        apply("", "Secret", &mut s);
        assert_eq!(s, json!({"type": "Opaque", "data": {"a": "aGk="}}));
    }
}
