//! `spec.verify`: commit and tag signatures checked against trusted keys (PGP public keys from
//! the Secret's `*.asc` entries, SSH public keys from `*.sshpub`), in pure Rust. A commit that
//! is unsigned or signed by an untrusted key is never archived.

mod openpgp;
mod sshsig;

use std::collections::BTreeMap;

use git2::{Oid, Repository};

use crate::error::reason;

/// Which objects must carry a trusted signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyMode {
    /// The commit the reference resolves to (Flux's `HEAD`, also `head`).
    Head,
    /// The annotated tag the reference points at.
    Tag,
    TagAndHead,
}

impl VerifyMode {
    /// Flux's spelling: `HEAD`, `head`, `Tag`, `TagAndHEAD`; `HEAD` when unset.
    pub fn parse(mode: Option<&str>) -> Result<Self, VerifyError> {
        match mode.unwrap_or("HEAD") {
            "HEAD" | "head" => Ok(Self::Head),
            "Tag" => Ok(Self::Tag),
            "TagAndHEAD" => Ok(Self::TagAndHead),
            other => Err(VerifyError::InvalidMode {
                mode: other.to_string(),
            }),
        }
    }

    /// Flux's name, for `status.sourceVerificationMode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Head => "HEAD",
            Self::Tag => "Tag",
            Self::TagAndHead => "TagAndHEAD",
        }
    }

    fn head(self) -> bool {
        matches!(self, Self::Head | Self::TagAndHead)
    }

    fn tag(self) -> bool {
        matches!(self, Self::Tag | Self::TagAndHead)
    }
}

/// Trusted keys, read from a Secret's data.
#[derive(Clone, Debug, Default)]
pub struct TrustedKeys {
    pgp: Vec<openpgp::TrustedPgpKey>,
    ssh: Vec<sshsig::TrustedSshKey>,
}

impl TrustedKeys {
    /// Keys from entries named `*.asc` (armored PGP public keys) and `*.sshpub` (OpenSSH public
    /// keys, one per line, as in `authorized_keys` or `allowed_signers`).
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Self, VerifyError> {
        let mut keys = Self::default();
        for (name, value) in data {
            let text = || {
                std::str::from_utf8(value).map_err(|_| VerifyError::InvalidKey {
                    entry: name.clone(),
                    cause: "not valid UTF-8".into(),
                })
            };
            if name.ends_with(".asc") {
                keys.pgp.extend(openpgp::parse_keys(name, text()?)?);
            } else if name.ends_with(".sshpub") {
                keys.ssh.extend(sshsig::parse_keys(name, text()?)?);
            }
        }
        if keys.pgp.is_empty() && keys.ssh.is_empty() {
            return Err(VerifyError::NoKeys);
        }
        Ok(keys)
    }

    fn verify(&self, signature: &str, data: &[u8]) -> Result<String, String> {
        if signature.contains("-----BEGIN SSH SIGNATURE-----") {
            sshsig::verify(&self.ssh, signature, data)
        } else if signature.contains("-----BEGIN PGP SIGNATURE-----") {
            openpgp::verify(&self.pgp, signature, data)
        } else {
            Err("unsupported signature format (expected PGP or SSH)".into())
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("invalid verification mode '{mode}' (expected HEAD, Tag or TagAndHEAD)")]
    InvalidMode { mode: String },
    #[error("verification secret holds no '*.asc' or '*.sshpub' key")]
    NoKeys,
    #[error("verification key '{entry}': {cause}")]
    InvalidKey { entry: String, cause: String },
    #[error("signature verification of commit '{commit}' failed: {cause}")]
    Commit { commit: String, cause: String },
    #[error("signature verification of tag '{tag}' failed: {cause}")]
    Tag { tag: String, cause: String },
    #[error("cannot verify tag signature: '{reference}' is not an annotated tag")]
    NotATag { reference: String },
}

impl VerifyError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Commit { .. } => reason::INVALID_COMMIT_SIGNATURE,
            Self::Tag { .. } | Self::NotATag { .. } => reason::INVALID_TAG_SIGNATURE,
            Self::InvalidMode { .. } | Self::NoKeys | Self::InvalidKey { .. } => {
                reason::VERIFICATION_ERROR
            }
        }
    }

    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::InvalidMode { .. } | Self::NoKeys | Self::InvalidKey { .. }
        )
    }
}

/// What was verified, for the `SourceVerified` condition's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub mode: VerifyMode,
    /// e.g. `commit 'abc…' with key 'SHA256:…'`.
    pub details: Vec<String>,
}

/// Checks the signatures `mode` asks for. `tag` is the annotated tag object, if the reference
/// points at one; `reference` names it for messages.
pub fn verify(
    repo: &Repository,
    keys: &TrustedKeys,
    mode: VerifyMode,
    commit: Oid,
    tag: Option<Oid>,
    reference: &str,
) -> Result<Verified, VerifyError> {
    let mut details = Vec::new();
    if mode.tag() {
        let tag_oid = tag.ok_or_else(|| VerifyError::NotATag {
            reference: reference.to_string(),
        })?;
        let fail = |cause: String| VerifyError::Tag {
            tag: reference.to_string(),
            cause,
        };
        let odb = repo.odb().map_err(|e| fail(e.message().to_string()))?;
        let raw = odb
            .read(tag_oid)
            .map_err(|e| fail(e.message().to_string()))?;
        let (signature, signed) =
            split_tag_signature(raw.data()).ok_or_else(|| fail("the tag is not signed".into()))?;
        let key = keys.verify(signature, signed).map_err(fail)?;
        details.push(format!("tag '{reference}' with key '{key}'"));
    }
    if mode.head() {
        let fail = |cause: String| VerifyError::Commit {
            commit: commit.to_string(),
            cause,
        };
        let (signature, signed) = match repo.extract_signature(&commit, None) {
            Ok(pair) => pair,
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                return Err(fail("the commit is not signed".into()));
            }
            Err(e) => return Err(fail(e.message().to_string())),
        };
        let signature = std::str::from_utf8(&signature)
            .map_err(|_| fail("the signature is not UTF-8".into()))?;
        let key = keys.verify(signature, &signed).map_err(fail)?;
        details.push(format!("commit '{commit}' with key '{key}'"));
    }
    Ok(Verified { mode, details })
}

/// A signed tag object ends with its signature; the signed payload is everything before it.
fn split_tag_signature(raw: &[u8]) -> Option<(&str, &[u8])> {
    let text = std::str::from_utf8(raw).ok()?;
    let start = [
        "-----BEGIN PGP SIGNATURE-----",
        "-----BEGIN SSH SIGNATURE-----",
    ]
    .iter()
    .filter_map(|marker| text.find(marker))
    .min()?;
    Some((&text[start..], &raw[..start]))
}
