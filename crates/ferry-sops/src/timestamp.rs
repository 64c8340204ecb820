//! The timestamps sops handles, read and written as Go's `time` package does:
//! YAML `!!timestamp` values (go-yaml's four layouts), the `type:time` values
//! of encrypted files, and `sops.lastmodified` (whose RFC 3339 form is the
//! additional data of the MAC).

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Offset from UTC in seconds (0 prints as `Z`).
    offset: i32,
}

/// A cursor over the text being parsed.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl Cursor<'_> {
    fn literal(&mut self, c: u8) -> Option<()> {
        let (&first, rest) = self.rest.split_first()?;
        if first != c {
            return None;
        }
        self.rest = rest;
        Some(())
    }

    /// Go's `getnum`: one or two digits, or exactly two when `fixed`.
    fn number(&mut self, fixed: bool) -> Option<u32> {
        let d0 = *self.rest.first().filter(|b| b.is_ascii_digit())?;
        match self.rest.get(1).filter(|b| b.is_ascii_digit()) {
            Some(&d1) => {
                self.rest = &self.rest[2..];
                Some(u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'))
            }
            None if fixed => None,
            None => {
                self.rest = &self.rest[1..];
                Some(u32::from(d0 - b'0'))
            }
        }
    }

    fn year(&mut self) -> Option<i32> {
        if self.rest.len() < 4 || !self.rest[..4].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let text = std::str::from_utf8(&self.rest[..4]).ok()?;
        self.rest = &self.rest[4..];
        text.parse().ok()
    }

    /// An optional `.ddd` (or `,ddd`) fraction: nanoseconds, extra digits
    /// beyond nine ignored as Go does.
    fn fraction(&mut self) -> u32 {
        if self.rest.len() >= 2
            && matches!(self.rest[0], b'.' | b',')
            && self.rest[1].is_ascii_digit()
        {
            let mut n = 1;
            while n < self.rest.len() && self.rest[n].is_ascii_digit() {
                n += 1;
            }
            let digits = &self.rest[1..n];
            let mut nanos: u32 = 0;
            for i in 0..9 {
                nanos = nanos * 10 + digits.get(i).map_or(0, |d| u32::from(d - b'0'));
            }
            self.rest = &self.rest[n..];
            nanos
        } else {
            0
        }
    }

    /// `Z07:00`: `Z` or `±hh:mm`.
    fn zone(&mut self) -> Option<i32> {
        if self.literal(b'Z').is_some() {
            return Some(0);
        }
        if self.rest.len() < 6 || self.rest[3] != b':' {
            return None;
        }
        let sign = match self.rest[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.rest = &self.rest[1..];
        let hours = self.number(true)?;
        self.literal(b':')?;
        let minutes = self.number(true)?;
        if hours > 24 || minutes > 60 {
            return None;
        }
        Some(sign * (hours as i32 * 3600 + minutes as i32 * 60))
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap { 29 } else { 28 }
        }
    }
}

impl Timestamp {
    fn validated(self) -> Option<Timestamp> {
        let ok = (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60;
        ok.then_some(self)
    }

    /// The layouts go-yaml v3 recognises for plain scalars:
    /// `2006-1-2T15:4:5.999999999Z07:00` (also with `t`),
    /// `2006-1-2 15:4:5.999999999` and `2006-1-2`.
    pub fn parse_yaml(text: &str) -> Option<Timestamp> {
        let bytes = text.as_bytes();
        if bytes.len() < 5 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
            return None;
        }
        for layout in 0..4 {
            let mut c = Cursor { rest: bytes };
            let parsed = (|| {
                let year = c.year()?;
                c.literal(b'-')?;
                let month = c.number(false)?;
                c.literal(b'-')?;
                let day = c.number(false)?;
                let mut ts = Timestamp {
                    year,
                    month,
                    day,
                    hour: 0,
                    minute: 0,
                    second: 0,
                    nanos: 0,
                    offset: 0,
                };
                if layout == 3 {
                    return c.rest.is_empty().then_some(ts);
                }
                c.literal([b'T', b't', b' '][layout])?;
                ts.hour = c.number(false)?;
                c.literal(b':')?;
                ts.minute = c.number(false)?;
                c.literal(b':')?;
                ts.second = c.number(false)?;
                ts.nanos = c.fraction();
                if layout < 2 {
                    ts.offset = c.zone()?;
                }
                c.rest.is_empty().then_some(ts)
            })();
            if let Some(ts) = parsed.and_then(Timestamp::validated) {
                return Some(ts);
            }
        }
        None
    }

    /// Go's `time.Parse(time.RFC3339, text)` (fractional seconds accepted).
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let mut c = Cursor {
            rest: text.as_bytes(),
        };
        let year = c.year()?;
        c.literal(b'-')?;
        let month = c.number(true)?;
        c.literal(b'-')?;
        let day = c.number(true)?;
        c.literal(b'T')?;
        let hour = c.number(true)?;
        c.literal(b':')?;
        let minute = c.number(true)?;
        c.literal(b':')?;
        let second = c.number(true)?;
        let nanos = c.fraction();
        let offset = c.zone()?;
        if !c.rest.is_empty() {
            return None;
        }
        Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset,
        }
        .validated()
    }

    fn write_base(&self, out: &mut String) {
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
    }

    fn write_zone(&self, out: &mut String) {
        if self.offset == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let abs = self.offset.unsigned_abs();
            let _ = write!(out, "{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60);
        }
    }

    /// `time.RFC3339`: whole seconds.
    pub fn format_rfc3339(&self) -> String {
        let mut out = String::new();
        self.write_base(&mut out);
        self.write_zone(&mut out);
        out
    }

    /// `time.RFC3339Nano`: fraction without trailing zeros.
    pub fn format_rfc3339_nano(&self) -> String {
        let mut out = String::new();
        self.write_base(&mut out);
        if self.nanos != 0 {
            let fraction = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(fraction.trim_end_matches('0'));
        }
        self.write_zone(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn yaml_layouts_format_like_go() {
        let cases = [
            ("2024-01-01", "2024-01-01T00:00:00Z"),
            ("2001-12-14 21:59:43.10", "2001-12-14T21:59:43.1Z"),
            ("2024-01-01T10:00:00+02:00", "2024-01-01T10:00:00+02:00"),
            ("2024-1-2t3:4:5Z", "2024-01-02T03:04:05Z"),
        ];
        for (input, want) in cases {
            let ts = Timestamp::parse_yaml(input).expect(input);
            assert_eq!(ts.format_rfc3339_nano(), want);
        }
        assert!(Timestamp::parse_yaml("2023-02-29").is_none());
        assert!(Timestamp::parse_yaml("2001-12-14 21:59:43.10 -5").is_none());
        assert!(Timestamp::parse_yaml("12345").is_none());
    }

    #[test]
    fn rfc3339_round_trip() {
        let ts = Timestamp::parse_rfc3339("2025-08-06T18:55:05Z").expect("valid");
        assert_eq!(ts.format_rfc3339(), "2025-08-06T18:55:05Z");
        let ts = Timestamp::parse_rfc3339("2025-08-06T18:55:05.123+01:00").expect("valid");
        assert_eq!(ts.format_rfc3339(), "2025-08-06T18:55:05+01:00");
        assert!(Timestamp::parse_rfc3339("2025-8-06T18:55:05Z").is_none());
    }
}
