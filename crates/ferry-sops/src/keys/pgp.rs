//! OpenPGP secret keys (armored, as Flux's `*.asc` Secret entries hold them)
//! and opening the PGP messages sops stores for each key.

use std::io::Read;

use pgp::composed::{Deserializable, Message, SignedSecretKey};
use pgp::types::{KeyDetails, Password};
use zeroize::Zeroizing;

use super::KeyError;

/// Data keys and Shamir shares are tiny; anything larger is not sops'.
const MAX_DATA_KEY_SIZE: u64 = 4096;

pub(crate) struct PgpKey {
    key: SignedSecretKey,
    passphrase: Option<Zeroizing<String>>,
}

impl PgpKey {
    /// The primary key's fingerprint, uppercase hex (as sops writes `fp`).
    pub fn fingerprint(&self) -> String {
        hex::encode_upper(self.key.primary_key.fingerprint().as_bytes())
    }
}

/// Reads every secret key from armored (or binary) OpenPGP data. Public keys
/// in the same data are skipped.
pub(crate) fn parse(
    data: &[u8],
    source: &str,
    passphrase: Option<&str>,
) -> Result<Vec<PgpKey>, KeyError> {
    let invalid = |reason: String| KeyError::Invalid {
        origin: source.to_string(),
        reason,
    };
    let (keys, _) = SignedSecretKey::from_reader_many(data)
        .map_err(|e| invalid(format!("not an OpenPGP secret key: {e}")))?;
    let mut out = Vec::new();
    for key in keys {
        match key {
            Ok(key) => out.push(PgpKey {
                key,
                passphrase: passphrase.map(|p| Zeroizing::new(p.to_string())),
            }),
            // Public keys (and other blocks) in the same file are not usable.
            Err(e) if out.is_empty() => {
                return Err(invalid(format!("not an OpenPGP secret key: {e}")));
            }
            Err(_) => {}
        }
    }
    if out.is_empty() {
        return Err(invalid("no OpenPGP secret key found".to_string()));
    }
    Ok(out)
}

/// Opens the armored PGP message sops stored for one key fingerprint.
pub(crate) fn decrypt_data_key(enc: &str, keys: &[&PgpKey]) -> Result<Zeroizing<Vec<u8>>, String> {
    if keys.is_empty() {
        return Err("no PGP secret key in the keyring".to_string());
    }
    let mut last_error = String::new();
    for key in keys {
        let (message, _) =
            Message::from_armor(enc.as_bytes()).map_err(|e| format!("invalid PGP message: {e}"))?;
        let password = match &key.passphrase {
            Some(p) => Password::from(p.as_str()),
            None => Password::empty(),
        };
        let mut message = match message.decrypt(&password, &key.key) {
            Ok(m) => m,
            Err(e) => {
                last_error = e.to_string();
                continue;
            }
        };
        if message.is_compressed() {
            message = match message.decompress() {
                Ok(m) => m,
                Err(e) => {
                    last_error = e.to_string();
                    continue;
                }
            };
        }
        let mut out = Zeroizing::new(Vec::new());
        match message.take(MAX_DATA_KEY_SIZE).read_to_end(&mut out) {
            Ok(_) => return Ok(out),
            Err(e) => last_error = e.to_string(),
        }
    }
    Err(last_error)
}
