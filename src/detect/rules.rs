//! Prometheus rule files as users have them: a rules file (`groups:` with `rules:`), a
//! Kubernetes ConfigMap holding one or more (each `data` entry), or a PrometheusRule object
//! (`spec.groups`), in one YAML document or a `---` stream (or a `List` of them), read with
//! serde-saphyr (serde_yaml is deprecated). Alerting rules keep `for`, `keep_firing_for`,
//! labels and annotations; recording rules keep their name. A rule that cannot be read is
//! named with its group and why, and the others are kept. Also the built-in rule from the
//! runbook, used when no rules file is given.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::Millis;

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

/// Parses a rules file, a ConfigMap or a PrometheusRule (or a stream or list of them).
pub fn parse(text: &str) -> Result<RuleSet, RulesError> {
    let docs: Vec<Value> = serde_saphyr::from_multiple::<Value>(text).map_err(|e| {
        let message = e.to_string();
        RulesError {
            line: yaml_error_line(&message),
            message: format!(
                "malformed YAML: {}",
                message.lines().next().unwrap_or("").trim()
            ),
        }
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
            annotations: string_map(r.get("annotations")),
        }),
        (None, Some(record)) => RuleKind::Recording(record.to_owned()),
        (Some(_), Some(_)) => return Err("both `alert` and `record`".into()),
        (None, None) => return Err("neither `alert` nor `record`".into()),
    };
    Ok(Rule { kind, expr, labels })
}

/// Prometheus' durations: `15s`, `5m`, `1h30m`, `500ms`, `1d`, `1w`, `1y` (365 days).
pub fn parse_prom_duration(s: &str) -> Option<Millis> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s == "0" {
        return Some(0);
    }
    let b = s.as_bytes();
    let (mut i, mut total) = (0, 0i64);
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n: i64 = s[start..i].parse().ok()?;
        let unit_start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let ms = match &s[unit_start..i] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(ms)?)?;
    }
    Some(total)
}

/// serde-saphyr's messages carry `line N`.
fn yaml_error_line(message: &str) -> Option<u64> {
    let at = message.find("line ")?;
    let digits: String = message[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Expands an annotation's Go template as Prometheus does for the cases rules use:
/// `{{ $value }}`, `{{ $labels.name }}` (also `$labels.name` inside `printf`),
/// `{{ $value | humanize }}` (and `humanize1024`, `humanizePercentage`, `humanizeDuration`),
/// `{{ printf "%.2f" $value }}` (`%f`, `%g`, `%e`, `%v`), with Go's number formatting. Anything
/// else is left as written.
pub fn expand_template(text: &str, value: f64, labels: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let action = rest[open + 2..open + close]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        match expand_action(action, value, labels) {
            Some(s) => out.push_str(&s),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

fn expand_action(action: &str, value: f64, labels: &BTreeMap<String, String>) -> Option<String> {
    let mut parts = action.split('|').map(str::trim);
    let head = parts.next()?;
    let mut v: Result<f64, String> = if head == "$value" || head == ".Value" {
        Ok(value)
    } else if let Some(name) = head
        .strip_prefix("$labels.")
        .or_else(|| head.strip_prefix(".Labels."))
    {
        Err(labels.get(name).cloned().unwrap_or_default())
    } else if let Some(args) = head.strip_prefix("printf ") {
        let args = args.trim();
        let (fmt, arg) = args.strip_prefix('"')?.split_once('"')?;
        let arg = arg.trim();
        let x = if arg == "$value" || arg == ".Value" {
            value
        } else {
            return None;
        };
        Err(printf_float(fmt, x)?)
    } else {
        return None;
    };
    for f in parts {
        let x = match &v {
            Ok(x) => *x,
            Err(s) => s.parse::<f64>().ok()?,
        };
        v = Err(match f {
            "humanize" => humanize(x),
            "humanize1024" => humanize1024(x),
            "humanizePercentage" => format!("{}%", sig4(x * 100.0)),
            "humanizeDuration" => humanize_duration(x),
            _ => return None,
        });
    }
    Some(match v {
        Ok(x) => fmt_g(x),
        Err(s) => s,
    })
}

/// Go's `%v` for a float64 as Prometheus prints `$value`: the shortest representation, in
/// exponent form when the exponent is below -4 or at least 6 (`1e+06`, `1.610612736e+09`).
fn fmt_g(x: f64) -> String {
    go_g(x, None)
}

/// Go's `%g` (`prec: None`, shortest) and `%.Ng` (`Some(N)`) of a float64: N significant
/// digits without trailing zeros, exponent form when the exponent is below -4 or at least the
/// precision (6 for the shortest), the exponent with a sign and at least two digits.
fn go_g(x: f64, prec: Option<usize>) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` gives the digits, rounded half to even on the exact value as Go does.
    let sci = match prec {
        Some(p) => format!("{:.*e}", p.max(1) - 1, x.abs()),
        None => format!("{:e}", x.abs()),
    };
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` has a numeric exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let eprec = match prec {
        None => 6,
        Some(p) => p.max(1) as i32,
    };
    let sign = if x < 0.0 { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
    }
}

/// `printf "%.Nf"` (and `%f`, `%g`, `%v`) of a float.
fn printf_float(fmt: &str, x: f64) -> Option<String> {
    let at = fmt.find('%')?;
    let spec_end = fmt[at + 1..].find(|c: char| c.is_ascii_alphabetic())? + at + 1;
    let spec = &fmt[at + 1..spec_end];
    let verb = &fmt[spec_end..spec_end + 1];
    if !x.is_finite() {
        return Some(format!(
            "{}{}{}",
            &fmt[..at],
            go_g(x, None),
            &fmt[spec_end + 1..]
        ));
    }
    let body = match verb {
        "f" => match spec.strip_prefix('.') {
            Some(p) => format!("{x:.*}", p.parse::<usize>().ok()?),
            None => format!("{x:.6}"),
        },
        "g" => match spec.strip_prefix('.') {
            Some(p) => go_g(x, Some(p.parse::<usize>().ok()?)),
            None => fmt_g(x),
        },
        "v" => fmt_g(x),
        "e" => {
            let p = match spec.strip_prefix('.') {
                Some(p) => p.parse::<usize>().ok()?,
                None => 6,
            };
            let e = format!("{x:.p$e}");
            let (m, exp) = e.split_once('e')?;
            let exp: i32 = exp.parse().ok()?;
            format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
        }
        _ => return None,
    };
    Some(format!("{}{body}{}", &fmt[..at], &fmt[spec_end + 1..]))
}

/// Prometheus' `humanize`: SI prefixes (dividing by 1000 step by step, as it does), 4
/// significant digits.
fn humanize(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return sig4(x);
    }
    if x.abs() >= 1.0 {
        scaled(x, 1000.0, &["k", "M", "G", "T", "P", "E", "Z", "Y"])
    } else {
        scaled_up(x)
    }
}

/// `x` divided by `base` while it is at least `base`, step by step as Prometheus does, with
/// the prefix of the last division: `%.4g` and the prefix.
fn scaled(x: f64, base: f64, prefixes: &[&str]) -> String {
    let mut v = x;
    let mut prefix = "";
    for p in prefixes {
        if v.abs() < base {
            break;
        }
        prefix = p;
        v /= base;
    }
    format!("{}{prefix}", sig4(v))
}

/// `x` (below 1 in magnitude) multiplied by 1000 until it is at least 1, with the SI prefix
/// that says so (`m`, `u`, ...): `%.4g` and the prefix.
fn scaled_up(x: f64) -> String {
    let mut v = x;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}", sig4(v))
}

/// Prometheus' `humanize1024`: binary prefixes (`ki`, `Mi`, ...), 4 significant digits.
fn humanize1024(x: f64) -> String {
    if x.abs() <= 1.0 || !x.is_finite() {
        return sig4(x);
    }
    scaled(x, 1024.0, &["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"])
}

/// Prometheus' `humanizeDuration`: seconds as `1d 2h 3m 4s`, `3m 4s`, `4.5s` or `12.34ms`.
fn humanize_duration(x: f64) -> String {
    if !x.is_finite() {
        return sig4(x);
    }
    if x == 0.0 {
        return format!("{}s", sig4(x));
    }
    if x.abs() >= 1.0 {
        let sign = if x < 0.0 { "-" } else { "" };
        let v = x.abs();
        let d = v as i64;
        let (s, m, h, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86_400);
        return if days != 0 {
            format!("{sign}{days}d {h}h {m}m {s}s")
        } else if h != 0 {
            format!("{sign}{h}h {m}m {s}s")
        } else if m != 0 {
            format!("{sign}{m}m {s}s")
        } else {
            format!("{sign}{}s", sig4(v))
        };
    }
    format!("{}s", scaled_up(x))
}

/// Go's `%.4g`.
fn sig4(x: f64) -> String {
    go_g(x, Some(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_printed_as_go_and_prometheus_print_them() {
        assert_eq!(fmt_g(1e6), "1e+06");
        assert_eq!(fmt_g(123_456.0), "123456");
        assert_eq!(fmt_g(1_610_612_736.0), "1.610612736e+09");
        assert_eq!(fmt_g(0.0001), "0.0001");
        assert_eq!(fmt_g(0.00001), "1e-05");
        assert_eq!(fmt_g(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(fmt_g(-2.5), "-2.5");
        assert_eq!(go_g(100.0, Some(4)), "100");
        assert_eq!(go_g(12.550_222, Some(4)), "12.55");
        assert_eq!(go_g(123_456.0, Some(4)), "1.235e+05");
        assert_eq!(go_g(0.000_123_456, Some(4)), "0.0001235");
        assert_eq!(humanize(1_234_567.0), "1.235M");
        assert_eq!(humanize(0.00123), "1.23m");
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize1024(1_610_612_736.0), "1.5Gi");
        assert_eq!(humanize_duration(3723.0), "1h 2m 3s");
        assert_eq!(humanize_duration(90_061.0), "1d 1h 1m 1s");
        assert_eq!(humanize_duration(4.5), "4.5s");
        assert_eq!(humanize_duration(0.0123), "12.3ms");
        let labels = BTreeMap::new();
        assert_eq!(
            expand_template(
                "{{ $value | humanizePercentage }}",
                0.125_502_223_932_455_83,
                &labels
            ),
            "12.55%"
        );
        assert_eq!(
            expand_template("{{ printf \"%.3f\" $value }}", f64::INFINITY, &labels),
            "+Inf"
        );
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

    #[test]
    fn durations_like_prometheus() {
        assert_eq!(parse_prom_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_prom_duration("500ms"), Some(500));
        assert_eq!(parse_prom_duration("1y"), Some(365 * 86_400_000));
        assert_eq!(parse_prom_duration("5 m"), None);
        assert_eq!(parse_prom_duration("m"), None);
    }

    #[test]
    fn annotation_templates() {
        let labels = BTreeMap::from([("pod".to_owned(), "x2kqp".to_owned())]);
        assert_eq!(
            expand_template("rate {{ $value }} on {{ $labels.pod }}", 0.1234, &labels),
            "rate 0.1234 on x2kqp"
        );
        assert_eq!(
            expand_template("{{ printf \"%.2f\" $value }}/s", 0.1234, &labels),
            "0.12/s"
        );
        assert_eq!(
            expand_template("{{ $value | humanize }}B", 1_610_612_736.0, &labels),
            "1.611GB"
        );
        assert_eq!(
            expand_template("{{ $value | humanizePercentage }}", 0.0712, &labels),
            "7.12%"
        );
        assert_eq!(
            expand_template("{{ .Unknown }}", 1.0, &labels),
            "{{ .Unknown }}"
        );
    }
}
