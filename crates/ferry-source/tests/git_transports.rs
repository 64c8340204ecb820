//! Each transport and auth mode against a real server on loopback: git over HTTP (nginx +
//! fcgiwrap + git-http-backend, basic auth, bearer token, TLS with a test CA), git over SSH
//! (sshd with key auth and known_hosts), git daemon and file://. Failures must carry Flux's
//! reason and never a credential.

mod common;

use common::{Env, assert_redacted, basic, spec};
use ferry_source::error::reason;
use ferry_source::{Credentials, GitReference, SourceError};
use ferry_test::git::{GitDaemon, GitHttpServer, GitSshServer, GitWorkspace, HttpAuth};

async fn workspace() -> (GitWorkspace, String) {
    let ws = GitWorkspace::new("master").await.expect("workspace");
    ws.write("deploy/app.yaml", "kind: ConfigMap\n")
        .expect("write");
    ws.write("README.md", "hello\n").expect("write");
    let sha = ws.commit("first").await.expect("commit");
    (ws, sha)
}

#[tokio::test]
async fn http_basic_auth_fetches_the_branch() {
    let (ws, sha) = workspace().await;
    let server = GitHttpServer::start(&ws.bare, HttpAuth::basic("bob", "pa55word"))
        .await
        .expect("http server");
    let env = Env::new();
    let out = env
        .run(
            &spec("basic", &server.url(), GitReference::default()),
            &basic("bob", "pa55word"),
        )
        .await
        .expect("fetch");
    assert_eq!(out.artifact.revision, format!("master@sha1:{sha}"));
    assert!(out.changed);
    let files = env.files(&out);
    assert_eq!(
        files.get("deploy/app.yaml").map(Vec::as_slice),
        Some(&b"kind: ConfigMap\n"[..])
    );
    assert_eq!(files.len(), 2);
    let on_disk = env
        .store
        .local_path(&out.artifact.path)
        .expect("local path");
    assert_eq!(
        ferry_source::artifact::store::file_digest(&on_disk).expect("digest"),
        out.artifact.digest
    );
    assert_eq!(
        std::fs::metadata(&on_disk).expect("artifact file").len(),
        out.artifact.size
    );
}

#[tokio::test]
async fn http_wrong_or_missing_credentials_fail_with_authentication_failed_and_no_secret() {
    let (ws, _) = workspace().await;
    let server = GitHttpServer::start(&ws.bare, HttpAuth::basic("bob", "pa55word"))
        .await
        .expect("http server");
    let env = Env::new();
    let s = spec("basic", &server.url(), GitReference::default());

    let err = env
        .run(&s, &basic("bob", "wrong-secret-value"))
        .await
        .expect_err("wrong password");
    assert_eq!(err.reason(), reason::AUTHENTICATION_FAILED, "{err}");
    assert_redacted(&err, &["wrong-secret-value"]);

    let err = env
        .run(&s, &Credentials::none())
        .await
        .expect_err("no credentials");
    assert_eq!(err.reason(), reason::AUTHENTICATION_FAILED, "{err}");
}

#[tokio::test]
async fn http_bearer_token() {
    let (ws, sha) = workspace().await;
    let server = GitHttpServer::start(&ws.bare, HttpAuth::Bearer("tok-3xyz-good".into()))
        .await
        .expect("http server");
    let env = Env::new();
    let s = spec("bearer", &server.url(), GitReference::default());
    let good = Credentials {
        bearer_token: Some("tok-3xyz-good".into()),
        ..Credentials::none()
    };
    let out = env.run(&s, &good).await.expect("fetch with token");
    assert_eq!(out.artifact.revision, format!("master@sha1:{sha}"));

    // A semver range lists tags first (a separate request), which must carry the token too.
    ws.tag("v1.0.0", None).await.expect("tag");
    let out = env
        .run(
            &spec("bearer", &server.url(), GitReference::semver(">=1.0.0")),
            &good,
        )
        .await
        .expect("semver with token");
    assert_eq!(out.artifact.revision, format!("v1.0.0@sha1:{sha}"));

    let bad = Credentials {
        bearer_token: Some("tok-3xyz-bad".into()),
        ..Credentials::none()
    };
    let err = env.run(&s, &bad).await.expect_err("wrong token");
    assert_eq!(err.reason(), reason::AUTHENTICATION_FAILED, "{err}");
    assert_redacted(&err, &["tok-3xyz-bad"]);
}

#[tokio::test]
async fn https_with_the_secrets_ca() {
    let (ws, sha) = workspace().await;
    let server = GitHttpServer::start_tls(&ws.bare, HttpAuth::basic("bob", "pa55word"))
        .await
        .expect("https server");
    let env = Env::new();
    let s = spec("tls", &server.url(), GitReference::default());
    let mut creds = basic("bob", "pa55word");

    let err = env.run(&s, &creds).await.expect_err("unknown CA refused");
    assert_eq!(err.reason(), reason::GIT_OPERATION_FAILED, "{err}");
    assert_redacted(&err, &["pa55word"]);

    creds.ca_cert = Some(server.ca_pem().expect("tls server has a CA").to_vec());
    let out = env.run(&s, &creds).await.expect("fetch with ca.crt");
    assert_eq!(out.artifact.revision, format!("master@sha1:{sha}"));

    // A CA that did not sign the server certificate is refused.
    let other = GitHttpServer::start_tls(&ws.bare, HttpAuth::None)
        .await
        .expect("second https server");
    creds.ca_cert = Some(other.ca_pem().expect("ca").to_vec());
    let err = env.run(&s, &creds).await.expect_err("wrong CA refused");
    assert!(matches!(err, SourceError::Certificate { .. }), "{err:?}");
}

#[tokio::test]
async fn ssh_with_identity_and_known_hosts() {
    let (ws, sha) = workspace().await;
    let server = GitSshServer::start(&ws.bare).await.expect("sshd");
    let env = Env::new();
    let s = spec("ssh", &server.url(), GitReference::branch("master"));
    let creds = Credentials {
        identity: Some(server.client_identity.clone()),
        known_hosts: Some(server.known_hosts()),
        ..Credentials::none()
    };
    let out = env.run(&s, &creds).await.expect("fetch over ssh");
    assert_eq!(out.artifact.revision, format!("master@sha1:{sha}"));
    assert_eq!(env.files(&out).len(), 2);
}

#[tokio::test]
async fn ssh_refuses_unknown_changed_or_missing_host_keys() {
    let (ws, _) = workspace().await;
    let server = GitSshServer::start(&ws.bare).await.expect("sshd");
    let other = GitSshServer::start(&ws.bare).await.expect("second sshd");
    let env = Env::new();
    let s = spec("ssh", &server.url(), GitReference::default());
    let with_known_hosts = |kh: Option<String>| Credentials {
        identity: Some(server.client_identity.clone()),
        known_hosts: kh,
        ..Credentials::none()
    };

    // The other server's entry: this port is unknown.
    let err = env
        .run(&s, &with_known_hosts(Some(other.known_hosts())))
        .await
        .expect_err("unknown host");
    assert!(matches!(err, SourceError::HostKey { .. }), "{err:?}");
    assert!(err.to_string().contains("no known_hosts entry"), "{err}");

    // Right host and port, wrong key: a changed host key.
    let changed = other.known_hosts().replace(
        &format!(":{}", other.port()),
        &format!(":{}", server.port()),
    );
    let err = env
        .run(&s, &with_known_hosts(Some(changed)))
        .await
        .expect_err("changed key");
    assert!(err.to_string().contains("does not match"), "{err}");

    let err = env
        .run(&s, &with_known_hosts(None))
        .await
        .expect_err("no known_hosts");
    assert!(matches!(err, SourceError::HostKey { .. }), "{err:?}");
    assert_eq!(err.reason(), reason::GIT_OPERATION_FAILED);
}

#[tokio::test]
async fn ssh_wrong_identity_is_an_authentication_failure() {
    let (ws, _) = workspace().await;
    let server = GitSshServer::start(&ws.bare).await.expect("sshd");
    let other = GitSshServer::start(&ws.bare).await.expect("second sshd");
    let env = Env::new();
    let creds = Credentials {
        identity: Some(other.client_identity.clone()),
        known_hosts: Some(server.known_hosts()),
        ..Credentials::none()
    };
    let err = env
        .run(&spec("ssh", &server.url(), GitReference::default()), &creds)
        .await
        .expect_err("wrong key");
    assert_eq!(err.reason(), reason::AUTHENTICATION_FAILED, "{err}");
    assert_redacted(&err, &["PRIVATE KEY"]);
}

#[tokio::test]
async fn git_daemon_and_file_urls() {
    let (ws, sha) = workspace().await;
    let daemon = GitDaemon::start(&ws.bare).await.expect("git daemon");
    let env = Env::new();
    let out = env
        .run(
            &spec("daemon", &daemon.url(), GitReference::default()),
            &Credentials::none(),
        )
        .await
        .expect("git://");
    assert_eq!(out.artifact.revision, format!("master@sha1:{sha}"));

    let file_url = format!("file://{}", ws.bare.display());
    let out = env
        .run(
            &spec("file", &file_url, GitReference::default()),
            &Credentials::none(),
        )
        .await
        .expect("file://");
    assert_eq!(out.artifact.revision, format!("master@sha1:{sha}"));
}

#[tokio::test]
async fn bad_input_yields_specific_reasons_without_credentials() {
    let (ws, _) = workspace().await;
    let mut server = GitHttpServer::start(&ws.bare, HttpAuth::basic("bob", "pa55word"))
        .await
        .expect("http server");
    let env = Env::new();
    let creds = basic("bob", "pa55word");

    let err = env
        .run(
            &spec("bad", "htp:/nowhere", GitReference::default()),
            &creds,
        )
        .await
        .expect_err("bad url");
    assert_eq!(err.reason(), reason::URL_INVALID);
    assert!(err.is_terminal());

    let with_userinfo = server.url().replace("http://", "http://bob:pa55word@");
    let err = env
        .run(
            &spec("bad", &with_userinfo, GitReference::default()),
            &creds,
        )
        .await
        .expect_err("userinfo url");
    assert_eq!(err.reason(), reason::URL_INVALID);
    assert_redacted(&err, &["pa55word"]);

    let err = env
        .run(
            &spec("bad", &server.url(), GitReference::branch("nope")),
            &creds,
        )
        .await
        .expect_err("missing branch");
    assert_eq!(err.reason(), reason::GIT_OPERATION_FAILED);
    assert!(err.to_string().contains("refs/heads/nope"), "{err}");

    let err = env
        .run(&spec("bad", &server.url(), GitReference::tag("v9")), &creds)
        .await
        .expect_err("missing tag");
    assert!(matches!(err, SourceError::RefNotFound { .. }), "{err:?}");

    let mut limited = spec("bad", &server.url(), GitReference::default());
    limited.limits.max_artifact_bytes = 64;
    let err = env
        .run(&limited, &creds)
        .await
        .expect_err("artifact over the limit");
    assert_eq!(err.reason(), reason::SIZE_LIMIT_EXCEEDED, "{err}");

    let mut limited = spec("bad-fetch", &server.url(), GitReference::default());
    limited.limits.max_fetch_bytes = 10;
    // A fresh cache: the first one already holds these objects and would fetch nothing.
    let err = Env::new()
        .run(&limited, &creds)
        .await
        .expect_err("fetch over the limit");
    assert_eq!(err.reason(), reason::SIZE_LIMIT_EXCEEDED, "{err}");

    let url = server.url();
    server.stop().await;
    let err = env
        .run(&spec("down", &url, GitReference::default()), &creds)
        .await
        .expect_err("server down");
    assert_eq!(err.reason(), reason::GIT_OPERATION_FAILED, "{err}");
    assert_redacted(&err, &["pa55word"]);
}

#[tokio::test]
async fn recovers_when_the_server_comes_back_and_keeps_the_last_artifact() {
    let (ws, first) = workspace().await;
    let mut daemon = GitDaemon::start(&ws.bare).await.expect("git daemon");
    let env = Env::new();
    let s = spec("recover", &daemon.url(), GitReference::default());
    let before = env
        .run(&s, &Credentials::none())
        .await
        .expect("first fetch");
    assert_eq!(before.artifact.revision, format!("master@sha1:{first}"));

    daemon.stop().await;
    ws.write("deploy/app.yaml", "kind: Secret\n")
        .expect("write");
    let second = ws.commit("second").await.expect("commit");
    let err = env
        .run(&s, &Credentials::none())
        .await
        .expect_err("server down");
    assert_eq!(err.reason(), reason::GIT_OPERATION_FAILED);
    let kept = env.store.local_path(&before.artifact.path).expect("path");
    assert!(kept.is_file(), "the previous artifact stays in storage");

    daemon.restart().await.expect("restart");
    let after = env
        .run(&s, &Credentials::none())
        .await
        .expect("fetch after restart");
    assert_eq!(after.artifact.revision, format!("master@sha1:{second}"));
    assert_eq!(env.files(&after)["deploy/app.yaml"], b"kind: Secret\n");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts connections and says nothing, like a hung server or a black-holing proxy.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let env = Env::new();
    let mut s = spec(
        "hung",
        &format!("git://127.0.0.1:{port}/repo.git"),
        GitReference::default(),
    );
    s.timeout = std::time::Duration::from_secs(1);
    let started = std::time::Instant::now();
    let err = env
        .run(&s, &Credentials::none())
        .await
        .expect_err("hung server");
    assert!(matches!(err, SourceError::Timeout { .. }), "{err:?}");
    assert_eq!(err.reason(), reason::GIT_OPERATION_FAILED);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "bounded by spec.timeout"
    );
    // A second reconciliation does not queue forever behind the stuck one.
    let err = env
        .run(&s, &Credentials::none())
        .await
        .expect_err("still hung");
    assert!(matches!(err, SourceError::Timeout { .. }), "{err:?}");
    silent.abort();
}
