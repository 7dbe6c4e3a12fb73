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

impl RuleSet {
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
