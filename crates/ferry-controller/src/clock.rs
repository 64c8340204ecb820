//! Timestamps in the forms the Kubernetes API and Flux's status fields use.

/// Now, RFC 3339 with seconds precision in UTC (`2026-11-23T10:00:00Z`), as `metav1.Time`.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
