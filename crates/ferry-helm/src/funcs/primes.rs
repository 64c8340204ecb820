//! Random primes for RSA keys, on OpenSSL's bignum arithmetic and random generator.
//!
//! OpenSSL's own generator runs at least 64 Miller-Rabin rounds on every prime it returns,
//! which makes an RSA-2048 key several times slower to make than Go's (Helm's) key
//! generation. Like Go, this one sieves candidates by small primes and then runs the number of
//! Miller-Rabin rounds with random bases that FIPS 186-5 (appendix B.3) asks for random
//! candidates of this size, plus one: the chance of a composite passing is below 2^-112.

use std::sync::OnceLock;

use openssl::bn::{BigNum, BigNumContext, BigNumRef, MsbOption};
use openssl::error::ErrorStack;

/// Odd primes below this bound sieve the candidates.
const SIEVE_BOUND: u32 = 1 << 14;
/// How far a candidate may move up from its random start before a fresh start is drawn.
const MAX_DELTA: u32 = 1 << 20;

fn small_primes() -> &'static [u32] {
    static PRIMES: OnceLock<Vec<u32>> = OnceLock::new();
    PRIMES.get_or_init(|| {
        let n = SIEVE_BOUND as usize;
        let mut composite = vec![false; n];
        let mut out = vec![];
        for i in 2..n {
            if !composite[i] {
                if i > 2 {
                    out.push(i as u32);
                }
                let mut j = i * i;
                while j < n {
                    composite[j] = true;
                    j += i;
                }
            }
        }
        out
    })
}

/// Miller-Rabin rounds for a random candidate of `bits` bits (FIPS 186-5 table B.1, error
/// probability 2^-112, plus one round).
fn rounds(bits: i32) -> usize {
    match bits {
        b if b >= 3747 => 4,
        b if b >= 1345 => 5,
        b if b >= 476 => 6,
        b if b >= 400 => 7,
        b if b >= 347 => 8,
        b if b >= 308 => 9,
        _ => 41,
    }
}

/// A random prime of exactly `bits` bits (its two top bits set, so a product of two has
/// `2*bits` bits) with `gcd(p-1, e) = 1`.
pub fn random_prime(bits: i32, e: u32, ctx: &mut BigNumContext) -> Result<BigNum, ErrorStack> {
    let primes = small_primes();
    loop {
        let mut base = BigNum::new()?;
        base.rand(bits, MsbOption::TWO_ONES, true)?;
        let mut residues = Vec::with_capacity(primes.len());
        for &p in primes {
            residues.push(base.mod_word(p)? as u32);
        }
        let base_mod_e = base.mod_word(e)? as u32;
        let mut delta = 0u32;
        while delta < MAX_DELTA {
            let sieved = primes
                .iter()
                .zip(&residues)
                .all(|(&p, &r)| !(r + delta % p).is_multiple_of(p));
            // p ≡ 1 (mod e) would make e share a factor with p-1 (e is prime)
            let e_ok = (u64::from(base_mod_e) + u64::from(delta)) % u64::from(e) != 1;
            if sieved && e_ok {
                let mut cand = base.to_owned()?;
                cand.add_word(delta)?;
                if cand.num_bits() != bits {
                    break;
                }
                if probably_prime(&cand, rounds(bits), ctx)? {
                    return Ok(cand);
                }
            }
            delta += 2;
        }
    }
}

/// Miller-Rabin: base 2 first (rejects almost every composite at the cost of one
/// exponentiation), then `rounds - 1` random bases in [2, n-2].
fn probably_prime(
    n: &BigNumRef,
    rounds: usize,
    ctx: &mut BigNumContext,
) -> Result<bool, ErrorStack> {
    let one = BigNum::from_u32(1)?;
    let mut n1 = BigNum::new()?;
    n1.checked_sub(n, &one)?;
    let mut d = n1.to_owned()?;
    let mut s = 0;
    while !d.is_bit_set(0) {
        let mut half = BigNum::new()?;
        half.rshift1(&d)?;
        d = half;
        s += 1;
    }
    // random bases come from [0, n-4) shifted by 2
    let mut n4 = BigNum::new()?;
    let four = BigNum::from_u32(4)?;
    n4.checked_sub(n, &four)?;
    let mut x = BigNum::new()?;
    let mut sq = BigNum::new()?;
    for round in 0..rounds {
        let a = if round == 0 {
            BigNum::from_u32(2)?
        } else {
            let mut a = BigNum::new()?;
            n4.rand_range(&mut a)?;
            a.add_word(2)?;
            a
        };
        x.mod_exp(&a, &d, n, ctx)?;
        if x == one || x == n1 {
            continue;
        }
        let mut witness = true;
        for _ in 1..s {
            sq.mod_sqr(&x, n, ctx)?;
            std::mem::swap(&mut x, &mut sq);
            if x == n1 {
                witness = false;
                break;
            }
            if x == one {
                return Ok(false);
            }
        }
        if witness {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_have_the_size_asked_and_pass_openssls_test() {
        let mut ctx = BigNumContext::new().expect("context");
        for bits in [256, 512] {
            let p = random_prime(bits, 65537, &mut ctx).expect("prime");
            assert_eq!(p.num_bits(), bits);
            assert!(p.is_prime(64, &mut ctx).expect("test runs"));
            assert_ne!(p.mod_word(65537).expect("mod"), 1);
        }
    }

    #[test]
    fn composites_are_rejected() {
        let mut ctx = BigNumContext::new().expect("context");
        // a Carmichael number, a product of two primes near 2^64, and a prime square
        for dec in [
            "561",
            "340282366920938463463374607431768211457",
            "18446744073709551557",
        ] {
            let p = BigNum::from_dec_str(dec).expect("number");
            let mut sq = BigNum::new().expect("bn");
            sq.checked_mul(&p, &p, &mut ctx).expect("mul");
            assert!(
                !probably_prime(&sq, 20, &mut ctx).expect("test runs"),
                "{dec}²"
            );
        }
        let carmichael = BigNum::from_dec_str("561").expect("number");
        assert!(!probably_prime(&carmichael, 20, &mut ctx).expect("test runs"));
        let mut ctx2 = BigNumContext::new().expect("context");
        let prime = BigNum::from_dec_str("18446744073709551557").expect("number");
        assert!(probably_prime(&prime, 20, &mut ctx2).expect("test runs"));
    }
}
