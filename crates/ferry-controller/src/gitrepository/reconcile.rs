//! One reconcile of a GitRepository, in source-controller's order: deletion (artifacts
//! garbage-collected), finalizer, suspend, Reconciling, credentials and verification keys from
//! Secrets, includes, then `ferry_source::reconcile_git`. Failures set Ready=False with the
//! reason `ferry_source` reports, keep the previous artifact, and retry with exponential
//! backoff (capped at the interval); a spec error sets Stalled and waits for a change.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use ferry_api::{
    GitRepository, GitRepositoryStatus,
    condition::{self, ConditionStatus, reason},
    duration::parse_or,
    keys,
    meta::Artifact,
};
use ferry_source::{
    Credentials, FailureCondition, GitReference, GitSpec, Include, ObjectKey, Outcome, SourceError,
    TrustedKeys, VerifyMode,
    git::{DEFAULT_TIMEOUT, Verification},
};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
    runtime::controller::Action,
};
use serde_json::json;

use super::Sources;
use crate::{clock, context::Context, events::EventType, status::patch_status};

/// What every reconcile of this controller shares.
pub struct State {
    pub ctx: Arc<Context>,
    pub sources: Arc<Sources>,
}

/// Errors the controller runtime retries: the status or finalizer could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to update GitRepository '{namespace}/{name}': {source}")]
    Write {
        namespace: String,
        name: String,
        source: Box<kube::Error>,
    },
}

const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";
/// First retry delay after a failure; doubles per consecutive failure up to the interval.
const BASE_BACKOFF: Duration = Duration::from_secs(5);

/// A failure before or during the fetch, with Flux's reason.
struct Failure {
    reason: &'static str,
    condition: Option<&'static str>,
    message: String,
    terminal: bool,
}

impl Failure {
    fn from_source(err: &SourceError) -> Self {
        let condition = match err.condition() {
            FailureCondition::FetchFailed => condition::FETCH_FAILED,
            FailureCondition::SourceVerified => condition::SOURCE_VERIFIED,
            FailureCondition::IncludeUnavailable => condition::INCLUDE_UNAVAILABLE,
            FailureCondition::StorageOperationFailed => condition::STORAGE_OPERATION_FAILED,
        };
        Self {
            reason: err.reason(),
            condition: Some(condition),
            message: err.to_string(),
            terminal: err.is_terminal(),
        }
    }
}

pub async fn reconcile(repo: Arc<GitRepository>, state: Arc<State>) -> Result<Action, Error> {
    let started = std::time::Instant::now();
    let mut run = Run::new(&repo, &state);
    let result = run.reconcile().await;
    let outcome = match &result {
        Ok(_) if run.failed => "failure",
        Ok(_) => "success",
        Err(_) => "error",
    };
    state.ctx.metrics.observe(
        "GitRepository",
        &run.namespace,
        &run.name,
        started.elapsed().as_secs_f64(),
        outcome,
    );
    result
}

pub fn error_policy(repo: Arc<GitRepository>, err: &Error, _state: Arc<State>) -> Action {
    tracing::warn!(gitrepository = %repo.name_any(), error = %err, "reconcile error");
    Action::requeue(Duration::from_secs(5))
}

struct Run<'a> {
    repo: &'a GitRepository,
    state: &'a State,
    api: Api<GitRepository>,
    name: String,
    namespace: String,
    saved: GitRepositoryStatus,
    status: GitRepositoryStatus,
    failed: bool,
}

impl<'a> Run<'a> {
    fn new(repo: &'a GitRepository, state: &'a State) -> Self {
        let namespace = repo.namespace().unwrap_or_default();
        let status = repo.status.clone().unwrap_or_default();
        Self {
            repo,
            state,
            api: Api::namespaced(state.ctx.client.clone(), &namespace),
            name: repo.name_any(),
            namespace,
            saved: status.clone(),
            status,
            failed: false,
        }
    }

    fn key(&self) -> ObjectKey {
        ObjectKey::git_repository(&self.namespace, &self.name)
    }

    fn write_err(&self, source: kube::Error) -> Error {
        Error::Write {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            source: Box::new(source),
        }
    }

    async fn save(&mut self) -> Result<(), Error> {
        patch_status(&self.api, &self.name, &self.saved, &self.status)
            .await
            .map_err(|e| self.write_err(e))?;
        self.saved = self.status.clone();
        Ok(())
    }

    fn set(&mut self, type_: &str, status: ConditionStatus, reason: &str, message: &str) {
        let now = clock::now_rfc3339();
        condition::set(
            &mut self.status.conditions,
            type_,
            status,
            reason,
            message,
            self.repo.metadata.generation,
            &now,
        );
    }

    fn event(&self, event_type: EventType, reason: &str, message: &str, revision: Option<&str>) {
        let annotations = revision
            .map(|r| BTreeMap::from([(format!("{SOURCE_GROUP}/revision"), r.to_owned())]))
            .unwrap_or_default();
        self.state
            .sources
            .recorder
            .publish(self.repo, event_type, reason, message, annotations);
    }

    async fn reconcile(&mut self) -> Result<Action, Error> {
        if self.repo.metadata.deletion_timestamp.is_some() {
            return self.finalize().await;
        }
        if !self.repo.finalizers().iter().any(|f| f == keys::FINALIZER) {
            self.set_finalizers(true).await?;
        }
        if self.repo.spec.suspend.unwrap_or(false) {
            tracing::info!(gitrepository = %format!("{}/{}", self.namespace, self.name), "reconciliation is suspended");
            return Ok(Action::await_change());
        }
        let (interval, timeout) = match (
            parse_or(Some(&self.repo.spec.interval), Duration::from_secs(60)),
            parse_or(self.repo.spec.timeout.as_deref(), DEFAULT_TIMEOUT),
        ) {
            (Ok(i), Ok(t)) => (i, t),
            (Err(e), _) | (_, Err(e)) => {
                let failure = Failure {
                    reason: reason::INVALID_SPEC,
                    condition: None,
                    message: e.to_string(),
                    terminal: true,
                };
                return self
                    .fail(failure, interval_or_default(&self.repo.spec.interval))
                    .await;
            }
        };
        let progressing = format!(
            "reconciliation in progress for '{}'",
            ferry_source::redact::redact_url(&self.repo.spec.url)
        );
        self.set(
            condition::RECONCILING,
            ConditionStatus::True,
            reason::PROGRESSING,
            &progressing,
        );
        self.set(
            condition::READY,
            ConditionStatus::Unknown,
            reason::PROGRESSING,
            &progressing,
        );
        self.save().await?;

        let result = match self.spec(timeout).await {
            Ok((spec, creds)) => ferry_source::reconcile_git(
                &spec,
                &creds,
                &self.state.sources.store,
                &self.state.sources.cache,
            )
            .await
            .map(|outcome| (spec, outcome))
            .map_err(|e| Failure::from_source(&e)),
            Err(failure) => Err(failure),
        };
        self.status.last_handled_reconcile_at = self
            .repo
            .annotations()
            .get(keys::REQUESTED_AT_ANNOTATION)
            .cloned();
        match result {
            Ok((spec, outcome)) => {
                self.succeed(&spec, outcome).await?;
                self.reset_backoff();
                Ok(Action::requeue(self.jitter(interval)))
            }
            Err(failure) => self.fail(failure, interval).await,
        }
    }

    /// The `ferry_source` inputs: credentials, verification keys and includes from the API.
    async fn spec(&self, timeout: Duration) -> Result<(GitSpec, Credentials), Failure> {
        let s = &self.repo.spec;
        // Fields ferry cannot honour yet stall the object rather than fetching something
        // other than what was asked.
        let unsupported = unsupported_fields(s);
        if !unsupported.is_empty() {
            return Err(Failure {
                reason: reason::INVALID_SPEC,
                condition: None,
                message: format!("not supported by ferry yet: {}", unsupported.join(", ")),
                terminal: true,
            });
        }
        let mut spec = GitSpec::new(self.key(), s.url.clone());
        spec.timeout = timeout;
        spec.limits = self.state.ctx.config.storage.limits;
        spec.ignore = s.ignore.clone();
        if let Some(r) = &s.reference {
            spec.reference = GitReference {
                branch: r.branch.clone(),
                tag: r.tag.clone(),
                semver: r.semver.clone(),
                name: r.name.clone(),
                commit: r.commit.clone(),
            };
        }
        let creds = match &s.secret_ref {
            Some(r) => {
                let data = self.secret(&r.name).await.map_err(|message| Failure {
                    reason: reason::AUTHENTICATION_FAILED,
                    condition: Some(condition::FETCH_FAILED),
                    message,
                    terminal: false,
                })?;
                if data.contains_key("tls.crt") || data.contains_key("tls.key") {
                    return Err(Failure {
                        reason: reason::INVALID_SPEC,
                        condition: None,
                        message: format!(
                            "secret '{}/{}': TLS client certificates (tls.crt/tls.key) are not supported by ferry yet",
                            self.namespace, r.name
                        ),
                        terminal: true,
                    });
                }
                Credentials::from_secret_data(&data).map_err(|e| Failure {
                    reason: reason::AUTHENTICATION_FAILED,
                    condition: Some(condition::FETCH_FAILED),
                    message: format!("secret '{}/{}': {e}", self.namespace, r.name),
                    terminal: false,
                })?
            }
            None => Credentials::none(),
        };
        if let Some(v) = &s.verify {
            let verification_error = |message: String| Failure {
                reason: reason::VERIFICATION_ERROR,
                condition: Some(condition::SOURCE_VERIFIED),
                message,
                terminal: false,
            };
            let mode = VerifyMode::parse(v.mode.as_deref()).map_err(|e| Failure {
                terminal: true,
                ..verification_error(e.to_string())
            })?;
            let data = self
                .secret(&v.secret_ref.name)
                .await
                .map_err(verification_error)?;
            let keys = TrustedKeys::from_secret_data(&data).map_err(|e| {
                verification_error(format!(
                    "secret '{}/{}': {e}",
                    self.namespace, v.secret_ref.name
                ))
            })?;
            spec.verify = Some(Verification { mode, keys });
        }
        for include in s.include.iter().flatten() {
            let name = include.repository.name.clone();
            let unavailable = |message: String| Failure {
                reason: ferry_source::error::reason::INCLUDE_UNAVAILABLE,
                condition: Some(condition::INCLUDE_UNAVAILABLE),
                message,
                terminal: false,
            };
            let included = self
                .api
                .get_opt(&name)
                .await
                .map_err(|e| {
                    unavailable(format!(
                        "failed to get GitRepository '{}/{name}': {e}",
                        self.namespace
                    ))
                })?
                .ok_or_else(|| {
                    unavailable(format!(
                        "GitRepository '{}/{name}' not found",
                        self.namespace
                    ))
                })?;
            let artifact = included.status.and_then(|st| st.artifact).ok_or_else(|| {
                unavailable(format!("no artifact available for include '{name}'"))
            })?;
            spec.include.push(Include {
                name,
                artifact: to_source_artifact(&artifact),
                from_path: include.from_path.clone(),
                to_path: include.to_path.clone(),
            });
        }
        Ok((spec, creds))
    }

    async fn secret(&self, name: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
        let api: Api<Secret> = Api::namespaced(self.state.ctx.client.clone(), &self.namespace);
        match api.get_opt(name).await {
            Ok(Some(secret)) => Ok(secret
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect()),
            Ok(None) => Err(format!("secret '{}/{name}' not found", self.namespace)),
            Err(e) => Err(format!(
                "failed to get secret '{}/{name}': {e}",
                self.namespace
            )),
        }
    }

    async fn succeed(&mut self, spec: &GitSpec, outcome: Outcome) -> Result<(), Error> {
        let revision = outcome.artifact.revision.clone();
        let message = format!("stored artifact for revision '{revision}'");
        let previous = self.status.artifact.as_ref().map(|a| a.revision.clone());
        self.status.artifact = Some(to_api_artifact(&outcome.artifact));
        self.status.included_artifacts = (!outcome.included.is_empty())
            .then(|| outcome.included.iter().map(to_api_artifact).collect());
        self.status.observed_ignore = spec.ignore.clone();
        self.status.observed_include = self.repo.spec.include.clone();
        self.status.observed_generation = self.repo.metadata.generation;
        for stale in [
            condition::FETCH_FAILED,
            condition::INCLUDE_UNAVAILABLE,
            condition::STORAGE_OPERATION_FAILED,
            condition::RECONCILING,
            condition::STALLED,
            "ArtifactOutdated",
        ] {
            condition::remove(&mut self.status.conditions, stale);
        }
        match &outcome.verified {
            Some(verified) => {
                let detail = format!(
                    "verified signature of\n\t- {}",
                    verified.details.join("\n\t- ")
                );
                self.set(
                    condition::SOURCE_VERIFIED,
                    ConditionStatus::True,
                    reason::SUCCEEDED,
                    &detail,
                );
                self.status.source_verification_mode = Some(verified.mode.as_str().to_owned());
            }
            None => {
                condition::remove(&mut self.status.conditions, condition::SOURCE_VERIFIED);
                self.status.source_verification_mode = None;
            }
        }
        self.set(
            condition::ARTIFACT_IN_STORAGE,
            ConditionStatus::True,
            reason::SUCCEEDED,
            &message,
        );
        self.set(
            condition::READY,
            ConditionStatus::True,
            reason::SUCCEEDED,
            &message,
        );
        self.save().await?;
        if previous.as_deref() != Some(revision.as_str()) {
            let event = format!("stored artifact for commit '{}'", outcome.commit.subject);
            self.event(EventType::Normal, "NewArtifact", &event, Some(&revision));
        }
        Ok(())
    }

    async fn fail(&mut self, failure: Failure, interval: Duration) -> Result<Action, Error> {
        self.failed = true;
        if let Some(type_) = failure.condition {
            let status = if type_ == condition::SOURCE_VERIFIED {
                ConditionStatus::False
            } else {
                ConditionStatus::True
            };
            self.set(type_, status, failure.reason, &failure.message);
        }
        self.set(
            condition::READY,
            ConditionStatus::False,
            failure.reason,
            &failure.message,
        );
        if failure.terminal {
            self.set(
                condition::STALLED,
                ConditionStatus::True,
                failure.reason,
                &failure.message,
            );
            condition::remove(&mut self.status.conditions, condition::RECONCILING);
            self.status.observed_generation = self.repo.metadata.generation;
        } else {
            condition::remove(&mut self.status.conditions, condition::STALLED);
            self.set(
                condition::RECONCILING,
                ConditionStatus::True,
                reason::PROGRESSING_WITH_RETRY,
                &failure.message,
            );
        }
        // The previous artifact stays in status and in storage: consumers keep using it.
        self.save().await?;
        let revision = self.status.artifact.as_ref().map(|a| a.revision.clone());
        self.event(
            EventType::Warning,
            failure.reason,
            &failure.message,
            revision.as_deref(),
        );
        Ok(if failure.terminal {
            Action::await_change()
        } else {
            Action::requeue(self.backoff(interval))
        })
    }

    /// 5s, 10s, 20s, ... per consecutive failure, never longer than the interval.
    fn backoff(&self, interval: Duration) -> Duration {
        let mut failures = self
            .state
            .sources
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let count = failures
            .entry((self.namespace.clone(), self.name.clone()))
            .or_insert(0);
        let delay = backoff_delay(*count, interval);
        *count = count.saturating_add(1);
        delay
    }

    fn reset_backoff(&self) {
        let mut failures = self
            .state
            .sources
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        failures.remove(&(self.namespace.clone(), self.name.clone()));
    }

    /// Interval with Flux's ± jitter, so that many objects created at once spread out.
    fn jitter(&self, interval: Duration) -> Duration {
        let fraction = self.state.ctx.config.interval_jitter;
        if fraction <= 0.0 {
            return interval;
        }
        jittered(interval, fraction, rand::random::<f64>())
    }

    async fn set_finalizers(&self, present: bool) -> Result<(), Error> {
        let mut finalizers: Vec<String> = self
            .repo
            .finalizers()
            .iter()
            .filter(|f| *f != keys::FINALIZER)
            .cloned()
            .collect();
        if present {
            finalizers.push(keys::FINALIZER.to_owned());
        }
        let patch = json!({"metadata": {"finalizers": finalizers}});
        self.api
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map_err(|e| self.write_err(e))?;
        Ok(())
    }

    /// Deleted: its artifacts go, then the finalizer.
    async fn finalize(&mut self) -> Result<Action, Error> {
        let dir = self
            .state
            .sources
            .store
            .root()
            .join("gitrepository")
            .join(&self.namespace)
            .join(&self.name);
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %dir.display(), error = %e, "failed to remove artifacts of a deleted GitRepository");
        }
        self.reset_backoff();
        if self.repo.finalizers().iter().any(|f| f == keys::FINALIZER) {
            self.set_finalizers(false).await?;
        }
        Ok(Action::await_change())
    }
}

fn interval_or_default(interval: &str) -> Duration {
    parse_or(Some(interval), Duration::from_secs(60)).unwrap_or(Duration::from_secs(60))
}

fn to_api_artifact(a: &ferry_source::Artifact) -> Artifact {
    Artifact {
        path: a.path.clone(),
        url: a.url.clone(),
        revision: a.revision.clone(),
        digest: a.digest.clone(),
        last_update_time: a.last_update_time.clone(),
        size: i64::try_from(a.size).ok(),
        metadata: (!a.metadata.is_empty()).then(|| a.metadata.clone()),
    }
}

fn to_source_artifact(a: &Artifact) -> ferry_source::Artifact {
    ferry_source::Artifact {
        path: a.path.clone(),
        url: a.url.clone(),
        revision: a.revision.clone(),
        digest: a.digest.clone(),
        last_update_time: a.last_update_time.clone(),
        size: a.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
        metadata: a.metadata.clone().unwrap_or_default(),
    }
}

/// The spec fields Flux honours that ferry does not implement yet, as they are set.
fn unsupported_fields(s: &ferry_api::GitRepositorySpec) -> Vec<&'static str> {
    let mut found = Vec::new();
    if s.provider.as_deref().is_some_and(|p| p != "generic") {
        found.push("spec.provider (only generic)");
    }
    if s.proxy_secret_ref.is_some() {
        found.push("spec.proxySecretRef");
    }
    if s.recurse_submodules == Some(true) {
        found.push("spec.recurseSubmodules");
    }
    if s.sparse_checkout.as_ref().is_some_and(|p| !p.is_empty()) {
        found.push("spec.sparseCheckout");
    }
    found
}

/// The retry delay after `failures` earlier failures in a row: 5 s doubling each time, never
/// more than the interval (nor less than 5 s), as source-controller backs off.
fn backoff_delay(failures: u32, interval: Duration) -> Duration {
    let delay = BASE_BACKOFF.saturating_mul(1u32 << failures.min(16));
    delay.min(interval.max(BASE_BACKOFF))
}

/// `interval` spread by up to ±`fraction` (`unit` is uniform in [0, 1)), so that many
/// GitRepositories created together do not fetch in lockstep.
fn jittered(interval: Duration, fraction: f64, unit: f64) -> Duration {
    if fraction <= 0.0 {
        return interval;
    }
    interval.mul_f64(1.0 + (unit * 2.0 - 1.0) * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_exponentially_up_to_the_interval() {
        let ten_minutes = Duration::from_secs(600);
        let delays: Vec<u64> = (0..9)
            .map(|n| backoff_delay(n, ten_minutes).as_secs())
            .collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 600, 600]);
        // A short interval caps the delay, but never below the base.
        assert_eq!(
            backoff_delay(3, Duration::from_secs(30)),
            Duration::from_secs(30)
        );
        assert_eq!(
            backoff_delay(0, Duration::from_secs(1)),
            Duration::from_secs(5)
        );
        // No overflow however long it has been failing.
        assert_eq!(backoff_delay(u32::MAX, ten_minutes), ten_minutes);
    }

    #[test]
    fn fields_ferry_cannot_honour_are_named() {
        let spec: ferry_api::GitRepositorySpec = serde_json::from_value(serde_json::json!({
            "url": "https://example.com/r", "interval": "1m", "provider": "generic",
            "recurseSubmodules": false, "sparseCheckout": []
        }))
        .unwrap();
        assert!(unsupported_fields(&spec).is_empty());
        let spec: ferry_api::GitRepositorySpec = serde_json::from_value(serde_json::json!({
            "url": "https://example.com/r", "interval": "1m", "provider": "github",
            "proxySecretRef": {"name": "proxy"}, "recurseSubmodules": true,
            "sparseCheckout": ["apps/"]
        }))
        .unwrap();
        assert_eq!(
            unsupported_fields(&spec),
            [
                "spec.provider (only generic)",
                "spec.proxySecretRef",
                "spec.recurseSubmodules",
                "spec.sparseCheckout"
            ]
        );
    }

    #[test]
    fn jitter_stays_within_the_fraction() {
        let minute = Duration::from_secs(60);
        assert_eq!(jittered(minute, 0.0, 0.9), minute);
        assert_eq!(jittered(minute, 0.05, 0.0), Duration::from_secs(57));
        assert_eq!(jittered(minute, 0.05, 0.5), minute);
        assert!(jittered(minute, 0.05, 0.999_999) <= Duration::from_secs(63));
        for i in 0..100 {
            let d = jittered(minute, 0.1, f64::from(i) / 100.0);
            assert!(
                d >= Duration::from_secs(54) && d < Duration::from_secs(66),
                "{d:?}"
            );
        }
    }
}
