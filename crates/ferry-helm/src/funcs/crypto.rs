//! Sprig's crypto family: private keys (RSA, ECDSA P-256, Ed25519, DSA) in the PEM forms Go
//! writes, self-signed and CA-signed certificates laid out as Go's `x509.CreateCertificate`
//! lays them out, bcrypt/htpasswd, Master Password `derivePassword`, AES-CBC.

use std::rc::Rc;

use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Digest;

use super::encoding::b64_decode;
use super::rsa_key::RsaKey;
use super::{Reg, arg_int, arg_str, err, s};
use crate::der;
use crate::object::{Object, Param};
use crate::template::GoError;
use crate::value::{Entries, Value};

type R = Result<Value, GoError>;

/// `sprig.certificate`.
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn type_name(&self) -> &'static str {
        "sprig.certificate"
    }
    fn kind_name(&self) -> &'static str {
        "struct"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(&self.cert)),
            "Key" => Some(Value::str(&self.key)),
            _ => None,
        }
    }
    fn format_fields(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
    fn json(&self) -> Value {
        let mut e = Entries::new();
        e.insert(Rc::from("Cert"), Value::str(&self.cert));
        e.insert(Rc::from("Key"), Value::str(&self.key));
        Value::map(e)
    }
}

enum Key {
    Rsa(Box<RsaKey>),
    Ec(p256::SecretKey),
    Ed(ed25519_dalek::SigningKey),
    Dsa(Box<dsa::SigningKey>),
}

const OID_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
const OID_SHA256_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
const OID_EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
const OID_P256: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
const OID_ECDSA_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const OID_ED25519: &[u64] = &[1, 3, 101, 112];

fn rsa_key(bits: u32) -> Result<Key, GoError> {
    RsaKey::generate(bits)
        .map(|k| Key::Rsa(Box::new(k)))
        .map_err(|e| GoError::msg(format!("failed to generate private key: {e}")))
}

impl Key {
    /// `pemBlockForKey`.
    fn private_pem(&self) -> String {
        match self {
            Key::Rsa(k) => der::pem("RSA PRIVATE KEY", &k.pkcs1_der()),
            Key::Ec(k) => {
                let priv_bytes = k.to_bytes();
                let public = ec_point(k);
                let body = der::seq(&[
                    der::small_int(1),
                    der::octets(&priv_bytes),
                    der::tlv(0xa0, &der::oid(OID_P256)),
                    der::tlv(0xa1, &der::bit_string(&public, 0)),
                ]);
                der::pem("EC PRIVATE KEY", &body)
            }
            Key::Ed(k) => {
                let body = der::seq(&[
                    der::small_int(0),
                    der::seq(&[der::oid(OID_ED25519)]),
                    der::octets(&der::octets(k.as_bytes())),
                ]);
                der::pem("PRIVATE KEY", &body)
            }
            Key::Dsa(k) => {
                let c = k.verifying_key().components();
                let b = |x: &dsa::BigUint| der::uint(&x.to_bytes_be());
                let body = der::seq(&[
                    der::small_int(0),
                    b(c.p()),
                    b(c.q()),
                    b(c.g()),
                    b(k.verifying_key().y()),
                    b(k.x()),
                ]);
                der::pem("DSA PRIVATE KEY", &body)
            }
        }
    }

    /// SubjectPublicKeyInfo and the bits of its public key.
    fn spki(&self) -> Result<(Vec<u8>, Vec<u8>), GoError> {
        match self {
            Key::Rsa(k) => {
                let pk = k.public_der();
                let spki = der::seq(&[
                    der::seq(&[der::oid(OID_RSA), der::tlv(der::NULL, &[])]),
                    der::bit_string(&pk, 0),
                ]);
                Ok((spki, pk))
            }
            Key::Ec(k) => {
                let pk = ec_point(k);
                let spki = der::seq(&[
                    der::seq(&[der::oid(OID_EC_PUBLIC_KEY), der::oid(OID_P256)]),
                    der::bit_string(&pk, 0),
                ]);
                Ok((spki, pk))
            }
            Key::Ed(k) => {
                let pk = k.verifying_key().to_bytes().to_vec();
                let spki = der::seq(&[der::seq(&[der::oid(OID_ED25519)]), der::bit_string(&pk, 0)]);
                Ok((spki, pk))
            }
            Key::Dsa(_) => err("x509: only RSA, ECDSA and Ed25519 keys supported"),
        }
    }

    /// The signature algorithm identifier and signature of `tbs`.
    fn sign(&self, tbs: &[u8]) -> Result<(Vec<u8>, Vec<u8>), GoError> {
        match self {
            Key::Rsa(k) => {
                let sig = k.sign_sha256(tbs).map_err(GoError::msg)?;
                Ok((
                    der::seq(&[der::oid(OID_SHA256_RSA), der::tlv(der::NULL, &[])]),
                    sig,
                ))
            }
            Key::Ec(k) => {
                use p256::ecdsa::signature::Signer;
                let sk = p256::ecdsa::SigningKey::from(k.clone());
                let sig: p256::ecdsa::Signature = sk.sign(tbs);
                Ok((
                    der::seq(&[der::oid(OID_ECDSA_SHA256)]),
                    sig.to_der().as_bytes().to_vec(),
                ))
            }
            Key::Ed(k) => {
                use ed25519_dalek::Signer;
                let sig = k.sign(tbs);
                Ok((der::seq(&[der::oid(OID_ED25519)]), sig.to_bytes().to_vec()))
            }
            Key::Dsa(_) => err("x509: only RSA, ECDSA and Ed25519 keys supported"),
        }
    }
}

fn ec_point(k: &p256::SecretKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    k.public_key().to_encoded_point(false).as_bytes().to_vec()
}

/// Sprig's `parsePrivateKeyPEM`.
fn parse_private_key_pem(text: &str) -> Result<Key, String> {
    let Some((label, der_bytes)) = der::pem_decode(text) else {
        return Err("no PEM data in input".into());
    };
    if label == "PRIVATE KEY" {
        return parse_pkcs8(&der_bytes).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
    }
    let Some(kind) = label.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {label}"));
    };
    match kind {
        "RSA" => RsaKey::from_pkcs1_der(&der_bytes)
            .map(|k| Key::Rsa(Box::new(k)))
            .map_err(|e| format!("parsing RSA private key from PEM: {e}")),
        "EC" => parse_sec1(&der_bytes).map_err(|e| format!("parsing EC private key from PEM: {e}")),
        "DSA" => Err("x509: only RSA, ECDSA and Ed25519 keys supported".into()),
        _ => Err(format!("invalid private key type {label}")),
    }
}

fn parse_sec1(b: &[u8]) -> Result<Key, String> {
    let (outer, _) = der::read(b).ok_or("x509: failed to parse EC private key")?;
    let items = der::children(outer.content).ok_or("x509: failed to parse EC private key")?;
    let key = items
        .get(1)
        .filter(|t| t.tag == der::OCTET_STRING)
        .ok_or("x509: failed to parse EC private key")?;
    p256::SecretKey::from_slice(key.content)
        .map(Key::Ec)
        .map_err(|_| "x509: invalid elliptic curve private key value".to_string())
}

fn parse_pkcs8(b: &[u8]) -> Result<Key, String> {
    let (outer, _) = der::read(b).ok_or("asn1: syntax error")?;
    let items = der::children(outer.content).ok_or("asn1: syntax error")?;
    let alg = items.get(1).ok_or("asn1: syntax error")?;
    let alg_items = der::children(alg.content).ok_or("asn1: syntax error")?;
    let alg_oid = alg_items.first().ok_or("asn1: syntax error")?.raw;
    let key = items.get(2).ok_or("asn1: syntax error")?;
    if alg_oid == der::oid(OID_RSA).as_slice() {
        return RsaKey::from_pkcs1_der(key.content).map(|k| Key::Rsa(Box::new(k)));
    }
    if alg_oid == der::oid(OID_EC_PUBLIC_KEY).as_slice() {
        return parse_sec1(key.content);
    }
    if alg_oid == der::oid(OID_ED25519).as_slice() {
        let (inner, _) = der::read(key.content).ok_or("asn1: syntax error")?;
        let seed: [u8; 32] = inner
            .content
            .try_into()
            .map_err(|_| "ed25519: invalid key")?;
        return Ok(Key::Ed(ed25519_dalek::SigningKey::from_bytes(&seed)));
    }
    Err("x509: PKCS#8 wrapping contained private key with unknown algorithm".into())
}

fn f_gen_private_key(a: &[Value]) -> R {
    let key = match arg_str(a, 0) {
        "" | "rsa" => rsa_key(4096)?,
        "ecdsa" => Key::Ec(p256::SecretKey::random(&mut OsRng)),
        "ed25519" => Key::Ed(ed25519_dalek::SigningKey::generate(&mut OsRng)),
        "dsa" => {
            let components = dsa::Components::generate(&mut OsRng, dsa::KeySize::DSA_2048_256);
            Key::Dsa(Box::new(dsa::SigningKey::generate(&mut OsRng, components)))
        }
        other => return Ok(s(format!("Unknown type {other}"))),
    };
    Ok(s(key.private_pem()))
}

/// What `getBaseCertTemplate` and its callers put in a certificate.
struct Template {
    cn: String,
    ips: Vec<Vec<u8>>,
    dns: Vec<String>,
    days: i64,
    is_ca: bool,
}

/// A parsed signing certificate: its subject and subject key identifier.
struct Parent {
    subject: Vec<u8>,
    skid: Option<Vec<u8>>,
}

fn name_der(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return der::seq(&[]);
    }
    let printable = cn
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?*&".contains(&b));
    let value = der::tlv(
        if printable {
            der::PRINTABLE_STRING
        } else {
            der::UTF8_STRING
        },
        cn.as_bytes(),
    );
    der::seq(&[der::tlv(
        der::SET,
        &der::seq(&[der::oid(&[2, 5, 4, 3]), value]),
    )])
}

fn time_der(ts: jiff::Timestamp) -> Vec<u8> {
    let dt = ts.to_zoned(jiff::tz::TimeZone::UTC);
    let y = dt.year();
    if (1950..2050).contains(&y) {
        let s = format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}Z",
            y % 100,
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        der::tlv(der::UTC_TIME, s.as_bytes())
    } else {
        let s = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}Z",
            y,
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        der::tlv(der::GENERALIZED_TIME, s.as_bytes())
    }
}

fn extension(oid: &[u64], critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = vec![der::oid(oid)];
    if critical {
        parts.push(der::tlv(der::BOOLEAN, &[0xff]));
    }
    parts.push(der::octets(&value));
    der::seq(&parts)
}

/// `x509.CreateCertificate` for Sprig's templates.
fn create_certificate(
    t: &Template,
    subject_key: &Key,
    parent: Option<&Parent>,
    signer: &Key,
) -> Result<Vec<u8>, GoError> {
    let (spki, pk_bits) = subject_key.spki()?;
    // A random serial below 2^128 as Go draws it. Go's DER encoding of it takes 16 or 17
    // bytes (a leading zero when the top bit is set) with equal probability, which changes
    // the certificate's size. To give each template a stable output size, the top bit is
    // fixed: clear for CA certificates, set for the others — the sizes of the Helm outputs
    // recorded in this crate's fixtures.
    let mut serial = [0u8; 16];
    OsRng.fill_bytes(&mut serial);
    if t.is_ca {
        serial[0] = (serial[0] & 0x7f).max(1);
    } else {
        serial[0] |= 0x80;
    }
    let subject = name_der(&t.cn);
    let issuer = parent
        .map(|p| p.subject.clone())
        .unwrap_or_else(|| subject.clone());
    let now = jiff::Timestamp::now();
    let not_after = now
        .checked_add(jiff::SignedDuration::from_hours(24 * t.days))
        .unwrap_or(now);
    let mut exts = vec![];
    // KeyUsage: digitalSignature | keyEncipherment (| keyCertSign for a CA)
    let ku = if t.is_ca {
        der::bit_string(&[0xa4], 2)
    } else {
        der::bit_string(&[0xa0], 5)
    };
    exts.push(extension(&[2, 5, 29, 15], true, ku));
    exts.push(extension(
        &[2, 5, 29, 37],
        false,
        der::seq(&[
            der::oid(&[1, 3, 6, 1, 5, 5, 7, 3, 1]),
            der::oid(&[1, 3, 6, 1, 5, 5, 7, 3, 2]),
        ]),
    ));
    let bc = if t.is_ca {
        der::seq(&[der::tlv(der::BOOLEAN, &[0xff])])
    } else {
        der::seq(&[])
    };
    exts.push(extension(&[2, 5, 29, 19], true, bc));
    if t.is_ca {
        let h = sha2::Sha256::digest(&pk_bits);
        exts.push(extension(&[2, 5, 29, 14], false, der::octets(&h[..20])));
    }
    if let Some(p) = parent
        && p.subject != subject
        && let Some(skid) = &p.skid
    {
        exts.push(extension(
            &[2, 5, 29, 35],
            false,
            der::seq(&[der::tlv(0x80, skid)]),
        ));
    }
    if !t.dns.is_empty() || !t.ips.is_empty() {
        let mut names = vec![];
        for d in &t.dns {
            names.push(der::tlv(0x82, d.as_bytes()));
        }
        for ip in &t.ips {
            names.push(der::tlv(0x87, ip));
        }
        exts.push(extension(
            &[2, 5, 29, 17],
            t.cn.is_empty(),
            der::seq(&names),
        ));
    }
    let (sig_alg, _) = signer.sign(b"")?;
    let tbs = der::seq(&[
        der::tlv(0xa0, &der::small_int(2)),
        der::uint(&serial),
        sig_alg.clone(),
        issuer,
        der::seq(&[time_der(now), time_der(not_after)]),
        subject,
        spki,
        der::tlv(0xa3, &der::seq(&exts)),
    ]);
    let (sig_alg, sig) = signer.sign(&tbs)?;
    Ok(der::seq(&[tbs, sig_alg, der::bit_string(&sig, 0)]))
}

/// Reads the subject and subject key identifier of a PEM certificate.
fn parse_parent(cert_pem: &str) -> Result<Parent, String> {
    let (_, b) = der::pem_decode(cert_pem).ok_or("unable to decode certificate")?;
    let bad = || "x509: malformed certificate".to_string();
    let (cert, _) = der::read(&b).ok_or_else(bad)?;
    let parts = der::children(cert.content).ok_or_else(bad)?;
    let tbs = der::children(parts.first().ok_or_else(bad)?.content).ok_or_else(bad)?;
    let off = usize::from(tbs.first().is_some_and(|t| t.tag == 0xa0));
    let subject = tbs.get(off + 4).ok_or_else(bad)?.raw.to_vec();
    let mut skid = None;
    if let Some(ext_wrapper) = tbs.iter().find(|t| t.tag == 0xa3) {
        let (exts, _) = der::read(ext_wrapper.content).ok_or_else(bad)?;
        for e in der::children(exts.content).ok_or_else(bad)? {
            let fields = der::children(e.content).ok_or_else(bad)?;
            if fields.first().map(|f| f.raw) == Some(der::oid(&[2, 5, 29, 14]).as_slice())
                && let Some(v) = fields.last()
                && let Some((inner, _)) = der::read(v.content)
            {
                skid = Some(inner.content.to_vec());
            }
        }
    }
    Ok(Parent { subject, skid })
}

fn cert_value(cert: Vec<u8>, key: &Key) -> Value {
    Value::Object(Rc::new(Certificate {
        cert: der::pem("CERTIFICATE", &cert),
        key: key.private_pem(),
    }))
}

fn ips_arg(v: &Value) -> Result<Vec<Vec<u8>>, GoError> {
    let mut out = vec![];
    if let Value::List(l) = v {
        for item in &l.items {
            let Value::Str(st) = item else {
                return err(format!(
                    "error parsing ip: {} is not a string",
                    crate::gofmt::format_v(item)
                ));
            };
            let ip: std::net::IpAddr = st
                .parse()
                .map_err(|_| GoError::msg(format!("error parsing ip: {st}")))?;
            out.push(match ip {
                std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
                std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
            });
        }
    }
    Ok(out)
}

fn dns_arg(v: &Value) -> Result<Vec<String>, GoError> {
    let mut out = vec![];
    if let Value::List(l) = v {
        for item in &l.items {
            let Value::Str(st) = item else {
                return err(format!(
                    "error processing alternate dns name: {} is not a string",
                    crate::gofmt::format_v(item)
                ));
            };
            out.push(st.to_string());
        }
    }
    Ok(out)
}

fn pem_key_arg(text: &str) -> Result<Key, GoError> {
    parse_private_key_pem(text).map_err(|e| GoError::msg(format!("parsing private key: {e}")))
}

fn gen_ca(cn: &str, days: i64, key: Key) -> R {
    let t = Template {
        cn: cn.to_string(),
        ips: vec![],
        dns: vec![],
        days,
        is_ca: true,
    };
    let cert = create_certificate(&t, &key, None, &key)?;
    Ok(cert_value(cert, &key))
}

fn f_gen_ca(a: &[Value]) -> R {
    gen_ca(arg_str(a, 0), arg_int(a, 1), rsa_key(2048)?)
}

fn f_gen_ca_with_key(a: &[Value]) -> R {
    gen_ca(arg_str(a, 0), arg_int(a, 1), pem_key_arg(arg_str(a, 2))?)
}

fn self_signed(a: &[Value], key: Key) -> R {
    let t = Template {
        cn: arg_str(a, 0).to_string(),
        ips: ips_arg(&a[1])?,
        dns: dns_arg(&a[2])?,
        days: arg_int(a, 3),
        is_ca: false,
    };
    let cert = create_certificate(&t, &key, None, &key)?;
    Ok(cert_value(cert, &key))
}

fn f_gen_self_signed(a: &[Value]) -> R {
    ips_arg(&a[1])?;
    dns_arg(&a[2])?;
    self_signed(a, rsa_key(2048)?)
}

fn f_gen_self_signed_with_key(a: &[Value]) -> R {
    self_signed(a, pem_key_arg(arg_str(a, 4))?)
}

fn signed(a: &[Value], key: Key) -> R {
    let Value::Object(ca) = &a[4] else {
        return err("wrong type for value; expected sprig.certificate");
    };
    let Some(ca) = ca.as_any().downcast_ref::<Certificate>() else {
        return err("wrong type for value; expected sprig.certificate");
    };
    let parent = parse_parent(&ca.cert)
        .map_err(|e| GoError::msg(format!("error parsing certificate: {e}")))?;
    let signer = parse_private_key_pem(&ca.key)
        .map_err(|e| GoError::msg(format!("error parsing private key: {e}")))?;
    let t = Template {
        cn: arg_str(a, 0).to_string(),
        ips: ips_arg(&a[1])?,
        dns: dns_arg(&a[2])?,
        days: arg_int(a, 3),
        is_ca: false,
    };
    let cert = create_certificate(&t, &key, Some(&parent), &signer)?;
    Ok(cert_value(cert, &key))
}

fn f_gen_signed(a: &[Value]) -> R {
    ips_arg(&a[1])?;
    dns_arg(&a[2])?;
    signed(a, rsa_key(2048)?)
}

fn f_gen_signed_with_key(a: &[Value]) -> R {
    signed(a, pem_key_arg(arg_str(a, 5))?)
}

fn f_build_custom_cert(a: &[Value]) -> R {
    let cert = b64_decode(arg_str(a, 0))
        .map_err(|_| GoError::msg("unable to decode base64 certificate"))?;
    let key = b64_decode(arg_str(a, 1))
        .map_err(|_| GoError::msg("unable to decode base64 private key"))?;
    let cert_s = String::from_utf8_lossy(&cert).into_owned();
    let key_s = String::from_utf8_lossy(&key).into_owned();
    if der::pem_decode(&cert_s).is_none() {
        return err("unable to decode certificate");
    }
    parse_parent(&cert_s)
        .map_err(|e| GoError::msg(format!("error parsing certificate: decodedCert.Bytes: {e}")))?;
    parse_private_key_pem(&key_s)
        .map_err(|e| GoError::msg(format!("error parsing private key: {e}")))?;
    Ok(Value::Object(Rc::new(Certificate {
        cert: cert_s,
        key: key_s,
    })))
}

// ---- passwords and symmetric encryption

fn bcrypt_hash(input: &str) -> String {
    // golang.org/x/crypto/bcrypt writes the $2a$ prefix
    match bcrypt::hash_with_result(input, 10) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

fn f_bcrypt(a: &[Value]) -> R {
    Ok(s(bcrypt_hash(arg_str(a, 0))))
}

fn f_htpasswd(a: &[Value]) -> R {
    let user = arg_str(a, 0);
    if user.contains(':') {
        return Ok(s(format!("invalid username: {user}")));
    }
    Ok(s(format!("{user}:{}", bcrypt_hash(arg_str(a, 1)))))
}

const TEMPLATES: &[(&str, &[&str])] = &[
    ("maximum", &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"]),
    (
        "long",
        &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
    ),
    ("medium", &["CvcnoCvc", "CvcCvcno"]),
    ("short", &["Cvcn"]),
    ("basic", &["aaanaaan", "aannaaan", "aaannaaa"]),
    ("pin", &["nnnn"]),
];

fn template_chars(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

fn f_derive_password(a: &[Value]) -> R {
    let counter = arg_int(a, 0) as u32;
    let (ptype, password, user, site) =
        (arg_str(a, 1), arg_str(a, 2), arg_str(a, 3), arg_str(a, 4));
    let Some((_, templates)) = TEMPLATES.iter().find(|(n, _)| *n == ptype) else {
        return Ok(s(format!("cannot find password template {ptype}")));
    };
    const SEED: &str = "com.lyndir.masterpassword";
    let mut salt = SEED.as_bytes().to_vec();
    salt.extend((user.len() as u32).to_be_bytes());
    salt.extend(user.as_bytes());
    let mut key = [0u8; 64];
    let params = scrypt::Params::new(15, 8, 2, 64).map_err(|e| GoError::msg(e.to_string()))?;
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return Ok(s(format!("failed to derive password: {e}")));
    }
    let mut msg = SEED.as_bytes().to_vec();
    msg.extend((site.len() as u32).to_be_bytes());
    msg.extend(site.as_bytes());
    msg.extend(counter.to_be_bytes());
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&key)
        .map_err(|e| GoError::msg(e.to_string()))?;
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let temp = templates[seed[0] as usize % templates.len()].as_bytes();
    let out: String = temp
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let set = template_chars(c);
            set[seed[i + 1] as usize % set.len()] as char
        })
        .collect();
    Ok(s(out))
}

fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let p = password.as_bytes();
    let n = p.len().min(32);
    key[..n].copy_from_slice(&p[..n]);
    key
}

fn f_encrypt_aes(a: &[Value]) -> R {
    use cbc::cipher::{BlockEncryptMut, KeyIvInit};
    let (password, plain) = (arg_str(a, 0), arg_str(a, 1));
    if plain.is_empty() {
        return Ok(s(""));
    }
    let mut iv = [0u8; 16];
    OsRng.fill_bytes(&mut iv);
    let enc = cbc::Encryptor::<aes::Aes256>::new(&aes_key(password).into(), &iv.into());
    let ct = enc.encrypt_padded_vec_mut::<cbc::cipher::block_padding::Pkcs7>(plain.as_bytes());
    let mut out = iv.to_vec();
    out.extend(ct);
    Ok(s(super::encoding::b64_encode(&out)))
}

fn f_decrypt_aes(a: &[Value]) -> R {
    use cbc::cipher::{BlockDecryptMut, KeyIvInit};
    let (password, crypt64) = (arg_str(a, 0), arg_str(a, 1));
    if crypt64.is_empty() {
        return Ok(s(""));
    }
    let data = b64_decode(crypt64).map_err(GoError::msg)?;
    if data.len() < 16 {
        return err(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            data.len()
        ));
    }
    let (iv, ct) = data.split_at(16);
    if ct.len() % 16 != 0 {
        return err("crypto/cipher: input not full blocks");
    }
    let dec = cbc::Decryptor::<aes::Aes256>::new(&aes_key(password).into(), iv.into());
    let mut buf = ct.to_vec();
    let plain = dec
        .decrypt_padded_mut::<cbc::cipher::block_padding::NoPadding>(&mut buf)
        .map_err(|e| GoError::msg(e.to_string()))?
        .to_vec();
    let pad = plain.last().copied().unwrap_or(0) as usize;
    if pad > plain.len() {
        return err(format!(
            "runtime error: slice bounds out of range [:{}]",
            plain.len() as i64 - pad as i64
        ));
    }
    Ok(Value::from_bytes(plain[..plain.len() - pad].to_vec()))
}

fn f_rand_bytes(a: &[Value]) -> R {
    let n = arg_int(a, 0);
    if n < 0 {
        return err("runtime error: makeslice: len out of range");
    }
    if n > 16 * 1024 * 1024 {
        return err("randBytes: count exceeds the limit");
    }
    let mut buf = vec![0u8; n as usize];
    OsRng.fill_bytes(&mut buf);
    Ok(s(super::encoding::b64_encode(&buf)))
}

pub(super) fn register(r: &mut Reg<'_>) {
    use Param::*;
    r.f("genPrivateKey", &[Str], f_gen_private_key);
    r.f("genCA", &[Str, Int], f_gen_ca);
    r.f("genCAWithKey", &[Str, Int, Str], f_gen_ca_with_key);
    r.f(
        "genSelfSignedCert",
        &[Str, List, List, Int],
        f_gen_self_signed,
    );
    r.f(
        "genSelfSignedCertWithKey",
        &[Str, List, List, Int, Str],
        f_gen_self_signed_with_key,
    );
    r.f("genSignedCert", &[Str, List, List, Int, Cert], f_gen_signed);
    r.f(
        "genSignedCertWithKey",
        &[Str, List, List, Int, Cert, Str],
        f_gen_signed_with_key,
    );
    r.f("buildCustomCert", &[Str, Str], f_build_custom_cert);
    r.f("bcrypt", &[Str], f_bcrypt);
    r.f("htpasswd", &[Str, Str], f_htpasswd);
    r.f(
        "derivePassword",
        &[Uint32, Str, Str, Str, Str],
        f_derive_password,
    );
    r.f("encryptAES", &[Str, Str], f_encrypt_aes);
    r.f("decryptAES", &[Str, Str], f_decrypt_aes);
    r.f("randBytes", &[Int], f_rand_bytes);
}
