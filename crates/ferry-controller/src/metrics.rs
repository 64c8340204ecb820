//! Prometheus metrics in Flux's names: reconcile duration per object, and ferry's counters of
//! reconcile results per kind. Served by `ferry controller` at /metrics.

use std::sync::{Arc, Mutex};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ObjectLabels {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub kind: String,
    pub result: String,
}

/// The metrics of all reconcilers.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    pub reconcile_duration: Family<ObjectLabels, Histogram>,
    pub reconcile_results: Family<ResultLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let reconcile_duration = Family::<ObjectLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            ])
        });
        let reconcile_results = Family::<ResultLabels, Counter>::default();
        registry.register(
            "gotk_reconcile_duration_seconds",
            "The duration in seconds of a reconcile",
            reconcile_duration.clone(),
        );
        registry.register(
            "ferry_reconcile",
            "Reconciles by kind and result",
            reconcile_results.clone(),
        );
        Self {
            registry: Arc::new(Mutex::new(registry)),
            reconcile_duration,
            reconcile_results,
        }
    }

    /// Records one finished reconcile.
    pub fn observe(&self, kind: &str, namespace: &str, name: &str, seconds: f64, result: &str) {
        self.reconcile_duration
            .get_or_create(&ObjectLabels {
                kind: kind.to_owned(),
                name: name.to_owned(),
                namespace: namespace.to_owned(),
            })
            .observe(seconds);
        self.reconcile_results
            .get_or_create(&ResultLabels {
                kind: kind.to_owned(),
                result: result.to_owned(),
            })
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .expect("metrics registry lock is never poisoned: encode does not panic");
        encode(&mut out, &registry).expect("encoding into a String cannot fail");
        out
    }
}
