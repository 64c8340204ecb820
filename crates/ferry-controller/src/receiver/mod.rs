//! Flux's webhook Receiver (notification.toolkit.fluxcd.io/v1), notification-controller's job:
//! a git host or registry calls `POST /hook/<digest>` and the objects the Receiver lists are
//! asked to reconcile at once (`reconcile.fluxcd.io/requestedAt`), instead of at their next
//! interval.
//!
//! Two halves:
//! - the reconciler reads the token Secret (key `token`), computes the webhook path as Flux
//!   does (`/hook/` + hex SHA-256 of token + name + namespace) and reports it in
//!   `status.webhookPath` with Ready=True; a missing Secret or key is Ready=False
//!   `TokenNotFound` (retried with backoff), an invalid CEL filter or a type ferry does not
//!   implement is Stalled (terminal until the spec changes);
//! - the HTTP server ([`server`]) finds the Receiver by path, authenticates the request per
//!   type ([`validate`]), evaluates the CEL filters ([`filter`]) and merge-patches the
//!   annotation onto every matching object, answering with Flux's status codes.

pub mod filter;
pub mod server;
pub mod validate;

use std::{
    collections::{HashMap, hash_map::DefaultHasher},
    future::Future,
    hash::{Hash, Hasher},
    net::SocketAddr,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use ferry_api::{
    Receiver, ReceiverStatus, condition,
    condition::ConditionStatus,
    keys,
    receiver::{WEBHOOK_PATH_PREFIX, kind, reason},
};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, ResourceExt,
    runtime::{Controller, PredicateConfig, WatchStreamExt, controller::Action, reflector},
};
use sha2::{Digest, Sha256};

use crate::{clock, events::Recorder, status::patch_status};

/// The webhook server's settings (notification-controller's `--receiver-addr`).
#[derive(Clone, Debug, Default)]
pub struct ReceiverConfig {
    /// Address the webhook server listens on; no server when unset (Receivers still get their
    /// status). Port 0 picks a free port.
    pub bind: Option<SocketAddr>,
    /// The address the server is listening on, once it is (port 0 resolved).
    pub bound: Arc<OnceLock<SocketAddr>>,
}

/// The webhook path of a Receiver, as Flux computes it: `/hook/` followed by the hex SHA-256
/// of the token, the name and the namespace, concatenated.
pub fn webhook_path(token: &str, name: &str, namespace: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(token.as_bytes());
    hash.update(name.as_bytes());
    hash.update(namespace.as_bytes());
    format!("{WEBHOOK_PATH_PREFIX}{}", hex::encode(hash.finalize()))
}

/// Why a Receiver's token could not be read (the message names the Secret, never its data).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("unable to read token from secret '{namespace}/{name}': {source}")]
    Read {
        namespace: String,
        name: String,
        source: Box<kube::Error>,
    },
    #[error("secret '{namespace}/{name}' not found")]
    NotFound { namespace: String, name: String },
    #[error("invalid '{namespace}/{name}' secret data: required field 'token'")]
    NoToken { namespace: String, name: String },
    #[error("receiver {namespace}/{receiver} has no secretRef")]
    NoSecretRef { namespace: String, receiver: String },
}

/// Reads the `token` key of the Receiver's Secret.
pub async fn read_token(client: &kube::Client, receiver: &Receiver) -> Result<String, TokenError> {
    let namespace = receiver.namespace().unwrap_or_default();
    let Some(secret_ref) = &receiver.spec.secret_ref else {
        return Err(TokenError::NoSecretRef {
            namespace,
            receiver: receiver.name_any(),
        });
    };
    let name = secret_ref.name.clone();
    let api: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let secret = match api.get_opt(&name).await {
        Ok(Some(secret)) => secret,
        Ok(None) => return Err(TokenError::NotFound { namespace, name }),
        Err(source) => {
            return Err(TokenError::Read {
                namespace,
                name,
                source: Box::new(source),
            });
        }
    };
    let from_data = secret
        .data
        .as_ref()
        .and_then(|d| d.get("token"))
        .map(|b| String::from_utf8_lossy(&b.0).into_owned());
    let from_string_data = secret
        .string_data
        .as_ref()
        .and_then(|d| d.get("token"))
        .cloned();
    from_data
        .or(from_string_data)
        .ok_or(TokenError::NoToken { namespace, name })
}

/// Errors the controller runtime retries: the status could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the status of Receiver {key}: {source}")]
    Status {
        key: String,
        source: Box<kube::Error>,
    },
}

/// State shared by the Receiver reconciles.
pub struct State {
    pub ctx: Arc<crate::Context>,
    recorder: Recorder,
    /// Consecutive token failures per object, for the retry backoff.
    failures: Mutex<HashMap<(String, String), u32>>,
}

const BASE_BACKOFF: Duration = Duration::from_secs(2);

fn backoff_delay(failures: u32, interval: Duration) -> Duration {
    let delay = BASE_BACKOFF.saturating_mul(1u32 << failures.min(10).saturating_sub(1));
    delay.min(interval.max(BASE_BACKOFF))
}

/// The filters of a Receiver that do not parse, as one message; `None` when all parse.
fn invalid_filters(receiver: &Receiver) -> Option<String> {
    let mut problems = Vec::new();
    if let Some(source) = receiver.spec.resource_filter.as_deref()
        && let Err(e) = filter::Filter::parse(source)
    {
        problems.push(format!("spec.resourceFilter {source:?}: {e}"));
    }
    for (i, resource) in receiver.spec.resources.iter().enumerate() {
        if let Some(source) = resource.filter.as_deref()
            && let Err(e) = filter::Filter::parse(source)
        {
            problems.push(format!("spec.resources[{i}].filter {source:?}: {e}"));
        }
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// One reconcile of a Receiver: the webhook path and the Ready condition.
pub async fn reconcile(receiver: Arc<Receiver>, state: Arc<State>) -> Result<Action, Error> {
    let namespace = receiver.namespace().unwrap_or_default();
    let name = receiver.name_any();
    let api: Api<Receiver> = Api::namespaced(state.ctx.client.clone(), &namespace);
    if receiver.spec.suspended() {
        tracing::debug!(receiver = %format!("{namespace}/{name}"), "suspended");
        return Ok(Action::await_change());
    }
    let interval =
        ferry_api::duration::parse_or(receiver.spec.interval.as_deref(), Duration::from_secs(600))
            .unwrap_or(Duration::from_secs(600));
    let generation = receiver.metadata.generation;
    let old = receiver.status.clone().unwrap_or_default();
    let mut status = old.clone();
    if let Some(requested) = receiver.annotations().get(keys::REQUESTED_AT_ANNOTATION) {
        status.last_handled_reconcile_at = Some(requested.clone());
    }
    let now = clock::now_rfc3339();
    let key = (namespace.clone(), name.clone());

    // Terminal problems: only a spec change helps.
    let stalled = if receiver.spec.type_ == kind::GENERIC_OIDC {
        Some((
            condition::reason::INVALID_SPEC,
            "ferry does not implement generic-oidc receivers; use another type".to_owned(),
        ))
    } else {
        invalid_filters(&receiver).map(|m| {
            (
                condition::reason::INVALID_CEL_EXPRESSION,
                format!("invalid CEL expression: {m}"),
            )
        })
    };
    let action = if let Some((why, message)) = stalled {
        condition::set(
            &mut status.conditions,
            condition::STALLED,
            ConditionStatus::True,
            why,
            &message,
            generation,
            &now,
        );
        let ready = (ConditionStatus::False, why, message.as_str());
        settle(&state, &receiver, &old, &mut status, ready, None, &now).await;
        Action::await_change()
    } else {
        condition::remove(&mut status.conditions, condition::STALLED);
        match read_token(&state.ctx.client, &receiver).await {
            Ok(token) => {
                state.forget_failures(&key);
                let path = webhook_path(&token, &name, &namespace);
                let message = format!("Receiver initialized for path: {path}");
                let ready = (
                    ConditionStatus::True,
                    condition::reason::SUCCEEDED,
                    message.as_str(),
                );
                settle(
                    &state,
                    &receiver,
                    &old,
                    &mut status,
                    ready,
                    Some(path),
                    &now,
                )
                .await;
                Action::requeue(interval)
            }
            Err(err) => {
                let message = err.to_string();
                let ready = (
                    ConditionStatus::False,
                    reason::TOKEN_NOT_FOUND,
                    message.as_str(),
                );
                // Requests must not be served with a token that is gone.
                settle(&state, &receiver, &old, &mut status, ready, None, &now).await;
                Action::requeue(state.backoff(&key, interval))
            }
        }
    };
    patch_status(&api, &name, &old, &status)
        .await
        .map_err(|source| Error::Status {
            key: format!("{namespace}/{name}"),
            source: Box::new(source),
        })?;
    Ok(action)
}

/// Sets Ready (status, reason, message), the webhook path and the observed generation, and
/// records an event when Ready changed.
async fn settle(
    state: &State,
    receiver: &Receiver,
    old: &ReceiverStatus,
    status: &mut ReceiverStatus,
    (value, why, message): (ConditionStatus, &str, &str),
    path: Option<String>,
    now: &str,
) {
    let generation = receiver.metadata.generation;
    let event_type = if value == ConditionStatus::True {
        crate::events::EventType::Normal
    } else {
        crate::events::EventType::Warning
    };
    condition::set(
        &mut status.conditions,
        condition::READY,
        value,
        why,
        message,
        generation,
        now,
    );
    status.webhook_path = path;
    status.observed_generation = generation;
    if old_ready_differs(old, status) {
        state
            .recorder
            .publish(receiver, event_type, why, message, Default::default());
    }
}

fn old_ready_differs(old: &ReceiverStatus, new: &ReceiverStatus) -> bool {
    let ready = |s: &ReceiverStatus| {
        condition::find(&s.conditions, condition::READY)
            .map(|c| (c.status, c.reason.clone(), c.message.clone()))
    };
    ready(old) != ready(new)
}

impl State {
    fn backoff(&self, key: &(String, String), interval: Duration) -> Duration {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = failures.entry(key.clone()).or_insert(0);
        *count = count.saturating_add(1);
        backoff_delay(*count, interval)
    }

    fn forget_failures(&self, key: &(String, String)) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}

/// What makes a Receiver worth reconciling again: its spec, a reconcile request, deletion.
fn reconcile_relevant(receiver: &Receiver) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    receiver.metadata.generation.hash(&mut hasher);
    receiver
        .annotations()
        .get(keys::REQUESTED_AT_ANNOTATION)
        .hash(&mut hasher);
    receiver
        .metadata
        .deletion_timestamp
        .is_some()
        .hash(&mut hasher);
    Some(hasher.finish())
}

/// Retries a failed status write after a short delay.
pub fn error_policy(receiver: Arc<Receiver>, error: &Error, _state: Arc<State>) -> Action {
    tracing::warn!(receiver = %receiver.name_any(), %error, "receiver reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

/// Runs the Receiver controller and, when `config.bind` is set, the webhook server, until
/// `shutdown` resolves.
pub async fn run(
    ctx: Arc<crate::Context>,
    config: ReceiverConfig,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> std::io::Result<()> {
    let client = ctx.client.clone();
    // The server reads the Receivers (with their status) from the reflector's store; reconciles
    // run on spec changes, reconcile requests and deletion only, not on the status they write.
    let (store, writer) = reflector::store();
    let receivers = reflector::reflector(
        writer,
        crate::watch::without_managed_fields(Api::<Receiver>::all(client.clone())),
    )
    .default_backoff()
    .touched_objects()
    .predicate_filter(reconcile_relevant, PredicateConfig::default());
    let shutdown = futures::FutureExt::shared(shutdown);
    let listener = match config.bind {
        Some(bind) => match tokio::net::TcpListener::bind(bind).await {
            Ok(listener) => Some(listener),
            Err(err) => {
                // Receivers still get their status; only the webhooks are not served.
                tracing::error!(address = %bind, error = %err, "the webhook receiver cannot listen");
                None
            }
        },
        None => None,
    };
    let server = match listener {
        Some(listener) => {
            let addr = listener.local_addr()?;
            let _ = config.bound.set(addr);
            tracing::info!(address = %addr, "webhook receiver listening");
            let app = server::router(server::ServerState {
                ctx: ctx.clone(),
                store: store.clone(),
                recorder: ctx.recorder.for_component("notification-controller"),
            });
            let stop = shutdown.clone();
            Some(tokio::spawn(async move {
                if let Err(err) = axum::serve(listener, app)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    tracing::error!(error = %err, "webhook receiver stopped");
                }
            }))
        }
        None => None,
    };
    let concurrency = u16::try_from(ctx.config.concurrency).unwrap_or(u16::MAX);
    let state = Arc::new(State {
        recorder: ctx.recorder.for_component("notification-controller"),
        ctx,
        failures: Mutex::default(),
    });
    Controller::for_stream(receivers, store)
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, state)
        .for_each(|result| async move {
            if let Err(err) = result {
                tracing::debug!(error = %err, "receiver controller");
            }
        })
        .await;
    if let Some(server) = server {
        server.abort();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_path_is_the_sha256_of_token_name_and_namespace() {
        // `printf s3cretgithub-receiverflux-system | sha256sum`
        assert_eq!(
            webhook_path("s3cret", "github-receiver", "flux-system"),
            "/hook/2dad4f6926b39968e4364e30dabbffc4e42333291f9d23341b90a18101145360"
        );
    }

    #[test]
    fn token_failures_back_off_up_to_the_interval() {
        let interval = Duration::from_secs(600);
        assert_eq!(backoff_delay(1, interval), Duration::from_secs(2));
        assert_eq!(backoff_delay(2, interval), Duration::from_secs(4));
        assert_eq!(backoff_delay(30, interval), interval);
        assert_eq!(
            backoff_delay(5, Duration::from_secs(1)),
            Duration::from_secs(2)
        );
    }
}
