//! The alert engine against Prometheus itself: random counter series (bursts around the 0.1/s
//! threshold, counter resets, missing scrapes, a series that stops) are run through
//! `promtool test rules` with the rule `rate(m[5m]) > 0.1` for 5m, and at every evaluation step
//! the `ALERTS` samples promtool computes must be exactly the pending/firing states our engine
//! computes (and `rate()` must agree to a millionth at sampled steps). promtool 2.42 (Debian's `prometheus`)
//! follows the 2.x semantics, so this checks `PromCompat::V2`. Skips, saying so, without promtool.

use std::fmt::Write as _;
use std::process::Command;

use postmortem::detect::engine::{eval_grid, rate, run_alert, ForSpec, PromCompat, Sample};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const STEP: i64 = 15_000;
const STEPS: usize = 480; // 2 hours of 15 s scrapes

/// A counter with `None` for missing scrapes.
fn random_series(seed: u64) -> Vec<Option<f64>> {
    let mut rng = Rng(seed);
    let mut v = 0.0;
    let mut out = Vec::with_capacity(STEPS);
    let stop_at = if seed % 5 == 0 {
        STEPS / 2 + (rng.next() % 100) as usize
    } else {
        STEPS
    };
    let mut rate_per_step = 0.0;
    for i in 0..STEPS {
        if i % 40 == 0 {
            // A new regime every 10 minutes: quiet, hovering near 0.1/s (1.5 per step), or a burst.
            rate_per_step = match rng.next() % 4 {
                0 => 0.1,
                1 | 2 => 1.2 + rng.unit() * 0.6,
                _ => 3.0 * rng.unit(),
            };
        }
        if i >= stop_at {
            out.push(None);
            continue;
        }
        v += (rate_per_step * (0.5 + rng.unit())).floor();
        if rng.next() % 97 == 0 {
            v = (rng.next() % 3) as f64; // counter reset (process restart)
        }
        out.push(if rng.next() % 23 == 0 { None } else { Some(v) });
    }
    out
}

fn expanding(series: &[Option<f64>]) -> String {
    series
        .iter()
        .map(|s| s.map_or("_".to_owned(), |v| format!("{v}")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn alert_states_match_promtool_at_every_step() {
    if Command::new("promtool").arg("--version").output().is_err() {
        eprintln!("promtool not found: install the Debian package `prometheus` to run the alert-semantics conformance suite; skipping");
        return;
    }
    let dir = std::env::temp_dir().join(format!("postmortem-promtool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n- name: g\n  interval: 15s\n  rules:\n  - alert: HighGenerationErrorRate\n    expr: rate(m[5m]) > 0.1\n    for: 5m\n",
    )
    .unwrap();
    let mut failures = Vec::new();
    for seed in 1..=24u64 {
        let raw = random_series(seed);
        let samples: Vec<Sample> = raw
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.map(|v| Sample {
                    t_ms: i as i64 * STEP,
                    v,
                })
            })
            .collect();
        let grid = eval_grid(0, (STEPS as i64 + 30) * STEP, STEP, 0);
        let rates: Vec<Option<f64>> = grid
            .iter()
            .map(|&t| rate(&samples, t, 300_000, PromCompat::V2))
            .collect();
        let episodes = run_alert(
            grid.iter()
                .zip(&rates)
                .map(|(&t, r)| (t, r.filter(|v| *v > 0.1))),
            ForSpec {
                for_ms: 300_000,
                keep_firing_for_ms: 0,
            },
        );
        let state_at = |t: i64| -> Option<&'static str> {
            episodes.iter().find_map(|e| {
                let end = e.resolved_at_ms.unwrap_or(if e.firing_at_ms.is_some() {
                    i64::MAX
                } else {
                    e.last_present_ms + 1
                });
                if t < e.active_at_ms || t >= end {
                    return None;
                }
                Some(if e.firing_at_ms.is_some_and(|f| t >= f) {
                    "firing"
                } else {
                    "pending"
                })
            })
        };
        let mut test = format!(
            "rule_files: [rules.yml]\nevaluation_interval: 15s\ntests:\n- interval: 15s\n  input_series:\n  - series: 'm'\n    values: '{}'\n  promql_expr_test:\n",
            expanding(&raw)
        );
        for (i, &t) in grid.iter().enumerate() {
            let secs = t / 1000;
            let _ = write!(
                test,
                "  - expr: ALERTS\n    eval_time: {secs}s\n    exp_samples:\n"
            );
            if let Some(state) = state_at(t) {
                let _ = writeln!(test, "    - labels: 'ALERTS{{alertname=\"HighGenerationErrorRate\", alertstate=\"{state}\"}}'\n      value: 1");
            }
            if i % 7 == 0 && i > 0 {
                // promtool compares floats bit for bit; compare rate() to a millionth.
                let _ = write!(test, "  - expr: round(rate(m[5m]) * 1000000)\n    eval_time: {secs}s\n    exp_samples:\n");
                if let Some(r) = rates[i] {
                    let _ = writeln!(
                        test,
                        "    - labels: '{{}}'\n      value: {}",
                        (r * 1e6 + 0.5).floor()
                    );
                }
            }
        }
        let path = dir.join(format!("test-{seed}.yml"));
        std::fs::write(&path, test).unwrap();
        let out = Command::new("promtool")
            .arg("test")
            .arg("rules")
            .arg(&path)
            .current_dir(&dir)
            .output()
            .unwrap();
        if !out.status.success() {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            failures.push(format!(
                "seed {seed}:\n{}",
                text.chars().take(3000).collect::<String>()
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "promtool disagrees with the engine:\n{}",
        failures.join("\n")
    );
}
