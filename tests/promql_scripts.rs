//! Prometheus' own PromQL test scripts (`functions.test`, `staleness.test`: `load`, `eval
//! instant at`, `eval range`, ...) run through the evaluator `postmortem query` and the alert
//! rules use: v2.42.0's scripts in 2.x mode, `main`'s in 3.x mode (copies in
//! `tests/data/real-world/`). Cases outside the supported subset (native histograms,
//! `label_replace`, `holt_winters`, ...) are reported as unsupported; every case in the subset
//! must pass.

use postmortem::promql::testscript;
use postmortem::promql::PromCompat;

#[test]
fn prometheus_test_scripts_pass_in_the_mode_they_encode() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/real-world/prometheus__prometheus/promql");
    let scripts = [
        ("testdata/functions.test", PromCompat::V2, 100),
        ("testdata/staleness.test", PromCompat::V2, 14),
        ("promqltest/testdata/functions.test", PromCompat::V3, 150),
        ("promqltest/testdata/staleness.test", PromCompat::V3, 17),
    ];
    let mut failures = Vec::new();
    for (rel, compat, at_least) in scripts {
        let text = std::fs::read_to_string(dir.join(rel)).expect("script");
        let report = testscript::run(&text, compat);
        println!("{rel} ({compat:?}): {report}");
        for c in &report.cases {
            if let testscript::Outcome::Fail(why) = &c.outcome {
                failures.push(format!("{rel}:{}: {}: {why}", c.line, c.expr));
            }
        }
        for (line, why) in &report.setup_errors {
            failures.push(format!("{rel}:{line}: setup: {why}"));
        }
        assert!(
            report.passed() >= at_least,
            "{rel}: only {} cases passed",
            report.passed()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_modes_differ_where_prometheus_changed() {
    // 2.x scripts under 3.x semantics fail (closed vs left-open windows): the check is strict.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/real-world/prometheus__prometheus/promql");
    let text = std::fs::read_to_string(dir.join("testdata/staleness.test")).expect("script");
    assert!(testscript::run(&text, PromCompat::V3).failed() > 0);
}
