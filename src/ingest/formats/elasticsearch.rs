//! Elasticsearch/OpenSearch: a `_search` answer (`hits.hits[]`), or exported hits (a JSON
//! array, or one per line), each `_source` as fluent-bit or Fluentd (`log`,
//! `kubernetes.pod_name`, `kubernetes.namespace_name`, `kubernetes.container_name`) or
//! Filebeat/ECS (`message`, `kubernetes.pod.name`, `kubernetes.namespace`,
//! `kubernetes.container.name`) write it, dotted keys too; the time in `@timestamp` or `time`.
//! A bare `_source` (no hit around it) is read the same.

use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use super::{parse_rfc3339_ns, render_par, Batcher, Entry, RenderedSink};

#[derive(Deserialize)]
struct Hit {
    #[serde(rename = "_source", default)]
    source: Option<Value>,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    // `a.b.c` nested, or flattened as one dotted key.
    let mut cur = v;
    let mut ok = true;
    for p in path {
        match cur.get(p) {
            Some(x) => cur = x,
            None => {
                ok = false;
                break;
            }
        }
    }
    if ok {
        return Some(cur);
    }
    v.get(path.join(".")).or_else(|| {
        let (first, rest) = path.split_first()?;
        v.get(first)?.get(rest.join("."))
    })
}

fn text(v: &Value, paths: &[&[&str]]) -> Option<String> {
    paths
        .iter()
        .find_map(|p| get(v, p)?.as_str().map(str::to_owned))
}

fn entry(src: &Value) -> Entry {
    // fluent-bit keeps the runtime's own time (nanoseconds) in `time`; `@timestamp` is to the ms.
    let ts = text(src, &[&["time"], &["@timestamp"], &["timestamp"]])
        .as_deref()
        .and_then(parse_rfc3339_ns);
    Entry {
        namespace: text(
            src,
            &[
                &["kubernetes", "namespace_name"],
                &["kubernetes", "namespace"],
            ],
        ),
        pod: text(
            src,
            &[&["kubernetes", "pod_name"], &["kubernetes", "pod", "name"]],
        ),
        container: text(
            src,
            &[
                &["kubernetes", "container_name"],
                &["kubernetes", "container", "name"],
            ],
        ),
        ts,
        text: text(src, &[&["log"], &["message"]]).unwrap_or_default(),
    }
}

fn hit(h: Hit) -> Entry {
    match h.source {
        Some(src) => entry(&src),
        None => entry(&Value::Object(h.rest)),
    }
}

/// `"total":{"value":N,"relation":"eq|gte"}` (or an old `"total":N`) near the answer's start.
fn declared_total(head: &[u8]) -> Option<(u64, bool)> {
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let at = text.find("\"total\"")?;
    let rest = &text[at + 7..];
    let digits_at = rest.find(|c: char| c.is_ascii_digit())?;
    let digits: String = rest[digits_at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let n = digits.parse().ok()?;
    Some((
        n,
        rest[..rest.find('}').unwrap_or(rest.len())].contains("\"gte\""),
    ))
}

pub fn document(
    mut src: impl BufRead,
    stats: &super::Stats,
    sink: &mut RenderedSink<'_>,
) -> Result<(), String> {
    let head = src.fill_buf().map_err(|e| e.to_string())?;
    let start = head
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(0);
    let head = &head[start..];
    if head.first() == Some(&b'{') {
        if let Some((n, gte)) = declared_total(head) {
            use std::sync::atomic::Ordering;
            stats.declared_total.store(n, Ordering::Relaxed);
            stats
                .total_is_lower_bound
                .store(u64::from(gte), Ordering::Relaxed);
        }
    }
    if head.first() == Some(&b'[') {
        let mut bad = None;
        let parse = |bytes: &[u8]| {
            serde_json::from_slice::<Hit>(bytes)
                .map(hit)
                .map_err(|e| e.to_string())
        };
        let mut pool = Vec::new();
        super::array_elements(src, &mut |block| {
            let (_, why) = render_par(block, &parse, &mut pool, sink);
            if bad.is_none() {
                bad = why;
            }
        })?;
        return bad.map_or(Ok(()), |e| Err(format!("a hit could not be read: {e}")));
    }
    let mut out = Batcher::new(sink);
    // One hit per line, or a `_search` answer.
    let first_line = head.split(|&c| c == b'\n').next().unwrap_or(b"");
    let ndjson = serde_json::from_slice::<Value>(first_line).is_ok_and(|v| {
        v.get("hits").is_none() && (v.get("_source").is_some() || v.get("_index").is_some())
    });
    if ndjson {
        for v in serde_json::Deserializer::from_reader(src).into_iter::<Hit>() {
            out.push(&hit(v.map_err(|e| e.to_string())?));
        }
        return Ok(());
    }
    super::walk::<Hit>(src, &["hits", "hits"], &mut |h| out.push(&hit(h)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn search_answers_and_hit_lists() {
        let doc = br#"{"took":3,"timed_out":false,"hits":{"total":{"value":2,"relation":"eq"},"hits":[
            {"_index":"logs","_id":"1","_source":{"@timestamp":"2026-11-20T09:40:05.830Z","log":"boom\n","stream":"stderr","kubernetes":{"pod_name":"mcp-backend-7c9d5b8f6d-x2kqp","namespace_name":"mcp-everything","container_name":"backend"}}},
            {"_index":"logs","_id":"2","_source":{"@timestamp":"2026-11-20T09:40:06Z","message":"bang","kubernetes.pod.name":"mcp-backend-7c9d5b8f6d-9wzlm","kubernetes.container.name":"backend"}}]}}"#;
        let mut got = String::new();
        let stats = super::super::Stats::default();
        super::document(&doc[..], &stats, &mut |r| {
            got.push_str(&String::from_utf8_lossy(&r.bytes))
        })
        .unwrap();
        assert_eq!(
            stats
                .declared_total
                .load(std::sync::atomic::Ordering::Relaxed),
            2
        );
        assert_eq!(
            got,
            "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:05.830000000Z boom\n\
             [pod/mcp-backend-7c9d5b8f6d-9wzlm/backend] 2026-11-20T09:40:06.000000000Z bang\n"
        );
        let lines = b"{\"_index\":\"l\",\"_source\":{\"time\":\"2026-11-20T09:40:05Z\",\"log\":\"a\"}}\n{\"_index\":\"l\",\"_source\":{\"time\":\"2026-11-20T09:40:06Z\",\"log\":\"b\"}}\n";
        let mut n = 0;
        super::document(&lines[..], &stats, &mut |r| n += r.entries.len()).unwrap();
        assert_eq!(n, 2);
    }
}
