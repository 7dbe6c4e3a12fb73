//! The example incident's metrics, as an on-call engineer exports them from Prometheus: the
//! generation-error counters as a range-selector query (`mcp_generation_errors_total[90m]`,
//! raw scrapes), the pods' working-set memory as a `query_range` at a 30 s step (re-sampled),
//! and the process and kube-state metrics as a `promtool tsdb dump`; the `ALERTS` and
//! `ALERTS_FOR_STATE` series Prometheus wrote, each rule group at its own evaluation phase, as
//! a range-selector query; plus the service's alert rules as the PrometheusRule it deploys. The counters follow the logs' outcome records
//! (one increment per failed generation, rejected generation requests included), scraped every 15 s at each target's own phase with a few ms of
//! jitter, reset when x2kqp's process restarts, absent while it is down.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::bulk::Rng;

const NS: &str = "mcp-everything";
const SCRAPE: i64 = 15_000;
/// 2026-11-20T09:52:00Z, while HighGenerationErrorRate fires.
const T_0952: i64 = 1_795_168_320_000;

/// One scrape target: a pod's process and when it was up.
pub struct Target {
    pub pod: &'static str,
    pub ip: &'static str,
    /// Scrape phase within the 15 s interval.
    pub phase_ms: i64,
    /// (process start, process end) for each process the pod ran, in ms.
    pub lives: Vec<(i64, i64)>,
}

/// One error event of the logs: pod, cause, time.
pub type ErrorAt = (&'static str, &'static str, i64);

fn scrapes(t: &Target, from: i64, to: i64, rng: &mut Rng) -> Vec<(i64, usize)> {
    let mut out = Vec::new();
    let mut s = from - from.rem_euclid(SCRAPE) + t.phase_ms;
    while s <= to {
        if let Some(life) = t.lives.iter().position(|&(a, b)| s >= a && s < b) {
            out.push((s + (rng.next() % 40) as i64, life));
        }
        s += SCRAPE;
    }
    out
}

fn secs(ms: i64) -> serde_json::Value {
    // Prometheus writes sample times as float seconds with millisecond precision (whole
    // seconds without a fraction).
    if ms % 1000 == 0 {
        return json!(ms / 1000);
    }
    serde_json::Number::from_f64(ms as f64 / 1000.0)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

fn value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// `mcp_generation_errors_total` of every pod and cause, as scraped: the result of
/// `mcp_generation_errors_total[90m]` at `to`.
fn error_counters(
    targets: &[Target],
    errors: &[ErrorAt],
    (from, to): (i64, i64),
    rng: &mut Rng,
) -> Vec<serde_json::Value> {
    let mut result = Vec::new();
    let causes: std::collections::BTreeSet<&str> = errors.iter().map(|&(_, c, _)| c).collect();
    for t in targets {
        let times = scrapes(t, from, to, rng);
        for &cause in &causes {
            let mut values = Vec::new();
            for &(s, life) in &times {
                let (start, _) = t.lives[life];
                let n = errors
                    .iter()
                    .filter(|&&(p, c, ms)| p == t.pod && c == cause && ms >= start && ms <= s)
                    .count();
                // prom-client creates the label set at its first increment.
                let seen = errors
                    .iter()
                    .any(|&(p, c, ms)| p == t.pod && c == cause && ms >= start && ms <= s);
                if seen {
                    values.push(json!([secs(s), value(n as f64)]));
                }
            }
            if !values.is_empty() {
                result.push(json!({
                    "metric": {
                        "__name__": "mcp_generation_errors_total",
                        "error_type": cause,
                        "source_type": "github",
                        "instance": format!("{}:3000", t.ip),
                        "job": "mcp-backend",
                        "namespace": NS,
                        "pod": t.pod,
                    },
                    "values": values,
                }));
            }
        }
    }
    result
}

/// `container_memory_working_set_bytes` as a query_range at a 30 s step.
fn memory_query_range(targets: &[Target], (from, to): (i64, i64)) -> Vec<serde_json::Value> {
    let step = 30_000;
    let mut result = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let mut values = Vec::new();
        let mut s = from - from.rem_euclid(step);
        while s <= to {
            // query_range sees the last scrape within 5 minutes: a pod that is not up yet has
            // no value.
            let alive = t.lives.iter().position(|&(a, b)| s >= a && s < b);
            let held = || t.lives.iter().position(|&(a, b)| s >= a && s < b + 300_000);
            if let Some(life) = alive.or_else(held) {
                let (a, b) = t.lives[life];
                let s_alive = s.min(b);
                values.push(json!([
                    secs(s),
                    value(working_set(i, life, a, b, s_alive).round())
                ]));
            }
            s += step;
        }
        result.push(json!({
            "metric": {
                "__name__": "container_memory_working_set_bytes",
                "container": "backend",
                "namespace": NS,
                "pod": t.pod,
            },
            "values": values,
        }));
    }
    result
}

/// The `promtool tsdb dump` of the process metrics and the limits kube-state-metrics
/// reports: its lines, series by series, each in time order.
fn process_dump(targets: &[Target], (from, to): (i64, i64), rng: &mut Rng) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        for (s, life) in scrapes(t, from, to, rng) {
            let (a, b) = t.lives[life];
            let labels = format!(
                "instance=\"{}:3000\", job=\"mcp-backend\", namespace=\"{NS}\", pod=\"{}\"",
                t.ip, t.pod
            );
            lines.push(format!(
                "{{__name__=\"mcp_process_resident_memory_bytes\", {labels}}} {} {s}",
                value((working_set(i, life, a, b, s) * 0.93).round())
            ));
            lines.push(format!(
                "{{__name__=\"mcp_process_start_time_seconds\", {labels}}} {} {s}",
                a / 1000
            ));
            lines.push(format!(
                "{{__name__=\"kube_pod_container_resource_limits\", container=\"backend\", job=\"kube-state-metrics\", namespace=\"{NS}\", pod=\"{}\", resource=\"memory\", unit=\"byte\"}} 536870912 {}",
                t.pod,
                s + 2_000
            ));
        }
    }
    // promtool prints series by series, each in time order.
    lines.sort_by(|x, y| {
        let (lx, ly) = (x.rsplitn(3, ' ').nth(2), y.rsplitn(3, ' ').nth(2));
        let tx: i64 = x
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let ty: i64 = y
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        (lx, tx).cmp(&(ly, ty))
    });
    lines.dedup();
    lines
}

/// ALERTS and ALERTS_FOR_STATE as Prometheus recorded them over `series`, exported as a
/// range-selector query (raw: the samples sit at Prometheus' evaluation times), and, for the
/// ALERTS check's test, what it recorded had the rule deployed during the incident had
/// `for: 3m` (it was changed since) while Prometheus was restarting from 09:52:00 to 09:54:00
/// (no evaluations, so no ALERTS samples).
fn alerts(
    dir: &Path,
    series: Vec<postmortem::model::metrics::MetricSeries>,
    to: i64,
    files: &mut BTreeMap<String, u64>,
) -> std::io::Result<()> {
    let mdir = dir.join("metrics");
    let alerts = recorded_alerts(series.clone(), RULES, None)?;
    std::fs::write(mdir.join("alerts-range.json"), api_matrix(&alerts, false)?)?;
    files.insert("metrics/alerts-range.json".into(), 1);
    let changed = RULES.replacen("for: 5m", "for: 3m", 1);
    let restart = (T_0952.min(to), (T_0952 + 120_000).min(to));
    let alerts = recorded_alerts(series, &changed, Some(restart))?;
    let cdir = dir.join("../formats/alerts-check");
    std::fs::create_dir_all(&cdir)?;
    std::fs::write(
        cdir.join("alerts-rule-was-for-3m.json"),
        api_matrix(&alerts, false)?,
    )?;
    Ok(())
}

/// Writes `metrics/` and `rules/` under `dir`; returns file -> lines for the truth file.
pub fn generate(
    dir: &Path,
    targets: &[Target],
    errors: &[ErrorAt],
    from: i64,
    to: i64,
) -> std::io::Result<BTreeMap<String, u64>> {
    let mdir = dir.join("metrics");
    std::fs::create_dir_all(&mdir)?;
    let mut files = BTreeMap::new();
    let mut rng = Rng(77);

    let result = error_counters(targets, errors, (from, to), &mut rng);
    let text = api_matrix(&result, false)?;
    std::fs::write(mdir.join("generation-errors-range.json"), &text)?;
    files.insert("metrics/generation-errors-range.json".into(), 1);

    let result = memory_query_range(targets, (from, to));
    std::fs::write(
        mdir.join("memory-working-set-query-range.json"),
        api_matrix(&result, true)?,
    )?;
    files.insert("metrics/memory-working-set-query-range.json".into(), 0);

    let lines = process_dump(targets, (from, to), &mut rng);
    files.insert("metrics/process.tsdb-dump.txt".into(), lines.len() as u64);
    std::fs::write(mdir.join("process.tsdb-dump.txt"), lines.join("\n") + "\n")?;

    let series = {
        use postmortem::ingest::prom::{parse, DumpFormat};
        let errors = parse(&text, DumpFormat::ApiJson, None).map_err(std::io::Error::other)?;
        let process = parse(&(lines.join("\n") + "\n"), DumpFormat::TsdbDump, None)
            .map_err(std::io::Error::other)?;
        let mut series = errors.series;
        series.extend(process.series);
        series
    };
    alerts(dir, series, to, &mut files)?;

    // The service's alert rules, as the PrometheusRule it deploys.
    let rdir = dir.join("rules");
    std::fs::create_dir_all(&rdir)?;
    std::fs::write(rdir.join("mcp-everything-alerts.yaml"), RULES)?;
    files.insert(
        "rules/mcp-everything-alerts.yaml".into(),
        RULES.lines().count() as u64,
    );
    Ok(files)
}

/// Each rule group's evaluation phase in Prometheus (it derives one per group from a hash of
/// the group, so groups are not evaluated at the same instants).
const GROUP_PHASES: [(&str, i64); 3] = [
    ("mcp-backend.generation", 4_287),
    ("mcp-backend.api", 8_614),
    ("mcp-backend.process", 11_052),
];

/// The `ALERTS` and `ALERTS_FOR_STATE` samples Prometheus wrote while evaluating the service's
/// rules over `series`, each group at its own phase: computed with the rule engine that
/// `tests/promtool_rules_conformance.rs` holds to promtool's at every step.
/// `rules` is the rules file's text; nothing is recorded during `down` (Prometheus not
/// running).
fn recorded_alerts(
    series: Vec<postmortem::model::metrics::MetricSeries>,
    rules: &str,
    down: Option<(i64, i64)>,
) -> std::io::Result<Vec<serde_json::Value>> {
    use postmortem::detect::plan::{EvalPlan, PlanSettings};
    use postmortem::detect::rules::evaluate;
    use postmortem::promql::{PromCompat, Storage};
    let rules = postmortem::ingest::rules::parse(rules).map_err(std::io::Error::other)?;
    // (labels) -> samples, sorted by labels as the API returns them.
    let mut out: BTreeMap<BTreeMap<String, String>, Vec<serde_json::Value>> = BTreeMap::new();
    for group in &rules.groups {
        let phase = GROUP_PHASES
            .iter()
            .find(|(g, _)| *g == group.name)
            .map_or(0, |(_, p)| *p);
        let one = postmortem::model::rules::RuleSet {
            groups: vec![group.clone()],
            problems: Vec::new(),
        };
        let storage = Storage::new(series.clone());
        let settings = PlanSettings {
            compat: PromCompat::V2,
            alertname: String::new(),
            interval: None,
            offset: Some(phase),
            since: None,
            until: None,
        };
        let plan = EvalPlan::new(&settings, &one, Some(&storage));
        let det = evaluate(&one, storage, &plan, &[]);
        for rule in &det.rules {
            for &t in &rule.grid {
                if down.is_some_and(|(a, b)| t >= a && t < b) {
                    continue;
                }
                for a in rule.alerts.iter().map(|a| &a.instance) {
                    let Some(state) = a.state_at(t) else {
                        continue;
                    };
                    let mut labels = a.labels.clone();
                    labels.insert("alertname".into(), a.alertname.clone());
                    let mut for_state = labels.clone();
                    for_state.insert("__name__".into(), "ALERTS_FOR_STATE".into());
                    labels.insert("__name__".into(), "ALERTS".into());
                    labels.insert("alertstate".into(), state.word().into());
                    out.entry(labels).or_default().push(json!([secs(t), "1"]));
                    out.entry(for_state)
                        .or_default()
                        .push(json!([secs(t), value((a.pending_at / 1000) as f64)]));
                }
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|(metric, values)| json!({ "metric": metric, "values": values }))
        .collect())
}

/// A Prometheus API response holding a matrix, keys in the API's order (`status` first).
fn api_matrix(result: &[serde_json::Value], pretty: bool) -> std::io::Result<String> {
    let body = if pretty {
        serde_json::to_string_pretty(result)?
    } else {
        serde_json::to_string(result)?
    };
    Ok(format!(
        "{{\"status\":\"success\",\"data\":{{\"resultType\":\"matrix\",\"result\":{body}}}}}\n"
    ))
}

/// Working-set bytes of target `i` (0 = x2kqp, 1 = 9wzlm, 2 = r4t8n) in process `life`
/// (started `a`, ends `b`) at `s`: x2kqp's first process leaks toward V8's heap limit, just
/// under the container's 512Mi, and aborts; the others are flat.
fn working_set(i: usize, life: usize, a: i64, b: i64, s: i64) -> f64 {
    const MI: f64 = 1024.0 * 1024.0;
    let wobble = ((s / 30_000) as f64 * 0.7 + i as f64).sin() * 3.0 * MI;
    match (i, life) {
        (0, 0) => {
            // 300 MiB at 09:00 (from the window's start), 506 MiB at the abort.
            let from = 1_795_165_200_000_i64.max(a);
            let x = ((s - from) as f64 / (b - from) as f64).clamp(0.0, 1.0);
            (300.0 + 206.0 * x.powf(1.6)) * MI + wobble * (1.0 - x)
        }
        (2, _) => (180.0 + 60.0 * ((s - a) as f64 / 1_800_000.0).min(1.0)) * MI + wobble,
        _ => 310.0 * MI + wobble,
    }
}

/// The rules table of system.md as the PrometheusRule the service deploys.
const RULES: &str = r#"apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: mcp-backend-alerts
  namespace: mcp-everything
  labels:
    app: mcp-backend
    release: prometheus
spec:
  groups:
    - name: mcp-backend.generation
      interval: 15s
      rules:
        - alert: HighGenerationErrorRate
          expr: rate(mcp_generation_errors_total[5m]) > 0.1
          for: 5m
          labels:
            severity: critical
            team: backend
          annotations:
            summary: High generation error rate
            description: "{{ $labels.error_type }} errors on {{ $labels.pod }} at {{ printf \"%.3f\" $value }}/s (threshold 0.1/s for 5m)"
            runbook_url: https://github.com/mcp-everything/mcp-everything/blob/main/docs/runbooks/high-generation-error-rate.md
        - alert: SlowGenerations
          expr: histogram_quantile(0.95, sum(rate(mcp_generation_duration_seconds_bucket[15m])) by (le)) > 300
          for: 10m
          labels:
            severity: warning
          annotations:
            summary: "95th percentile generation time is {{ $value | humanizeDuration }}"
        - alert: NoGenerations
          expr: sum(rate(mcp_generation_total[1h])) == 0
          for: 1h
          labels:
            severity: warning
          annotations:
            summary: No MCP server generated in the last hour
    - name: mcp-backend.api
      interval: 15s
      rules:
        - alert: HighApiErrorRate
          expr: sum(rate(mcp_api_requests_total{status_code=~"5.."}[5m])) / sum(rate(mcp_api_requests_total[5m])) > 0.05
          for: 5m
          labels:
            severity: critical
          annotations:
            summary: "{{ $value | humanizePercentage }} of API requests fail"
        - alert: HighApiLatency
          expr: histogram_quantile(0.95, sum(rate(mcp_api_latency_seconds_bucket[5m])) by (le)) > 2
          for: 5m
          labels:
            severity: warning
          annotations:
            summary: "API p95 latency is {{ $value }}s"
    - name: mcp-backend.process
      interval: 15s
      rules:
        - alert: HighMemoryUsage
          expr: mcp_process_resident_memory_bytes / 1024 / 1024 / 1024 > 1.5
          for: 10m
          labels:
            severity: warning
          annotations:
            summary: "{{ $labels.pod }} uses {{ printf \"%.2f\" $value }} GiB resident"
        - alert: HighCpuUsage
          expr: rate(mcp_process_cpu_seconds_total[5m]) > 0.8
          for: 10m
          labels:
            severity: warning
          annotations:
            summary: "{{ $labels.pod }} uses {{ printf \"%.2f\" $value }} CPU cores"
        - alert: ProcessRestarted
          expr: changes(mcp_process_start_time_seconds[15m]) > 0
          labels:
            severity: info
          annotations:
            summary: "{{ $labels.pod }} restarted"
"#;
