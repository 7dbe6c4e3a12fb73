//! Container terminations from the pod exports, read with the logs: the error records on the
//! pod just before and after each, and its cause (the cause table's `reasons`, or Node's heap
//! abort: exit code 134 right after a memory error, which the pod status only calls `Error`).

use polars::prelude::PolarsResult;

use super::events::{CauseTally, Events};
use crate::classify::{CauseTable, EventTable};
use crate::config::Window;
use crate::model::cluster::{ClusterObjects, Termination};
use crate::model::event::CauseIdx;

/// Exit code of a process killed by SIGABRT (Node aborts so when its heap runs out).
pub const EXIT_ABORT: i64 = 134;

/// How a termination's cause was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CauseBasis {
    /// Its reason is one the cause's `reasons` list (`OOMKilled` -> memory_exhaustion).
    Reason,
    /// Exit code 134 (abort) right after a memory_exhaustion error on the pod: Node's heap
    /// ran out.
    HeapAbort,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TerminationFinding {
    pub termination: Termination,
    pub cause: Option<(CauseIdx, CauseBasis)>,
    /// Error records on the pod, by cause, in the five minutes up to the termination (its
    /// minute included) and in the five minutes after it (empty without a finish time).
    pub errors_before: CauseTally,
    pub errors_after: CauseTally,
}

/// Every container termination the pods record inside the window (one without a time is
/// kept), with the errors around it and its cause.
pub fn terminations(
    cluster: &ClusterObjects,
    causes: &CauseTable,
    window: &Window,
    (table, events): (&EventTable, &Events),
) -> PolarsResult<Vec<TerminationFinding>> {
    let memory = causes.index("memory_exhaustion");
    let mut out = Vec::new();
    for t in cluster.terminations() {
        if t.finished_at
            .or(t.started_at)
            .is_some_and(|at| !window.contains(at))
        {
            continue;
        }
        let mut cause = causes
            .cause_for_reason(&t.reason)
            .map(|c| (c, CauseBasis::Reason));
        let (mut errors_before, mut errors_after) = (CauseTally::new(), CauseTally::new());
        if let (Some(at), Some(pod)) = (t.finished_at, table.syms.lookup(&t.pod)) {
            (errors_before, errors_after) = events.errors_around(pod, at)?;
            let heap = memory.filter(|m| errors_before.contains_key(m));
            if let (None, EXIT_ABORT, Some(m)) = (cause, t.exit_code, heap) {
                cause = Some((m, CauseBasis::HeapAbort));
            }
        }
        out.push(TerminationFinding {
            termination: t,
            cause,
            errors_before,
            errors_after,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::events::EventsBuilder;
    use crate::model::cluster::{ContainerInfo, ContainerState, PodInfo};
    use crate::model::{ErrorEvent, Interner};

    const T: i64 = 1_763_630_000_000;

    fn pod(reason: &str, exit_code: i64, finished_at: i64) -> PodInfo {
        PodInfo {
            name: "web-1".into(),
            namespace: "ns".into(),
            phase: "Running".into(),
            node: String::new(),
            containers: vec![ContainerInfo {
                name: "app".into(),
                init: false,
                ready: true,
                restart_count: 1,
                state: None,
                last_state: Some(ContainerState::Terminated {
                    reason: reason.into(),
                    exit_code,
                    started_at: None,
                    finished_at: Some(finished_at),
                    message: String::new(),
                }),
                memory_limit: None,
                memory_limit_bytes: None,
                memory_request: None,
                cpu_limit: None,
                cpu_request: None,
            }],
        }
    }

    /// The table and events of one error of `cause` on pod `web-1` at `ts`.
    fn one_error(causes: &CauseTable, cause: &str, ts: i64) -> (EventTable, Events) {
        let mut syms = Interner::new();
        let pod = syms.intern("web-1");
        let mut b = EventsBuilder::default();
        b.add(&ErrorEvent::at(ts, causes.index(cause).unwrap(), pod, 0));
        let table = EventTable {
            syms,
            ..EventTable::default()
        };
        let events = Events::build(b, &table, causes).unwrap();
        (table, events)
    }

    #[test]
    fn an_abort_right_after_a_heap_error_is_memory_exhaustion() {
        let causes = CauseTable::builtin();
        let memory = causes.index("memory_exhaustion").unwrap();
        let (table, events) = one_error(&causes, "memory_exhaustion", T - 30_000);
        let cluster = ClusterObjects {
            events: Vec::new(),
            pods: vec![pod("Error", EXIT_ABORT, T)],
        };
        let found = terminations(&cluster, &causes, &Window::default(), (&table, &events)).unwrap();
        assert_eq!(found[0].cause, Some((memory, CauseBasis::HeapAbort)));
        assert_eq!(found[0].errors_before.get(&memory), Some(&1));
        assert!(found[0].errors_after.is_empty());

        // The same abort after a database error says nothing of memory.
        let (table, events) = one_error(&causes, "database_error", T - 30_000);
        let found = terminations(&cluster, &causes, &Window::default(), (&table, &events)).unwrap();
        assert_eq!(found[0].cause, None);
    }

    #[test]
    fn reasons_map_to_causes_and_the_window_applies() {
        let causes = CauseTable::builtin();
        let (table, events) = one_error(&causes, "database_error", T + 120_000);
        let cluster = ClusterObjects {
            events: Vec::new(),
            pods: vec![pod("OOMKilled", 137, T)],
        };
        let found = terminations(&cluster, &causes, &Window::default(), (&table, &events)).unwrap();
        let memory = causes.index("memory_exhaustion").unwrap();
        assert_eq!(found[0].cause, Some((memory, CauseBasis::Reason)));
        let database = causes.index("database_error").unwrap();
        assert_eq!(found[0].errors_after.get(&database), Some(&1));
        let window = Window {
            since: Some(T + 1),
            ..Window::default()
        };
        assert!(terminations(&cluster, &causes, &window, (&table, &events))
            .unwrap()
            .is_empty());
    }
}
