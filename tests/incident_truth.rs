//! The bundled incident against the generator's ground truth (`fixtures/incident-truth.json`):
//! error records and events per cause and pod must match exactly (duplicates from the
//! overlapping export counted once, a failure and its echo one event), and the per-series alert
//! must fire only for the Anthropic burst, on both pods that had it.

mod common;

use serde_json::Value;

#[test]
fn counts_match_the_generators_truth() {
    let out = common::analyze_incident("truth", &["--format", "json"]);
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let truth: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/incident-truth.json"
        ))
        .unwrap(),
    )
    .unwrap();
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
        assert_eq!(by_pod["events"], row["events"], "{cause} events on {pod}");
    }
    let fired: Vec<(String, String)> = report["series"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["fired"] == true)
        .map(|s| {
            (
                s["labels"]["error_type"].as_str().unwrap().to_owned(),
                s["labels"]["pod"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        fired,
        vec![
            (
                "anthropic_api_error".to_owned(),
                "mcp-backend-7c9d5b8f6d-9wzlm".to_owned()
            ),
            (
                "anthropic_api_error".to_owned(),
                "mcp-backend-7c9d5b8f6d-x2kqp".to_owned()
            ),
        ]
    );
    // The overlapping export's error lines were all recognised as duplicates.
    let dup: u64 = report["inputs"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["skipped"]["duplicate"].as_u64())
        .sum();
    assert!(dup > 0, "the overlapping export should yield duplicates");
    let _ = std::fs::remove_dir_all(&out);
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
                "event",
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
            .column("event")
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
