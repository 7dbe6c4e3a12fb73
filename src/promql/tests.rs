//! Tests of the evaluator as a whole: the semantics the alert rules depend on (lookback and
//! window bounds in 2.x and 3.x, staleness, matching, aggregation, `histogram_quantile`), the
//! conformance run of Prometheus' own test scripts, a parser fuzz, and the (ignored) alert
//! benchmark: `cargo test --release -- --ignored --nocapture bench_alert_rule`.

use super::*;
use crate::model::metrics::stale_nan;

use crate::model::labels::from_pairs as labels;

fn series(pairs: &[(&str, &str)], step_ms: i64, values: &[f64]) -> MetricSeries {
    MetricSeries {
        labels: labels(pairs),
        samples: (0..)
            .zip(values)
            .map(|(i, &v)| Sample {
                t_ms: i * step_ms,
                v,
            })
            .collect(),
        resolution: Resolution::Raw,
    }
}

fn vector(v: Value) -> Vec<(Labels, f64)> {
    match v {
        Value::Vector(v) => v,
        other => panic!("expected a vector, got {other:?}"),
    }
}

fn eval(st: &Storage, compat: PromCompat, q: &str, t_ms: i64) -> Vec<(Labels, f64)> {
    let e = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    vector(Engine::new(compat).instant(st, &e, t_ms).unwrap())
}

#[test]
fn lookback_is_closed_in_v2_and_left_open_in_v3() {
    let st = Storage::new(vec![series(&[("__name__", "m")], 30_000, &[1.0, 2.0])]);
    // The last sample is at 30 s; 5 minutes later it is still there in 2.x only.
    assert_eq!(eval(&st, PromCompat::V2, "m", 330_000).len(), 1);
    assert_eq!(eval(&st, PromCompat::V3, "m", 330_000).len(), 0);
    assert_eq!(eval(&st, PromCompat::V3, "m", 329_999).len(), 1);
}

#[test]
fn a_stale_marker_ends_the_series_and_range_vectors_skip_it() {
    let st = Storage::new(vec![series(
        &[("__name__", "m")],
        10_000,
        &[0.0, 1.0, stale_nan(), 2.0],
    )]);
    for compat in [PromCompat::V2, PromCompat::V3] {
        assert!(eval(&st, compat, "m", 20_000).is_empty());
        assert_eq!(eval(&st, compat, "m", 30_000)[0].1, 2.0);
        assert_eq!(
            eval(&st, compat, "count_over_time(m[1m])", 30_000)[0].1,
            3.0
        );
    }
}

#[test]
fn rate_windows_follow_the_alert_engine() {
    // 15 s counter, 41 samples: 2.x sees 21 in [t-5m, t], 3.x 20.
    let values: Vec<f64> = (0..41).map(|i| f64::from(i) * 1.5).collect();
    let st = Storage::new(vec![series(
        &[("__name__", "c"), ("a", "1")],
        15_000,
        &values,
    )]);
    let t = 600_000;
    for compat in [PromCompat::V2, PromCompat::V3] {
        let got = eval(&st, compat, "rate(c[5m])", t);
        let want = crate::promql::rate(&st.series()[0].samples, t, 300_000, compat);
        assert_eq!(got, vec![(labels(&[("a", "1")]), want.unwrap())]);
        // The threshold keeps the left-hand value and drops the name already dropped by rate.
        let alert = eval(&st, compat, "rate(c[5m]) > 0.09", t);
        assert_eq!(alert.len(), 1);
    }
}

#[test]
fn range_evaluation_matches_instant_evaluation_at_every_step() {
    let values: Vec<f64> = (0..200)
        .map(|i| f64::from(i * 7 % 13) + f64::from(i))
        .collect();
    let st = Storage::new(vec![
        series(&[("__name__", "c"), ("a", "1")], 15_000, &values),
        series(&[("__name__", "c"), ("a", "2")], 20_000, &values[..120]),
    ]);
    let queries = [
        "rate(c[5m]) > 0.1",
        "sum(rate(c[1m])) by (a)",
        "increase(c[2m] offset 1m)",
        "c / on(a) c",
        "histogram_quantile(0.5, sum by (le) (label_free_dummy))",
        "max_over_time(c[3m]) - min_over_time(c[3m])",
        "changes(c[10m]) + resets(c[10m])",
        "c and c > 50",
        "scalar(sum(c)) * 2",
    ];
    for compat in [PromCompat::V2, PromCompat::V3] {
        let engine = Engine::new(compat);
        for q in queries {
            let e = parse(q).unwrap();
            let range = engine.range(&st, &e, 0, 3_000_000, 45_000).unwrap();
            for k in 0..=(3_000_000 / 45_000) {
                let t = k * 45_000;
                let mut inst: Vec<(Labels, f64)> = match engine.instant(&st, &e, t).unwrap() {
                    Value::Vector(v) => v,
                    Value::Scalar(x) => vec![(Labels::new(), x)],
                    other => panic!("{other:?}"),
                };
                inst.sort_by(|a, b| a.0.cmp(&b.0));
                let from_range: Vec<(Labels, f64)> = range
                    .iter()
                    .filter_map(|s| {
                        s.samples
                            .iter()
                            .find(|p| p.t_ms == t)
                            .map(|p| (s.labels.clone(), p.v))
                    })
                    .collect();
                let bits = |v: Vec<(Labels, f64)>| -> Vec<(Labels, u64)> {
                    v.into_iter().map(|(l, x)| (l, x.to_bits())).collect()
                };
                assert_eq!(bits(inst), bits(from_range), "{q} at {t} ({compat:?})");
            }
        }
    }
}

#[test]
fn vector_matching_and_group_left() {
    let st = Storage::new(vec![
        series(
            &[("__name__", "req"), ("pod", "a"), ("code", "500")],
            60_000,
            &[10.0],
        ),
        series(
            &[("__name__", "req"), ("pod", "a"), ("code", "200")],
            60_000,
            &[30.0],
        ),
        series(
            &[("__name__", "info"), ("pod", "a"), ("node", "n1")],
            60_000,
            &[1.0],
        ),
    ]);
    let v = eval(
        &st,
        PromCompat::V2,
        "req * on(pod) group_left(node) info",
        0,
    );
    assert_eq!(v.len(), 2);
    assert!(v.iter().all(
        |(l, _)| l.get("node").map(String::as_str) == Some("n1") && !l.contains_key("__name__")
    ));
    // One-to-one without group_left: two "many" elements for one partner is an error.
    let e = parse("req * on(pod) info").unwrap();
    let err = Engine::default().instant(&st, &e, 0).unwrap_err();
    assert!(
        err.to_string()
            .contains("many-to-one matching must be explicit"),
        "{err}"
    );
    // Comparison with bool keeps every element, as 0/1, without the name.
    let v = eval(&st, PromCompat::V2, "req > bool 20", 0);
    assert_eq!(v.len(), 2);
    assert!(v.iter().all(|(l, _)| !l.contains_key("__name__")));
    // Division of aggregates, as the HighApiErrorRate rule does.
    let v = eval(
        &st,
        PromCompat::V2,
        r#"sum(req{code=~"5.."}) / sum(req)"#,
        0,
    );
    assert_eq!(v, vec![(Labels::new(), 0.25)]);
    // Dropping the name makes two series collide.
    let e = parse("abs({pod=\"a\", __name__=~\"req|info\", code=\"\"})").unwrap();
    assert!(Engine::default().instant(&st, &e, 0).is_ok());
    let e = parse("-{__name__=~\"req|info\"} * 0 + on() group_left vector(1)").unwrap();
    assert!(Engine::default().instant(&st, &e, 0).is_ok());
}

#[test]
fn histogram_quantile_groups_by_le() {
    let mut s = Vec::new();
    for (le, v) in [("0.5", 5.0), ("1", 8.0), ("+Inf", 10.0)] {
        s.push(series(
            &[("__name__", "lat_bucket"), ("le", le), ("pod", "a")],
            60_000,
            &[v],
        ));
    }
    let st = Storage::new(s);
    let v = eval(
        &st,
        PromCompat::V2,
        "histogram_quantile(0.9, sum(lat_bucket) by (le))",
        0,
    );
    // rank 9 falls in the +Inf bucket: the second-highest bound.
    assert_eq!(v, vec![(Labels::new(), 1.0)]);
    let v = eval(
        &st,
        PromCompat::V2,
        "histogram_quantile(0.5, lat_bucket)",
        0,
    );
    assert_eq!(v, vec![(labels(&[("pod", "a")]), 0.5)]);
}

#[test]
fn aggregation_by_and_without() {
    let st = Storage::new(vec![
        series(
            &[("__name__", "e"), ("t", "x"), ("pod", "1")],
            60_000,
            &[1.0],
        ),
        series(
            &[("__name__", "e"), ("t", "x"), ("pod", "2")],
            60_000,
            &[2.0],
        ),
        series(
            &[("__name__", "e"), ("t", "y"), ("pod", "1")],
            60_000,
            &[4.0],
        ),
    ]);
    let mut v = eval(&st, PromCompat::V2, "sum(e) by (t)", 0);
    v.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        v,
        vec![(labels(&[("t", "x")]), 3.0), (labels(&[("t", "y")]), 4.0)]
    );
    let v = eval(&st, PromCompat::V3, "count without (pod) (e)", 0);
    assert_eq!(v.len(), 2);
    let v = eval(&st, PromCompat::V2, "topk(1, e)", 0);
    assert_eq!(v[0].1, 4.0);
    assert_eq!(v[0].0.get("__name__").map(String::as_str), Some("e"));
}

#[test]
fn formats_the_way_promtool_does() {
    let st = Storage::new(vec![series(
        &[("__name__", "up"), ("job", "a")],
        1_000,
        &[1.0],
    )]);
    let e = parse("up").unwrap();
    let v = Engine::default().instant(&st, &e, 0).unwrap();
    assert_eq!(format_promtool(&v, 0), "up{job=\"a\"} => 1 @[0]");
    let e = parse("up[1m]").unwrap();
    let v = Engine::default().instant(&st, &e, 0).unwrap();
    assert_eq!(format_promtool(&v, 0), "up{job=\"a\"} =>\n1 @[0]");
}

#[test]
fn random_garbage_never_panics() {
    // A small deterministic generator (no dependency).
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let atoms = [
        "rate(",
        "sum",
        " by (le)",
        "x",
        "{a=~\"b.*\"}",
        "[5m]",
        ")",
        "(",
        " offset 1m",
        " @ 10",
        "+",
        "/",
        " > bool ",
        "1e3",
        "NaN",
        "histogram_quantile(",
        ",",
        "[5m:1m]",
        "\"",
        "{",
        "}",
        " and on(a) ",
        " group_left(b) ",
        "-",
        "^",
        "changes(",
        "clamp(",
        "topk(2,",
        "vector(",
        "time()",
        "quantile(0.5,",
        "ignoring(x)",
        "\u{e9}",
        "\\",
        "=",
        "!~",
        "`",
        "'",
    ];
    let st = Storage::new(vec![
        series(
            &[("__name__", "x"), ("a", "b")],
            15_000,
            &[1.0, 2.0, 0.0, 5.0],
        ),
        series(&[("__name__", "x"), ("le", "+Inf")], 15_000, &[3.0, 4.0]),
    ]);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let n = 1 + next() % 12;
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(atoms[(next() % atoms.len() as u64) as usize]);
        }
        if let Ok(e) = parse(&s) {
            parsed += 1;
            for compat in [PromCompat::V2, PromCompat::V3] {
                let engine = Engine::new(compat);
                let _ = engine.instant(&st, &e, 30_000);
                let _ = engine.range(&st, &e, 0, 60_000, 15_000);
            }
        }
        // Raw bytes too.
        let bytes: Vec<u8> = (0..(next() % 40)).map(|_| (next() % 128) as u8).collect();
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }
    assert!(parsed > 100, "only {parsed} random expressions parsed");
}
