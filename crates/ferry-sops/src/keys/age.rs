//! age identities (X25519 keys, SSH keys, passphrase-protected identity
//! files) and opening the age-encrypted data keys sops stores.

use std::io::{BufReader, Read};
use std::str::FromStr;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::KeyError;

/// Data keys and Shamir shares are tiny; anything larger is not sops'.
const MAX_DATA_KEY_SIZE: u64 = 4096;
/// Identity files are small text files.
const MAX_IDENTITY_FILE_SIZE: u64 = 1 << 20;

pub(crate) type AgeIdentity = Box<dyn age::Identity + Send + Sync>;

/// How one identity source was read.
pub(crate) enum Parsed {
    Identities(Vec<AgeIdentity>),
    /// The source is an age file encrypted to a passphrase: an identity
    /// file that needs its passphrase.
    NeedsPassphrase,
}

fn is_age_ciphertext(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&data[..data.len().min(64)]);
    let trimmed = text.trim_start();
    trimmed.starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
        || trimmed.starts_with("age-encryption.org/")
}

fn is_ssh_key(text: &str) -> bool {
    let trimmed = text.trim_start();
    trimmed.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")
        || trimmed.starts_with("-----BEGIN RSA PRIVATE KEY-----")
}

/// Parses the lines of an age identity file (`# comments`, blank lines and
/// `AGE-SECRET-KEY-1…` entries).
fn identity_lines(text: &str, source: &str) -> Result<Vec<AgeIdentity>, KeyError> {
    let mut identities: Vec<AgeIdentity> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("AGE-SECRET-KEY-PQ-1") {
            match super::pq::Identity::parse(line) {
                Some(identity) => identities.push(Box::new(identity)),
                None => {
                    return Err(KeyError::Invalid {
                        origin: source.to_string(),
                        reason: format!("line {} is not a post-quantum age identity", number + 1),
                    });
                }
            }
            continue;
        }
        if line.starts_with("AGE-PLUGIN-") {
            return Err(KeyError::Unsupported {
                origin: source.to_string(),
                what: "age plugin identities",
            });
        }
        match age::x25519::Identity::from_str(line) {
            Ok(identity) => identities.push(Box::new(identity)),
            Err(_) => {
                return Err(KeyError::Invalid {
                    origin: source.to_string(),
                    reason: format!("line {} is not an age identity", number + 1),
                });
            }
        }
    }
    if identities.is_empty() {
        return Err(KeyError::Invalid {
            origin: source.to_string(),
            reason: "no age identity found".to_string(),
        });
    }
    Ok(identities)
}

fn ssh_identity(
    text: &str,
    source: &str,
    passphrase: Option<&SecretString>,
) -> Result<AgeIdentity, KeyError> {
    let invalid = |reason: &str| KeyError::Invalid {
        origin: source.to_string(),
        reason: reason.to_string(),
    };
    let identity = age::ssh::Identity::from_buffer(text.as_bytes(), Some(source.to_string()))
        .map_err(|_| invalid("not a supported SSH private key"))?;
    match identity {
        age::ssh::Identity::Unencrypted(_) => Ok(Box::new(identity)),
        age::ssh::Identity::Encrypted(key) => {
            let Some(passphrase) = passphrase else {
                return Err(KeyError::PassphraseRequired {
                    origin: source.to_string(),
                });
            };
            let key = key
                .decrypt(passphrase.clone())
                .map_err(|_| invalid("wrong passphrase for the SSH key"))?;
            Ok(Box::new(age::ssh::Identity::Unencrypted(key)))
        }
        age::ssh::Identity::Unsupported(_) => Err(KeyError::Unsupported {
            origin: source.to_string(),
            what: "this SSH key type (age supports ssh-ed25519 and ssh-rsa)",
        }),
    }
}

/// Decrypts a passphrase-protected (scrypt) identity file.
fn decrypt_identity_file(
    data: &[u8],
    source: &str,
    passphrase: &SecretString,
) -> Result<Zeroizing<String>, KeyError> {
    let invalid = |reason: &str| KeyError::Invalid {
        origin: source.to_string(),
        reason: reason.to_string(),
    };
    let reader = age::armor::ArmoredReader::new(data);
    let decryptor = age::Decryptor::new(reader).map_err(|_| invalid("not an age file"))?;
    if !decryptor.is_scrypt() {
        return Err(invalid("the age file is not encrypted to a passphrase"));
    }
    let identity = age::scrypt::Identity::new(passphrase.clone());
    let mut plain = Zeroizing::new(Vec::new());
    decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|_| invalid("wrong passphrase for the identity file"))?
        .take(MAX_IDENTITY_FILE_SIZE)
        .read_to_end(&mut plain)
        .map_err(|_| invalid("the identity file could not be decrypted"))?;
    let text = String::from_utf8(std::mem::take(&mut *plain))
        .map_err(|_| invalid("the identity file is not text"))?;
    Ok(Zeroizing::new(text))
}

/// Reads age identities from `data`: an identity file, an OpenSSH private
/// key, or a passphrase-protected identity file (opened with `passphrase`).
pub(crate) fn parse(
    data: &[u8],
    source: &str,
    passphrase: Option<&SecretString>,
) -> Result<Parsed, KeyError> {
    if is_age_ciphertext(data) {
        let Some(passphrase) = passphrase else {
            return Ok(Parsed::NeedsPassphrase);
        };
        let text = decrypt_identity_file(data, source, passphrase)?;
        return identity_lines(&text, source).map(Parsed::Identities);
    }
    let text = std::str::from_utf8(data).map_err(|_| KeyError::Invalid {
        origin: source.to_string(),
        reason: "not UTF-8 text".to_string(),
    })?;
    if is_ssh_key(text) {
        return ssh_identity(text, source, passphrase).map(|i| Parsed::Identities(vec![i]));
    }
    identity_lines(text, source).map(Parsed::Identities)
}

/// Opens the armored age file sops stored for one recipient.
pub(crate) fn decrypt_data_key(
    enc: &str,
    identities: &[AgeIdentity],
) -> Result<Zeroizing<Vec<u8>>, String> {
    if identities.is_empty() {
        return Err("no age identity in the keyring".to_string());
    }
    let reader = age::armor::ArmoredReader::new(BufReader::new(enc.as_bytes()));
    let decryptor = age::Decryptor::new(reader).map_err(|e| format!("invalid age data: {e}"))?;
    let mut out = Zeroizing::new(Vec::new());
    decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| format!("{e}"))?
        .take(MAX_DATA_KEY_SIZE)
        .read_to_end(&mut out)
        .map_err(|e| format!("{e}"))?;
    Ok(out)
}

/// Encrypts a data key to age recipients, armored, as sops stores it.
pub(crate) fn encrypt_data_key(data_key: &[u8], recipient: &str) -> Result<String, KeyError> {
    let invalid = |reason: &str| KeyError::Invalid {
        origin: recipient.to_string(),
        reason: reason.to_string(),
    };
    let parsed: Box<dyn age::Recipient + Send> = if recipient.starts_with("age1") {
        Box::new(
            age::x25519::Recipient::from_str(recipient)
                .map_err(|_| invalid("not an age recipient"))?,
        )
    } else if recipient.starts_with("ssh-") {
        Box::new(
            age::ssh::Recipient::from_str(recipient)
                .map_err(|_| invalid("not a supported SSH public key"))?,
        )
    } else {
        return Err(invalid("not an age or SSH recipient"));
    };
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(parsed.as_ref() as &dyn age::Recipient))
            .map_err(|_| invalid("cannot encrypt to this recipient"))?;
    let mut out = Vec::new();
    let armored = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(|_| invalid("armor failed"))?;
    let mut writer = encryptor
        .wrap_output(armored)
        .map_err(|_| invalid("encryption failed"))?;
    std::io::Write::write_all(&mut writer, data_key).map_err(|_| invalid("encryption failed"))?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(|_| invalid("encryption failed"))?;
    // sops stores the armored text followed by a line break.
    let mut text = String::from_utf8(out).map_err(|_| invalid("armor is not text"))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}
