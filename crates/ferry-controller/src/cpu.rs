//! CPU-bound work (kustomize builds) off the async workers, one job per core at a time.
//!
//! tokio's blocking pool also carries work that waits (git fetches, file I/O), so it must have
//! more threads than cores. Builds let loose on it run as many at once as it has threads and
//! take turns on the cores; each of those threads also grows its own glibc malloc arena. A
//! permit per core keeps the builds to the cores there are.

use tokio::{sync::Semaphore, task::JoinError};

pub struct CpuBound {
    permits: Semaphore,
}

impl CpuBound {
    /// As many jobs at once as this process may use cores (cgroup quotas included).
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, usize::from))
    }

    pub fn new(jobs: usize) -> Self {
        Self {
            permits: Semaphore::new(jobs.max(1)),
        }
    }

    /// Runs `work` on the blocking pool once a core is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, JoinError> {
        // The semaphore is never closed; were it, the work would simply run unthrottled.
        let _permit = self.permits.acquire().await.ok();
        tokio::task::spawn_blocking(work).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        },
        time::Duration,
    };

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_jobs_run_at_once_than_permitted() {
        let cpu = Arc::new(CpuBound::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..6).map(|_| {
            let (cpu, running, most) = (cpu.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                cpu.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        });
        for job in futures::future::join_all(jobs).await {
            job.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
