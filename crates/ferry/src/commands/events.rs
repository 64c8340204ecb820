//! `ferry events [--for Kind/NAME] [-A] [--types Normal,Warning]`: the Kubernetes Events of
//! Flux's (and so ferry's) objects, oldest first, as `flux events` prints them:
//! `LAST SEEN  TYPE  REASON  OBJECT  MESSAGE`. `--for` also shows the events of the object's
//! source, as flux does for a Kustomization.

use std::{process::ExitCode, time::Duration};

use anyhow::{Context as _, bail};
use ferry_api::Kustomization;
use k8s_openapi::api::core::v1::Event;
use kube::{Api, Client, api::ListParams};

use super::{
    cluster_args::{ClusterArgs, block_on},
    table,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the events of this object (`Kind/name`) and of its source.
    #[arg(long = "for", value_name = "KIND/NAME")]
    for_object: Option<String>,
    /// Events of all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Only events of these types (Normal, Warning), comma separated.
    #[arg(long, value_delimiter = ',', value_parser = ["Normal", "Warning"])]
    types: Vec<String>,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// The kinds of Flux's APIs, whose events `flux events` shows, with their API groups.
const FLUX_KINDS: &[(&str, &str)] = &[
    ("Kustomization", "kustomize.toolkit.fluxcd.io"),
    ("GitRepository", "source.toolkit.fluxcd.io"),
    ("OCIRepository", "source.toolkit.fluxcd.io"),
    ("Bucket", "source.toolkit.fluxcd.io"),
    ("HelmRepository", "source.toolkit.fluxcd.io"),
    ("HelmChart", "source.toolkit.fluxcd.io"),
    ("ExternalArtifact", "source.toolkit.fluxcd.io"),
    ("HelmRelease", "helm.toolkit.fluxcd.io"),
    ("Alert", "notification.toolkit.fluxcd.io"),
    ("Provider", "notification.toolkit.fluxcd.io"),
    ("Receiver", "notification.toolkit.fluxcd.io"),
    ("ImageRepository", "image.toolkit.fluxcd.io"),
    ("ImagePolicy", "image.toolkit.fluxcd.io"),
    ("ImageUpdateAutomation", "image.toolkit.fluxcd.io"),
];

/// The Flux kind a `--for` value names, matched case-insensitively (`kustomization/apps`).
fn parse_for(value: &str) -> anyhow::Result<(&'static str, String)> {
    let Some((kind, name)) = value
        .split_once('/')
        .filter(|(k, n)| !k.is_empty() && !n.is_empty() && !n.contains('/'))
    else {
        bail!("invalid --for {value:?}: expected <kind>/<name>, e.g. Kustomization/apps");
    };
    let Some((kind, _)) = FLUX_KINDS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(kind))
    else {
        let known: Vec<&str> = FLUX_KINDS.iter().map(|(k, _)| *k).collect();
        bail!(
            "invalid --for {value:?}: {kind:?} is not one of {}",
            known.join(", ")
        );
    };
    Ok((*kind, name.to_owned()))
}

/// The objects whose events `--for` shows: the object, and the source of a Kustomization.
async fn related(
    client: &Client,
    namespace: &str,
    kind: &'static str,
    name: &str,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let mut objects = vec![(kind.to_owned(), namespace.to_owned(), name.to_owned())];
    if kind == "Kustomization" {
        let api: Api<Kustomization> = Api::namespaced(client.clone(), namespace);
        if let Some(ks) = api
            .get_opt(name)
            .await
            .with_context(|| format!("reading Kustomization {namespace}/{name}"))?
        {
            let source = &ks.spec.source_ref;
            let source_ns = source
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| namespace.to_owned());
            objects.push((source.kind.clone(), source_ns, source.name.clone()));
        }
    }
    Ok(objects)
}

/// When an event was last seen: its series or last timestamp, its event time, or its first
/// timestamp, whichever is set (in that order, as kubectl reads them).
fn last_seen(event: &Event) -> Option<jiff::Timestamp> {
    event
        .series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
        .or_else(|| event.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| event.event_time.as_ref().map(|t| t.0))
        .or_else(|| event.first_timestamp.as_ref().map(|t| t.0))
}

/// A duration as kubectl shows ages (`apimachinery/pkg/util/duration.HumanDuration`).
fn human(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{days}d"),
            h => format!("{days}d{h}h"),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 24 * 365 * 8 {
        return match days % 365 {
            0 => format!("{years}y"),
            d => format!("{years}y{d}d"),
        };
    }
    format!("{years}y")
}

fn since(then: Option<jiff::Timestamp>, now: jiff::Timestamp) -> String {
    match then {
        Some(then) => {
            let elapsed = now.duration_since(then);
            // A clock a little behind the server's reads as now.
            human(Duration::try_from(elapsed).unwrap_or_default())
        }
        None => "<unknown>".to_owned(),
    }
}

/// The LAST SEEN cell: `5m`, or `5m (x3 over 20m)` for a repeated event, as kubectl and flux
/// show it.
fn last_seen_cell(event: &Event, now: jiff::Timestamp) -> String {
    let last = since(last_seen(event), now);
    let count = event.count.unwrap_or(1);
    if count > 1 {
        let first = event.first_timestamp.as_ref().map(|t| t.0);
        format!("{last} (x{count} over {})", since(first, now))
    } else {
        last
    }
}

fn is_flux_event(event: &Event) -> bool {
    let involved = &event.involved_object;
    let group = involved
        .api_version
        .as_deref()
        .and_then(|v| v.split_once('/'))
        .map(|(g, _)| g);
    FLUX_KINDS.iter().any(|(kind, g)| {
        involved.kind.as_deref() == Some(*kind) && group.is_none_or(|group| group == *g)
    })
}

async fn list(client: &Client, args: &Args) -> anyhow::Result<Vec<Event>> {
    let namespace = &args.cluster.namespace;
    let api: Api<Event> = if args.all_namespaces {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), namespace)
    };
    let mut events = Vec::new();
    match &args.for_object {
        Some(value) => {
            let (kind, name) = parse_for(value)?;
            for (kind, ns, name) in related(client, namespace, kind, &name).await? {
                let mut selector = format!("involvedObject.kind={kind},involvedObject.name={name}");
                if !args.all_namespaces {
                    selector.push_str(&format!(",involvedObject.namespace={ns}"));
                }
                let api: Api<Event> = if args.all_namespaces {
                    api.clone()
                } else {
                    Api::namespaced(client.clone(), &ns)
                };
                let found = api
                    .list(&ListParams::default().fields(&selector))
                    .await
                    .context("listing events")?;
                events.extend(found.items);
            }
        }
        None => {
            let found = api
                .list(&ListParams::default())
                .await
                .context("listing events")?;
            events.extend(found.items.into_iter().filter(is_flux_event));
        }
    }
    if !args.types.is_empty() {
        events.retain(|e| e.type_.as_ref().is_some_and(|t| args.types.contains(t)));
    }
    events.sort_by_key(last_seen);
    Ok(events)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async {
        let client = args.cluster.client().await?;
        let events = list(&client, &args).await?;
        if events.is_empty() {
            #[allow(clippy::print_stderr)]
            {
                let scope = if args.all_namespaces {
                    "any namespace".to_owned()
                } else {
                    format!("{} namespace", args.cluster.namespace)
                };
                eprintln!("no events found in {scope}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        let now = jiff::Timestamp::now();
        let rows: Vec<Vec<String>> = events
            .iter()
            .map(|e| {
                let involved = &e.involved_object;
                let mut row = vec![
                    last_seen_cell(e, now),
                    e.type_.clone().unwrap_or_default(),
                    e.reason.clone().unwrap_or_default(),
                    format!(
                        "{}/{}",
                        involved.kind.as_deref().unwrap_or_default(),
                        involved.name.as_deref().unwrap_or_default()
                    ),
                    e.message.as_deref().unwrap_or_default().trim().to_owned(),
                ];
                if args.all_namespaces {
                    row.insert(0, e.metadata.namespace.clone().unwrap_or_default());
                }
                row
            })
            .collect();
        let mut headers = vec!["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"];
        if args.all_namespaces {
            headers.insert(0, "NAMESPACE");
        }
        #[allow(clippy::print_stdout)]
        {
            print!("{}", table::render(&headers, &rows));
        }
        Ok(ExitCode::SUCCESS)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        let cases = [
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (150, "2m30s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 120, "3h2m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (50 * 3600, "2d2h"),
            (8 * 86400, "8d"),
            (800 * 86400, "2y70d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (seconds, text) in cases {
            assert_eq!(human(Duration::from_secs(seconds)), text, "{seconds}s");
        }
    }

    #[test]
    fn for_names_a_flux_kind_and_an_object() {
        assert_eq!(
            parse_for("kustomization/apps").unwrap(),
            ("Kustomization", "apps".to_owned())
        );
        assert_eq!(parse_for("GitRepository/repo").unwrap().0, "GitRepository");
        for bad in [
            "apps",
            "/apps",
            "Kustomization/",
            "Deployment/web",
            "Kustomization/a/b",
        ] {
            assert!(parse_for(bad).is_err(), "{bad} must be refused");
        }
    }
}
