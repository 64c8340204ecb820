//! Random primes for RSA keys, on OpenSSL's bignum arithmetic and random generator.
//!
//! OpenSSL's own generator runs at least 64 Miller-Rabin rounds on every prime it returns,
//! which makes an RSA-2048 key several times slower to make than Go's (Helm's) key
//! generation. This one draws a random odd start, sieves a window of odd numbers above it
//! by every odd prime below [`SIEVE_BOUND`], and runs Miller-Rabin on the survivors in
//! order: the number of Miller-Rabin rounds with random bases that FIPS 186-5 (appendix
//! B.3) asks for random candidates of this size, plus one (the chance of a composite
//! passing is below 2^-112).
//!
//! Nearly all the time goes into the first Miller-Rabin round of sieve survivors that are
//! composite (one modular exponentiation each), so the sieve is deep: Go's generator tries
//! about 67 candidates per 1024-bit prime (it divides by the primes below 380), a sieve to
//! 2^14 leaves about 41, this one about 32. What makes a deep sieve cheap is computing the
//! start's residues without a division per prime and limb: for each sieving prime the
//! table holds 2^(32j) mod p, and the residue is one sum of products (which vectorises)
//! and one reduction.

use std::sync::OnceLock;

use openssl::bn::{BigNum, BigNumContext, BigNumRef, MsbOption};
use openssl::error::ErrorStack;

/// Odd primes below this bound sieve the candidates.
const SIEVE_BOUND: u32 = 1 << 18;
/// Candidates of the table path: starts of at most this many 32-bit limbs (1024-bit
/// primes, RSA-2048); larger starts take one `BN_mod_word` per sieving prime.
const TABLE_LIMBS: usize = 32;
/// Odd numbers sieved above a random start (the expected distance between 1024-bit primes
/// is about 710, so a window without a prime, which triggers a fresh start, is rare).
const WINDOW: usize = 4096;

/// The sieving primes and, limb-major, `2^(32j) mod p` for each of them.
struct SieveTable {
    primes: Vec<u32>,
    /// `powers[j * primes.len() + k] = 2^(32j) mod primes[k]`
    powers: Vec<u32>,
}

fn sieve_table() -> &'static SieveTable {
    static TABLE: OnceLock<SieveTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let n = SIEVE_BOUND as usize;
        let mut composite = vec![false; n];
        let mut primes = vec![];
        for i in 2..n {
            if !composite[i] {
                if i > 2 {
                    primes.push(i as u32);
                }
                let mut j = i * i;
                while j < n {
                    composite[j] = true;
                    j += i;
                }
            }
        }
        let mut powers = Vec::with_capacity(TABLE_LIMBS * primes.len());
        powers.extend(primes.iter().map(|_| 1u32));
        for j in 1..TABLE_LIMBS {
            let prev = (j - 1) * primes.len();
            for k in 0..primes.len() {
                let p = u64::from(primes[k]);
                powers.push(((u64::from(powers[prev + k]) << 32) % p) as u32);
            }
        }
        SieveTable { primes, powers }
    })
}

/// `start mod p` for every sieving prime `p` (in table order).
fn residues(start: &BigNumRef, table: &SieveTable) -> Result<Vec<u32>, ErrorStack> {
    let bytes = start.to_vec();
    let limbs = bytes.len().div_ceil(4);
    if limbs > TABLE_LIMBS {
        return table
            .primes
            .iter()
            .map(|&p| start.mod_word(p).map(|r| r as u32))
            .collect();
    }
    // little-endian 32-bit limbs of the big-endian bytes
    let limb = |j: usize| -> u64 {
        let end = bytes.len() - 4 * j;
        let begin = end.saturating_sub(4);
        bytes[begin..end]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    };
    let n = table.primes.len();
    // Σ limb_j · (2^(32j) mod p): 32 terms below 2^32 · 2^18 each, so no overflow
    let mut acc = vec![0u64; n];
    for j in 0..limbs {
        let l = limb(j);
        let row = &table.powers[j * n..(j + 1) * n];
        for (a, &c) in acc.iter_mut().zip(row) {
            *a += l * u64::from(c);
        }
    }
    Ok(acc
        .iter()
        .zip(&table.primes)
        .map(|(&a, &p)| (a % u64::from(p)) as u32)
        .collect())
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
/// `2*bits` bits) with `gcd(p-1, e) = 1`, for a prime `e`.
pub fn random_prime(bits: i32, e: u32, ctx: &mut BigNumContext) -> Result<BigNum, ErrorStack> {
    let table = sieve_table();
    // a sieving prime must stay below every candidate, or it would strike itself out
    let usable = if bits > 19 {
        table.primes.len()
    } else {
        let below = 1u32 << (bits.max(2) - 2);
        table.primes.partition_point(|&p| p < below)
    };
    let mut composite = vec![false; WINDOW];
    loop {
        let mut start = BigNum::new()?;
        start.rand(bits, MsbOption::TWO_ONES, true)?;
        composite.fill(false);
        let res = residues(&start, table)?;
        for (&p, &r) in table.primes[..usable].iter().zip(&res) {
            // start + 2i ≡ 0 (mod p)  ⇔  i ≡ (p - r)·(p + 1)/2  (mod p)
            let p64 = u64::from(p);
            let mut i = ((p64 - u64::from(r)) % p64 * p64.div_ceil(2) % p64) as usize;
            while i < WINDOW {
                composite[i] = true;
                i += p as usize;
            }
        }
        // p ≡ 1 (mod e) would make e share a factor with p-1 (e is prime)
        let start_mod_e = start.mod_word(e)?;
        for (i, &struck) in composite.iter().enumerate() {
            let step = 2 * i as u64;
            if struck || (start_mod_e + step) % u64::from(e) == 1 {
                continue;
            }
            let mut cand = start.to_owned()?;
            cand.add_word(step as u32)?;
            if cand.num_bits() != bits {
                break;
            }
            if probably_prime(&cand, rounds(bits), ctx)? {
                return Ok(cand);
            }
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
        for bits in [24, 64, 256, 512, 1024, 1100] {
            let p = random_prime(bits, 65537, &mut ctx).expect("prime");
            assert_eq!(p.num_bits(), bits);
            assert!(p.is_prime(64, &mut ctx).expect("test runs"), "{bits} bits");
            assert_ne!(p.mod_word(65537).expect("mod"), 1);
        }
    }

    #[test]
    fn table_residues_match_division() {
        let table = sieve_table();
        for bits in [1, 31, 32, 33, 500, 1024, 1025, 2048] {
            let mut n = BigNum::new().expect("bn");
            n.rand(bits, MsbOption::ONE, false).expect("rand");
            let got = residues(&n, table).expect("residues");
            for (k, &p) in table.primes.iter().enumerate().step_by(97) {
                assert_eq!(
                    u64::from(got[k]),
                    n.mod_word(p).expect("mod"),
                    "{bits} bits mod {p}"
                );
            }
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
