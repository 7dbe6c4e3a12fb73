//! `promtool-test/`: the incident as a `promtool test rules` regression test. `rules.yml` holds
//! the rules that were evaluated (serialised with serde-saphyr); `test.yml` the incident's
//! series in promtool's expanding notation and the alert's state at the decisive evaluations,
//! written line by line so that each check says in a comment which moment it pins (every
//! scalar is a JSON string, which YAML reads as a double-quoted scalar).

use std::fmt::Write as _;

use anyhow::{Context, Result};

use super::{Document, Renderer};
use crate::detect::regression::{Moment, RegressionTest};
use crate::detect::replay::Basis;
use crate::model::labels::{self, Labels};
use crate::model::rules::RuleSet;
use crate::model::time::{format_duration, format_short};
use crate::promql::PromCompat;

/// `promtool-test/rules.yml`.
pub struct RulesFile;
/// `promtool-test/test.yml`.
pub struct TestFile;

impl Renderer for RulesFile {
    fn file(&self) -> String {
        "promtool-test/rules.yml".into()
    }

    fn render(&self, doc: &Document) -> Result<Vec<u8>> {
        let Some(t) = &doc.regression else {
            return Ok(Vec::new());
        };
        rules_yaml(&t.rules).map(String::into_bytes)
    }
}

impl Renderer for TestFile {
    fn file(&self) -> String {
        "promtool-test/test.yml".into()
    }

    fn render(&self, doc: &Document) -> Result<Vec<u8>> {
        let Some(t) = &doc.regression else {
            return Ok(Vec::new());
        };
        Ok(test_yaml(t, &doc.report.tool.version).into_bytes())
    }
}

/// A Prometheus rules file of `set`.
pub fn rules_yaml(set: &RuleSet) -> Result<String> {
    set.to_yaml()
        .map_err(anyhow::Error::msg)
        .context("writing promtool-test/rules.yml")
}

/// A YAML scalar: a JSON string is a YAML double-quoted scalar.
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Text for a YAML comment: one line, no control characters.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn moment(m: Moment) -> &'static str {
    match m {
        Moment::BeforePending => "the evaluation before it goes pending",
        Moment::Pending => "goes pending",
        Moment::BeforeFiring => "still pending, the evaluation before it fires",
        Moment::Firing => "fires",
        Moment::BeforeResolved => "still firing, the evaluation before it resolves",
        Moment::Resolved => "resolved",
        Moment::Dropped => "dropped without firing",
        Moment::Peak => "the highest rate: nothing fires",
    }
}

/// The short labels that tell a series (pod, else all).
fn who(l: &Labels) -> String {
    match l.get("pod") {
        Some(p) => format!("pod {p}"),
        None if l.is_empty() => "the sum".into(),
        None => labels::plain(l),
    }
}

/// The test file.
pub fn test_yaml(t: &RegressionTest, version: &str) -> String {
    let mut o = String::new();
    let interval = format_duration(t.interval_ms);
    let basis = match t.basis {
        Basis::Metrics => "the metric dumps' samples",
        Basis::Logs => "the counters the error records make (no dump held the metric)",
    };
    let semantics = match t.compat {
        PromCompat::V2 => "Prometheus 2.x's rate() (promtool 2.x)",
        PromCompat::V3 => "Prometheus 3.x's rate() (promtool 3.x)",
    };
    let _ = writeln!(
        o,
        "# Regression test for {}: the incident, as postmortem {version} replayed it.",
        comment(&t.alertname)
    );
    let _ = writeln!(o, "# Run it from this folder: promtool test rules test.yml");
    let _ = writeln!(
        o,
        "# Series: {basis}, resampled onto the {interval} evaluation grid;"
    );
    let _ = writeln!(
        o,
        "# test time 0 is {} (every test evaluation is one of the real grid's).",
        format_short(t.origin_ms)
    );
    let _ = writeln!(
        o,
        "# Expected states computed with {semantics}. It fails when a change to the rule"
    );
    let _ = writeln!(o, "# changes how this incident would have been alerted on.");
    let _ = writeln!(
        o,
        "rule_files:\n  - rules.yml\nevaluation_interval: {interval}\ntests:"
    );
    let _ = writeln!(
        o,
        "  - name: {}",
        q(&format!(
            "{} during the incident of {}",
            t.alertname,
            format_short(t.origin_ms)
        ))
    );
    let _ = writeln!(o, "    interval: {interval}");
    let _ = writeln!(o, "    input_series:");
    for (l, values) in &t.input {
        let _ = writeln!(o, "      - series: {}", q(&labels::metric(l)));
        let _ = writeln!(o, "        values: {}", q(values));
    }
    let _ = writeln!(o, "    alert_rule_test:");
    for c in &t.checks {
        let why: Vec<String> = c
            .why
            .iter()
            .map(|(m, l)| format!("{} {}", who(l), moment(*m)))
            .collect();
        let _ = writeln!(
            o,
            "      # {} ({}): {}",
            format_short(t.origin_ms + c.t_ms),
            format_duration(c.t_ms),
            comment(&why.join("; "))
        );
        let _ = writeln!(o, "      - eval_time: {}", format_duration(c.t_ms));
        let _ = writeln!(o, "        alertname: {}", q(&t.alertname));
        if c.firing.is_empty() {
            let _ = writeln!(o, "        exp_alerts: []");
            continue;
        }
        let _ = writeln!(o, "        exp_alerts:");
        for a in &c.firing {
            let _ = writeln!(o, "          - exp_labels:");
            for (k, v) in &a.labels {
                let _ = writeln!(o, "              {}: {}", q(k), q(v));
            }
            if !a.annotations.is_empty() {
                let _ = writeln!(o, "            exp_annotations:");
                for (k, v) in &a.annotations {
                    let _ = writeln!(o, "              {}: {}", q(k), q(v));
                }
            }
        }
    }
    // Pending is not an alert_rule_test state; ALERTS{alertstate="pending"} shows it.
    let _ = writeln!(o, "    promql_expr_test:");
    let expr = format!(
        "ALERTS{{alertname={},alertstate=\"pending\"}}",
        labels::quote(&t.alertname)
    );
    for c in &t.checks {
        let _ = writeln!(o, "      - expr: {}", q(&expr));
        let _ = writeln!(o, "        eval_time: {}", format_duration(c.t_ms));
        if c.pending.is_empty() {
            let _ = writeln!(o, "        exp_samples: []");
            continue;
        }
        let _ = writeln!(o, "        exp_samples:");
        for l in &c.pending {
            let mut l = l.clone();
            l.insert("__name__".into(), "ALERTS".into());
            l.insert("alertname".into(), t.alertname.clone());
            l.insert("alertstate".into(), "pending".into());
            let _ = writeln!(o, "          - labels: {}", q(&labels::metric(&l)));
            let _ = writeln!(o, "            value: 1");
        }
    }
    o
}
