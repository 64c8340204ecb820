//! RFC 3339 timestamps as Kubernetes writes them (`2024-01-02T03:04:05Z`, with an optional
//! fraction and offset), parsed only far enough to compare two of them.

/// A point in time: seconds since the Unix epoch and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; a space may stand for the `T`.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        let (date, rest) = text.split_at_checked(10)?;
        let rest = rest.strip_prefix(['T', 't', ' '])?;
        let mut date_parts = date.split('-');
        let year = digits(date_parts.next()?)?;
        let month = digits(date_parts.next()?)?;
        let day = digits(date_parts.next()?)?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let (clock, fraction) = match clock.split_once('.') {
            Some((clock, fraction)) => (clock, fraction),
            None => (clock, ""),
        };
        let mut clock_parts = clock.split(':');
        let hour = digits(clock_parts.next()?)?;
        let minute = digits(clock_parts.next()?)?;
        let second = digits(clock_parts.next()?)?;
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let nanos = if fraction.is_empty() {
            0
        } else {
            let kept: String = fraction.chars().take(9).collect();
            let value = u32::try_from(digits(&kept)?).ok()?;
            value * 10u32.pow(9 - kept.len() as u32)
        };
        let offset = match zone {
            "" | "Z" | "z" => 0,
            _ => {
                let sign = if zone.starts_with('-') { -1 } else { 1 };
                let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
                sign * (digits(h)? * 3600 + digits(m)? * 60)
            }
        };
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
                - offset;
        Some(Timestamp { seconds, nanos })
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn parses_and_orders_rfc3339() {
        let a = Timestamp::parse("2025-07-30T13:46:00Z").expect("valid");
        let b = Timestamp::parse("2025-07-30T13:44:19.5Z").expect("valid");
        assert!(a > b);
        let c = Timestamp::parse("2025-07-30T15:46:00+02:00").expect("valid");
        assert_eq!(a, c);
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00Z"),
            Some(Timestamp {
                seconds: 0,
                nanos: 0
            })
        );
        assert_eq!(
            Timestamp::parse("2018-12-02 10:16:04+00:00").map(|t| t.seconds),
            Some(1_543_745_764)
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "yesterday",
            "2025-13-01T00:00:00Z",
            "2025-01-01",
            "2025-01-01T1:2Z",
            "ä025-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }
}
