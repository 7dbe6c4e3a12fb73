//! The fast path for documents, as kubectl's lines have theirs: an entry whose structured line
//! is at a level the run does not want is only counted, so instead of parsing and rendering it
//! whole, its few members are read from the bytes and it is handed on as a stub line
//! (`[pod/POD/CONTAINER] TIME {"level":"info"}`) that the scanner counts exactly as it would
//! count the whole line (the same origin, time, level, one line; such a record keeps no text).
//! Anything unusual (escapes in a key or name, a missing time, a level the run wants, a start
//! message, a structure this walker does not follow) falls back to the full parse.

use crate::ingest::logs::json_log;
use crate::model::time::{parse_kubelet_timestamp, MinuteCache};
use crate::model::{Level, Levels};

/// The end (exclusive) of the JSON string opening at `b[i]` (a quote).
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        i = super::structure::quote_or_backslash(b, i)?;
        if b[i] == b'"' {
            return Some(i + 1);
        }
        i += 2;
    }
}

/// The end (exclusive) of the JSON value starting at `b[i]`, which must not be whitespace.
/// A container's end is taken from `nested` (the containers the element scan found) or
/// followed by depth outside strings; its inside is not validated.
fn value_end(b: &[u8], nested: &[(usize, usize)], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => match nested.iter().find(|n| n.0 == i) {
            Some(n) => Some(n.1),
            None => container_end(b, i),
        },
        b',' | b'}' | b']' | b':' => None,
        _ => {
            let n = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                .unwrap_or(b.len() - i);
            Some(i + n)
        }
    }
}

/// The end (exclusive) of the object or array opening at `b[i]`, followed by depth.
fn container_end(b: &[u8], i: usize) -> Option<usize> {
    let (mut depth, mut end) = (0usize, None);
    let mut st = super::structure::StrState::default();
    super::structure::structurals(b, i, b.len(), &mut st, |pos, c| {
        if matches!(c, b'{' | b'[') {
            depth += 1;
        } else {
            depth -= 1;
            if depth == 0 {
                end = Some(pos + 1);
                return false;
            }
        }
        true
    });
    end
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Calls `f` with each member (key without its quotes, value's range) of the object at
/// `b[span.0..span.1]`, `nested` being the containers the element scan found in `b`. `None`
/// when it is not an object of that plain shape or a key holds an escape.
pub fn members<'a>(
    b: &'a [u8],
    nested: &[(usize, usize)],
    span: (usize, usize),
    mut f: impl FnMut(&'a [u8], (usize, usize)),
) -> Option<()> {
    let b = b.get(..span.1)?;
    let mut i = skip_ws(b, span.0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return (skip_ws(b, i + 1) == b.len()).then_some(());
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(b, i)?;
        let key = &b[i + 1..key_end - 1];
        if memchr::memchr(b'\\', key).is_some() {
            return None;
        }
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let end = value_end(b, nested, i)?;
        f(key, (i, end));
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => return (skip_ws(b, i + 1) == b.len()).then_some(()),
            _ => return None,
        }
    }
}

/// A string value's text when it holds no escape.
pub fn plain_str(v: &[u8]) -> Option<&str> {
    let inner = v.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if memchr::memchr(b'\\', inner).is_some() {
        return None;
    }
    std::str::from_utf8(inner).ok()
}

/// The stub for a structured line `line` (as it would be rendered: one line of JSON) when the
/// scanner would count it without reading it: it opens and closes as an object, its level is
/// read from its bytes and not in `wanted`, and it does not announce a start. The stub carries
/// that level, so the scanner takes the same fast path with the same result.
pub fn stub(line: &[u8], wanted: Levels) -> Option<&'static str> {
    if line.first() != Some(&b'{') || !line.ends_with(b"}") {
        return None;
    }
    let (level, rest) = json_log::quick_level_and_rest(line)?;
    if wanted.contains(level) || json_log::start_after_level(rest).is_some() {
        return None;
    }
    Some(match level {
        Level::Trace => r#"{"level":"trace"}"#,
        Level::Debug => r#"{"level":"debug"}"#,
        Level::Info => r#"{"level":"info"}"#,
        Level::Warn => r#"{"level":"warn"}"#,
        Level::Error => r#"{"level":"error"}"#,
        Level::Fatal => r#"{"level":"fatal"}"#,
        Level::Unknown => return None,
    })
}

/// A time the kubelet's way (`2026-11-20T09:40:05.830123456Z`) and its nanoseconds, when `s`
/// is already written so; `None` for any other form (the full path converts it). `cache`
/// remembers the minute of the time before.
pub fn kubelet_time(s: &str, cache: &mut MinuteCache) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 30 || b[19] != b'.' || b[29] != b'Z' || !b[20..29].iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    parse_kubelet_timestamp(b, cache)
        .filter(|p| p.has_zone && p.len == b.len())
        .map(|p| p.nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(b: &str) -> Option<Vec<(String, String)>> {
        let mut out = Vec::new();
        let bytes = b.as_bytes();
        members(bytes, &[], (0, bytes.len()), |k, (s, e)| {
            out.push((
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(&bytes[s..e]).into_owned(),
            ))
        })?;
        Some(out)
    }

    #[test]
    fn members_of_plain_objects() {
        let got =
            all(r#" { "a" : "x\"}" , "b":{"c":[1,{"d":"]"}]}, "n": -1.5e3 ,"t":true}"#).unwrap();
        assert_eq!(
            got,
            [
                ("a", r#""x\"}""#),
                ("b", r#"{"c":[1,{"d":"]"}]}"#),
                ("n", "-1.5e3"),
                ("t", "true")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert_eq!(all("{}").unwrap(), []);
        assert_eq!(all("{\n}\n").unwrap(), []);
    }

    #[test]
    fn anything_else_falls_back() {
        for bad in [
            "",
            "[1]",
            r#"{"a":1"#,
            r#"{"a" 1}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"{"a\"b":1}"#,
            r#"{"a":{"b":1}"#,
            r#"{"a":"open}"#,
            r#"{a:1}"#,
            r#"{"a":}"#,
        ] {
            assert!(all(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn stubs_only_for_unwanted_levels() {
        let errors = Levels::from_fn(|l| l >= Level::Warn && l != Level::Unknown);
        let line = br#"{"timestamp":"2026-11-20T00:00:00.036Z","level":"info","message":"Anthropic call completed"}"#;
        assert_eq!(stub(line, errors), Some(r#"{"level":"info"}"#));
        assert_eq!(
            stub(br#"{"level":30,"msg":"x"}"#, errors),
            Some(r#"{"level":"info"}"#)
        );
        assert_eq!(stub(br#"{"level":"error","message":"boom"}"#, errors), None);
        assert_eq!(stub(br#"{"message":"no level"}"#, errors), None);
        assert_eq!(
            stub(br#"{"level":"info","message":"x" trailing"#, errors),
            None
        );
        let start = br#"{"level":"info","message":"Nest application successfully started"}"#;
        assert_eq!(stub(start, errors), None);
        // The stub reads back as the same level, through the same fast path.
        let s = stub(line, errors).unwrap();
        assert_eq!(json_log::quick_level(s.as_bytes()), Some(Level::Info));
    }

    #[test]
    fn kubelet_times_only() {
        let mut c = MinuteCache::default();
        for t in [
            "2026-11-20T00:00:00.036275413Z",
            "2026-11-20T00:00:59.999999999Z",
            "2026-11-20T00:01:00.000000001Z",
            "2024-02-29T23:59:59.000000000Z",
        ] {
            assert_eq!(
                kubelet_time(t, &mut c),
                super::super::parse_rfc3339_ns(t),
                "{t}"
            );
        }
        assert!(kubelet_time("2026-11-20T00:00:00.036Z", &mut c).is_none());
        assert!(kubelet_time("2026-11-20T00:00:00.036275413+00:00", &mut c).is_none());
        assert!(kubelet_time("2026-02-30T00:00:00.000000000Z", &mut c).is_none());
    }
}
