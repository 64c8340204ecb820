//! age's post-quantum hybrid identities (`AGE-SECRET-KEY-PQ-1…`, recipients
//! `age1pq1…`, stanza `mlkem768x25519`), which the age crate cannot open yet.
//!
//! The stanza holds an HPKE (RFC 9180, base mode) encapsulation with the
//! X-Wing KEM "MLKEM768-X25519" (ML-KEM-768 combined with X25519 through
//! SHA3-256), HKDF-SHA256 and ChaCha20-Poly1305, info
//! `age-encryption.org/mlkem768x25519`; its body is the sealed file key.

use age::DecryptError;
use age_core::format::{FileKey, Stanza};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hkdf::Hkdf;
use ml_kem::kem::Decapsulate;
use ml_kem::{KemCore, MlKem768};
use sha2::Sha256;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Digest, Sha3_256, Shake256};
use zeroize::Zeroizing;

const STANZA_TAG: &str = "mlkem768x25519";
const INFO: &[u8] = b"age-encryption.org/mlkem768x25519";
const SECRET_KEY_HRP: &str = "age-secret-key-pq-";
/// HPKE suite: KEM 0x647a (MLKEM768-X25519), KDF 0x0001 (HKDF-SHA256),
/// AEAD 0x0003 (ChaCha20-Poly1305).
const SUITE_ID: &[u8] = b"HPKE\x64\x7a\x00\x01\x00\x03";
/// X-Wing's domain separator, `\.//^\`.
const XWING_LABEL: &[u8] = b"\\.//^\\";
const ML_KEM_CIPHERTEXT: usize = 1088;
const ENCAPSULATION: usize = ML_KEM_CIPHERTEXT + 32;

type DecapsulationKey = <MlKem768 as KemCore>::DecapsulationKey;

pub(crate) struct Identity {
    ml_kem: DecapsulationKey,
    x25519: x25519_dalek::StaticSecret,
    x25519_public: [u8; 32],
}

impl Identity {
    /// Parses `AGE-SECRET-KEY-PQ-1…` (Bech32, a 32-byte seed) and expands it
    /// as X-Wing does: SHAKE256(seed) gives ML-KEM's d and z and the X25519
    /// secret.
    pub fn parse(text: &str) -> Option<Identity> {
        let (hrp, data) = bech32::decode(text).ok()?;
        if !hrp.as_str().eq_ignore_ascii_case(SECRET_KEY_HRP) || data.len() != 32 {
            return None;
        }
        let seed = Zeroizing::new(data);
        let mut expanded = Zeroizing::new([0u8; 96]);
        let mut shake = Shake256::default();
        shake.update(&seed);
        shake.finalize_xof().read(expanded.as_mut_slice());
        let d = ml_kem::B32::try_from(&expanded[0..32]).ok()?;
        let z = ml_kem::B32::try_from(&expanded[32..64]).ok()?;
        let (ml_kem, _) = MlKem768::generate_deterministic(&d, &z);
        let mut x25519_bytes = [0u8; 32];
        x25519_bytes.copy_from_slice(&expanded[64..96]);
        let x25519 = x25519_dalek::StaticSecret::from(x25519_bytes);
        let x25519_public = x25519_dalek::PublicKey::from(&x25519).to_bytes();
        Some(Identity {
            ml_kem,
            x25519,
            x25519_public,
        })
    }

    /// X-Wing decapsulation: the shared secret of an encapsulation.
    fn decapsulate(&self, encapsulation: &[u8]) -> Option<Zeroizing<[u8; 32]>> {
        let (ct_m, ct_x) = encapsulation.split_at(ML_KEM_CIPHERTEXT);
        let ct_m = ml_kem::Ciphertext::<MlKem768>::try_from(ct_m).ok()?;
        let ss_m = self.ml_kem.decapsulate(&ct_m).ok()?;
        let mut ct_x_bytes = [0u8; 32];
        ct_x_bytes.copy_from_slice(ct_x);
        let ss_x = self
            .x25519
            .diffie_hellman(&x25519_dalek::PublicKey::from(ct_x_bytes));
        let mut hasher = Sha3_256::new();
        Digest::update(&mut hasher, ss_m.as_slice());
        Digest::update(&mut hasher, ss_x.as_bytes());
        Digest::update(&mut hasher, ct_x);
        Digest::update(&mut hasher, self.x25519_public);
        Digest::update(&mut hasher, XWING_LABEL);
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&hasher.finalize());
        Some(out)
    }
}

fn labeled_extract(salt: &[u8], label: &[u8], ikm: &[u8]) -> Hkdf<Sha256> {
    let mut input = Vec::with_capacity(7 + SUITE_ID.len() + label.len() + ikm.len());
    input.extend_from_slice(b"HPKE-v1");
    input.extend_from_slice(SUITE_ID);
    input.extend_from_slice(label);
    input.extend_from_slice(ikm);
    Hkdf::<Sha256>::new(Some(salt), &input)
}

fn labeled_expand(prk: &Hkdf<Sha256>, label: &[u8], context: &[u8], out: &mut [u8]) -> Option<()> {
    let mut info = Vec::with_capacity(2 + 7 + SUITE_ID.len() + label.len() + context.len());
    info.extend_from_slice(&(out.len() as u16).to_be_bytes());
    info.extend_from_slice(b"HPKE-v1");
    info.extend_from_slice(SUITE_ID);
    info.extend_from_slice(label);
    info.extend_from_slice(context);
    prk.expand(&info, out).ok()
}

/// The PRK of `LabeledExtract(salt, label, ikm)` as bytes (for the hashes
/// that enter the key schedule context).
fn labeled_extract_bytes(label: &[u8], ikm: &[u8]) -> [u8; 32] {
    let mut input = Vec::new();
    input.extend_from_slice(b"HPKE-v1");
    input.extend_from_slice(SUITE_ID);
    input.extend_from_slice(label);
    input.extend_from_slice(ikm);
    let (prk, _) = Hkdf::<Sha256>::extract(Some(&[]), &input);
    let mut out = [0u8; 32];
    out.copy_from_slice(&prk);
    out
}

/// HPKE base-mode open of a single message (sequence number 0).
fn hpke_open(shared_secret: &[u8; 32], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let psk_id_hash = labeled_extract_bytes(b"psk_id_hash", b"");
    let info_hash = labeled_extract_bytes(b"info_hash", INFO);
    let mut context = vec![0u8];
    context.extend_from_slice(&psk_id_hash);
    context.extend_from_slice(&info_hash);
    let secret = labeled_extract(shared_secret, b"secret", b"");
    let mut key = Zeroizing::new([0u8; 32]);
    let mut nonce = [0u8; 12];
    labeled_expand(&secret, b"key", &context, key.as_mut_slice())?;
    labeled_expand(&secret, b"base_nonce", &context, &mut nonce)?;
    let aead = ChaCha20Poly1305::new(key.as_slice().into());
    aead.decrypt(
        Nonce::from_slice(&nonce),
        Payload {
            msg: ciphertext,
            aad: b"",
        },
    )
    .ok()
    .map(Zeroizing::new)
}

impl age::Identity for Identity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        let [arg] = stanza.args.as_slice() else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        let Ok(encapsulation) = STANDARD_NO_PAD.decode(arg) else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        if encapsulation.len() != ENCAPSULATION || stanza.body.len() != 32 {
            return Some(Err(DecryptError::InvalidHeader));
        }
        let shared = self.decapsulate(&encapsulation)?;
        // A stanza for another recipient fails to open: not ours.
        let plain = hpke_open(&shared, &stanza.body)?;
        let key: [u8; 16] = plain.as_slice().try_into().ok()?;
        Some(Ok(FileKey::new(Box::new(key))))
    }
}
