//! The what-if table, the rule findings and the regression test, in words.

use super::{round6, t};
use crate::correlate::Analysis;
use crate::detect::regression::{Moment, RegressionTest};
use crate::detect::replay::{Basis, NoReplay};
use crate::detect::whatif::{RowOrigin, RuleFinding, WhatIf, WhatIfRow};
use crate::model::labels;
use crate::model::time::format_duration;
use crate::model::Millis;
use crate::report::model::*;

const DAY_MS: f64 = 86_400_000.0;
/// The most alerts a row lists (`series_fired` counts them all).
const MAX_ALERTS: usize = 1000;

fn basis(b: Basis) -> &'static str {
    match b {
        Basis::Metrics => "metrics",
        Basis::Logs => "logs",
    }
}

/// The what-if section.
pub fn what_if_doc(a: &Analysis, alertname: &str) -> WhatIfDoc {
    let mut doc = WhatIfDoc {
        alertname: alertname.to_owned(),
        expr: None,
        basis: None,
        unavailable: None,
        from: None,
        to: None,
        incident: Vec::new(),
        quiet_hours: 0.0,
        rows: Vec::new(),
        findings: Vec::new(),
    };
    let w = match &a.what_if {
        Ok(w) => w,
        Err(why) => {
            doc.unavailable = Some(unavailable(why, alertname));
            return doc;
        }
    };
    let Some(real) = w.rows.first() else {
        return doc;
    };
    doc.expr = Some(row_expr(w, real));
    doc.basis = Some(basis(w.basis).to_owned());
    if let Some((from, to)) = w.span {
        doc.from = Some(t(from));
        doc.to = Some(t(to));
    }
    doc.incident = w
        .incident
        .iter()
        .map(|&(f, to)| Span {
            from: t(f),
            to: t(to),
        })
        .collect();
    doc.quiet_hours = round6(w.quiet_ms as f64 / 3_600_000.0);
    doc.rows = w.rows.iter().map(|r| row_doc(w, r, real)).collect();
    doc.findings = w.findings.iter().map(|f| finding(f, alertname)).collect();
    doc
}

fn unavailable(why: &NoReplay, alertname: &str) -> String {
    match why {
        NoReplay::NoRule(n) => format!("the rules evaluated have no alerting rule named {n}"),
        NoReplay::Shape(expr) => format!(
            "{alertname}'s expression `{expr}` is not of the form rate(SELECTOR[WINDOW]) > THRESHOLD (per series or summed), the shape the table varies"
        ),
        NoReplay::LokiMode => {
            "with --rate-mode loki the rates are LogQL's over the records, not a counter's".into()
        }
        NoReplay::NoSeries(sel) => {
            format!("neither the metric dumps nor the logs hold a series of {sel}")
        }
    }
}

/// The expression of a row: the rule's selector and comparison, the row's window,
/// aggregation and threshold.
fn row_expr(w: &WhatIf, r: &WhatIfRow) -> String {
    w.rate
        .with(r.setting.window_ms, r.setting.summed, r.setting.threshold)
}

fn row_doc(w: &WhatIf, r: &WhatIfRow, real: &WhatIfRow) -> WhatIfRowDoc {
    let s = r.setting;
    let minutes = r
        .first_firing
        .zip(real.first_firing)
        .map(|(x, y)| round6((x - y) as f64 / 60_000.0));
    let versus_real = match (r.first_firing, real.first_firing, minutes) {
        _ if r.origin == RowOrigin::Real => "the rule as it is".to_owned(),
        (Some(_), Some(_), Some(0.0)) => "fires at the same evaluation".to_owned(),
        (Some(_), Some(_), Some(m)) if m < 0.0 => format!("fires {} earlier", minutes_words(-m)),
        (Some(_), Some(_), Some(m)) => format!("fires {} later", minutes_words(m)),
        (Some(_), None, _) => "fires; the real rule never did".to_owned(),
        (None, Some(_), _) => "never fires".to_owned(),
        _ => "never fires (neither does the real rule)".to_owned(),
    };
    let quiet_days = w.quiet_ms as f64 / DAY_MS;
    // Each series' first activation that fired (the sum's, for a summed row).
    let mut seen = std::collections::HashSet::new();
    let fired: Vec<_> = r
        .alerts
        .iter()
        .filter(|x| x.firing_at.is_some() && seen.insert(x.series))
        .collect();
    let r0 = real.setting;
    let mut change = Vec::new();
    if s.for_ms != r0.for_ms {
        change.push(format!("for {}", format_duration(s.for_ms)));
    }
    if s.threshold != r0.threshold {
        change.push(format!("threshold {}", s.threshold));
    }
    if s.window_ms != r0.window_ms {
        change.push(format!("window {}", format_duration(s.window_ms)));
    }
    if s.summed != r0.summed {
        change.push(if s.summed { "summed" } else { "per series" }.into());
    }
    if s.keep_firing_for_ms != r0.keep_firing_for_ms {
        change.push(format!(
            "keep_firing_for {}",
            format_duration(s.keep_firing_for_ms)
        ));
    }
    let change = if change.is_empty() {
        "the rule".to_owned()
    } else {
        change.join(", ")
    };
    WhatIfRowDoc {
        change,
        origin: match r.origin {
            RowOrigin::Real => "real",
            RowOrigin::Default => "default",
            RowOrigin::Asked => "asked",
        }
        .into(),
        for_: format_duration(s.for_ms),
        threshold: s.threshold,
        window: format_duration(s.window_ms),
        aggregation: if s.summed { "sum" } else { "series" }.into(),
        keep_firing_for: format_duration(s.keep_firing_for_ms),
        expr: row_expr(w, r),
        fires: r.first_firing.is_some(),
        first_firing_at: r.first_firing.map(t),
        minutes_vs_real: minutes,
        versus_real,
        quiet_alarms: r.quiet_alarms,
        // Per day only over an hour of quiet or more: less says nothing about a day.
        alarms_per_day: (w.quiet_ms >= 3_600_000)
            .then(|| (r.quiet_alarms as f64 / quiet_days * 100.0).round() / 100.0),
        series_fired: fired.len(),
        alerts: fired
            .iter()
            .take(MAX_ALERTS)
            .map(|x| WhatIfAlert {
                labels: x
                    .series
                    .and_then(|i| w.series_labels.get(i as usize))
                    .cloned()
                    .unwrap_or_default(),
                pending_at: t(x.pending_at),
                firing_at: x.firing_at.map(t),
                resolved_at: x.resolved_at.map(t),
            })
            .collect(),
    }
}

fn minutes_words(m: f64) -> String {
    if m < 1.0 {
        format!("{}s", (m * 60.0).round())
    } else {
        format!("{} min", (m * 10.0).round() / 10.0)
    }
}

fn finding(f: &RuleFinding, alertname: &str) -> String {
    let d = |ms: Millis| format_duration(ms);
    match f {
        RuleFinding::ShortWindow { window_ms, scrape_ms } => format!(
            "{alertname}'s rate window of {} spans {:.1} scrapes of {}: with fewer than four, one missed or late scrape leaves rate() without the two samples it needs; use at least {} (four scrape intervals)",
            d(*window_ms),
            *window_ms as f64 / *scrape_ms as f64,
            d(*scrape_ms),
            d(4 * scrape_ms)
        ),
        RuleFinding::ForOffGrid {
            for_ms,
            interval_ms,
            effective_ms,
        } => format!(
            "{alertname}'s `for: {}` is not a multiple of its {} evaluation interval: it fires at the first evaluation at least {} after the condition starts, {} in effect",
            d(*for_ms),
            d(*interval_ms),
            d(*for_ms),
            d(*effective_ms)
        ),
        RuleFinding::ForTooLong {
            for_ms,
            held_ms,
            labels: l,
            from,
            to,
        } => format!(
            "{alertname}'s `for: {}` is longer than the failure lasted: the condition held for at most {} ({}, from {} to {}), so it could never fire",
            d(*for_ms),
            d(*held_ms),
            labels::plain(l),
            t(*from),
            t(*to)
        ),
        RuleFinding::OnlySumCrossed {
            threshold,
            peak,
            peak_at,
            firing_at,
            series_peak,
        } => format!(
            "{alertname} is per series and no single series crossed {threshold}/s{}, but their sum did (peak {:.3}/s at {}): summed, it would have fired at {}",
            series_peak.map_or(String::new(), |p| format!(" (highest {p:.3}/s)")),
            peak,
            t(*peak_at),
            t(*firing_at)
        ),
    }
}

fn moment(m: Moment) -> &'static str {
    match m {
        Moment::BeforePending => "before pending",
        Moment::Pending => "pending",
        Moment::BeforeFiring => "last pending evaluation",
        Moment::Firing => "fires",
        Moment::BeforeResolved => "last firing evaluation",
        Moment::Resolved => "resolved",
        Moment::Dropped => "dropped without firing",
        Moment::Peak => "highest rate, nothing fires",
    }
}

/// The regression test's summary.
pub fn regression_doc(r: &RegressionTest) -> RegressionDoc {
    let same = r.incident_firing == r.test_firing;
    let note = match (r.incident_firing, r.test_firing) {
        (Some(_), Some(_)) if same => format!(
            "The test's series are the incident's resampled onto the {} evaluation grid; {} first fires at {} in the test as in the incident",
            format_duration(r.interval_ms),
            r.alertname,
            t(r.test_firing.unwrap_or_default())
        ),
        (Some(i), Some(x)) => format!(
            "The test's series are the incident's resampled onto the {} evaluation grid; {} first fires at {} in the test, {} in the incident (resampling moves the samples by up to one interval)",
            format_duration(r.interval_ms),
            r.alertname,
            t(x),
            t(i)
        ),
        (None, None) => format!(
            "{} fired neither in the incident nor in the test; the test asserts it stays silent at the highest rate",
            r.alertname
        ),
        (i, x) => format!(
            "{} fires in the {} only: resampling onto the evaluation grid changed the outcome, check the test before keeping it",
            r.alertname,
            if i.is_some() && x.is_none() { "incident" } else { "test" }
        ),
    };
    RegressionDoc {
        files: vec![
            "promtool-test/rules.yml".into(),
            "promtool-test/test.yml".into(),
        ],
        command: "promtool test rules promtool-test/test.yml".into(),
        alertname: r.alertname.clone(),
        basis: basis(r.basis).into(),
        origin: t(r.origin_ms),
        interval: format_duration(r.interval_ms),
        length: format_duration(r.end_ms),
        series: r.input.len(),
        checks: r
            .checks
            .iter()
            .map(|c| RegressionCheck {
                eval_time: format_duration(c.t_ms),
                at: t(r.origin_ms + c.t_ms),
                why: c
                    .why
                    .iter()
                    .map(|(m, l)| format!("{} ({})", moment(*m), labels::plain(l)))
                    .collect::<Vec<_>>()
                    .join("; "),
                firing: c.firing.len(),
                pending: c.pending.len(),
            })
            .collect(),
        same_first_firing: same,
        note,
    }
}
