//! Google Cloud Logging, as `gcloud logging read --format=json` prints it: an array of
//! LogEntry objects, newest first; the text in `textPayload` or the structured line in
//! `jsonPayload` (written back as one JSON line, its keys in their order), the container in
//! `resource.labels` (`namespace_name`, `pod_name`, `container_name`).

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{minify, parse_rfc3339_ns, render_par, Entry, Rendered};

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

/// The document's entries, parsed a block at a time on all cores.
pub fn document(src: impl BufRead, sink: &mut (dyn FnMut(Rendered) + Send)) -> Result<(), String> {
    let mut bad = 0u64;
    let mut first_bad = None;
    super::array_elements(src, &mut |buf, ranges| {
        let mut r = render_par(buf, ranges, &entry);
        bad += r.bad;
        if first_bad.is_none() {
            first_bad = r.first_bad.take();
        }
        sink(r);
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
        super::document(&doc[..], &mut |r| got.push(r)).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].entries.len(), 2);
        assert_eq!(got[0].namespace.as_deref(), Some("mcp-everything"));
        assert_eq!(
            String::from_utf8_lossy(&got[0].bytes),
            "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:06.001234567Z \
             {\"timestamp\":\"2026-11-20T09:40:06.001Z\",\"level\":\"error\",\"message\":\"Graph execution failed: 529\"}\n\
             [pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:05.000000000Z \
             [Nest] 1  - 11/20/2026, 9:40:05 AM   ERROR boom\n"
        );
    }
}
