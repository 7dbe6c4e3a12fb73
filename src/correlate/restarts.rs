//! Container starts, ends and silences the logs show by themselves (no pod export needed):
//! the service's startup line, the last line of a `--previous` export, a pod whose logs begin
//! well after the others', a pod silent for far longer than its usual pace.

use crate::classify::EventTable;
use crate::model::time::MINUTE;
use crate::model::{FileQuality, InputKind, Millis};

/// A silence this much longer than a pod's usual gap between records, and at least
/// [`MIN_GAP`], is worth a line on the timeline.
pub const GAP_FACTOR: i64 = 20;
pub const MIN_GAP: Millis = 2 * MINUTE;

/// What the logs show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignKind {
    /// The service printed its startup line; `first`: its log begins with it (a new pod, or
    /// the first line after a restart).
    ProcessStarted { first: bool },
    /// A pod whose logs begin well after the others' (a new or restarted pod).
    PodFirstSeen,
    /// A silence until `until`, far longer than the pod's usual `pace` between records;
    /// `restarted`: the service started again in it.
    LogGap {
        until: Millis,
        pace: Millis,
        restarted: bool,
    },
    /// The last line of a `--previous` export (input `file`): the container ended after it.
    PreviousEnded { file: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSign {
    pub at: Millis,
    pub kind: SignKind,
    pub pod: String,
    pub container: String,
}

impl LogSign {
    /// The name of the kind, as `report.json` and the timeline spell it.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            SignKind::ProcessStarted { .. } => "process_started",
            SignKind::PodFirstSeen => "pod_first_seen",
            SignKind::LogGap { .. } => "log_gap",
            SignKind::PreviousEnded { .. } => "previous_container_ended",
        }
    }
}

/// Everything the logs show of starts, ends and silences, in time order (then pod, kind).
pub fn seen_in_logs(table: &EventTable, files: &[FileQuality]) -> Vec<LogSign> {
    let mut out: Vec<LogSign> = Vec::new();
    let overall_first = files.iter().filter_map(|f| f.first_ts).min();
    for p in table.pods.iter().filter(|p| !p.pod.is_empty()) {
        let sign = |at: Millis, kind: SignKind| LogSign {
            at,
            kind,
            pod: p.pod.clone(),
            container: p.container.clone(),
        };
        for &s in &p.starts {
            out.push(sign(
                s,
                SignKind::ProcessStarted {
                    first: s == p.first,
                },
            ));
        }
        let new_pod = Some(p.first) > overall_first.map(|f| f + 5 * MINUTE);
        if new_pod && !p.starts.contains(&p.first) {
            out.push(sign(p.first, SignKind::PodFirstSeen));
        }
        let pace = (p.last - p.first) / (p.records.max(2) as i64 - 1);
        for &(from, to) in &p.gaps {
            if to - from < MIN_GAP.max(GAP_FACTOR * pace) {
                continue;
            }
            let restarted = p.starts.iter().any(|&s| s >= from && s <= to + MINUTE);
            out.push(sign(
                from,
                SignKind::LogGap {
                    until: to,
                    pace,
                    restarted,
                },
            ));
        }
    }
    for f in files
        .iter()
        .filter(|f| f.previous && f.kind == Some(InputKind::Logs))
    {
        if let Some(last) = f.last_ts {
            out.push(LogSign {
                at: last,
                kind: SignKind::PreviousEnded {
                    file: f.name.clone(),
                },
                pod: f.pod.clone().unwrap_or_else(|| "?".into()),
                container: f.container.clone().unwrap_or_default(),
            });
        }
    }
    out.sort_by(|a, b| (a.at, &a.pod, a.kind_name()).cmp(&(b.at, &b.pod, b.kind_name())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::PodSeen;

    #[test]
    fn starts_silences_new_pods_and_previous_exports() {
        let pod = |name: &str, first: Millis, last: Millis, records: u64| PodSeen {
            pod: name.into(),
            container: "backend".into(),
            namespace: String::new(),
            first,
            last,
            records,
            gaps: Vec::new(),
            starts: Vec::new(),
        };
        let mut a = pod("a", 0, 60 * MINUTE, 3_601);
        // Silent for 3 minutes (usual pace: a second), and started again within it.
        a.gaps = vec![
            (10 * MINUTE, 13 * MINUTE),
            (20 * MINUTE, 20 * MINUTE + 61_000),
        ];
        a.starts = vec![0, 13 * MINUTE];
        let b = pod("b", 30 * MINUTE, 60 * MINUTE, 100);
        let table = EventTable {
            pods: vec![a, b],
            ..EventTable::default()
        };
        let mut previous = FileQuality::new("a.previous.log".to_owned());
        previous.kind = Some(InputKind::Logs);
        previous.previous = true;
        previous.pod = Some("a".into());
        previous.first_ts = Some(0);
        previous.last_ts = Some(10 * MINUTE);
        let signs = seen_in_logs(&table, &[previous]);
        let kinds: Vec<(Millis, &str, &str)> = signs
            .iter()
            .map(|s| (s.at, s.pod.as_str(), s.kind_name()))
            .collect();
        assert_eq!(
            kinds,
            [
                (0, "a", "process_started"),
                (10 * MINUTE, "a", "log_gap"),
                (10 * MINUTE, "a", "previous_container_ended"),
                (13 * MINUTE, "a", "process_started"),
                (30 * MINUTE, "b", "pod_first_seen"),
            ]
        );
        assert_eq!(signs[0].kind, SignKind::ProcessStarted { first: true });
        assert_eq!(
            signs[1].kind,
            SignKind::LogGap {
                until: 13 * MINUTE,
                pace: 1_000,
                restarted: true
            }
        );
    }
}
