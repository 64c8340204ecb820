//! Go's `time` package as Sprig exposes it: `time.Time` values, reference-time layouts
//! ("2006-01-02T15:04:05Z07:00") for formatting and parsing, durations.

use std::rc::Rc;
use std::sync::OnceLock;

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use super::{Reg, arg_str, err, s};
use crate::object::{Object, Param, Sig};
use crate::template::GoError;
use crate::value::{IntKind, Value};

type R = Result<Value, GoError>;

/// A `time.Time`: an instant in a location, and for `now` a monotonic clock reading.
pub struct GoTime {
    pub zoned: Zoned,
    /// Seconds since process start, printed as Go's `m=+0.000000001` suffix.
    pub mono: Option<f64>,
}

fn process_start() -> std::time::Instant {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    *START.get_or_init(std::time::Instant::now)
}

pub fn now() -> GoTime {
    let start = process_start();
    let zoned = Zoned::now().with_time_zone(local());
    GoTime {
        zoned,
        mono: Some(start.elapsed().as_secs_f64()),
    }
}

fn local() -> TimeZone {
    TimeZone::try_system().unwrap_or(TimeZone::UTC)
}

/// Go's `time.LoadLocation`.
fn load_location(name: &str) -> Option<TimeZone> {
    match name {
        "" | "UTC" => Some(TimeZone::UTC),
        "Local" => Some(local()),
        other => TimeZone::get(other).ok(),
    }
}

fn unix(secs: i64) -> GoTime {
    let ts = Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH);
    GoTime {
        zoned: ts.to_zoned(local()),
        mono: None,
    }
}

/// Go's zero time, `0001-01-01 00:00:00 +0000 UTC`.
fn zero_time() -> GoTime {
    let ts = Timestamp::from_second(-62135596800).unwrap_or(Timestamp::MIN);
    GoTime {
        zoned: ts.to_zoned(TimeZone::UTC),
        mono: None,
    }
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[derive(Clone, Copy, PartialEq, Debug)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    ISO8601TZ,
    ISO8601SecondsTZ,
    ISO8601ShortTZ,
    ISO8601ColonTZ,
    ISO8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTz,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    /// fractional seconds: digits, trim zeros ('9'), separator
    Frac(usize, bool, u8),
}

fn starts_lower(s: &[u8]) -> bool {
    s.first().is_some_and(|c| c.is_ascii_lowercase())
}

/// Go's `nextStdChunk`: (prefix, std, suffix).
fn next_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let n = b.len();
    let has = |i: usize, s: &str| layout[i..].starts_with(s);
    for i in 0..n {
        let r = |std: Std, len: usize| (&layout[..i], Some(std), &layout[i + len..]);
        match b[i] {
            b'J' if has(i, "Jan") => {
                if has(i, "January") {
                    return r(Std::LongMonth, 7);
                }
                if !starts_lower(&b[i + 3..]) {
                    return r(Std::Month, 3);
                }
            }
            b'M' => {
                if has(i, "Mon") {
                    if has(i, "Monday") {
                        return r(Std::LongWeekDay, 6);
                    }
                    if !starts_lower(&b[i + 3..]) {
                        return r(Std::WeekDay, 3);
                    }
                }
                if has(i, "MST") {
                    return r(Std::TZ, 3);
                }
            }
            b'0' => {
                if i + 1 < n && (b'1'..=b'6').contains(&b[i + 1]) {
                    let std = [
                        Std::ZeroMonth,
                        Std::ZeroDay,
                        Std::ZeroHour12,
                        Std::ZeroMinute,
                        Std::ZeroSecond,
                        Std::Year,
                    ][(b[i + 1] - b'1') as usize];
                    return r(std, 2);
                }
                if has(i, "002") {
                    return r(Std::ZeroYearDay, 3);
                }
            }
            b'1' => {
                if i + 1 < n && b[i + 1] == b'5' {
                    return r(Std::Hour, 2);
                }
                return r(Std::NumMonth, 1);
            }
            b'2' => {
                if has(i, "2006") {
                    return r(Std::LongYear, 4);
                }
                return r(Std::Day, 1);
            }
            b'_' => {
                if i + 1 < n && b[i + 1] == b'2' {
                    if has(i + 1, "2006") {
                        return (&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]);
                    }
                    return r(Std::UnderDay, 2);
                }
                if has(i, "__2") {
                    return r(Std::UnderYearDay, 3);
                }
            }
            b'3' => return r(Std::Hour12, 1),
            b'4' => return r(Std::Minute, 1),
            b'5' => return r(Std::Second, 1),
            b'P' if i + 1 < n && b[i + 1] == b'M' => return r(Std::PM, 2),
            b'p' if i + 1 < n && b[i + 1] == b'm' => return r(Std::Pm, 2),
            b'-' => {
                for (pat, std) in [
                    ("-070000", Std::NumSecondsTz),
                    ("-07:00:00", Std::NumColonSecondsTZ),
                    ("-0700", Std::NumTZ),
                    ("-07:00", Std::NumColonTZ),
                    ("-07", Std::NumShortTZ),
                ] {
                    if has(i, pat) {
                        return r(std, pat.len());
                    }
                }
            }
            b'Z' => {
                for (pat, std) in [
                    ("Z070000", Std::ISO8601SecondsTZ),
                    ("Z07:00:00", Std::ISO8601ColonSecondsTZ),
                    ("Z0700", Std::ISO8601TZ),
                    ("Z07:00", Std::ISO8601ColonTZ),
                    ("Z07", Std::ISO8601ShortTZ),
                ] {
                    if has(i, pat) {
                        return r(std, pat.len());
                    }
                }
            }
            b'.' | b',' if i + 1 < n && (b[i + 1] == b'0' || b[i + 1] == b'9') => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < n && b[j] == ch {
                    j += 1;
                }
                if !(j < n && b[j].is_ascii_digit()) {
                    return (
                        &layout[..i],
                        Some(Std::Frac(j - (i + 1), ch == b'9', b[i])),
                        &layout[j..],
                    );
                }
            }
            _ => {}
        }
    }
    (layout, None, "")
}

fn pad(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        out.push('-');
        out.push_str(&format!("{:0width$}", -v, width = width));
    } else {
        out.push_str(&format!("{:0width$}", v, width = width));
    }
}

fn zone_abbrev(z: &Zoned) -> String {
    let info = z.time_zone().to_offset_info(z.timestamp());
    info.abbreviation().to_string()
}

/// Go's `Time.Format`.
pub fn format(t: &Zoned, layout: &str) -> String {
    let mut out = String::new();
    let mut rest = layout;
    let year = t.year() as i64;
    let month = t.month() as usize;
    let day = t.day() as i64;
    let hour = t.hour() as i64;
    let minute = t.minute() as i64;
    let second = t.second() as i64;
    let nanos = t.subsec_nanosecond() as i64;
    let offset = t.offset().seconds() as i64;
    let weekday = t.weekday().to_sunday_zero_offset() as usize;
    let yday = t.day_of_year() as i64;
    loop {
        let (prefix, std, suffix) = next_chunk(rest);
        out.push_str(prefix);
        let Some(std) = std else { break };
        rest = suffix;
        match std {
            Std::Year => pad(&mut out, (year % 100).abs(), 2),
            Std::LongYear => pad(&mut out, year, 4),
            Std::Month => out.push_str(&LONG_MONTHS[month - 1][..3]),
            Std::LongMonth => out.push_str(LONG_MONTHS[month - 1]),
            Std::NumMonth => out.push_str(&month.to_string()),
            Std::ZeroMonth => pad(&mut out, month as i64, 2),
            Std::WeekDay => out.push_str(&LONG_DAYS[weekday][..3]),
            Std::LongWeekDay => out.push_str(LONG_DAYS[weekday]),
            Std::Day => out.push_str(&day.to_string()),
            Std::UnderDay => {
                if day < 10 {
                    out.push(' ');
                }
                out.push_str(&day.to_string());
            }
            Std::ZeroDay => pad(&mut out, day, 2),
            Std::UnderYearDay => out.push_str(&format!("{yday:>3}")),
            Std::ZeroYearDay => pad(&mut out, yday, 3),
            Std::Hour => pad(&mut out, hour, 2),
            Std::Hour12 => {
                let h = if hour % 12 == 0 { 12 } else { hour % 12 };
                out.push_str(&h.to_string());
            }
            Std::ZeroHour12 => {
                let h = if hour % 12 == 0 { 12 } else { hour % 12 };
                pad(&mut out, h, 2);
            }
            Std::Minute => out.push_str(&minute.to_string()),
            Std::ZeroMinute => pad(&mut out, minute, 2),
            Std::Second => out.push_str(&second.to_string()),
            Std::ZeroSecond => pad(&mut out, second, 2),
            Std::PM => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
            Std::Pm => out.push_str(if hour >= 12 { "pm" } else { "am" }),
            Std::TZ => {
                let name = zone_abbrev(t);
                if !name.is_empty() && !name.starts_with(['+', '-']) {
                    out.push_str(&name);
                } else {
                    let z = offset / 60;
                    out.push(if z < 0 { '-' } else { '+' });
                    pad(&mut out, z.abs() / 60, 2);
                    pad(&mut out, z.abs() % 60, 2);
                }
            }
            Std::ISO8601TZ
            | Std::ISO8601SecondsTZ
            | Std::ISO8601ShortTZ
            | Std::ISO8601ColonTZ
            | Std::ISO8601ColonSecondsTZ
            | Std::NumTZ
            | Std::NumSecondsTz
            | Std::NumShortTZ
            | Std::NumColonTZ
            | Std::NumColonSecondsTZ => {
                let iso = matches!(
                    std,
                    Std::ISO8601TZ
                        | Std::ISO8601SecondsTZ
                        | Std::ISO8601ShortTZ
                        | Std::ISO8601ColonTZ
                        | Std::ISO8601ColonSecondsTZ
                );
                if iso && offset == 0 {
                    out.push('Z');
                    continue;
                }
                let z = offset / 60;
                let abs = offset.abs();
                out.push(if z < 0 || offset < 0 { '-' } else { '+' });
                pad(&mut out, z.abs() / 60, 2);
                let colon = matches!(
                    std,
                    Std::ISO8601ColonTZ
                        | Std::NumColonTZ
                        | Std::ISO8601ColonSecondsTZ
                        | Std::NumColonSecondsTZ
                );
                if !matches!(std, Std::ISO8601ShortTZ | Std::NumShortTZ) {
                    if colon {
                        out.push(':');
                    }
                    pad(&mut out, z.abs() % 60, 2);
                }
                if matches!(
                    std,
                    Std::ISO8601SecondsTZ
                        | Std::NumSecondsTz
                        | Std::NumColonSecondsTZ
                        | Std::ISO8601ColonSecondsTZ
                ) {
                    if colon {
                        out.push(':');
                    }
                    pad(&mut out, abs % 60, 2);
                }
            }
            Std::Frac(n, trim, sep) => {
                let digits = format!("{nanos:09}");
                let mut d = digits[..n.min(9)].to_string();
                if trim {
                    while d.ends_with('0') {
                        d.pop();
                    }
                    if d.is_empty() {
                        continue;
                    }
                }
                out.push(sep as char);
                out.push_str(&d);
            }
        }
    }
    out
}

/// Go's `Time.String`.
fn go_time_string(t: &GoTime) -> String {
    let mut s = format(&t.zoned, "2006-01-02 15:04:05.999999999 -0700 MST");
    if let Some(m) = t.mono {
        s.push_str(&format!(" m=+{m:.9}"));
    }
    s
}

fn parse_err(value: &str, layout: &str, elem: &str, rest: &str) -> String {
    format!(
        "parsing time {} as {}: cannot parse {} as {}",
        crate::gofmt::quote(value),
        crate::gofmt::quote(layout),
        crate::gofmt::quote(rest),
        crate::gofmt::quote(elem)
    )
}

fn take_digits(s: &str, min: usize, max: usize) -> Option<(i64, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// Go's `time.ParseInLocation` for the layout elements charts use.
pub fn parse_in(layout: &str, value: &str, loc: &TimeZone) -> Result<GoTime, String> {
    let (mut year, mut month, mut day, mut hour, mut min, mut sec, mut nanos) =
        (1i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0i64);
    let mut pm: Option<bool> = None;
    let mut offset: Option<i64> = None;
    let mut rest_layout = layout;
    let mut v = value;
    loop {
        let (prefix, std, suffix) = next_chunk(rest_layout);
        let elem = &rest_layout[prefix.len()..rest_layout.len() - suffix.len()];
        if !v.starts_with(prefix) {
            return Err(parse_err(value, layout, prefix, v));
        }
        v = &v[prefix.len()..];
        let Some(std) = std else {
            if !v.is_empty() {
                return Err(format!(
                    "parsing time {}: extra text: {}",
                    crate::gofmt::quote(value),
                    crate::gofmt::quote(v)
                ));
            }
            break;
        };
        rest_layout = suffix;
        let fail = |v: &str| parse_err(value, layout, elem, v);
        match std {
            Std::LongYear => {
                let (n, r) = take_digits(v, 4, 4).ok_or_else(|| fail(v))?;
                year = n;
                v = r;
            }
            Std::Year => {
                let (n, r) = take_digits(v, 2, 2).ok_or_else(|| fail(v))?;
                year = if n >= 69 { 1900 + n } else { 2000 + n };
                v = r;
            }
            Std::Month | Std::LongMonth => {
                let found = LONG_MONTHS.iter().enumerate().find_map(|(i, m)| {
                    let pat = if std == Std::Month { &m[..3] } else { m };
                    v.get(..pat.len())
                        .filter(|p| p.eq_ignore_ascii_case(pat))
                        .map(|_| (i, pat.len()))
                });
                let (i, len) = found.ok_or_else(|| fail(v))?;
                month = i as i64 + 1;
                v = &v[len..];
            }
            Std::NumMonth | Std::ZeroMonth => {
                let (n, r) = take_digits(v, if std == Std::ZeroMonth { 2 } else { 1 }, 2)
                    .ok_or_else(|| fail(v))?;
                if !(1..=12).contains(&n) {
                    return Err(format!(
                        "parsing time {}: month out of range",
                        crate::gofmt::quote(value)
                    ));
                }
                month = n;
                v = r;
            }
            Std::WeekDay | Std::LongWeekDay => {
                let found = LONG_DAYS.iter().find_map(|d| {
                    let pat = if std == Std::WeekDay { &d[..3] } else { d };
                    v.get(..pat.len())
                        .filter(|p| p.eq_ignore_ascii_case(pat))
                        .map(|_| pat.len())
                });
                let len = found.ok_or_else(|| fail(v))?;
                v = &v[len..];
            }
            Std::Day | Std::ZeroDay | Std::UnderDay => {
                if std == Std::UnderDay && v.starts_with(' ') {
                    v = &v[1..];
                }
                let (n, r) = take_digits(v, if std == Std::ZeroDay { 2 } else { 1 }, 2)
                    .ok_or_else(|| fail(v))?;
                day = n;
                v = r;
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                let t = v.trim_start_matches(' ');
                let (_, r) = take_digits(t, 3, 3).ok_or_else(|| fail(v))?;
                v = r;
            }
            Std::Hour => {
                let (n, r) = take_digits(v, 2, 2).ok_or_else(|| fail(v))?;
                hour = n;
                v = r;
            }
            Std::Hour12 | Std::ZeroHour12 => {
                let (n, r) = take_digits(v, if std == Std::ZeroHour12 { 2 } else { 1 }, 2)
                    .ok_or_else(|| fail(v))?;
                hour = n;
                v = r;
            }
            Std::Minute | Std::ZeroMinute => {
                let (n, r) = take_digits(v, if std == Std::ZeroMinute { 2 } else { 1 }, 2)
                    .ok_or_else(|| fail(v))?;
                min = n;
                v = r;
            }
            Std::Second | Std::ZeroSecond => {
                let (n, r) = take_digits(v, if std == Std::ZeroSecond { 2 } else { 1 }, 2)
                    .ok_or_else(|| fail(v))?;
                sec = n;
                v = r;
                // a fractional second may follow even if the layout does not say so
                if v.len() > 1
                    && (v.starts_with('.') || v.starts_with(','))
                    && v.as_bytes()[1].is_ascii_digit()
                {
                    let (_, next, _) = next_chunk(rest_layout);
                    if !matches!(next, Some(Std::Frac(..))) {
                        let digits: String =
                            v[1..].chars().take_while(char::is_ascii_digit).collect();
                        nanos = format!("{:0<9}", &digits[..digits.len().min(9)])
                            .parse()
                            .unwrap_or(0);
                        v = &v[1 + digits.len()..];
                    }
                }
            }
            Std::Frac(n, trim, _) => {
                if trim {
                    if v.starts_with('.') || v.starts_with(',') {
                        let digits: String =
                            v[1..].chars().take_while(char::is_ascii_digit).collect();
                        nanos = format!("{:0<9}", &digits[..digits.len().min(9)])
                            .parse()
                            .unwrap_or(0);
                        v = &v[1 + digits.len()..];
                    }
                } else {
                    if v.len() < n + 1 {
                        return Err(fail(v));
                    }
                    let digits = &v[1..n + 1];
                    if !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(fail(v));
                    }
                    nanos = format!("{:0<9}", &digits[..digits.len().min(9)])
                        .parse()
                        .unwrap_or(0);
                    v = &v[n + 1..];
                }
            }
            Std::PM | Std::Pm => {
                let p = v.get(..2).ok_or_else(|| fail(v))?;
                match p.to_ascii_uppercase().as_str() {
                    "PM" => pm = Some(true),
                    "AM" => pm = Some(false),
                    _ => return Err(fail(v)),
                }
                v = &v[2..];
            }
            Std::TZ => {
                if v.starts_with("UTC") {
                    offset = Some(0);
                    v = &v[3..];
                } else {
                    let n = v.bytes().take_while(u8::is_ascii_uppercase).count();
                    if n < 3 {
                        return Err(fail(v));
                    }
                    v = &v[n..];
                }
            }
            _ => {
                // numeric or ISO 8601 zone
                if v.starts_with('Z')
                    && matches!(
                        std,
                        Std::ISO8601TZ
                            | Std::ISO8601SecondsTZ
                            | Std::ISO8601ShortTZ
                            | Std::ISO8601ColonTZ
                            | Std::ISO8601ColonSecondsTZ
                    )
                {
                    offset = Some(0);
                    v = &v[1..];
                    continue;
                }
                let sign = match v.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return Err(fail(v)),
                };
                let mut t = &v[1..];
                let (hh, r) = take_digits(t, 2, 2).ok_or_else(|| fail(v))?;
                t = r;
                let mut mm = 0;
                if !matches!(std, Std::NumShortTZ | Std::ISO8601ShortTZ) {
                    t = t.strip_prefix(':').unwrap_or(t);
                    let (m, r) = take_digits(t, 2, 2).ok_or_else(|| fail(v))?;
                    mm = m;
                    t = r;
                }
                offset = Some(sign * (hh * 3600 + mm * 60));
                v = t;
            }
        }
    }
    if let Some(p) = pm {
        if p && hour < 12 {
            hour += 12;
        } else if !p && hour == 12 {
            hour = 0;
        }
    }
    let dt = jiff::civil::DateTime::new(
        year as i16,
        month as i8,
        day as i8,
        hour as i8,
        min as i8,
        sec as i8,
        nanos as i32,
    )
    .map_err(|_| {
        format!(
            "parsing time {}: day out of range",
            crate::gofmt::quote(value)
        )
    })?;
    let zoned = match offset {
        Some(off) => {
            let tz = if off == 0 {
                TimeZone::UTC
            } else {
                TimeZone::fixed(
                    jiff::tz::Offset::from_seconds(off as i32).map_err(|e| e.to_string())?,
                )
            };
            dt.to_zoned(tz).map_err(|e| e.to_string())?
        }
        None => dt.to_zoned(loc.clone()).map_err(|e| e.to_string())?,
    };
    Ok(GoTime { zoned, mono: None })
}

/// Go's `time.Duration.String`.
pub fn duration_string(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let int = u / 10u64.pow(prec);
        let frac = u % 10u64.pow(prec);
        out.push_str(&int.to_string());
        if frac != 0 {
            let f = format!("{:0width$}", frac, width = prec as usize);
            out.push('.');
            out.push_str(f.trim_end_matches('0'));
        }
        out.push_str(unit);
    } else {
        let secs = u / 1_000_000_000;
        let frac = u % 1_000_000_000;
        let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&s.to_string());
        if frac != 0 {
            let f = format!("{frac:09}");
            out.push('.');
            out.push_str(f.trim_end_matches('0'));
        }
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let orig = s;
    let bad = || format!("time: invalid duration {}", crate::gofmt::quote(orig));
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !s.is_empty() {
        let n = s
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if n == 0 {
            return Err(bad());
        }
        let num: f64 = s[..n].parse().map_err(|_| bad())?;
        s = &s[n..];
        let u = s
            .chars()
            .take_while(|c| !c.is_ascii_digit() && *c != '.')
            .collect::<String>();
        if u.is_empty() {
            return Err(format!(
                "time: missing unit in duration {}",
                crate::gofmt::quote(orig)
            ));
        }
        let mult: f64 = match u.as_str() {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    crate::gofmt::quote(&u),
                    crate::gofmt::quote(orig)
                ));
            }
        };
        total += num * mult;
        s = &s[u.len()..];
    }
    if total > i64::MAX as f64 {
        return Err(bad());
    }
    let v = total.round() as i64;
    Ok(if neg { -v } else { v })
}

impl Object for GoTime {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn type_name(&self) -> &'static str {
        "time.Time"
    }
    fn kind_name(&self) -> &'static str {
        "struct"
    }
    fn method(&self, name: &str) -> Option<Sig> {
        const I3: &[Param] = &[Param::Int, Param::Int, Param::Int];
        Some(match name {
            "Format" => Sig::STR,
            "AddDate" => Sig {
                params: I3,
                variadic: None,
            },
            "Unix" | "UnixNano" | "UnixMilli" | "UnixMicro" | "Year" | "Month" | "Day" | "Hour"
            | "Minute" | "Second" | "Nanosecond" | "YearDay" | "Weekday" | "UTC" | "Local"
            | "String" | "IsZero" => Sig::NONE,
            _ => return None,
        })
    }
    fn call(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let z = &self.zoned;
        let ts = z.timestamp();
        Ok(match name {
            "Format" => Value::string(format(
                z,
                args.first().and_then(Value::as_str).unwrap_or(""),
            )),
            "Unix" => Value::int64(ts.as_second()),
            "UnixMilli" => Value::int64(ts.as_millisecond()),
            "UnixMicro" => Value::int64(ts.as_microsecond()),
            "UnixNano" => Value::int64(ts.as_nanosecond() as i64),
            "Year" => Value::int(z.year() as i64),
            "Month" => Value::string(LONG_MONTHS[z.month() as usize - 1].to_string()),
            "Day" => Value::int(z.day() as i64),
            "Hour" => Value::int(z.hour() as i64),
            "Minute" => Value::int(z.minute() as i64),
            "Second" => Value::int(z.second() as i64),
            "Nanosecond" => Value::int(z.subsec_nanosecond() as i64),
            "YearDay" => Value::int(z.day_of_year() as i64),
            "Weekday" => {
                Value::string(LONG_DAYS[z.weekday().to_sunday_zero_offset() as usize].to_string())
            }
            "IsZero" => Value::Bool(ts.as_second() == -62135596800 && ts.subsec_nanosecond() == 0),
            "String" => Value::string(go_time_string(self)),
            "UTC" | "Local" => {
                let tz = if name == "UTC" {
                    TimeZone::UTC
                } else {
                    local()
                };
                Value::Object(Rc::new(GoTime {
                    zoned: z.with_time_zone(tz),
                    mono: self.mono,
                }))
            }
            "AddDate" => {
                let n = |i: usize| match args.get(i) {
                    Some(Value::Int(v, _)) => *v,
                    _ => 0,
                };
                let span = jiff::Span::new()
                    .try_years(n(0))
                    .and_then(|s| s.try_months(n(1)))
                    .and_then(|s| s.try_days(n(2)))
                    .map_err(|e| e.to_string())?;
                let t = z.checked_add(span).map_err(|e| e.to_string())?;
                Value::Object(Rc::new(GoTime {
                    zoned: t,
                    mono: None,
                }))
            }
            _ => return Err(format!("can't call method {name}")),
        })
    }
    fn stringer(&self) -> Option<String> {
        Some(go_time_string(self))
    }
    fn json(&self) -> Value {
        Value::string(format(&self.zoned, "2006-01-02T15:04:05.999999999Z07:00"))
    }
}

fn time_value(t: GoTime) -> Value {
    Value::Object(Rc::new(t))
}

/// A `time.Time` held by a template value, if it is one.
fn as_time(v: &Value) -> Option<Zoned> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<GoTime>().map(|t| t.zoned.clone()),
        _ => None,
    }
}

/// The instant a Sprig date argument denotes: a time, or Unix seconds as int/int64/int32.
fn date_arg(v: &Value) -> Zoned {
    if let Some(z) = as_time(v) {
        return z;
    }
    match v {
        Value::Int(n, IntKind::Int | IntKind::Int64 | IntKind::Int32) => unix(*n).zoned,
        _ => now().zoned,
    }
}

fn date_in_zone(layout: &str, date: &Value, zone: &str) -> String {
    let t = date_arg(date);
    let tz = load_location(zone).unwrap_or(TimeZone::UTC);
    format(&t.with_time_zone(tz), layout)
}

fn f_date(a: &[Value]) -> R {
    Ok(s(date_in_zone(arg_str(a, 0), &a[1], "Local")))
}

fn f_date_in_zone(a: &[Value]) -> R {
    Ok(s(date_in_zone(arg_str(a, 0), &a[1], arg_str(a, 2))))
}

fn f_html_date(a: &[Value]) -> R {
    Ok(s(date_in_zone("2006-01-02", &a[0], "Local")))
}

fn f_html_date_in_zone(a: &[Value]) -> R {
    Ok(s(date_in_zone("2006-01-02", &a[0], arg_str(a, 1))))
}

fn f_now(_: &[Value]) -> R {
    Ok(time_value(now()))
}

fn f_date_modify(a: &[Value]) -> R {
    let Some(t) = as_time(&a[1]) else {
        return Ok(a[1].clone());
    };
    match parse_duration(arg_str(a, 0)) {
        Ok(d) => {
            let moved = t.checked_add(jiff::Span::new().nanoseconds(d)).unwrap_or(t);
            Ok(time_value(GoTime {
                zoned: moved,
                mono: None,
            }))
        }
        Err(_) => Ok(a[1].clone()),
    }
}

fn f_must_date_modify(a: &[Value]) -> R {
    let d = parse_duration(arg_str(a, 0)).map_err(GoError::msg)?;
    let t = as_time(&a[1]).unwrap_or_else(|| zero_time().zoned);
    let moved = t
        .checked_add(jiff::Span::new().nanoseconds(d))
        .map_err(|e| GoError::msg(e.to_string()))?;
    Ok(time_value(GoTime {
        zoned: moved,
        mono: None,
    }))
}

fn since_nanos(t: &Zoned) -> i64 {
    let now = Timestamp::now();
    let d = now.as_nanosecond() - t.timestamp().as_nanosecond();
    d.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn f_ago(a: &[Value]) -> R {
    let t = date_arg(&a[0]);
    let d = since_nanos(&t);
    // Round to the second, halves away from zero
    let r = (d as f64 / 1e9).round() as i64 * 1_000_000_000;
    Ok(s(duration_string(r)))
}

fn f_duration(a: &[Value]) -> R {
    let n = match &a[0] {
        Value::Str(st) => crate::gonum::parse_int10(st).unwrap_or(0),
        Value::Int(v, IntKind::Int64) => *v,
        _ => 0,
    };
    Ok(s(duration_string(n.saturating_mul(1_000_000_000))))
}

fn f_duration_round(a: &[Value]) -> R {
    let d: i64 = match &a[0] {
        Value::Str(st) => parse_duration(st).unwrap_or(0),
        Value::Int(v, IntKind::Int64) => *v,
        v => match as_time(v) {
            Some(t) => since_nanos(&t),
            None => 0,
        },
    };
    let u = d.unsigned_abs();
    const HOUR: u64 = 3_600_000_000_000;
    let units: [(u64, &str); 6] = [
        (HOUR * 24 * 365, "y"),
        (HOUR * 24 * 30, "mo"),
        (HOUR * 24, "d"),
        (HOUR, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
    ];
    for (size, suffix) in units {
        if u > size {
            return Ok(s(format!("{}{suffix}", u / size)));
        }
    }
    Ok(s("0s"))
}

fn f_to_date(a: &[Value]) -> R {
    Ok(time_value(
        parse_in(arg_str(a, 0), arg_str(a, 1), &local()).unwrap_or_else(|_| zero_time()),
    ))
}

fn f_must_to_date(a: &[Value]) -> R {
    match parse_in(arg_str(a, 0), arg_str(a, 1), &local()) {
        Ok(t) => Ok(time_value(t)),
        Err(e) => err(e),
    }
}

fn f_unix_epoch(a: &[Value]) -> R {
    let t = as_time(&a[0]).unwrap_or_else(|| zero_time().zoned);
    Ok(s(t.timestamp().as_second().to_string()))
}

pub(super) fn register(r: &mut Reg<'_>) {
    use Param::*;
    r.f("date", &[Str, Any], f_date);
    r.f("date_in_zone", &[Str, Any, Str], f_date_in_zone);
    r.f("dateInZone", &[Str, Any, Str], f_date_in_zone);
    r.f("htmlDate", &[Any], f_html_date);
    r.f("htmlDateInZone", &[Any, Str], f_html_date_in_zone);
    r.f("now", &[], f_now);
    r.f("date_modify", &[Str, Time], f_date_modify);
    r.f("dateModify", &[Str, Time], f_date_modify);
    r.f("mustDateModify", &[Str, Time], f_must_date_modify);
    r.f("must_date_modify", &[Str, Time], f_must_date_modify);
    r.f("ago", &[Any], f_ago);
    r.f("duration", &[Any], f_duration);
    r.f("durationRound", &[Any], f_duration_round);
    r.f("toDate", &[Str, Str], f_to_date);
    r.f("mustToDate", &[Str, Str], f_must_to_date);
    r.f("unixEpoch", &[Time], f_unix_epoch);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_and_durations() {
        let t = parse_in(
            "2006-01-02T15:04:05Z07:00",
            "2024-03-05T07:08:09+02:00",
            &TimeZone::UTC,
        )
        .expect("parses");
        assert_eq!(
            format(&t.zoned, "Jan 2, 2006 at 3:04pm (MST)"),
            "Mar 5, 2024 at 7:08am (+0200)"
        );
        assert_eq!(format(&t.zoned, "2006-01-02"), "2024-03-05");
        assert_eq!(
            format(&t.zoned, "Monday 15:04:05.000"),
            "Tuesday 07:08:09.000"
        );
        assert_eq!(duration_string(90 * 1_000_000_000), "1m30s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(duration_string(3_600_000_000_000), "1h0m0s");
        assert_eq!(parse_duration("1h30m").expect("ok"), 5_400_000_000_000);
        assert!(parse_duration("1d").is_err());
    }
}
