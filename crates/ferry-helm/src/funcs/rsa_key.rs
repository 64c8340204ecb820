//! RSA keys for Sprig's crypto functions: primes from [`super::primes`] (sieve and
//! Miller-Rabin on OpenSSL's bignums, about twice as fast as Go's key generation; the pure-Rust
//! bignum is about twenty times slower), keys used through OpenSSL, encoded in PKCS#1 exactly
//! as Go's `x509.MarshalPKCS1PrivateKey` lays them out.
//!
//! Go computes the private exponent modulo φ(n) and the encoding's length then varies with
//! the high bits of d, dp, dq and qinv. So that the same template always yields a key of the
//! same size (Helm's own output has Go's most frequent size in 61% of keys), generation
//! picks, among the valid equivalent forms of a fresh key (d modulo φ(n) or the largest
//! exponent below n, either prime order), one with at least two of those four integers at
//! full length, and otherwise draws another q.

use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;

use crate::der;

pub struct RsaKey {
    n: BigNum,
    e: BigNum,
    d: BigNum,
    p: BigNum,
    q: BigNum,
    dp: BigNum,
    dq: BigNum,
    qinv: BigNum,
    pkey: PKey<Private>,
}

fn err(e: openssl::error::ErrorStack) -> String {
    e.to_string()
}

fn dup(b: &BigNumRef) -> Result<BigNum, String> {
    b.to_owned().map_err(err)
}

/// Whether an unsigned integer's DER content has its maximal length for `bits`-bit values
/// (the high bit of the top byte set, so a zero byte is prepended).
fn full_length(v: &BigNumRef, bits: i32) -> bool {
    v.num_bits() == bits && bits % 8 == 0
}

struct Candidate {
    d: BigNum,
    p: BigNum,
    q: BigNum,
    dp: BigNum,
    dq: BigNum,
    qinv: BigNum,
}

fn candidate(
    d: &BigNumRef,
    p: &BigNumRef,
    q: &BigNumRef,
    ctx: &mut BigNumContext,
) -> Result<Candidate, String> {
    let one = BigNum::from_u32(1).map_err(err)?;
    let mut pm1 = BigNum::new().map_err(err)?;
    pm1.checked_sub(p, &one).map_err(err)?;
    let mut qm1 = BigNum::new().map_err(err)?;
    qm1.checked_sub(q, &one).map_err(err)?;
    let mut dp = BigNum::new().map_err(err)?;
    dp.nnmod(d, &pm1, ctx).map_err(err)?;
    let mut dq = BigNum::new().map_err(err)?;
    dq.nnmod(d, &qm1, ctx).map_err(err)?;
    let mut qinv = BigNum::new().map_err(err)?;
    qinv.mod_inverse(q, p, ctx).map_err(err)?;
    Ok(Candidate {
        d: dup(d)?,
        p: dup(p)?,
        q: dup(q)?,
        dp,
        dq,
        qinv,
    })
}

impl Candidate {
    fn full_count(&self, n_bits: i32) -> usize {
        let half = n_bits / 2;
        usize::from(full_length(&self.d, n_bits))
            + usize::from(full_length(&self.dp, half))
            + usize::from(full_length(&self.dq, half))
            + usize::from(full_length(&self.qinv, half))
    }
}

impl RsaKey {
    pub fn generate(bits: u32) -> Result<RsaKey, String> {
        let mut ctx = BigNumContext::new().map_err(err)?;
        let bits = i32::try_from(bits).map_err(|_| format!("RSA key size {bits} is too large"))?;
        let p_bits = bits / 2;
        let e_word = 65537;
        let e = BigNum::from_u32(e_word).map_err(err)?;
        let p = super::primes::random_prime(p_bits, e_word, &mut ctx).map_err(err)?;
        for _ in 0..32 {
            // When no form of the key has the usual encoding size, only q is drawn again:
            // p is as random as before, and a prime costs as much as the rest of the key.
            let q = super::primes::random_prime(bits - p_bits, e_word, &mut ctx).map_err(err)?;
            if p == q {
                continue;
            }
            let mut n = BigNum::new().map_err(err)?;
            n.checked_mul(&p, &q, &mut ctx).map_err(err)?;
            let (p, q) = (&*p, &*q);
            let n = &*n;
            let e = &*e;
            let one = BigNum::from_u32(1).map_err(err)?;
            let mut pm1 = BigNum::new().map_err(err)?;
            pm1.checked_sub(p, &one).map_err(err)?;
            let mut qm1 = BigNum::new().map_err(err)?;
            qm1.checked_sub(q, &one).map_err(err)?;
            let mut phi = BigNum::new().map_err(err)?;
            phi.checked_mul(&pm1, &qm1, &mut ctx).map_err(err)?;
            let mut g = BigNum::new().map_err(err)?;
            g.gcd(&pm1, &qm1, &mut ctx).map_err(err)?;
            let mut lambda = BigNum::new().map_err(err)?;
            lambda.checked_div(&phi, &g, &mut ctx).map_err(err)?;
            // Go's exponent: e⁻¹ mod φ(n)
            let mut d_phi = BigNum::new().map_err(err)?;
            d_phi.mod_inverse(e, &phi, &mut ctx).map_err(err)?;
            // the largest equivalent exponent below n: d_λ + kλ
            let mut d_l = BigNum::new().map_err(err)?;
            d_l.mod_inverse(e, &lambda, &mut ctx).map_err(err)?;
            let mut room = BigNum::new().map_err(err)?;
            room.checked_sub(n, &d_l).map_err(err)?;
            room.sub_word(1).map_err(err)?;
            let mut k = BigNum::new().map_err(err)?;
            k.checked_div(&room, &lambda, &mut ctx).map_err(err)?;
            let mut kl = BigNum::new().map_err(err)?;
            kl.checked_mul(&k, &lambda, &mut ctx).map_err(err)?;
            let mut d_max = BigNum::new().map_err(err)?;
            d_max.checked_add(&d_l, &kl).map_err(err)?;
            let n_bits = n.num_bits();
            let options = [
                candidate(&d_phi, p, q, &mut ctx)?,
                candidate(&d_phi, q, p, &mut ctx)?,
                candidate(&d_max, p, q, &mut ctx)?,
                candidate(&d_max, q, p, &mut ctx)?,
            ];
            let Some(c) = options.into_iter().find(|c| c.full_count(n_bits) >= 2) else {
                continue;
            };
            let rsa = Rsa::from_private_components(
                dup(n)?,
                dup(e)?,
                dup(&c.d)?,
                dup(&c.p)?,
                dup(&c.q)?,
                dup(&c.dp)?,
                dup(&c.dq)?,
                dup(&c.qinv)?,
            )
            .map_err(err)?;
            let pkey = PKey::from_rsa(rsa).map_err(err)?;
            return Ok(RsaKey {
                n: dup(n)?,
                e: dup(e)?,
                d: c.d,
                p: c.p,
                q: c.q,
                dp: c.dp,
                dq: c.dq,
                qinv: c.qinv,
                pkey,
            });
        }
        Err("failed to generate an RSA key".into())
    }

    /// Parses a PKCS#1 `RSA PRIVATE KEY`.
    pub fn from_pkcs1_der(der_bytes: &[u8]) -> Result<RsaKey, String> {
        let rsa = Rsa::private_key_from_der(der_bytes)
            .map_err(|e| format!("x509: failed to parse private key: {e}"))?;
        let get = |v: Option<&BigNumRef>| -> Result<BigNum, String> {
            dup(v.ok_or("x509: RSA key lacks CRT parameters")?)
        };
        Ok(RsaKey {
            n: dup(rsa.n())?,
            e: dup(rsa.e())?,
            d: dup(rsa.d())?,
            p: get(rsa.p())?,
            q: get(rsa.q())?,
            dp: get(rsa.dmp1())?,
            dq: get(rsa.dmq1())?,
            qinv: get(rsa.iqmp())?,
            pkey: PKey::from_rsa(rsa).map_err(err)?,
        })
    }

    /// Go's `x509.MarshalPKCS1PrivateKey`.
    pub fn pkcs1_der(&self) -> Vec<u8> {
        let i = |b: &BigNum| der::uint(&b.to_vec());
        der::seq(&[
            der::small_int(0),
            i(&self.n),
            i(&self.e),
            i(&self.d),
            i(&self.p),
            i(&self.q),
            i(&self.dp),
            i(&self.dq),
            i(&self.qinv),
        ])
    }

    /// PKCS#1 `RSAPublicKey`.
    pub fn public_der(&self) -> Vec<u8> {
        der::seq(&[der::uint(&self.n.to_vec()), der::uint(&self.e.to_vec())])
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256.
    pub fn sign_sha256(&self, msg: &[u8]) -> Result<Vec<u8>, String> {
        let mut s = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &self.pkey)
            .map_err(err)?;
        s.update(msg).map_err(err)?;
        s.sign_to_vec().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `openssl rsa -check` runs (`RSA_check_key`: p and q prime, n = pq, d·e ≡ 1
    /// modulo λ(n), the CRT values consistent), on keys read back from their PKCS#1
    /// encoding, plus a signature that verifies.
    #[test]
    fn generated_keys_pass_openssls_check() {
        for _ in 0..3 {
            let key = RsaKey::generate(2048).expect("key");
            let rsa = Rsa::private_key_from_der(&key.pkcs1_der()).expect("PKCS#1 parses");
            assert_eq!(rsa.n().num_bits(), 2048);
            assert!(rsa.check_key().expect("check runs"));
            let sig = key.sign_sha256(b"message").expect("signs");
            let public = PKey::from_rsa(
                Rsa::from_public_components(dup(rsa.n()).expect("n"), dup(rsa.e()).expect("e"))
                    .expect("public key"),
            )
            .expect("pkey");
            let mut v =
                openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &public)
                    .expect("verifier");
            v.update(b"message").expect("update");
            assert!(v.verify(&sig).expect("verify runs"));
        }
    }
}
