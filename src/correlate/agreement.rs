//! Whether the two answers for the runbook's alert agree: the reconstruction from the logs
//! and the rule evaluated over the metric dumps (Prometheus' own counter).

use crate::model::{AlertInstance, Millis};

/// When an answer first fired, and when that alert resolved (`None`: still firing at the end
/// of the data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fired {
    pub firing_at: Millis,
    pub resolved_at: Option<Millis>,
}

/// The two answers: `None` where one never fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Agreement {
    pub metrics: Option<Fired>,
    pub logs: Option<Fired>,
}

impl Agreement {
    /// Both never fired, or both fired and resolved at the same evaluations.
    pub fn agrees(&self) -> bool {
        self.metrics == self.logs
    }
}

/// The first firing among `alerts`.
fn first_fired<'a>(alerts: impl Iterator<Item = &'a AlertInstance>) -> Option<Fired> {
    alerts
        .filter_map(|a| {
            a.firing_at.map(|f| Fired {
                firing_at: f,
                resolved_at: a.resolved_at,
            })
        })
        .min_by_key(|x| x.firing_at)
}

/// Compares the metrics' alerts for the rule with the logs'.
pub fn agreement<'a>(
    metrics: impl Iterator<Item = &'a AlertInstance>,
    logs: impl Iterator<Item = &'a AlertInstance>,
) -> Agreement {
    Agreement {
        metrics: first_fired(metrics),
        logs: first_fired(logs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AlertSource;

    fn fired(firing: Millis, resolved: Option<Millis>) -> AlertInstance {
        AlertInstance {
            alertname: "A".into(),
            source: AlertSource::Logs,
            labels: Default::default(),
            is_total: false,
            pending_at: firing - 300_000,
            firing_at: Some(firing),
            resolved_at: resolved,
            peak_rate: 1.0,
            peak_at: firing,
            last_active: firing,
        }
    }

    #[test]
    fn the_first_firing_of_each_answer_is_compared() {
        let m = [fired(2_000, Some(9_000)), fired(1_000, Some(5_000))];
        let l = [fired(1_000, Some(5_000))];
        let a = agreement(m.iter(), l.iter());
        assert!(a.agrees());
        assert_eq!(a.metrics.unwrap().resolved_at, Some(5_000));
        let l = [fired(1_000, Some(6_000))];
        assert!(!agreement(m.iter(), l.iter()).agrees());
        let none = agreement([].iter(), [].iter());
        assert!(none.agrees() && none.metrics.is_none());
    }
}
