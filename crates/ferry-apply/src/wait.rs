//! Waiting for applied objects to become ready, judged by a health function (kstatus' view:
//! Current, InProgress, Failed). Stops as soon as every object is either Current or Failed,
//! as Flux's fail-fast wait does, or at the timeout.

use std::{fmt, time::Duration};

use ferry_api::ObjMetadata;
use serde_json::Value;

use crate::{error::ApplyError, manager::ResourceManager};

/// kstatus' verdict on one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    Current,
    InProgress(String),
    Failed(String),
}

/// One object that was not ready, with its last status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotReady {
    pub object: ObjMetadata,
    pub status: &'static str,
    pub message: String,
}

impl fmt::Display for NotReady {
    /// `Deployment/apps/web status: 'Failed': <message>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} status: '{}'", self.object, self.status)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("timeout waiting for: [{}]", join(.0))]
    Timeout(Vec<NotReady>),
    #[error("{}", join(.0))]
    Failed(Vec<NotReady>),
    #[error(transparent)]
    Read(#[from] ApplyError),
}

fn join(items: &[NotReady]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl WaitError {
    /// The objects that were not ready.
    pub fn not_ready(&self) -> &[NotReady] {
        match self {
            Self::Timeout(items) | Self::Failed(items) => items,
            Self::Read(_) => &[],
        }
    }
}

/// How a wait polls.
#[derive(Clone, Debug)]
pub struct WaitOptions {
    pub timeout: Duration,
    /// First poll delay; it doubles up to `max_interval`.
    pub interval: Duration,
    pub max_interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(300),
            interval: Duration::from_millis(100),
            max_interval: Duration::from_secs(2),
        }
    }
}

impl ResourceManager {
    /// Polls the objects until all are Current (Ok), all are Current or Failed with at least one
    /// Failed (Err Failed), or the timeout passes (Err Timeout).
    pub async fn wait_for_set(
        &self,
        objects: &[(ObjMetadata, String)],
        opts: &WaitOptions,
        assess: &(dyn Fn(&Value) -> Readiness + Sync),
    ) -> Result<(), WaitError> {
        let deadline = tokio::time::Instant::now() + opts.timeout;
        let mut interval = opts.interval;
        let mut pending: Vec<(ObjMetadata, String)> = objects.to_vec();
        let mut failed: Vec<NotReady> = Vec::new();
        loop {
            let mut still = Vec::new();
            let mut in_progress = Vec::new();
            failed.clear();
            for (meta, version) in &pending {
                let verdict = match self.get(meta, version).await? {
                    Some(live) => assess(&live),
                    None => Readiness::InProgress("not found".to_owned()),
                };
                match verdict {
                    Readiness::Current => {}
                    Readiness::InProgress(message) => {
                        still.push((meta.clone(), version.clone()));
                        in_progress.push(NotReady {
                            object: meta.clone(),
                            status: "InProgress",
                            message,
                        });
                    }
                    Readiness::Failed(message) => {
                        // A failed object may still recover (a rollout retried); keep polling it
                        // while others are in progress.
                        still.push((meta.clone(), version.clone()));
                        failed.push(NotReady {
                            object: meta.clone(),
                            status: "Failed",
                            message,
                        });
                    }
                }
            }
            if still.is_empty() {
                return Ok(());
            }
            if in_progress.is_empty() {
                return Err(WaitError::Failed(failed));
            }
            if tokio::time::Instant::now() >= deadline {
                failed.extend(in_progress);
                return Err(WaitError::Timeout(failed));
            }
            pending = still;
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            tokio::time::sleep(interval.min(remaining)).await;
            interval = (interval * 2).min(opts.max_interval);
        }
    }
}
