//! Text log lines: Nest's format (`[Nest] 1  - 11/20/2026, 10:00:01 AM   ERROR [Ctx] msg`, local
//! time without zone), plain text with a leading timestamp and level word
//! (`2026-11-20 09:41:02,123 ERROR ...`, `... - WARNING - ...`, `[ERROR]`), logfmt's `level=`,
//! and lines with nothing but a level word (`FATAL ERROR: ...`).

use memchr::memmem;

use super::sink::Boot;
use crate::model::time::{days_from_civil, parse_timestamp_prefix, ParsedTs};
use crate::model::Level;

/// What a text line says.
#[derive(Debug, PartialEq)]
pub struct TextRecord {
    pub ts: Option<ParsedTs>,
    pub level: Option<Level>,
    /// Byte offset where the message starts.
    pub message_start: usize,
    /// The line started like a timestamp that could not be read.
    pub bad_ts: bool,
}

fn skip(b: &[u8], mut i: usize, set: &[u8]) -> usize {
    while i < b.len() && set.contains(&b[i]) {
        i += 1;
    }
    i
}

fn number(b: &[u8], i: &mut usize) -> Option<i64> {
    let start = *i;
    let mut v = 0i64;
    while *i < b.len() && b[*i].is_ascii_digit() && *i - start < 6 {
        v = v * 10 + (b[*i] - b'0') as i64;
        *i += 1;
    }
    (*i > start).then_some(v)
}

/// Whether a message announces that the process started: Nest's `Starting Nest
/// application...` (NestFactory) and `Nest application successfully started`
/// (NestApplication), and a bootstrap's `Application is running on: ...` or `Listening on ...`.
/// A start and its announcements a few seconds later are one start (see
/// `classify::collect::START_SPAN`).
pub fn is_start_message(message: &[u8]) -> Option<Boot> {
    if message.starts_with(b"Starting Nest application") {
        return Some(Boot::Begin);
    }
    [
        &b"Nest application successfully started"[..],
        b"Application is running on",
        b"Listening on ",
    ]
    .iter()
    .any(|m| message.starts_with(m))
    .then_some(Boot::Ready)
}

/// Whether a Nest text line announces that the process started (`LOG [NestFactory] Starting
/// Nest application...`, `LOG [NestApplication] Nest application successfully started`).
pub fn is_nest_start(b: &[u8]) -> Option<Boot> {
    // The context tag after the level: `[Nest] 1  - <date>   LOG [NestFactory] <message>`.
    let rest = &b[memchr::memmem::find(b, b"] ")? + 2..];
    let open = memchr::memchr(b'[', rest)?;
    let close = memchr::memchr(b']', &rest[open..])? + open;
    is_start_message(rest[close + 1..].trim_ascii_start())
}

/// Parses Nest's default logger line. The time is wall-clock (no zone): `has_zone` is false.
pub fn parse_nest(b: &[u8]) -> Option<TextRecord> {
    let rest = b.strip_prefix(b"[Nest] ")?;
    let off = b.len() - rest.len();
    let mut i = off;
    number(b, &mut i)?; // pid
    i = skip(b, i, b" ");
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i = skip(b, i + 1, b" ");
    let month = number(b, &mut i)?;
    (b.get(i) == Some(&b'/')).then_some(())?;
    i += 1;
    let day = number(b, &mut i)?;
    (b.get(i) == Some(&b'/')).then_some(())?;
    i += 1;
    let year = number(b, &mut i)?;
    i = skip(b, i, b", ");
    let mut hour = number(b, &mut i)?;
    (b.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    let minute = number(b, &mut i)?;
    (b.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    let second = number(b, &mut i)?;
    i = skip(b, i, b" ");
    if b[i..].starts_with(b"AM") || b[i..].starts_with(b"PM") {
        let pm = b[i] == b'P';
        hour %= 12;
        if pm {
            hour += 12;
        }
        i += 2;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > crate::model::time::days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let millis =
        (days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second) * 1000;
    i = skip(b, i, b" ");
    let word_start = i;
    while i < b.len() && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    let level = Level::from_word(&b[word_start..i]);
    i = skip(b, i, b" ");
    Some(TextRecord {
        ts: Some(ParsedTs {
            millis,
            has_zone: false,
            len: 0,
            sub_ms_nanos: 0,
        }),
        level,
        message_start: i,
        bad_ts: false,
    })
}

/// Reads a level word at `i` (optionally in brackets, or after `level=`), returning it and the
/// offset after it and its separators.
fn level_word(b: &[u8], i: usize) -> Option<(Level, usize)> {
    let mut j = skip(b, i, b" -|:[");
    let start = j;
    while j < b.len() && b[j].is_ascii_alphabetic() {
        j += 1;
    }
    let level = Level::from_word(&b[start..j])?;
    // "ERROR" must end as a word: "Errors happened" is a sentence, not a level.
    if j < b.len() && !matches!(b[j], b' ' | b']' | b':' | b'-' | b'|' | b'\t') {
        return None;
    }
    Some((level, skip(b, j, b" ]:-|\t")))
}

/// Parses a plain text line: optional leading timestamp, optional level word, the message.
pub fn parse_plain(b: &[u8]) -> TextRecord {
    let mut rec = TextRecord {
        ts: None,
        level: None,
        message_start: 0,
        bad_ts: false,
    };
    let mut i = 0;
    if let Some(p) = parse_timestamp_prefix(b) {
        rec.ts = Some(p);
        i = p.len;
    } else if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
        // Looks like `2026-...` but is not a time we can read.
        rec.bad_ts = true;
    }
    if let Some((level, after)) = level_word(b, i) {
        rec.level = Some(level);
        // `FATAL ERROR: ...` with no time before it: the level word is part of the message.
        rec.message_start = if i == 0 { 0 } else { after };
    } else {
        rec.message_start = skip(b, i, b" ");
        if let Some(pos) = memmem::find(b, b"level=") {
            let start = pos + 6;
            let start = if b.get(start) == Some(&b'"') {
                start + 1
            } else {
                start
            };
            let mut end = start;
            while end < b.len() && b[end].is_ascii_alphabetic() {
                end += 1;
            }
            rec.level = Level::from_word(&b[start..end]);
        }
    }
    rec
}

/// For records with no level word: whether the text reads like an error (the runbook's
/// `grep -i error`, made a little stricter so "0 errors" is not one).
pub fn infer_error(b: &[u8]) -> bool {
    const NEEDLES: [&[u8]; 7] = [
        b"Error:",
        b"ERROR",
        b"Exception",
        b"FATAL",
        b"panic:",
        b"Traceback (most recent call last)",
        b"error:",
    ];
    NEEDLES.iter().any(|n| memmem::find(b, n).is_some())
}

#[cfg(test)]
mod tests {

    #[test]
    fn startup_lines_begin_or_end_a_boot() {
        let nest = |m: &str| {
            is_nest_start(format!("[Nest] 1  - 11/20/2026, 9:58:41 AM     LOG {m}").as_bytes())
        };
        assert_eq!(
            nest("[NestFactory] Starting Nest application..."),
            Some(Boot::Begin)
        );
        assert_eq!(
            nest("[NestApplication] Nest application successfully started +3ms"),
            Some(Boot::Ready)
        );
        assert_eq!(
            nest("[InstanceLoader] AppModule dependencies initialized +38ms"),
            None
        );
        let json = br#"{"timestamp":"2026-11-20T10:05:02.604Z","level":"info","message":"Application is running on: http://[::]:3000","service":"Bootstrap"}"#;
        assert_eq!(super::super::json_log::quick_start(json), Some(Boot::Ready));
    }
    use super::*;

    #[test]
    fn nest_lines() {
        let line =
            b"[Nest] 1  - 11/20/2026, 10:00:01 AM   ERROR [ExceptionHandler] connect ECONNREFUSED";
        let r = parse_nest(line).unwrap();
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(
            &line[r.message_start..],
            b"[ExceptionHandler] connect ECONNREFUSED"
        );
        let expect = parse_timestamp_prefix(b"2026-11-20T10:00:01")
            .unwrap()
            .millis;
        assert_eq!(r.ts.unwrap().millis, expect);
        assert!(!r.ts.unwrap().has_zone);
        let pm = parse_nest(b"[Nest] 1  - 11/20/2026, 12:30:00 PM     LOG [NestFactory] Starting")
            .unwrap();
        assert_eq!(
            pm.ts.unwrap().millis,
            parse_timestamp_prefix(b"2026-11-20T12:30:00")
                .unwrap()
                .millis
        );
        let am = parse_nest(b"[Nest] 1  - 11/20/2026, 12:30:00 AM     LOG x").unwrap();
        assert_eq!(
            am.ts.unwrap().millis,
            parse_timestamp_prefix(b"2026-11-20T00:30:00")
                .unwrap()
                .millis
        );
    }

    #[test]
    fn plain_lines() {
        let b = b"2026-11-20 09:41:02,123 - ERROR - SSL certificate expired";
        let r = parse_plain(b);
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(&b[r.message_start..], b"SSL certificate expired");
        let b = b"2026-11-20T10:47:52.026Z [ERROR] svc - PostgreSQL query failed";
        let r = parse_plain(b);
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(&b[r.message_start..], b"svc - PostgreSQL query failed");
        let b = b"FATAL ERROR: Reached heap limit Allocation failed";
        assert_eq!(parse_plain(b).level, Some(Level::Fatal));
        let b = b"ts=2025-06-12T08:41:58.714Z caller=main.go:1 level=warn msg=x";
        assert_eq!(parse_plain(b).level, Some(Level::Warn));
        let b = b"Errors happened";
        assert_eq!(parse_plain(b).level, None);
        assert!(parse_plain(b"2026-99-99 oops").bad_ts);
    }

    #[test]
    fn inference() {
        assert!(infer_error(
            b"TypeError: Cannot read properties of undefined"
        ));
        assert!(!infer_error(b"processed 0 errors"));
    }
}
