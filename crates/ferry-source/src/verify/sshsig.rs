//! SSH signatures (what `git commit -S` with `gpg.format=ssh` writes: an SSHSIG armored blob,
//! namespace `git`), checked against the OpenSSH public keys of the Secret.

use ssh_key::{HashAlg, PublicKey, SshSig};

use super::VerifyError;

/// git signs commits and tags in this namespace.
const NAMESPACE: &str = "git";

#[derive(Clone, Debug)]
pub struct TrustedSshKey {
    key: PublicKey,
}

/// One key per line; `allowed_signers` lines (principals and options first) are accepted too.
pub fn parse_keys(entry: &str, text: &str) -> Result<Vec<TrustedSshKey>, VerifyError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        // The key starts at the first field that names a key algorithm.
        let start = fields
            .iter()
            .position(|f| f.starts_with("ssh-") || f.starts_with("ecdsa-") || f.starts_with("sk-"))
            .ok_or_else(|| VerifyError::InvalidKey {
                entry: entry.to_string(),
                cause: format!("line {}: no public key", i + 1),
            })?;
        let key = PublicKey::from_openssh(&fields[start..].join(" ")).map_err(|e| {
            VerifyError::InvalidKey {
                entry: entry.to_string(),
                cause: format!("line {}: {e}", i + 1),
            }
        })?;
        out.push(TrustedSshKey { key });
    }
    if out.is_empty() {
        return Err(VerifyError::InvalidKey {
            entry: entry.to_string(),
            cause: "no public key".into(),
        });
    }
    Ok(out)
}

/// The fingerprint of the trusted key that made `signature` over `data`, or why none did.
pub fn verify(keys: &[TrustedSshKey], signature: &str, data: &[u8]) -> Result<String, String> {
    let sig =
        SshSig::from_pem(signature.trim()).map_err(|e| format!("unreadable SSH signature: {e}"))?;
    if sig.namespace() != NAMESPACE {
        return Err(format!(
            "SSH signature namespace is '{}', expected '{NAMESPACE}'",
            sig.namespace()
        ));
    }
    let signer = sig.public_key();
    for trusted in keys {
        if trusted.key.key_data() == signer {
            return trusted
                .key
                .verify(NAMESPACE, data, &sig)
                .map(|()| trusted.key.fingerprint(HashAlg::Sha256).to_string())
                .map_err(|e| format!("invalid signature by trusted key: {e}"));
        }
    }
    let signer_fp = PublicKey::from(signer.clone()).fingerprint(HashAlg::Sha256);
    if keys.is_empty() {
        Err("no SSH key (*.sshpub) is trusted".into())
    } else {
        Err(format!("signed by untrusted SSH key {signer_fp}"))
    }
}
