//! The merged timeline in words, and what changed first before the first firing.

use std::collections::{BTreeMap, BTreeSet};

use super::infra::sign_summary;
use super::t;
use crate::config::Config;
use crate::correlate::timeline::{Entry, Item, Placement, Source, Transition};
use crate::correlate::Analysis;
use crate::model::labels;
use crate::model::time::format_duration;
use crate::model::{AlertInstance, Millis};
use crate::report::model::TimelineEntry;

fn source_name(s: Source) -> &'static str {
    match s {
        Source::Logs => "logs",
        Source::Pods => "pods",
        Source::Events => "events",
        Source::Metrics => "metrics",
    }
}

/// Per alert name, the label keys whose values differ between its alerts on the timeline:
/// the ones worth printing (eight labels that are the same on every row say nothing).
type Telling = BTreeMap<String, BTreeSet<String>>;

fn telling_labels(entries: &[Entry<'_>]) -> Telling {
    let mut values: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    let mut keys: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in entries {
        if let Item::Alert(a, _) = &e.item {
            for (k, v) in &a.labels {
                values.entry((&a.alertname, k)).or_default().insert(v);
                keys.entry(&a.alertname).or_default().insert(k);
            }
        }
    }
    let mut out = Telling::new();
    for (name, ks) in keys {
        let differ: BTreeSet<String> = ks
            .into_iter()
            .filter(|k| values.get(&(name, *k)).is_some_and(|v| v.len() > 1))
            .map(str::to_owned)
            .collect();
        out.insert(name.to_owned(), differ);
    }
    out
}

/// The labels of `a` worth printing: those that tell its alerts apart (the error type and
/// pod when nothing does, so a lone series still says what it is).
fn shown_labels(a: &AlertInstance, telling: &Telling) -> BTreeMap<String, String> {
    let keys = telling.get(&a.alertname);
    let pick = |k: &str| keys.is_some_and(|ks| ks.contains(k));
    let mut shown: BTreeMap<String, String> = a
        .labels
        .iter()
        .filter(|(k, _)| pick(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if shown.is_empty() {
        for k in ["error_type", "pod"] {
            if let Some(v) = a.labels.get(k) {
                shown.insert(k.to_owned(), v.clone());
            }
        }
    }
    shown
}

/// The entry's kind, as `report.json` spells it, and what happened.
fn words(cfg: &Config, e: &Entry<'_>, telling: &Telling) -> (&'static str, String) {
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
            let shown = shown_labels(a, telling);
            let lasted = match (transition, a.firing_at, a.resolved_at) {
                (Transition::Resolved, Some(f), Some(r)) => {
                    format!(" after firing {}", format_duration((r - f + 500) / 1000 * 1000))
                }
                _ => String::new(),
            };
            (
                kind,
                format!(
                    "{} {what}{}{lasted}",
                    a.alertname,
                    if shown.is_empty() {
                        if a.is_total {
                            " (total over all series)".to_owned()
                        } else {
                            String::new()
                        }
                    } else {
                        format!(" for {}", labels::braced(&shown))
                    }
                ),
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

/// How far apart the logs' and the metrics' version of one transition may be to be one row.
const TWIN_MS: Millis = 2 * 60_000;

/// Each metrics alert transition (by index) and the logs' transition that is the same event:
/// the same alert, transition and series (error type and pod agree), within [`TWIN_MS`]. One
/// row then says both agree; the logs' row goes.
fn twins(entries: &[Entry<'_>]) -> BTreeMap<usize, usize> {
    let same_series = |a: &AlertInstance, b: &AlertInstance| {
        a.is_total == b.is_total
            && ["error_type", "pod"]
                .iter()
                .all(|k| a.labels.get(*k) == b.labels.get(*k))
    };
    let mut out = BTreeMap::new();
    let mut taken = BTreeSet::new();
    for (i, e) in entries.iter().enumerate() {
        let (Source::Metrics, Item::Alert(m, tm)) = (e.source, &e.item) else {
            continue;
        };
        let twin = entries.iter().enumerate().find(|(j, l)| {
            !taken.contains(j)
                && l.source == Source::Logs
                && (l.at - e.at).abs() <= TWIN_MS
                && matches!(&l.item, Item::Alert(la, tl)
                    if tl == tm && la.alertname == m.alertname && same_series(la, m))
        });
        if let Some((j, _)) = twin {
            taken.insert(j);
            out.insert(i, j);
        }
    }
    out
}

/// The timeline, and the changes from half an hour before the first firing went pending
/// until it fired.
pub fn timeline(cfg: &Config, a: &Analysis) -> (Vec<TimelineEntry>, Vec<TimelineEntry>) {
    let tl = a.timeline();
    let telling = telling_labels(&tl.entries);
    let twins = twins(&tl.entries);
    let mut rows: Vec<(&Entry<'_>, TimelineEntry)> = tl
        .entries
        .iter()
        .enumerate()
        .filter(|(i, _)| !twins.values().any(|l| l == i))
        .map(|(i, e)| {
            let (kind, mut summary) = words(cfg, e, &telling);
            let mut source = source_name(e.source).to_owned();
            if let Some(&l) = twins.get(&i) {
                let logs_at = tl.entries[l].at;
                source = "metrics+logs".into();
                summary.push_str(&match logs_at.cmp(&e.at) {
                    std::cmp::Ordering::Equal => " (the logs agree)".to_owned(),
                    std::cmp::Ordering::Less => format!(
                        " (the logs agree, {} earlier)",
                        format_duration(e.at - logs_at)
                    ),
                    std::cmp::Ordering::Greater => format!(
                        " (the logs agree, {} later)",
                        format_duration(logs_at - e.at)
                    ),
                });
            }
            let doc = TimelineEntry {
                time: t(e.at),
                kind: kind.into(),
                source,
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
