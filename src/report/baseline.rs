//! This run against a baseline: an earlier run's `report.json`, or its inputs analysed the same
//! way (both read through the same JSON, so a kept artifact and a re-analysis compare alike).
//! What is compared: message signatures (new ones and gone ones, by masked text), each
//! cause's error events per hour of input (rises beyond `--max-increase` and by at least
//! [`MIN_EVENTS`]), and the alerts that fire now but did not (by name and `error_type`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::{BaselineDoc, CauseIncrease, SignatureDoc};
use crate::model::time::{parse_time_in, Zone};

/// The fewest events by which a cause must rise to count.
pub const MIN_EVENTS: u64 = 5;

/// What one run is compared by.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    pub source: String,
    pub error_records: u64,
    /// The inputs' span, in hours (at least a minute).
    pub hours: f64,
    pub signatures: Vec<SignatureDoc>,
    /// Error events (counted failures) per cause.
    pub events: BTreeMap<String, u64>,
    /// Fired alerts: `NAME` or `NAME{error_type=X}`.
    pub alerts: BTreeSet<String>,
}

/// Whether `v` is a postmortem `report.json`.
pub fn is_report(v: &Value) -> bool {
    v.get("schema_version").is_some() && v["tool"]["name"] == "postmortem"
}

/// The profile of a report (as JSON).
pub fn profile(v: &Value, source: &str) -> Result<Profile, String> {
    if !is_report(v) {
        return Err("not a postmortem report.json".into());
    }
    if v.get("signatures").is_none() {
        return Err("a report.json of an older postmortem (no `signatures`): re-run it, or give the baseline's inputs".into());
    }
    let signatures: Vec<SignatureDoc> = serde_json::from_value(v["signatures"].clone())
        .map_err(|e| format!("its signatures: {e}"))?;
    let events = v["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["id"].as_str()?.to_owned(), c["events"].as_u64()?)))
        .collect();
    let basis = v["verdict"]["basis"].as_str().unwrap_or("logs");
    let alerts = v["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| !a["firing_at"].is_null() && a["scope"] == "series" && a["source"] == basis)
        .filter_map(|a| {
            let name = a["alertname"].as_str()?;
            Some(match a["labels"]["error_type"].as_str() {
                Some(t) => format!("{name}{{error_type={t}}}"),
                None => name.to_owned(),
            })
        })
        .collect();
    let times = v["inputs"]["files"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| [&f["first_ts"], &f["last_ts"]])
        .filter_map(|t| parse_time_in(t.as_str()?, Zone::Utc));
    let (lo, hi) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let hours = if lo <= hi {
        ((hi - lo) as f64 / 3_600_000.0).max(1.0 / 60.0)
    } else {
        1.0 / 60.0
    };
    Ok(Profile {
        source: source.to_owned(),
        error_records: v["verdict"]["error_records"].as_u64().unwrap_or(0),
        hours,
        signatures,
        events,
        alerts,
    })
}

/// This run (`now`) against the baseline (`then`).
pub fn compare(now: &Profile, then: &Profile, max_increase: f64) -> BaselineDoc {
    let before: BTreeSet<&str> = then
        .signatures
        .iter()
        .map(|s| s.signature.as_str())
        .collect();
    let after: BTreeSet<&str> = now
        .signatures
        .iter()
        .map(|s| s.signature.as_str())
        .collect();
    let by_records = |v: &mut Vec<SignatureDoc>| {
        v.sort_by(|a, b| {
            b.records
                .cmp(&a.records)
                .then(a.signature.cmp(&b.signature))
        });
    };
    let mut new_signatures: Vec<SignatureDoc> = now
        .signatures
        .iter()
        .filter(|s| !before.contains(s.signature.as_str()))
        .cloned()
        .collect();
    by_records(&mut new_signatures);
    let mut gone_signatures: Vec<SignatureDoc> = then
        .signatures
        .iter()
        .filter(|s| !after.contains(s.signature.as_str()))
        .cloned()
        .collect();
    by_records(&mut gone_signatures);
    let mut increased_causes: Vec<CauseIncrease> = now
        .events
        .iter()
        .filter_map(|(cause, &events)| {
            let old = then.events.get(cause).copied().unwrap_or(0);
            let (rate, old_rate) = (events as f64 / now.hours, old as f64 / then.hours);
            let rose = events >= old + MIN_EVENTS && rate > max_increase * old_rate;
            rose.then(|| CauseIncrease {
                cause: cause.clone(),
                baseline_events: old,
                events,
                baseline_per_hour: round2(old_rate),
                per_hour: round2(rate),
                factor: (old_rate > 0.0).then(|| round2(rate / old_rate)),
            })
        })
        .collect();
    increased_causes.sort_by(|a, b| b.events.cmp(&a.events).then(a.cause.cmp(&b.cause)));
    let new_alerts: Vec<String> = now.alerts.difference(&then.alerts).cloned().collect();
    let regressed = !(new_signatures.is_empty()
        && gone_signatures.is_empty()
        && increased_causes.is_empty()
        && new_alerts.is_empty());
    BaselineDoc {
        source: then.source.clone(),
        error_records: then.error_records,
        hours: round2(then.hours),
        new_signatures,
        gone_signatures,
        increased_causes,
        new_alerts,
        max_increase,
        regressed,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(cause: &str, s: &str, n: u64) -> SignatureDoc {
        SignatureDoc {
            cause: cause.into(),
            signature: s.into(),
            records: n,
            example: s.replace("<*>", "42"),
        }
    }

    #[test]
    fn new_gone_risen_and_newly_firing() {
        let then = Profile {
            source: "old".into(),
            hours: 1.0,
            signatures: vec![
                sig("db", "connect ECONNREFUSED <*>", 10),
                sig("gh", "rate limited", 3),
            ],
            events: [("db".to_owned(), 10), ("anthropic".to_owned(), 2)].into(),
            alerts: BTreeSet::new(),
            ..Profile::default()
        };
        let now = Profile {
            source: "new".into(),
            hours: 2.0,
            signatures: vec![
                sig("db", "connect ECONNREFUSED <*>", 30),
                sig("anthropic", "overloaded <*>", 40),
            ],
            // db: 15/h against 10/h (x1.5): not risen; anthropic: 20/h against 2/h.
            events: [("db".to_owned(), 30), ("anthropic".to_owned(), 40)].into(),
            alerts: ["HighGenerationErrorRate{error_type=anthropic}".to_owned()].into(),
            ..Profile::default()
        };
        let d = compare(&now, &then, 2.0);
        assert_eq!(
            d.new_signatures,
            vec![sig("anthropic", "overloaded <*>", 40)]
        );
        assert_eq!(d.gone_signatures, vec![sig("gh", "rate limited", 3)]);
        assert_eq!(d.increased_causes.len(), 1);
        assert_eq!(d.increased_causes[0].cause, "anthropic");
        assert_eq!(d.increased_causes[0].factor, Some(10.0));
        assert_eq!(
            d.new_alerts,
            vec!["HighGenerationErrorRate{error_type=anthropic}"]
        );
        assert!(d.regressed);
        // The same run against itself: nothing.
        let same = compare(&now, &now, 2.0);
        assert!(!same.regressed);
        // A rise of fewer than 5 events is not one.
        let small = Profile {
            events: [("db".to_owned(), 4)].into(),
            ..Profile::default()
        };
        assert!(compare(&small, &Profile::default(), 2.0)
            .increased_causes
            .is_empty());
    }
}
