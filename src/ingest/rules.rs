//! Prometheus rule files as users have them: a rules file (`groups:` with `rules:`), a
//! Kubernetes ConfigMap holding one or more (each `data` entry), or a PrometheusRule object
//! (`spec.groups`), in one YAML document or a `---` stream (or a `List` of them), read with
//! serde-saphyr (serde_yaml is deprecated). Alerting rules keep `for`, `keep_firing_for`,
//! labels and annotations; recording rules keep their name. A rule that cannot be read is
//! named with its group and why, and the others are kept. Also the built-in rule from the
//! runbook, used when no rules file is given.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::rules::{AlertingRule, Rule, RuleGroup, RuleKind, RuleSet, RulesSource};
use crate::model::time::parse_prom_duration;
use crate::model::Millis;

/// Why a rules file could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RulesError {
    pub message: String,
    pub line: Option<u64>,
}

/// The runbook's alert, as the service's Prometheus has it (system.md).
pub const BUILTIN_RULES: &str = r#"groups:
  - name: mcp-everything
    interval: 15s
    rules:
      - alert: HighGenerationErrorRate
        expr: rate(mcp_generation_errors_total[5m]) > 0.1
        for: 5m
        labels:
          severity: critical
          team: backend
        annotations:
          summary: High generation error rate
          description: "Generation error rate is {{ $value }} errors/s for {{ $labels.error_type }} on {{ $labels.pod }} (threshold 0.1/s for 5m)"
          runbook_url: runbooks/high-generation-error-rate.md
"#;

/// The built-in rule set (the runbook's HighGenerationErrorRate).
pub fn builtin() -> RuleSet {
    parse(BUILTIN_RULES).expect("the built-in rules parse")
}

/// The rules a run evaluates, where they came from, and the rules files among the inputs
/// that were not used (because `--rules` was given).
#[derive(Clone, Debug, PartialEq)]
pub struct Chosen {
    pub set: RuleSet,
    pub source: RulesSource,
    pub unused: Vec<String>,
}

/// The rules to evaluate: `--rules` (`flag`), else every rules file found among the inputs
/// (`found`: name and rules, in input order), else the built-in one.
pub fn choose(flag: Option<(RuleSet, RulesSource)>, found: Vec<(String, RuleSet)>) -> Chosen {
    let names: Vec<String> = found.iter().map(|(n, _)| n.clone()).collect();
    if let Some((set, source)) = flag {
        return Chosen {
            set,
            source,
            unused: names,
        };
    }
    if found.is_empty() {
        return Chosen {
            set: builtin(),
            source: RulesSource::Builtin,
            unused: Vec::new(),
        };
    }
    let mut set = RuleSet::default();
    for (_, r) in found {
        set.groups.extend(r.groups);
        set.problems.extend(r.problems);
    }
    Chosen {
        set,
        source: RulesSource::Inputs(names),
        unused: Vec::new(),
    }
}

/// Parses a rules file, a ConfigMap or a PrometheusRule (or a stream or list of them).
pub fn parse(text: &str) -> Result<RuleSet, RulesError> {
    let docs = super::yaml::documents(text).map_err(|e| RulesError {
        message: e.message,
        line: e.line,
    })?;
    let mut out = RuleSet::default();
    let mut recognised = false;
    for doc in &docs {
        recognised |= walk(doc, &mut out)?;
    }
    if !recognised {
        return Err(RulesError {
            message: "no rule groups in it: expected a Prometheus rules file (`groups:` with `rules:`), a ConfigMap holding one, or a PrometheusRule".into(),
            line: None,
        });
    }
    Ok(out)
}

/// Reads one document; returns whether it held rule groups.
fn walk(doc: &Value, out: &mut RuleSet) -> Result<bool, RulesError> {
    if let Some(groups) = doc.get("groups") {
        groups_of(groups, out);
        return Ok(true);
    }
    match doc.get("kind").and_then(Value::as_str).unwrap_or("") {
        "PrometheusRule" => {
            let groups = doc.get("spec").and_then(|s| s.get("groups"));
            match groups {
                Some(g) => groups_of(g, out),
                None => out
                    .problems
                    .push("PrometheusRule without spec.groups: nothing in it".into()),
            }
            Ok(true)
        }
        "ConfigMap" => {
            let mut any = false;
            if let Some(Value::Object(data)) = doc.get("data") {
                for (key, v) in data {
                    let Some(text) = v.as_str() else { continue };
                    if !text.contains("groups:") {
                        continue;
                    }
                    match parse(text) {
                        Ok(set) => {
                            out.groups.extend(set.groups);
                            out.problems.extend(
                                set.problems
                                    .into_iter()
                                    .map(|p| format!("ConfigMap key {key}: {p}")),
                            );
                            any = true;
                        }
                        Err(e) => out.problems.push(format!(
                            "ConfigMap key {key}: {}{}",
                            e.message,
                            e.line
                                .map_or(String::new(), |l| format!(" (line {l} of the key)"))
                        )),
                    }
                }
            }
            Ok(any)
        }
        "List" => {
            let mut any = false;
            if let Some(Value::Array(items)) = doc.get("items") {
                for item in items {
                    any |= walk(item, out)?;
                }
            }
            Ok(any)
        }
        _ => Ok(false),
    }
}

fn groups_of(groups: &Value, out: &mut RuleSet) {
    let Some(groups) = groups.as_array() else {
        out.problems
            .push("`groups` is not a list: nothing read".into());
        return;
    };
    for (gi, g) in groups.iter().enumerate() {
        let name = g
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("(group {})", gi + 1), str::to_owned);
        let interval_ms = match g.get("interval") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_str().and_then(parse_prom_duration) {
                Some(ms) if ms > 0 => Some(ms),
                _ => {
                    out.problems.push(format!(
                        "group {name}: interval {v} is not a duration like 15s or 1m; the default applies"
                    ));
                    None
                }
            },
        };
        let mut rules = Vec::new();
        for (ri, r) in g
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            match rule(r) {
                Ok(rule) => rules.push(rule),
                Err(why) => out
                    .problems
                    .push(format!("group {name}, rule {}: {why}; skipped", ri + 1)),
            }
        }
        out.groups.push(RuleGroup {
            name,
            interval_ms,
            rules,
        });
    }
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(m)) = v {
        for (k, v) in m {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            out.insert(k.clone(), s);
        }
    }
    out
}

fn rule(r: &Value) -> Result<Rule, String> {
    let expr = match r.get("expr") {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("no `expr`".into()),
    };
    let duration = |key: &str, who: &str| -> Result<Millis, String> {
        match r.get(key) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => v
                .as_str()
                .and_then(parse_prom_duration)
                .ok_or_else(|| format!("{who}: `{key}: {v}` is not a duration like 5m or 1h")),
        }
    };
    let labels = string_map(r.get("labels"));
    let kind = match (
        r.get("alert").and_then(Value::as_str),
        r.get("record").and_then(Value::as_str),
    ) {
        (Some(alert), None) => RuleKind::Alerting(AlertingRule {
            alert: alert.to_owned(),
            for_ms: duration("for", alert)?,
            keep_firing_for_ms: duration("keep_firing_for", alert)?,
            annotations: string_map(r.get("annotations"))
                .into_iter()
                .map(|(k, v)| (k, crate::redact::owned(&v)))
                .collect(),
        }),
        (None, Some(record)) => RuleKind::Recording(record.to_owned()),
        (Some(_), Some(_)) => return Err("both `alert` and `record`".into()),
        (None, None) => return Err("neither `alert` nor `record`".into()),
    };
    Ok(Rule { kind, expr, labels })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_given_beat_rules_found_which_beat_the_builtin_one() {
        let file =
            |name: &str| parse(&BUILTIN_RULES.replace("HighGenerationErrorRate", name)).unwrap();
        let found = vec![
            ("a.yml".to_owned(), file("A")),
            ("b.yml".to_owned(), file("B")),
        ];
        let flag = (file("F"), RulesSource::Flag("f.yml".into()));
        let chosen = choose(Some(flag.clone()), found.clone());
        assert_eq!(chosen.set, flag.0);
        assert_eq!(chosen.unused, ["a.yml", "b.yml"]);
        let chosen = choose(None, found);
        assert_eq!(chosen.set.groups.len(), 2);
        assert_eq!(
            chosen.source.describe(),
            "found among the inputs: a.yml, b.yml"
        );
        let chosen = choose(None, Vec::new());
        assert_eq!(chosen.source, RulesSource::Builtin);
        assert_eq!(chosen.set, builtin());
    }

    #[test]
    fn the_builtin_rule_is_the_runbooks() {
        let set = builtin();
        let (g, r, a) = set.alerting_rules().next().unwrap();
        assert_eq!(g.interval_ms, Some(15_000));
        assert_eq!(a.alert, "HighGenerationErrorRate");
        assert_eq!(a.for_ms, 300_000);
        assert_eq!(r.expr, "rate(mcp_generation_errors_total[5m]) > 0.1");
        assert_eq!(r.labels["severity"], "critical");
    }

    #[test]
    fn configmap_and_prometheusrule_and_bad_rules() {
        let cm = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: prometheus-rules, namespace: monitoring}
data:
  prometheus.yml: |
    global: {evaluation_interval: 15s}
  alerts.yml: |
    groups:
      - name: mcp
        rules:
          - alert: NoGenerations
            expr: sum(rate(mcp_generation_total[1h])) == 0
            for: 1h
          - alert: Broken
            expr: up == 0
            for: soon
          - record: job:errors:rate5m
            expr: sum(rate(mcp_generation_errors_total[5m]))
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: mcp}
spec:
  groups:
    - name: memory
      interval: 30s
      rules:
        - alert: HighMemoryUsage
          expr: mcp_process_resident_memory_bytes / 1024 / 1024 / 1024 > 1.5
          for: 10m
          keep_firing_for: 2m
"#;
        let set = parse(cm).unwrap();
        assert_eq!(set.groups.len(), 2);
        assert_eq!(set.groups[0].rules.len(), 2);
        assert_eq!(
            set.groups[0].rules[1].kind,
            RuleKind::Recording("job:errors:rate5m".into())
        );
        assert!(
            set.problems[0].contains("group mcp, rule 2: Broken: `for: \"soon\"`"),
            "{:?}",
            set.problems
        );
        let mem = &set.groups[1];
        assert_eq!(mem.interval_ms, Some(30_000));
        let RuleKind::Alerting(a) = &mem.rules[0].kind else {
            panic!()
        };
        assert_eq!(a.keep_firing_for_ms, 120_000);
        assert!(
            parse("groups: [\n  - name: x\n    rules: [ {alert: A, expr: up}\n")
                .unwrap_err()
                .message
                .starts_with("malformed YAML")
        );
        assert!(parse("kind: Pod\n").is_err());
    }
}
