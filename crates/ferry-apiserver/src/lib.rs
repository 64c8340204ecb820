//! The embedded Kubernetes-compatible control plane: the Kubernetes API served from SQLite (or
//! memory), for local use, PR validation and tests, judged by real clients (kubectl, Helm,
//! kube-rs).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ferry_apiserver::{ApiServer, SimulationConfig};
//! let server = ApiServer::builder()
//!     .data_dir("/var/lib/ferry/cluster") // or .ephemeral()
//!     .port(6443)
//!     .simulation(SimulationConfig { ready_delay: std::time::Duration::from_secs(1), ..Default::default() })
//!     .start()
//!     .await?;
//! server.write_kubeconfig("/tmp/kubeconfig")?;
//! println!("{} {}", server.url(), server.token());
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! What it implements: discovery (legacy and aggregated), OpenAPI v2/v3 (official documents plus
//! CRDs), the built-in kinds of Kubernetes 1.35 (GA versions), CRDs, get/list/watch with
//! selectors, paging, bookmarks and 410 Gone, create/update/patch/delete with the real server's
//! status codes and `Status` bodies, finalizers, garbage collection, namespace termination,
//! status/scale subresources, dry run, and kwok-like workload status (see
//! [`controllers::simulation`]).

pub mod auth;
pub mod body;
pub mod controllers;
pub mod core;
pub mod defaults;
mod http;
pub mod kubeconfig;
pub mod merge;
pub mod meta;
mod parts;
pub mod patch;
pub mod protobuf;
pub mod resources;
pub mod schema;
pub mod selector;
mod server;
pub mod status;
pub mod store;
pub mod strategy;
pub mod tls;

pub use controllers::simulation::{FAIL_ANNOTATION, SimulationConfig};
pub use server::{ApiServer, ApiServerBuilder, RunningApiServer, ShutdownTrigger, StartError};
