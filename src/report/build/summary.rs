//! The story, first: a few plain sentences from the findings (what happened, when, how big,
//! why) and the root causes ranked by the gravity of their evidence (a container killed or
//! crash-looping before a stream of client errors), each with its reason in one line.

use chrono::DateTime;

use crate::config::Config;
use crate::correlate::remediation::{Remedy, Severity, Sighting};
use crate::correlate::Analysis;
use crate::model::time::format_duration;
use crate::model::{AlertSource, Millis};
use crate::report::model::{
    Alert, CauseSummary, EventDoc, Infrastructure, RootCause, Summary, Verdict,
};

/// Milliseconds of an RFC 3339 time the report wrote.
fn ms(t: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// `b - a`, humanized to the second (`38m36s`), when both are times.
fn between(a: Option<&String>, b: Option<&String>) -> Option<String> {
    let (a, b) = (ms(a?)?, ms(b?)?);
    (b >= a).then(|| format_duration((b - a + 500) / 1000 * 1000))
}

/// `2026-11-20T09:48:34.287Z` as `09:48:34` (the date is said once).
fn clock(t: &str) -> String {
    t.get(11..19).unwrap_or(t).to_owned()
}

pub struct Parts<'a> {
    pub events: &'a [EventDoc],
    pub verdict: &'a Verdict,
    pub causes: &'a [CauseSummary],
    pub alerts: &'a [Alert],
    pub infrastructure: &'a Infrastructure,
}

pub fn summary(cfg: &Config, a: &Analysis, p: &Parts<'_>) -> Summary {
    let root_causes: Vec<RootCause> = a
        .findings
        .remedies
        .iter()
        .enumerate()
        .map(|(i, r)| root_cause(cfg, r, i + 1, p))
        .collect();
    Summary {
        sentences: sentences(cfg, p, &root_causes),
        trigger: trigger(cfg, p),
        impact: impact(p),
        detection: detection(cfg, p),
        resolution: resolution(p),
        lessons: lessons(cfg, p),
        root_causes,
    }
}

/// The first errors of the cause whose series fired first (else of the top cause).
fn trigger(cfg: &Config, p: &Parts<'_>) -> Option<String> {
    let name = &cfg.alert.name;
    let fired = p
        .alerts
        .iter()
        .filter(|a| a.alertname == *name && a.scope == "series" && a.firing_at.is_some())
        .min_by(|a, b| a.firing_at.cmp(&b.firing_at))
        .and_then(|a| a.labels.get("error_type"));
    let cause = match fired {
        Some(id) => p.causes.iter().find(|c| &c.id == id)?,
        None => p.causes.first()?,
    };
    Some(format!(
        "{} ({}) from {}{}",
        cause.title,
        cause.id,
        clock(&cause.first_seen),
        if fired.is_some() {
            ", whose errors made the alert fire"
        } else {
            ", the most failures"
        }
    ))
}

/// What the incident cost: failed operations and when, pods hit, containers lost.
fn impact(p: &Parts<'_>) -> Vec<String> {
    let v = p.verdict;
    let mut out = Vec::new();
    if v.error_events == 0 && v.error_records == 0 {
        return out;
    }
    let first = p.causes.iter().map(|c| &c.first_seen).min();
    let last = p.causes.iter().map(|c| &c.last_seen).max();
    let mut pods: Vec<&str> = p
        .causes
        .iter()
        .flat_map(|c| c.by_pod.iter())
        .filter(|(_, n)| n.events > 0)
        .map(|(pod, _)| pod.as_str())
        .collect();
    pods.sort_unstable();
    pods.dedup();
    out.push(format!(
        "{} operations failed ({} error records) between {} and {}{}.",
        v.error_events,
        v.error_records,
        first.map_or("?".into(), |f| clock(f)),
        last.map_or("?".into(), |l| clock(l)),
        if pods.is_empty() {
            String::new()
        } else {
            format!(
                ", on {} pod{}: {}",
                pods.len(),
                if pods.len() == 1 { "" } else { "s" },
                pods.join(", ")
            )
        }
    ));
    let lost: Vec<String> = p
        .infrastructure
        .terminations
        .iter()
        .map(|t| {
            format!(
                "{} of {} ({}, exit code {}{})",
                t.container,
                t.pod,
                t.reason,
                t.exit_code,
                t.finished_at
                    .as_deref()
                    .map_or(String::new(), |f| format!(", at {}", clock(f)))
            )
        })
        .collect();
    if !lost.is_empty() {
        out.push(format!(
            "{} container{} terminated: {}.",
            lost.len(),
            if lost.len() == 1 { "" } else { "s" },
            lost.join("; ")
        ));
    }
    out
}

/// How it ended: when the alert resolved, and what changed after it fired (restarts, new
/// pods, scaling) that the inputs show.
fn resolution(p: &Parts<'_>) -> Vec<String> {
    let v = p.verdict;
    let mut out = Vec::new();
    let Some(from) = v.firing_from.as_ref() else {
        return out;
    };
    match v.firing_until.as_ref() {
        Some(u) => out.push(format!(
            "The alert resolved at {} after firing {}.",
            clock(u),
            between(Some(from), Some(u)).unwrap_or_default()
        )),
        None => out.push("The alert was still firing where the data ends.".to_owned()),
    }
    let after = |t: &str| ms(t) >= ms(from);
    let mut changes: Vec<(String, String)> = p
        .infrastructure
        .seen_in_logs
        .iter()
        .filter(|s| s.kind == "process_started" && after(&s.time))
        .map(|s| {
            (
                s.time.clone(),
                format!("{} started at {}", s.pod, clock(&s.time)),
            )
        })
        .chain(
            p.events
                .iter()
                .filter(|e| e.reason == "ScalingReplicaSet" && after(&e.time))
                .map(|e| {
                    (
                        e.time.clone(),
                        format!("{} at {}", e.message, clock(&e.time)),
                    )
                }),
        )
        .collect();
    changes.sort();
    if !changes.is_empty() {
        let said: Vec<String> = changes.into_iter().map(|(_, s)| s).collect();
        out.push(format!("After it fired: {}.", said.join("; ")));
    }
    out
}

/// How the alert caught it: from the errors that fired it to firing, per series against the
/// sum, and what the other rules said.
fn detection(cfg: &Config, p: &Parts<'_>) -> Vec<String> {
    let v = p.verdict;
    let name = &cfg.alert.name;
    let mut out = Vec::new();
    // The cause whose series fired first, and when its errors began.
    let firing_cause = p
        .alerts
        .iter()
        .filter(|a| a.alertname == *name && a.scope == "series" && a.firing_at.is_some())
        .min_by(|a, b| a.firing_at.cmp(&b.firing_at))
        .and_then(|a| a.labels.get("error_type"))
        .and_then(|c| p.causes.iter().find(|x| &x.id == c));
    if let (Some(c), Some(f)) = (firing_cause, v.firing_from.as_ref()) {
        out.push(format!(
            "The errors that fired it ({}) began at {}; the alert fired {} later, {} of it the rule's for duration.",
            c.id,
            clock(&c.first_seen),
            between(Some(&c.first_seen), Some(f)).unwrap_or_else(|| "?".into()),
            format_duration(cfg.alert.for_ms)
        ));
    }
    let total = p
        .alerts
        .iter()
        .filter(|a| a.alertname == *name && a.scope == "total" && a.source == AlertSource::Logs)
        .filter_map(|a| a.firing_at.as_ref())
        .min();
    match (total, v.firing_from.as_ref()) {
        (Some(t), Some(f)) if ms(t) < ms(f) => out.push(format!(
            "Summed over all series the rate would have fired at {} ({} earlier); the rule is per series.",
            clock(t),
            between(Some(t), Some(f)).unwrap_or_default()
        )),
        (Some(t), None) => out.push(format!(
            "Summed over all series the rate would have fired at {}; the rule is per series, so it did not page.",
            clock(t)
        )),
        _ => {}
    }
    let others: Vec<String> = p
        .alerts
        .iter()
        .filter(|a| a.alertname != *name && a.source == AlertSource::Metrics)
        .filter_map(|a| Some((a.firing_at.as_ref()?, a)))
        .map(|(f, a)| {
            format!(
                "{} at {}{}",
                a.alertname,
                clock(f),
                a.labels
                    .get("pod")
                    .map_or(String::new(), |pod| format!(" ({pod})"))
            )
        })
        .collect();
    if !others.is_empty() {
        out.push(format!("Other rules that fired: {}.", others.join(", ")));
    }
    out
}

/// What to learn beyond this incident: rules that cannot fire as configured, and client
/// errors the alert counts as the service's.
fn lessons(cfg: &Config, p: &Parts<'_>) -> Vec<String> {
    let mut out: Vec<String> = p
        .infrastructure
        .findings
        .iter()
        .map(|f| format!("{f}."))
        .collect();
    let client: Vec<&CauseSummary> = p
        .causes
        .iter()
        .filter(|c| c.events > 0)
        .filter(|c| cfg.causes.causes.iter().any(|x| x.id == c.id && x.client))
        .collect();
    let counted: u64 = p.verdict.error_events;
    for c in client {
        out.push(format!(
            "{} of the {counted} failures the alert counted were the clients' errors ({}): a rule on the service's health could leave them out (count 4xx apart from 5xx).",
            c.events, c.id
        ));
    }
    out
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::ContainerDown => "container_down",
        Severity::Fired => "fired",
        Severity::Counted => "counted",
        Severity::ClientErrors => "client_errors",
        Severity::Uncounted => "uncounted",
    }
}

fn root_cause(cfg: &Config, r: &Remedy, rank: usize, p: &Parts<'_>) -> RootCause {
    let id = cfg.causes.id(r.cause).to_owned();
    let doc = p.causes.iter().find(|c| c.id == id);
    let share = doc.map_or(0.0, |d| d.share * 100.0);
    let (counted, records) = r
        .logs
        .as_ref()
        .map_or((0, 0), |l| (l.counts.events, l.counts.records));
    let why = match r.severity {
        Severity::ContainerDown => down(r, p),
        Severity::Fired => format!(
            "{share:.0}% of the failures ({counted}); its errors alone made the alert fire on {}",
            r.logs
                .as_ref()
                .map(|l| l.fired_pods.join(", "))
                .unwrap_or_default()
        ),
        Severity::Counted => format!(
            "{share:.0}% of the failures ({counted}), none of its series firing on its own"
        ),
        Severity::ClientErrors => format!(
            "{counted} failed requests ({share:.0}%) were invalid input: the clients' errors, not the service's"
        ),
        Severity::Uncounted if records > 0 && r.cause == crate::model::event::UNCLASSIFIED => {
            format!("{records} error records match no cause of the table")
        }
        Severity::Uncounted if records > 0 => {
            format!("{records} error records, none of them a failure the alert counts")
        }
        Severity::Uncounted => "seen only in the cluster's events".to_owned(),
    };
    RootCause {
        rank,
        cause: id,
        title: if r.cause == crate::model::event::UNCLASSIFIED {
            "Errors matching no known cause".to_owned()
        } else {
            cfg.causes.title(r.cause).to_owned()
        },
        severity: severity_name(r.severity).to_owned(),
        pod: (!r.pod.is_empty()).then(|| r.pod.clone()),
        why,
    }
}

/// Why a container-down cause ranks first: its termination (or event), and the memory it
/// reached against its limit when the dumps say.
fn down(r: &Remedy, p: &Parts<'_>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for s in r.sightings.iter().take(2) {
        match s {
            Sighting::Termination {
                container,
                pod,
                reason,
                exit_code,
                finished_at,
            } => {
                let mut t = format!("container {container} of {pod} was terminated ({reason}, exit code {exit_code})");
                if let Some(f) = finished_at {
                    t.push_str(&format!(
                        " at {}",
                        clock(&crate::model::time::format_rfc3339(*f))
                    ));
                }
                if let Some(m) = p.infrastructure.memory.iter().find(|m| &m.pod == pod) {
                    if let Some(share) = m.peak_share_of_limit {
                        t.push_str(&format!(
                            ", its memory at {:.0}% of its limit at {}",
                            share * 100.0,
                            clock(&m.peak_at)
                        ));
                    }
                }
                parts.push(t);
            }
            Sighting::Event(e) => parts.push(format!(
                "{} {} on {} ({}x)",
                e.kind,
                e.reason,
                e.object.display(),
                e.count
            )),
        }
    }
    if parts.is_empty() {
        "a container went down".to_owned()
    } else {
        parts.join("; ")
    }
}

/// What happened, when, how big, why: four sentences or fewer.
fn sentences(cfg: &Config, p: &Parts<'_>, roots: &[RootCause]) -> Vec<String> {
    let v = p.verdict;
    let name = &cfg.alert.name;
    let source = if v.basis == "metrics" {
        AlertSource::Metrics
    } else {
        AlertSource::Logs
    };
    let fired: Vec<&Alert> = p
        .alerts
        .iter()
        .filter(|a| a.source == source && a.scope == "series" && a.alertname == *name)
        .filter(|a| a.firing_at.is_some())
        .collect();
    let mut out = Vec::new();
    let day = v
        .incident_start
        .as_deref()
        .and_then(|t| t.get(..10))
        .unwrap_or("");
    if fired.is_empty() {
        out.push(format!(
            "{name} did not fire{}: the highest series rate was {:.3}/s against a threshold of {}/s.",
            if v.total_only {
                " (the total over all series crossed the threshold, but the rule is per series)"
            } else {
                ""
            },
            v.peak_rate.unwrap_or(0.0),
            cfg.alert.threshold
        ));
    } else {
        let series: Vec<String> = fired
            .iter()
            .map(|a| {
                let what = a.labels.get("error_type").map_or("", String::as_str);
                let pod = a.labels.get("pod").map_or("", String::as_str);
                format!("{what} on {pod}").trim().to_owned()
            })
            .collect();
        let lasted = between(v.firing_from.as_ref(), v.firing_until.as_ref());
        out.push(format!(
            "{name} fired on {day} for {} series ({}) from {} to {}{}.",
            fired.len(),
            series.join("; "),
            v.firing_from.as_deref().map_or(String::new(), clock),
            v.firing_until
                .as_deref()
                .map_or("the end of the data".to_owned(), clock),
            lasted.map_or(String::new(), |d| format!(" UTC, {d}"))
        ));
    }
    let first_error = p.causes.iter().map(|c| &c.first_seen).min();
    let pending = p
        .alerts
        .iter()
        .filter(|a| a.source == source && a.scope == "series" && a.alertname == *name)
        .filter_map(|a| a.pending_at.as_ref())
        .min();
    let firing = v.firing_from.as_ref();
    let mut when = Vec::new();
    if let Some(f) = first_error {
        when.push(format!("The first error was logged at {}", clock(f)));
    }
    if let Some(pd) = pending {
        when.push(format!(
            "the alert went pending at {}{}",
            clock(pd),
            between(first_error, Some(pd)).map_or(String::new(), |d| format!(" ({d} later)"))
        ));
    }
    if let (Some(pd), Some(f)) = (pending, firing) {
        when.push(format!(
            "fired at {}{}",
            clock(f),
            between(Some(pd), Some(f)).map_or(String::new(), |d| format!(" ({d} after pending)"))
        ));
    }
    if !when.is_empty() {
        out.push(when.join(", ") + ".");
    }
    if v.error_events > 0 && fired.is_empty() {
        out.push(format!(
            "{} operations failed ({} error records){}.",
            v.error_events,
            v.error_records,
            v.peak_total_rate.map_or(String::new(), |t| format!(
                "; all series together peaked at {t:.3}/s"
            ))
        ));
    } else if v.error_events > 0 {
        let peak = v.peak_rate.unwrap_or(0.0);
        out.push(format!(
            "{} operations failed ({} error records); the highest series rate was {peak:.3}/s{}.",
            v.error_events,
            v.error_records,
            if cfg.alert.threshold > 0.0 {
                format!(
                    ", {:.1}x the {}/s threshold",
                    peak / cfg.alert.threshold,
                    cfg.alert.threshold
                )
            } else {
                String::new()
            }
        ));
    }
    let top: Vec<String> = roots
        .iter()
        .filter(|r| r.severity != "uncounted")
        .take(3)
        .map(|r| format!("{} ({})", r.title, short(&r.why)))
        .collect();
    if !top.is_empty() {
        out.push(format!("Root causes, gravest first: {}.", top.join("; ")));
    }
    out
}

/// The first clause of a reason.
fn short(why: &str) -> &str {
    why.split(['(', ';'])
        .next()
        .unwrap_or(why)
        .trim_end_matches([',', ' '])
}
