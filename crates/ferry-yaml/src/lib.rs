//! Multi-document YAML read with Kubernetes' scalar rules (YAML 1.1 booleans and octals as
//! kustomize reads them) and written the way kustomize writes it.
