//! Google Cloud Logging, as `gcloud logging read --format=json` prints it: an array of
//! LogEntry objects, newest first; the text in `textPayload` or the structured line in
//! `jsonPayload` (written back as one JSON line, its keys in their order), the container in
//! `resource.labels` (`namespace_name`, `pod_name`, `container_name`).

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{minify, parse_rfc3339_ns, Entry};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEntry {
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    text_payload: Option<String>,
    #[serde(default)]
    json_payload: Option<Box<RawValue>>,
    #[serde(default)]
    resource: Resource,
}

#[derive(Default, Deserialize)]
struct Resource {
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

pub fn document(src: impl BufRead, f: &mut dyn FnMut(Entry)) -> Result<(), String> {
    let mut bad = 0u64;
    let mut first_bad = None;
    super::array_elements(src, &mut |bytes| {
        let e: LogEntry = match serde_json::from_slice(bytes) {
            Ok(e) => e,
            Err(err) => {
                bad += 1;
                first_bad.get_or_insert_with(|| err.to_string());
                return;
            }
        };
        let l = &e.resource.labels;
        let text = match (&e.text_payload, &e.json_payload) {
            (Some(t), _) => t.clone(),
            (None, Some(j)) => minify(j.get()),
            (None, None) => String::new(),
        };
        f(Entry {
            namespace: l.get("namespace_name").cloned(),
            pod: l.get("pod_name").cloned(),
            container: l.get("container_name").cloned(),
            ts: e.timestamp.as_deref().and_then(parse_rfc3339_ns),
            text,
        })
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
        super::document(&doc[..], &mut |e| got.push(e)).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].text,
            r#"{"timestamp":"2026-11-20T09:40:06.001Z","level":"error","message":"Graph execution failed: 529"}"#
        );
        assert_eq!(got[0].ts, Some(1_795_167_606_001_234_567));
        assert_eq!(got[1].namespace, None);
        assert!(got[1].text.starts_with("[Nest]"));
    }
}
