//! JSON log lines: the service's own logger (`timestamp`, `level`, `message`, `service`, ...,
//! `trace`), pino and bunyan (numeric `level`, epoch-millisecond `time`, `msg`, `err.stack`),
//! and other common shapes (`ts`, `@timestamp`, `severity`, `stack`). One pass with a serde
//! visitor that borrows from the line and skips every key it does not need.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

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
}

/// Parses one JSON object line. The error text says what is wrong (for the data-quality section).
pub fn parse(line: &str) -> Result<JsonRecord<'_>, String> {
    let mut de = serde_json::Deserializer::from_str(line);
    let rec = Deserializer::deserialize_map(&mut de, RecordVisitor).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(rec)
}

struct RecordVisitor;

fn string_of(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    if text.starts_with('"') {
        // Borrowed when there is no escape, owned otherwise.
        if !text[1..text.len() - 1].contains('\\') {
            Some(Cow::Borrowed(&text[1..text.len() - 1]))
        } else {
            serde_json::from_str::<String>(text).ok().map(Cow::Owned)
        }
    } else {
        None
    }
}

fn time_of(raw: &RawValue) -> Option<ParsedTs> {
    if let Some(s) = string_of(raw) {
        let p = parse_timestamp_prefix(s.as_bytes())?;
        return (p.len == s.len()).then_some(p);
    }
    let n: f64 = raw.get().parse().ok()?;
    // Epoch seconds, milliseconds or microseconds, told apart by magnitude.
    let millis = if n > 1e14 {
        n / 1000.0
    } else if n > 1e11 {
        n
    } else {
        n * 1000.0
    };
    Some(ParsedTs {
        millis: millis as i64,
        has_zone: true,
        len: 0,
    })
}

fn level_of(raw: &RawValue) -> Option<Level> {
    match string_of(raw) {
        Some(s) => Level::from_word(s.trim().as_bytes()),
        None => raw.get().parse::<f64>().ok().map(Level::from_number),
    }
}

/// The parts of a pino/bunyan `err` object we use.
#[derive(Deserialize)]
struct ErrObject<'a> {
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    stack: Option<Cow<'a, str>>,
}

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = JsonRecord<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut rec = JsonRecord::default();
        let mut msg_rank = u8::MAX;
        let mut ts_rank = u8::MAX;
        let mut kind_status = false;
        let mut err_message: Option<Cow<'de, str>> = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "timestamp" | "time" | "ts" | "@timestamp" | "datetime" | "date" | "t" => {
                    let raw: &'de RawValue = map.next_value()?;
                    let rank = match key.as_ref() {
                        "timestamp" | "@timestamp" => 0,
                        "time" | "ts" => 1,
                        _ => 2,
                    };
                    if rank < ts_rank {
                        ts_rank = rank;
                        rec.ts = time_of(raw);
                        rec.bad_ts = rec.ts.is_none();
                    }
                }
                "level" | "severity" | "lvl" | "levelname" | "log.level" | "loglevel" => {
                    let raw: &'de RawValue = map.next_value()?;
                    if rec.level.is_none() {
                        rec.level = level_of(raw);
                    }
                }
                "message" | "msg" | "log" | "error_message" => {
                    let raw: &'de RawValue = map.next_value()?;
                    let rank = match key.as_ref() {
                        "message" => 0,
                        "msg" => 1,
                        _ => 2,
                    };
                    if rank < msg_rank {
                        if let Some(s) = string_of(raw) {
                            msg_rank = rank;
                            rec.message = s;
                        }
                    }
                }
                "trace" | "stack" | "stack_trace" | "stacktrace" | "exception" => {
                    let raw: &'de RawValue = map.next_value()?;
                    if let Some(s) = string_of(raw) {
                        rec.trace = s;
                    }
                }
                "err" | "error" => {
                    let raw: &'de RawValue = map.next_value()?;
                    if raw.get().starts_with('{') {
                        if let Ok(e) = serde_json::from_str::<ErrObject<'de>>(raw.get()) {
                            if let Some(stack) = e.stack {
                                rec.trace = stack;
                            }
                            err_message = e.message;
                        }
                    } else if let Some(s) = string_of(raw) {
                        err_message = Some(s);
                    }
                }
                "kind" => {
                    let raw: &'de RawValue = map.next_value()?;
                    kind_status = raw.get() == "\"Status\"";
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if rec.message.is_empty() {
            if let Some(m) = err_message {
                rec.message = m;
            }
        }
        rec.is_kubectl_status = kind_status && rec.level.is_none() && rec.ts.is_none();
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
    }

    #[test]
    fn kubectl_status_and_garbage() {
        let r = parse(r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"previous terminated container \"x\" not found","reason":"BadRequest","code":400}"#).unwrap();
        assert!(r.is_kubectl_status);
        assert!(parse(r#"{"timestamp":"2026-11-20T09:41:02Z","level":"err"#).is_err());
        assert!(parse(r#"{"a":1} trailing"#).is_err());
    }
}
