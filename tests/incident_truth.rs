//! The bundled incident against the generator's ground truth (`fixtures/incident-truth.json`):
//! error records and counted failures per cause and pod must match exactly (the lines the
//! overlapping exports repeat counted once, a cascade's records one failure, only the outcome
//! records counted), every repeated line found where it is, every container start placed, and
//! the log-derived alert must fire only for the Anthropic burst, on both pods that had it,
//! within one evaluation step of what Prometheus computed from the real counter.

mod common;

use std::collections::BTreeMap;

use serde_json::Value;

fn truth() -> Value {
    serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/incident-truth.json"
        ))
        .unwrap(),
    )
    .unwrap()
}

fn analyzed(tag: &str) -> Value {
    let out = common::analyze_incident(tag, &["--format", "json"]);
    let report = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&out);
    report
}

fn ms(rfc3339: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

#[test]
fn counts_match_the_generators_truth() {
    let report = analyzed("truth");
    let truth = truth();
    for row in truth["errors"].as_array().unwrap() {
        let cause = row["cause"].as_str().unwrap();
        let pod = row["pod"].as_str().unwrap();
        let got = report["causes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == cause)
            .unwrap_or_else(|| panic!("cause {cause} missing"));
        let by_pod = &got["by_pod"][pod];
        assert_eq!(
            by_pod["records"], row["records"],
            "{cause} records on {pod}"
        );
        assert_eq!(by_pod["events"], row["counted"], "{cause} counted on {pod}");
    }
    assert_eq!(report["verdict"]["error_records"], truth["records"]);
    assert_eq!(report["verdict"]["error_events"], truth["counted"]);
    // Only the outcome records are counted, each by the rule the generator wrote it for.
    let counting = &report["counting"];
    assert_eq!(counting["basis"], "outcomes");
    for rule in counting["rules"].as_array().unwrap() {
        let name = rule["name"].as_str().unwrap();
        assert_eq!(rule["counted"], truth["counted_by_rule"][name], "{name}");
    }
}

#[test]
fn every_repeated_line_is_counted_once_and_named() {
    let report = analyzed("repeats");
    let truth = truth();
    let dir = "fixtures/incident/";
    let mut found: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut skipped = 0;
    for f in report["inputs"]["files"].as_array().unwrap() {
        let name = f["name"]
            .as_str()
            .unwrap()
            .trim_start_matches(dir)
            .to_owned();
        skipped += f["skipped"]["duplicate"].as_u64().unwrap_or(0);
        if let Some(of) = f["repeats"].as_object() {
            for (other, n) in of {
                found.entry(name.clone()).or_default().insert(
                    other.trim_start_matches(dir).to_owned(),
                    n.as_u64().unwrap(),
                );
            }
        }
    }
    let want: BTreeMap<String, BTreeMap<String, u64>> =
        serde_json::from_value(truth["repeats"].clone()).unwrap();
    assert_eq!(found, want);
    // Every line of both overlapping exports repeats a per-pod file, including the pool's
    // identical lines written in one chunk, which each per-pod file keeps all of.
    let lines = |f: &str| truth["files"][f].as_u64().unwrap();
    assert_eq!(
        skipped,
        lines("first-look-app-mcp-backend.log") + lines("deployment-mcp-backend-prefix.log")
    );
}

#[test]
fn every_container_start_is_on_the_timeline() {
    let report = analyzed("starts");
    let truth = truth();
    let mut starts: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for s in report["infrastructure"]["seen_in_logs"].as_array().unwrap() {
        if s["kind"] == "process_started" {
            starts
                .entry(s["pod"].as_str().unwrap().to_owned())
                .or_default()
                .push(ms(&s["time"]));
        }
    }
    let want: BTreeMap<String, Vec<i64>> = truth["starts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(pod, times)| {
            (
                pod.clone(),
                times.as_array().unwrap().iter().map(ms).collect(),
            )
        })
        .collect();
    assert_eq!(starts, want, "one start per boot, the JSON one included");
}

#[test]
fn the_log_derived_alert_matches_prometheus_within_one_step() {
    let report = analyzed("episodes");
    let step = 15_000;
    // (error_type, pod) -> [(pending, firing, resolved)] per source.
    type Episodes = BTreeMap<(String, String), Vec<[Option<i64>; 3]>>;
    let mut by_source: BTreeMap<String, Episodes> = BTreeMap::new();
    for a in report["alerts"].as_array().unwrap() {
        if a["alertname"] != "HighGenerationErrorRate" || a["scope"] != "series" {
            continue;
        }
        let key = (
            a["labels"]["error_type"].as_str().unwrap().to_owned(),
            a["labels"]["pod"].as_str().unwrap().to_owned(),
        );
        let at = |k: &str| (!a[k].is_null()).then(|| ms(&a[k]));
        by_source
            .entry(a["source"].as_str().unwrap().to_owned())
            .or_default()
            .entry(key)
            .or_default()
            .push([at("pending_at"), at("firing_at"), at("resolved_at")]);
    }
    let (logs, metrics) = (&by_source["logs"], &by_source["metrics"]);
    assert_eq!(
        logs.keys().collect::<Vec<_>>(),
        metrics.keys().collect::<Vec<_>>(),
        "the same series went pending"
    );
    for (key, l) in logs {
        let m = &metrics[key];
        assert_eq!(l.len(), m.len(), "{key:?}: episodes");
        for (le, me) in l.iter().zip(m) {
            for (a, b) in le.iter().zip(me) {
                match (a, b) {
                    (Some(a), Some(b)) => {
                        assert!((a - b).abs() <= step, "{key:?}: {le:?} vs {me:?}")
                    }
                    (a, b) => assert_eq!(a.is_some(), b.is_some(), "{key:?}: {le:?} vs {me:?}"),
                }
            }
        }
    }
    let fired: Vec<&(String, String)> = logs.keys().collect();
    let pods = [
        "mcp-backend-7c9d5b8f6d-9wzlm",
        "mcp-backend-7c9d5b8f6d-x2kqp",
    ];
    assert_eq!(
        fired,
        pods.iter()
            .map(|p| ("anthropic_api_error".to_owned(), p.to_string()))
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>()
    );
    // The headline is Prometheus' own answer; the logs explain it.
    assert_eq!(report["verdict"]["basis"], "metrics");
    assert_eq!(
        report["verdict"]["breached_by"],
        serde_json::json!(["logs", "metrics"])
    );
}

#[test]
fn same_input_same_bytes_whatever_the_thread_count() {
    let run = |threads: &str| {
        let out = common::analyze_incident(
            &format!("threads-{threads}"),
            &["--format", "md,json", "--threads", threads],
        );
        let bytes = (
            std::fs::read(out.join("report.json")).unwrap(),
            std::fs::read(out.join("report.md")).unwrap(),
        );
        let _ = std::fs::remove_dir_all(&out);
        bytes
    };
    assert_eq!(run("1"), run("4"));
}

#[test]
fn spilling_records_to_disk_changes_nothing() {
    // A budget of 7 records in memory forces ~100 sorted runs through the temporary file.
    let run = |tag: &str, extra: &[&str]| {
        let mut args = vec!["--format", "md,json"];
        args.extend_from_slice(extra);
        let out = common::analyze_incident(tag, &args);
        let bytes = (
            std::fs::read(out.join("report.json")).unwrap(),
            std::fs::read(out.join("report.md")).unwrap(),
        );
        let _ = std::fs::remove_dir_all(&out);
        bytes
    };
    let spilled = run("spill", &["--spill-after", "7"]);
    let in_memory = run("in-memory", &[]);
    assert!(spilled == in_memory, "spilling changed the report");
}

#[test]
fn export_lists_every_error_record_in_time_order() {
    use polars::prelude::{CsvReadOptions, ParquetReader, SerReader};
    let dir = std::env::temp_dir().join(format!("postmortem-export-{}", std::process::id()));
    let csv = dir.join("events.csv");
    let parquet = dir.join("nested/events.parquet");
    let out = common::analyze_incident(
        "export-csv",
        &["--format", "json", "--export", csv.to_str().unwrap()],
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&out);
    let out = common::analyze_incident(
        "export-parquet",
        &[
            "--format",
            "json",
            "--spill-after",
            "50",
            "--export",
            parquet.to_str().unwrap(),
        ],
    );
    let _ = std::fs::remove_dir_all(&out);

    let from_csv = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(csv.clone()))
        .unwrap()
        .finish()
        .unwrap();
    let from_parquet = ParquetReader::new(std::fs::File::open(&parquet).unwrap())
        .finish()
        .unwrap();
    let records = report["verdict"]["error_records"].as_u64().unwrap() as usize;
    let events = report["verdict"]["error_events"].as_u64().unwrap() as usize;
    for df in [&from_csv, &from_parquet] {
        assert_eq!(df.height(), records);
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "time",
                "ts_ms",
                "cause",
                "level",
                "pod",
                "container",
                "namespace",
                "counted",
                "outcome",
                "signature",
                "input",
                "line"
            ]
        );
        let ts: Vec<i64> = df
            .column("ts_ms")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "rows in time order");
        let event_rows = df
            .column("counted")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .filter(|e| *e == Some(true))
            .count();
        assert_eq!(event_rows, events);
        // Per cause, the same counts as the report.
        for cause in report["causes"].as_array().unwrap() {
            let id = cause["id"].as_str().unwrap();
            let n = df
                .column("cause")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .filter(|c| *c == Some(id))
                .count();
            assert_eq!(n as u64, cause["count"].as_u64().unwrap(), "{id}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_temporary_directory_that_cannot_be_written_keeps_records_in_memory() {
    let (out, run) = common::run_on_incident(
        "no-tmp",
        &["--spill-after", "7"],
        &[("TMPDIR", "/nonexistent/postmortem-tmp")],
    );
    assert!(run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("could not write to the temporary directory")
            && stderr.contains("set TMPDIR"),
        "{stderr}"
    );
    let fresh = std::fs::read_to_string(out.join("report.json")).unwrap();
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/reports/example/report.json"
    ))
    .unwrap();
    assert!(fresh == committed, "the report must not change");
    let _ = std::fs::remove_dir_all(&out);
}
