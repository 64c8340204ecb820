//! The objects `ferry install` writes: ferry's CRDs, then the namespace and the controller
//! (ServiceAccount, RBAC, Deployment running `ferry controller`, Services of the artifact
//! server and of the webhook receiver), laid out as Flux's install manifests are.

use serde_json::{Value, json};

/// Name of the controller's Deployment, ServiceAccount and ClusterRole.
pub const CONTROLLER: &str = "ferry-controller";
/// The Service consumers fetch artifacts from: Flux's name, so that artifacts keep the URLs
/// Flux's own consumers expect.
pub const ARTIFACT_SERVICE: &str = "source-controller";
/// Port of the artifact server in the container.
pub const ARTIFACT_PORT: u16 = 9090;
/// Port of the metrics endpoint in the container.
pub const METRICS_PORT: u16 = 8080;
/// The Service git hosts call Receivers' webhooks through: Flux's name and port 80.
pub const WEBHOOK_SERVICE: &str = "webhook-receiver";
/// Port of the webhook receiver in the container (notification-controller's).
pub const WEBHOOK_PORT: u16 = 9292;

/// The image of this version of ferry.
pub fn default_image() -> String {
    format!("ghcr.io/ferry-cd/ferry:v{}", env!("CARGO_PKG_VERSION"))
}

fn labels(namespace: &str) -> Value {
    json!({
        "app.kubernetes.io/instance": namespace,
        "app.kubernetes.io/part-of": "ferry",
        "app.kubernetes.io/version": env!("CARGO_PKG_VERSION"),
    })
}

fn with_labels(namespace: &str, extra: Value) -> Value {
    let mut all = labels(namespace);
    if let (Some(all), Some(extra)) = (all.as_object_mut(), extra.as_object()) {
        all.extend(extra.clone());
    }
    all
}

/// Every object, in the order they are applied and printed.
pub fn all(namespace: &str, image: &str) -> Vec<Value> {
    let mut objects: Vec<Value> = ferry_api::crd::all()
        .into_iter()
        .map(|crd| {
            let mut crd = serde_json::to_value(crd).expect("a CRD serialises");
            crd["metadata"]["labels"] = labels(namespace);
            crd
        })
        .collect();
    objects.extend([
        namespace_object(namespace),
        service_account(namespace),
        cluster_role(namespace),
        cluster_role_binding(namespace, CONTROLLER, CONTROLLER),
        // Applying any object a Kustomization holds takes every permission (Flux's
        // `cluster-reconciler`); tenants are limited by impersonating their service accounts.
        cluster_role_binding(namespace, "ferry-reconciler", "cluster-admin"),
        service(namespace),
        webhook_service(namespace),
        deployment(namespace, image),
    ]);
    objects
}

fn namespace_object(namespace: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": namespace,
            "labels": with_labels(namespace, json!({
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/warn-version": "latest",
            })),
        },
    })
}

fn service_account(namespace: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": CONTROLLER, "namespace": namespace, "labels": labels(namespace)},
    })
}

/// What `ferry controller` itself reads and writes.
fn cluster_role(namespace: &str) -> Value {
    let all_verbs = json!([
        "create", "delete", "get", "list", "patch", "update", "watch"
    ]);
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": CONTROLLER, "labels": labels(namespace)},
        "rules": [
            {
                "apiGroups": ["source.toolkit.fluxcd.io"],
                "resources": ["gitrepositories", "gitrepositories/status", "gitrepositories/finalizers"],
                "verbs": all_verbs,
            },
            {
                "apiGroups": ["kustomize.toolkit.fluxcd.io"],
                "resources": ["kustomizations", "kustomizations/status", "kustomizations/finalizers"],
                "verbs": all_verbs,
            },
            {
                "apiGroups": ["notification.toolkit.fluxcd.io"],
                "resources": ["receivers", "receivers/status", "receivers/finalizers"],
                "verbs": all_verbs,
            },
            // Receivers ask any Flux object to reconcile (the requestedAt annotation).
            {
                "apiGroups": [
                    "source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io",
                    "helm.toolkit.fluxcd.io", "image.toolkit.fluxcd.io",
                    "source.extensions.fluxcd.io",
                ],
                "resources": ["*"],
                "verbs": ["get", "list", "watch", "patch"],
            },
            // Events about the reconciled objects.
            {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "get", "patch"]},
            {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "get", "patch"]},
            // Credentials, kubeconfigs and post-build variables.
            {"apiGroups": [""], "resources": ["secrets", "configmaps"], "verbs": ["get", "list", "watch"]},
            // spec.serviceAccountName: the client impersonates the account and its groups.
            {"apiGroups": [""], "resources": ["serviceaccounts", "groups"], "verbs": ["impersonate"]},
            // Leader election.
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": all_verbs},
        ],
    })
}

fn cluster_role_binding(namespace: &str, name: &str, role: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": labels(namespace)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": CONTROLLER, "namespace": namespace}],
    })
}

fn service(namespace: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": ARTIFACT_SERVICE,
            "namespace": namespace,
            "labels": with_labels(namespace, json!({"app.kubernetes.io/component": "artifact-server"})),
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": CONTROLLER},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
        },
    })
}

/// The webhook receiver, as Flux's install exposes it (port 80 to the receiver's port).
fn webhook_service(namespace: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": WEBHOOK_SERVICE,
            "namespace": namespace,
            "labels": with_labels(namespace, json!({"app.kubernetes.io/component": "webhook-receiver"})),
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": CONTROLLER},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http-webhook"}],
        },
    })
}

fn deployment(namespace: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": CONTROLLER,
            "namespace": namespace,
            "labels": with_labels(namespace, json!({"app.kubernetes.io/component": "controller"})),
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": CONTROLLER}},
            "template": {
                "metadata": {
                    "labels": {"app": CONTROLLER},
                    "annotations": {
                        "prometheus.io/port": METRICS_PORT.to_string(),
                        "prometheus.io/scrape": "true",
                    },
                },
                "spec": {
                    "serviceAccountName": CONTROLLER,
                    "terminationGracePeriodSeconds": 60,
                    "securityContext": {"fsGroup": 1337},
                    "containers": [{
                        "name": "manager",
                        "image": image,
                        "imagePullPolicy": "IfNotPresent",
                        "args": [
                            "controller",
                            format!("--metrics-addr=0.0.0.0:{METRICS_PORT}"),
                            format!("--leader-election-namespace={namespace}"),
                            "--artifact-cache=/tmp/artifacts",
                            "--storage-path=/data",
                            format!("--storage-addr=0.0.0.0:{ARTIFACT_PORT}"),
                            format!("--storage-adv-addr=http://{ARTIFACT_SERVICE}.{namespace}.svc.cluster.local."),
                            format!("--receiver-addr=0.0.0.0:{WEBHOOK_PORT}"),
                            "--log=info",
                        ],
                        "env": [{
                            "name": "RUNTIME_NAMESPACE",
                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                        }],
                        "ports": [
                            {"containerPort": ARTIFACT_PORT, "name": "http", "protocol": "TCP"},
                            {"containerPort": METRICS_PORT, "name": "http-prom", "protocol": "TCP"},
                            {"containerPort": WEBHOOK_PORT, "name": "http-webhook", "protocol": "TCP"},
                        ],
                        "readinessProbe": {"httpGet": {"path": "/metrics", "port": "http-prom"}},
                        "livenessProbe": {"httpGet": {"path": "/metrics", "port": "http-prom"}},
                        "resources": {
                            "limits": {"cpu": "1000m", "memory": "1Gi"},
                            "requests": {"cpu": "100m", "memory": "64Mi"},
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "capabilities": {"drop": ["ALL"]},
                            "readOnlyRootFilesystem": true,
                            "runAsNonRoot": true,
                            "runAsUser": 65534,
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "volumeMounts": [
                            {"name": "data", "mountPath": "/data"},
                            {"name": "temp", "mountPath": "/tmp"},
                        ],
                    }],
                    "volumes": [{"name": "data", "emptyDir": {}}, {"name": "temp", "emptyDir": {}}],
                },
            },
        },
    })
}
