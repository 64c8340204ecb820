//! A progress report that is written only if the work it announces outlasts a delay.
//!
//! Flux writes `Reconciling=True` before every apply of a new revision. For the many reconciles
//! that end in a few milliseconds that write is pure cost: a PATCH, a watch event to every
//! watcher of the kind, a decode in the controller's own watch, and nobody sees it before the
//! final status replaces it. Deferring it keeps it visible for the reconciles people can watch
//! (health waits, slow applies) and drops it for the others.

use std::time::Duration;

use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::{sync::oneshot, task::JoinHandle};

use super::{StatusFields, send_status_patch, status_patch};

/// Whether a deferred status reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// It was never sent: the work ended first.
    No,
    Yes,
    /// It was sent and failed; the server may or may not hold it.
    Unknown,
}

/// A status write scheduled after a delay; [`DeferredStatus::settle`] cancels it if it has not
/// started and waits for it otherwise, so a later write can never be overtaken by it.
pub struct DeferredStatus<S> {
    reported: S,
    cancel: oneshot::Sender<()>,
    task: AbortOnDrop,
}

impl<S> DeferredStatus<S>
where
    S: StatusFields + Send + Sync + 'static,
{
    /// Writes `reported` over `saved` (the status the server holds) on `name` once `delay` has
    /// passed, unless settled before. The patch is made now, so that the write holds neither
    /// status: most reports are settled unsent, and copying both for them cost more than this.
    pub fn schedule<K>(api: Api<K>, name: String, saved: &S, reported: S, delay: Duration) -> Self
    where
        K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    {
        let (cancel, cancelled) = oneshot::channel::<()>();
        let patch = status_patch(&[saved], &reported);
        let task = tokio::spawn(async move {
            tokio::select! {
                biased;
                _ = cancelled => return Written::No,
                () = tokio::time::sleep(delay) => {}
            }
            let sent = match patch {
                Ok(Some(patch)) => send_status_patch(&api, &name, patch).await,
                Ok(None) => return Written::Yes,
                Err(error) => Err(error),
            };
            match sent {
                Ok(()) => Written::Yes,
                Err(error) => {
                    tracing::debug!(%name, %error, "progress not reported");
                    Written::Unknown
                }
            }
        });
        Self {
            reported,
            cancel,
            task: AbortOnDrop(Some(task)),
        }
    }

    /// Cancels the write if it has not started, or waits for it to end. Returns the status it
    /// reports and whether the server got it.
    pub async fn settle(self) -> (S, Written) {
        // The task may have ended already (the write done); then nobody listens.
        let _ = self.cancel.send(());
        let written = self.task.join().await;
        (self.reported, written)
    }
}

/// The write's task, stopped when a reconcile is dropped midway (shutdown, lost leadership) so
/// that nothing is written after it.
struct AbortOnDrop(Option<JoinHandle<Written>>);

impl AbortOnDrop {
    async fn join(mut self) -> Written {
        match self.0.take() {
            Some(task) => task.await.unwrap_or(Written::Unknown),
            None => Written::Unknown,
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::server_with_repository;
    use ferry_api::source::GitRepositoryStatus;

    #[tokio::test]
    async fn the_status_is_written_only_when_the_work_outlasts_the_delay() {
        let (_server, _client, api) = server_with_repository().await;
        let saved = GitRepositoryStatus::default();
        let reported = GitRepositoryStatus {
            last_handled_reconcile_at: Some("in progress".to_owned()),
            ..GitRepositoryStatus::default()
        };
        let held = || async {
            let repo = api.get_status("repo").await.unwrap();
            repo.status.unwrap_or_default().last_handled_reconcile_at
        };
        let schedule = |delay: Duration| {
            DeferredStatus::schedule(
                api.clone(),
                "repo".to_owned(),
                &saved,
                reported.clone(),
                delay,
            )
        };

        // Settled before the delay: never sent.
        let (status, written) = schedule(Duration::from_secs(60)).settle().await;
        assert_eq!((status, written), (reported.clone(), Written::No));
        // Dropped (a reconcile abandoned midway): never sent either.
        drop(schedule(Duration::from_millis(50)));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(held().await, None);

        // Outlasted: written, and settling reports it.
        let report = schedule(Duration::from_millis(10));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(report.settle().await.1, Written::Yes);
        assert_eq!(held().await.as_deref(), Some("in progress"));
    }
}
