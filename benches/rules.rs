//! The alert-rule benchmark of issue 3: 10,000 series x 3 hours of 15 s samples of
//! `mcp_generation_errors_total`, the runbook's rule (`rate(...[5m]) > 0.1`, for 5m)
//! evaluated every 15 s. Times the PromQL range evaluation alone and the whole
//! reconstruction (`detect::rules::evaluate`: the expression, the pending/firing state
//! machine per series, and the chart's left-hand side), best of 3, with peak memory.
//! Target: under 1 s on the 2-core machine; memory proportional to the samples, not to
//! series x steps (shown by evaluating the same samples every 5 s as well).
//! Run with `cargo bench --bench rules`.

use std::time::Instant;

use postmortem::detect::plan::{EvalPlan, PlanSettings};
use postmortem::detect::rules::evaluate;
use postmortem::detect::{regression, replay, whatif};
use postmortem::ingest::rules;
use postmortem::model::labels::Labels;
use postmortem::model::metrics::{MetricSeries, Resolution, Sample};
use postmortem::promql::{parse, Engine, PromCompat, Storage};

const SERIES: usize = 10_000;
const STEP: i64 = 15_000;
const SAMPLES: i64 = 720;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn data(t0: i64) -> Vec<MetricSeries> {
    let mut state: u64 = 42;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    (0..SERIES)
        .map(|i| {
            let mut v = 0.0;
            let labels: Labels = [
                ("__name__", "mcp_generation_errors_total".to_owned()),
                (
                    "error_type",
                    [
                        "anthropic_api_error",
                        "database_error",
                        "github_api_error",
                        "validation_error",
                    ][i % 4]
                        .to_owned(),
                ),
                ("source_type", ["github", "upload"][i / 4 % 2].to_owned()),
                ("namespace", "mcp-everything".to_owned()),
                ("pod", format!("mcp-backend-7c9d5b8f6d-{i:05}")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            MetricSeries {
                labels,
                samples: (0..SAMPLES)
                    .map(|k| {
                        // Scrapes jittered by up to 40 ms; 0-2 errors per scrape on average 1.
                        v += (next() * 3.0).floor();
                        Sample {
                            t_ms: t0 + k * STEP + (next() * 40.0) as i64,
                            v,
                        }
                    })
                    .collect(),
                resolution: Resolution::Raw,
            }
        })
        .collect()
}

/// Resets the peak-RSS counter (Linux >= 4.0), so that each stage's peak is its own.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Best of 3 of the whole rule (expression, state machine per series, chart curve) evaluated
/// every `interval` ms: seconds, alert activations, and the peak memory while it ran.
fn whole_rule(series: &[MetricSeries], t0: i64, end: i64, interval: i64) -> (f64, usize, f64) {
    let rules = rules::builtin();
    let mut best = f64::MAX;
    let mut alerts = 0;
    let mut peak: f64 = 0.0;
    for _ in 0..3 {
        let input = series.to_vec();
        reset_peak();
        let t = Instant::now();
        let storage = Storage::new(input);
        let plan = EvalPlan::new(
            &PlanSettings {
                compat: PromCompat::V2,
                alertname: "HighGenerationErrorRate".into(),
                interval: Some(interval),
                offset: Some(0),
                since: Some(t0),
                until: Some(end),
            },
            &rules,
            Some(&storage),
        );
        let det = evaluate(&rules, storage, &plan, &[]);
        best = best.min(t.elapsed().as_secs_f64());
        alerts = det.all_instances().count();
        drop(det);
        peak = peak.max(peak_rss_mib());
    }
    (best, alerts, peak)
}

fn main() {
    let t0 = 1_795_165_200_000i64;
    let end = t0 + (SAMPLES - 1) * STEP;
    let before = peak_rss_mib();
    let series = data(t0);
    let loaded = peak_rss_mib();
    println!(
        "rules: {SERIES} series x {SAMPLES} samples ({} samples), the runbook's rule \
         (rate(...[5m]) > 0.1 for 5m); {before:.0} MiB at start, {loaded:.0} MiB with the \
         samples loaded (one copy; the rule is given a second)",
        SERIES as i64 * SAMPLES
    );
    for (interval, what) in [(STEP, "every 15s"), (STEP / 3, "every 5s (3x the steps)")] {
        let (secs, alerts, peak) = whole_rule(&series, t0, end, interval);
        println!(
            "  whole rule {what}: {} evaluations, {secs:.3} s (best of 3), {alerts} alert \
             activations, peak {peak:.0} MiB",
            (end - t0) / interval + 1
        );
    }
    // The expression alone over the whole range, as `postmortem query --start/--end` does:
    // its result holds every series at every step.
    let expr = parse("rate(mcp_generation_errors_total[5m]) > 0.1").expect("parses");
    let engine = Engine::new(PromCompat::V2);
    let storage = Storage::new(series.clone());
    let mut range_best = f64::MAX;
    reset_peak();
    for _ in 0..3 {
        let t = Instant::now();
        let out = engine
            .range(&storage, &expr, t0, end, STEP)
            .expect("evaluates");
        range_best = range_best.min(t.elapsed().as_secs_f64());
        assert!(!out.is_empty());
    }
    println!(
        "  the expression alone over the range (a query_range result): {range_best:.3} s (best \
         of 3), peak {:.0} MiB",
        peak_rss_mib()
    );
    what_if(&storage, t0, end);
}

/// Issue 16's target: the what-if table (the rule and its 10 standard alternatives) and the
/// promtool regression test over the same 10,000 series add under 3 s.
fn what_if(storage: &Storage, t0: i64, end: i64) {
    let rules = rules::builtin();
    let plan = EvalPlan::new(
        &PlanSettings {
            compat: PromCompat::V2,
            alertname: "HighGenerationErrorRate".into(),
            interval: Some(STEP),
            offset: Some(0),
            since: Some(t0),
            until: Some(end),
        },
        &rules,
        Some(storage),
    );
    let settings = postmortem::config::AlertSettings {
        name: "HighGenerationErrorRate".into(),
        threshold: 0.1,
        for_ms: 300_000,
        window_ms: 300_000,
        eval_interval: None,
        eval_offset: None,
        scrape_interval_ms: STEP,
        rate_mode: postmortem::model::alert::RateMode::Prometheus,
        compat: PromCompat::V2,
        dedup_window_ms: 250,
        what_if: Vec::new(),
    };
    let (mut best, mut rows, mut checks) = (f64::MAX, 0, 0);
    reset_peak();
    for _ in 0..3 {
        let t = Instant::now();
        let r = replay::replay(
            &rules,
            &postmortem::model::rules::RulesSource::Builtin,
            &settings,
            &plan,
            Some(storage),
            &Default::default(),
        )
        .expect("replays");
        let w = whatif::what_if(&r, &[]);
        let test = regression::regression_test(&r, &w.rows[0].alerts).expect("a test");
        best = best.min(t.elapsed().as_secs_f64());
        rows = w.rows.len();
        checks = test.checks.len();
    }
    println!(
        "  what-if ({rows} settings) and the promtool regression test ({checks} checked \
         evaluations): {best:.3} s (best of 3; target under 3 s), peak {:.0} MiB",
        peak_rss_mib()
    );
}
