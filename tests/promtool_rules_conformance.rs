//! Conformance of alert rules over metric dumps with Prometheus' own rule engine, using
//! `promtool test rules` (Debian package `prometheus`) as the oracle.
//!
//! Each scenario is a small deployment of the service over two hours: two or three pods scraped
//! every 15 s at their own phase with a second of jitter, exporting the metrics system.md names
//! (error counters by type, API requests by status code, the API latency histogram, resident
//! memory, process start time). The generator gives them bursts that hover around the rules'
//! thresholds, counter resets from container restarts, missed scrapes and outages (with the
//! staleness markers Prometheus writes when a scrape fails), a pod replaced mid-way (its series go
//! stale, a new pod's begin), and a pod whose series simply stop (the 5-minute lookback).
//!
//! The series are written as a `promtool tsdb dump` and run through the real binary
//! (`postmortem analyze DUMP --rules RULES`, like a user would), with the service's rules and a
//! few more exercising `keep_firing_for`, `for: 0`, aggregation, `irate`, `resets` and
//! `*_over_time`. From the alerts in `report.json` (pending_at, firing_at, resolved_at,
//! last_active_at, per label set), one promtool test file per scenario asserts at EVERY
//! evaluation step that `ALERTS` and `ALERTS_FOR_STATE` hold exactly those alerts, and, where a
//! single alert of a rule is firing at its peak, that its labels and annotations (templated with
//! `$value` and `$labels`) are what Prometheus expands. Some scenarios use a 30 s evaluation
//! interval (`--eval-interval`) and some a shifted evaluation phase (`--eval-offset`).
//! promtool 2.42 follows Prometheus 2.x semantics: the binary's default `--prom-compat 2`.

#[path = "common/growth.rs"]
mod growth;
#[path = "common/promtool.rs"]
mod promtool;
#[path = "common/rng.rs"]
mod rng;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use growth::Growth;
use rng::SplitMix64;
use serde_json::Value;

/// 2026-11-20T09:00:00Z, a multiple of 30 s: promtool's time 0 (plus the scenario's phase shift).
const BASE_MS: i64 = 1_795_165_200_000;
/// The scrape interval.
const SCRAPE_S: i64 = 15;
/// The time the scenarios cover, in seconds.
const DURATION_S: i64 = 2 * 3600;
/// How many scenarios are generated.
const SCENARIOS: u64 = 12;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The rules: the service's (system.md) and a few more covering what the service's do not.
const RULES: &str = r#"groups:
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
          description: '{{ $labels.error_type }} errors on {{ $labels.pod }} at {{ printf "%.3f" $value }}/s (threshold 0.1/s for 5m)'
      - alert: GenerationErrorsNow
        expr: rate(mcp_generation_errors_total{error_type="database_error"}[2m]) > 0.1
        for: 1m
        keep_firing_for: 2m
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.pod }}: {{ $value }} database errors/s'
      - alert: GenerationErrorBurst
        expr: sum by (pod) (increase(mcp_generation_errors_total[5m])) > 70
        labels:
          severity: info
        annotations:
          summary: '{{ $value | humanize }} errors in 5m on {{ $labels.pod }}'
      - alert: ErrorCounterReset
        expr: resets(mcp_generation_errors_total[10m]) > 0
        labels:
          severity: info
      - alert: NoGenerationErrors
        expr: sum by (pod) (rate(mcp_generation_errors_total{error_type="anthropic_api_error"}[5m])) == 0
        for: 2m
        labels:
          severity: info
  - name: mcp-backend.api
    interval: 15s
    rules:
      - alert: HighApiErrorRate
        expr: sum(rate(mcp_api_requests_total{status_code=~"5.."}[5m])) / sum(rate(mcp_api_requests_total[5m])) > 0.05
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: '{{ $value | humanizePercentage }} of API requests fail'
      - alert: HighApiLatency
        expr: histogram_quantile(0.95, sum(rate(mcp_api_latency_seconds_bucket[5m])) by (le)) > 2
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: 'API p95 latency is {{ $value | humanizeDuration }} ({{ $value }}s)'
      - alert: ApiErrorSpike
        expr: irate(mcp_api_requests_total{status_code="500"}[1m]) > 0.3
        labels:
          severity: info
  - name: mcp-backend.process
    interval: 15s
    rules:
      - alert: HighMemoryUsage
        expr: mcp_process_resident_memory_bytes / 1024 / 1024 / 1024 > 1.5
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.pod }} uses {{ printf "%.2f" $value }} GiB resident'
      - alert: MemoryHighOnAverage
        expr: avg_over_time(mcp_process_resident_memory_bytes[5m]) > 1.55 * 1073741824
        for: 2m
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.pod }} averaged {{ $value | humanize1024 }}B ({{ $value | humanize }}B, {{ $value }} bytes)'
      - alert: ProcessRestarted
        expr: changes(mcp_process_start_time_seconds[15m]) > 0
        labels:
          severity: info
        annotations:
          summary: '{{ $labels.pod }} restarted'
"#;

/// A sample as promtool's input notation knows it.
#[derive(Clone, Copy, PartialEq)]
enum Point {
    Value(f64),
    /// The staleness marker Prometheus writes when a scrape fails or a target goes away.
    Stale,
}

/// A scenario's series: text (`name{labels}`) -> (second, point), in time order.
type Series = BTreeMap<String, Vec<(i64, Point)>>;

/// A counter and how it grows.
struct Counter {
    value: f64,
    growth: Growth,
}

impl Counter {
    fn new(rng: &mut SplitMix64) -> Counter {
        Counter {
            value: if rng.chance(0.5) {
                0.0
            } else {
                rng.between(17, 900) as f64
            },
            growth: Growth::new(),
        }
    }

    /// One scrape interval's increment.
    fn step(&mut self, rng: &mut SplitMix64, fractional: bool) -> f64 {
        let inc = self.growth.increment(rng, fractional);
        self.value += inc;
        inc
    }
}

/// The latency histogram's upper bounds.
const LE: [&str; 5] = ["0.5", "1", "2", "5", "+Inf"];

/// One pod's process: its counters and gauges.
struct Process {
    pod: String,
    errors: [(&'static str, Counter); 2],
    ok: f64,
    failed: Counter,
    buckets: [f64; 5],
    slow: bool,
    slow_left: usize,
    memory_gib: f64,
    memory_target: f64,
    start_time: f64,
    fractional: bool,
}

impl Process {
    fn new(rng: &mut SplitMix64, pod: &str, t_s: i64, fractional: bool) -> Process {
        Process {
            pod: pod.to_owned(),
            errors: [
                ("anthropic_api_error", Counter::new(rng)),
                ("database_error", Counter::new(rng)),
            ],
            ok: rng.between(0, 5000) as f64,
            failed: Counter::new(rng),
            buckets: [0.0; 5],
            slow: false,
            slow_left: 0,
            memory_gib: 1.3 + 0.3 * rng.unit(),
            memory_target: 1.5,
            start_time: start_time(rng, t_s),
            fractional,
        }
    }

    /// A container restart at `t_s`: counters start again, a new start time.
    fn restart(&mut self, rng: &mut SplitMix64, t_s: i64) {
        for (_, c) in &mut self.errors {
            c.value = 0.0;
        }
        self.ok = 0.0;
        self.failed.value = 0.0;
        self.buckets = [0.0; 5];
        self.memory_gib = 0.2 + 0.2 * rng.unit();
        self.start_time = start_time(rng, t_s);
    }

    /// Advances by one scrape interval.
    fn advance(&mut self, rng: &mut SplitMix64) {
        for (_, c) in &mut self.errors {
            c.step(rng, self.fractional);
        }
        let ok = rng.between(14, 30) as f64;
        self.ok += ok;
        let failed = self.failed.step(rng, false);
        if self.slow_left == 0 {
            self.slow_left = rng.between(10, 50);
            self.slow = rng.chance(0.35);
            self.memory_target = 1.35 + 0.3 * rng.unit();
        }
        self.slow_left -= 1;
        // Requests into the histogram: cumulative buckets.
        let slow_share = if self.slow { 0.09 } else { 0.02 };
        for _ in 0..(ok + failed) as usize {
            let u = rng.unit();
            let bucket = if u < slow_share * 0.3 {
                4
            } else if u < slow_share {
                3
            } else if u < 0.35 {
                2
            } else if u < 0.65 {
                1
            } else {
                0
            };
            for b in &mut self.buckets[bucket..] {
                *b += 1.0;
            }
        }
        self.memory_gib +=
            0.15 * (self.memory_target - self.memory_gib) + 0.03 * (rng.unit() - 0.5);
        self.memory_gib = self.memory_gib.max(0.1);
    }

    /// What one scrape exposes.
    fn scrape(&self, rng: &mut SplitMix64) -> Vec<(String, f64)> {
        let pod = &self.pod;
        let common = format!("job=\"mcp-backend\", namespace=\"mcp-everything\", pod=\"{pod}\"");
        let mut out = Vec::new();
        for (error_type, c) in &self.errors {
            out.push((
                format!("mcp_generation_errors_total{{error_type=\"{error_type}\", {common}, source_type=\"github\"}}"),
                c.value,
            ));
        }
        for (code, v) in [("200", self.ok), ("500", self.failed.value)] {
            out.push((
                format!("mcp_api_requests_total{{endpoint=\"/api/generate\", {common}, method=\"POST\", status_code=\"{code}\"}}"),
                v,
            ));
        }
        for (le, v) in LE.iter().zip(self.buckets) {
            out.push((
                format!("mcp_api_latency_seconds_bucket{{{common}, le=\"{le}\"}}"),
                v,
            ));
        }
        // Now and then exactly the HighMemoryUsage threshold (1.5 GiB is not above it).
        let memory = if rng.chance(0.03) {
            1.5 * GIB
        } else {
            (self.memory_gib * GIB).round()
        };
        out.push((
            format!("mcp_process_resident_memory_bytes{{{common}}}"),
            memory,
        ));
        out.push((
            format!("mcp_process_start_time_seconds{{{common}}}"),
            self.start_time,
        ));
        out
    }

    /// The names of every series this process exposes (for staleness markers).
    fn series_names(&self, rng: &mut SplitMix64) -> Vec<String> {
        self.scrape(rng).into_iter().map(|(s, _)| s).collect()
    }
}

/// A process start time in seconds with centiseconds, a little before `t_s`.
fn start_time(rng: &mut SplitMix64, t_s: i64) -> f64 {
    let s = (BASE_MS / 1000 + t_s) as f64 - rng.between(1, 9) as f64;
    s + rng.between(0, 100) as f64 / 100.0
}

/// How a pod's series end.
#[derive(Clone, Copy)]
enum End {
    /// Scraped until after the last evaluation.
    Never,
    /// Deleted at this scrape: staleness markers, then nothing (a replacement may follow).
    Stale(i64),
    /// The export stops at this scrape without a marker: the 5-minute lookback applies.
    Cut(i64),
}

/// Scrapes one pod from scrape `first_k` until `end`, pushing into `series`.
fn run_pod(
    rng: &mut SplitMix64,
    series: &mut Series,
    pod: &str,
    first_k: i64,
    end: End,
    fractional: bool,
) {
    let phase = rng.between(0, 15) as i64;
    let last_k = match end {
        End::Never => DURATION_S / SCRAPE_S + 2,
        End::Stale(k) | End::Cut(k) => k,
    };
    let t_of = |k: i64, jitter: i64| (phase + k * SCRAPE_S + jitter).max(0);
    let mut p = Process::new(rng, pod, t_of(first_k, 0), fractional);
    let mut prev_t = -1;
    let mut down_left = 0usize;
    for k in first_k..last_k {
        let jitter = rng.between(0, 3) as i64 - 1;
        let t = t_of(k, jitter).max(prev_t + 1);
        p.advance(rng);
        if down_left > 0 {
            down_left -= 1;
            continue;
        }
        let restart = rng.chance(0.005);
        let failure = rng.chance(0.012);
        let outage = rng.chance(0.003);
        if restart || failure || outage {
            // The scrape fails: Prometheus writes staleness markers for all the target's series.
            for s in p.series_names(rng) {
                series.entry(s).or_default().push((t, Point::Stale));
            }
            prev_t = t;
            down_left = if outage {
                rng.between(4, 40)
            } else if restart {
                rng.between(1, 4)
            } else {
                0
            };
            if restart {
                p.restart(rng, t);
            }
            continue;
        }
        if rng.chance(0.02) {
            // A sample missing from the export.
            continue;
        }
        for (s, v) in p.scrape(rng) {
            series.entry(s).or_default().push((t, Point::Value(v)));
        }
        prev_t = t;
    }
    if let End::Stale(k) = end {
        let t = t_of(k, 0).max(prev_t + 1);
        for s in p.series_names(rng) {
            series.entry(s).or_default().push((t, Point::Stale));
        }
    }
}

/// One generated incident.
struct Scenario {
    name: String,
    series: Series,
    /// Evaluation interval in seconds (15, or 30 with `--eval-interval 30s`).
    interval_s: i64,
    /// The evaluation phase: promtool's time 0 is `BASE_MS + shift_s`.
    shift_s: i64,
}

impl Scenario {
    fn generate(index: u64) -> Scenario {
        let mut rng = SplitMix64(0x00C0_FFEE_0000 + index);
        let fractional = index % 4 == 1;
        let interval_s = if index % 4 == 3 { 30 } else { 15 };
        let shift_s = if index % 3 == 2 { 7 } else { 0 };
        let mut series = Series::new();
        let steps = DURATION_S / SCRAPE_S;
        let late = if index % 5 == 1 {
            rng.between(1, 60) as i64
        } else {
            0
        };
        run_pod(
            &mut rng,
            &mut series,
            "mcp-backend-7c9d5b8f6d-9wzlm",
            late,
            End::Never,
            fractional,
        );
        match index % 3 {
            0 => {
                let k = rng.between(100, steps as usize - 100) as i64;
                run_pod(
                    &mut rng,
                    &mut series,
                    "mcp-backend-7c9d5b8f6d-x2kqp",
                    0,
                    End::Stale(k),
                    fractional,
                );
                let next = k + rng.between(2, 10) as i64;
                run_pod(
                    &mut rng,
                    &mut series,
                    "mcp-backend-7c9d5b8f6d-k4n2p",
                    next,
                    End::Never,
                    fractional,
                );
            }
            1 => {
                let k = rng.between(200, steps as usize - 30) as i64;
                run_pod(
                    &mut rng,
                    &mut series,
                    "mcp-backend-7c9d5b8f6d-x2kqp",
                    0,
                    End::Cut(k),
                    fractional,
                );
            }
            _ => run_pod(
                &mut rng,
                &mut series,
                "mcp-backend-7c9d5b8f6d-x2kqp",
                0,
                End::Never,
                fractional,
            ),
        }
        Scenario {
            name: format!("scenario-{index:02}"),
            series,
            interval_s,
            shift_s,
        }
    }

    /// The series as `promtool tsdb dump` prints them (a staleness marker as `NaN`).
    fn tsdb_dump(&self) -> String {
        let mut out = String::new();
        for (s, points) in &self.series {
            let (name, labels) = s.split_once('{').expect("series text has labels");
            for &(t, p) in points {
                let v = match p {
                    Point::Value(v) => format!("{v}"),
                    Point::Stale => "NaN".to_owned(),
                };
                let ms = BASE_MS + 1000 * (t + self.shift_s);
                let _ = writeln!(out, "{{__name__=\"{name}\", {labels} {v} {ms}");
            }
        }
        out
    }

    /// promtool's `input_series`, one value per second (`_xN` for N seconds without a sample).
    fn input_series(&self) -> String {
        let mut y = String::new();
        for (s, points) in &self.series {
            let mut tokens = Vec::new();
            let mut next = 0;
            for &(t, p) in points {
                if t > next {
                    tokens.push(format!("_x{}", t - next));
                }
                tokens.push(match p {
                    Point::Value(v) => format!("{v:?}"),
                    Point::Stale => "stale".to_owned(),
                });
                next = t + 1;
            }
            let _ = writeln!(
                y,
                "      - series: '{s}'\n        values: '{}'",
                tokens.join(" ")
            );
        }
        y
    }
}

/// One alert of `report.json`, its times in promtool's seconds.
#[derive(Debug)]
struct Alert {
    alertname: String,
    labels: BTreeMap<String, String>,
    pending_at: i64,
    firing_at: Option<i64>,
    resolved_at: Option<i64>,
    last_active: i64,
    peak_at: i64,
    annotations: BTreeMap<String, String>,
}

impl Alert {
    /// `pending` or `firing` at evaluation `t`, or `None` when not active.
    fn state_at(&self, t: i64) -> Option<&'static str> {
        if t < self.pending_at {
            return None;
        }
        match self.firing_at {
            Some(f) if t >= f => self.resolved_at.is_none_or(|r| t < r).then_some("firing"),
            Some(_) => Some("pending"),
            None => (t <= self.last_active).then_some("pending"),
        }
    }
}

/// Reads the metric alerts from a `report.json`.
fn metric_alerts(report: &Value, shift_s: i64) -> Vec<Alert> {
    let secs = |v: &Value| -> Option<i64> {
        let t = chrono::DateTime::parse_from_rfc3339(v.as_str()?).expect("an RFC 3339 time");
        let ms = t.timestamp_millis() - BASE_MS - 1000 * shift_s;
        assert_eq!(ms % 1000, 0, "evaluation times fall on whole seconds");
        Some(ms / 1000)
    };
    let strings = |v: &Value| -> BTreeMap<String, String> {
        v.as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    };
    report["alerts"]
        .as_array()
        .expect("report.json has alerts")
        .iter()
        .filter(|a| a["source"] == "metrics")
        .map(|a| Alert {
            alertname: a["alertname"].as_str().expect("alertname").to_owned(),
            labels: strings(&a["labels"]),
            pending_at: secs(&a["pending_at"]).expect("pending_at"),
            firing_at: secs(&a["firing_at"]),
            resolved_at: secs(&a["resolved_at"]),
            last_active: secs(&a["last_active_at"]).expect("last_active_at"),
            peak_at: secs(&a["peak_at"]).expect("peak_at"),
            annotations: strings(&a["annotations"]),
        })
        .collect()
}

/// Runs the binary on the scenario's dump; returns its alerts and where its data ends (the last
/// sample, in promtool's seconds: the evaluations stop there).
fn run_postmortem(dir: &Path, scenario: &Scenario) -> (Vec<Alert>, i64) {
    let dump = dir.join(format!("{}.tsdb-dump.txt", scenario.name));
    std::fs::write(&dump, scenario.tsdb_dump()).expect("write the dump");
    let out = dir.join(format!("{}-report", scenario.name));
    let output = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .arg(&dump)
        .arg("--rules")
        .arg(dir.join("rules.yml"))
        .args(["--eval-interval", &format!("{}s", scenario.interval_s)])
        .args(["--eval-offset", &format!("{}s", scenario.shift_s)])
        .args(["--as-of", "2026-11-20T12:00:00Z", "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("the postmortem binary runs");
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "postmortem failed on {}: {}",
        scenario.name,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(
        &std::fs::read(out.join("report.json")).expect("postmortem wrote report.json"),
    )
    .expect("report.json is JSON");
    for rule in report["rules"].as_array().expect("report.json has rules") {
        assert!(
            rule["error"].is_null(),
            "rule {} was not evaluated: {}",
            rule["alertname"],
            rule["error"]
        );
    }
    let last = chrono::DateTime::parse_from_rfc3339(
        report["metrics"]["last"]
            .as_str()
            .expect("report.json says where the metrics end"),
    )
    .expect("an RFC 3339 time");
    let last_s = (last.timestamp_millis() - BASE_MS) / 1000 - scenario.shift_s;
    (metric_alerts(&report, scenario.shift_s), last_s)
}

/// Go's `%q`-free label text for promtool: `{a="b", c="d"}`.
fn labels_text(labels: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    parts.join(", ")
}

/// YAML single-quoted scalar.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// What the scenarios exercise, added up, so that the suite fails rather than silently testing
/// nothing if the generator changes.
#[derive(Default, Debug)]
struct Coverage {
    assertions: usize,
    annotation_checks: usize,
    /// Per rule: activations, and how many fired.
    activations: BTreeMap<String, (usize, usize)>,
    dropped_while_pending: usize,
    kept_firing: usize,
}

/// The promtool test file for a scenario, from the binary's alerts.
fn test_yaml(
    scenario: &Scenario,
    alerts: &[Alert],
    last_s: i64,
    coverage: &mut Coverage,
) -> String {
    let interval = scenario.interval_s;
    let mut y = format!(
        "rule_files:\n  - rules.yml\nevaluation_interval: {interval}s\ntests:\n  - interval: 1s\n    input_series:\n{}    promql_expr_test:\n",
        scenario.input_series()
    );
    let steps: Vec<i64> = (0..=DURATION_S.min(last_s))
        .step_by(interval as usize)
        .collect();
    for a in alerts {
        let entry = coverage.activations.entry(a.alertname.clone()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(a.firing_at.is_some());
        if a.firing_at.is_none() && a.last_active + interval <= DURATION_S {
            coverage.dropped_while_pending += 1;
        }
        if a.alertname == "GenerationErrorsNow"
            && a.resolved_at.is_some_and(|r| r > a.last_active + interval)
        {
            coverage.kept_firing += 1;
        }
    }
    let mut rule_tests = String::new();
    for &t in &steps {
        let mut samples = Vec::new();
        for a in alerts {
            let Some(state) = a.state_at(t) else { continue };
            let labels = labels_text(&a.labels);
            let name = &a.alertname;
            samples.push(format!(
                "          - labels: {}\n            value: 1\n",
                quoted(&format!("{{__name__=\"ALERTS\", alertname=\"{name}\", alertstate=\"{state}\", {labels}}}"))
            ));
            samples.push(format!(
                "          - labels: {}\n            value: {}\n",
                quoted(&format!(
                    "{{__name__=\"ALERTS_FOR_STATE\", alertname=\"{name}\", {labels}}}"
                )),
                a.pending_at
            ));
        }
        let _ = write!(
            y,
            "      - expr: '{{__name__=~\"ALERTS|ALERTS_FOR_STATE\"}}'\n        eval_time: {t}s\n        exp_samples:{}\n",
            if samples.is_empty() { " []" } else { "" }
        );
        for s in samples {
            y.push_str(&s);
        }
        coverage.assertions += 1;
        // Annotations: where one alert of a rule fires at its peak, the value its annotations
        // were expanded with is the value Prometheus expands them with at that evaluation.
        for a in alerts
            .iter()
            .filter(|a| a.peak_at == t && a.state_at(t) == Some("firing"))
        {
            let firing = alerts
                .iter()
                .filter(|b| b.alertname == a.alertname && b.state_at(t) == Some("firing"))
                .count();
            if firing != 1 {
                continue;
            }
            let _ = write!(
                rule_tests,
                "      - eval_time: {t}s\n        alertname: {}\n        exp_alerts:\n          - exp_labels:\n",
                a.alertname
            );
            for (k, v) in &a.labels {
                let _ = writeln!(rule_tests, "              {k}: {}", quoted(v));
            }
            if !a.annotations.is_empty() {
                rule_tests.push_str("            exp_annotations:\n");
                for (k, v) in &a.annotations {
                    let _ = writeln!(rule_tests, "              {k}: {}", quoted(v));
                }
            }
            coverage.annotation_checks += 1;
        }
    }
    if !rule_tests.is_empty() {
        y.push_str("    alert_rule_test:\n");
        y.push_str(&rule_tests);
    }
    y
}

/// A scratch folder under the system temp dir, unique to this run.
fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("postmortem-promtool-rules-{}", std::process::id()))
}

#[test]
fn rules_over_dumps_agree_with_promtool_at_every_evaluation_step() {
    if !promtool::available("rules-over-metrics") {
        return;
    }
    let dir = scratch_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch folder");
    std::fs::write(dir.join("rules.yml"), RULES).expect("write rules.yml");

    let mut coverage = Coverage::default();
    let files: Vec<PathBuf> = (0..SCENARIOS)
        .map(|i| {
            let scenario = Scenario::generate(i);
            let (alerts, last_s) = run_postmortem(&dir, &scenario);
            let path = dir.join(format!("{}.yml", scenario.name));
            std::fs::write(&path, test_yaml(&scenario, &alerts, last_s, &mut coverage))
                .expect("write a promtool test file");
            path
        })
        .collect();
    println!("{coverage:#?}");

    let failures = promtool::run_all(&files);
    if !failures.is_empty() {
        let mut report = String::new();
        for (file, output) in &failures {
            let _ = writeln!(report, "== {} ==\n{output}", file.display());
        }
        panic!(
            "promtool disagreed with postmortem on {} of {SCENARIOS} scenarios (files kept in {}):\n{report}",
            failures.len(),
            dir.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);

    // The scenarios must exercise every rule, firing, dropping and keep_firing_for.
    for rule in [
        "HighGenerationErrorRate",
        "GenerationErrorsNow",
        "GenerationErrorBurst",
        "ErrorCounterReset",
        "NoGenerationErrors",
        "HighApiErrorRate",
        "HighApiLatency",
        "ApiErrorSpike",
        "HighMemoryUsage",
        "MemoryHighOnAverage",
        "ProcessRestarted",
    ] {
        let (activations, fired) = coverage.activations.get(rule).copied().unwrap_or_default();
        assert!(
            activations >= 3 && fired >= 2,
            "rule {rule} is barely exercised: {activations} activations, {fired} fired"
        );
    }
    assert!(
        coverage.dropped_while_pending >= 20,
        "too few alerts dropped while pending"
    );
    assert!(
        coverage.kept_firing >= 5,
        "too few alerts held by keep_firing_for"
    );
    assert!(
        coverage.annotation_checks >= 30,
        "too few annotation checks"
    );
}
