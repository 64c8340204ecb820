//! SOPS decryption (and age encryption) in Rust, byte-exact with sops.
//!
//! Files encrypted by [sops](https://github.com/getsops/sops) keep their keys
//! in clear and replace each value by `ENC[AES256_GCM,...]`. This crate reads
//! them in every sops format (YAML, including several documents, JSON,
//! dotenv, INI and binary), recovers the data key from age or PGP master keys
//! (with Shamir key groups), decrypts the values with the key path as
//! additional data, checks the MAC, and writes the plaintext exactly as
//! `sops decrypt` does.
//!
//! ```no_run
//! use ferry_sops::{Format, Keyring, decrypt};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut keyring = Keyring::new();
//! keyring.add_age_identities(&std::fs::read("keys.txt")?, "keys.txt")?;
//! let encrypted = std::fs::read("secret.enc.yaml")?;
//! let plain = decrypt(&encrypted, Format::Yaml, &keyring)?;
//! # Ok(()) }
//! ```
//!
//! Decrypted data is returned in [`Zeroizing`] buffers and never appears in
//! errors or logs: errors name the file (when given) and the key path.

mod cipher;
mod encrypt;
mod formats;
mod gofmt;
mod keys;
mod metadata;
mod timestamp;
mod tree;
mod walk;
pub mod yaml;

use std::fmt;

pub use zeroize::Zeroizing;

pub use crate::cipher::CipherError;
pub use crate::encrypt::{EncryptOptions, encrypt};
pub use crate::formats::{Format, FormatError};
pub use crate::keys::{DataKeyError, KeyError, Keyring};
pub use crate::metadata::MetadataError;
pub use crate::walk::WalkError;

/// Documents nested deeper than this are refused (real sops files are a few
/// levels deep; the bound keeps recursion far from the stack's limit).
pub const MAX_NESTING: usize = 256;

/// Inputs larger than this are refused (sops files are small; this bounds
/// memory for hostile input).
pub const MAX_INPUT_SIZE: usize = 64 << 20;

/// What went wrong, without the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot read it as {format}: {source}")]
    Parse {
        format: Format,
        #[source]
        source: FormatError,
    },
    #[error("it is not encrypted with sops ({0})")]
    Metadata(#[from] MetadataError),
    #[error("cannot recover the data key: {0}")]
    DataKey(#[from] DataKeyError),
    #[error("{0}")]
    Walk(#[from] WalkError),
    #[error(
        "the file has no MAC, so its integrity cannot be checked (refused; allow it explicitly to decrypt anyway)"
    )]
    MacMissing,
    #[error("MAC mismatch: the file was changed after it was encrypted (refused)")]
    MacMismatch,
    #[error("cannot decrypt the MAC: {0}")]
    MacUnreadable(CipherError),
    #[error("cannot write the plaintext as {format}: {source}")]
    Emit {
        format: Format,
        #[source]
        source: FormatError,
    },
    #[error("the file is already encrypted")]
    AlreadyEncrypted,
    #[error("no age recipient given")]
    NoRecipients,
    #[error("invalid regular expression {0:?}")]
    InvalidRule(String),
    #[error("{0}")]
    Crypto(CipherError),
    #[error("cannot encrypt the data key: {0}")]
    Recipient(KeyError),
    #[error("the input is larger than {} MiB", MAX_INPUT_SIZE >> 20)]
    TooLarge,
}

/// A decryption or encryption failure, naming the file when the caller gave
/// its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub file: Option<String>,
    pub kind: ErrorKind,
}

impl Error {
    fn new(file: Option<&str>, kind: impl Into<ErrorKind>) -> Error {
        Error {
            file: file.map(str::to_string),
            kind: kind.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "sops file {file}: {}", self.kind),
            None => write!(f, "sops document: {}", self.kind),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

/// Options for [`decrypt_with`].
#[derive(Debug, Clone, Default)]
pub struct DecryptOptions<'a> {
    /// Named in errors (a path or an object key).
    pub file_name: Option<&'a str>,
    /// Write the plaintext in this format instead of the input's.
    pub output_format: Option<Format>,
    /// Decrypt even when the MAC is missing or does not match (sops'
    /// `--ignore-mac`). Off by default: tampered files are refused.
    pub ignore_mac: bool,
}

/// Decrypts a sops document and returns the plaintext exactly as
/// `sops decrypt` prints it. Refuses files whose MAC is missing or wrong.
pub fn decrypt(
    input: &[u8],
    format: Format,
    keyring: &Keyring,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    decrypt_with(input, format, keyring, &DecryptOptions::default())
}

/// [`decrypt`] with options (file name for errors, output format, MAC policy).
pub fn decrypt_with(
    input: &[u8],
    format: Format,
    keyring: &Keyring,
    options: &DecryptOptions<'_>,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let file = options.file_name;
    let branches = decrypt_tree(input, format, keyring, options)?;
    let output_format = options.output_format.unwrap_or(format);
    formats::emit(output_format, &branches.0)
        .map(Zeroizing::new)
        .map_err(|source| {
            Error::new(
                file,
                ErrorKind::Emit {
                    format: output_format,
                    source,
                },
            )
        })
}

fn decrypt_tree(
    input: &[u8],
    format: Format,
    keyring: &Keyring,
    options: &DecryptOptions<'_>,
) -> Result<tree::Branches, Error> {
    let file = options.file_name;
    if input.len() > MAX_INPUT_SIZE {
        return Err(Error::new(file, ErrorKind::TooLarge));
    }
    let loaded = formats::load_encrypted(format, input)
        .map_err(|source| Error::new(file, ErrorKind::Parse { format, source }))?;
    let (branches, metadata) = formats::split_metadata(format, loaded);
    let mut branches = tree::Branches(branches);
    let metadata = metadata.ok_or_else(|| Error::new(file, MetadataError::NotFound))?;
    let metadata = metadata::Metadata::from_branch(&metadata).map_err(|e| Error::new(file, e))?;
    let data_key = keyring
        .data_key(&metadata)
        .map_err(|e| Error::new(file, e))?;
    let computed_mac = walk::decrypt(&mut branches.0, &metadata.rules, &data_key)
        .map_err(|e| Error::new(file, e))?;
    let stored_mac = match cipher::decrypt(&metadata.mac, &data_key, &metadata.last_modified) {
        Ok(tree::Value::Str(s)) => s,
        Ok(_) => String::new(),
        Err(e) => {
            if options.ignore_mac {
                String::new()
            } else {
                return Err(Error::new(file, ErrorKind::MacUnreadable(e)));
            }
        }
    };
    if !options.ignore_mac {
        if stored_mac.is_empty() {
            return Err(Error::new(file, ErrorKind::MacMissing));
        }
        if stored_mac != computed_mac {
            return Err(Error::new(file, ErrorKind::MacMismatch));
        }
    }
    tracing::debug!(file = file.unwrap_or("<document>"), %format, "sops: decrypted");
    Ok(branches)
}

/// Whether a document carries sops metadata (a top-level `sops` key, `sops_`
/// keys in dotenv, a `[sops]` section in INI). Cheap enough to run on every
/// file a reconcile reads; a document that does not parse is not encrypted.
pub fn is_encrypted(input: &[u8], format: Format) -> bool {
    if input.len() > MAX_INPUT_SIZE {
        return false;
    }
    // Every sops file spells the word; most plain files do not.
    if !input.windows(4).any(|w| w == b"sops") {
        return false;
    }
    match formats::load_encrypted(format, input) {
        Ok(branches) => formats::split_metadata(format, branches).1.is_some(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    /// The controller shares one keyring across reconciles and threads.
    #[test]
    fn keyring_and_errors_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Keyring>();
        assert_send_sync::<super::Error>();
    }
}
