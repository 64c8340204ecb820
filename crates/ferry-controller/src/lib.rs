//! Reconcilers for ferry's kinds, their watch wiring, events, metrics and leader election.
