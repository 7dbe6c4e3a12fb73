//! Amazon CloudWatch Logs Insights results: `aws logs get-query-results` (`results`, rows of
//! `{"field", "value"}` pairs, and `statistics.recordsMatched`) and the console's "Export
//! results > Download table (JSON)" (an array of rows keyed by field). The text is the `log`
//! field, or the `log` of `@message` when that is the record Fluent Bit (Container Insights)
//! sent, else `@message`; the container from `kubernetes.*` fields, the record's `kubernetes`
//! object, or the Container Insights log stream name
//! (`...var.log.containers.POD_NAMESPACE_CONTAINER-ID.log`); the time from the record's
//! `time` (the runtime's, to the nanosecond) else `@timestamp` (UTC, to the millisecond).
//! Also `aws logs filter-log-events --output json` (`events[]` with `logStreamName`,
//! `timestamp` in ms and `message`), which exports a log group whole, streamed.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::atomic::Ordering;

use serde::Deserialize;
use serde_json::Value;

use super::{parse_rfc3339_ns, render_par, Batcher, Entry, RenderedSink, Stats};

#[derive(Deserialize)]
struct Field {
    field: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statistics {
    #[serde(default)]
    records_matched: Option<f64>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    results: Vec<Vec<Field>>,
    #[serde(default)]
    statistics: Option<Statistics>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(default)]
    log_stream_name: Option<String>,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    message: String,
}

/// `2026-11-20 09:40:05.830` (Insights' UTC form) or RFC 3339.
fn insights_time(s: &str) -> Option<i64> {
    if let Some(ns) = parse_rfc3339_ns(s) {
        return Some(ns);
    }
    let t = chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()?;
    t.and_utc().timestamp_nanos_opt()
}

/// `ip-10-0-1-2.ec2.internal-application.var.log.containers.POD_NAMESPACE_CONTAINER-ID.log`
fn from_stream(stream: &str) -> Option<(String, String, String)> {
    let name = stream.rsplit("containers.").next()?.strip_suffix(".log")?;
    let (pod, rest) = name.split_once('_')?;
    let (ns, rest) = rest.split_once('_')?;
    // The container id is 64 hex digits after the last '-'.
    let (container, id) = rest.rsplit_once('-')?;
    (id.len() == 64 && id.bytes().all(|c| c.is_ascii_hexdigit()))
        .then(|| (pod.to_owned(), ns.to_owned(), container.to_owned()))
}

/// One row (field name -> value) as an entry.
fn row(fields: &BTreeMap<&str, &str>) -> Entry {
    let get = |k: &str| fields.get(k).copied();
    // Fluent Bit's record, when `@message` is one.
    let record = get("@message")
        .filter(|m| m.starts_with('{'))
        .and_then(|m| serde_json::from_str::<Value>(m).ok())
        .filter(|v| v.get("log").is_some_and(Value::is_string));
    let rec = |path: &[&str]| -> Option<String> {
        let mut v = record.as_ref()?;
        for p in path {
            v = v.get(p)?;
        }
        v.as_str().map(str::to_owned)
    };
    let k8s = |key: &str| {
        get(&format!("kubernetes.{key}"))
            .map(str::to_owned)
            .or_else(|| rec(&["kubernetes", key]))
    };
    let stream = get("@logStream").and_then(from_stream);
    let text = get("log")
        .map(str::to_owned)
        .or_else(|| rec(&["log"]))
        .or_else(|| get("@message").map(str::to_owned))
        .unwrap_or_default();
    let ts = rec(&["time"])
        .as_deref()
        .and_then(parse_rfc3339_ns)
        .or_else(|| get("@timestamp").and_then(insights_time));
    Entry {
        namespace: k8s("namespace_name").or_else(|| stream.as_ref().map(|s| s.1.clone())),
        pod: k8s("pod_name").or_else(|| stream.as_ref().map(|s| s.0.clone())),
        container: k8s("container_name").or_else(|| stream.as_ref().map(|s| s.2.clone())),
        ts,
        text,
    }
}

/// A console export's row: `{"@timestamp": ..., "@message": ..., ...}`.
fn flat_row(bytes: &[u8]) -> Result<Entry, String> {
    let v: BTreeMap<String, Value> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let fields: BTreeMap<&str, &str> = v
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
        .collect();
    Ok(row(&fields))
}

pub fn document(
    mut src: impl BufRead,
    stats: &Stats,
    sink: &mut RenderedSink<'_>,
) -> Result<(), String> {
    let head = src.fill_buf().map_err(|e| e.to_string())?;
    let first = head.iter().find(|c| !c.is_ascii_whitespace()).copied();
    let window = &head[..head.len().min(16 * 1024)];
    let events = memchr::memmem::find(window, b"\"events\"").is_some()
        && memchr::memmem::find(window, b"\"results\"").is_none();
    if first == Some(b'[') {
        let mut bad = None;
        let mut pool = Vec::new();
        super::array_elements(src, &mut |block| {
            let (_, why) = render_par(block, &flat_row, &mut pool, sink);
            if bad.is_none() {
                bad = why;
            }
        })?;
        return bad.map_or(Ok(()), |e| Err(format!("a row could not be read: {e}")));
    }
    if events {
        let mut out = Batcher::new(sink);
        return super::walk::<Event>(src, &["events"], &mut |e| {
            let ms = e.timestamp.map(|t| t.saturating_mul(1_000_000));
            let mut fields = BTreeMap::new();
            fields.insert("@message", e.message.as_str());
            if let Some(s) = &e.log_stream_name {
                fields.insert("@logStream", s.as_str());
            }
            let mut entry = row(&fields);
            entry.ts = entry.ts.or(ms);
            out.push(&entry);
        });
    }
    // get-query-results: at most 10,000 rows a page (100,000 in all), read whole.
    let answer: Answer = serde_json::from_reader(src).map_err(|e| e.to_string())?;
    if let Some(n) = answer.statistics.and_then(|s| s.records_matched) {
        if n.is_finite() && n >= 0.0 {
            stats.declared_total.store(n as u64, Ordering::Relaxed);
        }
    }
    if let Some(status) = answer.status.filter(|s| s != "Complete") {
        stats.problem(format!(
            "the query's status is {status}, not Complete: its results may be partial"
        ));
    }
    let mut out = Batcher::new(sink);
    for r in &answer.results {
        let fields: BTreeMap<&str, &str> = r
            .iter()
            .filter_map(|f| Some((f.field.as_str(), f.value.as_deref()?)))
            .collect();
        out.push(&row(&fields));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kubectl lines a document gives.
    fn lines(doc: &[u8], stats: &Stats) -> String {
        let mut got = String::new();
        document(doc, stats, &mut |r| {
            got.push_str(&String::from_utf8_lossy(&r.bytes))
        })
        .unwrap();
        got
    }

    #[test]
    fn query_results_and_console_exports() {
        let doc = br#"{"results":[[
            {"field":"@timestamp","value":"2026-11-20 09:40:06.001"},
            {"field":"@message","value":"{\"time\":\"2026-11-20T09:40:06.001234567Z\",\"stream\":\"stdout\",\"_p\":\"F\",\"log\":\"boom\",\"kubernetes\":{\"pod_name\":\"mcp-backend-7c9d5b8f6d-x2kqp\",\"namespace_name\":\"mcp-everything\",\"container_name\":\"backend\"}}"},
            {"field":"@ptr","value":"CmAKJwoj"}],
           [{"field":"@timestamp","value":"2026-11-20 09:40:05.000"},
            {"field":"@message","value":"plain text"},
            {"field":"@logStream","value":"ip-10-0-1-2.ec2.internal-application.var.log.containers.mcp-backend-7c9d5b8f6d-9wzlm_mcp-everything_backend-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log"}]],
          "statistics":{"recordsMatched":25000.0,"recordsScanned":90000.0,"bytesScanned":1.0e7},"status":"Complete"}"#;
        let stats = Stats::default();
        let got = lines(doc, &stats);
        assert_eq!(
            got,
            "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:06.001234567Z boom\n\
             [pod/mcp-backend-7c9d5b8f6d-9wzlm/backend] 2026-11-20T09:40:05.000000000Z plain text\n"
        );
        assert_eq!(stats.declared_total.load(Ordering::Relaxed), 25_000);
        let console = br#"[{"@timestamp":"2026-11-20 09:40:05.830","@message":"x","kubernetes.pod_name":"p-1","kubernetes.container_name":"c"}]"#;
        let got = lines(console, &stats);
        assert_eq!(got, "[pod/p-1/c] 2026-11-20T09:40:05.830000000Z x\n");
    }

    #[test]
    fn filter_log_events() {
        let doc = br#"{"events":[{"logStreamName":"n.var.log.containers.mcp-backend-7c9d5b8f6d-9wzlm_mcp-everything_backend-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log","timestamp":1795167605830,"message":"{\"log\":\"boom\",\"stream\":\"stdout\"}","ingestionTime":1795167606000,"eventId":"1"}],"searchedLogStreams":[]}"#;
        let stats = Stats::default();
        let got = lines(doc, &stats);
        assert_eq!(
            got,
            "[pod/mcp-backend-7c9d5b8f6d-9wzlm/backend] 2026-11-20T09:40:05.830000000Z boom\n"
        );
    }

    #[test]
    fn a_stream_name_that_is_not_container_insights_names_nothing() {
        assert_eq!(from_stream("kube-apiserver-audit-abc"), None);
        assert_eq!(from_stream("x.var.log.containers.pod_ns_c-123.log"), None);
    }
}
