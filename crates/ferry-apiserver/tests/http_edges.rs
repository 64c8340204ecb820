#![allow(clippy::unwrap_used)]
//! Transport-level behaviour: authentication, body limits, malformed input, discovery documents.

use ferry_test::apiserver::TestApiServer;

fn curl(server: &TestApiServer, args: &[&str]) -> (u16, serde_json::Value) {
    let ca = server.dir().join("ca.crt");
    std::fs::write(&ca, server.server().ca_pem().unwrap()).unwrap();
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--cacert",
            ca.to_str().unwrap(),
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
        ])
        .args(args)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success() || text.ends_with("413"),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (body, code) = text.rsplit_once('\n').unwrap();
    (
        code.trim().parse().unwrap(),
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_wrong_tokens_get_401() {
    let server = TestApiServer::start().await;
    let url = format!("{}/api/v1/namespaces", server.url());
    let (code, body) = tokio::task::block_in_place(|| curl(&server, &[&url]));
    assert_eq!(code, 401);
    assert_eq!(body["reason"], "Unauthorized");
    let (code, _) =
        tokio::task::block_in_place(|| curl(&server, &["-H", "Authorization: Bearer wrong", &url]));
    assert_eq!(code, 401);
    let auth = format!("Authorization: Bearer {}", server.token());
    let (code, body) = tokio::task::block_in_place(|| curl(&server, &["-H", &auth, &url]));
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "NamespaceList");
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_and_malformed_bodies_get_status_errors() {
    let server = TestApiServer::start().await;
    let url = format!("{}/api/v1/namespaces/default/configmaps", server.url());
    let auth = format!("Authorization: Bearer {}", server.token());
    let big = server.dir().join("big.json");
    let payload = format!(
        "{{\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"x\":\"{}\"}}}}",
        "a".repeat(4 * 1024 * 1024)
    );
    std::fs::write(&big, payload).unwrap();
    let data = format!("@{}", big.display());
    let (code, body) = tokio::task::block_in_place(|| {
        curl(
            &server,
            &[
                "-H",
                &auth,
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                &data,
                &url,
            ],
        )
    });
    assert_eq!(code, 413);
    assert_eq!(body["reason"], "RequestEntityTooLarge");
    for bad in ["{", "[1]", "{\"metadata\": 5}", "\u{1}\u{2}"] {
        let (code, body) = tokio::task::block_in_place(|| {
            curl(
                &server,
                &[
                    "-H",
                    &auth,
                    "-H",
                    "Content-Type: application/json",
                    "--data-binary",
                    bad,
                    &url,
                ],
            )
        });
        assert_eq!(code, 400, "{bad:?}: {body}");
        assert_eq!(body["kind"], "Status");
    }
    // The server still works afterwards.
    let (code, _) = tokio::task::block_in_place(|| curl(&server, &["-H", &auth, &url]));
    assert_eq!(code, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_come_from_a_token_auth_file() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.csv");
    std::fs::write(
        &tokens,
        "# kube-apiserver --token-auth-file format\nfirst-token,alice,1,\"system:masters\"\nsecond-token,bob,2\n",
    )
    .unwrap();
    let server =
        TestApiServer::start_builder(ferry_apiserver::ApiServer::builder().tokens_file(&tokens))
            .await;
    assert_eq!(
        server.token(),
        "first-token",
        "the kubeconfig uses the first token"
    );
    let url = format!("{}/api/v1/namespaces/default", server.url());
    for (token, code) in [
        ("first-token", 200),
        ("second-token", 200),
        ("third-token", 401),
    ] {
        let header = format!("Authorization: Bearer {token}");
        let (got, _) = tokio::task::block_in_place(|| curl(&server, &["-H", &header, &url]));
        assert_eq!(got, code, "{token}");
    }
    let (got, body) = tokio::task::block_in_place(|| curl(&server, &[&url]));
    assert_eq!((got, body["code"].as_i64()), (401, Some(401)));
}

#[tokio::test(flavor = "multi_thread")]
async fn exact_lists_at_a_future_resource_version_time_out() {
    let server = TestApiServer::start().await;
    let auth = format!("Authorization: Bearer {}", server.token());
    let url = format!(
        "{}/api/v1/configmaps?resourceVersion=999999&resourceVersionMatch=Exact",
        server.url()
    );
    let (code, body) = tokio::task::block_in_place(|| curl(&server, &["-H", &auth, &url]));
    assert_eq!(code, 504, "{body}");
    assert_eq!(body["reason"], "Timeout");
    assert_eq!(
        body["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
}
