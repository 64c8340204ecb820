//! Types of the APIs ferry serves and reads: Flux's toolkit groups and Argo CD's
//! `argoproj.io`, their conditions and reasons, the inventory entry format, and the
//! well-known annotation, label and field-manager names. Pure types: no client, no runtime.
