//! cert-manager (`cert-manager.io`, and the legacy `certmanager.k8s.io` group): certificates,
//! issuers and requests report a `Ready` condition; a Certificate also reports `Issuing` while a
//! new certificate is being obtained. ACME orders and challenges (`acme.cert-manager.io`)
//! report a `state`.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing};

pub const RULES: &[Entry] = &[
    ecosystem("cert-manager.io", "Certificate", certificate),
    ecosystem("certmanager.k8s.io", "Certificate", certificate),
    ecosystem("cert-manager.io", "Issuer", issuer),
    ecosystem("certmanager.k8s.io", "Issuer", issuer),
    ecosystem("cert-manager.io", "ClusterIssuer", cluster_issuer),
    ecosystem("certmanager.k8s.io", "ClusterIssuer", cluster_issuer),
    ecosystem("cert-manager.io", "CertificateRequest", certificate_request),
    ecosystem("acme.cert-manager.io", "Order", acme_resource),
    ecosystem("acme.cert-manager.io", "Challenge", acme_resource),
];

fn certificate(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    if let Some(c) = conditions.get("Issuing")
        && c.is_true()
    {
        return progressing(c.message);
    }
    match conditions.get("Ready") {
        Some(c) if c.is_true() => healthy(c.message),
        Some(c) if c.is_false() => degraded(c.message),
        _ => progressing("Waiting for certificate"),
    }
}

fn ready_or(obj: &Object<'_>, waiting: &str) -> Option<Verdict> {
    match obj.conditions().get("Ready") {
        Some(c) if c.is_true() => healthy(c.message),
        Some(c) if c.is_false() => degraded(c.message),
        _ => progressing(waiting),
    }
}

fn issuer(obj: &Object<'_>) -> Option<Verdict> {
    ready_or(obj, "Initializing issuer")
}

fn cluster_issuer(obj: &Object<'_>) -> Option<Verdict> {
    ready_or(obj, "Initializing ClusterIssuer")
}

/// A request is Pending while its issuer works on it; Denied, Failed or InvalidRequest end it.
fn certificate_request(obj: &Object<'_>) -> Option<Verdict> {
    let conditions = obj.conditions();
    for kind in ["Denied", "InvalidRequest"] {
        if let Some(c) = conditions.get(kind)
            && c.is_true()
        {
            return degraded(c.message);
        }
    }
    match conditions.get("Ready") {
        Some(c) if c.is_true() => healthy(c.message),
        Some(c) if c.is_false() && c.reason != "Pending" => degraded(c.message),
        Some(c) => progressing(c.message),
        None => progressing("Waiting for the certificate request to be issued"),
    }
}

/// ACME Order and Challenge states (RFC 8555): valid is done, invalid/errored/expired failed.
fn acme_resource(obj: &Object<'_>) -> Option<Verdict> {
    let state = obj.str_or_empty(&["status", "state"]);
    let reason = obj.str_or_empty(&["status", "reason"]);
    match state {
        "valid" => healthy(reason),
        "invalid" | "errored" | "expired" => degraded(reason),
        "" => progressing("Waiting for the ACME server"),
        _ => progressing(reason),
    }
}
