//! In-process controllers, each reacting to the store's event feed: CRD registration, namespace
//! lifecycle, ownerReference garbage collection and workload status simulation. They write
//! through [`Core`] like any client, so their changes are ordinary watch events.

pub mod crd;
pub mod gc;
pub mod namespace;
pub mod simulation;

use std::sync::Arc;

use tokio::{sync::broadcast::error::RecvError, task::JoinSet};

use crate::core::Core;

pub use simulation::SimulationConfig;

/// Starts every controller; they stop when `shutdown` flips to true.
pub fn spawn_all(
    core: Arc<Core>,
    simulation: SimulationConfig,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    crd::register_existing(&core);
    namespace::ensure_defaults(&core);
    {
        let core = core.clone();
        let mut shutdown = shutdown.clone();
        let mut events = core.store.subscribe();
        let gc = Arc::new(gc::Collector::new(&core));
        let namespaces = Arc::new(namespace::Lifecycle::default());
        let sim = Arc::new(simulation::Simulator::new(simulation));
        sim.resume(&core);
        namespaces.resume(&core);
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
            loop {
                tokio::select! {
                    received = events.recv() => match received {
                        Ok(event) => {
                            crd::on_event(&core, &event);
                            gc.on_event(&core, &event);
                            namespaces.on_event(&core, &event);
                            sim.on_event(&core, &event);
                        }
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "controllers fell behind the event feed; rescanning");
                            gc.rebuild(&core);
                            namespaces.resume(&core);
                            sim.resume(&core);
                        }
                        Err(RecvError::Closed) => return,
                    },
                    _ = tick.tick() => {
                        namespaces.sweep(&core);
                        crd::sweep(&core);
                        gc.sweep(&core);
                    }
                    changed = shutdown.changed() => {
                        if changed.is_err() || *shutdown.borrow() {
                            return;
                        }
                    }
                }
            }
        });
    }
    tasks
}
