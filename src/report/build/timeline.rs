//! The merged timeline in words, and what changed first before the first firing.

use super::infra::sign_summary;
use super::t;
use crate::config::Config;
use crate::correlate::timeline::{Entry, Item, Placement, Source, Transition};
use crate::correlate::Analysis;
use crate::model::labels;
use crate::report::model::TimelineEntry;

fn source_name(s: Source) -> &'static str {
    match s {
        Source::Logs => "logs",
        Source::Pods => "pods",
        Source::Events => "events",
        Source::Metrics => "metrics",
    }
}

/// The entry's kind, as `report.json` spells it, and what happened.
fn words(cfg: &Config, e: &Entry<'_>) -> (&'static str, String) {
    match &e.item {
        Item::ErrorOnset(c) => (
            "error_onset",
            format!(
                "first {} error ({} records, {} counted, in all): {}",
                cfg.causes.id(c.cause),
                c.counts.records,
                c.counts.events,
                c.top_messages
                    .first()
                    .map_or("", |m| m.signature.as_str())
            ),
        ),
        Item::Alert(a, transition) => {
            let (kind, what) = match transition {
                Transition::Pending => ("alert_pending", "pending"),
                Transition::Firing => ("alert_firing", "FIRING"),
                Transition::Resolved => ("alert_resolved", "resolved"),
            };
            (
                kind,
                format!("{} {what} for {}", a.alertname, labels::braced(&a.labels)),
            )
        }
        Item::TotalAboveThreshold(peak) => (
            "total_above_threshold",
            format!("the total over all series stayed above the threshold for the `for` duration (no single series did; the real alert did not fire); peak {peak:.3}/s"),
        ),
        Item::LogSign(s) => (s.kind_name(), sign_summary(s)),
        Item::Terminated(x) => {
            let tm = &x.termination;
            (
                "container_terminated",
                format!(
                    "container {} of pod {} terminated: {} (exit code {}){}",
                    tm.container,
                    tm.pod,
                    tm.reason,
                    tm.exit_code,
                    x.cause.map_or(String::new(), |(c, _)| format!(
                        ", cause {}",
                        cfg.causes.id(c)
                    ))
                ),
            )
        }
        Item::ClusterEvent(ev, placement) => {
            let times = match placement {
                Placement::Repeated => format!(
                    " ({}x, {} .. {})",
                    ev.count,
                    t(ev.first_seen),
                    t(ev.last_seen)
                ),
                Placement::StartedAgain => format!(" (started {} times in all)", ev.count),
                Placement::Once => String::new(),
            };
            (
                "k8s_event",
                format!(
                    "{} {} on {}: {}{}",
                    ev.kind,
                    ev.reason,
                    ev.object.display(),
                    ev.message,
                    times
                ),
            )
        }
    }
}

/// The timeline, and the changes from half an hour before the first firing went pending
/// until it fired.
pub fn timeline(cfg: &Config, a: &Analysis) -> (Vec<TimelineEntry>, Vec<TimelineEntry>) {
    let tl = a.timeline();
    let mut rows: Vec<(&Entry<'_>, TimelineEntry)> = tl
        .entries
        .iter()
        .map(|e| {
            let (kind, summary) = words(cfg, e);
            let doc = TimelineEntry {
                time: t(e.at),
                kind: kind.into(),
                source: source_name(e.source).into(),
                summary,
            };
            (e, doc)
        })
        .collect();
    // The logs' entries at one time and rank read in the order of what they say.
    rows.sort_by(|(a, x), (b, y)| {
        let key = |e: &Entry<'_>| (e.at, e.source, e.item.rank());
        key(a).cmp(&key(b)).then_with(|| {
            if a.source == Source::Logs {
                x.summary.cmp(&y.summary)
            } else {
                std::cmp::Ordering::Equal
            }
        })
    });
    let changes = rows
        .iter()
        .filter(|(e, _)| {
            tl.changes_window
                .is_some_and(|(from, to)| e.item.is_change() && e.at >= from && e.at <= to)
        })
        .map(|(_, doc)| doc.clone())
        .collect();
    (rows.into_iter().map(|(_, doc)| doc).collect(), changes)
}
