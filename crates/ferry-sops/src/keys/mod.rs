//! The keyring (age identities and PGP secret keys) and recovery of a file's
//! data key from its master keys, with Shamir key groups.

mod age;
mod pgp;
mod pq;
mod shamir;

use std::fmt;

use ::age::secrecy::SecretString;
use zeroize::Zeroizing;

use crate::metadata::{MasterKey, Metadata};

pub(crate) use self::age::encrypt_data_key as age_encrypt_data_key;

/// A key that could not be read into the keyring. Names the source (a file
/// or Secret entry), never the key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{origin}: {reason}")]
    Invalid { origin: String, reason: String },
    #[error("{origin}: {what} are not supported")]
    Unsupported { origin: String, what: &'static str },
    #[error("{origin}: the key is protected by a passphrase; provide it")]
    PassphraseRequired { origin: String },
}

/// Why the data key of a file could not be recovered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataKeyError {
    #[error("no key in the keyring opens the data key ({})", describe_attempts(.attempts))]
    NoMatchingKey { attempts: Vec<String> },
    #[error(
        "only {opened} of {groups} key groups could be opened, {threshold} are needed ({})",
        describe_attempts(.attempts)
    )]
    NotEnoughGroups {
        opened: usize,
        groups: usize,
        threshold: usize,
        attempts: Vec<String>,
    },
    #[error("the key group shares do not combine into a data key: {0}")]
    Shamir(String),
    #[error("the recovered data key is {0} bytes long, not 32")]
    BadLength(usize),
}

fn describe_attempts(attempts: &[String]) -> String {
    if attempts.is_empty() {
        "the file lists no master keys".to_string()
    } else {
        attempts.join("; ")
    }
}

/// The private keys available for decryption, built from key files or from a
/// Kubernetes Secret's data the way Flux's kustomize-controller reads it.
#[derive(Default)]
pub struct Keyring {
    age: Vec<self::age::AgeIdentity>,
    pgp: Vec<self::pgp::PgpKey>,
    ignored: Vec<String>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("age_identities", &self.age.len())
            .field("pgp_keys", &self.pgp.len())
            .finish()
    }
}

impl Keyring {
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Adds age identities: an identity file (`AGE-SECRET-KEY-1…` lines), or
    /// an OpenSSH private key (ssh-ed25519, ssh-rsa). `source` names where the
    /// data came from, for error messages. Returns how many were added.
    pub fn add_age_identities(&mut self, data: &[u8], source: &str) -> Result<usize, KeyError> {
        self.add_age(data, source, None)
    }

    /// Like [`Keyring::add_age_identities`], for a passphrase-protected
    /// identity file (an age file encrypted with `age -p`) or SSH key.
    pub fn add_age_identities_with_passphrase(
        &mut self,
        data: &[u8],
        source: &str,
        passphrase: &str,
    ) -> Result<usize, KeyError> {
        self.add_age(
            data,
            source,
            Some(&SecretString::from(passphrase.to_string())),
        )
    }

    fn add_age(
        &mut self,
        data: &[u8],
        source: &str,
        passphrase: Option<&SecretString>,
    ) -> Result<usize, KeyError> {
        match self::age::parse(data, source, passphrase)? {
            self::age::Parsed::Identities(identities) => {
                let n = identities.len();
                self.age.extend(identities);
                Ok(n)
            }
            self::age::Parsed::NeedsPassphrase => Err(KeyError::PassphraseRequired {
                origin: source.to_string(),
            }),
        }
    }

    /// Adds the secret keys of armored (or binary) OpenPGP data.
    pub fn add_pgp_keys(&mut self, data: &[u8], source: &str) -> Result<usize, KeyError> {
        let keys = self::pgp::parse(data, source, None)?;
        let n = keys.len();
        self.pgp.extend(keys);
        Ok(n)
    }

    /// Like [`Keyring::add_pgp_keys`], for keys protected by a passphrase.
    pub fn add_pgp_keys_with_passphrase(
        &mut self,
        data: &[u8],
        source: &str,
        passphrase: &str,
    ) -> Result<usize, KeyError> {
        let keys = self::pgp::parse(data, source, Some(passphrase))?;
        let n = keys.len();
        self.pgp.extend(keys);
        Ok(n)
    }

    /// Builds a keyring from a decryption Secret's data as Flux's
    /// kustomize-controller does: entries named `*.agekey` hold age
    /// identities, `*.asc` armored PGP private keys. Cloud KMS and Vault
    /// entries (`sops.aws-kms`, `sops.azure-kv`, `sops.gcp-kms`,
    /// `sops.vault-token`) are not supported and are recorded in
    /// [`Keyring::ignored_entries`]; other entries are ignored.
    pub fn from_secret_data<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Keyring, KeyError> {
        let mut keyring = Keyring::new();
        for (name, data) in entries {
            if name.ends_with(".agekey") {
                keyring.add_age_identities(data, name)?;
            } else if name.ends_with(".asc") {
                keyring.add_pgp_keys(data, name)?;
            } else if matches!(
                name,
                "sops.aws-kms" | "sops.azure-kv" | "sops.gcp-kms" | "sops.vault-token"
            ) {
                tracing::warn!(
                    entry = name,
                    "sops decryption: cloud KMS and Vault keys are not supported"
                );
                keyring.ignored.push(name.to_string());
            }
        }
        Ok(keyring)
    }

    pub fn is_empty(&self) -> bool {
        self.age.is_empty() && self.pgp.is_empty()
    }

    /// Number of age identities and PGP secret keys held.
    pub fn len(&self) -> (usize, usize) {
        (self.age.len(), self.pgp.len())
    }

    /// Secret entries that name key types ferry cannot use.
    pub fn ignored_entries(&self) -> &[String] {
        &self.ignored
    }

    fn open(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, String> {
        match key {
            MasterKey::Age { enc, .. } => self::age::decrypt_data_key(enc, &self.age),
            MasterKey::Pgp { enc, fingerprint } => {
                // Try the key with the listed fingerprint (or one whose
                // subkey matches) first, then the others.
                let (mut ordered, others): (Vec<&self::pgp::PgpKey>, Vec<&self::pgp::PgpKey>) =
                    self.pgp
                        .iter()
                        .partition(|k| k.fingerprint().eq_ignore_ascii_case(fingerprint));
                ordered.extend(others);
                self::pgp::decrypt_data_key(enc, &ordered)
            }
            MasterKey::Unsupported { kind, .. } => Err(format!("{kind} keys are not supported")),
        }
    }

    /// Recovers the 32-byte data key: one key per group opens that group's
    /// share (age keys are tried before PGP, as sops does), and with several
    /// groups the shares are combined with Shamir's scheme.
    pub(crate) fn data_key(
        &self,
        metadata: &Metadata,
    ) -> Result<Zeroizing<[u8; 32]>, DataKeyError> {
        let mut parts = Vec::new();
        let mut attempts = Vec::new();
        for group in &metadata.key_groups {
            let mut ordered: Vec<&MasterKey> = group.iter().collect();
            ordered.sort_by_key(|k| match k {
                MasterKey::Age { .. } => 0,
                MasterKey::Pgp { .. } => 1,
                MasterKey::Unsupported { .. } => 2,
            });
            for key in ordered {
                match self.open(key) {
                    Ok(part) => {
                        parts.push(part);
                        break;
                    }
                    Err(reason) => attempts.push(format!("{}: {reason}", key.describe())),
                }
            }
        }
        let groups = metadata.key_groups.len();
        let key = if groups > 1 {
            if parts.len() < metadata.shamir_threshold {
                return Err(DataKeyError::NotEnoughGroups {
                    opened: parts.len(),
                    groups,
                    threshold: metadata.shamir_threshold,
                    attempts,
                });
            }
            shamir::combine(&parts).map_err(|e| DataKeyError::Shamir(e.to_string()))?
        } else {
            match parts.pop() {
                Some(part) => part,
                None => return Err(DataKeyError::NoMatchingKey { attempts }),
            }
        };
        if key.len() != 32 {
            return Err(DataKeyError::BadLength(key.len()));
        }
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&key);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &str) -> Vec<u8> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/sops/getsops-sops/age-unit");
        std::fs::read(root.join(path)).expect("fixture")
    }

    fn open_with(keyring: &Keyring, file: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        let enc = String::from_utf8(read(file)).expect("armored");
        self::age::decrypt_data_key(&enc, &keyring.age)
    }

    #[test]
    fn x25519_identity_file_opens_the_data_key() {
        let mut keyring = Keyring::new();
        assert_eq!(
            keyring.add_age_identities(&read("keys.txt"), "keys.txt"),
            Ok(1)
        );
        assert_eq!(
            open_with(&keyring, "datakey.age")
                .expect("opens")
                .as_slice(),
            b"data"
        );
        let mut other = Keyring::new();
        other
            .add_age_identities(&read("keys-other.txt"), "keys-other.txt")
            .expect("loads");
        assert!(open_with(&other, "datakey.age").is_err());
    }

    #[test]
    fn ssh_ed25519_key_opens_the_data_key() {
        let mut keyring = Keyring::new();
        assert_eq!(
            keyring.add_age_identities(&read("id_ed25519"), "id_ed25519"),
            Ok(1)
        );
        assert_eq!(
            open_with(&keyring, "datakey-ssh.age")
                .expect("opens")
                .as_slice(),
            b"data"
        );
    }

    #[test]
    fn passphrase_protected_identity_file() {
        let mut keyring = Keyring::new();
        assert_eq!(
            keyring.add_age_identities(&read("keys-scrypt.age"), "keys-scrypt.age"),
            Err(KeyError::PassphraseRequired {
                origin: "keys-scrypt.age".to_string()
            })
        );
        assert!(matches!(
            keyring.add_age_identities_with_passphrase(
                &read("keys-scrypt.age"),
                "keys-scrypt.age",
                "wrong"
            ),
            Err(KeyError::Invalid { .. })
        ));
        assert_eq!(
            keyring.add_age_identities_with_passphrase(
                &read("keys-scrypt.age"),
                "keys-scrypt.age",
                "passphrase"
            ),
            Ok(1)
        );
        assert_eq!(
            open_with(&keyring, "datakey.age")
                .expect("opens")
                .as_slice(),
            b"data"
        );
    }

    #[test]
    fn post_quantum_identity_files_load() {
        let mut keyring = Keyring::new();
        assert_eq!(
            keyring.add_age_identities(&read("keys-pq.txt"), "keys-pq.txt"),
            Ok(1)
        );
    }

    #[test]
    fn flux_secret_entries_build_the_keyring() {
        let age_key = read("keys.txt");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sops");
        let pgp_key =
            std::fs::read(root.join("fluxcd-kustomize-controller/pgp.asc")).expect("fixture");
        let keyring = Keyring::from_secret_data([
            ("identity.agekey", age_key.as_slice()),
            ("pgp.asc", pgp_key.as_slice()),
            ("sops.vault-token", b"t".as_slice()),
            ("README", b"ignored".as_slice()),
        ])
        .expect("builds");
        assert_eq!(keyring.len(), (1, 1));
        assert_eq!(keyring.ignored_entries(), ["sops.vault-token".to_string()]);
        let err = Keyring::from_secret_data([("bad.agekey", b"AGE-SECRET-KEY-1NOPE".as_slice())])
            .expect_err("invalid");
        assert!(err.to_string().starts_with("bad.agekey:"), "{err}");
    }
}
