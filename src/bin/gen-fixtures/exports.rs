//! The same container's output (x2kqp's second container in the example incident) as each
//! log exporter other than kubectl writes it, for the format tests: every export must give
//! the records, error records and causes of `incident/mcp-backend-7c9d5b8f6d-x2kqp.log`.
//! Written to `fixtures/exports/` (README.md there lists the commands).

use std::path::Path;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{json, value::RawValue};

use crate::formats::{gzip, tar_gz};
use crate::incident::{A, NS};
use crate::services::{kubelet, Out};

const CONTAINER: &str = "backend";
const NODE: &str = "gke-prod-pool-1-a8c2";
const UID: &str = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";

fn nanos(l: &Out) -> i64 {
    l.ms * 1_000_000 + i64::from(l.ns % 1_000_000)
}

fn ns_string(l: &Out) -> String {
    nanos(l).to_string()
}

fn is_json(text: &str) -> bool {
    text.starts_with('{') && serde_json::from_str::<serde_json::Value>(text).is_ok()
}

fn lines(v: Vec<String>) -> Vec<u8> {
    let mut s = v.join("\n");
    s.push('\n');
    s.into_bytes()
}

/// logcli's default zone is the machine's: an on-call engineer in Berlin.
fn berlin(l: &Out) -> String {
    let t = DateTime::<Utc>::from_timestamp_nanos(nanos(l));
    let cet = FixedOffset::east_opt(3600).expect("offset");
    t.with_timezone(&cet)
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, false)
}

pub fn generate(dir: &Path, a2: &[Out]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let put = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes);

    // stern --timestamps (colours on), and stern -A --timestamps=short (zone UTC).
    put(
        "stern.log.gz",
        gzip(&lines(
            a2.iter()
                .map(|l| {
                    format!(
                        "\x1b[36m{A}\x1b[0m \x1b[32m{CONTAINER}\x1b[0m {} {}",
                        kubelet(l.ms, l.ns),
                        l.text
                    )
                })
                .collect(),
        ))?,
    )?;
    put(
        "stern-all-namespaces-short.log.gz",
        gzip(&lines(
            a2.iter()
                .map(|l| {
                    let t = DateTime::<Utc>::from_timestamp_millis(l.ms).expect("time");
                    format!(
                        "{NS} {A} {CONTAINER} {} {}",
                        t.format("%m-%d %H:%M:%S"),
                        l.text
                    )
                })
                .collect(),
        ))?,
    )?;
    // stern -o json --timestamps (versions before 1.21 put the time in message).
    put(
        "stern.json.gz",
        gzip(&lines(
            a2.iter()
                .map(|l| {
                    json!({"message": format!("{} {}", kubelet(l.ms, l.ns), l.text), "nodeName": NODE,
                        "namespace": NS, "podName": A, "containerName": CONTAINER,
                        "labels": {"app": "mcp-backend", "pod-template-hash": "7c9d5b8f6d"}})
                    .to_string()
                })
                .collect(),
        ))?,
    )?;
    // logcli query --limit 100000 (newest first, local time), and --output jsonl.
    let labels = format!(
        "{{app=\"mcp-backend\", container=\"{CONTAINER}\", namespace=\"{NS}\", pod=\"{A}\"}}"
    );
    put(
        "logcli.log.gz",
        gzip(&lines(
            a2.iter()
                .rev()
                .map(|l| format!("{} {labels} {}", berlin(l), l.text))
                .collect(),
        ))?,
    )?;
    put(
        "logcli.jsonl.gz",
        gzip(&lines(
            a2.iter()
                .rev()
                .map(|l| {
                    json!({"labels": {"k8s_namespace_name": NS, "k8s_pod_name": A, "k8s_container_name": CONTAINER, "service_name": "mcp-backend"},
                        "line": l.text, "timestamp": kubelet(l.ms, l.ns)})
                    .to_string()
                })
                .collect(),
        ))?,
    )?;
    // GET /loki/api/v1/query_range (direction=backward: newest first).
    // Keys in the order Loki writes them (resultType before result).
    let values: Vec<String> = a2
        .iter()
        .rev()
        .map(|l| json!([ns_string(l), l.text]).to_string())
        .collect();
    let doc = format!(
        "{{\"status\":\"success\",\"data\":{{\"resultType\":\"streams\",\"result\":[{{\"stream\":{},\"values\":[{}]}}],\"stats\":{{\"summary\":{{\"totalEntriesReturned\":{}}}}}}}}}\n",
        json!({"app": "mcp-backend", "container": CONTAINER, "namespace": NS, "pod": A, "stream": "stdout"}),
        values.join(","),
        a2.len()
    );
    put("loki-query-range.json.gz", gzip(doc.as_bytes())?)?;
    // gcloud logging read --format=json (newest first; JSON lines become jsonPayload, a
    // structure whose keys gcloud prints sorted).
    let entries: Vec<serde_json::Value> = a2
        .iter()
        .rev()
        .enumerate()
        .map(|(i, l)| {
            let mut e = json!({
                "insertId": format!("{:016x}", i * 7919 + 17),
                "logName": "projects/mcp-everything-prod/logs/stdout",
                "receiveTimestamp": kubelet(l.ms + 1200, l.ns),
                "resource": {"labels": {"cluster_name": "prod", "container_name": CONTAINER, "location": "europe-west1",
                    "namespace_name": NS, "pod_name": A, "project_id": "mcp-everything-prod"}, "type": "k8s_container"},
                "severity": "INFO",
                "timestamp": kubelet(l.ms, l.ns),
            });
            if is_json(&l.text) {
                let raw = RawValue::from_string(l.text.clone()).expect("json");
                e["jsonPayload"] = serde_json::to_value(raw).expect("raw");
            } else {
                e["textPayload"] = json!(l.text);
            }
            e
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&entries)?;
    text.push('\n');
    put("gcloud-logging.json.gz", gzip(text.as_bytes())?)?;
    // aws logs get-query-results for the Container Insights default query (newest first;
    // @message is the record Fluent Bit sent: the runtime's time, the line, kubernetes.*).
    put(
        "cloudwatch-insights.json.gz",
        gzip(insights(&a2.iter().rev().collect::<Vec<_>>(), a2.len()).as_bytes())?,
    )?;
    // Elasticsearch _search (fluent-bit's kubernetes filter; sorted by @timestamp ascending).
    let hits: Vec<serde_json::Value> = a2
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let ms = DateTime::<Utc>::from_timestamp_millis(l.ms).expect("time");
            json!({"_index": "logstash-2026.11.20", "_id": format!("{:020}", i), "_score": null,
                "_source": {"@timestamp": ms.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "time": kubelet(l.ms, l.ns), "stream": "stdout", "log": format!("{}\n", l.text),
                    "kubernetes": {"pod_name": A, "namespace_name": NS, "container_name": CONTAINER, "host": NODE,
                        "labels": {"app": "mcp-backend"}}},
                "sort": [l.ms]})
        })
        .collect();
    let doc = json!({"took": 41, "timed_out": false, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": a2.len(), "relation": "eq"}, "max_score": null, "hits": hits}});
    put(
        "elasticsearch-search.json.gz",
        gzip(doc.to_string().as_bytes())?,
    )?;
    // The node's CRI file (lines over 2 KiB cut into partial pieces, as the runtime does
    // past its buffer; here smaller, to have some).
    let mut cri = Vec::new();
    for l in a2 {
        let ts = kubelet(l.ms, l.ns);
        let bytes = l.text.as_bytes();
        let mut chunks: Vec<&[u8]> = bytes.chunks(512).collect();
        if chunks.is_empty() {
            chunks.push(b"");
        }
        for (i, c) in chunks.iter().enumerate() {
            let tag = if i + 1 == chunks.len() { "F" } else { "P" };
            cri.push(format!("{ts} stdout {tag} {}", String::from_utf8_lossy(c)));
        }
    }
    let cri_dir = dir.join(format!("var/log/pods/{NS}_{A}_{UID}/{CONTAINER}"));
    std::fs::create_dir_all(&cri_dir)?;
    std::fs::write(cri_dir.join("1.log"), lines(cri))?;
    // A troubleshoot support bundle (logs without timestamps, as its default collector).
    let events = std::fs::read(dir.join("../incident/cluster/events.json"))?;
    let pods = std::fs::read(dir.join("../incident/cluster/pods.json"))?;
    let log = lines(a2.iter().map(|l| l.text.clone()).collect());
    let root = "support-bundle-2026-11-20T10_30_00";
    let p_log = format!("{root}/cluster-resources/pods/logs/{NS}/{A}/{CONTAINER}.log");
    let p_events = format!("{root}/cluster-resources/events/{NS}.json");
    let p_pods = format!("{root}/cluster-resources/pods/{NS}.json");
    let p_version = format!("{root}/version.yaml");
    put(
        "support-bundle.tar.gz",
        tar_gz(&[
            (p_version.as_str(), b"apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\nspec:\n  versionNumber: v0.107.0\n".as_slice()),
            (p_events.as_str(), &events),
            (p_pods.as_str(), &pods),
            (p_log.as_str(), &log),
        ])?,
    )?;
    // docker compose logs --timestamps.
    put(
        "compose.log.gz",
        gzip(&lines(
            a2.iter()
                .map(|l| {
                    format!(
                        "\x1b[2K\x1b[36mbackend-1  |\x1b[0m {} {}",
                        kubelet(l.ms, l.ns),
                        l.text
                    )
                })
                .collect(),
        ))?,
    )?;
    std::fs::write(dir.join("README.md"), README)?;
    caps(&dir.join("../formats/caps"), a2)
}

/// `aws logs get-query-results` of `fields @timestamp, @message, @logStream | sort @timestamp
/// desc | limit N` over Container Insights' application log group.
fn insights(rows: &[&Out], matched: usize) -> String {
    let stream = format!("{NODE}-application.var.log.containers.{A}_{NS}_{CONTAINER}-4f1c2a9e8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3.log");
    let results: Vec<serde_json::Value> = rows
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let ms = DateTime::<Utc>::from_timestamp_millis(l.ms).expect("time");
            let record = json!({"time": kubelet(l.ms, l.ns), "stream": "stdout", "_p": "F", "log": l.text,
                "kubernetes": {"pod_name": A, "namespace_name": NS, "container_name": CONTAINER, "host": NODE}});
            json!([
                {"field": "@timestamp", "value": ms.format("%Y-%m-%d %H:%M:%S%.3f").to_string()},
                {"field": "@message", "value": record.to_string()},
                {"field": "@logStream", "value": stream},
                {"field": "@ptr", "value": format!("CmAKJwojMTIzNDU2Nzg5MDEyOi9hd3MvY29udGFpbmVyaW5zaWdodHMSBRIB{i:08}")},
            ])
        })
        .collect();
    let doc = json!({"results": results, "statistics": {"recordsMatched": matched as f64,
        "recordsScanned": (matched * 4) as f64, "bytesScanned": (matched * 1900) as f64}, "status": "Complete"});
    let mut text = serde_json::to_string_pretty(&doc).expect("json");
    text.push('\n');
    text
}

/// Exports that hold exactly what an exporter's default cap lets through, and a folder as
/// people have it (exports beside a licence, notes and a picture).
fn caps(dir: &Path, a2: &[Out]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // kubectl logs -l app=mcp-backend --prefix --timestamps (no --tail): 10 lines each.
    let last = |n: usize| &a2[a2.len() - n..];
    let mut l = Vec::new();
    for pod in [A, "mcp-backend-7c9d5b8f6d-9wzlm"] {
        l.extend(
            last(10)
                .iter()
                .map(|x| format!("[pod/{pod}/{CONTAINER}] {} {}", kubelet(x.ms, x.ns), x.text)),
        );
    }
    std::fs::write(dir.join("kubectl-l-default-tail.log"), lines(l))?;
    // logcli query '{app="mcp-backend"}' (the default --limit 30).
    let labels = format!("{{container=\"{CONTAINER}\", namespace=\"{NS}\", pod=\"{A}\"}}");
    std::fs::write(
        dir.join("logcli-default-limit.log"),
        lines(
            last(30)
                .iter()
                .rev()
                .map(|x| format!("{} {labels} {}", berlin(x), x.text))
                .collect(),
        ),
    )?;
    // An Elasticsearch answer of the default size 10 out of many hits.
    let hits: Vec<serde_json::Value> = last(10)
        .iter()
        .map(|x| json!({"_index": "logstash-2026.11.20", "_source": {"time": kubelet(x.ms, x.ns), "log": x.text,
            "kubernetes": {"pod_name": A, "namespace_name": NS, "container_name": CONTAINER}}}))
        .collect();
    let doc = format!(
        "{{\"took\":5,\"timed_out\":false,\"hits\":{{\"total\":{{\"value\":{},\"relation\":\"eq\"}},\"hits\":{}}}}}\n",
        a2.len(),
        serde_json::to_string(&hits)?
    );
    std::fs::write(dir.join("elasticsearch-first-page.json"), doc)?;
    // CloudWatch Logs Insights with `| limit 20`: 20 rows of the records it matched.
    std::fs::write(
        dir.join("cloudwatch-insights-limit.json"),
        insights(&last(20).iter().rev().collect::<Vec<_>>(), a2.len()),
    )?;
    let folder = dir.join("../folder-as-people-have-it");
    std::fs::create_dir_all(&folder)?;
    std::fs::copy(
        dir.join("../../incident/cluster/events.json"),
        folder.join("events.json"),
    )?;
    std::fs::copy(
        dir.join("../../incident/cluster/pods.json"),
        folder.join("pods.json"),
    )?;
    std::fs::write(folder.join("LICENSE"), "MIT License\n\nCopyright (c) 2026 MCP Everything\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software and associated documentation files (the \"Software\"), to deal\nin the Software without restriction.\n")?;
    std::fs::write(folder.join("NOTES.md"), "# Incident 2026-11-20\n\n- paged at 09:48\n- Anthropic status page: elevated errors\n- restarted postgres at 09:50 (why?)\n")?;
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
        .iter()
        .copied()
        .chain((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8))
        .collect();
    std::fs::write(folder.join("dashboard.png"), png)?;
    std::fs::write(
        folder.join(format!("{A}.log")),
        lines(
            last(40)
                .iter()
                .map(|x| format!("{} {}", kubelet(x.ms, x.ns), x.text))
                .collect(),
        ),
    )
}

const README: &str = "# One container, every exporter

Generated by `cargo run --release --bin gen-fixtures -- incident` (do not edit by hand): the
lines of x2kqp's second container in the example incident (`../incident/mcp-backend-7c9d5b8f6d-x2kqp.log`,
`kubectl logs --timestamps`) as other tools export them. `tests/exports.rs` checks that each
gives the same records, error records and causes as the kubectl export.

| File | Export |
|---|---|
| `stern.log.gz` | `stern mcp-backend --timestamps` (colours on) |
| `stern-all-namespaces-short.log.gz` | `stern -A mcp-backend --timestamps=short` (times to the second, no year) |
| `stern.json.gz` | `stern -o json --timestamps` (stern before 1.21: the time inside `message`) |
| `logcli.log.gz` | `logcli query --limit 100000 '{app=\"mcp-backend\"}'` (newest first, times in the machine's zone, +01:00) |
| `logcli.jsonl.gz` | `logcli query --output jsonl ...` (OpenTelemetry labels `k8s_pod_name`, newest first) |
| `loki-query-range.json.gz` | `GET /loki/api/v1/query_range` (direction backward: newest first; nanosecond string times) |
| `gcloud-logging.json.gz` | `gcloud logging read 'resource.type=\"k8s_container\"' --format=json` (newest first; JSON lines as `jsonPayload`) |
| `cloudwatch-insights.json.gz` | `aws logs get-query-results` for `fields @timestamp, @message, @logStream \\| sort @timestamp desc` over Container Insights' application log group (`@message` is Fluent Bit's record) |
| `elasticsearch-search.json.gz` | a `_search` answer over fluent-bit's `logstash-*` index (`log`, `kubernetes.*`, `@timestamp` to the millisecond, `time` to the nanosecond) |
| `var/log/pods/.../backend/1.log` | the node's CRI file (`TIME stdout P|F TEXT`; lines over 512 bytes cut into partial pieces) |
| `support-bundle.tar.gz` | a troubleshoot support bundle (`cluster-resources/pods/logs/NS/POD/CONTAINER.log`, events, pods) |
| `compose.log.gz` | `docker compose logs --timestamps` (the same lines as a compose service `backend-1`) |
";
