//! Time as the pipeline carries it: milliseconds since the Unix epoch, UTC, and every way a
//! time or a duration is read or written. It owns:
//! - the hand-written parser for the timestamps found at the start of log lines (the kubelet's
//!   `2026-11-20T09:41:02.123456789Z`, trimmed fractions, `+02:00` offsets,
//!   `2026-11-20 09:41:02,123`), which runs once per input line and so avoids chrono's
//!   general-purpose parser; times on the command line go through it too ([`parse_time_in`]);
//! - durations: Prometheus' syntax ([`parse_prom_duration`], also with plain seconds), the
//!   command line's ([`parse_flag_duration`]) and the one way they are written
//!   ([`format_duration`]);
//! - the zone applied to times written without one ([`Zone`]);
//! - the ways times are written: RFC 3339 with milliseconds ([`format_rfc3339`], what
//!   `report.json` carries) and without a zero fraction ([`format_short`], for sentences).

use chrono::{DateTime, SecondsFormat, Utc};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

/// One second, one minute, in [`Millis`].
pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;

/// What the fast parser found at the start of a byte string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedTs {
    /// The instant, in UTC when the text had a zone, else the wall-clock reading as if UTC.
    pub millis: Millis,
    /// Whether the text carried `Z` or an offset. Without one, the caller applies `--tz`.
    pub has_zone: bool,
    /// Bytes consumed.
    pub len: usize,
    /// The fraction's digits below the millisecond, in nanoseconds (`.123456789` -> 456789):
    /// with `millis`, the kubelet's full time.
    pub sub_ms_nanos: u32,
}

impl ParsedTs {
    /// The time in nanoseconds since the epoch, to the precision written.
    pub fn nanos(&self) -> i64 {
        self.millis * 1_000_000 + i64::from(self.sub_ms_nanos)
    }
}

#[inline]
fn digits(b: &[u8], n: usize) -> Option<i64> {
    if b.len() < n {
        return None;
    }
    let mut v = 0i64;
    for &c in &b[..n] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(v)
}

/// Days in `month` (1-12) of `year`, leap years counted: `2026-02-30` is no date.
#[inline]
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since the epoch of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
#[inline]
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339-like timestamp at the start of `b`: `YYYY-MM-DD`, `T` or a space,
/// `HH:MM:SS`, an optional fraction after `.` or `,` (any number of digits, kept to the
/// millisecond), then optionally `Z`, `z`, `+HH:MM`, `+HHMM` or `-HH:MM`.
/// Returns `None` unless the date and time are complete and in range.
pub fn parse_timestamp_prefix(b: &[u8]) -> Option<ParsedTs> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[10] != b'T' && b[10] != b' ' && b[10] != b't' {
        return None;
    }
    let year = digits(b, 4)?;
    let month = digits(&b[5..], 2)?;
    let day = digits(&b[8..], 2)?;
    let hour = digits(&b[11..], 2)?;
    let minute = digits(&b[14..], 2)?;
    let second = digits(&b[17..], 2)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
    {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    let mut sub_ms_nanos = 0u32;
    if i < b.len() && (b[i] == b'.' || b[i] == b',') {
        let start = i + 1;
        let mut j = start;
        while j < b.len() && b[j].is_ascii_digit() {
            match j - start {
                0..3 => millis = millis * 10 + (b[j] - b'0') as i64,
                3..9 => sub_ms_nanos = sub_ms_nanos * 10 + u32::from(b[j] - b'0'),
                _ => {}
            }
            j += 1;
        }
        if j == start {
            return None;
        }
        for _ in (j - start)..3 {
            millis *= 10;
        }
        for _ in (j - start).clamp(3, 9)..9 {
            sub_ms_nanos *= 10;
        }
        i = j;
    }
    let mut offset_secs = 0i64;
    let mut has_zone = false;
    if i < b.len() {
        match b[i] {
            b'Z' | b'z' => {
                has_zone = true;
                i += 1;
            }
            b'+' | b'-' => {
                let sign = if b[i] == b'-' { -1 } else { 1 };
                let oh = digits(&b[i + 1..], 2);
                let (om, used) = if b.get(i + 3) == Some(&b':') {
                    (digits(&b[(i + 4).min(b.len())..], 2), 6)
                } else {
                    (digits(&b[(i + 3).min(b.len())..], 2), 5)
                };
                if let (Some(oh), Some(om)) = (oh, om) {
                    if oh <= 23 && om <= 59 {
                        offset_secs = sign * (oh * 3600 + om * 60);
                        has_zone = true;
                        i += used;
                    }
                }
            }
            _ => {}
        }
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(ParsedTs {
        millis: secs * 1000 + millis,
        has_zone,
        len: i,
        sub_ms_nanos,
    })
}

/// Remembers the minute of the last kubelet timestamp read, so the next ones in the same
/// minute (nearly all of them: a log is written in time order) only read seconds and fraction.
#[derive(Clone, Copy, Debug, Default)]
pub struct MinuteCache {
    /// `YYYY-MM-DDTHH:MM` and the epoch milliseconds of that minute.
    minute: Option<([u8; 16], i64)>,
}

/// [`parse_timestamp_prefix`] for the kubelet's own form, `2026-11-20T09:41:02.123456789Z`
/// (what `kubectl logs --timestamps` prints), with the minute cached; any other form goes to
/// the general parser. Same results either way.
#[inline]
pub fn parse_kubelet_timestamp(b: &[u8], cache: &mut MinuteCache) -> Option<ParsedTs> {
    if b.len() < 30 || b[19] != b'.' || b[29] != b'Z' || b[16] != b':' {
        return parse_timestamp_prefix(b);
    }
    let key: [u8; 16] = b[..16].try_into().expect("16 bytes");
    let Some((k, minute_ms)) = cache.minute.filter(|(k, _)| *k == key) else {
        let p = parse_timestamp_prefix(b)?;
        let (s, frac) = (digits(&b[17..], 2)?, digits(&b[20..], 3)?);
        cache.minute = Some((key, p.millis - s * 1000 - frac));
        return Some(p);
    };
    debug_assert_eq!(k, key);
    let second = digits(&b[17..], 2)?;
    if second > 60 || !b[20..29].iter().all(u8::is_ascii_digit) {
        return parse_timestamp_prefix(b);
    }
    let frac = digits(&b[20..], 3)?;
    Some(ParsedTs {
        millis: minute_ms + second * 1000 + frac,
        has_zone: true,
        len: 30,
        sub_ms_nanos: digits(&b[23..], 6)? as u32,
    })
}

/// Formats as RFC 3339 UTC with millisecond precision, `Z` suffix, e.g. `2026-11-20T09:41:15.000Z`.
pub fn format_rfc3339(ms: Millis) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => format!("<invalid time {ms}>"),
    }
}

/// Formats as RFC 3339 UTC to the second when the fraction is zero, else to the millisecond.
pub fn format_short(ms: Millis) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) if ms.rem_euclid(1000) == 0 => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => format!("<invalid time {ms}>"),
    }
}

/// Serde helper: an optional time as an RFC 3339 string (or null).
pub fn serialize_opt_rfc3339<S: serde::Serializer>(
    t: &Option<Millis>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(ms) => s.serialize_str(&format_rfc3339(*ms)),
        None => s.serialize_none(),
    }
}

/// Serde helper: the inverse of [`serialize_opt_rfc3339`].
pub fn deserialize_opt_rfc3339<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Millis>, D::Error> {
    let text: Option<String> = serde::Deserialize::deserialize(d)?;
    text.map(|t| {
        DateTime::parse_from_rfc3339(&t)
            .map(|t| t.timestamp_millis())
            .map_err(|e| serde::de::Error::custom(format!("{t:?}: {e}")))
    })
    .transpose()
}

/// A duration as Prometheus writes it: `5m`, `1h30m`, `15s`, `250ms`.
pub fn format_duration(ms: Millis) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms.abs();
    if ms < 0 {
        out.push('-');
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{}", rest / size, unit));
            rest %= size;
        }
    }
    if rest > 0 {
        out.push_str(&format!("{rest}ms"));
    }
    out
}

/// Parses an RFC 3339 time (`2026-11-20T10:30:00Z`, `2026-11-20T11:30:00+01:00`); one
/// without a zone (`2026-11-20 10:30:00`) is read in `zone`. `None` unless the whole text is a
/// time.
pub fn parse_time_in(text: &str, zone: Zone) -> Option<Millis> {
    let t = text.trim();
    let p = parse_timestamp_prefix(t.as_bytes()).filter(|p| p.len == t.len())?;
    Some(if p.has_zone {
        p.millis
    } else {
        zone.local_to_utc(p.millis)
    })
}

/// Prometheus' duration units, largest first, in milliseconds.
const PROM_UNITS: [(&str, Millis); 7] = [
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// A duration in Prometheus' syntax, as its `model.ParseDuration` reads rule files: `0`, or
/// `<integer><unit>` parts with the units `y w d h m s ms`, largest first and each at most
/// once (`1h30m`, `10s53ms`, `1y`: 365 days). `None` for anything else, or on overflow.
pub fn parse_prom_duration(s: &str) -> Option<Millis> {
    let s = s.trim();
    if s == "0" {
        return Some(0);
    }
    let mut rest = s;
    let mut total: Millis = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: Millis = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let letters = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..letters];
        let rank = PROM_UNITS[next_unit..]
            .iter()
            .position(|(u, _)| *u == unit)?
            + next_unit;
        next_unit = rank + 1;
        total = total.checked_add(n.checked_mul(PROM_UNITS[rank].1)?)?;
        rest = &rest[letters..];
    }
    (!s.is_empty()).then_some(total)
}

/// A Prometheus duration ([`parse_prom_duration`]) or a plain, non-negative number of
/// seconds (`90`, `1.5`), as the HTTP API's `step` and Prometheus' PromQL test scripts take
/// them.
pub fn parse_prom_duration_or_seconds(s: &str) -> Option<Millis> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        let ms = (secs * 1000.0).round();
        return (ms.is_finite() && (0.0..9.0e15).contains(&ms)).then_some(ms as Millis);
    }
    parse_prom_duration(s)
}

/// A duration as users write it on the command line: `5m`, `90s`, `2h`, `1d`, `250ms`,
/// `1h30m`, `1h 30m` (humantime's syntax). The error says how to write one.
pub fn parse_flag_duration(text: &str) -> Result<Millis, String> {
    humantime::parse_duration(text.trim())
        .ok()
        .and_then(|d| Millis::try_from(d.as_millis()).ok())
        .ok_or_else(|| "not a duration; write it like 5m, 90s, 2h or 1d".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_dates_are_no_timestamps() {
        assert!(parse_timestamp_prefix(b"2026-02-30T10:00:00Z").is_none());
        assert!(parse_timestamp_prefix(b"2026-04-31T10:00:00Z").is_none());
        assert!(parse_timestamp_prefix(b"2025-02-29T10:00:00Z").is_none());
        assert!(parse_timestamp_prefix(b"2024-02-29T10:00:00Z").is_some());
        assert!(parse_timestamp_prefix(b"2000-02-29T10:00:00Z").is_some());
        assert!(parse_timestamp_prefix(b"2100-02-29T10:00:00Z").is_none());
        let mut cache = MinuteCache::default();
        assert!(parse_kubelet_timestamp(b"2026-02-30T10:00:00.000000000Z x", &mut cache).is_none());
    }

    #[test]
    fn the_kubelet_fast_path_agrees_with_the_general_parser() {
        let mut cache = MinuteCache::default();
        for line in [
            &b"2026-11-20T09:41:02.123456789Z rest"[..],
            b"2026-11-20T09:41:59.999999999Z",
            b"2026-11-20T09:41:00.000000001Z x",
            b"2026-11-20T09:42:00.5Z x",
            b"2026-11-20T09:42:07.123456789Z",
            b"2026-11-20T09:42:7x.123456789Z",
            b"2026-11-20T09:42:07.12345x789Z",
            b"2026-12-31T23:59:60.000000000Z",
            b"2027-01-01T00:00:00.000000000+01:00",
        ] {
            assert_eq!(
                parse_kubelet_timestamp(line, &mut cache),
                parse_timestamp_prefix(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    fn ms(s: &str) -> Millis {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn kubelet_nanoseconds() {
        let p = parse_timestamp_prefix(b"2026-11-20T09:41:02.123456789Z {\"a\":1}").unwrap();
        assert_eq!(p.millis, ms("2026-11-20T09:41:02.123Z"));
        assert_eq!(p.sub_ms_nanos, 456_789);
        assert_eq!(p.nanos(), p.millis * 1_000_000 + 456_789);
        let short = parse_timestamp_prefix(b"2026-11-20T09:41:02.1234Z").unwrap();
        assert_eq!((short.millis % 1000, short.sub_ms_nanos), (123, 400_000));
        assert!(p.has_zone);
        assert_eq!(p.len, 30);
    }

    #[test]
    fn trimmed_fraction_and_offsets() {
        let p = parse_timestamp_prefix(b"2026-11-20T11:41:02.5+02:00 x").unwrap();
        assert_eq!(p.millis, ms("2026-11-20T09:41:02.500Z"));
        assert_eq!(p.len, 27);
        let p = parse_timestamp_prefix(b"2026-11-20T09:41:02Z").unwrap();
        assert_eq!(p.millis, ms("2026-11-20T09:41:02Z"));
        let p = parse_timestamp_prefix(b"2026-11-20T04:41:02-0500 x").unwrap();
        assert_eq!(p.millis, ms("2026-11-20T09:41:02Z"));
    }

    #[test]
    fn zoneless_python_style() {
        let p = parse_timestamp_prefix(b"2026-11-20 09:41:02,123 ERROR boom").unwrap();
        assert!(!p.has_zone);
        assert_eq!(p.millis, ms("2026-11-20T09:41:02.123Z"));
        assert_eq!(p.len, 23);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_timestamp_prefix(b"2026-13-20T09:41:02Z").is_none());
        assert!(parse_timestamp_prefix(b"20261120T09:41:02Z").is_none());
        assert!(parse_timestamp_prefix(b"hello").is_none());
        assert!(parse_timestamp_prefix(b"2026-11-20T09:41:02.Z").is_none());
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(300_000), "5m");
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(250), "250ms");
        assert_eq!(format_duration(0), "0s");
    }

    #[test]
    fn prometheus_durations() {
        assert_eq!(parse_prom_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_prom_duration("10s53ms"), Some(10_053));
        assert_eq!(parse_prom_duration("15m1s"), Some(901_000));
        assert_eq!(parse_prom_duration("500ms"), Some(500));
        assert_eq!(parse_prom_duration("1y"), Some(365 * 86_400_000));
        assert_eq!(parse_prom_duration("0"), Some(0));
        for bad in ["", "5 m", "m", "5x", "1s1h", "5m5m", "-5m", "1.5s"] {
            assert_eq!(parse_prom_duration(bad), None, "{bad:?}");
        }
        assert_eq!(parse_prom_duration_or_seconds("90"), Some(90_000));
        assert_eq!(parse_prom_duration_or_seconds("1.5"), Some(1_500));
        assert_eq!(parse_prom_duration_or_seconds("15m"), Some(900_000));
        assert_eq!(parse_prom_duration_or_seconds("-5"), None);
        assert_eq!(parse_flag_duration("1h 30m"), Ok(5_400_000));
        assert_eq!(parse_flag_duration("250ms"), Ok(250));
        assert!(parse_flag_duration("five").is_err());
    }

    #[test]
    fn times_in_a_zone() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(
            parse_time_in("2026-11-20T10:30:00Z", berlin),
            Some(ms("2026-11-20T10:30:00Z"))
        );
        assert_eq!(
            parse_time_in(" 2026-11-20 10:30:00 ", berlin),
            Some(ms("2026-11-20T09:30:00Z"))
        );
        assert_eq!(parse_time_in("2026-11-20T10:30:00Z trailing", berlin), None);
    }
}

/// The zone applied to timestamps written without one (`--tz`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zone {
    Utc,
    Fixed(chrono::FixedOffset),
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parses `UTC`, `Z`, `+02:00`, `-0530` or an IANA name such as `Europe/Berlin`.
    pub fn parse(text: &str) -> Result<Zone, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t.eq_ignore_ascii_case("gmt") {
            return Ok(Zone::Utc);
        }
        if t.starts_with('+') || t.starts_with('-') {
            let probe = format!("2000-01-01T00:00:00{t}");
            return match parse_timestamp_prefix(probe.as_bytes()) {
                Some(p) if p.has_zone && p.len == probe.len() => {
                    let secs = (days_from_civil(2000, 1, 1) * 86_400 * 1000 - p.millis) / 1000;
                    chrono::FixedOffset::east_opt(secs as i32)
                        .map(Zone::Fixed)
                        .ok_or_else(|| format!("offset {t} is out of range"))
                }
                _ => Err(format!("{t:?} is not an offset like +02:00")),
            };
        }
        t.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            format!("unknown time zone {t:?}: use UTC, an offset like +02:00, or an IANA name like Europe/Berlin")
        })
    }

    /// Converts a wall-clock reading (as if it were UTC) to the real UTC instant.
    pub fn local_to_utc(self, wall: Millis) -> Millis {
        use chrono::TimeZone;
        let Some(naive) = DateTime::<Utc>::from_timestamp_millis(wall).map(|d| d.naive_utc())
        else {
            return wall;
        };
        match self {
            Zone::Utc => wall,
            Zone::Fixed(off) => off
                .from_local_datetime(&naive)
                .earliest()
                .map_or(wall, |d| d.timestamp_millis()),
            Zone::Named(tz) => tz
                .from_local_datetime(&naive)
                .earliest()
                .map_or(wall, |d| d.timestamp_millis()),
        }
    }

    pub fn is_utc(self) -> bool {
        matches!(self, Zone::Utc)
    }

    pub fn name(self) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Fixed(off) => off.to_string(),
            Zone::Named(tz) => tz.name().to_string(),
        }
    }
}

#[cfg(test)]
mod zone_tests {
    use super::*;

    #[test]
    fn zones() {
        let wall = parse_timestamp_prefix(b"2026-11-20 10:00:00")
            .unwrap()
            .millis;
        assert_eq!(Zone::parse("UTC").unwrap().local_to_utc(wall), wall);
        assert_eq!(
            Zone::parse("+02:00").unwrap().local_to_utc(wall),
            wall - 7_200_000
        );
        assert_eq!(
            Zone::parse("Europe/Berlin").unwrap().local_to_utc(wall),
            wall - 3_600_000
        );
        assert!(Zone::parse("Mars/Olympus").is_err());
    }
}
