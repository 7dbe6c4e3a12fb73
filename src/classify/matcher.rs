//! Rules on a record's fields, next to the cause table's message and trace patterns: which
//! logger wrote it (`logger`: the JSON `service`, `context`, `logger` or `name`, or Nest's
//! `[Context]`), its message and trace, its HTTP status, and any JSON key path. A rule matches
//! when every condition it states holds. The cause table uses them for causes (`[[cause.when]]`)
//! and to name the records that are the counted operation's outcome (`[[outcome]]`).

use std::cell::OnceCell;
use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::model::Level;

/// A rule as written in the TOML table: regular expressions (Rust syntax), all optional, all
/// of those given must match.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// The logger that wrote the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// The HTTP status: a JSON `status`/`statusCode`, else the number a message starts with
    /// (`529 {"type":"error",...}`) or `status code 502`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// JSON key paths (`error.type`, `req.url`) and the pattern their value must match.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

impl Conditions {
    /// Every condition's pattern, named, for validation and for `postmortem causes`.
    pub fn patterns(&self) -> Vec<(String, &str)> {
        let mut out: Vec<(String, &str)> = [
            ("logger", &self.logger),
            ("message", &self.message),
            ("trace", &self.trace),
            ("status", &self.status),
        ]
        .into_iter()
        .filter_map(|(name, p)| Some((name.to_owned(), p.as_deref()?)))
        .collect();
        out.extend(self.fields.iter().map(|(k, p)| (k.clone(), p.as_str())));
        out
    }

    /// The conditions in one line: `logger ~ '^GitHub', message ~ 'rate limit'`.
    pub fn describe(&self) -> String {
        self.patterns()
            .iter()
            .map(|(name, p)| format!("{name} ~ '{p}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Compiles the conditions; the error names the condition and what is wrong with it.
    pub fn compile(&self) -> Result<Rule, (String, String)> {
        let re = |name: &str, p: &Option<String>| -> Result<Option<Regex>, (String, String)> {
            p.as_deref()
                .map(|p| Regex::new(p).map_err(|e| (format!("{name} {p:?}"), e.to_string())))
                .transpose()
        };
        if self.patterns().is_empty() {
            return Err((
                "(rule)".into(),
                "a rule needs at least one condition".into(),
            ));
        }
        let mut fields = Vec::new();
        for (path, p) in &self.fields {
            let r = Regex::new(p).map_err(|e| (format!("{path} {p:?}"), e.to_string()))?;
            fields.push((path.split('.').map(str::to_owned).collect(), r));
        }
        Ok(Rule {
            logger: re("logger", &self.logger)?,
            message: re("message", &self.message)?,
            trace: re("trace", &self.trace)?,
            status: re("status", &self.status)?,
            fields,
        })
    }
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    logger: Option<Regex>,
    message: Option<Regex>,
    trace: Option<Regex>,
    status: Option<Regex>,
    fields: Vec<(Vec<String>, Regex)>,
}

impl Rule {
    /// Whether every condition holds. The text conditions are tried first: the record's JSON
    /// is parsed only when a rule on its status or key paths is reached.
    pub fn matches(&self, f: &Fields<'_>) -> bool {
        let text = |re: &Option<Regex>, s: &str| re.as_ref().is_none_or(|r| r.is_match(s));
        text(&self.logger, f.logger)
            && text(&self.message, f.message)
            && text(&self.trace, f.trace)
            && self
                .status
                .as_ref()
                .is_none_or(|r| f.status().is_some_and(|s| r.is_match(&s.to_string())))
            && self
                .fields
                .iter()
                .all(|(path, r)| f.field(path).is_some_and(|v| r.is_match(&v)))
    }
}

/// What rules read of one record.
#[derive(Debug)]
pub struct Fields<'a> {
    pub level: Level,
    pub message: &'a str,
    pub trace: &'a str,
    pub logger: &'a str,
    /// The record's line when it was a JSON object.
    pub json: Option<&'a str>,
    parsed: OnceCell<Option<serde_json::Value>>,
}

impl<'a> Fields<'a> {
    pub fn new(
        level: Level,
        message: &'a str,
        trace: &'a str,
        logger: &'a str,
        json: Option<&'a str>,
    ) -> Fields<'a> {
        Fields {
            level,
            message,
            trace,
            logger,
            json,
            parsed: OnceCell::new(),
        }
    }

    fn value(&self) -> Option<&serde_json::Value> {
        self.parsed
            .get_or_init(|| self.json.and_then(|j| serde_json::from_str(j).ok()))
            .as_ref()
    }

    /// Whether a rule has read the record's JSON (its status or a key path) so far.
    pub fn read_json(&self) -> bool {
        self.parsed.get().is_some()
    }

    /// The value at a JSON key path, as text (numbers and booleans written as JSON writes
    /// them; objects and arrays as their JSON).
    pub fn field(&self, path: &[String]) -> Option<String> {
        let mut v = self.value()?;
        for key in path {
            v = v.get(key)?;
        }
        Some(match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => return None,
            other => other.to_string(),
        })
    }

    /// The HTTP status the record carries: a JSON `status`, `statusCode` or `status_code`
    /// (number or numeric string), else the number its message starts with (`529 {...}`,
    /// `401 Unauthorized`) or follows `status code ` (`Request failed with status code 502`).
    pub fn status(&self) -> Option<u16> {
        let http = |n: u64| (100..600).contains(&n).then_some(n as u16);
        for key in ["status", "statusCode", "status_code"] {
            let v = self.value().and_then(|v| v.get(key));
            let n = match v {
                Some(serde_json::Value::Number(n)) => n.as_u64(),
                Some(serde_json::Value::String(s)) => s.parse().ok(),
                _ => None,
            };
            if let Some(s) = n.and_then(http) {
                return Some(s);
            }
        }
        let leading = |s: &str| -> Option<u16> {
            let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
            let next = s[digits.len()..].chars().next();
            (digits.len() == 3 && next.is_none_or(|c| c == ' '))
                .then(|| digits.parse().ok().and_then(http))
                .flatten()
        };
        let m = self.message;
        leading(m).or_else(|| {
            let at = m.find("status code ")? + "status code ".len();
            leading(&m[at..])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(toml: &str) -> Rule {
        let c: Conditions = toml::from_str(toml).unwrap();
        c.compile().unwrap()
    }

    #[test]
    fn every_condition_given_must_hold() {
        let r = rule("logger = '^GitHubRepoProvider$'\nmessage = '(?i)rate limit exceeded'\n");
        let f = |logger, message| Fields::new(Level::Error, message, "", logger, None);
        assert!(r.matches(&f(
            "GitHubRepoProvider",
            "Rate limit exceeded after 4 attempts"
        )));
        assert!(!r.matches(&f(
            "AnthropicService",
            "Rate limit exceeded after 4 attempts"
        )));
        assert!(!r.matches(&f("GitHubRepoProvider", "Not Found")));
    }

    #[test]
    fn key_paths_and_the_http_status() {
        let json = r#"{"level":"error","message":"Request rejected","error":{"type":"authentication_error"},"statusCode":401,"req":{"url":"/api/v1/mcp-servers/generate"}}"#;
        let f = Fields::new(Level::Error, "Request rejected", "", "", Some(json));
        assert_eq!(f.status(), Some(401));
        assert!(rule("status = '^401$'").matches(&f));
        assert!(rule("[fields]\n'error.type' = '^authentication_error$'").matches(&f));
        assert!(rule("[fields]\n'req.url' = 'generate'").matches(&f));
        assert!(!rule("[fields]\n'req.method' = 'POST'").matches(&f));
        let from_message = |m| Fields::new(Level::Error, m, "", "", None).status();
        assert_eq!(from_message(r#"529 {"type":"error"}"#), Some(529));
        assert_eq!(
            from_message("Request failed with status code 502"),
            Some(502)
        );
        assert_eq!(from_message("5290 things"), None);
        assert_eq!(from_message("Connection error."), None);
    }

    #[test]
    fn bad_rules_are_named() {
        let c: Conditions = toml::from_str("message = '('").unwrap();
        assert!(c.compile().unwrap_err().0.starts_with("message"));
        assert!(Conditions::default().compile().is_err());
    }
}
