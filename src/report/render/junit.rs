//! `report.junit.xml` (`--format junit`): one JUnit test case per alert rule, failed when the
//! alert fired, so a CI system shows which rules an archive of logs would have set off: the
//! runbook's alert as reconstructed from the logs, then each rule over the metric dumps
//! (skipped when it could not be evaluated or had no data).

use std::fmt::Write;

use anyhow::Result;

use super::{Document, Renderer};
use crate::model::AlertSource;
use crate::report::model::{Alert, Report};

pub struct Junit;

impl Renderer for Junit {
    fn file(&self) -> String {
        "report.junit.xml".into()
    }

    fn render(&self, doc: &Document) -> Result<Vec<u8>> {
        Ok(render(&doc.report).into_bytes())
    }
}

/// One test case: its name, and why it failed or was skipped.
struct Case {
    name: String,
    failure: Option<String>,
    skipped: Option<String>,
}

fn fired<'a>(r: &'a Report, source: AlertSource, alertname: &str) -> Vec<&'a Alert> {
    r.alerts
        .iter()
        .filter(|a| a.source == source && a.alertname == alertname && a.firing_at.is_some())
        .collect()
}

/// What fired, one line per alert: labels and firing window.
fn firings(alerts: &[&Alert]) -> String {
    alerts
        .iter()
        .map(|a| {
            format!(
                "{} fired at {}{}",
                if a.labels.is_empty() {
                    "the total over all series".to_owned()
                } else {
                    format!("{} {}", a.scope, crate::model::labels::plain(&a.labels))
                },
                a.firing_at.as_deref().unwrap_or("?"),
                a.resolved_at
                    .as_deref()
                    .map_or(", still firing at the end".to_owned(), |r| format!(
                        ", resolved at {r}"
                    ))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn cases(r: &Report) -> Vec<Case> {
    let name = &r.settings.alertname;
    let logs = fired(r, AlertSource::Logs, name);
    let mut out = vec![Case {
        name: format!("{name} (from the logs)"),
        failure: (!logs.is_empty()).then(|| firings(&logs)),
        skipped: None,
    }];
    for rule in &r.rules {
        let skipped = match (&rule.error, rule.no_data) {
            (Some(e), _) => Some(format!("not evaluated: {e}")),
            (None, true) => Some("no data: no dump holds a series it reads".to_owned()),
            _ => None,
        };
        let metrics = fired(r, AlertSource::Metrics, &rule.alertname);
        out.push(Case {
            name: format!("{} (group {})", rule.alertname, rule.group),
            failure: (skipped.is_none() && !metrics.is_empty()).then(|| firings(&metrics)),
            skipped,
        });
    }
    out
}

/// XML text: `&`, `<`, `>`, quotes escaped; characters XML 1.0 forbids dropped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

pub fn render(r: &Report) -> String {
    let cases = cases(r);
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"postmortem\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        cases.len()
    );
    let _ = writeln!(
        o,
        "  <testsuite name=\"alert rules\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        cases.len()
    );
    for c in &cases {
        let _ = write!(
            o,
            "    <testcase classname=\"postmortem.alerts\" name=\"{}\"",
            xml(&c.name)
        );
        match (&c.failure, &c.skipped) {
            (Some(f), _) => {
                let first = f.lines().next().unwrap_or("");
                let _ = writeln!(
                    o,
                    ">\n      <failure message=\"fired: {}\">{}</failure>\n    </testcase>",
                    xml(first),
                    xml(f)
                );
            }
            (None, Some(s)) => {
                let _ = writeln!(
                    o,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml(s)
                );
            }
            (None, None) => {
                let _ = writeln!(o, "/>");
            }
        }
    }
    o.push_str("  </testsuite>\n</testsuites>\n");
    o
}
