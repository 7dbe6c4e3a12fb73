//! `report.md`: the incident report for a post-incident review. Sections: verdict, alert
//! timeline (with the rate chart), merged timeline, errors by type (with the pie), top messages
//! per cause, remediation with concrete commands, all series, and data quality. The HTML page
//! is this Markdown too, its charts linked by key so they can be inlined.

use std::collections::BTreeMap;
use std::fmt::Write;

use anyhow::Result;

use super::{Document, Renderer};
use crate::correlate::verdict::Outcome;
use crate::model::{AlertSource, InputKind, SkipReason};
use crate::report::model::*;

pub struct Markdown;

impl Renderer for Markdown {
    fn file(&self) -> String {
        "report.md".into()
    }

    fn render(&self, doc: &Document) -> Result<Vec<u8>> {
        Ok(render(&doc.report, &|key| chart_path(&doc.report, key)))
    }
}

/// Where a chart's image is, by its key (`None`: no image to show).
pub type ChartLink<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// Input text as Markdown prose or a table cell: one line, and every character that could
/// start a link, an image, HTML, a code span or a table column is escaped, so text from the
/// input shows as itself and cannot change the document's structure.
pub(crate) fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.chars().enumerate() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '[' | ']' | '<' | '>' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Input text as prose (the same escaping as a cell).
fn text(s: &str) -> String {
    cell(s)
}

/// Inline code that shows any input as itself: fenced by one more backtick than the longest
/// run inside, padded when it starts or ends with one, one line, table pipes escaped.
fn code(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let s = crate::messages::escape_controls(&one_line, false).replace('|', "\\|");
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    if s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') || s.is_empty() {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// The longest run of `c` in `s`.
fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in s.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// A fenced `bash` block, indented for a list item, its fence longer than any backtick run
/// in the command.
fn bash_block(command: &str, indent: &str) -> String {
    let fence = "`".repeat(longest_run(command, '`').max(2) + 1);
    let mut out = format!("{indent}{fence}bash\n");
    for line in command.lines() {
        out.push_str(indent);
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(indent);
    out.push_str(&fence);
    out
}

/// An RFC 3339 time as the timeline shows it: `09:48:34` on `day`, else with its date.
fn short_time(t: &str, day: &str) -> String {
    match (t.get(..10), t.get(11..19)) {
        (Some(d), Some(clock)) if d == day => clock.to_owned(),
        (Some(d), Some(clock)) => format!("{d} {clock}"),
        _ => t.to_owned(),
    }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "–".into())
}

fn labels(l: &std::collections::BTreeMap<String, String>) -> String {
    if l.is_empty() {
        return "(total over all series)".into();
    }
    crate::model::labels::plain(l)
}

/// A chart's file written beside the report: the SVG, else the first one.
fn chart_path(r: &Report, key: &str) -> Option<String> {
    let files = r.charts.get(key)?;
    files
        .iter()
        .find(|f| f.ends_with(".svg"))
        .or(files.first())
        .cloned()
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The Markdown report; `link` says where each chart's image is (by key).
pub fn render(r: &Report, link: &ChartLink<'_>) -> Vec<u8> {
    let mut o = String::new();
    title(r, &mut o);
    contents(r, &mut o);
    // The postmortem (a blameless template's sections), then the evidence, then the method.
    summary(r, link, &mut o);
    if let Some(b) = &r.baseline {
        o.push_str(&baseline_section(b, "##"));
    }
    remediation(r, &mut o);
    timeline(r, &mut o);
    lessons(r, &mut o);
    what_if(r, link, &mut o);
    regression_test(r, &mut o);
    verdict(r, &mut o);
    alert_timeline(r, link, &mut o);
    metric_rules(r, link, &mut o);
    errors_by_type(r, link, &mut o);
    infrastructure(r, link, &mut o);
    series(r, &mut o);
    data_quality(r, &mut o);
    settings(r, &mut o);
    o.into_bytes()
}

/// The title.
fn title(r: &Report, o: &mut String) {
    let word = match r.verdict.outcome() {
        Outcome::Breached => "BREACHED",
        Outcome::TotalOnly => "not breached per series (total crossed)",
        Outcome::NotBreached => "not breached",
    };
    let _ = writeln!(
        o,
        "# Incident report: {} {}\n",
        text(&r.settings.alertname),
        word
    );
    if !r.inputs.redaction {
        let _ = writeln!(o, "**Secrets NOT redacted (--no-redact): this report may hold passwords, tokens and keys; do not share it.**\n");
    }
}

/// A heading's anchor as GitHub and the HTML page make it: lower case, letters, digits,
/// `-` and `_` kept, spaces to `-`, the rest dropped.
pub(crate) fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The sections, linked.
fn contents(r: &Report, o: &mut String) {
    let mut sections = vec!["Summary"];
    if r.baseline.is_some() {
        sections.push("Compared with the baseline");
    }
    sections.extend(["Action items", "Timeline"]);
    if !r.summary.lessons.is_empty() {
        sections.push("Lessons learned");
    }
    if !(r.what_if.rows.is_empty() && r.what_if.unavailable.is_none()) {
        sections.push("What if the rule were different");
    }
    if r.regression_test.is_some() {
        sections.push("Regression test");
    }
    sections.extend(["Verdict", "Alert timeline"]);
    if !(r.rules.is_empty() && r.metrics.series == 0) {
        sections.push("Alert rules over metrics");
    }
    sections.extend([
        "Errors by type",
        "Infrastructure",
        "All series",
        "Data quality",
        "Appendix: method and settings",
    ]);
    let links: Vec<String> = sections
        .iter()
        .map(|s| format!("[{s}](#{})", anchor(s)))
        .collect();
    let _ = writeln!(o, "**Contents:** {}\n", links.join(" · "));
}

/// The story in a few sentences, then the root causes, gravest first, each with why (and the
/// memory chart of a container killed for memory).
fn summary(r: &Report, link: &ChartLink<'_>, o: &mut String) {
    let _ = writeln!(o, "## Summary\n");
    let sentences: Vec<String> = r.summary.sentences.iter().map(|x| text(x)).collect();
    let _ = writeln!(o, "{}\n", sentences.join(" "));
    if r.summary.root_causes.is_empty() {
        return;
    }
    let _ = writeln!(o, "### Root causes and trigger\n");
    if let Some(t) = &r.summary.trigger {
        let _ = writeln!(o, "*Trigger:* {}.\n", text(t));
    }
    let _ = writeln!(o, "Gravest first:\n");
    for c in &r.summary.root_causes {
        let _ = writeln!(
            o,
            "{}. **{}** ({}): {}.",
            c.rank,
            text(&c.title),
            code(&c.cause),
            text(&c.why)
        );
    }
    o.push('\n');
    for c in r
        .summary
        .root_causes
        .iter()
        .filter(|c| c.severity == "container_down")
    {
        if let Some(p) = c.pod.as_ref().and_then(|p| link(&format!("memory:{p}"))) {
            let _ = writeln!(
                o,
                "![{}: memory against its limit, container terminations marked]({p})\n",
                text(c.pod.as_deref().unwrap_or(""))
            );
        }
    }
    for (title, lines) in [
        ("Impact", &r.summary.impact),
        ("Detection", &r.summary.detection),
        ("Resolution", &r.summary.resolution),
    ] {
        if !lines.is_empty() {
            let _ = writeln!(o, "### {title}\n");
            for l in lines.iter() {
                let _ = writeln!(o, "- {}", text(l));
            }
            o.push('\n');
        }
    }
}

/// What to learn beyond this incident.
fn lessons(r: &Report, o: &mut String) {
    if r.summary.lessons.is_empty() {
        return;
    }
    let _ = writeln!(o, "## Lessons learned\n");
    for l in &r.summary.lessons {
        let _ = writeln!(o, "- {}", text(l));
    }
    o.push('\n');
}

/// The same incident under other settings of the rule: a table, the chart, the findings.
fn what_if(r: &Report, link: &ChartLink<'_>, o: &mut String) {
    let w = &r.what_if;
    if w.rows.is_empty() && w.unavailable.is_none() {
        return;
    }
    let _ = writeln!(o, "## What if the rule were different\n");
    if let Some(why) = &w.unavailable {
        let _ = writeln!(o, "Not replayed: {}.\n", text(why));
        return;
    }
    let day = w.from.as_deref().and_then(|f| f.get(..10)).unwrap_or("");
    let basis = match w.basis.as_deref() {
        Some("metrics") => "the metric dumps' samples",
        _ => "the counters the error records make",
    };
    let incident: Vec<String> = w
        .incident
        .iter()
        .map(|s| format!("{} to {}", short_time(&s.from, day), short_time(&s.to, day)))
        .collect();
    let _ = writeln!(
        o,
        "{} re-evaluated by the same engine on {basis}, with one setting changed per row (`--what-if` adds rows). {}\n",
        code(w.expr.as_deref().unwrap_or(&w.alertname)),
        if incident.is_empty() {
            format!("Neither the rule nor its sum was ever pending: all {:.1} h evaluated count as quiet.", w.quiet_hours)
        } else {
            format!("The incident is {} (the rule's activations, or its sum's, widened by its window); alarms in the other {:.1} h evaluated count as quiet-time alarms.", incident.join(", "), w.quiet_hours)
        }
    );
    if let Some(p) = link("what_if") {
        let _ = writeln!(
            o,
            "![When each setting would have been pending and firing]({p})\n"
        );
    }
    let _ = writeln!(o, "| Change | for | threshold | window | aggregation | keep_firing_for | First fires | Against the rule | Series fired | Quiet alarms |\n|---|---|---|---|---|---|---|---|---|---|");
    for row in &w.rows {
        let name = match row.origin.as_str() {
            "real" => "**the rule**".to_owned(),
            "asked" => format!("{} (asked)", cell(&row.change)),
            _ => cell(&row.change),
        };
        let quiet = match row.alarms_per_day {
            Some(d) => format!("{} ({d}/day)", row.quiet_alarms),
            None => row.quiet_alarms.to_string(),
        };
        let fired = row.series_fired;
        let _ = writeln!(
            o,
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {fired} | {quiet} |",
            row.for_,
            row.threshold,
            row.window,
            row.aggregation,
            row.keep_firing_for,
            row.first_firing_at
                .as_deref()
                .map_or("never".into(), |t| short_time(t, day)),
            cell(&row.versus_real)
        );
    }
    o.push('\n');
    if !w.findings.is_empty() {
        let _ = writeln!(o, "Rule findings:\n");
        for f in &w.findings {
            let _ = writeln!(o, "- {}", text(f));
        }
        o.push('\n');
    }
}

/// This run against `--baseline`: what regressed, in tables (also the CI step summary's).
pub(crate) fn baseline_section(b: &crate::report::model::BaselineDoc, level: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{level} Compared with the baseline\n");
    let _ = writeln!(
        o,
        "Baseline: {} ({} error records over {} h). {}\n",
        code(&b.source),
        b.error_records,
        b.hours,
        if b.regressed {
            "**Regressed**: what is new or worse is listed below."
        } else {
            "No regression: no new or gone message signature, no cause rose, no new alert."
        }
    );
    if !b.new_alerts.is_empty() {
        let names: Vec<String> = b.new_alerts.iter().map(|a| code(a)).collect();
        let _ = writeln!(
            o,
            "Alerts that fire now and did not before: {}.\n",
            names.join(", ")
        );
    }
    if !b.increased_causes.is_empty() {
        let _ = writeln!(o, "Causes that rose beyond {}x (and by at least 5 events):\n\n| Cause | Baseline events | Events | Baseline per hour | Per hour | Factor |\n|---|---|---|---|---|---|", b.max_increase);
        for c in &b.increased_causes {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                code(&c.cause),
                c.baseline_events,
                c.events,
                c.baseline_per_hour,
                c.per_hour,
                c.factor.map_or("new".to_owned(), |f| format!("{f}x"))
            );
        }
        o.push('\n');
    }
    let table = |o: &mut String, title: &str, sigs: &[crate::report::model::SignatureDoc]| {
        if sigs.is_empty() {
            return;
        }
        let _ = writeln!(
            o,
            "{title} ({}):\n\n| Signature | Cause | Records | Example |\n|---|---|---|---|",
            sigs.len()
        );
        for s in sigs.iter().take(20) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                code(&s.signature),
                code(&s.cause),
                s.records,
                code(&s.example)
            );
        }
        if sigs.len() > 20 {
            let _ = writeln!(
                o,
                "\n{} more in `report.json` (`baseline`).",
                sigs.len() - 20
            );
        }
        o.push('\n');
    };
    table(
        &mut o,
        "Messages never seen in the baseline",
        &b.new_signatures,
    );
    table(
        &mut o,
        "Messages of the baseline not seen now",
        &b.gone_signatures,
    );
    o
}

/// The regression test written beside the report, and how to keep it.
fn regression_test(r: &Report, o: &mut String) {
    let Some(t) = &r.regression_test else {
        return;
    };
    let _ = writeln!(o, "## Regression test\n");
    let _ = writeln!(
        o,
        "`promtool-test/` holds this incident as a `promtool test rules` test: `rules.yml` (the rules evaluated) and `test.yml` ({} series of {} of input; {} checked evaluation{}: {}). It passes as the rules are and fails when a change to {} would have alerted on this incident differently. Run it with `{}`; keep the folder beside your rules so that CI runs it on every change (see the README).\n",
        t.series,
        t.length,
        t.checks.len(),
        if t.checks.len() == 1 { "" } else { "s" },
        if t.checks.iter().any(|c| c.firing > 0) {
            "just before and at pending, firing and resolution of each series that fired"
        } else {
            "nothing fired, so it checks that nothing fires at the highest rate"
        },
        text(&t.alertname),
        t.command
    );
    let _ = writeln!(o, "{}.\n", text(&t.note));
}

/// The method and settings every number depends on (an appendix).
fn settings(r: &Report, o: &mut String) {
    let v = &r.verdict;
    let s = &r.settings;
    let _ = writeln!(o, "## Appendix: method and settings\n");
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(o, "| Alert rule | `rate(mcp_generation_errors_total[{}]) > {}` for {} (per series, not summed) |", s.window, s.threshold, s.for_);
    let _ = writeln!(o, "| Rate mode | {} |", cell(&s.rate_mode_description));
    let _ = writeln!(
        o,
        "| Evaluation | every {} (phase {}), counter scraped every {} |",
        s.eval_interval, s.eval_offset, s.scrape_interval
    );
    let _ = writeln!(
        o,
        "| Alert source | {} |",
        match v.basis.as_str() {
            "metrics" =>
                "Prometheus' own counter, from the metric dumps (the logs explain the causes)",
            _ => "derived from the logs (no metric dump holds the alert's series)",
        }
    );
    let _ = writeln!(o, "| Counted | {} |", cell(&r.counting.description));
    let _ = writeln!(
        o,
        "| Error records / failures / counted | {} / {} / {} |",
        v.error_records, r.counting.failures, v.error_events
    );
    let span = r
        .per_minute
        .first()
        .zip(r.per_minute.last())
        .map(|(a, b)| format!("{} .. {}", a.minute, b.minute));
    let _ = writeln!(
        o,
        "| Errors between | {} |",
        span.unwrap_or_else(|| "–".into())
    );
    let _ = writeln!(
        o,
        "| Inputs | {} file{}, {} lines read |",
        r.inputs.files.len(),
        if r.inputs.files.len() == 1 { "" } else { "s" },
        r.inputs.lines_read
    );
    let _ = writeln!(o, "| Cause table | {} |", cell(&s.cause_table));
    let _ = writeln!(o, "| Time zone for zoneless times | {} |", s.time_zone);
    if s.since.is_some() || s.until.is_some() {
        let _ = writeln!(
            o,
            "| Time window | {} .. {} |",
            opt(&s.since),
            opt(&s.until)
        );
    }
    let red = &r.inputs;
    let _ = writeln!(
        o,
        "| Secrets | {} |",
        if !red.redaction {
            "**NOT redacted (--no-redact): this report may hold passwords, tokens and keys; do not share it**".to_owned()
        } else if red.redacted.is_empty() {
            "redacted (none found)".to_owned()
        } else {
            format!(
                "redacted: {}",
                red.redacted
                    .iter()
                    .map(|(k, n)| format!("{} {n}", text(k)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let _ = writeln!(
        o,
        "| Tool | {} {}, report schema {} |\n",
        r.tool.name, r.tool.version, r.schema_version
    );
}

/// The verdict: breached or not, peaks, firing window, top cause.
fn verdict(r: &Report, o: &mut String) {
    let v = &r.verdict;
    let s = &r.settings;
    let _ = writeln!(o, "## Verdict\n");
    let _ = writeln!(
        o,
        "- **Breached (the real, per-series alert fired):** {}",
        match (v.breached, v.basis.as_str(), v.breached_by.as_slice()) {
            (false, "metrics", [only]) if only == "logs" => "no, per the metric dumps (Prometheus' own counter); the logs' reconstruction would have fired it".to_owned(),
            (false, "metrics", _) => "no, per the metric dumps (Prometheus' own counter)".to_owned(),
            (false, _, _) => "no, derived from the logs".to_owned(),
            (true, "metrics", [_, _]) => "yes, per the metric dumps (Prometheus' own counter), and the logs' reconstruction agrees".to_owned(),
            (true, "metrics", _) => "yes, per the metric dumps (Prometheus' own counter); the logs alone would not say so".to_owned(),
            (true, _, _) => "yes, derived from the logs".to_owned(),
        }
    );
    if let (Some(p), Some(at), Some(l)) = (&v.peak_rate, &v.peak_at, &v.peak_labels) {
        let _ = writeln!(
            o,
            "- **Peak series rate:** {p:.3}/s at {at} ({})",
            text(&labels(l))
        );
    }
    if let (Some(p), Some(at)) = (&v.peak_total_rate, &v.peak_total_at) {
        let _ = writeln!(
            o,
            "- **Peak total rate (sum over all series{}):** {p:.3}/s at {at}",
            if v.basis == "metrics" {
                ", from the logs"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        o,
        "- **Firing:** {}",
        match (&v.firing_from, &v.firing_until) {
            (Some(f), Some(u)) => format!("{f} .. {u}"),
            (Some(f), None) => format!("from {f}, still firing at the end of the data"),
            _ => "never".into(),
        }
    );
    if let Some(c) = r.causes.first() {
        let _ = writeln!(
            o,
            "- **Top cause:** {} ({}), {} of counted failures",
            code(&c.id),
            text(&c.title),
            pct(c.share)
        );
    }
    if v.total_only {
        let _ = writeln!(o, "\n**The total crossed the threshold but no single series did.** HighGenerationErrorRate is not summed: Prometheus evaluates `rate(...) > {}` for each series (`error_type`, `pod`, ...) separately, so this incident did not page even though the service as a whole produced more than {}/s errors for {}.", s.threshold, s.threshold, s.for_);
    }
    o.push('\n');
}

/// The logs-based alert per label set, with the rate chart.
fn alert_timeline(r: &Report, link: &ChartLink<'_>, o: &mut String) {
    let s = &r.settings;
    let _ = writeln!(o, "## Alert timeline\n");
    if let Some(p) = link("error_rate") {
        let _ = writeln!(
            o,
            "![Error rate against the threshold, pending and firing shaded; vertical lines mark container terminations, cluster warnings and restarts seen in the logs]({p})\n"
        );
    }
    let log_alerts: Vec<&Alert> = r
        .alerts
        .iter()
        .filter(|a| a.source == AlertSource::Logs)
        .collect();
    if log_alerts.is_empty() {
        let _ = writeln!(o, "No series and no total ever exceeded {}/s at an evaluation: the alert was never pending.\n", s.threshold);
    } else {
        let _ = writeln!(o, "| Scope | Labels | Pending | Firing | Resolved | Peak rate | Peak at |\n|---|---|---|---|---|---|---|");
        for a in log_alerts {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {:.3}/s | {} |",
                cell(&a.scope),
                cell(&labels(&a.labels)),
                opt(&a.pending_at),
                firing_cell(a),
                resolved_cell(a),
                a.peak_rate,
                opt(&a.peak_at)
            );
        }
        o.push('\n');
    }
}

/// The merged timeline and what changed first.
fn timeline(r: &Report, o: &mut String) {
    let _ = writeln!(o, "## Timeline\n");
    if r.timeline.is_empty() {
        let _ = writeln!(o, "Nothing to place on a timeline.\n");
    } else {
        let day = r.timeline[0].time.get(..10).unwrap_or("");
        let _ = writeln!(
            o,
            "Times are UTC on {day} unless a date is given (to the millisecond in report.json).\n"
        );
        let _ = writeln!(o, "| Time | Event | Source | What |\n|---|---|---|---|");
        for e in &r.timeline {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                short_time(&e.time, day),
                cell(&e.kind),
                cell(&e.source),
                cell(&e.summary)
            );
        }
        o.push('\n');
    }

    if !r.infrastructure.before_first_firing.is_empty() {
        let _ = writeln!(
            o,
            "**What changed first.** From half an hour before the first firing (of a series, else of the total) went pending until it fired:\n"
        );
        let day = r
            .timeline
            .first()
            .and_then(|e| e.time.get(..10))
            .unwrap_or("");
        for e in &r.infrastructure.before_first_firing {
            let _ = writeln!(
                o,
                "- {} ({}): {}",
                short_time(&e.time, day),
                text(&e.source),
                text(&e.summary)
            );
        }
        o.push('\n');
    }
}

/// The causes with the pie, and their top messages.
fn errors_by_type(r: &Report, link: &ChartLink<'_>, o: &mut String) {
    let _ = writeln!(o, "## Errors by type\n");
    if let Some(p) = link("errors_by_type") {
        let _ = writeln!(o, "![Errors by type]({p})\n");
    }
    if r.causes.is_empty() {
        let _ = writeln!(o, "No error records.\n");
    } else {
        let _ = writeln!(o, "| Cause | Title | Counted | Records | Share of counted | First seen | Last seen | Pods (counted) |\n|---|---|---:|---:|---:|---|---|---|");
        for c in &r.causes {
            let pods: Vec<String> = c
                .by_pod
                .iter()
                .map(|(p, n)| format!("{p} ({})", n.events))
                .collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                code(&c.id),
                cell(&c.title),
                c.events,
                c.count,
                pct(c.share),
                c.first_seen,
                c.last_seen,
                cell(&pods.join(", "))
            );
        }
        let _ = writeln!(o, "\nRecords are errors as logged (one failure is logged by several services and echoed by the error logger); counted are the failures the alert counts ({}).\n", match r.counting.basis.as_str() {
            "outcomes" => "the outcome records the cause table names",
            _ => "one per failure",
        });
        let _ = writeln!(o, "### Top messages per cause\n");
        for c in &r.causes {
            let _ = writeln!(o, "**{}** ({})\n", code(&c.id), text(&c.title));
            let _ = writeln!(
                o,
                "| Records | Message (numbers, ids, hosts masked) | Example |\n|---:|---|---|"
            );
            for m in &c.top_messages {
                let example: String = m.example.chars().take(160).collect();
                let _ = writeln!(
                    o,
                    "| {} | {} | {} |",
                    m.records,
                    code(&m.signature),
                    code(&example)
                );
            }
            o.push('\n');
        }
    }
}

/// Each cause's remediation with its commands.
fn remediation(r: &Report, o: &mut String) {
    let s = &r.settings;
    let _ = writeln!(o, "## Action items\n");
    let _ = writeln!(o, "The runbook's remediation for each root cause, in the same order (gravest first), its commands filled in for this incident.\n");
    if r.remediation.is_empty() {
        let _ = writeln!(o, "No errors, nothing to remediate.\n");
    }
    let _ = writeln!(
        o,
        "Commands use namespace {} and deployment {} ({}).\n",
        code(&s.namespace),
        code(&s.deployment),
        text(&s.target_from)
    );
    for (i, m) in r.remediation.iter().enumerate() {
        // Titles, symptoms, solutions and action titles are the cause table's own Markdown (its
        // author's words, not the input's); raw HTML in them still shows as text in the page.
        let _ = writeln!(o, "### {}. {} ({})\n", i + 1, m.title, code(&m.cause));
        let _ = writeln!(o, "*Why:* {}.  ", text(&m.because));
        if !m.symptoms.is_empty() {
            let _ = writeln!(
                o,
                "*Symptoms{}:* {}  ",
                if m.source == "runbook" {
                    " (runbook)"
                } else {
                    ""
                },
                m.symptoms
            );
        }
        let _ = writeln!(
            o,
            "*Solution{}:* {}\n",
            if m.source == "runbook" {
                " (runbook)"
            } else {
                " (not in the runbook)"
            },
            m.solution
        );
        for (j, a) in m.actions.iter().enumerate() {
            let _ = writeln!(o, "{}. {}", j + 1, a.title);
            if let Some(c) = &a.command {
                let _ = writeln!(o, "{}", bash_block(c, "   "));
            }
        }
        o.push('\n');
    }
}

/// Every series of the logs-based alert.
fn series(r: &Report, o: &mut String) {
    let _ = writeln!(o, "## All series\n");
    let _ = writeln!(o, "One series per label set, as `mcp_generation_errors_total` would have them. The alert evaluates each on its own.\n");
    let _ = writeln!(
        o,
        "| Labels | Records | Counted | Peak rate | Peak at | Fired |\n|---|---:|---:|---:|---|---|"
    );
    for se in &r.series {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&labels(&se.labels)),
            se.records,
            se.events,
            se.peak_rate.map_or("–".into(), |p| format!("{p:.3}/s")),
            opt(&se.peak_at),
            if se.fired { "yes" } else { "no" }
        );
    }
    o.push('\n');
}

/// Every line accounted for, the assumptions and the problems.
/// `5529` as `5,529`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Where a live collection took the inputs from, and what it could not collect.
fn collection(c: &CollectionDoc, o: &mut String) {
    let _ = writeln!(
        o,
        "Collected live from kube context {}{}, namespace {}, {}{}, {} .. {}: {} pod{}, {} request{}{}.",
        code(c.context.as_deref().unwrap_or("-")),
        c.server_version
            .as_ref()
            .map_or(String::new(), |v| format!(" (Kubernetes {})", text(v))),
        code(&c.namespace),
        text(&c.target),
        c.selector
            .as_ref()
            .map_or(String::new(), |s| format!(" (selector {})", code(s))),
        text(&c.since),
        text(&c.as_of),
        c.pods.len(),
        if c.pods.len() == 1 { "" } else { "s" },
        c.requests,
        if c.requests == 1 { "" } else { "s" },
        if c.failed_requests > 0 {
            format!(", {} failed", c.failed_requests)
        } else {
            String::new()
        }
    );
    o.push('\n');
    match &c.prometheus {
        Some(p) => {
            let _ = writeln!(
                o,
                "Prometheus: {}{}, {} rule{} in force; rate() semantics {} (from {}){}.",
                text(&p.via),
                p.version
                    .as_ref()
                    .map_or(String::new(), |v| format!(" (version {})", text(v))),
                p.rules,
                if p.rules == 1 { "" } else { "s" },
                text(&p.compat),
                text(&p.compat_from),
                p.retention
                    .as_ref()
                    .map_or(String::new(), |r| format!("; retention {}", text(r)))
            );
        }
        None => {
            let _ = writeln!(o, "Prometheus: none reached.");
        }
    }
    o.push('\n');
    if !c.gaps.is_empty() {
        let _ = writeln!(o, "| Not collected | Why | What to do |\n|---|---|---|");
        for g in &c.gaps {
            let _ = writeln!(
                o,
                "| {} ({}) | {} | {} |",
                cell(&g.subject),
                g.kind.describe(),
                cell(&g.detail),
                cell(&g.fix)
            );
        }
        o.push('\n');
    }
}

fn data_quality(r: &Report, o: &mut String) {
    let i = &r.inputs;
    let skipped: u64 = i.skipped.values().sum();
    let _ = writeln!(o, "## Data quality\n");
    let _ = writeln!(
        o,
        "Every input line is accounted for: **{} lines read = {} used + {} skipped**.\n",
        i.lines_read, i.lines_used, skipped
    );
    if !i.redacted.is_empty() {
        let _ = writeln!(
            o,
            "Secrets replaced by `«redacted:KIND#hash»` (the same secret, the same hash): {}.\n",
            i.redacted
                .iter()
                .map(|(k, n)| format!("{} {n}", text(k)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(c) = &i.collection {
        collection(c, o);
    }
    if !i.skipped.is_empty() {
        let _ = writeln!(o, "| Skipped because | Lines |\n|---|---:|");
        for (reason, n) in &i.skipped {
            let _ = writeln!(o, "| {} | {} |", describe(*reason), n);
        }
        o.push('\n');
    }
    let _ = writeln!(o, "| Input | Kind | Pod | Lines read | Used | Records | Error records | Skipped | Time span |\n|---|---|---|---:|---:|---:|---:|---|---|");
    for f in &i.files {
        let sk: Vec<String> = f
            .skipped
            .iter()
            .map(|(r, n)| format!("{}: {n}", describe(*r)))
            .collect();
        let span = match (f.first_ts, f.last_ts) {
            (Some(a), Some(b)) => format!(
                "{} .. {}",
                crate::model::time::format_short(a),
                crate::model::time::format_short(b)
            ),
            _ => "–".into(),
        };
        let kind = f.kind.map_or("?".to_owned(), |k| {
            serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        });
        // The pod the file name gives, when records took it; else the lines' own prefixes.
        let by_name = f
            .assumptions
            .contains_key(crate::ingest::logs::scan::POD_FROM_NAME);
        let pod = match (f.kind, &f.pod) {
            (Some(InputKind::Logs), Some(p)) if by_name => p.as_str(),
            (Some(InputKind::Logs), _) => "from each line's prefix",
            (Some(InputKind::KubectlError), Some(p)) => p.as_str(),
            _ => "–",
        };
        let _ = writeln!(
            o,
            "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&f.name),
            kind,
            if f.previous { " (previous)" } else { "" },
            cell(pod),
            f.lines_read,
            f.lines_used,
            f.records,
            f.error_records,
            cell(&sk.join(", ")),
            span
        );
    }
    o.push('\n');
    let repeats: Vec<String> = i
        .files
        .iter()
        .filter(|f| !f.repeats.is_empty())
        .map(|f| {
            let of: Vec<String> = f
                .repeats
                .iter()
                .map(|(other, n)| format!("{} lines of {}", thousands(*n), code(other)))
                .collect();
            format!("- {} repeats {}", code(&f.name), of.join(" and "))
        })
        .collect();
    if !repeats.is_empty() {
        let _ = writeln!(o, "**Overlapping exports** (the same container's lines, same kubelet time and text, in two exports; each counted once, in the fuller export):\n");
        for line in repeats {
            let _ = writeln!(o, "{line}");
        }
        o.push('\n');
    }
    let cut: Vec<_> = i
        .files
        .iter()
        .filter_map(|f| Some((f, f.incomplete.as_ref()?)))
        .collect();
    if !cut.is_empty() {
        let _ = writeln!(
            o,
            "**Inputs that look incomplete** (the verdict holds only for what was read):\n\n| Input | Why | Export it whole with |\n|---|---|---|"
        );
        for (f, c) in cut {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                cell(&f.name),
                cell(&c.why),
                code(&c.export_whole)
            );
        }
        o.push('\n');
    }
    if !i.assumptions.is_empty() {
        let _ = writeln!(o, "**Assumptions made** (records affected):\n");
        for (a, n) in &i.assumptions {
            let _ = writeln!(o, "- {}: {n}", text(a));
        }
        o.push('\n');
    }
    let problems: Vec<String> = i
        .files
        .iter()
        .flat_map(|f| {
            let more = f.problem_count.saturating_sub(f.problems.len() as u64);
            f.problems
                .iter()
                .map(move |p| match p.line {
                    Some(l) => format!(
                        "- {}: {}",
                        code(&format!("{}:{l}", f.name)),
                        text(&p.message)
                    ),
                    None => format!("- {}: {}", code(&f.name), text(&p.message)),
                })
                .chain((more > 0).then(|| {
                    format!(
                        "- {}: {more} more problems of the kinds above",
                        code(&f.name)
                    )
                }))
        })
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(o, "**Problems found in the input:**\n");
        for p in problems {
            let _ = writeln!(o, "{p}");
        }
        o.push('\n');
    }
}

fn describe(r: SkipReason) -> &'static str {
    r.describe()
}

/// The alerting rules evaluated over the metric dumps, each with its alerts, chart, basis and
/// the checks against ALERTS and the logs.
fn metric_rules(r: &Report, link: &ChartLink<'_>, o: &mut String) {
    let m = &r.metrics;
    if r.rules.is_empty() && m.series == 0 {
        return;
    }
    let _ = writeln!(o, "## Alert rules over metrics\n");
    let _ = writeln!(
        o,
        "Metric dumps: {} series, {} samples, {} .. {}. Rules: {}.\n",
        m.series,
        m.samples,
        opt(&m.first),
        opt(&m.last),
        cell(&r.settings.rules)
    );
    for n in m.notes.iter().chain(&m.recorded).chain(&m.problems) {
        let _ = writeln!(o, "- {}", cell(n));
    }
    if !(m.notes.is_empty() && m.recorded.is_empty() && m.problems.is_empty()) {
        o.push('\n');
    }
    for rule in &r.rules {
        let _ = writeln!(
            o,
            "### {} (group {})\n",
            text(&rule.alertname),
            cell(&rule.group)
        );
        let _ = writeln!(
            o,
            "{} for {}{}, evaluated every {}{} with {} semantics.\n",
            code(&rule.expr),
            rule.for_,
            if rule.keep_firing_for == "0s" {
                String::new()
            } else {
                format!(", keep_firing_for {}", rule.keep_firing_for)
            },
            rule.eval_interval,
            if rule.eval_offset == "0s" {
                String::new()
            } else {
                format!(" at +{} ({})", rule.eval_offset, rule.eval_offset_from)
            },
            rule.mode
        );
        if let Some(e) = &rule.error {
            let _ = writeln!(o, "**Not evaluated:** {}\n", cell(e));
            continue;
        }
        if rule.no_data {
            let _ = writeln!(
                o,
                "*No data:* none of the dumps holds a series this expression reads, so it cannot be reconstructed; export them to evaluate it.\n"
            );
            continue;
        }
        let _ = writeln!(o, "*Basis:* {}\n", text(&rule.basis));
        if let Some(p) = link(&format!("rule:{}", rule.alertname)) {
            let _ = writeln!(
                o,
                "![{}: the expression against its threshold, pending and firing shaded]({p})\n",
                text(&rule.alertname)
            );
        }
        let alerts: Vec<&Alert> = r
            .alerts
            .iter()
            .filter(|a| a.source == AlertSource::Metrics && a.alertname == rule.alertname)
            .collect();
        if alerts.is_empty() {
            let _ = writeln!(
                o,
                "Never pending: the condition did not hold at any evaluation.\n"
            );
        } else {
            let _ = writeln!(
                o,
                "| Labels | Pending | Firing | Resolved | Peak value | Peak at |\n|---|---|---|---|---|---|"
            );
            for a in alerts {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    cell(&labels(&a.labels)),
                    opt(&a.pending_at),
                    firing_cell(a),
                    resolved_cell(a),
                    a.peak_rate,
                    opt(&a.peak_at)
                );
            }
            o.push('\n');
        }
        if let Some(c) = &rule.alerts_check {
            if c.agrees {
                let _ = writeln!(
                    o,
                    "*Against the dump's ALERTS series:* agrees at all {} evaluations compared.\n",
                    c.steps_compared
                );
            } else {
                let _ = writeln!(
                    o,
                    "*Against the dump's ALERTS series:* {} disagreement{} in {} evaluations compared:\n",
                    c.disagreements.len(),
                    if c.disagreements.len() == 1 { "" } else { "s" },
                    c.steps_compared
                );
                for d in &c.disagreements {
                    let _ = writeln!(o, "- {}", cell(d));
                }
                o.push('\n');
                if !c.explanations.is_empty() {
                    let _ = writeln!(o, "*What this points to:*\n");
                    for e in &c.explanations {
                        let _ = writeln!(o, "- {}", cell(e));
                    }
                    o.push('\n');
                }
            }
        }
        if let Some(a) = &rule.logs_agreement {
            let _ = writeln!(o, "*Metrics vs logs:* {}.\n", text(a));
        }
    }
}

/// Pods, container terminations and cluster events, when the input had `kubectl get
/// pods|events` exports; a line saying how to add them otherwise.
fn infrastructure(r: &Report, link: &ChartLink<'_>, o: &mut String) {
    let _ = writeln!(o, "## Infrastructure\n");
    let infra = &r.infrastructure;
    if !infra.seen_in_logs.is_empty() {
        let _ = writeln!(
            o,
            "Container starts, ends and silences in the logs themselves:\n\n| Time | Until | Pod | What |\n|---|---|---|---|"
        );
        for s in &infra.seen_in_logs {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                s.time,
                opt(&s.until),
                cell(&s.pod),
                cell(&s.summary),
            );
        }
        o.push('\n');
    }
    if !infra.memory.is_empty() {
        let _ = writeln!(
            o,
            "Memory against the limit (from the metric dumps):\n\n| Pod | Metric | Peak | Peak at | Limit | Peak / limit |\n|---|---|---:|---|---:|---:|"
        );
        const MIB: f64 = 1024.0 * 1024.0;
        for m in &infra.memory {
            let _ = writeln!(
                o,
                "| {} | {} | {:.0} MiB | {} | {} | {} |",
                cell(&m.pod),
                cell(&m.metric),
                m.peak_bytes as f64 / MIB,
                m.peak_at,
                m.limit_bytes.map_or("–".into(), |l| format!(
                    "{:.0} MiB ({})",
                    l as f64 / MIB,
                    m.limit_from
                )),
                m.peak_share_of_limit
                    .map_or("–".into(), |x| format!("{:.0}%", x * 100.0)),
            );
        }
        o.push('\n');
        for m in &infra.memory {
            if let Some(p) = link(&format!("memory:{}", m.pod)) {
                let _ = writeln!(
                    o,
                    "![{}: memory against its limit, container terminations marked]({p})\n",
                    text(&m.pod)
                );
            }
        }
    }
    for f in &infra.findings {
        let _ = writeln!(o, "**Finding:** {}.\n", cell(f));
    }
    if infra.pods.is_empty() && r.events.is_empty() {
        let _ = writeln!(
            o,
            "No Kubernetes objects in the input. Add `kubectl get pods -o json` and `kubectl get events -o json` exports to place restarts, OOM kills and probe failures on the timeline.\n"
        );
        return;
    }
    if !infra.pods.is_empty() {
        let _ = writeln!(
            o,
            "| Pod | Container | Phase | State | Ready | Restarts | Memory limit | CPU limit |\n|---|---|---|---|---|---:|---|---|"
        );
        for p in &infra.pods {
            for c in &p.containers {
                let _ = writeln!(
                    o,
                    "| {} | {}{} | {} | {} | {} | {} | {} | {} |",
                    cell(&p.name),
                    cell(&c.name),
                    if c.init { " (init)" } else { "" },
                    if p.phase.is_empty() {
                        "–".to_owned()
                    } else {
                        cell(&p.phase)
                    },
                    cell(&c.state),
                    if c.ready { "yes" } else { "no" },
                    c.restarts,
                    cell(c.memory_limit.as_deref().unwrap_or("–")),
                    cell(c.cpu_limit.as_deref().unwrap_or("–")),
                );
            }
        }
        o.push('\n');
    }
    if !infra.terminations.is_empty() {
        let _ = writeln!(
            o,
            "Container terminations, with the errors on the pod in the 5 minutes up to the termination (its minute included) and the 5 minutes after:\n\n| Finished | Pod | Container | Reason | Exit code | Started | Cause | Errors before | Errors after |\n|---|---|---|---|---:|---|---|---|---|"
        );
        let tally = |m: &BTreeMap<String, u64>| {
            if m.is_empty() {
                "none".to_owned()
            } else {
                m.iter()
                    .map(|(c, n)| format!("{c} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        for x in &infra.terminations {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                opt(&x.finished_at),
                cell(&x.pod),
                cell(&x.container),
                cell(&x.reason),
                x.exit_code,
                opt(&x.started_at),
                cell(x.cause.as_deref().unwrap_or("–")),
                cell(&tally(&x.errors_before)),
                cell(&tally(&x.errors_after)),
            );
        }
        o.push('\n');
    }
    if !r.events.is_empty() {
        let warnings = r.events.iter().filter(|e| e.kind == "Warning").count();
        let _ = writeln!(
            o,
            "Cluster events ({} in all, {warnings} warnings; an event seen N times spans first to last seen):\n\n| Last seen | First seen | Count | Type | Reason | Object | Message | Cause |\n|---|---|---:|---|---|---|---|---|",
            r.events.len()
        );
        for e in &r.events {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                e.last_seen,
                e.first_seen,
                e.count,
                cell(&e.kind),
                cell(&e.reason),
                cell(&e.object),
                cell(&e.message),
                cell(e.cause.as_deref().unwrap_or("–")),
            );
        }
        o.push('\n');
    }
}

/// The resolved cell of an alert: its time, or that it was still firing.
fn resolved_cell(a: &Alert) -> String {
    match (&a.firing_at, &a.resolved_at) {
        (Some(_), None) => "still firing at the end".into(),
        (None, _) => "–".into(),
        (_, Some(x)) => x.clone(),
    }
}

/// The firing cell of an alert: its time, or until when it was pending before being dropped.
fn firing_cell(a: &Alert) -> String {
    match (&a.firing_at, &a.last_active_at) {
        (Some(f), _) => f.clone(),
        (None, _) if a.active_at_end => "not yet (still pending where the data ends)".into(),
        (None, Some(l)) => format!("never (pending until {l}, then dropped)"),
        (None, None) => "never (dropped while pending)".into(),
    }
}
