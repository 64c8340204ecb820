//! The value cipher: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` strings,
//! AES-256-GCM with sops' 32-byte nonce and the key path as additional data.

use std::sync::LazyLock;

use aes_gcm::aead::consts::{U12, U16, U32};
use aes_gcm::aead::generic_array::ArrayLength;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use regex::Regex;

use crate::gofmt::{format_float_f, parse_bool, parse_float, parse_int_decimal};
use crate::timestamp::Timestamp;
use crate::tree::{Comment, Value};

/// sops' pattern (greedy groups, anchored at the start only).
static ENC_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")
        .expect("constant pattern is valid")
});

/// The nonce length sops uses for new values.
const NONCE_SIZE: usize = 32;
const TAG_SIZE: usize = 16;

/// Why a value could not be opened. Never carries plaintext or ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("the value is not a sops-encrypted value (ENC[...])")]
    Format,
    #[error("the {0} field of the encrypted value is not valid base64")]
    Base64(&'static str),
    #[error("unsupported nonce length {0} (expected 32)")]
    NonceLength(usize),
    #[error("authentication failed (wrong data key, or the value or its key path was changed)")]
    Authentication,
    #[error("unknown value type {0:?}")]
    UnknownType(String),
    #[error("the decrypted value is not a valid {0}")]
    Type(&'static str),
    #[error("the value cannot be encrypted: {0}")]
    Unsupported(&'static str),
    #[error("could not generate random bytes")]
    Random,
}

struct Parsed {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    datatype: String,
}

fn parse(text: &str) -> Result<Parsed, CipherError> {
    let caps = ENC_PATTERN.captures(text).ok_or(CipherError::Format)?;
    let field = |i: usize, name: &'static str| {
        // Go's decoder skips line breaks inside base64.
        let raw: String = caps[i]
            .chars()
            .filter(|c| *c != '\n' && *c != '\r')
            .collect();
        STANDARD.decode(raw).map_err(|_| CipherError::Base64(name))
    };
    Ok(Parsed {
        data: field(1, "data")?,
        iv: field(2, "iv")?,
        tag: field(3, "tag")?,
        datatype: caps[4].to_string(),
    })
}

fn open<N: ArrayLength<u8>>(
    key: &[u8; 32],
    iv: &[u8],
    sealed: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, CipherError> {
    let cipher = AesGcm::<Aes256, N>::new(key.into());
    cipher
        .decrypt(Nonce::<N>::from_slice(iv), Payload { msg: sealed, aad })
        .map_err(|_| CipherError::Authentication)
}

/// Decrypts one value. The empty string stays empty (sops never encrypts
/// it). `additional_data` is the key path joined with `:` plus a final `:`.
pub(crate) fn decrypt(
    text: &str,
    key: &[u8; 32],
    additional_data: &str,
) -> Result<Value, CipherError> {
    if text.is_empty() {
        return Ok(Value::Str(String::new()));
    }
    let parsed = parse(text)?;
    // Go's GCM takes the last 16 bytes of data+tag as the tag.
    let mut sealed = parsed.data;
    sealed.extend_from_slice(&parsed.tag);
    if sealed.len() < TAG_SIZE {
        return Err(CipherError::Authentication);
    }
    let aad = additional_data.as_bytes();
    let plain = match parsed.iv.len() {
        32 => open::<U32>(key, &parsed.iv, &sealed, aad)?,
        16 => open::<U16>(key, &parsed.iv, &sealed, aad)?,
        12 => open::<U12>(key, &parsed.iv, &sealed, aad)?,
        n => return Err(CipherError::NonceLength(n)),
    };
    typed(plain, &parsed.datatype)
}

fn typed(plain: Vec<u8>, datatype: &str) -> Result<Value, CipherError> {
    let text = || std::str::from_utf8(&plain).ok();
    Ok(match datatype {
        "str" => match String::from_utf8(plain) {
            Ok(s) => Value::Str(s),
            Err(e) => Value::RawStr(e.into_bytes()),
        },
        "int" | "int64" => Value::Int(
            text()
                .and_then(parse_int_decimal)
                .ok_or(CipherError::Type("integer"))?,
        ),
        "float" => Value::Float(
            text()
                .and_then(parse_float)
                .ok_or(CipherError::Type("float"))?,
        ),
        "bool" => Value::Bool(
            text()
                .and_then(parse_bool)
                .ok_or(CipherError::Type("boolean"))?,
        ),
        "bytes" => Value::Bytes(plain),
        "time" => Value::Time(
            text()
                .and_then(Timestamp::parse_rfc3339)
                .ok_or(CipherError::Type("timestamp"))?,
        ),
        "comment" => Value::Comment(Comment {
            text: String::from_utf8_lossy(&plain).into_owned(),
            inline: false,
        }),
        other => return Err(CipherError::UnknownType(other.to_string())),
    })
}

/// Fills `buf` from the operating system's random source.
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<(), CipherError> {
    use aes_gcm::aead::OsRng;
    use aes_gcm::aead::rand_core::RngCore as _;
    OsRng.try_fill_bytes(buf).map_err(|_| CipherError::Random)
}

/// The bytes sops hashes into the MAC and encrypts for a value (`ToBytes`).
pub(crate) fn value_bytes(value: &Value) -> Option<Vec<u8>> {
    Some(match value {
        Value::Str(s) => s.as_bytes().to_vec(),
        Value::RawStr(b) | Value::Bytes(b) => b.clone(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Float(f) => format_float_f(*f).into_bytes(),
        Value::Bool(true) => b"True".to_vec(),
        Value::Bool(false) => b"False".to_vec(),
        Value::Time(t) => t.format_rfc3339_nano().into_bytes(),
        Value::Comment(c) => c.text.as_bytes().to_vec(),
        Value::Map(_) | Value::List(_) | Value::Null | Value::Uint(_) => return None,
    })
}

/// Encrypts one value with a fresh random nonce. Empty strings and empty
/// comments are returned as the empty string (sops leaves them clear).
pub(crate) fn encrypt(
    value: &Value,
    key: &[u8; 32],
    additional_data: &str,
) -> Result<String, CipherError> {
    let datatype = match value {
        Value::Str(s) if s.is_empty() => return Ok(String::new()),
        Value::Comment(c) if c.text.is_empty() => return Ok(String::new()),
        Value::Str(_) | Value::RawStr(_) => "str",
        Value::Bytes(_) => "bytes",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Bool(_) => "bool",
        Value::Time(_) => "time",
        Value::Comment(_) => "comment",
        Value::Map(_) | Value::List(_) | Value::Null => {
            return Err(CipherError::Unsupported("not a scalar"));
        }
        Value::Uint(_) => return Err(CipherError::Unsupported("integer out of range")),
    };
    let plain = value_bytes(value).ok_or(CipherError::Unsupported("not a scalar"))?;
    let mut iv = [0u8; NONCE_SIZE];
    random_bytes(&mut iv)?;
    let cipher = AesGcm::<Aes256, U32>::new(key.into());
    let sealed = cipher
        .encrypt(
            Nonce::<U32>::from_slice(&iv),
            Payload {
                msg: &plain,
                aad: additional_data.as_bytes(),
            },
        )
        .map_err(|_| CipherError::Unsupported("value too large"))?;
    let (data, tag) = sealed.split_at(sealed.len() - TAG_SIZE);
    Ok(format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
        STANDARD.encode(data),
        STANDARD.encode(iv),
        STANDARD.encode(tag),
        datatype
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_type_and_checks_additional_data() {
        let key = [7u8; 32];
        // Every type sops writes, bytes included (its Go []byte values).
        for (value, datatype) in [
            (Value::Str("hello".into()), "str"),
            (Value::Int(-42), "int"),
            (Value::Float(1.5), "float"),
            (Value::Bool(true), "bool"),
            (Value::Bytes(vec![0, 159, 146, 150, 255]), "bytes"),
            (
                Value::Comment(Comment {
                    text: " note".into(),
                    inline: false,
                }),
                "comment",
            ),
        ] {
            let enc = encrypt(&value, &key, "a:b:").expect("encrypts");
            assert!(ENC_PATTERN.is_match(&enc));
            assert!(enc.ends_with(&format!(",type:{datatype}]")), "{enc}");
            assert_eq!(decrypt(&enc, &key, "a:b:").expect("decrypts"), value);
            assert_eq!(
                decrypt(&enc, &key, "a:c:"),
                Err(CipherError::Authentication)
            );
        }
        assert_eq!(
            encrypt(&Value::Str(String::new()), &key, "x:").as_deref(),
            Ok("")
        );
        assert_eq!(decrypt("", &key, "x:"), Ok(Value::Str(String::new())));
        assert_eq!(decrypt("plain", &key, "x:"), Err(CipherError::Format));
    }

    /// sops' own cipher test vector (tests/data/sops/getsops-sops/aes-gcm-vector.json):
    /// the key is 32 ASCII 'f', the value "foo" at path `bar`.
    #[test]
    fn sops_published_vector_opens_only_with_its_additional_data() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/sops/getsops-sops/aes-gcm-vector.json");
        let vector: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("JSON");
        let cases = vector["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 2);
        for case in cases {
            let key_hex = case["key_hex"].as_str().expect("key");
            let key: [u8; 32] = hex::decode(key_hex)
                .expect("hex")
                .try_into()
                .expect("32 bytes");
            let enc = case["enc"].as_str().expect("enc");
            let aad = case["aad"].as_str().expect("aad");
            let got = decrypt(enc, &key, aad);
            if case["expect"] == "ok" {
                assert_eq!(got, Ok(Value::Str("foo".into())));
                assert_eq!(case["plaintext"], "foo");
            } else {
                assert_eq!(got, Err(CipherError::Authentication));
            }
        }
    }
}
