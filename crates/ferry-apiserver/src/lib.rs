//! The embedded Kubernetes-compatible control plane: the Kubernetes API served from SQLite.
