//! `ferry install [--export] [-n flux-system] [--image IMAGE]`: ferry's CRDs and the controller
//! (ServiceAccount, RBAC, a Deployment running `ferry controller`, the artifact Service), printed
//! with `--export` or applied with server-side apply in stages (CRDs and the Namespace first),
//! then waited for, as `flux install` does.

mod manifests;

use std::{process::ExitCode, time::Duration};

use anyhow::Context as _;
use ferry_api::{GoDuration, ObjMetadata, keys};
use ferry_apply::{ApplyOptions, ResourceManager, Resources, WaitOptions, object};

use super::cluster_args::{ClusterArgs, block_on};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the manifests instead of applying them.
    #[arg(long)]
    export: bool,
    /// Container image running `ferry controller`.
    #[arg(long, default_value_t = manifests::default_image())]
    image: String,
    /// How long to wait for the CRDs and the controller to become ready.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    timeout: GoDuration,
    #[command(flatten)]
    cluster: ClusterArgs,
}

fn parse_duration(s: &str) -> Result<GoDuration, String> {
    s.parse::<GoDuration>().map_err(|e| e.to_string())
}

#[allow(clippy::print_stdout)]
fn say(symbol: &str, message: impl std::fmt::Display) {
    println!("{symbol} {message}");
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let namespace = &args.cluster.namespace;
    let objects = manifests::all(namespace, &args.image);
    if args.export {
        #[allow(clippy::print_stdout)]
        for object in &objects {
            print!("---\n{}", ferry_yaml::to_string(object));
        }
        return Ok(ExitCode::SUCCESS);
    }
    say("✚", "generating manifests");
    say("✔", "manifests build completed");
    say(
        "►",
        format!("installing components in {namespace} namespace"),
    );
    block_on(async {
        let client = args.cluster.client().await?;
        let manager = ResourceManager::new(client, Resources::new(), keys::FIELD_MANAGER);
        let timeout: Duration = args.timeout.0;
        let options = ApplyOptions {
            stage_timeout: timeout,
            ..ApplyOptions::default()
        };
        let changes = manager
            .apply_all_staged(objects.clone(), &options)
            .await
            .context("installing")?;
        for entry in &changes.entries {
            #[allow(clippy::print_stdout)]
            {
                println!("{} {}", entry.object, entry.action.as_str());
            }
        }
        say("◎", "verifying installation");
        let deployment = objects
            .iter()
            .find(|o| object::kind(o) == Some("Deployment"))
            .context("the manifests hold the controller Deployment")?;
        let meta: ObjMetadata = object::obj_metadata(deployment)?;
        let wait = WaitOptions {
            timeout,
            ..WaitOptions::default()
        };
        manager
            .wait_for_set(
                &[(meta, "v1".to_owned())],
                &wait,
                &ferry_controller::kustomization::readiness,
            )
            .await
            .with_context(|| format!("{} did not become ready", manifests::CONTROLLER))?;
        say("✔", format!("{}: deployment ready", manifests::CONTROLLER));
        say("✔", "install finished");
        Ok(ExitCode::SUCCESS)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::Value;

    #[test]
    fn the_deployment_runs_a_controller_this_binary_accepts() {
        let objects = manifests::all("gitops", "example.com/ferry:dev");
        let deployment = objects
            .iter()
            .find(|o| object::kind(o) == Some("Deployment"))
            .unwrap();
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "example.com/ferry:dev");
        let args: Vec<&str> = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(args[0], "controller");
        assert!(args.contains(&"--leader-election-namespace=gitops"));
        crate::Cli::try_parse_from(std::iter::once("ferry").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("`ferry {}` is refused: {e}", args.join(" ")));
    }

    #[test]
    fn every_object_is_labelled_and_namespaced_where_it_must_be() {
        let objects = manifests::all("gitops", "example.com/ferry:dev");
        let kinds: Vec<&str> = objects.iter().map(|o| object::kind(o).unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "CustomResourceDefinition",
                "CustomResourceDefinition",
                "CustomResourceDefinition",
                "Namespace",
                "ServiceAccount",
                "ClusterRole",
                "ClusterRoleBinding",
                "ClusterRoleBinding",
                "Service",
                "Service",
                "Deployment"
            ]
        );
        for o in &objects {
            assert_eq!(
                object::label(o, "app.kubernetes.io/part-of"),
                Some("ferry"),
                "{}",
                object::display(o)
            );
            let namespaced = !matches!(
                object::kind(o),
                Some(
                    "CustomResourceDefinition" | "Namespace" | "ClusterRole" | "ClusterRoleBinding"
                )
            );
            assert_eq!(
                object::namespace(o).is_some(),
                namespaced,
                "{}",
                object::display(o)
            );
        }
        let service = objects
            .iter()
            .find(|o| object::kind(o) == Some("Service"))
            .unwrap();
        assert_eq!(
            service["spec"]["selector"]["app"],
            Value::from(manifests::CONTROLLER)
        );
    }

    #[test]
    fn the_webhook_receiver_is_exposed_on_port_80_like_flux() {
        let objects = manifests::all("gitops", "example.com/ferry:dev");
        let service = objects
            .iter()
            .find(|o| object::name(o) == Some(manifests::WEBHOOK_SERVICE))
            .unwrap();
        let port = &service["spec"]["ports"][0];
        assert_eq!(port["port"], 80);
        let deployment = objects
            .iter()
            .find(|o| object::kind(o) == Some("Deployment"))
            .unwrap();
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let named = container["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == port["targetPort"])
            .expect("the Service's target port is a container port");
        assert_eq!(named["containerPort"], manifests::WEBHOOK_PORT);
        let flag = format!("--receiver-addr=0.0.0.0:{}", manifests::WEBHOOK_PORT);
        assert!(
            container["args"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a.as_str() == Some(flag.as_str()))
        );
    }
}
