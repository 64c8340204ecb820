//! Well-known annotation, label, finalizer and field-manager names. Flux's spellings, so that
//! objects annotated for Flux behave the same under ferry.

/// Field manager of every server-side apply ferry makes. Flux's kustomize-controller uses its
/// own name; objects applied by either are re-applied cleanly because both take ownership with
/// `force`.
pub const FIELD_MANAGER: &str = "ferry";

/// Managers whose fields ferry takes back on its objects (drift that `kubectl edit`, `kubectl
/// apply`, `kubectl label`... introduced), as Flux's cleanup does: a manager matches when its name
/// starts with one of these prefixes and its operation is the one given.
pub const OVERRIDDEN_MANAGERS: &[(&str, &str)] = &[
    // `kubectl apply --server-side --force-conflicts`
    ("kubectl", "Apply"),
    // `kubectl apply`, `edit`, `patch`, `label`, `scale`... (kubectl-client-side-apply, kubectl-edit, ...)
    ("kubectl", "Update"),
    ("before-first-apply", "Update"),
];

/// Annotations and labels removed from applied objects: client-side apply's record and the
/// markers of Flux v1, which would otherwise keep stale state on objects ferry adopts.
pub const STRIPPED_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "kustomize.toolkit.fluxcd.io/checksum",
    "fluxcd.io/sync-checksum",
];
pub const STRIPPED_LABELS: &[&str] = &["fluxcd.io/sync-gc-mark"];

/// Manager whose changes survive drift correction (`flux reconcile --with-source` and friends
/// annotate with it).
pub const CLIENT_SIDE_APPLY_MANAGER: &str = "flux-client-side-apply";

/// Group of the Kustomization API, also the prefix of the owner labels.
pub const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";

/// Owner labels set on every applied object.
pub const OWNER_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
pub const OWNER_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

/// Per-object apply policy: `Override` (default), `Merge`, `IfNotPresent`, `Ignore`.
pub const SSA_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/ssa";
/// Per-object recreate-on-immutable-change: `enabled` / `disabled`.
pub const FORCE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/force";
/// Per-object prune opt-out: `disabled`.
pub const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";
/// Per-object opt-out of apply and prune: `disabled`.
pub const RECONCILE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/reconcile";
/// Per-object opt-out of post-build substitution: `disabled`.
pub const SUBSTITUTE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Any change of this annotation's value asks for an immediate reconcile.
pub const REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";

/// Finalizer Flux's controllers put on the objects they manage.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// ferry's own opt-out of event-driven drift correction on a Kustomization: `disabled` keeps
/// Flux's behaviour (drift corrected at the next interval only).
pub const DRIFT_WATCH_ANNOTATION: &str = "ferry.dev/drift-watch";

/// Whether an annotation value says "disabled" (Flux compares case-insensitively).
pub fn is_disabled(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.eq_ignore_ascii_case("disabled"))
}

/// Whether an annotation value says "enabled".
pub fn is_enabled(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.eq_ignore_ascii_case("enabled"))
}
