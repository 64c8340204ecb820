//! `spec.verify`: commits and tags signed by the test with gpg and with ssh keys (git's
//! `gpg.format=ssh`), checked in HEAD, Tag and TagAndHEAD modes. An unsigned or wrongly signed
//! commit is never archived.

mod common;

use std::collections::BTreeMap;

use common::{Env, spec};
use ferry_source::error::reason;
use ferry_source::git::Verification;
use ferry_source::{Credentials, GitReference, TrustedKeys, VerifyMode};
use ferry_test::git::{GitDaemon, GitWorkspace};

fn keys(entries: &[(&str, &str)]) -> TrustedKeys {
    let data: BTreeMap<String, Vec<u8>> = entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect();
    TrustedKeys::from_secret_data(&data).expect("valid keys")
}

fn verifying(mode: VerifyMode, keys: TrustedKeys) -> Option<Verification> {
    Some(Verification { mode, keys })
}

#[tokio::test]
async fn gpg_signed_commits() {
    let ws = GitWorkspace::new("master").await.expect("workspace");
    let trusted = ws.gpg_key("trusted@ferry.invalid").await.expect("gpg key");
    let untrusted = ws.gpg_key("other@ferry.invalid").await.expect("gpg key");
    ws.write("a", "1").expect("write");
    let signed = ws
        .commit_gpg_signed("signed", &trusted)
        .await
        .expect("signed commit");
    let daemon = GitDaemon::start(&ws.bare).await.expect("daemon");
    let env = Env::new();
    let mut s = spec("gpg", &daemon.url(), GitReference::default());
    s.verify = verifying(
        VerifyMode::Head,
        keys(&[("trusted.asc", &trusted.public_armored)]),
    );

    let out = env
        .run(&s, &Credentials::none())
        .await
        .expect("trusted signature");
    let verified = out.verified.expect("verification result");
    assert!(verified.details[0].contains(&signed), "{verified:?}");
    assert!(
        verified.details[0].contains(&trusted.fingerprint),
        "{verified:?}"
    );

    ws.write("a", "2").expect("write");
    let unsigned = ws.commit("unsigned").await.expect("commit");
    let err = env
        .run(&s, &Credentials::none())
        .await
        .expect_err("unsigned refused");
    assert_eq!(err.reason(), reason::INVALID_COMMIT_SIGNATURE);
    assert!(
        err.to_string().contains(&unsigned) && err.to_string().contains("not signed"),
        "{err}"
    );

    ws.write("a", "3").expect("write");
    ws.commit_gpg_signed("by someone else", &untrusted)
        .await
        .expect("commit");
    let err = env
        .run(&s, &Credentials::none())
        .await
        .expect_err("untrusted refused");
    assert_eq!(err.reason(), reason::INVALID_COMMIT_SIGNATURE, "{err}");
    // Neither refused commit became an artifact: only the signed one is stored.
    let stored: Vec<_> = std::fs::read_dir(env.store.root().join("gitrepository/default/gpg"))
        .expect("object dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(stored, vec![format!("{signed}.tar.gz")]);
}

#[tokio::test]
async fn ssh_signed_commits_and_tags() {
    let ws = GitWorkspace::new("master").await.expect("workspace");
    let (trusted_key, trusted_pub) = ws.ssh_signing_key("trusted").await.expect("ssh key");
    let (other_key, _) = ws.ssh_signing_key("other").await.expect("ssh key");
    ws.write("a", "1").expect("write");
    let signed = ws
        .commit_ssh_signed("signed", &trusted_key)
        .await
        .expect("signed commit");
    ws.tag_ssh_signed("v1.0.0", &trusted_key)
        .await
        .expect("signed tag");
    let daemon = GitDaemon::start(&ws.bare).await.expect("daemon");
    let env = Env::new();
    let trusted = keys(&[("dev.sshpub", &format!("dev@ferry.invalid {trusted_pub}"))]);

    let mut s = spec("ssh-head", &daemon.url(), GitReference::default());
    s.verify = verifying(VerifyMode::Head, trusted.clone());
    let out = env
        .run(&s, &Credentials::none())
        .await
        .expect("trusted ssh signature");
    assert!(out.verified.expect("verified").details[0].contains(&signed));

    let mut s = spec("ssh-tag", &daemon.url(), GitReference::tag("v1.0.0"));
    s.verify = verifying(VerifyMode::TagAndHead, trusted.clone());
    let out = env
        .run(&s, &Credentials::none())
        .await
        .expect("tag and head verified");
    assert_eq!(out.verified.expect("verified").details.len(), 2);

    // A tag signed by an untrusted key, on a trusted commit: Tag mode refuses it.
    ws.tag_ssh_signed("v1.1.0", &other_key).await.expect("tag");
    let mut s = spec("ssh-bad-tag", &daemon.url(), GitReference::tag("v1.1.0"));
    s.verify = verifying(VerifyMode::Tag, trusted.clone());
    let err = env
        .run(&s, &Credentials::none())
        .await
        .expect_err("untrusted tag");
    assert_eq!(err.reason(), reason::INVALID_TAG_SIGNATURE, "{err}");
    assert!(err.to_string().contains("untrusted SSH key"), "{err}");

    // Tag mode on a branch: there is no tag to verify.
    let mut s = spec("ssh-branch-tag", &daemon.url(), GitReference::default());
    s.verify = verifying(VerifyMode::Tag, trusted.clone());
    let err = env.run(&s, &Credentials::none()).await.expect_err("no tag");
    assert_eq!(err.reason(), reason::INVALID_TAG_SIGNATURE);

    ws.write("a", "2").expect("write");
    ws.commit_ssh_signed("by other", &other_key)
        .await
        .expect("commit");
    let mut s = spec("ssh-head", &daemon.url(), GitReference::default());
    s.verify = verifying(VerifyMode::Head, trusted);
    let err = env
        .run(&s, &Credentials::none())
        .await
        .expect_err("untrusted commit");
    assert_eq!(err.reason(), reason::INVALID_COMMIT_SIGNATURE);
}

#[test]
fn verification_secrets_and_modes() {
    assert_eq!(VerifyMode::parse(None).expect("default"), VerifyMode::Head);
    assert_eq!(
        VerifyMode::parse(Some("head")).expect("lower-case head"),
        VerifyMode::Head
    );
    assert_eq!(
        VerifyMode::parse(Some("TagAndHEAD")).expect("both"),
        VerifyMode::TagAndHead
    );
    assert!(VerifyMode::parse(Some("tag")).is_err());
    let empty = BTreeMap::from([("readme".to_string(), b"x".to_vec())]);
    assert!(
        TrustedKeys::from_secret_data(&empty).is_err(),
        "no *.asc or *.sshpub"
    );
    let garbage = BTreeMap::from([("k.asc".to_string(), b"not a key".to_vec())]);
    assert!(TrustedKeys::from_secret_data(&garbage).is_err());
}
