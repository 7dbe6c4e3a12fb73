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
