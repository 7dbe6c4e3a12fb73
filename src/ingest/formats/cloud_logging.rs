//! Google Cloud Logging, as `gcloud logging read --format=json` prints it: an array of
//! LogEntry objects, newest first; the text in `textPayload` or the structured line in
//! `jsonPayload` (written back as one JSON line, its keys in their order), the container in
//! `resource.labels` (`namespace_name`, `pod_name`, `container_name`). An entry whose
//! `jsonPayload` is at a level the run does not count is read from its bytes and handed on as
//! a stub line ([`super::lean`]); the others are parsed with serde.

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{lean, minify, parse_rfc3339_ns, render_block, Entry, LineCtx, Rendered, RenderedSink};
use crate::model::Levels;

/// One LogEntry, its text borrowed from the document where it has no escapes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEntry<'a> {
    #[serde(default, borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    text_payload: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    json_payload: Option<&'a RawValue>,
    #[serde(default, borrow)]
    resource: Resource<'a>,
}

#[derive(Default, Deserialize)]
struct Resource<'a> {
    #[serde(default, borrow)]
    labels: Labels<'a>,
}

/// The labels that name the container (the others are passed over unread).
#[derive(Default, Deserialize)]
struct Labels<'a> {
    #[serde(default, borrow)]
    namespace_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pod_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    container_name: Option<Cow<'a, str>>,
}

/// One entry (an element of the array).
fn entry(bytes: &[u8]) -> Result<Entry, String> {
    let e: LogEntry = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let l = e.resource.labels;
    let text = match (e.text_payload, e.json_payload) {
        (Some(t), _) => t.into_owned(),
        (None, Some(j)) => minify(j.get()),
        (None, None) => String::new(),
    };
    Ok(Entry {
        namespace: l.namespace_name.map(Cow::into_owned),
        pod: l.pod_name.map(Cow::into_owned),
        container: l.container_name.map(Cow::into_owned),
        ts: e.timestamp.as_deref().and_then(parse_rfc3339_ns),
        text,
    })
}

/// An entry whose structured line the run will only count, rendered as its stub from the
/// bytes ([`lean`]); `None` when it needs the full parse.
fn lean_entry(
    el: &super::Element<'_>,
    wanted: Levels,
    max_line: usize,
    r: &mut Rendered,
) -> Option<()> {
    let (bytes, nested) = (el.bytes, el.nested);
    let (mut ts, mut payload, mut resource, mut full_parse, mut seen) =
        (None, None, None, false, 0u8);
    lean::members(bytes, nested, (0, bytes.len()), |key, value| {
        let bit = match key {
            b"timestamp" => {
                ts = Some(value);
                1
            }
            b"jsonPayload" => {
                payload = Some(value);
                2
            }
            b"resource" => {
                resource = Some(value);
                4
            }
            b"textPayload" | b"protoPayload" => {
                full_parse = true;
                0
            }
            _ => 0,
        };
        // A member twice is for the full parse to judge.
        full_parse |= seen & bit != 0;
        seen |= bit;
    })?;
    if full_parse {
        return None;
    }
    let at = |(s, e): (usize, usize)| &bytes[s..e];
    // Most entries name the container the one before did, in the same bytes.
    let same_origin = resource.is_some_and(|res| r.same_resource(at(res)));
    let (mut namespace, mut pod, mut container) = (None, None, None);
    if let (Some(resource), false) = (resource, same_origin) {
        let mut labels = None;
        lean::members(bytes, nested, resource, |k, v| {
            if k == b"labels" {
                labels = Some(v);
            }
        })?;
        if let Some(labels) = labels {
            let mut plain = true;
            lean::members(bytes, nested, labels, |k, v| {
                let slot = match k {
                    b"namespace_name" => &mut namespace,
                    b"pod_name" => &mut pod,
                    b"container_name" => &mut container,
                    _ => return,
                };
                *slot = lean::plain_str(at(v));
                plain &= slot.is_some();
            })?;
            if !plain {
                return None;
            }
        }
    }
    let (ts, payload) = (at(ts?), at(payload?));
    let ts_text = lean::plain_str(ts)?;
    let (ns, ts_text) = match lean::kubelet_time(ts_text, &mut r.minute) {
        Some(ns) => (ns, std::borrow::Cow::Borrowed(ts_text)),
        None => {
            let ns = parse_rfc3339_ns(ts_text)?;
            (ns, std::borrow::Cow::Owned(super::format_ns(ns)))
        }
    };
    // As the full parse would, refuse text that is not UTF-8 (what the structure scan saw to
    // be ASCII is).
    let line = if memchr::memchr2(b'\n', b'\r', payload).is_some() {
        std::borrow::Cow::Owned(minify(std::str::from_utf8(payload).ok()?).into_bytes())
    } else {
        if !el.ascii {
            std::str::from_utf8(payload).ok()?;
        }
        std::borrow::Cow::Borrowed(payload)
    };
    let stub = lean::stub(&line, wanted)?;
    // A line the scanner would cut as overlong stays whole, to be cut the same way.
    // At most the prefix kubectl would write (the pod's name twice when no container).
    let (p, c) = match same_origin {
        true => r.origin_lens(),
        false => (pod.map_or(0, str::len), container.map_or(0, str::len)),
    };
    let prefix = p + c.max(p) + 8;
    if prefix + ts_text.len() + 1 + line.len() >= max_line {
        return None;
    }
    if same_origin {
        r.add_same_origin((ns, &ts_text), stub);
    } else {
        r.add_parts((namespace, pod, container), (ns, &ts_text), stub);
        r.remember_resource(resource.map_or(&[][..], at));
    }
    Some(())
}

/// The document's entries, parsed a block at a time on all cores; with `ctx.wanted`, entries
/// the run only counts are rendered as stubs.
pub fn document(
    src: impl BufRead,
    ctx: &LineCtx,
    sink: &mut RenderedSink<'_>,
) -> Result<(), String> {
    let mut bad = 0u64;
    let mut first_bad = None;
    let (wanted, max_line) = (ctx.wanted, ctx.max_line);
    let render = |el: &super::Element<'_>, r: &mut Rendered| {
        if let Some(wanted) = wanted {
            if lean_entry(el, wanted, max_line, r).is_some() {
                return Ok(());
            }
        }
        entry(el.bytes).map(|e| r.add(&e))
    };
    let mut pool = Vec::new();
    super::array_elements(src, &mut |block| {
        let (n, why) = render_block(block, &render, &mut pool, sink);
        bad += n;
        if first_bad.is_none() {
            first_bad = why;
        }
    })?;
    match first_bad {
        Some(why) => Err(format!(
            "{bad} entries could not be read (the first: {why})"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Level, Levels};

    fn ctx(wanted: Option<Levels>) -> super::LineCtx {
        super::LineCtx {
            zone: crate::model::time::Zone::Utc,
            year: 2026,
            wanted,
            max_line: 1 << 20,
        }
    }

    #[test]
    fn gcloud_entries() {
        let doc = br#"[
  {
    "insertId": "abc",
    "jsonPayload": {
      "timestamp": "2026-11-20T09:40:06.001Z",
      "level": "error",
      "message": "Graph execution failed: 529"
    },
    "logName": "projects/p/logs/stdout",
    "resource": {"labels": {"container_name": "backend", "namespace_name": "mcp-everything", "pod_name": "mcp-backend-7c9d5b8f6d-x2kqp"}, "type": "k8s_container"},
    "severity": "ERROR",
    "timestamp": "2026-11-20T09:40:06.001234567Z"
  },
  {"insertId": "abd", "textPayload": "[Nest] 1  - 11/20/2026, 9:40:05 AM   ERROR boom\n", "resource": {"labels": {"pod_name": "mcp-backend-7c9d5b8f6d-x2kqp", "container_name": "backend"}}, "timestamp": "2026-11-20T09:40:05Z"}
]"#;
        let mut got = Vec::new();
        super::document(&doc[..], &ctx(None), &mut |r| {
            got.push((
                String::from_utf8_lossy(&r.bytes).into_owned(),
                r.entries.len(),
                r.namespace.clone(),
            ))
        })
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, 2);
        assert_eq!(got[0].2.as_deref(), Some("mcp-everything"));
        assert_eq!(
            got[0].0,
            "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:06.001234567Z \
             {\"timestamp\":\"2026-11-20T09:40:06.001Z\",\"level\":\"error\",\"message\":\"Graph execution failed: 529\"}\n\
             [pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:05.000000000Z \
             [Nest] 1  - 11/20/2026, 9:40:05 AM   ERROR boom\n"
        );
    }

    #[test]
    fn entries_only_counted_become_stubs() {
        let doc = br#"[
  {"insertId": "1", "jsonPayload": {"timestamp": "2026-11-20T09:40:05.100Z", "level": "info", "message": "Anthropic call completed"}, "resource": {"labels": {"container_name": "backend", "namespace_name": "mcp-everything", "pod_name": "mcp-backend-7c9d5b8f6d-x2kqp"}, "type": "k8s_container"}, "timestamp": "2026-11-20T09:40:05.100000001Z"},
  {"insertId": "2", "jsonPayload": {
      "level": "debug",
      "message": "pretty"
    }, "resource": {"labels": {"pod_name": "mcp-backend-7c9d5b8f6d-x2kqp", "container_name": "backend"}}, "timestamp": "2026-11-20T09:40:05.2Z"},
  {"insertId": "3", "jsonPayload": {"level": "error", "message": "Graph execution failed: 529"}, "resource": {"labels": {"pod_name": "mcp-backend-7c9d5b8f6d-x2kqp", "container_name": "backend"}}, "timestamp": "2026-11-20T09:40:05.300000000Z"},
  {"insertId": "4", "jsonPayload": {"level":"info","message":"Nest application successfully started"}, "resource": {"labels": {"pod_name": "mcp-backend-7c9d5b8f6d-x2kqp", "container_name": "backend"}}, "timestamp": "2026-11-20T09:40:05.400000000Z"},
  {"insertId": "5", "textPayload": "plain info text", "resource": {"labels": {"pod_name": "mcp-backend-7c9d5b8f6d-x2kqp", "container_name": "backend"}}, "timestamp": "2026-11-20T09:40:05.500000000Z"},
  {"insertId": "6", "jsonPayload": {"level": "info"}, "resource": {"labels": {"pod_name": "mcp-backend-7c9d5b8f6d-9wzlm", "container_name": "backend"}}, "timestamp": "2026-11-20T09:40:05.600000000Z"},
  {"insertId": "7", "jsonPayload": {"level": "info"}, "resource": {"labels": {"pod_name": "mcp-backend-7c9d5b8f6d-x2kqp", "container_name": "backend"}}, "timestamp": "2026-11-20T09:40:05.700000000Z"},
  {"insertId": "8", "jsonPayload": {"level": "info"}, "resource": {"labels": {"pod_name": "mcp-backend-7c9d5b8f6d-x2kqp", "container_name": "backend"}}, "timestamp": "2026-11-20T09:40:05.800000000Z"}
]"#;
        let errors = Levels::from_fn(|l| l >= Level::Warn && l != Level::Unknown);
        let render = |wanted| {
            let mut got = Vec::new();
            super::document(&doc[..], &ctx(wanted), &mut |r| {
                got.push(String::from_utf8_lossy(&r.bytes).into_owned())
            })
            .unwrap();
            got.concat()
        };
        let p = "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend]";
        assert_eq!(
            render(Some(errors)),
            format!(
                "{p} 2026-11-20T09:40:05.100000001Z {{\"level\":\"info\"}}\n\
                 {p} 2026-11-20T09:40:05.200000000Z {{\"level\":\"debug\"}}\n\
                 {p} 2026-11-20T09:40:05.300000000Z {{\"level\": \"error\", \"message\": \"Graph execution failed: 529\"}}\n\
                 {p} 2026-11-20T09:40:05.400000000Z {{\"level\":\"info\",\"message\":\"Nest application successfully started\"}}\n\
                 {p} 2026-11-20T09:40:05.500000000Z plain info text\n\
                 [pod/mcp-backend-7c9d5b8f6d-9wzlm/backend] 2026-11-20T09:40:05.600000000Z {{\"level\":\"info\"}}\n\
                 {p} 2026-11-20T09:40:05.700000000Z {{\"level\":\"info\"}}\n\
                 {p} 2026-11-20T09:40:05.800000000Z {{\"level\":\"info\"}}\n"
            )
        );
        // Without levels to skip, every entry whole.
        let whole = render(None);
        assert!(whole.contains("Anthropic call completed"));
        assert!(whole.contains(r#"{"level":"debug","message":"pretty"}"#));
    }
}
