//! One module per kind family. Each module lists its registrations in `RULES`.

use crate::rules::Entry;

mod apiextensions;
mod apiregistration;
mod argo;
mod autoscaling;
mod batch;
mod capi;
mod certmanager;
mod conventional;
mod core;
mod crossplane;
mod databases;
mod elastic;
mod external_secrets;
mod flux;
mod gateway;
mod gcp;
mod humio;
mod kafka;
mod keda;
mod kruise;
mod kubevirt;
mod multicluster;
mod numaproj;
mod observability;
mod openshift;
mod pod;
mod policy;
mod prometheus;
mod promoter;
mod proxies;
mod rabbitmq;
mod serving;
mod solo;
mod storage;
mod threescale;
mod workloads;

/// Every registration of every family.
pub fn all() -> impl Iterator<Item = Entry> {
    [
        workloads::RULES,
        pod::RULES,
        batch::RULES,
        core::RULES,
        autoscaling::RULES,
        apiregistration::RULES,
        apiextensions::RULES,
        policy::RULES,
        argo::RULES,
        certmanager::RULES,
        flux::RULES,
        external_secrets::RULES,
        keda::RULES,
        prometheus::RULES,
        crossplane::RULES,
        gcp::RULES,
        kruise::RULES,
        capi::RULES,
        gateway::RULES,
        solo::RULES,
        threescale::RULES,
        elastic::RULES,
        humio::RULES,
        promoter::RULES,
        rabbitmq::RULES,
        conventional::RULES,
        databases::RULES,
        kafka::RULES,
        kubevirt::RULES,
        multicluster::RULES,
        numaproj::RULES,
        observability::RULES,
        openshift::RULES,
        proxies::RULES,
        serving::RULES,
        storage::RULES,
    ]
    .into_iter()
    .flatten()
    .copied()
}
