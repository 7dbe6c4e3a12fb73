//! Conformance of the alert engine with Prometheus' own rule engine, using `promtool test rules`
//! (Debian package `prometheus`) as the oracle.
//!
//! Random counter series on a 15 s grid over two hours (bursts hovering around the 0.1/s
//! threshold, counter resets, missed scrapes, gaps longer than the window, series that start
//! late or go stale) are run through `rate()` and `run_alert()`. For each series, one promtool test
//! file asserts, at EVERY evaluation step, that `ALERTS` and `ALERTS_FOR_STATE` of three rules
//! (`rate(m[5m]) > 0.1` with `for: 0`, `1m` and `5m`) hold exactly what the engine says, and that
//! `rate(m[5m])` and `increase(m[5m])` equal the engine's values bit for bit (promtool 2.42
//! compares floats exactly), which pins extrapolation down. promtool 2.42 follows Prometheus 2.x semantics: `PromCompat::V2`.
//! It predates `keep_firing_for`, which is therefore covered by the unit tests only.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

#[path = "common/growth.rs"]
mod growth;
#[path = "common/promtool.rs"]
mod promtool;
#[path = "common/rng.rs"]
mod rng;
use growth::Growth;
use rng::SplitMix64;

use postmortem::detect::alert::{eval_grid, run_alert, Episode, ForSpec};
use postmortem::model::metrics::Sample;
use postmortem::promql::{increase, rate, PromCompat};

/// Scrape and evaluation interval.
const STEP_MS: i64 = 15_000;
/// Evaluation steps after t = 0: two hours.
const STEPS: usize = 480;
/// The rules' `rate()` range.
const RANGE_MS: i64 = 300_000;
/// The rules' threshold.
const THRESHOLD: f64 = 0.1;
/// How many random series are generated.
const SERIES: u64 = 30;
/// The range functions whose values are checked at every step, by their PromQL expression.
type RangeFunction = fn(&[Sample], i64, i64, PromCompat) -> Option<f64>;
const RANGE_FUNCTIONS: [(&str, RangeFunction); 2] =
    [("rate(m[5m])", rate), ("increase(m[5m])", increase)];

/// The alerting rules under test: name and `for` (all share the expression).
const RULES: [(&str, i64); 3] = [
    ("RateHighNow", 0),
    ("RateHigh1m", 60_000),
    ("RateHigh5m", 300_000),
];

/// What a scrape at one grid step produced.
#[derive(Clone, Copy, PartialEq)]
enum Scrape {
    Value(f64),
    /// No sample (a missed scrape, or before the series existed): `_`.
    Missing,
    /// The staleness marker written when the target disappeared: `stale`.
    Stale,
}

/// One generated series: its name and its scrape at each grid step `0..=STEPS` (shorter when it
/// went stale).
struct Scenario {
    name: String,
    scrapes: Vec<Scrape>,
}

impl Scenario {
    fn generate(index: u64) -> Scenario {
        let mut rng = SplitMix64(0x5EED_0000 + index);
        let fractional = index % 4 == 3;
        let start = if index % 5 == 1 {
            rng.between(1, 120)
        } else {
            0
        };
        let stop = (index % 6 == 2).then(|| rng.between(200, 440));
        let mut value = if rng.chance(0.5) {
            0.0
        } else {
            (1000.0 * rng.unit()).round() + 17.0
        };
        let mut growth = Growth::new();
        let mut gap_left = 0;
        let mut scrapes = Vec::with_capacity(STEPS + 1);
        for step in 0..=STEPS {
            if step < start {
                scrapes.push(Scrape::Missing);
                continue;
            }
            match stop {
                Some(stop) if step == stop => {
                    scrapes.push(Scrape::Stale);
                    break;
                }
                _ => {}
            }
            let increment = growth.increment(&mut rng, fractional);
            value += increment;
            if rng.chance(0.006) {
                // The process restarted: the counter starts again from what happened since.
                value = increment;
            }
            if gap_left == 0 && rng.chance(0.004) {
                // A scrape outage, sometimes longer than the 5m window.
                gap_left = rng.between(4, 40);
            }
            if gap_left > 0 {
                gap_left -= 1;
                scrapes.push(Scrape::Missing);
            } else if rng.chance(0.03) {
                scrapes.push(Scrape::Missing);
            } else {
                scrapes.push(Scrape::Value(value));
            }
        }
        Scenario {
            name: format!("s{index:02}"),
            scrapes,
        }
    }

    /// The samples a range selector sees (staleness markers are not samples for `rate()`).
    fn samples(&self) -> Vec<Sample> {
        (0..)
            .zip(&self.scrapes)
            .filter_map(|(step, scrape)| match scrape {
                Scrape::Value(v) => Some(Sample {
                    t_ms: step * STEP_MS,
                    v: *v,
                }),
                Scrape::Missing | Scrape::Stale => None,
            })
            .collect()
    }

    /// The series' values in promtool's expanding notation.
    fn promtool_values(&self) -> String {
        let tokens: Vec<String> = self
            .scrapes
            .iter()
            .map(|scrape| match scrape {
                Scrape::Value(v) => format!("{v:?}"),
                Scrape::Missing => "_".to_owned(),
                Scrape::Stale => "stale".to_owned(),
            })
            .collect();
        tokens.join(" ")
    }
}

/// What `ALERTS` says about one alert at one evaluation.
#[derive(Clone, Copy)]
enum AlertState {
    Pending,
    Firing,
}

/// The state of the alert at evaluation `t_ms` according to the episodes, and its `active_at`.
/// An alert that was dropped or resolved at `t_ms` has no `ALERTS` sample at `t_ms`.
fn state_at(episodes: &[Episode], t_ms: i64) -> Option<(AlertState, i64)> {
    episodes.iter().find_map(|e| {
        if t_ms < e.active_at_ms {
            return None;
        }
        let state = match e.firing_at_ms {
            None if t_ms <= e.last_present_ms => AlertState::Pending,
            None => return None,
            Some(firing_at) if t_ms < firing_at => AlertState::Pending,
            Some(_) if e.resolved_at_ms.is_some_and(|r| t_ms >= r) => return None,
            Some(_) => AlertState::Firing,
        };
        Some((state, e.active_at_ms))
    })
}

/// Duration in promtool's notation.
fn duration(ms: i64) -> String {
    format!("{}s", ms / 1000)
}

/// The rules file shared by every test file.
fn rules_yaml() -> String {
    let mut y = String::from("groups:\n  - name: conformance\n    interval: 15s\n    rules:\n");
    for (alert, for_ms) in RULES {
        let _ = write!(
            y,
            "      - alert: {alert}\n        expr: rate(m[5m]) > {THRESHOLD:?}\n        for: {}\n        labels:\n          severity: critical\n",
            duration(for_ms)
        );
    }
    y
}

/// Appends one `promql_expr_test` to `y`; `samples` are `(labels, value)`.
fn push_expr_test(y: &mut String, expr: &str, t_ms: i64, samples: &[(String, f64)]) {
    let _ = writeln!(
        y,
        "      - expr: '{expr}'\n        eval_time: {}",
        duration(t_ms)
    );
    if samples.is_empty() {
        y.push_str("        exp_samples: []\n");
        return;
    }
    y.push_str("        exp_samples:\n");
    for (labels, value) in samples {
        let _ = writeln!(
            y,
            "          - labels: '{labels}'\n            value: {value:?}"
        );
    }
}

/// What the generated series exercise, added up over all of them, so that the suite fails rather
/// than silently testing nothing interesting if the generator changes.
#[derive(Default)]
struct Coverage {
    /// Assertions written for promtool.
    assertions: usize,
    /// Activations that fired.
    fired: usize,
    /// Firing activations that resolved.
    resolved: usize,
    /// Activations dropped while pending.
    dropped_while_pending: usize,
    /// Counter resets among the samples.
    resets: usize,
    /// Evaluations without a rate (fewer than 2 samples in the window) after the first sample.
    no_data_steps: usize,
    /// Evaluations whose rate is within 1e-12 of the threshold (decided by the last bits).
    on_threshold_steps: usize,
    /// Series ending with a staleness marker.
    stale_series: usize,
}

impl Coverage {
    fn add(&mut self, other: &Coverage) {
        self.assertions += other.assertions;
        self.fired += other.fired;
        self.resolved += other.resolved;
        self.dropped_while_pending += other.dropped_while_pending;
        self.resets += other.resets;
        self.no_data_steps += other.no_data_steps;
        self.on_threshold_steps += other.on_threshold_steps;
        self.stale_series += other.stale_series;
    }
}

/// The promtool test file for one series, with the expectations computed by the engine, and what
/// it covers.
fn test_yaml(scenario: &Scenario) -> (String, Coverage) {
    let samples = scenario.samples();
    let grid = eval_grid(0, STEPS as i64 * STEP_MS, STEP_MS, 0);
    let rates: Vec<Option<f64>> = grid
        .iter()
        .map(|&t| rate(&samples, t, RANGE_MS, PromCompat::V2))
        .collect();
    let episodes: Vec<Vec<Episode>> = RULES
        .iter()
        .map(|&(_, for_ms)| {
            let evals = grid
                .iter()
                .zip(&rates)
                .map(|(&t, r)| (t, r.filter(|v| *v > THRESHOLD)));
            let spec = ForSpec {
                for_ms,
                keep_firing_for_ms: 0,
            };
            run_alert(evals, spec)
        })
        .collect();

    let series = &scenario.name;
    let mut y = format!(
        "rule_files:\n  - rules.yml\nevaluation_interval: 15s\ntests:\n  - interval: 15s\n    input_series:\n      - series: 'm{{series=\"{series}\"}}'\n        values: '{}'\n    promql_expr_test:\n",
        scenario.promtool_values()
    );
    let last_t = grid.last().copied();
    let mut coverage = Coverage {
        resets: samples.windows(2).filter(|p| p[1].v < p[0].v).count(),
        no_data_steps: grid
            .iter()
            .zip(&rates)
            .filter(|(&t, r)| r.is_none() && samples.first().is_some_and(|s| s.t_ms <= t))
            .count(),
        on_threshold_steps: rates
            .iter()
            .flatten()
            .filter(|v| (*v - THRESHOLD).abs() < 1e-12)
            .count(),
        stale_series: usize::from(scenario.scrapes.last() == Some(&Scrape::Stale)),
        ..Coverage::default()
    };
    for e in episodes.iter().flatten() {
        match (e.firing_at_ms, e.resolved_at_ms) {
            (Some(_), Some(_)) => {
                coverage.fired += 1;
                coverage.resolved += 1;
            }
            (Some(_), None) => coverage.fired += 1,
            (None, _) if Some(e.last_present_ms) != last_t => coverage.dropped_while_pending += 1,
            (None, _) => {}
        }
    }
    for &t in &grid {
        let mut expected = Vec::new();
        for ((alert, _), episodes) in RULES.iter().zip(&episodes) {
            if let Some((state, active_at_ms)) = state_at(episodes, t) {
                let state = match state {
                    AlertState::Pending => "pending",
                    AlertState::Firing => "firing",
                };
                let labels =
                    format!("alertname=\"{alert}\", series=\"{series}\", severity=\"critical\"");
                expected.push((
                    format!("{{__name__=\"ALERTS\", {labels}, alertstate=\"{state}\"}}"),
                    1.0,
                ));
                expected.push((
                    format!("{{__name__=\"ALERTS_FOR_STATE\", {labels}}}"),
                    (active_at_ms / 1000) as f64,
                ));
            }
        }
        push_expr_test(
            &mut y,
            "{__name__=~\"ALERTS|ALERTS_FOR_STATE\"}",
            t,
            &expected,
        );
        coverage.assertions += 1;
        for (expr, function) in RANGE_FUNCTIONS {
            let expected: Vec<(String, f64)> = function(&samples, t, RANGE_MS, PromCompat::V2)
                .map(|v| (format!("{{series=\"{series}\"}}"), v))
                .into_iter()
                .collect();
            push_expr_test(&mut y, expr, t, &expected);
            coverage.assertions += 1;
        }
    }
    (y, coverage)
}

/// A scratch folder under the system temp dir, unique to this run.
fn scratch_dir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "postmortem-promtool-{}-{nanos}",
        std::process::id()
    ))
}

/// The generated series, and what they cover together.
fn generate_all() -> (Vec<(String, String)>, Coverage) {
    let mut coverage = Coverage::default();
    let files = (0..SERIES)
        .map(|index| {
            let scenario = Scenario::generate(index);
            let (yaml, covered) = test_yaml(&scenario);
            coverage.add(&covered);
            (scenario.name, yaml)
        })
        .collect();
    (files, coverage)
}

#[test]
fn generated_series_cover_the_interesting_cases() {
    let (_, c) = generate_all();
    println!(
        "fired {}, resolved {}, dropped while pending {}, resets {}, steps without data {}, \
         steps on the threshold {}, stale series {}",
        c.fired,
        c.resolved,
        c.dropped_while_pending,
        c.resets,
        c.no_data_steps,
        c.on_threshold_steps,
        c.stale_series
    );
    assert!(c.fired >= 100 && c.resolved >= 100, "too few firing alerts");
    assert!(
        c.dropped_while_pending >= 50,
        "too few pending alerts dropped"
    );
    assert!(c.resets >= 20, "too few counter resets");
    assert!(c.no_data_steps >= 200, "too few evaluations without data");
    assert!(
        c.on_threshold_steps >= 100,
        "too few rates on the threshold"
    );
    assert!(c.stale_series >= 3, "too few series going stale");
}

#[test]
fn engine_agrees_with_promtool_at_every_evaluation_step() {
    if !promtool::available("alert-semantics") {
        return;
    }

    let dir = scratch_dir();
    std::fs::create_dir_all(&dir).expect("create the scratch folder");
    std::fs::write(dir.join("rules.yml"), rules_yaml()).expect("write rules.yml");
    let (tests, coverage) = generate_all();
    let files: Vec<PathBuf> = tests
        .iter()
        .map(|(name, yaml)| {
            let path = dir.join(format!("{name}.yml"));
            std::fs::write(&path, yaml).expect("write a promtool test file");
            path
        })
        .collect();

    let failures = promtool::run_all(&files);

    if failures.is_empty() {
        // Best effort: a leftover folder in the temp dir is harmless.
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "promtool agreed with the engine on {SERIES} series: {} assertions",
            coverage.assertions
        );
        return;
    }
    let mut report = String::new();
    for (file, output) in &failures {
        let _ = writeln!(report, "== {} ==\n{output}", file.display());
    }
    panic!(
        "promtool disagreed with the engine on {} of {SERIES} series (files kept in {}):\n{report}",
        failures.len(),
        dir.display()
    );
}
