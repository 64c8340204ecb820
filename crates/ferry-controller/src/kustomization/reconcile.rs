//! One reconcile of a Kustomization, in kustomize-controller's order: deletion, finalizer,
//! suspend, source, dependencies, build, apply (staged), inventory, prune, health checks,
//! status. Failures are written to the status with Flux's reasons and requeued after
//! `retryInterval`; errors reaching the controller runtime are only those of status writes.

use std::{
    borrow::Cow,
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};

use ferry_api::{
    GoDuration, Kustomization, KustomizationStatus, ObjMetadata, ResourceInventory,
    condition::{self, ConditionStatus, reason},
    keys,
    kustomize::{MAX_HISTORY, Snapshot},
};
use ferry_apply::{
    ApplyOptions, ChangeSet, ChangeSetEntry, LiveCache, ResourceManager, WaitOptions, health,
    object, wait::Readiness,
};
use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
    runtime::{controller::Action, reflector::ObjectRef},
};
use serde_json::{Value, json};

use super::{build, decryption, deps, policy, source};
use crate::{
    clients::Target,
    clock,
    context::Context,
    drift::CleanKey,
    events::EventType,
    status::{DeferredStatus, Written, patch_status, patch_status_from},
};

/// Errors the controller runtime retries with backoff: the status could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to update Kustomization '{namespace}/{name}': {source}")]
    Write {
        namespace: String,
        name: String,
        source: Box<kube::Error>,
    },
}

/// The outcome of a failed step: Flux's reason, the message, and whether only a spec change
/// can fix it.
struct Failure {
    reason: &'static str,
    message: String,
    terminal: bool,
    requeue: Option<Duration>,
}

impl Failure {
    fn new(reason: &'static str, message: impl ToString) -> Self {
        Self {
            reason,
            message: message.to_string(),
            terminal: false,
            requeue: None,
        }
    }

    fn terminal(mut self) -> Self {
        self.terminal = true;
        self
    }

    fn requeue_after(mut self, after: Duration) -> Self {
        self.requeue = Some(after);
        self
    }
}

pub async fn reconcile(ks: Arc<Kustomization>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let name = ks.name_any();
    let namespace = ks.namespace().unwrap_or_default();
    let mut run = Run::new(&ks, &ctx);
    let result = run.reconcile().await;
    let outcome = match &result {
        Ok(_) if run.failed => "failure",
        Ok(_) => "success",
        Err(_) => "error",
    };
    ctx.metrics.observe(
        "Kustomization",
        &namespace,
        &name,
        started.elapsed().as_secs_f64(),
        outcome,
    );
    result
}

pub fn error_policy(ks: Arc<Kustomization>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(kustomization = %ks.name_any(), error = %err, "reconcile error");
    Action::requeue(Duration::from_secs(5))
}

struct Run<'a> {
    ks: &'a Kustomization,
    ctx: &'a Context,
    api: Api<Kustomization>,
    name: String,
    namespace: String,
    /// The status the server holds, as far as this run knows: the watched object's until
    /// this run writes.
    saved: Cow<'a, KustomizationStatus>,
    status: KustomizationStatus,
    /// The `Reconciling` status, written if this reconcile takes long enough to show it.
    progress: Option<DeferredStatus<KustomizationStatus>>,
    failed: bool,
}

impl<'a> Run<'a> {
    fn new(ks: &'a Kustomization, ctx: &'a Context) -> Self {
        let namespace = ks.namespace().unwrap_or_default();
        let saved = ks
            .status
            .as_ref()
            .map_or_else(|| Cow::Owned(KustomizationStatus::default()), Cow::Borrowed);
        Self {
            ks,
            ctx,
            api: Api::namespaced(ctx.client.clone(), &namespace),
            name: ks.name_any(),
            namespace,
            status: saved.clone().into_owned(),
            saved,
            progress: None,
            failed: false,
        }
    }

    fn object_ref(&self) -> ObjectRef<Kustomization> {
        ObjectRef::new(&self.name).within(&self.namespace)
    }

    /// Writes the status, and remembers it as what the server holds.
    async fn save(&mut self) -> Result<(), Error> {
        self.save_last().await?;
        self.saved = Cow::Owned(self.status.clone());
        Ok(())
    }

    /// Writes the status as the last write of this run, which need not remember it.
    async fn save_last(&mut self) -> Result<(), Error> {
        // A progress report still pending is settled first: it must never land after this.
        let settled = match self.progress.take() {
            Some(progress) => Some(progress.settle().await),
            None => None,
        };
        let result = match settled {
            None | Some((_, Written::No)) => {
                patch_status(&self.api, &self.name, &*self.saved, &self.status).await
            }
            Some((reported, Written::Yes)) => {
                self.saved = Cow::Owned(reported);
                patch_status(&self.api, &self.name, &*self.saved, &self.status).await
            }
            Some((reported, Written::Unknown)) => {
                let olds = [&*self.saved, &reported];
                patch_status_from(&self.api, &self.name, &olds, &self.status).await
            }
        };
        result.map_err(|source| Error::Write {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            source: Box::new(source),
        })
    }

    fn set(&mut self, type_: &str, status: ConditionStatus, reason: &str, message: &str) {
        let now = clock::now_rfc3339();
        condition::set(
            &mut self.status.conditions,
            type_,
            status,
            reason,
            message,
            self.ks.metadata.generation,
            &now,
        );
    }

    fn event(&self, event_type: EventType, reason: &str, message: &str, revision: Option<&str>) {
        let annotations = revision
            .map(|r| {
                BTreeMap::from([(format!("{}/revision", keys::KUSTOMIZE_GROUP), r.to_owned())])
            })
            .unwrap_or_default();
        self.ctx
            .recorder
            .publish(self.ks, event_type, reason, message, annotations);
    }

    async fn reconcile(&mut self) -> Result<Action, Error> {
        if self.ks.metadata.deletion_timestamp.is_some() {
            return self.finalize().await;
        }
        if !self.ks.finalizers().iter().any(|f| f == keys::FINALIZER) {
            self.add_finalizer().await?;
        }
        if self.ks.spec.suspended() {
            self.ctx.drift.untrack(&self.object_ref());
            tracing::info!(kustomization = %self.object_ref(), "reconciliation is suspended");
            return Ok(Action::await_change());
        }
        let (interval, retry_interval, timeout) = match (
            self.ks.spec.interval(),
            self.ks.spec.retry_interval(),
            self.ks.spec.timeout(),
        ) {
            (Ok(i), Ok(r), Ok(t)) => (i, r, t),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                let failure = Failure::new(reason::INVALID_SPEC, e).terminal();
                return self.fail(failure, None, Duration::ZERO).await;
            }
        };
        // Fields ferry cannot honour yet stall the object rather than being silently ignored.
        let unsupported = build::unsupported_fields(&self.ks.spec);
        if !unsupported.is_empty() {
            let message = format!("not supported by ferry yet: {}", unsupported.join(", "));
            let failure = Failure::new(reason::INVALID_SPEC, message).terminal();
            return self.fail(failure, None, Duration::ZERO).await;
        }
        let outcome = self.apply_revision(interval, timeout).await;
        self.status.last_handled_reconcile_at = self
            .ks
            .annotations()
            .get(keys::REQUESTED_AT_ANNOTATION)
            .cloned();
        match outcome {
            Ok(revision) => {
                self.save_last().await?;
                tracing::debug!(kustomization = %self.object_ref(), %revision, "reconciled");
                Ok(Action::requeue(self.jitter(interval)))
            }
            Err((failure, revision)) => self.fail(failure, revision, retry_interval).await,
        }
    }

    /// Interval with Flux's ± jitter, so that many objects created at once spread out.
    fn jitter(&self, interval: Duration) -> Duration {
        let fraction = self.ctx.config.interval_jitter;
        if fraction <= 0.0 {
            return interval;
        }
        let spread = (rand::random::<f64>() * 2.0 - 1.0) * fraction;
        interval.mul_f64(1.0 + spread)
    }

    async fn fail(
        &mut self,
        failure: Failure,
        revision: Option<String>,
        retry_interval: Duration,
    ) -> Result<Action, Error> {
        self.failed = true;
        self.ctx.drift.forget_clean(&self.object_ref());
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
            self.status.observed_generation = self.ks.metadata.generation;
        } else {
            condition::remove(&mut self.status.conditions, condition::STALLED);
            self.set(
                condition::RECONCILING,
                ConditionStatus::True,
                reason::PROGRESSING_WITH_RETRY,
                &failure.message,
            );
        }
        self.save_last().await?;
        self.event(
            EventType::Warning,
            failure.reason,
            &failure.message,
            revision.as_deref(),
        );
        Ok(if failure.terminal {
            Action::await_change()
        } else {
            Action::requeue(failure.requeue.unwrap_or(retry_interval))
        })
    }

    /// Everything from the source to the health checks; returns the applied revision.
    async fn apply_revision(
        &mut self,
        interval: Duration,
        timeout: Duration,
    ) -> Result<String, (Failure, Option<String>)> {
        let sources = self
            .ctx
            .sources
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let artifact = source::resolve(
            &self.ctx.client,
            sources.as_ref(),
            self.ks,
            self.ctx.config.no_cross_namespace_refs,
        )
        .await
        .map_err(|e| {
            let terminal = e.is_terminal();
            let failure = Failure::new(
                if terminal {
                    reason::ACCESS_DENIED
                } else {
                    reason::ARTIFACT_FAILED
                },
                e,
            );
            (
                if terminal {
                    failure.terminal()
                } else {
                    failure
                },
                None,
            )
        })?;
        let revision = artifact.revision.clone();
        let with_rev = |f: Failure| (f, Some(revision.clone()));

        if let Err(err) = deps::check(
            &self.ctx.client,
            self.ks,
            &revision,
            self.ctx.config.no_cross_namespace_refs,
        )
        .await
        {
            let terminal = matches!(
                err,
                deps::DependencyError::CrossNamespace { .. }
                    | deps::DependencyError::ReadyExprUnsupported { .. }
            );
            let failure = Failure::new(reason::DEPENDENCY_NOT_READY, err)
                .requeue_after(self.ctx.config.requeue_dependency);
            return Err(with_rev(if terminal {
                failure.terminal()
            } else {
                failure
            }));
        }

        self.status.last_attempted_revision = Some(revision.clone());
        let dir = self
            .ctx
            .artifacts
            .fetch(&artifact.url, &artifact.digest)
            .await
            .map_err(|e| with_rev(Failure::new(reason::ARTIFACT_FAILED, e)))?;
        let started = Instant::now();
        let dir_cache = self.ctx.artifacts.dir_cache(&artifact.digest, &dir);
        let objects = self
            .render(&dir, dir_cache)
            .await
            .map_err(|e| with_rev(Failure::new(reason::BUILD_FAILED, e)))?;
        let digest = build::digest(&objects);
        self.check_policies(&dir, &objects, &revision)
            .await
            .map_err(&with_rev)?;

        let target = self
            .target()
            .await
            .map_err(|e| with_rev(Failure::new(reason::RECONCILIATION_FAILED, e)))?;
        let drift_enabled = self.ctx.config.drift_watch
            && target.local
            && !keys::is_disabled(
                self.ks
                    .annotations()
                    .get(keys::DRIFT_WATCH_ANNOTATION)
                    .map(String::as_str),
            );
        let mut manager = ResourceManager::new(
            target.client.clone(),
            target.resources.clone(),
            keys::FIELD_MANAGER,
        )
        .with_concurrency(self.ctx.config.apply_concurrency);
        if drift_enabled {
            // The drift watcher sees this cluster's objects; dry-runs compare with its view.
            manager = manager.with_cache(Arc::new(self.ctx.drift.clone()));
        }
        let clean_key = CleanKey {
            digest: digest.clone(),
            generation: self.ks.metadata.generation,
            requested_at: self
                .ks
                .annotations()
                .get(keys::REQUESTED_AT_ANNOTATION)
                .cloned(),
        };
        if drift_enabled
            && let Some(all_current) = self.unchanged_since_last_apply(&clean_key, interval)
        {
            self.check_unchanged_health(&manager, all_current, timeout)
                .await
                .map_err(with_rev)?;
            self.succeed(&revision, &digest, started, &ChangeSet::default())
                .await;
            return Ok(revision);
        }

        self.mark_progressing(&revision, timeout);
        let mark = self.ctx.drift.mark(&self.object_ref());
        // Objects whose manifest is as last applied and which the watcher still sees as that
        // apply left them skip their dry-run, for at most one interval; a reconcile someone
        // asked for re-applies everything, as Flux's does.
        let trust_settled_for = if drift_enabled && !self.requested() {
            interval
        } else {
            Duration::ZERO
        };
        let changes = self
            .apply(&manager, objects, trust_settled_for)
            .await
            .map_err(|m| with_rev(Failure::new(reason::RECONCILIATION_FAILED, m)))?;
        let applied: Vec<(ObjMetadata, String)> = changes
            .entries
            .iter()
            .map(|e| (e.object.clone(), e.version.clone()))
            .collect();

        if drift_enabled {
            self.ctx.drift.track(self.object_ref(), &applied).await;
        } else {
            self.ctx.drift.untrack(&self.object_ref());
        }

        let prune_failure = self.prune(&manager, &applied).await;
        if let Some(message) = prune_failure {
            return Err(with_rev(Failure::new(reason::PRUNE_FAILED, message)));
        }

        self.check_health(&manager, &changes, timeout)
            .await
            .map_err(with_rev)?;
        if drift_enabled {
            self.ctx
                .drift
                .record_clean(&self.object_ref(), mark, clean_key);
        }
        self.succeed(&revision, &digest, started, &changes).await;
        Ok(revision)
    }

    /// Whether this reconcile can skip applying: the last one succeeded with the same build and
    /// spec, its objects are in the inventory as applied, and the drift watcher vouches that
    /// nobody changed or deleted them since (see [`crate::drift::DriftWatcher::is_clean`]). At
    /// least once per interval the objects are applied in full regardless, as Flux does.
    /// `Some(all_current)` if so, with whether the watcher saw every object Current.
    fn unchanged_since_last_apply(&self, key: &CleanKey, interval: Duration) -> Option<bool> {
        let ready = condition::is_true(&self.status.conditions, condition::READY)
            && self.status.observed_generation == self.ks.metadata.generation
            && self.status.last_applied_revision.is_some();
        if !ready {
            return None;
        }
        self.ctx.drift.is_clean(&self.object_ref(), key, interval)
    }

    /// Health of objects this reconcile did not need to apply: what the drift watcher saw when
    /// every object was Current and only kstatus decides (`spec.wait` without custom
    /// expressions); otherwise the checks read them as after an apply.
    async fn check_unchanged_health(
        &mut self,
        manager: &ResourceManager,
        all_current: bool,
        timeout: Duration,
    ) -> Result<(), Failure> {
        if self.ks.spec.waits() && self.kstatus_decides() && all_current {
            let message = "Health check passed in 0s (no object changed since the last check)";
            self.set(
                condition::HEALTHY,
                ConditionStatus::True,
                reason::SUCCEEDED,
                message,
            );
            return Ok(());
        }
        let unchanged = ChangeSet {
            entries: self
                .inventory_objects()
                .into_iter()
                .map(|(object, version)| ChangeSetEntry {
                    object,
                    version,
                    action: ferry_apply::Action::Unchanged,
                    resource_version: None,
                })
                .collect(),
        };
        self.check_health(manager, &unchanged, timeout).await
    }

    /// Records a successful reconcile of `revision` in the status (and an event for changes).
    async fn succeed(
        &mut self,
        revision: &str,
        digest: &str,
        started: Instant,
        changes: &ChangeSet,
    ) {
        let message = format!("Applied revision: {revision}");
        self.set(
            condition::READY,
            ConditionStatus::True,
            reason::RECONCILIATION_SUCCEEDED,
            &message,
        );
        condition::remove(&mut self.status.conditions, condition::RECONCILING);
        condition::remove(&mut self.status.conditions, condition::STALLED);
        self.status.last_applied_revision = Some(revision.to_owned());
        self.status.observed_generation = self.ks.metadata.generation;
        self.record_history(
            digest,
            reason::RECONCILIATION_SUCCEEDED,
            started.elapsed(),
            revision,
        );
        if changes.has_changes() {
            let lines = changes.changes().join("\n");
            self.event(
                EventType::Normal,
                reason::RECONCILIATION_SUCCEEDED,
                &lines,
                Some(revision),
            );
        }
    }

    /// Marks the reconcile of a new revision in progress; the mark is written once the
    /// reconcile has run for the configured delay, or with the next status write.
    fn mark_progressing(&mut self, revision: &str, timeout: Duration) {
        let up_to_date = condition::is_true(&self.status.conditions, condition::READY)
            && self.status.last_applied_revision.as_deref() == Some(revision)
            && self.status.observed_generation == self.ks.metadata.generation;
        self.status.last_attempted_revision = Some(revision.to_owned());
        if up_to_date {
            // A re-sync of what is already applied (interval, drift): no progress to report.
            return;
        }
        let message = format!(
            "Fetching manifests for revision {revision} with a timeout of {}",
            GoDuration(timeout)
        );
        self.set(
            condition::RECONCILING,
            ConditionStatus::True,
            reason::PROGRESSING,
            &message,
        );
        self.set(
            condition::READY,
            ConditionStatus::Unknown,
            reason::PROGRESSING,
            "Reconciliation in progress",
        );
        self.progress = Some(DeferredStatus::schedule(
            self.api.clone(),
            self.name.clone(),
            &self.saved,
            self.status.clone(),
            self.ctx.config.progress_report_delay,
        ));
    }

    async fn render(
        &self,
        artifact_dir: &std::path::Path,
        dir_cache: Option<Arc<ferry_kustomize::DirCache>>,
    ) -> Result<Vec<Value>, String> {
        let dir = build::build_dir(artifact_dir, self.ks.spec.path.as_deref())
            .map_err(|e| e.to_string())?;
        let overrides = build::overrides(&self.ks.spec).map_err(|e| e.to_string())?;
        let filter = match &self.ks.spec.decryption {
            Some(decryption) => Some(
                decryption::filter(&self.ctx.client, &self.namespace, decryption, artifact_dir)
                    .await?,
            ),
            None => None,
        };
        let substitution = build::resolve_substitution(
            Some(&self.ctx.client),
            &self.namespace,
            self.ks.spec.post_build.as_ref(),
            self.ctx.config.strict_substitution,
        )
        .await?;
        let mut objects = self
            .ctx
            .cpu
            .run(move || build::render(&dir, &overrides, filter, dir_cache, substitution.as_ref()))
            .await
            .map_err(|e| format!("build task failed: {e}"))?
            .map_err(|e| e.to_string())?;
        let encrypted = decryption::still_encrypted(&objects);
        if !encrypted.is_empty() {
            return Err(format!(
                "{} is SOPS encrypted, configuring decryption is required for this secret to be reconciled",
                encrypted.join(", ")
            ));
        }
        let owner = self.owner_labels();
        for obj in &mut objects {
            object::set_labels(obj, &owner);
        }
        Ok(objects)
    }

    /// The opt-in policy gate (see [`policy`]): denies stop the apply, warnings are reported.
    /// Policies and live objects are read from the cluster the Kustomization applies to.
    async fn check_policies(
        &self,
        artifact: &std::path::Path,
        objects: &[Value],
        revision: &str,
    ) -> Result<(), Failure> {
        let denied = |e: &dyn std::fmt::Display| {
            Failure::new(
                reason::POLICY_VIOLATION,
                format!("policies could not be evaluated: {e}"),
            )
        };
        let gate = match policy::Gate::from_annotations(self.ks.annotations()) {
            Ok(Some(gate)) => gate,
            Ok(None) => return Ok(()),
            Err(e) => return Err(denied(&e)),
        };
        let target = self.target().await.map_err(|e| denied(&e))?;
        // In the controller's own cluster, read as Gatekeeper's sync does: with the controller's
        // identity, not the (possibly narrow) impersonated one.
        let client = if target.local {
            self.ctx.client.clone()
        } else {
            target.client.clone()
        };
        let verdict = policy::check(
            &self.ctx.cpu,
            &gate,
            artifact,
            &client,
            &target.resources,
            objects,
        )
        .await
        .map_err(|e| denied(&e))?;
        match verdict {
            policy::Verdict::Deny(message) => Err(Failure::new(reason::POLICY_VIOLATION, message)),
            policy::Verdict::Pass(warnings) if !warnings.is_empty() => {
                self.event(
                    EventType::Warning,
                    reason::POLICY_VIOLATION,
                    &warnings.join("\n"),
                    Some(revision),
                );
                Ok(())
            }
            policy::Verdict::Pass(_) => Ok(()),
        }
    }

    fn owner_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (keys::OWNER_NAME_LABEL.to_owned(), self.name.clone()),
            (
                keys::OWNER_NAMESPACE_LABEL.to_owned(),
                self.namespace.clone(),
            ),
        ])
    }

    /// The cluster and identity to apply with.
    async fn target(&self) -> Result<Target, String> {
        if let Some(secret) = self
            .ks
            .spec
            .kube_config
            .as_ref()
            .and_then(|k| k.secret_ref.as_ref())
        {
            return self
                .ctx
                .clients
                .remote(&self.namespace, &secret.name, secret.key.as_deref())
                .await
                .map_err(|e| e.to_string());
        }
        let sa = self
            .ks
            .spec
            .service_account_name
            .clone()
            .or_else(|| self.ctx.config.default_service_account.clone());
        match sa {
            Some(sa) => self
                .ctx
                .clients
                .impersonating(&self.namespace, &sa)
                .await
                .map_err(|e| e.to_string()),
            None => Ok(self.ctx.clients.local()),
        }
    }

    /// Applies the objects after recording them in the inventory, so that an interrupted apply
    /// never leaves objects the inventory does not know (they could never be pruned).
    async fn apply(
        &mut self,
        manager: &ResourceManager,
        objects: Vec<Value>,
        trust_settled_for: Duration,
    ) -> Result<ChangeSet, String> {
        let mut pending: BTreeSet<(ObjMetadata, String)> =
            self.inventory_objects().into_iter().collect();
        let before = pending.len();
        for obj in &objects {
            if let (Ok(meta), Ok(gvk)) = (object::obj_metadata(obj), object::gvk(obj)) {
                pending.insert((meta, gvk.version));
            }
        }
        if pending.len() != before {
            self.status.inventory = Some(ResourceInventory::from_objects(
                pending.iter().map(|(m, v)| (m, v.as_str())),
            ));
            self.save().await.map_err(|e| e.to_string())?;
        }
        let opts = ApplyOptions {
            force: self.ks.spec.forces(),
            trust_settled_for,
            ..ApplyOptions::default()
        };
        manager
            .apply_all_staged(objects, &opts)
            .await
            .map_err(|e| e.to_string())
    }

    /// Whether `reconcile.fluxcd.io/requestedAt` asks for a reconcile not handled yet.
    fn requested(&self) -> bool {
        let asked = self.ks.annotations().get(keys::REQUESTED_AT_ANNOTATION);
        asked.is_some()
            && asked
                != self
                    .ks
                    .status
                    .as_ref()
                    .and_then(|s| s.last_handled_reconcile_at.as_ref())
    }

    fn inventory_objects(&self) -> Vec<(ObjMetadata, String)> {
        self.saved
            .inventory
            .as_ref()
            .and_then(|inv| inv.objects().ok())
            .unwrap_or_default()
    }

    /// Deletes what left Git (when `spec.prune`), then records the new inventory; objects whose
    /// delete failed stay in it. Returns the failure message, if any.
    async fn prune(
        &mut self,
        manager: &ResourceManager,
        applied: &[(ObjMetadata, String)],
    ) -> Option<String> {
        let current: BTreeSet<&ObjMetadata> = applied.iter().map(|(m, _)| m).collect();
        let previous = match self.ks.status.as_ref().and_then(|s| s.inventory.as_ref()) {
            Some(inv) => inv.objects().unwrap_or_default(),
            None => Vec::new(),
        };
        // Objects recorded by an earlier interrupted apply count as previous too.
        let mut stale: Vec<(ObjMetadata, String)> = previous
            .into_iter()
            .chain(self.inventory_objects())
            .filter(|(m, _)| !current.contains(m))
            .collect();
        stale.sort();
        stale.dedup();
        let mut keep: Vec<(ObjMetadata, String)> = applied.to_vec();
        let mut failure = None;
        if self.ks.spec.prune && !stale.is_empty() {
            let (deleted, failures) = manager.delete_all(&stale, &self.owner_labels()).await;
            if deleted.has_changes() {
                let lines = deleted.changes().join("\n");
                self.event(
                    EventType::Normal,
                    "Progressing",
                    &lines,
                    self.status.last_attempted_revision.as_deref(),
                );
            }
            if !failures.is_empty() {
                failure = Some(
                    failures
                        .iter()
                        .map(|(_, _, e)| e.to_string())
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                keep.extend(failures.into_iter().map(|(m, v, _)| (m, v)));
            }
        }
        self.status.inventory = Some(ResourceInventory::from_objects(
            keep.iter().map(|(m, v)| (m, v.as_str())),
        ));
        failure
    }

    /// `spec.wait` (every applied object) or `spec.healthChecks`, judged by kstatus.
    async fn check_health(
        &mut self,
        manager: &ResourceManager,
        changes: &ChangeSet,
        timeout: Duration,
    ) -> Result<(), Failure> {
        let targets: Vec<(ObjMetadata, String)> = if self.ks.spec.waits() {
            changes
                .entries
                .iter()
                .filter(|e| e.action != ferry_apply::Action::Skipped)
                .map(|e| (e.object.clone(), e.version.clone()))
                .collect()
        } else {
            self.ks
                .spec
                .health_checks
                .iter()
                .flatten()
                .map(|r| {
                    let api_version = r.api_version.clone().unwrap_or_else(|| "v1".to_owned());
                    let gvk = object::Gvk::from_api_version(&api_version, &r.kind);
                    let meta = ObjMetadata {
                        namespace: r
                            .namespace
                            .clone()
                            .unwrap_or_else(|| self.namespace.clone()),
                        name: r.name.clone(),
                        group: gvk.group,
                        kind: gvk.kind,
                    };
                    (meta, gvk.version)
                })
                .collect()
        };
        if targets.is_empty() {
            condition::remove(&mut self.status.conditions, condition::HEALTHY);
            return Ok(());
        }
        let checks = self.custom_checks()?;
        let started = Instant::now();
        let targets = self.not_vouched_current(manager, changes, targets);
        let opts = WaitOptions {
            timeout,
            interval: self.ctx.config.health_poll,
            ..WaitOptions::default()
        };
        let assess = |obj: &Value| kstatus_readiness(checks.assess(obj));
        let waited = if targets.is_empty() {
            Ok(())
        } else {
            manager.wait_for_set(&targets, &opts, &assess).await
        };
        match waited {
            Ok(()) => {
                let message = format!(
                    "Health check passed in {}",
                    GoDuration(round_ms(started.elapsed()))
                );
                self.set(
                    condition::HEALTHY,
                    ConditionStatus::True,
                    reason::SUCCEEDED,
                    &message,
                );
                Ok(())
            }
            Err(err) => {
                let message = format!(
                    "health check failed after {}: {err}",
                    GoDuration(round_ms(started.elapsed()))
                );
                self.set(
                    condition::HEALTHY,
                    ConditionStatus::False,
                    reason::HEALTH_CHECK_FAILED,
                    &message,
                );
                Err(Failure::new(reason::HEALTH_CHECK_FAILED, message))
            }
        }
    }

    /// The health targets left after dropping those the drift watcher saw Current at or after
    /// the version this reconcile's apply (or dry-run) left them at, and those the answer to
    /// that apply showed Current. Only when kstatus alone decides (no custom expressions) and
    /// the manager reads through the watcher's cache.
    fn not_vouched_current(
        &self,
        manager: &ResourceManager,
        changes: &ChangeSet,
        targets: Vec<(ObjMetadata, String)>,
    ) -> Vec<(ObjMetadata, String)> {
        if !self.kstatus_decides() || !manager.has_cache() {
            return targets;
        }
        let applied_at: HashMap<&ObjMetadata, &str> = changes
            .entries
            .iter()
            .filter_map(|e| Some((&e.object, e.resource_version.as_deref()?)))
            .collect();
        targets
            .into_iter()
            .filter(|(meta, _)| {
                let vouched = applied_at.get(meta).is_some_and(|version| {
                    // The watch saw it Current at that version or later, or the answer to the
                    // apply that made that version was Current (the watch may not have caught up).
                    let seen = self.ctx.drift.lookup(meta).is_some_and(|seen| {
                        seen.current && ferry_apply::live::at_least(&seen.resource_version, version)
                    });
                    seen || self.ctx.drift.settled(meta).is_some_and(|settled| {
                        settled.current && settled.resource_version == *version
                    })
                });
                !vouched
            })
            .collect()
    }

    /// Whether health is kstatus' verdict alone: no `spec.healthCheckExprs`.
    fn kstatus_decides(&self) -> bool {
        self.ks
            .spec
            .health_check_exprs
            .as_ref()
            .is_none_or(Vec::is_empty)
    }

    /// `spec.healthCheckExprs` compiled; an expression that does not compile needs a spec change.
    fn custom_checks(&self) -> Result<health::Checks, Failure> {
        let exprs: Vec<health::HealthCheckExprs> = self
            .ks
            .spec
            .health_check_exprs
            .iter()
            .flatten()
            .map(|e| health::HealthCheckExprs {
                api_version: e.api_version.clone(),
                kind: e.kind.clone().unwrap_or_default(),
                current: e.current.clone(),
                in_progress: e.in_progress.clone(),
                failed: e.failed.clone(),
            })
            .collect();
        health::Checks::new(&exprs, Vec::new())
            .map_err(|e| Failure::new(reason::INVALID_CEL_EXPRESSION, e).terminal())
    }

    fn record_history(&mut self, digest: &str, status: &str, duration: Duration, revision: &str) {
        let now = clock::now_rfc3339();
        let duration = GoDuration(round_ms(duration)).to_string();
        let metadata = Some(BTreeMap::from([(
            "revision".to_owned(),
            revision.to_owned(),
        )]));
        let history = &mut self.status.history;
        match history.first_mut() {
            Some(latest) if latest.digest == digest && latest.last_reconciled_status == status => {
                latest.last_reconciled = now;
                latest.last_reconciled_duration = duration;
                latest.total_reconciliations += 1;
                latest.metadata = metadata;
            }
            _ => {
                history.insert(
                    0,
                    Snapshot {
                        digest: digest.to_owned(),
                        first_reconciled: now.clone(),
                        last_reconciled: now,
                        last_reconciled_duration: duration,
                        last_reconciled_status: status.to_owned(),
                        total_reconciliations: 1,
                        metadata,
                    },
                );
                history.truncate(MAX_HISTORY);
            }
        }
    }

    async fn add_finalizer(&self) -> Result<(), Error> {
        let mut finalizers = self.ks.finalizers().to_vec();
        finalizers.push(keys::FINALIZER.to_owned());
        let patch = json!({"metadata": {"finalizers": finalizers, "resourceVersion": self.ks.resource_version()}});
        self.api
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map_err(|source| Error::Write {
                namespace: self.namespace.clone(),
                name: self.name.clone(),
                source: Box::new(source),
            })?;
        Ok(())
    }

    /// Deletion: prune what the inventory holds unless the policy or suspension says
    /// otherwise, then release the finalizer.
    async fn finalize(&mut self) -> Result<Action, Error> {
        if !self.ks.finalizers().iter().any(|f| f == keys::FINALIZER) {
            return Ok(Action::await_change());
        }
        self.ctx.drift.untrack(&self.object_ref());
        let policy = self
            .ks
            .spec
            .deletion_policy
            .as_deref()
            .unwrap_or("MirrorPrune");
        let prune = match policy {
            "Delete" | "WaitForTermination" => true,
            "Orphan" => false,
            _ => self.ks.spec.prune,
        };
        if prune && !self.ks.spec.suspended() {
            let objects = self.inventory_objects();
            if !objects.is_empty() {
                match self.target().await {
                    Ok(target) => {
                        let manager = ResourceManager::new(
                            target.client,
                            target.resources,
                            keys::FIELD_MANAGER,
                        )
                        .with_concurrency(self.ctx.config.apply_concurrency);
                        let (_, failures) =
                            manager.delete_all(&objects, &self.owner_labels()).await;
                        if !failures.is_empty() {
                            let message = failures
                                .iter()
                                .map(|(_, _, e)| e.to_string())
                                .collect::<Vec<_>>()
                                .join("\n");
                            self.set(
                                condition::READY,
                                ConditionStatus::False,
                                reason::PRUNE_FAILED,
                                &message,
                            );
                            self.save().await?;
                            return Ok(Action::requeue(Duration::from_secs(5)));
                        }
                        if policy == "WaitForTermination" {
                            let timeout =
                                self.ks.spec.timeout().unwrap_or(Duration::from_secs(300));
                            let opts = WaitOptions {
                                timeout,
                                ..WaitOptions::default()
                            };
                            let gone = |_: &Value| Readiness::InProgress("terminating".to_owned());
                            if let Err(err) = manager.wait_for_set(&objects, &opts, &gone).await {
                                tracing::warn!(kustomization = %self.object_ref(), error = %err, "objects not terminated before timeout");
                            }
                        }
                    }
                    Err(err) => {
                        tracing::warn!(kustomization = %self.object_ref(), error = %err, "cannot reach the target cluster to prune; releasing");
                    }
                }
            }
        }
        let finalizers: Vec<String> = self
            .ks
            .finalizers()
            .iter()
            .filter(|f| *f != keys::FINALIZER)
            .cloned()
            .collect();
        let patch = json!({"metadata": {"finalizers": finalizers, "resourceVersion": self.ks.resource_version()}});
        match self
            .api
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(patch))
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => {
                return Err(Error::Write {
                    namespace: self.namespace.clone(),
                    name: self.name.clone(),
                    source: Box::new(source),
                });
            }
        }
        Ok(Action::await_change())
    }
}

/// kstatus' view of an object, for waiting.
pub fn readiness(obj: &Value) -> Readiness {
    kstatus_readiness(health::assess(obj))
}

fn kstatus_readiness(health: health::Health) -> Readiness {
    match health.kstatus {
        health::KStatus::Current => Readiness::Current,
        health::KStatus::Failed => Readiness::Failed(health.kstatus_message),
        _ => Readiness::InProgress(health.kstatus_message),
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}
