//! Prometheus alerting and recording rules as read from the users' rules files: groups with
//! their evaluation interval, alerting rules with `for`, `keep_firing_for`, labels and
//! annotations, recording rules with their name. Plain data: `ingest::rules` reads them,
//! `detect::rules` evaluates them.

use std::collections::BTreeMap;

use super::Millis;

/// What an alerting rule holds besides its expression.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertingRule {
    pub alert: String,
    pub for_ms: Millis,
    pub keep_firing_for_ms: Millis,
    pub annotations: BTreeMap<String, String>,
}

/// An alerting or a recording rule.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    Alerting(AlertingRule),
    /// `record: name`: its result is stored as series named `name`.
    Recording(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub kind: RuleKind,
    pub expr: String,
    pub labels: BTreeMap<String, String>,
}

impl Rule {
    /// The alert's or the recorded series' name.
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Alerting(a) => &a.alert,
            RuleKind::Recording(r) => r,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    /// The group's `interval`, if it sets one.
    pub interval_ms: Option<Millis>,
    pub rules: Vec<Rule>,
}

/// Everything read from one rules file, and what could not be used.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleSet {
    pub groups: Vec<RuleGroup>,
    /// One message per rule or group that was passed over (naming it and why).
    pub problems: Vec<String>,
}

#[derive(serde::Serialize)]
struct FileOut<'a> {
    groups: Vec<GroupOut<'a>>,
}

#[derive(serde::Serialize)]
struct GroupOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval: Option<String>,
    rules: Vec<RuleOut<'a>>,
}

#[derive(serde::Serialize)]
struct RuleOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    alert: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<&'a str>,
    expr: &'a str,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    for_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_firing_for: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

impl RuleSet {
    /// The rules as a Prometheus rules file (`groups:`), durations in Prometheus' syntax.
    pub fn to_yaml(&self) -> Result<String, String> {
        use super::time::format_duration;
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        let nonzero = |ms: Millis| (ms > 0).then(|| format_duration(ms));
        let out = FileOut {
            groups: self
                .groups
                .iter()
                .map(|g| GroupOut {
                    name: &g.name,
                    interval: g.interval_ms.map(format_duration),
                    rules: g
                        .rules
                        .iter()
                        .map(|r| {
                            let (alert, record, for_, keep, annotations) = match &r.kind {
                                RuleKind::Alerting(a) => (
                                    Some(a.alert.as_str()),
                                    None,
                                    nonzero(a.for_ms),
                                    nonzero(a.keep_firing_for_ms),
                                    &a.annotations,
                                ),
                                RuleKind::Recording(n) => {
                                    (None, Some(n.as_str()), None, None, &NONE)
                                }
                            };
                            RuleOut {
                                alert,
                                record,
                                expr: &r.expr,
                                for_,
                                keep_firing_for: keep,
                                labels: &r.labels,
                                annotations,
                            }
                        })
                        .collect(),
                })
                .collect(),
        };
        serde_saphyr::to_string(&out).map_err(|e| format!("cannot write YAML: {e}"))
    }

    pub fn alerting_rules(&self) -> impl Iterator<Item = (&RuleGroup, &Rule, &AlertingRule)> {
        self.groups.iter().flat_map(|g| {
            g.rules.iter().filter_map(move |r| match &r.kind {
                RuleKind::Alerting(a) => Some((g, r, a)),
                RuleKind::Recording(_) => None,
            })
        })
    }
}

/// Where the alerting rules evaluated over the metric dumps came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RulesSource {
    /// The runbook's HighGenerationErrorRate (no rules file given or found).
    Builtin,
    /// `--rules FILE`.
    Flag(String),
    /// Rules files found among the inputs (all of them).
    Inputs(Vec<String>),
}

impl RulesSource {
    /// In words, for the report's settings and for messages.
    pub fn describe(&self) -> String {
        match self {
            RulesSource::Builtin => "built-in (the runbook's HighGenerationErrorRate)".into(),
            RulesSource::Flag(path) => path.clone(),
            RulesSource::Inputs(names) => {
                format!("found among the inputs: {}", names.join(", "))
            }
        }
    }
}
