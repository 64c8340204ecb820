#![allow(clippy::unwrap_used)]
//! Built-in kinds: the validations clients depend on, with the messages of Kubernetes'
//! `pkg/apis/{apps,batch,core}/validation` and apimachinery's objectmeta validation.

use ferry_schema::{
    Gvk,
    validation::{ValidationError, builtin},
};
use serde_json::{Value, json};

fn gvk(api_version: &str, kind: &str) -> Gvk {
    Gvk::from_api_version(api_version, kind)
}

fn messages(r: Result<(), ValidationError>) -> Vec<String> {
    match r {
        Ok(()) => Vec::new(),
        Err(ValidationError::Invalid(inv)) => inv.errors.iter().map(|e| e.to_string()).collect(),
        Err(e) => panic!("{e:?}"),
    }
}

fn deployment(selector: Value, labels: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "apps"},
        "spec": {"replicas": 2, "selector": selector,
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
}

#[test]
fn deployment_selector_must_match_the_template() {
    let d = deployment(
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "other"}),
    );
    let err = builtin::validate(&gvk("apps/v1", "Deployment"), &d, None).unwrap_err();
    assert_eq!(err.code(), 422);
    assert_eq!(
        err.message(),
        r#"Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`"#
    );
    let st = err.status();
    assert_eq!(st["details"]["causes"][0]["reason"], "FieldValueInvalid");
    assert_eq!(
        st["details"]["causes"][0]["field"],
        "spec.template.metadata.labels"
    );
    let ok = deployment(
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}),
        json!({"app": "web"}),
    );
    assert!(builtin::validate(&gvk("apps/v1", "Deployment"), &ok, None).is_ok());
    let mut d = ok.clone();
    d["spec"].as_object_mut().unwrap().remove("selector");
    assert_eq!(
        messages(builtin::validate(&gvk("apps/v1", "Deployment"), &d, None)),
        ["spec.selector: Required value"]
    );
    let d = deployment(json!({}), json!({"app": "web"}));
    assert_eq!(
        messages(builtin::validate(&gvk("apps/v1", "Deployment"), &d, None)),
        ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]
    );
}

#[test]
fn workload_selectors_are_immutable() {
    let old = deployment(
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web", "v": "2"}),
    );
    let new = deployment(
        json!({"matchLabels": {"app": "web", "v": "2"}}),
        json!({"app": "web", "v": "2"}),
    );
    assert_eq!(
        messages(builtin::validate(
            &gvk("apps/v1", "Deployment"),
            &new,
            Some(&old)
        )),
        [
            r#"spec.selector: Invalid value: {"matchLabels":{"app":"web","v":"2"}}: field is immutable"#
        ]
    );
    for kind in ["ReplicaSet", "DaemonSet"] {
        let mut o = old.clone();
        let mut n = new.clone();
        o["kind"] = json!(kind);
        n["kind"] = json!(kind);
        let msgs = messages(builtin::validate(&gvk("apps/v1", kind), &n, Some(&o)));
        assert!(
            msgs.iter().any(|m| m.ends_with("field is immutable")),
            "{kind}: {msgs:?}"
        );
    }
}

#[test]
fn statefulset_updates_are_limited() {
    let sts = |size: &str| {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "pg"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": size}}}}]}})
    };
    let old = sts("1Gi");
    let mut scaled = old.clone();
    scaled["spec"]["replicas"] = json!(3);
    scaled["spec"]["template"]["spec"]["containers"][0]["image"] = json!("pg:16");
    assert!(builtin::validate(&gvk("apps/v1", "StatefulSet"), &scaled, Some(&old)).is_ok());
    assert_eq!(
        messages(builtin::validate(
            &gvk("apps/v1", "StatefulSet"),
            &sts("2Gi"),
            Some(&old)
        )),
        [
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        ]
    );
}

#[test]
fn job_templates_are_immutable() {
    let job = |image: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": image}]}}}})
    };
    let msgs = messages(builtin::validate(
        &gvk("batch/v1", "Job"),
        &job("m:2"),
        Some(&job("m:1")),
    ));
    assert_eq!(msgs.len(), 1);
    assert!(
        msgs[0]
            .starts_with(r#"spec.template: Invalid value: {"spec":{"containers":[{"image":"m:2""#),
        "{msgs:?}"
    );
    assert!(msgs[0].ends_with(": field is immutable"));
}

#[test]
fn immutable_config_maps_and_secrets() {
    let cm = |v: &str, immutable: bool| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": v}, "immutable": immutable});
    assert!(
        builtin::validate(
            &gvk("v1", "ConfigMap"),
            &cm("2", false),
            Some(&cm("1", false))
        )
        .is_ok()
    );
    assert_eq!(
        messages(builtin::validate(
            &gvk("v1", "ConfigMap"),
            &cm("2", true),
            Some(&cm("1", true))
        )),
        ["data: Forbidden: field is immutable when `immutable` is set"]
    );
    assert_eq!(
        messages(builtin::validate(
            &gvk("v1", "ConfigMap"),
            &cm("1", false),
            Some(&cm("1", true))
        )),
        ["immutable: Forbidden: field is immutable when `immutable` is set"]
    );
    let secret = |ty: &str| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": ty, "data": {"tls.crt": "YQ==", "tls.key": "Yg=="}});
    assert_eq!(
        messages(builtin::validate(
            &gvk("v1", "Secret"),
            &secret("kubernetes.io/tls"),
            Some(&secret("Opaque"))
        )),
        [r#"type: Invalid value: "kubernetes.io/tls": field is immutable"#]
    );
    let bad = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "YQ=="}});
    assert_eq!(
        messages(builtin::validate(&gvk("v1", "Secret"), &bad, None)),
        ["data[tls.key]: Required value"]
    );
    let bad_key = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a b": "x"}});
    assert_eq!(
        messages(builtin::validate(&gvk("v1", "ConfigMap"), &bad_key, None)),
        [
            r#"data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"#
        ]
    );
}

#[test]
fn service_cluster_ips_may_not_change() {
    let svc = |ip: Option<&str>| {
        let mut s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
        if let Some(ip) = ip {
            s["spec"]["clusterIP"] = json!(ip);
            s["spec"]["clusterIPs"] = json!([ip]);
        }
        s
    };
    let g = gvk("v1", "Service");
    let old = svc(Some("10.96.0.10"));
    assert_eq!(
        messages(builtin::validate(&g, &svc(Some("10.96.0.11")), Some(&old))),
        [r#"spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set"#]
    );
    // kubectl apply of a manifest without clusterIP: the update keeps the allocated IP.
    let mut new = svc(None);
    builtin::prepare_for_update(&g, &mut new, &old);
    assert_eq!(new["spec"]["clusterIP"], "10.96.0.10");
    assert!(builtin::validate(&g, &new, Some(&old)).is_ok());
    let no_ports =
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {}});
    assert_eq!(
        messages(builtin::validate(&g, &no_ports, None)),
        ["spec.ports: Required value"]
    );
}

#[test]
fn names_follow_each_kinds_rule() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "My_Config"}});
    assert_eq!(
        messages(builtin::validate(&gvk("v1", "ConfigMap"), &cm, None)),
        [
            r#"metadata.name: Invalid value: "My_Config": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
        ]
    );
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team.a"}});
    let msgs = messages(builtin::validate(&gvk("v1", "Namespace"), &ns, None));
    assert!(
        msgs[0].starts_with(
            r#"metadata.name: Invalid value: "team.a": a lowercase RFC 1123 label must consist of"#
        ),
        "{msgs:?}"
    );
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}});
    let msgs = messages(builtin::validate(&gvk("v1", "Service"), &svc, None));
    assert!(
        msgs[0].starts_with(
            r#"metadata.name: Invalid value: "1web": a DNS-1035 label must consist of"#
        ),
        "{msgs:?}"
    );
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:aggregate-to-view"}});
    assert!(
        builtin::validate(
            &gvk("rbac.authorization.k8s.io/v1", "ClusterRole"),
            &role,
            None
        )
        .is_ok()
    );
    let unnamed =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "cm-"}});
    assert_eq!(
        messages(builtin::validate(&gvk("v1", "ConfigMap"), &unnamed, None)),
        ["metadata.name: Required value: name or generateName is required"]
    );
    let labels = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"app": "a b"}}});
    let msgs = messages(builtin::validate(&gvk("v1", "ConfigMap"), &labels, None));
    assert!(
        msgs[0].starts_with(
            r#"metadata.labels: Invalid value: "a b": a valid label must be an empty string"#
        ),
        "{msgs:?}"
    );
}

#[test]
fn containers_need_names_and_images() {
    let mut d = deployment(
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web"}),
    );
    d["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "web"}, {"name": "web", "image": "x"}]);
    assert_eq!(
        messages(builtin::validate(&gvk("apps/v1", "Deployment"), &d, None)),
        [
            "spec.template.spec.containers[0].image: Required value",
            r#"spec.template.spec.containers[1].name: Duplicate value: "web""#,
        ]
    );
}

#[test]
fn admit_runs_the_whole_write_path() {
    use ferry_schema::{Registry, validation};
    let reg = Registry::builtin();
    let ts = reg.lookup("v1", "Service").unwrap();
    let old = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]}});
    // kubectl apply of a manifest without clusterIP and with a typo: the typo is dropped, the
    // allocated IP kept, and the update passes.
    let mut new = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80}], "selectorr": {"app": "web"}}});
    assert!(
        validation::admit(&ts, &mut new, Some(&old))
            .unwrap()
            .is_empty()
    );
    assert_eq!(new["spec"]["clusterIPs"], json!(["10.96.0.10"]));
    assert!(new["spec"].get("selectorr").is_none());
    // A CRD goes through CRD validation.
    let crd_ts = reg
        .lookup("apiextensions.k8s.io/v1", "CustomResourceDefinition")
        .unwrap();
    let mut crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "foos.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Foo", "plural": "foos"},
            "versions": [{"name": "v1", "served": true, "storage": true}]}});
    let err = validation::admit(&crd_ts, &mut crd, None).unwrap_err();
    assert_eq!(
        err.message(),
        r#"CustomResourceDefinition.apiextensions.k8s.io "foos.example.com" is invalid: spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"#
    );
}
