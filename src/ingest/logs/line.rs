//! The outer layers of a `kubectl logs` line, peeled in order: the `--prefix`
//! (`[pod/NAME/CONTAINER] `), the kubelet's `--timestamps` time, then the content (JSON, Nest,
//! plain text). Also each format's rules for where a record ends: indented continuation lines,
//! the unindented first line of the stack Nest prints after an `ERROR` line, and Node's
//! heap-exhaustion report (V8's GC trace, JS stack and native frames, one fatal record).

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
    let (explicit, inner) = match inner.strip_prefix("pod/") {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let mut parts = inner.split('/');
    let (Some(pod), Some(container), None) = (parts.next(), parts.next(), parts.next()) else {
        return (None, line);
    };
    // After `pod/` any valid pod name (`pod/nginx`); without it, one shaped like a
    // controller's pod, so that a bracketed `[a/b] ` in a message is not taken for a prefix.
    let pod_ok = if explicit {
        crate::model::is_kubernetes_name(pod)
    } else {
        super::hints::looks_like_pod(pod)
    };
    if !pod_ok || container.is_empty() || container.contains(' ') {
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

/// Whether a line's content continues the record above it, whatever the record: indented lines
/// (stack frames, wrapped text, pretty-printed JSON), `Caused by:`, `... 12 more`, and lone
/// closing brackets. (A heap-exhaustion report and Nest's unindented stack heads have rules of
/// their own: [`is_v8_report_line`], [`is_stack_head`].)
#[inline]
pub fn is_continuation(content: &[u8]) -> bool {
    match content.first() {
        None => false,
        Some(b' ' | b'\t') => content.iter().any(|c| !c.is_ascii_whitespace()),
        Some(b'}' | b']' | b')') => true,
        Some(b'{' | b'[') if content.len() == 1 => true,
        Some(b'C') => content.starts_with(b"Caused by"),
        Some(b'.') => content.starts_with(b"... "),
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

/// The first line of a stack that follows a Nest `ERROR` line unindented: `Name: message`, as
/// `err.stack` starts (`error: sorry, too many clients already`, `QueryFailedError: ...`,
/// `AggregateError [ECONNREFUSED]: ...`).
pub fn is_stack_head(content: &[u8]) -> bool {
    let name_end = content
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'.')))
        .unwrap_or(content.len());
    if name_end == 0 || !(content[0].is_ascii_alphabetic() || matches!(content[0], b'_' | b'$')) {
        return false;
    }
    let rest = &content[name_end..];
    let rest = match rest.strip_prefix(b" [") {
        Some(code) => match memchr::memchr(b']', code) {
            Some(end)
                if code[..end]
                    .iter()
                    .all(|c| c.is_ascii_uppercase() || *c == b'_') =>
            {
                &code[end + 1..]
            }
            _ => return false,
        },
        None => rest,
    };
    rest.starts_with(b": ")
}

/// Whether a Nest text line is logged at `ERROR` or `FATAL` (a stack may follow it).
pub fn is_nest_error(content: &[u8]) -> bool {
    content.starts_with(b"[Nest] ")
        && (memchr::memmem::find(content, b" ERROR ").is_some()
            || memchr::memmem::find(content, b" FATAL ").is_some())
}

/// The line that opens Node's heap-exhaustion report: `<--- Last few GCs --->`, or
/// `FATAL ERROR: ...` when the report has no GC trace.
pub fn is_v8_report_start(content: &[u8]) -> bool {
    content.starts_with(b"<--- Last few GCs --->") || content.starts_with(b"FATAL ERROR: ")
}

/// Whether a line belongs to Node's heap-exhaustion report once it has started: the section
/// headers (`<--- JS stacktrace --->`), V8's GC trace (`[1:0x6a3c1a0]  3512340 ms: ...`),
/// `FATAL ERROR: ...`, the numbered native frames (` 1: 0xb7c3b0 node::Abort()`,
/// `10: 0x13fa0e6 ...`, unindented from ten on), older Node's `==== JS stack trace ====` and
/// `Security context:`, and indented frames.
pub fn is_v8_report_line(content: &[u8]) -> bool {
    if content.starts_with(b"<--- ")
        || content.starts_with(b"FATAL ERROR: ")
        || content.starts_with(b"==== ")
        || content.starts_with(b"Security context: ")
        || content.first().is_some_and(|c| matches!(c, b' ' | b'\t'))
    {
        return true;
    }
    // `[pid:0xaddr]  ms: ...`
    if let Some(rest) = content.strip_prefix(b"[") {
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        return digits > 0 && rest[digits..].starts_with(b":0x");
    }
    // `NN: 0x...`
    let digits = content.iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && content[digits..].starts_with(b": 0x")
}

/// The content of a raw line: the prefix and the kubelet's time peeled off.
fn content_of(line: &[u8]) -> &[u8] {
    let (_, rest) = split_prefix(line);
    split_kubelet_ts(rest).1
}

/// Whether a raw line surely starts a new record, knowing the line before it (used to cut
/// chunks at record boundaries, so it errs towards "no"): not a continuation line, not the
/// stack head after a Nest `ERROR` line, and nothing that could be inside a heap-exhaustion
/// report (a blank line, a GC trace line, a native frame), which is one record however long.
pub fn starts_record(prev: &[u8], line: &[u8]) -> bool {
    let content = content_of(line);
    if content.iter().all(u8::is_ascii_whitespace)
        || is_continuation(content)
        || is_v8_report_line(content)
    {
        return false;
    }
    !(is_stack_head(content) && is_nest_error(content_of(prev)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_pod_name_after_pod_slash() {
        let (p, rest) = split_prefix(b"[pod/nginx/nginx] 2026-11-20T09:41:02.123456789Z GET /");
        assert_eq!(
            p,
            Some(Prefix {
                pod: "nginx",
                container: "nginx"
            })
        );
        assert!(rest.starts_with(b"2026-11-20T09:41:02"));
        let (p, _) = split_prefix(b"[pod/web.v2-0/app] x");
        assert_eq!(p.map(|p| p.pod), Some("web.v2-0"));
        // Not a pod name: upper case, or a bracketed word pair in a message.
        assert_eq!(split_prefix(b"[pod/Nginx/app] x").0, None);
        assert_eq!(split_prefix(b"[GET/POST] x").0, None);
    }

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
        let prev = b"2026-11-20T09:41:02.000000000Z {\"a\":0}";
        assert!(starts_record(
            prev,
            b"2026-11-20T09:41:02.123456789Z {\"a\":1}"
        ));
        assert!(!starts_record(
            prev,
            b"2026-11-20T09:41:02.123456789Z     at x (y.js:1:1)"
        ));
    }

    #[test]
    fn nest_stack_heads_stay_with_their_error() {
        let error = b"2026-11-20T09:58:41.900000000Z [Nest] 1  - 11/20/2026, 9:58:41 AM   ERROR [TypeOrmModule] Unable to connect to the database. Retrying (1)...";
        let head = b"2026-11-20T09:58:41.900000000Z error: sorry, too many clients already";
        assert!(is_stack_head(b"error: sorry, too many clients already"));
        assert!(is_stack_head(
            b"QueryFailedError: relation \"x\" does not exist"
        ));
        assert!(is_stack_head(b"AggregateError [ECONNREFUSED]: "));
        assert!(!is_stack_head(b"[Nest] 1  - 11/20/2026"));
        assert!(!is_stack_head(b"Retrying in 2s"));
        assert!(!is_stack_head(b"{\"level\":\"info\"}"));
        assert!(!starts_record(error, head));
        let log =
            b"2026-11-20T09:58:41.900000000Z [Nest] 1  - 11/20/2026, 9:58:41 AM     LOG [X] ok";
        assert!(starts_record(log, head));
    }

    #[test]
    fn a_heap_exhaustion_report_is_one_record() {
        for line in [
            &b"<--- JS stacktrace --->"[..],
            b"[1:0x6a3c1a0]  3512340 ms: Mark-Compact 507.3 (519.1) -> 505.9 (519.4) MB",
            b"FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
            b" 1: 0xb7c3b0 node::Abort() [node]",
            b"10: 0x13fa0e6 v8::internal::Factory::NewFillerObject [node]",
            b"==== JS stack trace =========================================",
        ] {
            assert!(is_v8_report_line(line), "{}", String::from_utf8_lossy(line));
            assert!(!starts_record(b"x", line));
        }
        assert!(is_v8_report_start(b"<--- Last few GCs --->"));
        assert!(!is_v8_report_line(b"{\"level\":\"info\"}"));
        assert!(!is_v8_report_line(b"[Nest] 1  - 11/20/2026"));
        assert!(!starts_record(b"x", b"2026-11-20T09:41:02.123456789Z "));
    }

    #[test]
    fn kubectl_errors() {
        assert!(is_kubectl_message(b"Error from server (BadRequest): previous terminated container \"backend\" in pod \"p\" not found"));
        assert!(!is_kubectl_message(b"Error: boom"));
    }
}
