//! stern: `[NAMESPACE ]POD CONTAINER [TIME ]MESSAGE` (the namespace when several are tailed;
//! the time with `--timestamps`: RFC 3339, or `MM-DD HH:MM:SS` in `--tz` with
//! `--timestamps=short`; colours stripped), and `stern -o json` (`message`, `podName`,
//! `containerName`, `namespace`; the time in the `timestamp` field, or at the start of
//! `message` as older versions print it).

use serde::Deserialize;

use super::{parse_rfc3339_ns, strip_ansi, write_entry, Entry, LineCtx, Stats};
use crate::ingest::logs::hints::{looks_like_pod, looks_like_workload_pod};

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
}

/// (namespace, pod, container, the rest) of a stern line.
fn split(line: &str) -> Option<(Option<&str>, &str, &str, &str)> {
    let mut it = line.splitn(4, ' ');
    let (a, b) = (it.next()?, it.next()?);
    let c = it.next();
    let d = it.next();
    // With several namespaces stern puts the namespace first: a controller's pod second.
    if is_name(a) && looks_like_workload_pod(b) && c.is_some_and(is_name) {
        return Some((Some(a), b, c?, d.unwrap_or("")));
    }
    if looks_like_pod(a) && is_name(b) {
        let rest = &line[(a.len() + b.len() + 2).min(line.len())..];
        return Some((None, a, b, rest));
    }
    None
}

pub fn is_line(line: &str) -> bool {
    split(line).is_some()
}

/// `MM-DD HH:MM:SS` (stern's short style) in `ctx`'s year and zone.
fn short_time(rest: &str, ctx: &LineCtx) -> Option<(i64, usize)> {
    let b = rest.as_bytes();
    if b.len() < 14 || b[2] != b'-' || b[5] != b' ' || b[8] != b':' || b[11] != b':' {
        return None;
    }
    let text = format!("{}-{} {}", ctx.year, &rest[..5], &rest[6..14]);
    let ms = crate::model::time::parse_time_in(&text, ctx.zone)?;
    Some((
        ms * 1_000_000,
        if b.get(14) == Some(&b' ') { 15 } else { 14 },
    ))
}

/// A leading RFC 3339 time (and the space after it).
fn leading_rfc3339(rest: &str) -> Option<(i64, usize)> {
    let b = rest.as_bytes();
    if b.len() < 20 || !b[0].is_ascii_digit() || b[10] != b'T' {
        return None;
    }
    let end = rest.find(' ').unwrap_or(rest.len());
    let ns = parse_rfc3339_ns(&rest[..end])?;
    Some((ns, (end + 1).min(rest.len())))
}

pub fn line(raw: &[u8], ctx: &LineCtx, stats: &Stats, out: &mut Vec<u8>) -> bool {
    let clean = strip_ansi(raw);
    let text = String::from_utf8_lossy(&clean);
    let Some((ns, pod, container, rest)) = split(&text) else {
        return false;
    };
    stats.namespace(ns);
    let (ts, skip) = leading_rfc3339(rest)
        .or_else(|| short_time(rest, ctx))
        .map_or((None, 0), |(t, n)| (Some(t), n));
    write_entry(
        &Entry {
            namespace: ns.map(str::to_owned),
            pod: Some(pod.to_owned()),
            container: Some(container.to_owned()),
            ts,
            text: rest[skip..].to_owned(),
        },
        out,
    );
    true
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonLine {
    message: String,
    #[serde(default)]
    namespace: Option<String>,
    pod_name: String,
    container_name: String,
    #[serde(default)]
    timestamp: Option<String>,
}

pub fn json_line(raw: &[u8], stats: &Stats, out: &mut Vec<u8>) -> bool {
    let Ok(j) = serde_json::from_slice::<JsonLine>(raw) else {
        return false;
    };
    stats.namespace(j.namespace.as_deref());
    let (ts, text) = match j.timestamp.as_deref().and_then(parse_rfc3339_ns) {
        Some(t) => (Some(t), j.message.as_str()),
        None => match leading_rfc3339(&j.message) {
            Some((t, n)) => (Some(t), &j.message[n..]),
            None => (None, j.message.as_str()),
        },
    };
    write_entry(
        &Entry {
            namespace: j.namespace.clone(),
            pod: Some(j.pod_name),
            container: Some(j.container_name),
            ts,
            text: text.to_owned(),
        },
        out,
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::Zone;

    fn one(line: &str, ctx: &LineCtx) -> String {
        let mut out = Vec::new();
        assert!(super::line(
            line.as_bytes(),
            ctx,
            &Stats::default(),
            &mut out
        ));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_styles() {
        let ctx = LineCtx {
            zone: Zone::Utc,
            year: 2026,
            wanted: None,
            max_line: 1 << 20,
        };
        assert_eq!(
            one("mcp-backend-7c9d5b8f6d-x2kqp backend 2026-11-20T09:40:05.830123456Z {\"level\":\"error\"}", &ctx),
            "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:05.830123456Z {\"level\":\"error\"}\n"
        );
        assert_eq!(
            one(
                "mcp-everything mcp-backend-7c9d5b8f6d-x2kqp backend hello world",
                &ctx
            ),
            "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] hello world\n"
        );
        let berlin = LineCtx {
            zone: Zone::parse("Europe/Berlin").unwrap(),
            year: 2026,
            wanted: None,
            max_line: 1 << 20,
        };
        assert_eq!(
            one("\x1b[32mmcp-backend-7c9d5b8f6d-x2kqp\x1b[0m \x1b[33mbackend\x1b[0m 11-20 10:40:05 boom", &berlin),
            "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:05.000000000Z boom\n"
        );
        assert!(!is_line("2026-11-20T09:40:05.830123456Z hello"));
        assert!(!is_line(
            "[Nest] 1  - 11/20/2026, 10:00:01 AM   ERROR [ExceptionHandler] x"
        ));
        assert!(!is_line("Starting the server on port 3000"));
    }

    #[test]
    fn json_styles() {
        let mut out = Vec::new();
        let stats = Stats::default();
        assert!(json_line(br#"{"message":"2026-11-20T09:40:05.830123456Z boom","nodeName":"n","namespace":"mcp-everything","podName":"mcp-backend-7c9d5b8f6d-x2kqp","containerName":"backend","labels":{"app":"mcp-backend"}}"#, &stats, &mut out));
        assert!(json_line(br#"{"timestamp":"2026-11-20T09:40:06.000000001Z","message":"bang","nodeName":"n","namespace":"mcp-everything","podName":"mcp-backend-7c9d5b8f6d-x2kqp","containerName":"backend"}"#, &stats, &mut out));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:05.830123456Z boom\n[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:06.000000001Z bang\n"
        );
        assert_eq!(
            stats.namespace.lock().unwrap().as_deref(),
            Some("mcp-everything")
        );
    }
}
