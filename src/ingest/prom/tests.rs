//! Tests of the metric-dump readers: realistic exports of the MCP Everything service's
//! metrics in every format, the real-world files under `shared/real-world/`, bad input, and
//! merging.

use super::*;
use crate::model::labels::Labels;
use crate::model::metrics::Resolution;

const POD: &str = "mcp-backend-7c9d5b8f6d-x2kqp";
const POD2: &str = "mcp-backend-7c9d5b8f6d-9wz4r";
/// 2026-11-20T09:40:00Z.
const T0: i64 = 1_795_167_600;

use crate::model::labels::from_pairs as labels;

fn err_labels(error_type: &str, pod: &str) -> Labels {
    labels(&[
        ("__name__", "mcp_generation_errors_total"),
        ("error_type", error_type),
        ("source_type", "github"),
        ("namespace", "mcp-everything"),
        ("pod", pod),
    ])
}

fn check_accounting(d: &Dump) {
    assert_eq!(
        d.lines_read,
        d.lines_used + d.skipped_total(),
        "read = used + skipped: {d:#?}"
    );
    for s in &d.series {
        assert!(
            s.samples.windows(2).all(|w| w[0].t_ms < w[1].t_ms),
            "sorted, one per time"
        );
    }
}

fn skipped(d: &Dump, why: SkipWhy) -> u64 {
    d.skipped
        .iter()
        .find(|(w, _)| *w == why)
        .map_or(0, |(_, n)| *n)
}

fn parse_sniffed(text: &str, want: DumpFormat) -> Dump {
    assert_eq!(sniff(text), Some(want), "sniff");
    let d = parse(text, want, None).expect("parses");
    check_accounting(&d);
    d
}

/// A pretty-printed query_range response (as `curl | jq .` writes it).
fn query_range_json(step: i64, n: usize, with_envelope: bool) -> String {
    let mut result = Vec::new();
    for (k, et) in [
        "anthropic_api_error",
        "database_error",
        "github_api_error",
        "validation_error",
    ]
    .iter()
    .enumerate()
    {
        let values: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let v = if *et == "database_error" && i == 3 {
                    "NaN".to_owned()
                } else {
                    format!("{}", (k + 1) * i * 5)
                };
                serde_json::json!([T0 + (i as i64) * step, v])
            })
            .collect();
        result.push(serde_json::json!({
            "metric": {"__name__": "mcp_generation_errors_total", "error_type": et,
                       "source_type": "github", "namespace": "mcp-everything", "pod": POD},
            "values": values
        }));
    }
    let data = serde_json::json!({"resultType": "matrix", "result": result});
    let v = if with_envelope {
        serde_json::json!({"status": "success", "random_key": "aB3x",
            "tool_name": "execute_prometheus_range_query",
            "query": "mcp_generation_errors_total", "start": "2026-11-20T09:40:00Z",
            "end": "2026-11-20T10:40:00Z", "step": step, "data": data})
    } else {
        serde_json::json!({"status": "success", "data": data,
            "warnings": ["PromQL warning: encountered a mix of histograms and floats"]})
    };
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn query_range_matrix_is_resampled() {
    let d = parse_sniffed(&query_range_json(15, 20, false), DumpFormat::ApiJson);
    assert_eq!(d.kind, DumpKind::QueryRange { step_ms: 15_000 });
    assert_eq!(d.series.len(), 4);
    assert_eq!(d.sample_count(), 80);
    assert!(d
        .series
        .iter()
        .all(|s| s.resolution == Resolution::Resampled { step_ms: 15_000 }));
    assert_eq!(d.warnings.len(), 1);
    assert!(d.notes.iter().any(|n| n.contains("grid every 15s")));
    // The NaN stays, and is pointed out.
    let db = d
        .series
        .iter()
        .find(|s| s.labels["error_type"] == "database_error")
        .unwrap();
    assert!(db.samples[3].v.is_nan());
    assert!(d
        .problems
        .iter()
        .any(|(l, m)| l.is_some() && m.contains("NaN") && m.contains("counter")));
    assert_eq!(d.lines_used, d.lines_read);
    assert!(d.kind.accuracy_note().contains("every 15s"));
    assert!(!d.kind.is_raw());
}

#[test]
fn envelope_step_query_and_values() {
    let d = parse_sniffed(&query_range_json(60, 5, true), DumpFormat::ApiJson);
    assert_eq!(d.kind, DumpKind::QueryRange { step_ms: 60_000 });
    assert_eq!(d.query.as_deref(), Some("mcp_generation_errors_total"));
    let s = &d.series[0];
    assert_eq!(s.labels, err_labels("anthropic_api_error", POD));
    assert_eq!(s.samples[0].t_ms, T0 * 1000);
    assert_eq!(s.samples[4].v, 20.0);
}

/// `mcp_generation_errors_total[3h]` answered by `/api/v1/query`: scrape times, jittered.
fn range_selector_json(with_query: bool) -> String {
    let jitter = [0, 3, 1, 998, 2, 4, 0, 7];
    let values: Vec<String> = (0..8)
        .map(|i| {
            let t = (T0 * 1000 + 123 + i * 15_000 + jitter[i as usize]) as f64 / 1000.0;
            let v = match i {
                5 => "+Inf".to_owned(),
                6 => "-Inf".to_owned(),
                _ => (i * 3).to_string(),
            };
            format!("[{t:.3},\"{v}\"]")
        })
        .collect();
    let q = if with_query {
        r#""query":"mcp_generation_errors_total{pod=\"mcp-backend-7c9d5b8f6d-x2kqp\"}[3h]","#
    } else {
        ""
    };
    format!(
        "{{{q}\"status\":\"success\",\"data\":{{\"resultType\":\"matrix\",\"result\":[{{\"metric\":{{\"__name__\":\"mcp_generation_errors_total\",\"error_type\":\"anthropic_api_error\",\"source_type\":\"github\",\"namespace\":\"mcp-everything\",\"pod\":\"{POD}\"}},\"values\":[{}]}}]}}}}",
        values.join(",")
    )
}

#[test]
fn range_selector_is_raw_by_timestamps_alone() {
    let d = parse_sniffed(&range_selector_json(false), DumpFormat::ApiJson);
    assert_eq!(d.kind, DumpKind::RangeSelector);
    assert!(d.kind.is_raw());
    assert_eq!(d.series[0].resolution, Resolution::Raw);
    assert_eq!(d.series[0].samples[0].t_ms, T0 * 1000 + 123);
    assert_eq!(d.series[0].samples[5].v, f64::INFINITY);
    assert_eq!(d.series[0].samples[6].v, f64::NEG_INFINITY);
    assert!(d.notes.iter().any(|n| n.contains("share no grid")));
    assert_eq!((d.lines_read, d.lines_used), (1, 1));
}

#[test]
fn range_selector_is_raw_by_query() {
    let d = parse_sniffed(&range_selector_json(true), DumpFormat::ApiJson);
    assert_eq!(d.kind, DumpKind::RangeSelector);
    assert!(d.notes.iter().any(|n| n.contains("range selector")));
}

#[test]
fn one_series_query_range_vs_jittered_range_selector() {
    // The same counter, once from query_range (grid), once from metric[3h] (scrapes).
    let grid: Vec<String> = (0..10)
        .map(|i| format!("[{},\"{}\"]", T0 + i * 15, i))
        .collect();
    let qr = format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"error_type":"anthropic_api_error"}},"values":[{}]}}]}}}}"#,
        grid.join(",")
    );
    let d = parse_sniffed(&qr, DumpFormat::ApiJson);
    assert_eq!(d.kind, DumpKind::QueryRange { step_ms: 15_000 });
    let d = parse_sniffed(&range_selector_json(false), DumpFormat::ApiJson);
    assert_eq!(d.kind, DumpKind::RangeSelector);
}

#[test]
fn instant_vector_and_scalar() {
    let v = format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"__name__":"mcp_generation_errors_total","error_type":"anthropic_api_error","pod":"{POD}"}},"value":[{T0}.5,"42"]}},{{"metric":{{"__name__":"mcp_generation_errors_total","error_type":"anthropic_api_error","pod":"{POD2}"}},"value":[{T0}.5,"7"]}}]}}}}"#
    );
    let d = parse_sniffed(&v, DumpFormat::ApiJson);
    assert_eq!(d.kind, DumpKind::InstantVector);
    assert_eq!(d.series.len(), 2);
    assert_eq!(d.series[0].samples[0].t_ms, T0 * 1000 + 500);
    assert_eq!(d.series[0].resolution, Resolution::Raw);
    let s = format!(
        r#"{{"status":"success","data":{{"resultType":"scalar","result":[{T0},"0.32"]}}}}"#
    );
    let d = parse_sniffed(&s, DumpFormat::ApiJson);
    assert_eq!(d.kind, DumpKind::Scalar);
    assert_eq!(d.series[0].samples[0].v, 0.32);
    assert!(d.series[0].labels.is_empty());
}

#[test]
fn status_error_is_a_file_error() {
    let t = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:27: parse error: unexpected \"]\""}"#;
    assert_eq!(sniff(t), Some(DumpFormat::ApiJson));
    let e = parse(t, DumpFormat::ApiJson, None).unwrap_err();
    assert!(e.message.contains("bad_data"), "{e}");
    assert!(e.message.contains("parse error"), "{e}");
    assert_eq!(e.line, Some(1));
    // HolmesGPT's envelope says it its own way.
    let t = "{\n  \"status\": \"error\",\n  \"error_message\": \"Query execution failed. HTTP 400\",\n  \"tool_name\": \"execute_prometheus_range_query\"\n}";
    let e = parse(t, DumpFormat::ApiJson, None).unwrap_err();
    assert!(e.to_string().contains("HTTP 400"), "{e}");
}

#[test]
fn truncated_json_names_the_line() {
    let full = query_range_json(15, 10, true);
    let cut = &full[..full.len() * 2 / 3];
    assert_eq!(sniff(cut), Some(DumpFormat::ApiJson));
    let e = parse(cut, DumpFormat::ApiJson, None).unwrap_err();
    assert!(e.message.contains("truncated"), "{e}");
    assert_eq!(e.line, Some(cut.lines().count() as u64));
}

#[test]
fn garbage_is_not_a_dump() {
    let g = "lorem ipsum dolor sit amet\n$$$ %%% @@@\n0x00 0x01 not metrics\n";
    assert_eq!(sniff(g), None);
    assert!(parse(g, DumpFormat::ApiJson, None).is_err());
    assert!(parse(g, DumpFormat::TsdbDump, None).is_err());
    assert!(parse(g, DumpFormat::GrafanaCsv, None).is_err());
    let e = parse("{\"status\": success}", DumpFormat::ApiJson, None).unwrap_err();
    assert!(e.message.contains("invalid JSON"), "{e}");
    // Logs and Kubernetes JSON are not metric dumps.
    assert_eq!(
        sniff(
            r#"{"timestamp":"2026-11-20T09:40:01.123Z","level":"error","message":"529 Overloaded","service":"GenerationService"}"#
        ),
        None
    );
    assert_eq!(
        sniff(r#"{"apiVersion":"v1","kind":"EventList","items":[]}"#),
        None
    );
    assert_eq!(
        sniff("2026-11-20T09:40:01.123456789Z {\"level\":\"error\"}\n"),
        None
    );
    assert_eq!(
        sniff("[Nest] 1  - 11/20/2026, 10:00:01 AM   ERROR [ExceptionHandler] boom\n"),
        None
    );
    assert_eq!(sniff(""), None);
}

#[test]
fn bad_values_and_histograms_in_a_matrix() {
    let t = format!(
        r#"{{
  "status": "success",
  "data": {{
    "resultType": "matrix",
    "result": [
      {{
        "metric": {{"__name__": "mcp_generation_errors_total", "pod": "{POD}"}},
        "values": [
          [{T0}, "1"],
          [{}, "abc"],
          [{}, "3"]
        ]
      }},
      {{
        "metric": {{"__name__": "mcp_generation_duration_seconds", "pod": "{POD}"}},
        "histograms": [
          [{T0}, {{"count": "2", "sum": "1.5", "buckets": [[0, "0.5", "1", "2"]]}}]
        ]
      }}
    ]
  }},
  "infos": ["PromQL info: metric might not be a counter"]
}}"#,
        T0 + 15,
        T0 + 30
    );
    let abc_line = t.lines().position(|l| l.contains("abc")).unwrap() as u64 + 1;
    let d = parse_sniffed(&t, DumpFormat::ApiJson);
    assert_eq!(d.series.len(), 1);
    assert_eq!(d.sample_count(), 2);
    assert_eq!(skipped(&d, SkipWhy::Malformed), 1);
    assert_eq!(skipped(&d, SkipWhy::NativeHistogram), 1);
    assert!(d
        .problems
        .iter()
        .any(|(l, m)| *l == Some(abc_line) && m.contains("\"abc\"")));
    assert!(d.notes.iter().any(|n| n.contains("native-histogram")));
    assert_eq!(
        d.warnings,
        vec!["info: PromQL info: metric might not be a counter"]
    );
}

#[test]
fn holmes_wrappers_are_skipped() {
    let body = query_range_json(30, 3, true);
    let t = format!(
        "{{\"toolset_name\":\"prometheus/metrics\",\"tool_name\":\"execute_prometheus_range_query\",\"match_params\":{{}}}}\n{{\"schema_version\": \"robusta:v1.0.0\", \"status\": \"success\", \"params\": {{}}}}\nstdout:\n{body}\n\nstderr:\nwarning: something\n"
    );
    let d = parse_sniffed(&t, DumpFormat::ApiJson);
    assert_eq!(d.kind, DumpKind::QueryRange { step_ms: 30_000 });
    assert_eq!(skipped(&d, SkipWhy::Wrapper), 5);
    assert_eq!(d.problems_total, 0, "{:?}", d.problems);
}

#[test]
fn tsdb_dump_with_duplicates_out_of_order_and_nan() {
    let l = |et: &str, v: &str, t: i64| {
        format!(
            "{{__name__=\"mcp_generation_errors_total\", error_type=\"{et}\", namespace=\"mcp-everything\", pod=\"{POD}\", source_type=\"github\"}} {v} {t}\n"
        )
    };
    let ms = T0 * 1000;
    let mut t = String::new();
    t += &l("anthropic_api_error", "1", ms);
    t += &l("anthropic_api_error", "3", ms + 30_012);
    t += &l("anthropic_api_error", "2", ms + 15_004); // out of order
    t += &l("anthropic_api_error", "3", ms + 30_012); // duplicate
    t += &l("anthropic_api_error", "4", ms + 30_012); // conflicting
    t += &l("database_error", "5", ms);
    t += &l("database_error", "NaN", ms + 15_000);
    t += "\n";
    t += "{__name__=\"x\"} not-a-number 5\n";
    t += &l("weird\\\"quote, {brace}", "1", ms);
    let d = parse_sniffed(&t, DumpFormat::TsdbDump);
    assert_eq!(d.kind, DumpKind::TsdbDump);
    assert_eq!(d.series.len(), 3);
    let a = &d.series[0];
    assert_eq!(a.labels, err_labels("anthropic_api_error", POD));
    assert_eq!(
        a.samples.iter().map(|s| s.v).collect::<Vec<_>>(),
        vec![1.0, 2.0, 3.0]
    );
    assert_eq!(skipped(&d, SkipWhy::DuplicateSample), 1);
    assert_eq!(skipped(&d, SkipWhy::ConflictingSample), 1);
    assert_eq!(skipped(&d, SkipWhy::Malformed), 1);
    assert_eq!(skipped(&d, SkipWhy::Blank), 1);
    assert_eq!(d.lines_read, 10);
    assert!(d
        .fixes
        .iter()
        .any(|f| f.contains("out-of-order") && f.contains("line 3")));
    assert!(d
        .fixes
        .iter()
        .any(|f| f.starts_with("1 duplicate") && f.contains("line 4")));
    assert!(d
        .problems
        .iter()
        .any(|(l, m)| *l == Some(5) && m.contains("two values")));
    assert!(d
        .problems
        .iter()
        .any(|(l, m)| *l == Some(7) && m.contains("NaN") && m.contains("counter")));
    assert!(d.problems.iter().any(|(l, _)| *l == Some(9)));
    assert!(d.series[1].samples[1].v.is_nan());
    assert_eq!(d.series[2].labels["error_type"], "weird\"quote, {brace}");
}

const SCRAPE: &str = "# HELP mcp_generation_errors_total Total number of generation errors\n\
# TYPE mcp_generation_errors_total counter\n\
mcp_generation_errors_total{error_type=\"anthropic_api_error\",source_type=\"github\"} 17\n\
mcp_generation_errors_total{error_type=\"database_error\",source_type=\"github\"} 3\n\
# HELP mcp_process_resident_memory_bytes Resident memory size in bytes.\n\
# TYPE mcp_process_resident_memory_bytes gauge\n\
mcp_process_resident_memory_bytes 4.58752e+08\n";

#[test]
fn exposition_scrape_needs_captured_at() {
    let d = parse_sniffed(SCRAPE, DumpFormat::Exposition);
    assert_eq!(d.kind, DumpKind::Exposition);
    assert!(d.series.is_empty());
    assert_eq!(skipped(&d, SkipWhy::NoTimestamp), 3);
    assert_eq!(skipped(&d, SkipWhy::Comment), 4);
    assert!(d.problems[0].1.contains("--captured-at"));
    let d = parse(SCRAPE, DumpFormat::Exposition, Some(T0 * 1000)).unwrap();
    check_accounting(&d);
    assert_eq!(d.series.len(), 3);
    assert_eq!(d.lines_used, 3);
    assert!(d.series.iter().all(|s| s.samples[0].t_ms == T0 * 1000));
    assert_eq!(d.series[2].samples[0].v, 458_752_000.0);
}

#[test]
fn exposition_with_timestamps_ms_and_openmetrics_seconds() {
    let ms = T0 * 1000;
    let t = format!(
        "# TYPE mcp_generation_errors_total counter\nmcp_generation_errors_total{{error_type=\"anthropic_api_error\"}} 17 {ms}\nmcp_generation_errors_total{{error_type=\"anthropic_api_error\"}} 19 {}\n",
        ms + 15_000
    );
    let d = parse_sniffed(&t, DumpFormat::Exposition);
    assert_eq!(d.kind, DumpKind::Exposition);
    assert_eq!(d.series[0].samples[1].t_ms, ms + 15_000);
    let om = format!(
        "# TYPE mcp_generation_errors counter\nmcp_generation_errors_total{{error_type=\"anthropic_api_error\"}} 17 {T0}.250 # {{trace_id=\"abc\"}} 1.0 {T0}.1\nmcp_generation_errors_created{{error_type=\"anthropic_api_error\"}} {T0} {T0}.250\n# EOF\n"
    );
    let d = parse_sniffed(&om, DumpFormat::Exposition);
    assert_eq!(d.kind, DumpKind::Exposition);
    assert_eq!(d.series.len(), 2);
    assert_eq!(d.series[1].samples[0].t_ms, T0 * 1000 + 250);
    assert!(d.notes.iter().any(|n| n.contains("OpenMetrics")));
}

fn grafana_wide() -> String {
    // Grafana 10, "Series joined by time", "Formatted data" off: epoch ms, label titles.
    let mut t = format!(
        "\"Time\",\"mcp_generation_errors_total{{error_type=\"\"anthropic_api_error\"\", namespace=\"\"mcp-everything\"\", pod=\"\"{POD}\"\", source_type=\"\"github\"\"}}\",\"mcp_generation_errors_total{{error_type=\"\"database_error\"\", namespace=\"\"mcp-everything\"\", pod=\"\"{POD}\"\", source_type=\"\"github\"\"}}\"\r\n"
    );
    for i in 0..5 {
        let db = if i == 2 {
            String::new()
        } else {
            format!("{}", i * 2)
        };
        t += &format!("{},{},{}\r\n", (T0 + i * 30) * 1000, i * 7, db);
    }
    t.pop();
    t.pop(); // Grafana writes no newline after the last row.
    t
}

#[test]
fn grafana_csv_wide_epoch_ms() {
    let d = parse_sniffed(&grafana_wide(), DumpFormat::GrafanaCsv);
    assert_eq!(
        d.kind,
        DumpKind::GrafanaCsv {
            step_ms: Some(30_000)
        }
    );
    assert_eq!(d.series.len(), 2);
    assert_eq!(d.series[0].labels, err_labels("anthropic_api_error", POD));
    assert_eq!(d.series[0].samples.len(), 5);
    assert_eq!(d.series[1].samples.len(), 4);
    assert_eq!(
        d.series[0].resolution,
        Resolution::Resampled { step_ms: 30_000 }
    );
    assert_eq!((d.lines_read, d.lines_used), (6, 6));
    assert!(!d.times_without_zone);
}

#[test]
fn grafana_csv_formatted_times_legends_excel_and_semicolons() {
    let t = "\u{feff}sep=;\r\n\"Time\";\"anthropic_api_error\";\"database_error\"\r\n2026-11-20 09:40:00;0.08;0.02\r\n2026-11-20 09:41:00;0.12;NaN\r\n2026-11-20 09:42:00;;\r\n2026-11-20 09:43:00;1.2 K;0.5";
    let d = parse_sniffed(t, DumpFormat::GrafanaCsv);
    assert!(d.times_without_zone);
    assert_eq!(
        d.kind,
        DumpKind::GrafanaCsv {
            step_ms: Some(60_000)
        }
    );
    assert_eq!(d.series[0].labels["__legend__"], "anthropic_api_error");
    assert_eq!(d.series[0].samples[0].t_ms, T0 * 1000);
    assert_eq!(skipped(&d, SkipWhy::Comment), 1);
    assert_eq!(skipped(&d, SkipWhy::NoValue), 1);
    assert!(d
        .problems
        .iter()
        .any(|(l, m)| *l == Some(6) && m.contains("Formatted data")));
    assert!(d.notes.iter().any(|n| n.contains("no zone")));
    assert!(d.notes.iter().any(|n| n.contains("__legend__")));
}

#[test]
fn grafana_csv_table_layout_and_old_series_rows() {
    let t = format!(
        "\"Time\",\"error_type\",\"pod\",\"Value\"\n2026-11-20T09:40:00Z,anthropic_api_error,{POD},5\n2026-11-20T09:40:00Z,database_error,{POD},1\n2026-11-20T09:40:15Z,anthropic_api_error,{POD},6\n"
    );
    let d = parse_sniffed(&t, DumpFormat::GrafanaCsv);
    assert_eq!(d.series.len(), 2);
    assert_eq!(
        d.series[0].labels,
        labels(&[("error_type", "anthropic_api_error"), ("pod", POD)])
    );
    assert_eq!(d.series[0].samples.len(), 2);
    // Grafana <= 6: "Series;Time;Value", ISO times.
    let t = "Series;Time;Value\nanthropic_api_error;2015-06-11T11:50:00.000Z;1.1\nanthropic_api_error;2015-06-11T11:51:00.000Z;1.2\n";
    let d = parse_sniffed(t, DumpFormat::GrafanaCsv);
    assert_eq!(d.series[0].labels["__legend__"], "anthropic_api_error");
    assert_eq!(
        d.kind,
        DumpKind::GrafanaCsv {
            step_ms: Some(60_000)
        }
    );
}

#[test]
fn grafana_csv_embedded_quotes_and_commas() {
    // Grafana does not escape quotes inside label values; CSV doubles them.
    let t = "\"Time\",\"{error_type=\"\"a \"\"b\"\", c\"\", pod=\"\"p\"\"}\",\"Value #B\"\n1795167600000,1,2\n1795167630000,3,4\n";
    let d = parse_sniffed(t, DumpFormat::GrafanaCsv);
    // Series come sorted by labels: `__legend__` sorts first.
    assert_eq!(d.series[0].labels["__legend__"], "Value #B");
    let l = &d.series[1].labels;
    assert_eq!(l["error_type"], "a \"b\", c");
    assert_eq!(l["pod"], "p");
}

#[test]
fn grafana_csv_several_frames() {
    let t = format!(
        "\"Time\",\"{{pod=\"\"{POD}\"\"}}\"\n1795167600000,1\n1795167660000,2\n\n\"Time\",\"{{pod=\"\"{POD2}\"\"}}\"\n1795167600000,5\n1795167660000,6\n"
    );
    let d = parse_sniffed(&t, DumpFormat::GrafanaCsv);
    assert_eq!(d.series.len(), 2);
    assert_eq!(d.series[0].labels["pod"], POD2); // sorted by labels
    assert_eq!(d.series[0].samples[1].v, 6.0);
    assert_eq!((d.lines_read, d.lines_used), (7, 6));
}

#[test]
fn empty_result_and_many_problems() {
    let t = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
    let d = parse_sniffed(t, DumpFormat::ApiJson);
    assert!(d.series.is_empty());
    assert!(d.notes.iter().any(|n| n.contains("empty")));
    let mut bad = String::new();
    for i in 0..50 {
        bad += &format!("{{__name__=\"up\", pod=\"{POD}\"}} x{i} {}\n", T0 * 1000);
    }
    bad += &format!("{{__name__=\"up\", pod=\"{POD}\"}} 1 {}\n", T0 * 1000);
    let d = parse_sniffed(&bad, DumpFormat::TsdbDump);
    assert_eq!(d.problems.len(), MAX_PROBLEMS);
    assert_eq!(d.problems_total, 50);
    assert_eq!(skipped(&d, SkipWhy::Malformed), 50);
    assert_eq!(d.sample_count(), 1);
}

#[test]
fn wrapped_line_formats() {
    let t = format!(
        "stdout:\n{{__name__=\"up\", pod=\"{POD}\"}} 1 {}\n\nstderr:\nsome warning\n",
        T0 * 1000
    );
    let d = parse_sniffed(&t, DumpFormat::TsdbDump);
    assert_eq!(d.sample_count(), 1);
    assert_eq!(skipped(&d, SkipWhy::Wrapper), 3);
    assert_eq!(d.problems_total, 0);
}

#[test]
fn merge_prefers_raw_and_counts_duplicates() {
    let ms = T0 * 1000;
    // Raw scrapes 09:40:00..09:44:45 (every 15 s, one ms late).
    let raw: String = (0..20)
        .map(|i| {
            format!(
                "{{__name__=\"mcp_generation_errors_total\", error_type=\"anthropic_api_error\", pod=\"{POD}\"}} {} {}\n",
                i,
                ms + i * 15_000 + 1
            )
        })
        .collect();
    // query_range every 60 s over 09:30..09:50: overlaps the raw range.
    let qr_values: Vec<String> = (0..21)
        .map(|i| format!("[{},\"{}\"]", T0 - 600 + i * 60, i))
        .collect();
    let qr = format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"mcp_generation_errors_total","error_type":"anthropic_api_error","pod":"{POD}"}},"values":[{}]}},{{"metric":{{"__name__":"mcp_generation_errors_total","error_type":"database_error","pod":"{POD}"}},"values":[[{T0},"1"]]}}]}}}}"#,
        qr_values.join(",")
    );
    let a = parse(&raw, DumpFormat::TsdbDump, None).unwrap();
    let b = parse(&qr, DumpFormat::ApiJson, None).unwrap();
    assert_eq!(b.kind, DumpKind::QueryRange { step_ms: 60_000 });
    let a2 = a.clone();
    let (series, notes) = merge(vec![a, b, a2]);
    assert_eq!(notes.series_in, 4);
    assert_eq!(notes.series_out, 2);
    let s = &series[0];
    // Raw inside 09:40:00.001..09:44:45.001, 60 s points outside it.
    let inside = s
        .samples
        .iter()
        .filter(|x| x.t_ms > ms && x.t_ms <= ms + 285_001)
        .count();
    assert_eq!(inside, 20);
    // 21 query_range points, 4 of them (09:41..09:44) inside the raw range.
    assert_eq!(s.samples.len(), 20 + 17);
    assert_eq!(notes.duplicates, 20);
    assert_eq!(notes.superseded, 4);
    assert_eq!(notes.mixed_series, 1);
    assert_eq!(s.resolution, Resolution::Resampled { step_ms: 60_000 });
    assert!(s.samples.windows(2).all(|w| w[0].t_ms < w[1].t_ms));
    assert!(notes.notes[0].contains("#1 (raw)"));
}

#[test]
fn merge_conflicts_keep_raw_then_first() {
    let mk = |v: &str, step: Option<i64>| {
        let mut d = parse(
            &format!("{{__name__=\"m\"}} {v} {}\n", T0 * 1000),
            DumpFormat::TsdbDump,
            None,
        )
        .unwrap();
        if let Some(s) = step {
            d.series[0].resolution = Resolution::Resampled { step_ms: s };
        }
        d
    };
    let (s, n) = merge(vec![mk("2", Some(15_000)), mk("1", None), mk("3", None)]);
    assert_eq!(s[0].samples[0].v, 1.0);
    assert_eq!(s[0].resolution, Resolution::Raw);
    assert_eq!(n.conflicts, 2);
}

#[test]
fn merge_two_grids_of_one_step() {
    let grid = |phase: i64, from: i64, n: i64| {
        let v: Vec<String> = (0..n)
            .map(|i| format!("[{},\"{i}\"]", T0 + phase + (from + i) * 60))
            .collect();
        let t = format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"pod":"{POD}"}},"values":[{}]}}]}}}}"#,
            v.join(",")
        );
        parse(&t, DumpFormat::ApiJson, None).unwrap()
    };
    // 09:40..09:49 on :00, then 09:45:07..09:54:07 on :07.
    let (s, n) = merge(vec![grid(0, 0, 10), grid(7, 5, 10)]);
    assert_eq!(n.superseded, 4);
    assert_eq!(s[0].samples.len(), 16);
    assert_eq!(s[0].resolution, Resolution::Resampled { step_ms: 60_000 });
}

#[test]
fn merge_is_deterministic() {
    let d = parse(&query_range_json(15, 6, false), DumpFormat::ApiJson, None).unwrap();
    let a = merge(vec![d.clone(), d.clone()]);
    let b = merge(vec![d.clone(), d]);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

// ---- The real-world files (copied into tests/data/real-world). ----

fn real(path: &str) -> String {
    let p = format!(
        "{}/tests/data/real-world/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

const HOLMES: &str = "HolmesGPT__holmesgpt/tests/llm/fixtures";
const PROMTOOL: &str = "prometheus__prometheus/cmd/promtool/testdata";

#[test]
fn real_holmes_17_range_query() {
    for suffix in [".clean", ""] {
        let t = real(&format!(
            "{HOLMES}/test_investigate/17_investigate_correct_date/execute_prometheus_range_query.txt{suffix}"
        ));
        let d = parse_sniffed(&t, DumpFormat::ApiJson);
        assert_eq!(d.kind, DumpKind::QueryRange { step_ms: 60_000 });
        assert_eq!(d.series.len(), 8);
        assert!(d.series.iter().all(|s| s.samples.len() == 31));
        assert_eq!(d.series[0].samples[0].t_ms, 1_756_099_500_000);
        assert_eq!(
            d.query.as_deref(),
            Some("avg by(node,mode)(rate(node_cpu_seconds_total[5m]))")
        );
        assert_eq!(d.problems_total, 0);
        assert_eq!(
            skipped(&d, SkipWhy::Wrapper),
            if suffix.is_empty() { 2 } else { 0 }
        );
    }
}

#[test]
fn real_holmes_158_range_query() {
    let t = real(&format!("{HOLMES}/test_ask_holmes/158_slack_chat_correct_date/execute_prometheus_range_queryDetermine_CPU_throttling_ratio_over_time_for_the_frontend-service_pod_in_the_default_nam.clean"));
    let d = parse_sniffed(&t, DumpFormat::ApiJson);
    assert_eq!(d.kind, DumpKind::QueryRange { step_ms: 15_000 });
    assert_eq!(d.series.len(), 17);
    assert!(d.series.iter().all(|s| s.samples.len() == 121));
    // 2025-09-08T11:58:08Z, not the envelope's start.
    assert_eq!(d.series[0].samples[0].t_ms, 1_757_332_688_000);
    assert!(d
        .notes
        .iter()
        .any(|n| n.contains("does not match the samples")));
    assert!(d
        .series
        .iter()
        .all(|s| s.labels.get("namespace").map(String::as_str) == Some("kube-system")));
}

#[test]
fn real_promtool_dump() {
    let d = parse_sniffed(
        &real(&format!("{PROMTOOL}/dump-test-1.prom")),
        DumpFormat::TsdbDump,
    );
    assert_eq!(d.kind, DumpKind::TsdbDump);
    assert_eq!((d.series.len(), d.sample_count()), (3, 15));
    assert_eq!(d.series[2].labels["baz"], "abc");
    assert_eq!(d.series[2].samples[4].t_ms, 240_000);
    assert_eq!(d.lines_used, 15);
}

#[test]
fn real_promtool_dump_openmetrics() {
    let d = parse_sniffed(
        &real(&format!("{PROMTOOL}/dump-openmetrics-test.prom")),
        DumpFormat::Exposition,
    );
    assert_eq!(d.kind, DumpKind::TsdbDump);
    assert_eq!((d.series.len(), d.sample_count()), (2, 10));
    assert_eq!(d.series[1].samples[2].v, 0.0);
    assert_eq!(d.series[1].samples[4].t_ms, 240_000);
    assert_eq!(skipped(&d, SkipWhy::Comment), 1);
    // The same file handed over as a tsdb dump reads the same.
    let d2 = parse(
        &real(&format!("{PROMTOOL}/dump-openmetrics-test.prom")),
        DumpFormat::TsdbDump,
        None,
    )
    .unwrap();
    assert_eq!(d2.series, d.series);
}

#[test]
fn real_promtool_openmetrics_roundtrip() {
    let d = parse_sniffed(
        &real(&format!("{PROMTOOL}/dump-openmetrics-roundtrip-test.prom")),
        DumpFormat::Exposition,
    );
    assert_eq!((d.series.len(), d.sample_count()), (7, 14));
    let up = d
        .series
        .iter()
        .find(|s| s.name() == "up" && s.labels["job"] == "example2")
        .unwrap();
    assert_eq!(up.samples[1].t_ms, 1_700_226_094_329);
    let b = &d.series[0];
    assert_eq!(b.labels["le"], "+Inf");
    assert_eq!(b.samples[0].v, 1.0267820369e10);
}

#[test]
fn real_promtool_metrics_scrape() {
    let t = real(&format!("{PROMTOOL}/metrics-test.prom"));
    let d = parse_sniffed(&t, DumpFormat::Exposition);
    assert!(d.series.is_empty());
    assert_eq!(skipped(&d, SkipWhy::NoTimestamp), 27);
    let d = parse(&t, DumpFormat::Exposition, Some(T0 * 1000)).unwrap();
    check_accounting(&d);
    assert_eq!((d.series.len(), d.sample_count()), (27, 27));
    let q = d
        .series
        .iter()
        .find(|s| {
            s.name() == "prometheus_tsdb_compaction_chunk_size_bytes_bucket"
                && s.labels["le"] == "+Inf"
        })
        .unwrap();
    assert_eq!(q.samples[0].v, 13867.0);
}

#[test]
fn never_panics_on_cut_or_mangled_input() {
    let inputs = [
        query_range_json(15, 4, true),
        range_selector_json(true),
        grafana_wide(),
        SCRAPE.to_owned(),
        real(&format!("{PROMTOOL}/dump-test-1.prom")),
    ];
    for text in &inputs {
        for cut in (0..text.len()).step_by(7) {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let part = &text[..cut];
            let _ = sniff(part);
            for f in [
                DumpFormat::ApiJson,
                DumpFormat::TsdbDump,
                DumpFormat::Exposition,
                DumpFormat::GrafanaCsv,
            ] {
                if let Ok(d) = parse(part, f, Some(0)) {
                    check_accounting(&d);
                }
            }
        }
    }
}
