//! The merged timeline: what the logs show (error onsets, the alert's transitions per series,
//! starts and silences), what the cluster shows (terminations, warnings and the events that
//! change what runs) and the alerts over the metric dumps, in time order; and *what changed
//! first*: the window from half an hour before the first firing alert went pending until it
//! fired, in which every change is worth a look.

use super::events::CauseStats;
use super::restarts::LogSign;
use super::terminations::TerminationFinding;
use crate::detect::logs::LogDetection;
use crate::detect::rules::RulesDetection;
use crate::model::cluster::ClusterEvent;
use crate::model::time::MINUTE;
use crate::model::{AlertInstance, Millis};

/// Where an entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Logs,
    /// The pod exports (container terminations).
    Pods,
    /// The cluster's events.
    Events,
    Metrics,
}

/// An alert's transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transition {
    Pending,
    Firing,
    Resolved,
}

/// How a repeated cluster event is placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Seen once: at its time.
    Once,
    /// Seen `count` times: at its first sighting.
    Repeated,
    /// A container started again: at its last start (its first start was days ago).
    StartedAgain,
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Item<'a> {
    /// The first error of a cause.
    ErrorOnset(&'a CauseStats),
    /// An alert went pending, fired or resolved.
    Alert(&'a AlertInstance, Transition),
    /// The total over all series stayed above the threshold for `for` (no single series
    /// did), with its peak.
    TotalAboveThreshold(f64),
    /// A start, end or silence the logs show.
    LogSign(&'a LogSign),
    /// A container terminated.
    Terminated(&'a TerminationFinding),
    /// A warning, or an event that changes what runs.
    ClusterEvent(&'a ClusterEvent, Placement),
}

impl Item<'_> {
    /// A change worth a look before the first firing (not the alert's own transitions).
    pub fn is_change(&self) -> bool {
        !matches!(self, Item::Alert(..) | Item::TotalAboveThreshold(_))
    }

    /// The order of entries of the logs at the same time: signs, onsets, then the alert's
    /// pending, firing and resolved.
    pub fn rank(&self) -> u8 {
        match self {
            Item::LogSign(_) => 0,
            Item::ErrorOnset(_) => 1,
            Item::Alert(_, Transition::Pending) => 2,
            Item::Alert(_, Transition::Firing) | Item::TotalAboveThreshold(_) => 3,
            Item::Alert(_, Transition::Resolved) => 4,
            Item::Terminated(_) | Item::ClusterEvent(..) => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry<'a> {
    pub at: Millis,
    pub source: Source,
    pub item: Item<'a>,
}

/// The timeline, in time order (then source: logs, pods, events, metrics; then the logs'
/// rank), and the *what changed first* window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline<'a> {
    pub entries: Vec<Entry<'a>>,
    /// From half an hour before the first firing (of a series, else of the total) went
    /// pending until it fired.
    pub changes_window: Option<(Millis, Millis)>,
}

/// What the timeline is made of.
pub struct Parts<'a> {
    pub causes: &'a [CauseStats],
    pub logs: &'a LogDetection,
    pub signs: &'a [LogSign],
    pub terminations: &'a [TerminationFinding],
    pub events: &'a [ClusterEvent],
    pub rules: &'a RulesDetection,
}

fn alert_entries<'a>(
    alerts: impl Iterator<Item = &'a AlertInstance>,
    source: Source,
    out: &mut Vec<Entry<'a>>,
) {
    for a in alerts {
        let mut push = |at: Millis, t: Transition| {
            out.push(Entry {
                at,
                source,
                item: Item::Alert(a, t),
            })
        };
        push(a.pending_at, Transition::Pending);
        if let Some(f) = a.firing_at {
            push(f, Transition::Firing);
        }
        if let Some(r) = a.resolved_at {
            push(r, Transition::Resolved);
        }
    }
}

/// The placement and time of a cluster event on the timeline, if it belongs there: warnings,
/// and the normal events that change what runs (kills, scaling, restarts).
fn place(e: &ClusterEvent) -> Option<(Millis, Placement)> {
    let changes = matches!(
        e.reason.as_str(),
        "Killing" | "ScalingReplicaSet" | "SuccessfulRescale" | "Preempting"
    ) || e.reason == "Started" && e.count > 1;
    if e.kind != "Warning" && !changes {
        return None;
    }
    Some(if e.count > 1 && e.reason != "Started" {
        (e.first_seen, Placement::Repeated)
    } else if e.count > 1 {
        (e.last_seen, Placement::StartedAgain)
    } else {
        (e.first_seen, Placement::Once)
    })
}

/// Builds the timeline.
pub fn timeline<'a>(p: &Parts<'a>) -> Timeline<'a> {
    let mut entries: Vec<Entry<'a>> = Vec::new();
    let logs = |at: Millis, item: Item<'a>| Entry {
        at,
        source: Source::Logs,
        item,
    };
    for c in p.causes {
        entries.push(logs(c.first, Item::ErrorOnset(c)));
    }
    alert_entries(
        p.logs.series_alerts().into_iter(),
        Source::Logs,
        &mut entries,
    );
    if !p.logs.series_fired() {
        for a in &p.logs.total_alerts {
            if let Some(f) = a.firing_at {
                entries.push(logs(f, Item::TotalAboveThreshold(a.peak_rate)));
            }
        }
    }
    for s in p.signs {
        entries.push(logs(s.at, Item::LogSign(s)));
    }
    for x in p.terminations {
        if let Some(at) = x.termination.finished_at {
            entries.push(Entry {
                at,
                source: Source::Pods,
                item: Item::Terminated(x),
            });
        }
    }
    for e in p.events {
        if let Some((at, placement)) = place(e) {
            entries.push(Entry {
                at,
                source: Source::Events,
                item: Item::ClusterEvent(e, placement),
            });
        }
    }
    alert_entries(p.rules.all_instances(), Source::Metrics, &mut entries);
    // Stable: entries of one source at one time keep the order they were added in.
    entries.sort_by_key(|e| (e.at, e.source, e.item.rank()));
    Timeline {
        entries,
        changes_window: changes_window(p.logs),
    }
}

/// From half an hour before the first firing alert (of a series; when none fired, of the
/// total) went pending until it fired.
fn changes_window(logs: &LogDetection) -> Option<(Millis, Millis)> {
    let earliest = |alerts: &mut dyn Iterator<Item = &AlertInstance>| {
        alerts
            .filter(|a| a.firing_at.is_some())
            .min_by_key(|a| (a.firing_at, a.pending_at))
            .cloned()
    };
    let a = earliest(&mut logs.series_alerts().into_iter())
        .or_else(|| earliest(&mut logs.total_alerts.iter()))?;
    Some((
        a.pending_at - 30 * MINUTE,
        a.firing_at.unwrap_or(a.pending_at),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::correlate::events::Counts;
    use crate::correlate::restarts::SignKind;
    use crate::detect::logs::SeriesResult;
    use crate::model::cluster::{ObjectRef, Termination};
    use crate::model::AlertSource;

    const MIN: Millis = MINUTE;

    fn warning(reason: &str, count: u64, first: Millis, last: Millis) -> ClusterEvent {
        ClusterEvent {
            time: last,
            first_seen: first,
            last_seen: last,
            count,
            kind: if matches!(reason, "Started" | "Pulled") {
                "Normal"
            } else {
                "Warning"
            }
            .into(),
            reason: reason.into(),
            object: ObjectRef::default(),
            message: String::new(),
            source: String::new(),
        }
    }

    #[test]
    fn entries_in_time_order_and_the_changes_before_the_first_firing() {
        let alert = AlertInstance {
            alertname: "A".into(),
            source: AlertSource::Logs,
            labels: BTreeMap::new(),
            is_total: false,
            pending_at: 40 * MIN,
            firing_at: Some(45 * MIN),
            resolved_at: Some(50 * MIN),
            peak_rate: 0.2,
            peak_at: 44 * MIN,
            last_active: 49 * MIN,
        };
        let logs = LogDetection {
            series: vec![SeriesResult {
                labels: BTreeMap::new(),
                cause: 0,
                pod: "a".into(),
                records: 1,
                events: 1,
                peak: Some((0.2, 44 * MIN)),
                alerts: vec![alert],
            }],
            ..LogDetection::default()
        };
        let causes = [CauseStats {
            signatures: Vec::new(),
            cause: 0,
            counts: Counts {
                records: 1,
                events: 1,
            },
            first: 30 * MIN,
            last: 49 * MIN,
            by_pod: BTreeMap::new(),
            top_messages: Vec::new(),
        }];
        let signs = [LogSign {
            at: 45 * MIN,
            kind: SignKind::PodFirstSeen,
            pod: "b".into(),
            container: String::new(),
        }];
        let terminations = [TerminationFinding {
            termination: Termination {
                pod: "a".into(),
                namespace: String::new(),
                container: "app".into(),
                reason: "OOMKilled".into(),
                exit_code: 137,
                started_at: None,
                finished_at: Some(45 * MIN),
            },
            cause: None,
            errors_before: Default::default(),
            errors_after: Default::default(),
        }];
        let events = [
            warning("BackOff", 3, 5 * MIN, 60 * MIN),
            warning("Started", 4, MIN, 46 * MIN),
            warning("Pulled", 1, 10 * MIN, 10 * MIN),
        ];
        let rules = RulesDetection::default();
        let t = timeline(&Parts {
            causes: &causes,
            logs: &logs,
            signs: &signs,
            terminations: &terminations,
            events: &events,
            rules: &rules,
        });
        let got: Vec<(Millis, Source, u8)> = t
            .entries
            .iter()
            .map(|e| (e.at, e.source, e.item.rank()))
            .collect();
        assert_eq!(
            got,
            [
                // A repeated warning at its first sighting; a normal event that changes
                // nothing is left out.
                (5 * MIN, Source::Events, 0),
                (30 * MIN, Source::Logs, 1),
                (40 * MIN, Source::Logs, 2),
                // At one time: the logs (sign, then firing), the pods, the events.
                (45 * MIN, Source::Logs, 0),
                (45 * MIN, Source::Logs, 3),
                (45 * MIN, Source::Pods, 0),
                // A container started again: at its last start.
                (46 * MIN, Source::Events, 0),
                (50 * MIN, Source::Logs, 4),
            ]
        );
        assert_eq!(t.changes_window, Some((10 * MIN, 45 * MIN)));
        let changes: Vec<Millis> = t
            .entries
            .iter()
            .filter(|e| e.item.is_change())
            .map(|e| e.at)
            .collect();
        assert_eq!(changes, [5 * MIN, 30 * MIN, 45 * MIN, 45 * MIN, 46 * MIN]);
    }
}
