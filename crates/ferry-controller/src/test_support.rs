//! Objects the unit tests that need an API server share.

use ferry_api::GitRepository;
use ferry_test::{
    apiserver::TestApiServer,
    cluster::{create_namespace, install_crds},
};
use kube::{Api, Client, api::PostParams};

/// An embedded API server with Flux's CRDs, holding the GitRepository `flux-system/repo`.
pub async fn server_with_repository() -> (TestApiServer, Client, Api<GitRepository>) {
    let server = TestApiServer::start().await;
    let client = server.client().await;
    install_crds(&client).await;
    create_namespace(&client, "flux-system").await;
    let api: Api<GitRepository> = Api::namespaced(client.clone(), "flux-system");
    let repo: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "repo", "namespace": "flux-system"},
        "spec": {"url": "https://example.com/repo.git", "interval": "1m"},
    }))
    .expect("a valid GitRepository");
    api.create(&PostParams::default(), &repo)
        .await
        .expect("GitRepository created");
    (server, client, api)
}
