//! Gatekeeper ConstraintTemplates and Constraints evaluated on rendered manifests.
