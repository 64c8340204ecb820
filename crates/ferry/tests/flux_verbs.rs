//! `ferry get`, `ferry reconcile` and `ferry suspend|resume` as a Flux user types them, on a
//! reconciled Kustomization: flux's tables, `--with-source` fetching the new commit first, and a
//! suspended Kustomization left alone until it is resumed.

mod common;

use std::time::Duration;

use common::{Env, wait_for};
use serde_json::json;

fn settings(value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  value: {value}\n"
    )
}

/// The row of `name` in a table: its cells split on runs of blanks.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.contains(&name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{table}"))
}

fn header(table: &str) -> Vec<&str> {
    table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn get_reconcile_suspend_and_resume_as_flux_does() {
    let env = Env::start().await;
    env.repo.write("app/settings.yaml", &settings("one"));
    let first = env.repo.commit("one");
    env.create_git_repository("repo").await;
    env.create_kustomization(
        "app",
        json!({"interval": "1h", "path": "./app", "prune": true}),
    )
    .await;
    env.wait_ready("app").await;
    let revision = format!("main@sha1:{first}");

    let ks = env
        .ferry(&["get", "kustomizations", "-n", "flux-system"])
        .await
        .expect_code(0);
    assert_eq!(
        header(&ks.stdout),
        ["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"]
    );
    let cells = row(&ks.stdout, "app");
    assert_eq!(cells[..4], ["app", revision.as_str(), "False", "True"]);
    assert!(
        ks.stdout.contains(&format!("Applied revision: {revision}")),
        "{}",
        ks.stdout
    );

    let all_ns = env.ferry(&["get", "ks", "-A"]).await.expect_code(0);
    assert_eq!(header(&all_ns.stdout)[..2], ["NAMESPACE", "NAME"]);
    assert_eq!(row(&all_ns.stdout, "app")[..2], ["flux-system", "app"]);

    let sources = env
        .ferry(&["get", "sources", "git", "-n", "flux-system"])
        .await
        .expect_code(0);
    assert_eq!(
        row(&sources.stdout, "repo")[..4],
        ["repo", revision.as_str(), "False", "True"]
    );

    let all = env
        .ferry(&["get", "all", "-n", "flux-system"])
        .await
        .expect_code(0);
    row(&all.stdout, "gitrepository/repo");
    row(&all.stdout, "kustomization/app");

    // A new commit; the source's interval is a minute away: --with-source fetches it now.
    env.repo.write("app/settings.yaml", &settings("two"));
    let second = env.repo.commit("two");
    let run = env
        .ferry(&[
            "reconcile",
            "kustomization",
            "app",
            "--with-source",
            "-n",
            "flux-system",
        ])
        .await
        .expect_code(0);
    assert!(
        run.stdout
            .contains(&format!("✔ fetched revision main@sha1:{second}")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("✔ applied revision main@sha1:{second}")),
        "{}",
        run.stdout
    );
    let cm = env
        .get("v1", "ConfigMap", Some("default"), "settings")
        .await
        .unwrap();
    assert_eq!(cm["data"]["value"], "two");

    // Suspended: neither a new commit nor a reconcile request changes anything.
    env.ferry(&["suspend", "kustomization", "app", "-n", "flux-system"])
        .await
        .expect_code(0);
    let ks = env
        .get(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            Some("flux-system"),
            "app",
        )
        .await
        .unwrap();
    assert_eq!(ks["spec"]["suspend"], true);
    let listed = env
        .ferry(&["get", "ks", "-n", "flux-system"])
        .await
        .expect_code(0);
    assert_eq!(row(&listed.stdout, "app")[2], "True", "SUSPENDED column");
    env.repo.write("app/settings.yaml", &settings("three"));
    let third = env.repo.commit("three");
    env.ferry(&["reconcile", "source", "git", "repo", "-n", "flux-system"])
        .await
        .expect_code(0);
    let refused = env
        .ferry(&["reconcile", "kustomization", "app", "-n", "flux-system"])
        .await
        .expect_code(1);
    assert!(refused.stderr.contains("suspended"), "{}", refused.stderr);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cm = env
        .get("v1", "ConfigMap", Some("default"), "settings")
        .await
        .unwrap();
    assert_eq!(
        cm["data"]["value"], "two",
        "a suspended Kustomization applies nothing"
    );

    // Resumed: it reconciles at once and applies the commit it missed.
    let resumed = env
        .ferry(&["resume", "kustomization", "app", "-n", "flux-system"])
        .await
        .expect_code(0);
    assert!(
        resumed.stdout.contains(&format!("main@sha1:{third}")),
        "{}",
        resumed.stdout
    );
    wait_for(
        "the missed commit applied",
        Duration::from_secs(10),
        || async {
            let cm = env
                .get("v1", "ConfigMap", Some("default"), "settings")
                .await?;
            (cm["data"]["value"] == "three").then_some(())
        },
    )
    .await;
    env.stop().await;
}

/// `ferry create source git` against a cluster: the object is applied, the command waits for
/// the fetch and prints the revision; a branch that does not exist fails with the reason.
#[tokio::test(flavor = "multi_thread")]
async fn create_source_git_waits_for_the_first_fetch() {
    let env = Env::start().await;
    env.repo.write("app/settings.yaml", &settings("one"));
    let commit = env.repo.commit("one");
    let url = env.repo.url();
    let run = env
        .ferry(&[
            "create",
            "source",
            "git",
            "podinfo",
            "--url",
            &url,
            "--branch",
            "main",
            "-n",
            "flux-system",
        ])
        .await
        .expect_code(0);
    assert!(
        run.stdout.contains("✔ GitRepository source created"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("fetched revision: main@sha1:{commit}")),
        "{}",
        run.stdout
    );
    let api: kube::Api<ferry_api::GitRepository> =
        kube::Api::namespaced(env.client.clone(), "flux-system");
    let repo = api.get("podinfo").await.unwrap();
    assert_eq!(repo.spec.url, url);
    assert_eq!(repo.spec.interval, "1m0s");

    let failed = env
        .ferry(&[
            "create",
            "source",
            "git",
            "missing",
            "--url",
            &url,
            "--branch",
            "nope",
            "--timeout",
            "30s",
            "-n",
            "flux-system",
        ])
        .await
        .expect_code(1);
    assert!(failed.stderr.contains("nope"), "{}", failed.stderr);
    env.stop().await;
}
