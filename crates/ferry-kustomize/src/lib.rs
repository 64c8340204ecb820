//! Kustomize build, byte-identical to kustomize v5.
