//! The server-side-apply engine: staged apply in Flux's order with a dry-run diff first,
//! change sets, field ownership taken back from kubectl, recreate on immutable changes,
//! prune by inventory guarded by owner labels, and waiting for readiness. Health assessment
//! of applied objects lives in `ferry-health`, re-exported here as [`health`].

pub mod changeset;
mod cleanup;
pub mod diff;
pub mod drift;
pub mod error;
pub mod live;
pub mod manager;
pub mod object;
pub mod order;
mod policy;
pub mod resources;
pub mod wait;

pub use changeset::{Action, ChangeSet, ChangeSetEntry};
pub use error::ApplyError;
pub use ferry_health as health;
pub use live::{LiveCache, Settled, Watched};
pub use manager::{ApplyOptions, ResourceManager};
pub use resources::Resources;
pub use wait::{Readiness, WaitError, WaitOptions};
