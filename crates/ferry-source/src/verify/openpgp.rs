//! PGP signatures (what `git commit -S` with gpg writes), checked with rpgp against the
//! armored public keys of the Secret, primary keys and their subkeys alike.

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;

use super::VerifyError;

#[derive(Clone, Debug)]
pub struct TrustedPgpKey {
    key: SignedPublicKey,
}

pub fn parse_keys(entry: &str, armored: &str) -> Result<Vec<TrustedPgpKey>, VerifyError> {
    let invalid = |cause: String| VerifyError::InvalidKey {
        entry: entry.to_string(),
        cause,
    };
    let (keys, _headers) =
        SignedPublicKey::from_string_many(armored).map_err(|e| invalid(e.to_string()))?;
    let mut out = Vec::new();
    for key in keys {
        let key = key.map_err(|e| invalid(e.to_string()))?;
        out.push(TrustedPgpKey { key });
    }
    if out.is_empty() {
        return Err(invalid("no public key in the armored data".into()));
    }
    Ok(out)
}

/// The fingerprint of the key that made `signature` over `data`, or why none did.
pub fn verify(keys: &[TrustedPgpKey], signature: &str, data: &[u8]) -> Result<String, String> {
    let (sig, _) = DetachedSignature::from_string(signature)
        .map_err(|e| format!("unreadable PGP signature: {e}"))?;
    for trusted in keys {
        let key = &trusted.key;
        if sig.verify(key, data).is_ok() {
            return Ok(format!("{:X}", key.fingerprint()));
        }
        for sub in &key.public_subkeys {
            if sig.verify(sub, data).is_ok() {
                return Ok(format!("{:X}", key.fingerprint()));
            }
        }
    }
    let issuers: Vec<String> = sig
        .signature
        .issuer_key_id()
        .iter()
        .map(|id| hex::encode_upper(id.as_ref()))
        .collect();
    if keys.is_empty() {
        Err("no PGP key (*.asc) is trusted".into())
    } else {
        Err(format!(
            "no trusted PGP key verifies the signature (signed by key id {})",
            if issuers.is_empty() {
                "unknown".to_string()
            } else {
                issuers.join(", ")
            }
        ))
    }
}
