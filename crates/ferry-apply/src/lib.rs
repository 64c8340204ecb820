//! The server-side-apply engine: staged apply, change sets, inventory, prune, and health
//! assessment of applied objects.

pub use ferry_health as health;
