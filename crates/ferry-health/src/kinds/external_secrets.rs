//! external-secrets.io: ExternalSecret, ClusterExternalSecret, PushSecret, SecretStore and
//! ClusterSecretStore report a `Ready` condition once synced or validated.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing};

pub const RULES: &[Entry] = &[ecosystem("external-secrets.io", "*", ready_condition)];

fn ready_condition(obj: &Object<'_>) -> Option<Verdict> {
    match obj.conditions().get("Ready") {
        Some(c) if c.is_true() => healthy(c.message),
        Some(c) if c.is_false() => degraded(c.message),
        Some(c) => progressing(c.message),
        None => progressing(format!("Waiting for {}", obj.kind)),
    }
}
