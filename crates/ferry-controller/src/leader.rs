//! Leader election on a coordination.k8s.io Lease, as controller-runtime does it, so that of
//! several replicas only one applies at a time. The holder renews the Lease; another replica
//! takes it over once it has not been renewed for the lease duration.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};
use serde_json::json;

/// Lease settings (Flux's defaults: 35s lease, renew every 30s... scaled for a local process).
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_period: Duration,
    pub retry_period: Duration,
}

impl LeaseConfig {
    pub fn new(namespace: impl Into<String>, identity: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: "ferry-controller-leader".to_owned(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_period: Duration::from_secs(5),
            retry_period: Duration::from_secs(2),
        }
    }
}

fn now_micro() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
        .to_string()
}

fn expired(lease: &Lease, duration: Duration) -> bool {
    let Some(spec) = &lease.spec else { return true };
    let Some(renewed) = spec.renew_time.as_ref() else {
        return true;
    };
    let renewed = serde_json::to_value(renewed)
        .ok()
        .and_then(|v| v.as_str().and_then(|s| s.parse::<jiff::Timestamp>().ok()));
    let Some(renewed) = renewed else { return true };
    let seconds = spec
        .lease_duration_seconds
        .map_or(duration.as_secs() as i64, i64::from);
    jiff::Timestamp::now().as_second() > renewed.as_second() + seconds
}

fn holder(lease: &Lease) -> Option<&str> {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.as_deref())
        .filter(|h| !h.is_empty())
}

fn lease_body(
    config: &LeaseConfig,
    resource_version: Option<String>,
    transitions: i32,
    acquired: Option<String>,
) -> Result<Lease, kube::Error> {
    let now = now_micro();
    let body = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": ObjectMeta { name: Some(config.name.clone()), namespace: Some(config.namespace.clone()), resource_version, ..Default::default() },
        "spec": {
            "holderIdentity": config.identity,
            "leaseDurationSeconds": config.lease_duration.as_secs(),
            "acquireTime": acquired.unwrap_or_else(|| now.clone()),
            "renewTime": now,
            "leaseTransitions": transitions,
        }
    });
    serde_json::from_value(body).map_err(kube::Error::SerdeError)
}

/// Tries once to become (or stay) the holder; true when this replica holds the Lease.
pub async fn try_acquire(client: &Client, config: &LeaseConfig) -> Result<bool, kube::Error> {
    let api: Api<Lease> = Api::namespaced(client.clone(), &config.namespace);
    match api.get_opt(&config.name).await? {
        None => match api
            .create(&PostParams::default(), &lease_body(config, None, 0, None)?)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(err) => Err(err),
        },
        Some(lease) => {
            let ours = holder(&lease) == Some(config.identity.as_str());
            if !ours && !expired(&lease, config.lease_duration) {
                return Ok(false);
            }
            let spec = lease.spec.clone().unwrap_or_default();
            let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!ours);
            let acquired = if ours {
                spec.acquire_time
                    .and_then(|t| serde_json::to_value(t).ok())
                    .and_then(|v| v.as_str().map(str::to_owned))
            } else {
                None
            };
            let body = lease_body(
                config,
                lease.metadata.resource_version.clone(),
                transitions,
                acquired,
            )?;
            match api
                .replace(&config.name, &PostParams::default(), &body)
                .await
            {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                Err(err) => Err(err),
            }
        }
    }
}

/// Waits until this replica holds the Lease.
pub async fn acquire(client: &Client, config: &LeaseConfig) {
    loop {
        match try_acquire(client, config).await {
            Ok(true) => {
                tracing::info!(lease = %config.name, identity = %config.identity, "acquired leadership");
                return;
            }
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "leader election failed, retrying"),
        }
        tokio::time::sleep(config.retry_period).await;
    }
}

/// Renews the Lease until renewing fails for longer than the lease duration; returns when
/// leadership is lost (the caller must stop applying).
pub async fn hold(client: &Client, config: &LeaseConfig) {
    let mut last_renewed = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(config.renew_period).await;
        match try_acquire(client, config).await {
            Ok(true) => last_renewed = tokio::time::Instant::now(),
            Ok(false) => {
                tracing::error!(lease = %config.name, "leadership lost to another replica");
                return;
            }
            Err(err) => {
                tracing::warn!(error = %err, "lease renewal failed");
                if last_renewed.elapsed() > config.lease_duration {
                    tracing::error!(lease = %config.name, "leadership lost: lease not renewed in time");
                    return;
                }
            }
        }
    }
}
