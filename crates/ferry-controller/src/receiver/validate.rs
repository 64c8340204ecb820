//! Authentication of a webhook request per Receiver type, as notification-controller does it:
//! HMAC signatures (GitHub, Bitbucket Server, generic-hmac, Nexus), shared tokens in a header
//! (GitLab, Harbor), event types filtered by `spec.events` (case-insensitively), payloads that
//! must decode (Quay, Docker Hub, ACR, Nexus). Types that need a peer ferry cannot reach or
//! implement (gcr: Google's token info; cdevents: the CDEvents schemas; generic-oidc: OIDC
//! discovery) are refused as unsupported, never accepted unchecked.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha1::Sha1;
use sha2::{Sha256, Sha512};

use ferry_api::receiver::kind;

/// The headers a validation reads, lowercase names.
pub trait Headers {
    fn get(&self, name: &str) -> Option<&str>;
}

impl Headers for axum::http::HeaderMap {
    fn get(&self, name: &str) -> Option<&str> {
        axum::http::HeaderMap::get(self, name).and_then(|v| v.to_str().ok())
    }
}

/// What a request amounts to.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Authentic and of a handled event type: notify the resources. The event type when the
    /// sender names one.
    Accept(Option<String>),
    /// GitHub's `ping` (sent when a webhook is created), authentic: answered without notifying.
    Ping,
    /// Not authentic, or an event type the Receiver does not handle: 400, as Flux answers.
    Reject(String),
    /// A type ferry does not implement: 501.
    Unsupported(String),
}

/// Checks a request against a Receiver of type `type_` with `token` and `events`.
pub fn validate(
    type_: &str,
    events: &[String],
    token: &str,
    headers: &impl Headers,
    body: &[u8],
) -> Verdict {
    match type_ {
        kind::GENERIC => Verdict::Accept(None),
        kind::GENERIC_HMAC => match headers.get("x-signature") {
            None => Verdict::Reject("the X-Signature header is missing".to_owned()),
            Some(signature) => match check_signature(signature, body, token) {
                Ok(()) => Verdict::Accept(None),
                Err(e) => Verdict::Reject(format!("unable to validate HMAC signature: {e}")),
            },
        },
        kind::GITHUB => {
            if let Err(e) = check_hub_signature(headers, body, token) {
                return Verdict::Reject(format!("the GitHub signature header is invalid: {e}"));
            }
            let event = headers.get("x-github-event").unwrap_or_default();
            if event.eq_ignore_ascii_case("ping") {
                return Verdict::Ping;
            }
            filter_event("GitHub", event, events)
        }
        kind::GITLAB => {
            let given = headers.get("x-gitlab-token").unwrap_or_default();
            if !constant_time_eq(given.as_bytes(), token.as_bytes()) {
                return Verdict::Reject(
                    "the X-Gitlab-Token header value does not match the receiver token".to_owned(),
                );
            }
            filter_event(
                "GitLab",
                headers.get("x-gitlab-event").unwrap_or_default(),
                events,
            )
        }
        kind::BITBUCKET => {
            if let Err(e) = check_hub_signature(headers, body, token) {
                return Verdict::Reject(format!(
                    "the Bitbucket server signature header is invalid: {e}"
                ));
            }
            filter_event(
                "Bitbucket server",
                headers.get("x-event-key").unwrap_or_default(),
                events,
            )
        }
        kind::HARBOR => {
            let given = headers.get("authorization").unwrap_or_default();
            if constant_time_eq(given.as_bytes(), token.as_bytes()) {
                Verdict::Accept(None)
            } else {
                Verdict::Reject(
                    "the Harbor Authorization header value does not match the receiver token"
                        .to_owned(),
                )
            }
        }
        kind::NEXUS => {
            let Some(signature) = headers.get("x-nexus-webhook-signature") else {
                return Verdict::Reject("the Nexus signature header is missing".to_owned());
            };
            let expected = hex_hmac::<Hmac<Sha1>>(token, body);
            if !constant_time_eq(signature.as_bytes(), expected.as_bytes()) {
                return Verdict::Reject("invalid Nexus signature".to_owned());
            }
            json_payload("Nexus", body)
        }
        kind::QUAY => json_payload("Quay", body),
        kind::DOCKERHUB => json_payload("DockerHub", body),
        kind::ACR => json_payload("ACR", body),
        kind::GCR | kind::CDEVENTS | kind::GENERIC_OIDC => Verdict::Unsupported(format!(
            "ferry does not implement receivers of type '{type_}' (supported: generic, \
             generic-hmac, github, gitlab, bitbucket, harbor, nexus, quay, dockerhub, acr)"
        )),
        other => Verdict::Unsupported(format!("receiver type '{other}' not supported")),
    }
}

/// `spec.events` empty: every event; otherwise the event must be listed (any case).
fn filter_event(sender: &str, event: &str, events: &[String]) -> Verdict {
    if events.is_empty() || events.iter().any(|e| e.eq_ignore_ascii_case(event)) {
        Verdict::Accept(Some(event.to_owned()))
    } else {
        Verdict::Reject(format!("the {sender} event '{event}' is not authorised"))
    }
}

fn json_payload(sender: &str, body: &[u8]) -> Verdict {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(_)) => Verdict::Accept(None),
        Ok(_) => Verdict::Reject(format!("the {sender} webhook payload is not a JSON object")),
        Err(e) => Verdict::Reject(format!("cannot decode the {sender} webhook payload: {e}")),
    }
}

/// GitHub's (and Bitbucket Server's) signature: `X-Hub-Signature-256` when present, else
/// `X-Hub-Signature`.
fn check_hub_signature(headers: &impl Headers, body: &[u8], token: &str) -> Result<(), String> {
    let signature = headers
        .get("x-hub-signature-256")
        .or_else(|| headers.get("x-hub-signature"))
        .ok_or_else(|| "missing signature".to_owned())?;
    check_signature(signature, body, token)
}

/// Checks `<algo>=<hex>` (`sha1`, `sha256` or `sha512`) against the HMAC of `body` keyed
/// with `token`.
pub fn check_signature(signature: &str, body: &[u8], token: &str) -> Result<(), String> {
    let (algo, hex_mac) = signature
        .split_once('=')
        .ok_or_else(|| "signature is not of the form <algorithm>=<hex>".to_owned())?;
    let mac = hex::decode(hex_mac).map_err(|_| "signature is not hexadecimal".to_owned())?;
    let ok = match algo {
        "sha1" => verify::<Hmac<Sha1>>(token, body, &mac),
        "sha256" => verify::<Hmac<Sha256>>(token, body, &mac),
        "sha512" => verify::<Hmac<Sha512>>(token, body, &mac),
        other => return Err(format!("unsupported signature algorithm {other:?}")),
    };
    if ok {
        Ok(())
    } else {
        Err("payload signature check failed".to_owned())
    }
}

fn verify<M: Mac + hmac::digest::KeyInit>(token: &str, body: &[u8], mac: &[u8]) -> bool {
    let Ok(mut m) = <M as hmac::digest::KeyInit>::new_from_slice(token.as_bytes()) else {
        return false;
    };
    m.update(body);
    m.verify_slice(mac).is_ok()
}

fn hex_hmac<M: Mac + hmac::digest::KeyInit>(token: &str, body: &[u8]) -> String {
    let Ok(mut m) = <M as hmac::digest::KeyInit>::new_from_slice(token.as_bytes()) else {
        return String::new();
    };
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// Equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct H(HashMap<&'static str, String>);
    impl Headers for H {
        fn get(&self, name: &str) -> Option<&str> {
            self.0.get(name).map(String::as_str)
        }
    }
    fn headers(pairs: &[(&'static str, &str)]) -> H {
        H(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
    }

    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    const BODY: &[u8] = b"what do ya want for nothing?";
    const SHA256: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    const SHA512: &str = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";
    const SHA1: &str = "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";

    #[test]
    fn signatures_are_checked_with_every_algorithm() {
        assert_eq!(
            check_signature(&format!("sha256={SHA256}"), BODY, "Jefe"),
            Ok(())
        );
        assert_eq!(
            check_signature(&format!("sha512={SHA512}"), BODY, "Jefe"),
            Ok(())
        );
        assert_eq!(
            check_signature(&format!("sha1={SHA1}"), BODY, "Jefe"),
            Ok(())
        );
        assert!(check_signature(&format!("sha256={SHA256}"), BODY, "jefe").is_err());
        assert!(check_signature(&format!("sha256={SHA256}"), b"other", "Jefe").is_err());
        assert!(check_signature(&format!("md5={SHA1}"), BODY, "Jefe").is_err());
        assert!(check_signature(SHA256, BODY, "Jefe").is_err());
    }

    #[test]
    fn github_checks_the_signature_then_the_event() {
        let events = vec!["push".to_owned()];
        let sig = format!("sha256={SHA256}");
        let push = headers(&[("x-hub-signature-256", &sig), ("x-github-event", "Push")]);
        assert_eq!(
            validate("github", &events, "Jefe", &push, BODY),
            Verdict::Accept(Some("Push".to_owned()))
        );
        let issue = headers(&[("x-hub-signature-256", &sig), ("x-github-event", "issues")]);
        assert!(matches!(
            validate("github", &events, "Jefe", &issue, BODY),
            Verdict::Reject(m) if m.contains("'issues' is not authorised")
        ));
        let ping = headers(&[("x-hub-signature-256", &sig), ("x-github-event", "ping")]);
        assert_eq!(
            validate("github", &events, "Jefe", &ping, BODY),
            Verdict::Ping
        );
        // The legacy SHA-1 header alone is accepted.
        let legacy_sig = format!("sha1={SHA1}");
        let legacy = headers(&[("x-hub-signature", &legacy_sig), ("x-github-event", "push")]);
        assert!(matches!(
            validate("github", &events, "Jefe", &legacy, BODY),
            Verdict::Accept(_)
        ));
        let unsigned = headers(&[("x-github-event", "push")]);
        assert!(matches!(
            validate("github", &events, "Jefe", &unsigned, BODY),
            Verdict::Reject(_)
        ));
        // A forged ping is refused too.
        let forged = headers(&[
            ("x-hub-signature-256", "sha256=00"),
            ("x-github-event", "ping"),
        ]);
        assert!(matches!(
            validate("github", &[], "Jefe", &forged, BODY),
            Verdict::Reject(_)
        ));
    }

    #[test]
    fn gitlab_bitbucket_harbor_and_nexus() {
        let events = vec!["Push Hook".to_owned()];
        let ok = headers(&[
            ("x-gitlab-token", "s3cret"),
            ("x-gitlab-event", "push hook"),
        ]);
        assert!(matches!(
            validate("gitlab", &events, "s3cret", &ok, b"{}"),
            Verdict::Accept(_)
        ));
        let wrong = headers(&[("x-gitlab-token", "s3cre"), ("x-gitlab-event", "Push Hook")]);
        assert!(matches!(
            validate("gitlab", &events, "s3cret", &wrong, b"{}"),
            Verdict::Reject(_)
        ));
        let tag = headers(&[
            ("x-gitlab-token", "s3cret"),
            ("x-gitlab-event", "Tag Push Hook"),
        ]);
        assert!(matches!(
            validate("gitlab", &events, "s3cret", &tag, b"{}"),
            Verdict::Reject(_)
        ));

        let sig = format!("sha256={SHA256}");
        let bb = headers(&[
            ("x-hub-signature", &sig),
            ("x-event-key", "repo:refs_changed"),
        ]);
        assert!(matches!(
            validate("bitbucket", &[], "Jefe", &bb, BODY),
            Verdict::Accept(_)
        ));
        assert!(matches!(
            validate("bitbucket", &["pr:opened".to_owned()], "Jefe", &bb, BODY),
            Verdict::Reject(_)
        ));

        let harbor = headers(&[("authorization", "s3cret")]);
        assert!(matches!(
            validate("harbor", &[], "s3cret", &harbor, b"{}"),
            Verdict::Accept(_)
        ));
        assert!(matches!(
            validate("harbor", &[], "other", &harbor, b"{}"),
            Verdict::Reject(_)
        ));

        let body = br#"{"action":"CREATED","repositoryName":"r"}"#;
        let mac = hex_hmac::<Hmac<Sha1>>("k", body);
        let nexus = headers(&[("x-nexus-webhook-signature", &mac)]);
        assert!(matches!(
            validate("nexus", &[], "k", &nexus, body),
            Verdict::Accept(_)
        ));
        assert!(matches!(
            validate("nexus", &[], "j", &nexus, body),
            Verdict::Reject(_)
        ));
    }

    #[test]
    fn unimplemented_types_are_refused_by_name() {
        let none = headers(&[]);
        for t in ["gcr", "cdevents", "generic-oidc", "svn"] {
            assert!(matches!(
                validate(t, &[], "t", &none, b"{}"),
                Verdict::Unsupported(m) if m.contains(t)
            ));
        }
        assert!(matches!(
            validate("quay", &[], "t", &none, b"nope"),
            Verdict::Reject(_)
        ));
        assert!(matches!(
            validate("quay", &[], "t", &none, b"{}"),
            Verdict::Accept(_)
        ));
    }
}
