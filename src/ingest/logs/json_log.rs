//! JSON log lines: the service's own logger (`timestamp`, `level`, `message`, `service`, ...,
//! `trace`), pino and bunyan (numeric `level`, epoch-millisecond `time`, `msg`, `err.stack`),
//! and other common shapes (`ts`, `@timestamp`, `severity`, `stack`). One pass with a serde
//! visitor: strings are borrowed from the line unless they hold escapes, every key we do not need
//! is skipped without being decoded, and once the level is known to be one the caller does not
//! want, message and trace are skipped too.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::model::time::{parse_timestamp_prefix, ParsedTs};
use crate::model::Level;

/// What a JSON log line says, borrowed from the line where possible.
#[derive(Debug, Default)]
pub struct JsonRecord<'a> {
    /// The record's time, if it has a readable one.
    pub ts: Option<ParsedTs>,
    /// A time field was present but could not be read.
    pub bad_ts: bool,
    pub level: Option<Level>,
    pub message: Cow<'a, str>,
    /// Stack trace (`trace`, `stack`, `err.stack`, `error.stack`), with real newlines.
    pub trace: Cow<'a, str>,
    /// kubectl's `{"kind":"Status",...}` error object rather than a log line.
    pub is_kubectl_status: bool,
    /// The logger that wrote it (`service`, `context`, `logger`, `name`).
    pub logger: Cow<'a, str>,
    /// With [`parse_raw`]: message, trace and logger as JSON string literals, not decoded.
    pub message_raw: Option<&'a str>,
    pub trace_raw: Option<&'a str>,
    pub logger_raw: Option<&'a str>,
}

/// Parses one JSON object line, decoding message and trace for every level.
pub fn parse(line: &str) -> Result<JsonRecord<'_>, String> {
    parse_wanted(line, &|_| true)
}

/// Parses one JSON object line; message and trace are decoded only when `wants(level)` (or the
/// level is not known yet when they are reached). The error text says what is wrong.
pub fn parse_wanted<'a>(
    line: &'a str,
    wants: &dyn Fn(Level) -> bool,
) -> Result<JsonRecord<'a>, String> {
    parse_with(line, wants, false, true)
}

/// Like [`parse_wanted`], but top-level message and trace strings are returned undecoded in
/// `message_raw` / `trace_raw` (borrowed JSON string literals), for callers that decode lazily.
/// With `times` false the time fields are skipped unread (the caller has the kubelet's time).
pub fn parse_raw<'a>(
    line: &'a str,
    wants: &dyn Fn(Level) -> bool,
    times: bool,
) -> Result<JsonRecord<'a>, String> {
    parse_with(line, wants, true, times)
}

fn parse_with<'a>(
    line: &'a str,
    wants: &dyn Fn(Level) -> bool,
    raw: bool,
    times: bool,
) -> Result<JsonRecord<'a>, String> {
    let mut de = serde_json::Deserializer::from_str(line);
    let rec = de
        .deserialize_map(RecordVisitor { wants, raw, times })
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(rec)
}

/// Any JSON value, keeping strings (borrowed when possible) and numbers, skipping the rest.
enum Value<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Other,
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Owned(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value<'de>, E> {
                Ok(Value::Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value<'de>, E> {
                Ok(Value::Num(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value<'de>, E> {
                Ok(Value::Num(v as f64))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value<'de>, E> {
                Ok(Value::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
                Ok(Value::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Value<'de>, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Value::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Value<'de>, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Value::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// An object key, borrowed from the line (serde's own `Cow<str>` always allocates; keys only
/// hold escapes in odd cases, and then they are copied).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// pino/bunyan's `err` (an object with `message` and `stack`) or a plain error string.
#[derive(Default)]
struct ErrField<'a> {
    message: Option<Cow<'a, str>>,
    stack: Option<Cow<'a, str>>,
}

impl<'de> Deserialize<'de> for ErrField<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ErrField<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an error object or string")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<ErrField<'de>, A::Error> {
                let mut e = ErrField::default();
                while let Some(Key(key)) = m.next_key::<Key<'de>>()? {
                    match (key.as_ref(), m.next_value::<Value<'de>>()?) {
                        ("message", Value::Str(s)) => e.message = Some(s),
                        ("stack", Value::Str(s)) => e.stack = Some(s),
                        _ => {}
                    }
                }
                Ok(e)
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<ErrField<'de>, E> {
                Ok(ErrField {
                    message: Some(Cow::Borrowed(v)),
                    stack: None,
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ErrField<'de>, E> {
                Ok(ErrField {
                    message: Some(Cow::Owned(v.to_owned())),
                    stack: None,
                })
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<ErrField<'de>, E> {
                Ok(ErrField::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<ErrField<'de>, E> {
                Ok(ErrField::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<ErrField<'de>, E> {
                Ok(ErrField::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<ErrField<'de>, E> {
                Ok(ErrField::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<ErrField<'de>, E> {
                Ok(ErrField::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<ErrField<'de>, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ErrField::default())
            }
        }
        d.deserialize_any(V)
    }
}

fn time_of(v: &Value<'_>) -> Option<ParsedTs> {
    match v {
        Value::Str(s) => {
            let p = parse_timestamp_prefix(s.as_bytes())?;
            (p.len == s.len()).then_some(p)
        }
        Value::Num(n) => {
            // Epoch seconds, milliseconds or microseconds, told apart by magnitude.
            let millis = if *n > 1e14 {
                n / 1000.0
            } else if *n > 1e11 {
                *n
            } else {
                n * 1000.0
            };
            Some(ParsedTs {
                millis: millis as i64,
                has_zone: true,
                len: 0,
                sub_ms_nanos: 0,
            })
        }
        Value::Other => None,
    }
}

struct RecordVisitor<'w> {
    wants: &'w dyn Fn(Level) -> bool,
    raw: bool,
    times: bool,
}

impl<'de> Visitor<'de> for RecordVisitor<'_> {
    type Value = JsonRecord<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut rec = JsonRecord::default();
        let mut msg_rank = u8::MAX;
        let mut logger_rank = u8::MAX;
        let mut ts_rank = u8::MAX;
        let mut kind_status = false;
        let mut skipped_time = false;
        let mut err_message: Option<Cow<'de, str>> = None;
        // Once the level is known and unwanted, message and trace are skipped undecoded.
        let skip_text = |rec: &JsonRecord<'_>| rec.level.is_some_and(|l| !(self.wants)(l));
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "timestamp" | "time" | "ts" | "@timestamp" | "datetime" | "date" | "t" => {
                    if !self.times {
                        skipped_time = true;
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    let v: Value<'de> = map.next_value()?;
                    let rank = match key.as_ref() {
                        "timestamp" | "@timestamp" => 0,
                        "time" | "ts" => 1,
                        _ => 2,
                    };
                    if rank < ts_rank {
                        ts_rank = rank;
                        rec.ts = time_of(&v);
                        rec.bad_ts = rec.ts.is_none();
                    }
                }
                "level" | "severity" | "lvl" | "levelname" | "log.level" | "loglevel" => {
                    let v: Value<'de> = map.next_value()?;
                    if rec.level.is_none() {
                        rec.level = match v {
                            Value::Str(s) => Level::from_word(s.trim().as_bytes()),
                            Value::Num(n) => Some(Level::from_number(n)),
                            Value::Other => None,
                        };
                    }
                }
                "message" | "msg" | "log" | "error_message" => {
                    if skip_text(&rec) {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    let rank = match key.as_ref() {
                        "message" => 0,
                        "msg" => 1,
                        _ => 2,
                    };
                    if self.raw {
                        let v: &'de serde_json::value::RawValue = map.next_value()?;
                        if v.get().starts_with('"') && rank < msg_rank {
                            msg_rank = rank;
                            rec.message_raw = Some(v.get());
                        }
                        continue;
                    }
                    if let Value::Str(s) = map.next_value::<Value<'de>>()? {
                        if rank < msg_rank {
                            msg_rank = rank;
                            rec.message = s;
                        }
                    }
                }
                "trace" | "stack" | "stack_trace" | "stacktrace" | "exception" => {
                    if skip_text(&rec) {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    if self.raw {
                        let v: &'de serde_json::value::RawValue = map.next_value()?;
                        if v.get().starts_with('"') {
                            rec.trace_raw = Some(v.get());
                        }
                        continue;
                    }
                    if let Value::Str(s) = map.next_value::<Value<'de>>()? {
                        rec.trace = s;
                    }
                }
                "err" | "error" => {
                    if skip_text(&rec) {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    let e: ErrField<'de> = map.next_value()?;
                    if let Some(stack) = e.stack {
                        rec.trace = stack;
                    }
                    err_message = e.message;
                }
                "service" | "context" | "logger" | "name" | "logger_name" => {
                    if skip_text(&rec) {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    let rank = match key.as_ref() {
                        "service" => 0,
                        "context" => 1,
                        "logger" | "logger_name" => 2,
                        _ => 3,
                    };
                    if self.raw {
                        let v: &'de serde_json::value::RawValue = map.next_value()?;
                        if v.get().starts_with('"') && rank < logger_rank {
                            logger_rank = rank;
                            rec.logger_raw = Some(v.get());
                        }
                        continue;
                    }
                    if let Value::Str(s) = map.next_value::<Value<'de>>()? {
                        if rank < logger_rank {
                            logger_rank = rank;
                            rec.logger = s;
                        }
                    }
                }
                "kind" => {
                    kind_status =
                        matches!(map.next_value::<Value<'de>>()?, Value::Str(s) if s == "Status");
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if rec.message.is_empty() && rec.message_raw.is_none() {
            if let Some(m) = err_message {
                rec.message = m;
            }
        }
        rec.is_kubectl_status =
            kind_status && rec.level.is_none() && rec.ts.is_none() && !skipped_time;
        Ok(rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_logger_line() {
        let line = r#"{"timestamp":"2026-11-20T09:41:02.123Z","level":"error","message":"Graph execution failed: 529 {\"type\":\"error\"}","service":"GraphOrchestrationService","correlationId":"6f1c","trace":"InternalServerError: 529\n    at APIError.generate (/app/x.js:1:1)"}"#;
        let r = parse(line).unwrap();
        assert_eq!(r.level, Some(Level::Error));
        assert!(r
            .message
            .starts_with("Graph execution failed: 529 {\"type\""));
        assert!(r.trace.contains("\n    at APIError"));
        assert!(r.ts.unwrap().has_zone);
    }

    #[test]
    fn unwanted_levels_skip_message_and_trace() {
        let line = r#"{"timestamp":"2026-11-20T09:41:02.123Z","level":"info","message":"hello","trace":"x\ny"}"#;
        let r = parse_wanted(line, &|l| l >= Level::Warn).unwrap();
        assert_eq!(r.level, Some(Level::Info));
        assert!(r.message.is_empty() && r.trace.is_empty());
        assert!(r.ts.is_some());
        // Invalid JSON is still an error when skipping.
        assert!(parse_wanted(r#"{"level":"info","message":"cut"#, &|_| false).is_err());
    }

    #[test]
    fn pino_line() {
        let line = r#"{"level":50,"time":1742277600123,"pid":1,"msg":"request failed","err":{"type":"Error","message":"boom","stack":"Error: boom\n    at x"}}"#;
        let r = parse(line).unwrap();
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts.unwrap().millis, 1742277600123);
        assert_eq!(r.message, "request failed");
        assert_eq!(r.trace, "Error: boom\n    at x");
    }

    #[test]
    fn other_shapes() {
        let r = parse(r#"{"@timestamp":"2026-11-20T09:41:02Z","severity":"WARNING","msg":"x"}"#)
            .unwrap();
        assert_eq!(r.level, Some(Level::Warn));
        let r = parse(r#"{"ts":1763631662.5,"level":"info","msg":"x"}"#).unwrap();
        assert_eq!(r.ts.unwrap().millis, 1_763_631_662_500);
        let r = parse(r#"{"time":"yesterday","level":"error","msg":"x"}"#).unwrap();
        assert!(r.bad_ts && r.ts.is_none());
        let r = parse(
            r#"{"level":"error","message":{"nested":true},"msg":"fallback","error":"plain"}"#,
        )
        .unwrap();
        assert_eq!(r.message, "fallback");
    }

    #[test]
    fn kubectl_status_and_garbage() {
        let r = parse(r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"previous terminated container \"x\" not found","reason":"BadRequest","code":400}"#).unwrap();
        assert!(r.is_kubectl_status);
        assert!(parse(r#"{"timestamp":"2026-11-20T09:41:02Z","level":"err"#).is_err());
        assert!(parse(r#"{"a":1} trailing"#).is_err());
    }
}

/// How far into a line the fast path looks for the level and time keys.
const QUICK_WINDOW: usize = 256;

/// Searchers for the keys the fast path looks for, built once (building one per line cost
/// more than the search).
static QUICK_KEYS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 5]> =
    std::sync::LazyLock::new(|| {
        [
            &b"\"level\":"[..],
            b"\"timestamp\":",
            b"\"time\":",
            b"\"@timestamp\":",
            b"\"ts\":",
        ]
        .map(memchr::memmem::Finder::new)
    });

fn quick_value<'a>(line: &'a [u8], key: &memchr::memmem::Finder<'_>) -> Option<&'a [u8]> {
    let window = &line[..line.len().min(QUICK_WINDOW)];
    let at = key.find(window)? + key.needle().len();
    let rest = &line[at..];
    let start = rest.iter().position(|c| *c != b' ')?;
    Some(&rest[start..])
}

/// The level of a JSON line, read from its bytes without parsing it (`"level":"info"`,
/// `"level":30`): the fast path for lines whose message is not needed. `None` when the key is not
/// near the start or its value is not a plain word or number.
pub fn quick_level(line: &[u8]) -> Option<Level> {
    quick_level_and_rest(line).map(|(level, _)| level)
}

/// [`quick_level`], and the bytes after the level's value.
pub fn quick_level_and_rest(line: &[u8]) -> Option<(Level, &[u8])> {
    let v = quick_value(line, &QUICK_KEYS[0])?;
    match v.first()? {
        b'"' => {
            let end = memchr::memchr(b'"', &v[1..])?;
            Some((Level::from_word(&v[1..1 + end])?, &v[end + 2..]))
        }
        c if c.is_ascii_digit() => {
            let end = v
                .iter()
                .position(|c| !c.is_ascii_digit())
                .unwrap_or(v.len());
            let n = std::str::from_utf8(&v[..end]).ok()?.parse::<f64>().ok()?;
            Some((Level::from_number(n), &v[end..]))
        }
        _ => None,
    }
}

/// Whether a JSON line of the service's logger (`level` then `message`) announces that the
/// process started (see [`super::text::is_start_message`]), read from its bytes.
pub fn quick_start(line: &[u8]) -> Option<super::sink::Boot> {
    quick_level_and_rest(line).and_then(|(_, rest)| start_after_level(rest))
}

/// [`quick_start`] on what follows the level's value (from [`quick_level_and_rest`]).
pub fn start_after_level(rest: &[u8]) -> Option<super::sink::Boot> {
    rest.strip_prefix(b",\"message\":\"")
        .and_then(super::text::is_start_message)
}

/// The time of a JSON line from its bytes (`"timestamp":"..."`, `"time":"..."`, `"time":<ms>`),
/// for the same fast path. `None` when not found or not readable (the full parse then decides).
pub fn quick_time(line: &[u8]) -> Option<ParsedTs> {
    for key in &QUICK_KEYS[1..] {
        let Some(v) = quick_value(line, key) else {
            continue;
        };
        return match v.first()? {
            b'"' => {
                let end = memchr::memchr(b'"', &v[1..])?;
                let p = parse_timestamp_prefix(&v[1..1 + end])?;
                (p.len == end).then_some(p)
            }
            c if c.is_ascii_digit() => {
                let end = v
                    .iter()
                    .position(|c| !(c.is_ascii_digit() || *c == b'.'))
                    .unwrap_or(v.len());
                let n: f64 = std::str::from_utf8(&v[..end]).ok()?.parse().ok()?;
                time_of(&Value::Num(n))
            }
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod raw_tests {
    use super::*;
    use crate::ingest::logs::sink::Text;

    #[test]
    fn raw_strings_decode_to_what_the_full_parse_gives() {
        let line = r#"{"timestamp":"2026-11-20T09:41:02.123Z","level":"error","message":"Graph execution failed: 529 {\"type\":\"error\"}","trace":"E: x\n    at y","msg":"ignored"}"#;
        let full = parse(line).unwrap();
        let raw = parse_raw(line, &|_| true, true).unwrap();
        assert_eq!(Text::Json(raw.message_raw.unwrap()).decode(), full.message);
        assert_eq!(Text::Json(raw.trace_raw.unwrap()).decode(), full.trace);
        // Unescaped strings are borrowed, not copied.
        let plain = parse_raw(r#"{"level":"error","message":"plain"}"#, &|_| true, true).unwrap();
        assert!(matches!(
            Text::Json(plain.message_raw.unwrap()).decode(),
            Cow::Borrowed("plain")
        ));
    }
}

#[cfg(test)]
mod quick_tests {
    use super::*;

    #[test]
    fn quick_reads_agree_with_the_full_parse() {
        let lines = [
            r#"{"timestamp":"2026-11-20T09:41:02.123Z","level":"info","message":"x","service":"S"}"#,
            r#"{"level":30,"time":1742277600123,"pid":1,"msg":"request completed"}"#,
            r#"{"@timestamp":"2026-11-20T09:41:02Z","level":"debug","msg":"x"}"#,
            r#"{"level":"warn","ts":1763631662.5,"msg":"x"}"#,
        ];
        for l in lines {
            let full = parse(l).unwrap();
            assert_eq!(quick_level(l.as_bytes()), full.level, "{l}");
            assert_eq!(
                quick_time(l.as_bytes()).map(|t| t.millis),
                full.ts.map(|t| t.millis),
                "{l}"
            );
        }
        // A level inside an escaped string is not the record's level.
        assert_eq!(
            quick_level(br#"{"message":"said \"level\":\"error\"","x":1}"#),
            None
        );
        assert_eq!(quick_time(br#"{"time":"yesterday"}"#), None);
    }
}
