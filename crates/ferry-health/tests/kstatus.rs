//! The kstatus view of the built-in corpus cases: where kstatus and Argo CD judge a kind, they
//! agree (Current ~ Healthy, InProgress ~ Progressing, Failed ~ Degraded); the cases where the
//! two tools disagree by design are listed with the reason, so a change in either view shows.

mod support;

use ferry_health::{KStatus, assess};
use support::{Layer, corpus};

/// Cases where kstatus and Argo CD differ, with kstatus' verdict and why.
const DIFFERENCES: &[(&str, KStatus, &str)] = &[
    // kstatus has no rule for these kinds and they carry no Ready/Stalled/Reconciling condition.
    (
        "autoscaling_HorizontalPodAutoscaler/02-hpa-v2-degraded",
        KStatus::Current,
        "no HPA rule",
    ),
    (
        "autoscaling_HorizontalPodAutoscaler/03-hpa-v2-progressing",
        KStatus::Current,
        "no HPA rule",
    ),
    (
        "autoscaling_HorizontalPodAutoscaler/04-hpa-v1-degraded",
        KStatus::Current,
        "no HPA rule",
    ),
    (
        "autoscaling_HorizontalPodAutoscaler/05-hpa-v1-degraded-failedgetobjectmetric",
        KStatus::Current,
        "no HPA rule",
    ),
    (
        "autoscaling_HorizontalPodAutoscaler/08-hpa-v1-progressing",
        KStatus::Current,
        "no HPA rule",
    ),
    (
        "autoscaling_HorizontalPodAutoscaler/09-hpa-v1-progressing-with-no-annotations",
        KStatus::Current,
        "no HPA rule",
    ),
    (
        "apiregistration.k8s.io_APIService/02-apiservice-v1-false",
        KStatus::Current,
        "no APIService rule",
    ),
    (
        "apiregistration.k8s.io_APIService/04-apiservice-v1beta1-false",
        KStatus::Current,
        "no APIService rule",
    ),
    (
        "argoproj.io_Workflow/01-workflow-running",
        KStatus::Current,
        "no Workflow rule",
    ),
    (
        "argoproj.io_Workflow/03-workflow-nostatus",
        KStatus::Current,
        "no Workflow rule",
    ),
    (
        "networking.k8s.io_Ingress/02-ingress-unassigned",
        KStatus::Current,
        "no Ingress rule",
    ),
    // kstatus only waits for a LoadBalancer Service's cluster IP, not its external address.
    (
        "core_Service/03-svc-loadbalancer-unassigned",
        KStatus::Current,
        "cluster IP is enough",
    ),
    // kstatus waits for every DaemonSet pod to be updated, even with OnDelete.
    (
        "apps_DaemonSet/01-daemonset-ondelete",
        KStatus::InProgress,
        "OnDelete still counted",
    ),
    // kstatus has no paused or suspended state: the rollout is simply unfinished.
    (
        "apps_Deployment/03-deployment-suspended",
        KStatus::InProgress,
        "paused mid-rollout",
    ),
    (
        "batch_Job/04-job-suspended",
        KStatus::InProgress,
        "suspended before start",
    ),
    // kstatus reads a Ready pod as Current whatever its restart policy (Argo CD keeps hook
    // pods Progressing until they complete).
    (
        "core_Pod/07-pod-running-restart-never",
        KStatus::Current,
        "ready pod",
    ),
    (
        "core_Pod/09-pod-running-restart-never-hook-with-ignore-annotation",
        KStatus::Current,
        "ready pod",
    ),
    // kstatus fails a pod on CrashLoopBackOff only, and on any restart policy.
    (
        "core_Pod/04-pod-imagepullbackoff",
        KStatus::InProgress,
        "image pull back-off",
    ),
    (
        "core_Pod/05-pod-error",
        KStatus::InProgress,
        "restarted, not crash-looping yet",
    ),
    (
        "core_Pod/10-pod-running-restart-never-with-ignore-annotation-backoff",
        KStatus::InProgress,
        "image pull back-off",
    ),
    (
        "core_Pod/11-pod-running-restart-onfailure",
        KStatus::Failed,
        "crash loop",
    ),
    // Deletion has a status of its own in kstatus.
    (
        "core_Pod/14-pod-deletion",
        KStatus::Terminating,
        "being deleted",
    ),
    // No Argo CD health, nothing to wait for in kstatus.
    (
        "argoproj.io_Application/01-application-healthy",
        KStatus::Current,
        "no conditions",
    ),
    (
        "argoproj.io_Application/02-application-degraded",
        KStatus::Current,
        "no conditions",
    ),
    (
        "serving.knative.dev_Service/04-knative-service",
        KStatus::Current,
        "no status",
    ),
];

#[test]
fn kstatus_agrees_with_argo_cd_except_where_the_tools_differ() {
    let mut failures = Vec::new();
    let mut agreed = 0;
    for case in corpus().iter().filter(|c| c.layer == Layer::Builtin) {
        let health = assess(&case.object);
        let expected = match DIFFERENCES.iter().find(|(name, _, _)| *name == case.name) {
            Some((_, kstatus, _)) => Some(*kstatus),
            None => {
                agreed += 1;
                case.expected_status.map(|s| s.to_kstatus())
            }
        };
        if Some(health.kstatus) != expected {
            failures.push(format!(
                "{}: want {expected:?}, got {} ({})",
                case.name, health.kstatus, health.kstatus_message
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(agreed, 53 - DIFFERENCES.len());
}
