//! Health assessment: one pure function from a Kubernetes object to its health (Healthy,
//! Progressing, Degraded, Suspended, Missing, Unknown) and a message, as Argo CD and kstatus
//! judge it, plus user-defined checks (Flux CEL expressions, Argo CD Lua scripts).
