//! Loki: `logcli query` output (default: `TIME {LABELS} LINE`; `--output jsonl`:
//! `{"labels":...,"line":...,"timestamp":...}`; `--output raw` is the lines themselves, read
//! as any log) and the HTTP API's `query_range` answer (`resultType: streams`, each stream's
//! labels and `[nanosecond string, line]` values, newest first by default). Pod, container and
//! namespace come from the stream's labels (`pod`, `container`, `namespace`, or
//! OpenTelemetry's `k8s_pod_name`...).

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{from_labels, parse_rfc3339_ns, Entry};

/// Where the label set of a default logcli line ends (the `}` outside quotes).
fn label_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'{') {
        return None;
    }
    let mut quoted = false;
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'}' if !quoted => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// (time, labels, line) of a default logcli line.
fn split(line: &str) -> Option<(i64, &str, &str)> {
    let (ts, rest) = line.split_once(' ')?;
    if ts.len() < 20 || !ts.as_bytes()[0].is_ascii_digit() || ts.as_bytes()[10] != b'T' {
        return None;
    }
    let ns = parse_rfc3339_ns(ts)?;
    let end = label_end(rest)?;
    // logcli pads the label sets to one width.
    let text = rest[end + 1..].trim_start_matches(' ');
    Some((ns, &rest[..=end], text))
}

pub fn is_default_line(line: &str) -> bool {
    // A label set (`{pod="x"}`), not a JSON line after a kubelet time (`{"level":...}`).
    split(line).is_some_and(|(_, labels, _)| {
        !labels.starts_with("{\"")
            && crate::ingest::prom::lexer::parse_label_set(labels).is_ok_and(|l| !l.is_empty())
    })
}

fn entry(labels: &BTreeMap<String, String>, ts: Option<i64>, text: String) -> Entry {
    let (namespace, pod, container) = from_labels(|k| labels.get(k).map(String::as_str));
    Entry {
        namespace,
        pod,
        container,
        ts,
        text,
    }
}

/// A default logcli line as an entry.
pub fn default_entry(raw: &[u8]) -> Option<Entry> {
    let text = String::from_utf8_lossy(raw);
    let (ts, labels, line) = split(&text)?;
    let labels = crate::ingest::prom::lexer::parse_label_set(labels).unwrap_or_default();
    Some(entry(&labels, Some(ts), line.to_owned()))
}

#[derive(Deserialize)]
struct Jsonl {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    line: String,
    timestamp: String,
}

/// A `logcli --output jsonl` line as an entry.
pub fn jsonl_entry(raw: &[u8]) -> Option<Entry> {
    let j = serde_json::from_slice::<Jsonl>(raw).ok()?;
    Some(entry(&j.labels, parse_rfc3339_ns(&j.timestamp), j.line))
}

/// logcli's output (newest first unless `--forward`), line by line.
pub fn logcli_lines(
    mut src: impl BufRead,
    jsonl: bool,
    f: &mut dyn FnMut(Entry),
) -> Result<(), String> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if src.read_until(b'\n', &mut buf).map_err(|e| e.to_string())? == 0 {
            return Ok(());
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let e = if jsonl {
            jsonl_entry(line)
        } else {
            default_entry(line)
        };
        // A line of another shape keeps its place, for the kubectl path to judge.
        f(e.unwrap_or_else(|| Entry {
            text: String::from_utf8_lossy(line).into_owned(),
            ..Entry::default()
        }));
    }
}

#[derive(Deserialize)]
struct Stream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<Vec<Box<RawValue>>>,
}

/// `query_range`/`query` answers with streams: every value of every stream.
pub fn api_document(src: impl BufRead, f: &mut dyn FnMut(Entry)) -> Result<(), String> {
    super::walk::<Stream>(src, &["data", "result"], &mut |s| {
        for v in s.values {
            let text = |i: usize| -> Option<String> { serde_json::from_str(v.get(i)?.get()).ok() };
            let ts = text(0).and_then(|t| t.parse::<i64>().ok());
            f(entry(&s.stream, ts, text(1).unwrap_or_default()));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logcli_outputs() {
        let mut out = Vec::new();
        let e = default_entry(br#"2026-11-20T10:40:05.830123456+01:00 {container="backend", namespace="mcp-everything", pod="mcp-backend-7c9d5b8f6d-x2kqp"}    {"level":"error","message":"a } b"}"#).unwrap();
        super::super::write_entry(&e, &mut out);
        let e = jsonl_entry(br#"{"labels":{"k8s_pod_name":"mcp-backend-7c9d5b8f6d-9wzlm","k8s_container_name":"backend"},"line":"boom","timestamp":"2026-11-20T09:40:06Z"}"#).unwrap();
        super::super::write_entry(&e, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:05.830123456Z {\"level\":\"error\",\"message\":\"a } b\"}\n[pod/mcp-backend-7c9d5b8f6d-9wzlm/backend] 2026-11-20T09:40:06.000000000Z boom\n"
        );
    }

    #[test]
    fn kubectl_json_lines_are_not_logcli() {
        assert!(!is_default_line(
            r#"2026-11-20T09:40:05.830123456Z {"timestamp":"2026-11-20T09:40:05.830Z","level":"info"}"#
        ));
        assert!(is_default_line(r#"2026-11-20T09:40:05Z {pod="a-1"} x"#));
    }

    #[test]
    fn api_streams() {
        let doc = br#"{"status":"success","data":{"resultType":"streams","result":[
            {"stream":{"pod":"mcp-backend-7c9d5b8f6d-x2kqp","container":"backend","namespace":"mcp-everything"},
             "values":[["1795167606000000002","second"],["1795167605000000001","first",{"trace_id":"x"}]]}],
            "stats":{"summary":{}}}}"#;
        let mut got = Vec::new();
        api_document(&doc[..], &mut |e| got.push((e.ts, e.text, e.pod))).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1],
            (
                Some(1_795_167_605_000_000_001),
                "first".to_owned(),
                Some("mcp-backend-7c9d5b8f6d-x2kqp".to_owned())
            )
        );
    }
}
