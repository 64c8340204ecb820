//! Test harness: starts the embedded API server and real git servers on loopback, and builds
//! fixtures. Dev-only.

pub mod apiserver;
pub mod cluster;
pub mod git;
pub mod repo;
