//! The tree walk of sops' `Tree.Decrypt` and `Tree.Encrypt`: which leaves
//! are encrypted, their additional data (the key path), and the MAC over
//! the plaintext of the leaves in tree order.

use sha2::{Digest, Sha512};

use crate::cipher::{self, CipherError};
use crate::metadata::Rules;
use crate::tree::{Branch, Comment, Value};

/// sha256("sops"): the MAC's first block when only encrypted values count,
/// so the two MAC policies can never agree on a document.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// Nesting bound for the walk (trees come from bounded parsers already).
const MAX_DEPTH: usize = crate::MAX_NESTING;

/// A leaf that could not be processed. `path` is the key path (never the
/// value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    #[error("cannot decrypt the value at {path}: {source}")]
    Decrypt {
        path: String,
        #[source]
        source: CipherError,
    },
    #[error("cannot encrypt the value at {path}: {source}")]
    Encrypt {
        path: String,
        #[source]
        source: CipherError,
    },
    #[error("the value at {path} should be encrypted but is not a string")]
    NotEncrypted { path: String },
    #[error(
        "the tree contains a key that is not a string under {path} (only string keys are supported)"
    )]
    NonStringKey { path: String },
    #[error("the value at {path} has a type sops cannot walk (an integer beyond 64 bits)")]
    UnsupportedValue { path: String },
    #[error("the document is nested too deeply")]
    TooDeep,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Decrypt,
    Encrypt,
}

struct Walker<'a> {
    rules: &'a Rules,
    key: &'a [u8; 32],
    mode: Mode,
    hasher: Sha512,
}

fn display_path(path: &[String]) -> String {
    if path.is_empty() {
        "the top level".to_string()
    } else {
        format!("{:?}", path.join(":"))
    }
}

impl Walker<'_> {
    fn leaf(
        &mut self,
        value: Value,
        path: &[String],
        comments: &[Vec<String>],
    ) -> Result<Value, WalkError> {
        let is_comment = matches!(value, Value::Comment(_));
        let encrypted = self.rules.should_encrypt(path, comments, is_comment);
        let additional_data = format!("{}:", path.join(":"));
        let result = match self.mode {
            Mode::Decrypt => {
                let v = if !encrypted {
                    value
                } else {
                    match value {
                        Value::Comment(c) => {
                            match cipher::decrypt(&c.text, self.key, &additional_data) {
                                Ok(v) => v,
                                Err(_) => {
                                    // sops assumes the comment was never encrypted
                                    // (files from before comments were encrypted).
                                    tracing::warn!(
                                        path = %display_path(path),
                                        "sops: found a comment that is not encrypted; keeping it as it is"
                                    );
                                    Value::Comment(c)
                                }
                            }
                        }
                        Value::Str(s) => {
                            cipher::decrypt(&s, self.key, &additional_data).map_err(|source| {
                                WalkError::Decrypt {
                                    path: display_path(path),
                                    source,
                                }
                            })?
                        }
                        _ => {
                            return Err(WalkError::NotEncrypted {
                                path: display_path(path),
                            });
                        }
                    }
                };
                self.hash(&v, encrypted);
                v
            }
            Mode::Encrypt => {
                self.hash(&value, encrypted);
                if encrypted {
                    let text =
                        cipher::encrypt(&value, self.key, &additional_data).map_err(|source| {
                            WalkError::Encrypt {
                                path: display_path(path),
                                source,
                            }
                        })?;
                    Value::Str(text)
                } else {
                    value
                }
            }
        };
        Ok(result)
    }

    fn hash(&mut self, value: &Value, encrypted: bool) {
        if (!self.rules.mac_only_encrypted || encrypted)
            && !matches!(value, Value::Comment(_))
            && let Some(bytes) = cipher::value_bytes(value)
        {
            self.hasher.update(&bytes);
        }
    }

    fn value(
        &mut self,
        value: Value,
        path: &mut Vec<String>,
        comments: &mut Vec<Vec<String>>,
        depth: usize,
    ) -> Result<Value, WalkError> {
        if depth > MAX_DEPTH {
            return Err(WalkError::TooDeep);
        }
        match value {
            Value::Map(branch) => Ok(Value::Map(self.branch(
                branch,
                path,
                comments,
                depth + 1,
            )?)),
            Value::List(items) => Ok(Value::List(self.list(items, path, comments, depth + 1)?)),
            Value::Null => Ok(Value::Null),
            Value::Uint(_) => Err(WalkError::UnsupportedValue {
                path: display_path(path),
            }),
            // A decrypted bytes value is walked as a string, as in sops.
            Value::Bytes(b) => match String::from_utf8(b) {
                Ok(s) => self.leaf(Value::Str(s), path, comments),
                Err(e) => self.leaf(Value::RawStr(e.into_bytes()), path, comments),
            },
            leaf => self.leaf(leaf, path, comments),
        }
    }

    fn list(
        &mut self,
        items: Vec<Value>,
        path: &mut Vec<String>,
        comments: &mut Vec<Vec<String>>,
        depth: usize,
    ) -> Result<Vec<Value>, WalkError> {
        comments.push(Vec::new());
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let is_comment = if let Value::Comment(c) = &item {
                if let Some(last) = comments.last_mut() {
                    last.push(c.text.clone());
                }
                true
            } else {
                false
            };
            // List items share their parent's path (no index in the AAD).
            out.push(self.value(item, path, comments, depth)?);
            if !is_comment && let Some(last) = comments.last_mut() {
                last.clear();
            }
        }
        comments.pop();
        Ok(out)
    }

    fn branch(
        &mut self,
        branch: Branch,
        path: &mut Vec<String>,
        comments: &mut Vec<Vec<String>>,
        depth: usize,
    ) -> Result<Branch, WalkError> {
        comments.push(Vec::new());
        let mut out = Vec::with_capacity(branch.0.len());
        for mut item in branch.0 {
            if let Value::Comment(c) = &item.key {
                if let Some(last) = comments.last_mut() {
                    last.push(c.text.clone());
                }
                let key = std::mem::replace(&mut item.key, Value::Null);
                item.key = match self.leaf(key, path, comments)? {
                    Value::Comment(c) => Value::Comment(c),
                    Value::Str(s) => Value::Comment(Comment {
                        text: s,
                        inline: false,
                    }),
                    other => other,
                };
                out.push(item);
                continue;
            }
            let value_is_comment = if let Value::Comment(c) = &item.value {
                if let Some(last) = comments.last_mut() {
                    last.push(c.text.clone());
                }
                true
            } else {
                false
            };
            let Value::Str(key) = &item.key else {
                return Err(WalkError::NonStringKey {
                    path: display_path(path),
                });
            };
            path.push(key.clone());
            let value = std::mem::replace(&mut item.value, Value::Null);
            let walked = self.value(value, path, comments, depth);
            path.pop();
            item.value = walked?;
            out.push(item);
            if !value_is_comment && let Some(last) = comments.last_mut() {
                last.clear();
            }
        }
        comments.pop();
        Ok(Branch(out))
    }
}

fn walk(
    branches: &mut [Branch],
    rules: &Rules,
    key: &[u8; 32],
    mode: Mode,
) -> Result<String, WalkError> {
    let mut walker = Walker {
        rules,
        key,
        mode,
        hasher: Sha512::new(),
    };
    if rules.mac_only_encrypted {
        walker.hasher.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    for branch in branches.iter_mut() {
        let taken = std::mem::take(branch);
        *branch = walker.branch(taken, &mut Vec::new(), &mut Vec::new(), 0)?;
    }
    Ok(hex::encode_upper(walker.hasher.finalize()))
}

/// Decrypts every encrypted leaf in place and returns the MAC computed over
/// the plaintext (uppercase hex of SHA-512, as sops writes it).
pub(crate) fn decrypt(
    branches: &mut [Branch],
    rules: &Rules,
    key: &[u8; 32],
) -> Result<String, WalkError> {
    walk(branches, rules, key, Mode::Decrypt)
}

/// Encrypts the leaves the rules select, in place, and returns the MAC.
pub(crate) fn encrypt(
    branches: &mut [Branch],
    rules: &Rules,
    key: &[u8; 32],
) -> Result<String, WalkError> {
    walk(branches, rules, key, Mode::Encrypt)
}
