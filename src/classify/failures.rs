//! Error records grouped into failures, and the failures the alert counts.
//!
//! One failure is logged by several services in a cascade (the client's `Rate limit exceeded
//! after 4 attempts`, the analysis service's `Failed to analyze repository: Rate limit ...`,
//! the pipeline's `MCP server generation failed: Repository analysis failed: Rate limit ...`)
//! and echoed by the error logger (`[GraphOrchestrationService::executeGraph] ...`). Their
//! messages share the underlying error (the innermost text, see `signature::error_key`): on one
//! pod, a record whose underlying error is that of an earlier record but whose message is
//! another (a wrapper, an echo) belongs to that failure, whatever the time between them (up to
//! [`CASCADE_HORIZON`]); a record repeating an earlier message is a new failure. A record no
//! cause matched takes its failure's cause.
//!
//! What the alert counts ([`Basis`]): the records the cause table names as the operation's
//! outcome (`[[outcome]]`: each one increment of the real counter), when the input holds any;
//! else one per failure.

use crate::model::event::{CauseIdx, Sym, UNCLASSIFIED};
use crate::model::{ErrorEvent, Millis};

/// How long a failure stays open to the records that wrap or echo it.
pub const CASCADE_HORIZON: Millis = 15 * 60_000;

/// What feeds the alert's counter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Basis {
    /// The records named by the table's outcome rules.
    Outcomes,
    /// One per failure (no outcome record in the input).
    #[default]
    Failures,
}

/// A failure still open to wrappers and echoes.
struct Open {
    /// The message (masked) of its first record: a record repeating it is a new failure.
    root: Sym,
    cause: CauseIdx,
    last: Millis,
    /// The last outcome counted for it: its message and time.
    counted: Option<(Sym, Millis)>,
}

/// One pod's open failures, by underlying error.
#[derive(Default)]
struct PodFailures {
    open: foldhash::HashMap<u64, Open>,
    pruned_at: Millis,
}

/// What the counter counts under one basis: in all, and per outcome rule (by index).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counted {
    pub counted: u64,
    pub by_rule: Vec<u64>,
}

/// Groups the error records, streamed in time order, into failures and marks the counted ones.
pub struct Grouper {
    basis: Basis,
    /// A second outcome record wrapping one counted this recently is the same failure.
    nested_window: Millis,
    pods: foldhash::HashMap<Sym, PodFailures>,
    /// Records counted under the failures basis and under the outcomes basis (the run's is
    /// `basis`; a partial keeps both).
    pub as_failures: Counted,
    pub as_outcomes: Counted,
    pub failures: u64,
}

impl Grouper {
    pub fn new(basis: Basis, nested_window: Millis, outcome_rules: usize) -> Grouper {
        let counted = Counted {
            counted: 0,
            by_rule: vec![0; outcome_rules],
        };
        Grouper {
            basis,
            nested_window,
            pods: foldhash::HashMap::default(),
            as_failures: counted.clone(),
            as_outcomes: counted,
            failures: 0,
        }
    }

    /// What the run's basis counted.
    pub fn counted(&self) -> &Counted {
        match self.basis {
            Basis::Failures => &self.as_failures,
            Basis::Outcomes => &self.as_outcomes,
        }
    }

    /// Places one record (records must come in time order): sets whether it starts a failure,
    /// the cause it takes from its failure, and whether the alert counts it (under the run's
    /// basis, and under the outcomes basis whatever the run's).
    pub fn place(&mut self, r: &mut ErrorEvent) {
        let pod = self.pods.entry(r.pod).or_default();
        if r.ts - pod.pruned_at > CASCADE_HORIZON / 4 {
            pod.open.retain(|_, o| r.ts - o.last <= CASCADE_HORIZON);
            pod.pruned_at = r.ts;
        }
        let joins = pod
            .open
            .get(&r.error_key)
            .is_some_and(|o| o.root != r.signature && r.ts - o.last <= CASCADE_HORIZON);
        if !joins {
            pod.open.insert(
                r.error_key,
                Open {
                    root: r.signature,
                    cause: r.cause,
                    last: r.ts,
                    counted: None,
                },
            );
        }
        let failure = pod.open.get_mut(&r.error_key).expect("just inserted");
        r.first_of_event = !joins;
        self.failures += u64::from(!joins);
        if joins {
            failure.last = r.ts;
            if r.cause == UNCLASSIFIED {
                r.cause = failure.cause;
            } else if failure.cause == UNCLASSIFIED {
                failure.cause = r.cause;
            }
        }
        r.counted_as_outcome = r.outcome.is_some()
            && !failure
                .counted
                .is_some_and(|(sig, at)| sig != r.signature && r.ts - at <= self.nested_window);
        if r.counted_as_outcome {
            failure.counted = Some((r.signature, r.ts));
        }
        r.counted = match self.basis {
            Basis::Failures => r.first_of_event,
            Basis::Outcomes => r.counted_as_outcome,
        };
        for (counts, yes) in [
            (&mut self.as_failures, r.first_of_event),
            (&mut self.as_outcomes, r.counted_as_outcome),
        ] {
            if yes {
                counts.counted += 1;
                if let Some(n) = r
                    .outcome
                    .and_then(|rule| counts.by_rule.get_mut(rule as usize))
                {
                    *n += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: CauseIdx = 1;
    const GITHUB: CauseIdx = 4;

    /// A record on pod 1 at `ts` with underlying error `key` and message `sig`.
    fn rec(ts: Millis, key: u64, sig: Sym, cause: CauseIdx, outcome: Option<u8>) -> ErrorEvent {
        ErrorEvent {
            error_key: key,
            outcome,
            ..ErrorEvent::at(ts, cause, 1, sig)
        }
    }

    fn run(basis: Basis, records: &mut [ErrorEvent]) -> Grouper {
        let mut g = Grouper::new(basis, 250, 2);
        for r in records.iter_mut() {
            g.place(r);
        }
        g
    }

    #[test]
    fn a_cascade_is_one_failure_with_its_inner_cause_whatever_the_time() {
        // The client (classified by its logger), the analysis service 40 s later (after the
        // retries), the pipeline and the error logger's echo: one failure, GitHub's.
        let mut rs = [
            rec(0, 7, 10, GITHUB, None),
            rec(40_000, 7, 11, UNCLASSIFIED, None),
            rec(40_010, 7, 12, UNCLASSIFIED, Some(0)),
            rec(40_010, 7, 13, UNCLASSIFIED, None),
            // The next failure repeats the first message: a new failure.
            rec(90_000, 7, 10, GITHUB, None),
            rec(90_020, 7, 12, UNCLASSIFIED, Some(0)),
        ];
        let g = run(Basis::Failures, &mut rs);
        let firsts: Vec<bool> = rs.iter().map(|r| r.first_of_event).collect();
        assert_eq!(firsts, [true, false, false, false, true, false]);
        assert!(rs.iter().all(|r| r.cause == GITHUB));
        assert_eq!((g.failures, g.counted().counted), (2, 2));
        assert!(rs[0].counted && rs[4].counted && !rs[2].counted);
        // What the outcomes basis would count is known as well (a partial keeps both).
        let as_outcome: Vec<Millis> = rs
            .iter()
            .filter(|r| r.counted_as_outcome)
            .map(|r| r.ts)
            .collect();
        assert_eq!(as_outcome, [40_010, 90_020]);
        assert_eq!(g.as_outcomes.by_rule, [2, 0]);

        // With outcome records, they are what is counted, at their time.
        let mut rs2 = rs.clone();
        for r in rs2.iter_mut() {
            (r.first_of_event, r.counted) = (false, false);
        }
        let g = run(Basis::Outcomes, &mut rs2);
        let counted: Vec<Millis> = rs2.iter().filter(|r| r.counted).map(|r| r.ts).collect();
        assert_eq!(counted, [40_010, 90_020]);
        assert_eq!(g.counted().by_rule, [2, 0]);
        assert_eq!(g.as_failures.counted, 2);
    }

    #[test]
    fn nested_outcomes_count_once_and_distinct_failures_twice() {
        let mut rs = [
            // `Graph execution failed: X`, then `MCP server generation failed: Graph ...: X`.
            rec(0, 9, 20, DB, Some(1)),
            rec(3, 9, 21, UNCLASSIFIED, Some(0)),
            // The same outcome again 200 ms later: another failure.
            rec(200, 9, 20, DB, Some(1)),
        ];
        let g = run(Basis::Outcomes, &mut rs);
        let counted: Vec<bool> = rs.iter().map(|r| r.counted).collect();
        assert_eq!(counted, [true, false, true]);
        assert_eq!(g.counted().by_rule, [0, 2]);
        assert_eq!(rs[1].cause, DB);
    }

    #[test]
    fn failures_are_per_pod_and_close_after_the_horizon() {
        let mut other = rec(10, 7, 11, UNCLASSIFIED, None);
        other.pod = 2;
        let mut rs = [
            rec(0, 7, 10, GITHUB, None),
            other,
            rec(CASCADE_HORIZON + 1, 7, 11, UNCLASSIFIED, None),
        ];
        run(Basis::Failures, &mut rs);
        assert!(
            rs[1].first_of_event,
            "another pod's record starts its own failure"
        );
        assert!(rs[2].first_of_event, "too late to wrap the first");
        assert_eq!(rs[2].cause, UNCLASSIFIED);
    }
}
