//! Shamir's secret sharing over GF(2^8), as sops uses it for key groups.
//!
//! Each share is the polynomial's value at one point, byte by byte, with the
//! point's x coordinate appended as the last byte (the layout of the
//! HashiCorp Vault implementation sops vendors). The secret is the
//! polynomial's value at x = 0, recovered by Lagrange interpolation. The
//! field is GF(2^8) with the AES reduction polynomial x^8 + x^4 + x^3 + x + 1.

use zeroize::Zeroizing;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ShamirError {
    #[error("less than two parts cannot be used to reconstruct the secret")]
    TooFewParts,
    #[error("all parts must be the same length and at least two bytes long")]
    BadLength,
    #[error("duplicate part detected")]
    DuplicatePart,
}

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, without
/// data-dependent branches.
fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1b & carry);
        b >>= 1;
    }
    product
}

/// The multiplicative inverse (a^254); zero maps to zero.
fn inverse(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut exponent = 254u8;
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        exponent >>= 1;
    }
    result
}

/// Recovers the secret from at least two shares.
pub(crate) fn combine(parts: &[Zeroizing<Vec<u8>>]) -> Result<Zeroizing<Vec<u8>>, ShamirError> {
    if parts.len() < 2 {
        return Err(ShamirError::TooFewParts);
    }
    let len = parts[0].len();
    if len < 2 || parts.iter().any(|p| p.len() != len) {
        return Err(ShamirError::BadLength);
    }
    let xs: Vec<u8> = parts.iter().map(|p| p[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err(ShamirError::DuplicatePart);
        }
    }
    // Lagrange basis at x = 0: prod_{j != i} x_j / (x_i - x_j); subtraction
    // is XOR in GF(2^8).
    let basis: Vec<u8> = (0..xs.len())
        .map(|i| {
            (0..xs.len())
                .filter(|&j| j != i)
                .fold(1u8, |acc, j| mul(acc, mul(xs[j], inverse(xs[i] ^ xs[j]))))
        })
        .collect();
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (byte, out) in secret.iter_mut().enumerate() {
        *out = parts
            .iter()
            .zip(&basis)
            .fold(0u8, |acc, (part, &b)| acc ^ mul(part[byte], b));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic_is_consistent() {
        assert_eq!(mul(0x57, 0x83), 0xc1); // FIPS-197 example
        for a in 1..=255u8 {
            assert_eq!(mul(a, inverse(a)), 1);
        }
    }

    #[test]
    fn interpolates_a_line_through_two_points() {
        // f(x) = 0x42 + 0x07·x evaluated at x = 1 and x = 2.
        let share = |x: u8| Zeroizing::new(vec![0x42 ^ mul(0x07, x), x]);
        let secret = combine(&[share(1), share(2)]).expect("combines");
        assert_eq!(secret.as_slice(), &[0x42]);
        assert_eq!(combine(&[share(1)]), Err(ShamirError::TooFewParts));
        assert_eq!(
            combine(&[share(1), share(1)]),
            Err(ShamirError::DuplicatePart)
        );
    }
}
