//! The outer layers of a `kubectl logs` line, peeled in order: the `--prefix`
//! (`[pod/NAME/CONTAINER] `), the kubelet's `--timestamps` time, then the content (JSON, Nest,
//! plain text). Also the rule that decides whether a line continues the record above it.

use crate::model::time::{parse_kubelet_timestamp, MinuteCache, ParsedTs};

/// `[pod/NAME/CONTAINER] ` as `kubectl logs --prefix` writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix<'a> {
    pub pod: &'a str,
    pub container: &'a str,
}

/// Splits off a `--prefix`. Accepts `[pod/NAME/CONTAINER] ` and `[NAME/CONTAINER] `.
pub fn split_prefix(line: &[u8]) -> (Option<Prefix<'_>>, &[u8]) {
    if line.first() != Some(&b'[') {
        return (None, line);
    }
    let Some(end) = memchr::memchr(b']', &line[..line.len().min(300)]) else {
        return (None, line);
    };
    if line.get(end + 1) != Some(&b' ') {
        return (None, line);
    }
    let Ok(inner) = std::str::from_utf8(&line[1..end]) else {
        return (None, line);
    };
    let inner = inner.strip_prefix("pod/").unwrap_or(inner);
    let mut parts = inner.split('/');
    let (Some(pod), Some(container), None) = (parts.next(), parts.next(), parts.next()) else {
        return (None, line);
    };
    if !super::hints::looks_like_pod(pod) || container.is_empty() || container.contains(' ') {
        return (None, line);
    }
    (Some(Prefix { pod, container }), &line[end + 2..])
}

/// Splits off the kubelet's `--timestamps` time (which is followed by one space).
pub fn split_kubelet_ts(line: &[u8]) -> (Option<ParsedTs>, &[u8]) {
    split_kubelet_ts_cached(line, &mut MinuteCache::default())
}

/// [`split_kubelet_ts`] with the minute of the previous line remembered in `cache`.
#[inline]
pub fn split_kubelet_ts_cached<'a>(
    line: &'a [u8],
    cache: &mut MinuteCache,
) -> (Option<ParsedTs>, &'a [u8]) {
    if line.len() < 21 || !line[0].is_ascii_digit() || line[10] != b'T' {
        return (None, line);
    }
    match parse_kubelet_timestamp(line, cache) {
        Some(p) if p.has_zone && line.get(p.len) == Some(&b' ') => (Some(p), &line[p.len + 1..]),
        Some(p) if p.has_zone && p.len == line.len() => (Some(p), &line[p.len..]),
        _ => (None, line),
    }
}

/// Whether a line's content continues the record above it: indented lines (stack frames,
/// wrapped text, pretty-printed JSON), `Caused by:`, `... 12 more`, V8's `<--- Last few GCs --->`
/// blocks, and lone closing brackets.
#[inline]
pub fn is_continuation(content: &[u8]) -> bool {
    match content.first() {
        None => false,
        Some(b' ' | b'\t') => content.iter().any(|c| !c.is_ascii_whitespace()),
        Some(b'}' | b']' | b')') => true,
        Some(b'{' | b'[') if content.len() == 1 => true,
        Some(b'C') => content.starts_with(b"Caused by"),
        Some(b'.') => content.starts_with(b"... "),
        Some(b'<') => content.starts_with(b"<--- "),
        Some(b'-') => content.starts_with(b"----- "),
        Some(b'a') => content.starts_with(b"at "),
        _ => false,
    }
}

/// kubectl's own error text, e.g. `Error from server (BadRequest): previous terminated container
/// "backend" in pod "..." not found`, or the `stdout:`/`stderr:` markers some tools wrap it in.
pub fn is_kubectl_message(content: &[u8]) -> bool {
    content.starts_with(b"Error from server (")
        || content.starts_with(b"error: ") && memchr::memmem::find(content, b"container").is_some()
        || content == b"stdout:"
        || content == b"stderr:"
}

/// Whether a raw line starts a new record (used to cut chunks at record boundaries).
pub fn starts_record(line: &[u8]) -> bool {
    let (_, rest) = split_prefix(line);
    let (_, content) = split_kubelet_ts(rest);
    !is_continuation(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_then_timestamp_then_content() {
        let line = b"[pod/mcp-backend-7c9d5b8f6d-9wzlm/backend] 2026-11-20T09:41:02.123456789Z {\"level\":\"info\"}";
        let (prefix, rest) = split_prefix(line);
        let prefix = prefix.unwrap();
        assert_eq!(prefix.pod, "mcp-backend-7c9d5b8f6d-9wzlm");
        assert_eq!(prefix.container, "backend");
        let (ts, content) = split_kubelet_ts(rest);
        assert!(ts.is_some());
        assert_eq!(content, b"{\"level\":\"info\"}");
    }

    #[test]
    fn not_prefixes() {
        assert!(split_prefix(b"[Nest] 1  - 11/20/2026").0.is_none());
        assert!(split_prefix(b"[GraphOrchestrationService::executeGraph] x")
            .0
            .is_none());
        assert!(split_prefix(b"[ERROR] x").0.is_none());
    }

    #[test]
    fn continuation_rules() {
        assert!(is_continuation(
            b"    at APIError.generate (/app/x.js:58:20)"
        ));
        assert!(is_continuation(b"Caused by: java.io.IOException"));
        assert!(!is_continuation(b"{\"level\":\"info\"}"));
        assert!(!is_continuation(b"   "));
        assert!(!is_continuation(
            b"[Nest] 1  - 11/20/2026, 10:00:01 AM LOG x"
        ));
        assert!(starts_record(b"2026-11-20T09:41:02.123456789Z {\"a\":1}"));
        assert!(!starts_record(
            b"2026-11-20T09:41:02.123456789Z     at x (y.js:1:1)"
        ));
    }

    #[test]
    fn kubectl_errors() {
        assert!(is_kubectl_message(b"Error from server (BadRequest): previous terminated container \"backend\" in pod \"p\" not found"));
        assert!(!is_kubectl_message(b"Error: boom"));
    }
}
