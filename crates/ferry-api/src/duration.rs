//! Durations written as Go's `time.ParseDuration` reads them (`1m30s`, `1.5h`, `300ms`) and
//! printed as Go's `Duration.String` does (`1m30s`, `5m0s`), since Flux's messages quote them.

use std::{fmt, str::FromStr, time::Duration};

/// What Flux's CRDs accept as a duration field: Go's syntax without signs or the `ns`/`us`
/// units.
pub const CRD_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

/// A duration with Go's text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GoDuration(pub Duration);

/// A duration that is not in Go's syntax.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid duration {input:?}: {reason}")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

impl FromStr for GoDuration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| DurationError {
            input: input.to_owned(),
            reason,
        };
        let mut rest = input.strip_prefix('+').unwrap_or(input);
        if rest.starts_with('-') {
            return Err(err("negative durations are not allowed"));
        }
        if rest == "0" {
            return Ok(Self(Duration::ZERO));
        }
        if rest.is_empty() {
            return Err(err("empty"));
        }
        let mut nanos: f64 = 0.0;
        while !rest.is_empty() {
            let number_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(|| err("missing unit"))?;
            if number_len == 0 {
                return Err(err("expected a number"));
            }
            let number: f64 = rest[..number_len].parse().map_err(|_| err("bad number"))?;
            rest = &rest[number_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let scale = match &rest[..unit_len] {
                "ns" => 1.0,
                "us" | "µs" | "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => return Err(err("unknown unit")),
            };
            rest = &rest[unit_len..];
            nanos += number * scale;
        }
        if !nanos.is_finite() || nanos > u64::MAX as f64 {
            return Err(err("out of range"));
        }
        Ok(Self(Duration::from_nanos(nanos.round() as u64)))
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.0.as_nanos();
        if total == 0 {
            return f.write_str("0s");
        }
        if total < 1_000_000_000 {
            // Go prints sub-second durations in the largest unit that keeps an integer part.
            let (unit, scale) = match total {
                n if n < 1_000 => ("ns", 1u128),
                n if n < 1_000_000 => ("µs", 1_000),
                _ => ("ms", 1_000_000),
            };
            return write!(f, "{}{unit}", trim_fraction(total, scale));
        }
        let secs_total = total / 1_000_000_000;
        let hours = secs_total / 3600;
        let minutes = (secs_total % 3600) / 60;
        let seconds = trim_fraction(total % 60_000_000_000, 1_000_000_000);
        if hours > 0 {
            write!(f, "{hours}h{minutes}m{seconds}s")
        } else if minutes > 0 {
            write!(f, "{minutes}m{seconds}s")
        } else {
            write!(f, "{seconds}s")
        }
    }
}

/// `value / scale` with its fractional digits, trailing zeros removed (`1.5`, `2`).
fn trim_fraction(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = scale.ilog10() as usize;
    let frac = format!("{frac:0digits$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

impl From<Duration> for GoDuration {
    fn from(d: Duration) -> Self {
        Self(d)
    }
}

/// Parses an optional duration field, falling back to `default` when it is absent.
pub fn parse_or(value: Option<&str>, default: Duration) -> Result<Duration, DurationError> {
    value.map_or(Ok(default), |v| v.parse::<GoDuration>().map(|d| d.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Duration {
        s.parse::<GoDuration>().unwrap().0
    }

    #[test]
    fn parses_go_syntax() {
        assert_eq!(parse("10m"), Duration::from_secs(600));
        assert_eq!(parse("1h30m"), Duration::from_secs(5400));
        assert_eq!(parse("1.5h"), Duration::from_secs(5400));
        assert_eq!(parse("300ms"), Duration::from_millis(300));
        assert_eq!(parse("2m0s"), Duration::from_secs(120));
        assert_eq!(parse("0"), Duration::ZERO);
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in ["", "10", "m", "-1s", "1x", "1.2.3s"] {
            assert!(
                bad.parse::<GoDuration>().is_err(),
                "{bad:?} must be rejected"
            );
        }
    }

    #[test]
    fn prints_like_go() {
        let show = |d: Duration| GoDuration(d).to_string();
        assert_eq!(show(Duration::from_secs(300)), "5m0s");
        assert_eq!(show(Duration::from_secs(90)), "1m30s");
        assert_eq!(show(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(show(Duration::from_millis(1500)), "1.5s");
        assert_eq!(show(Duration::from_millis(250)), "250ms");
        assert_eq!(show(Duration::ZERO), "0s");
    }
}
