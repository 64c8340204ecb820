//! core/v1 Pod, judged as gitops-engine does: by phase, with restart-policy-aware rules (a pod
//! that restarts forever is Degraded when a container waits on an error; a run-to-completion pod
//! is Progressing while it runs, so resource hooks are not failed too early), and the
//! `argocd.argoproj.io/ignore-restart-policy` annotation for pods that are not hooks.

use serde_json::Value;

use crate::object::{Object, field, lookup};
use crate::rules::{Entry, Verdict, core, degraded, healthy, progressing, unknown};

pub const RULES: &[Entry] = &[core("", "Pod", pod)];

const IGNORE_RESTART_POLICY: &str = "argocd.argoproj.io/ignore-restart-policy";

/// Argo CD and Helm hooks: their pods keep the run-to-completion rules whatever the annotation.
fn is_hook(obj: &Object<'_>) -> bool {
    obj.annotation("argocd.argoproj.io/hook").is_some() || obj.annotation("helm.sh/hook").is_some()
}

/// True when the pod is judged as a long-running pod (restartPolicy Always, the default).
fn restarts_forever(obj: &Object<'_>) -> bool {
    let policy = obj.str(&["spec", "restartPolicy"]).unwrap_or("Always");
    policy == "Always" || (obj.annotation(IGNORE_RESTART_POLICY) == Some("true") && !is_hook(obj))
}

/// A waiting reason that means the container cannot start without help (`ErrImagePull`,
/// `CreateContainerConfigError`, `CrashLoopBackOff`, `ImagePullBackOff`, ...).
fn is_error_reason(reason: &str) -> bool {
    reason.starts_with("Err") || reason.ends_with("Error") || reason.ends_with("BackOff")
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    lookup(value, path).and_then(Value::as_str).unwrap_or("")
}

/// Why a terminated container failed, if it did.
fn failure_of(container: &Value) -> Option<String> {
    let terminated = lookup(container, &["state", "terminated"]).filter(|t| t.is_object())?;
    let message = field(terminated, "message");
    if !message.is_empty() {
        return Some(message.to_owned());
    }
    if field(terminated, "reason") == "OOMKilled" {
        return Some("OOMKilled".to_owned());
    }
    let exit_code = terminated
        .get("exitCode")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    (exit_code != 0).then(|| {
        format!(
            "container {:?} failed with exit code {exit_code}",
            field(container, "name")
        )
    })
}

fn pod(obj: &Object<'_>) -> Option<Verdict> {
    let message = obj.str_or_empty(&["status", "message"]);
    let long_running = restarts_forever(obj);
    let containers = obj.list(&["status", "containerStatuses"]);
    if long_running {
        let errors: Vec<&str> = containers
            .iter()
            .filter(|c| is_error_reason(str_at(c, &["state", "waiting", "reason"])))
            .map(|c| str_at(c, &["state", "waiting", "message"]))
            .collect();
        if !errors.is_empty() {
            return degraded(errors.join(", "));
        }
    }
    match obj.str_or_empty(&["status", "phase"]) {
        "Pending" => progressing(message),
        "Succeeded" => healthy(message),
        "Failed" => {
            if !message.is_empty() {
                return degraded(message);
            }
            let init = obj.list(&["status", "initContainerStatuses"]);
            let failure = init.iter().chain(containers).find_map(failure_of);
            degraded(failure.unwrap_or_default())
        }
        "Running" if long_running => {
            if obj.conditions().get("Ready").is_some_and(|c| c.is_true()) {
                return healthy(message);
            }
            let restarted = containers
                .iter()
                .any(|c| lookup(c, &["lastState", "terminated"]).is_some_and(|t| !t.is_null()));
            if restarted {
                return degraded(message);
            }
            progressing(message)
        }
        "Running" => progressing(message),
        _ => unknown(message),
    }
}
