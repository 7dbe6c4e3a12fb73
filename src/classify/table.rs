//! The cause table: loading it (the built-in TOML embedded in the binary, or the user's
//! `--causes FILE`), validating it, and compiling it: every pattern into one `RegexSet` so a
//! record's text is classified in a single pass, and the rules on fields (`[[cause.when]]`,
//! `[[outcome]]`, see `matcher.rs`).
//!
//! Priority, as `causes.toml` documents it: a record is tried against every cause's `when`
//! rules first, in table order (the logger and other fields are more specific than words in a
//! message), then against every cause's patterns, in table order, on the message and then on
//! the trace. The first cause that matches and counts at the record's level wins.

use std::collections::HashSet;

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

use super::matcher::{Conditions, Fields, Rule};
use crate::model::event::{CauseIdx, UNCLASSIFIED};
use crate::model::Level;
use crate::redact::{RedactRule, Redactor};

/// The table shipped with postmortem (the runbook's causes plus the ones it forgot).
pub const BUILTIN_TOML: &str = include_str!("causes.toml");

/// The id reported for errors that match no cause.
pub const UNCLASSIFIED_ID: &str = "unclassified";

/// A cause table file as written in TOML.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CauseFile {
    #[serde(rename = "cause", default)]
    pub causes: Vec<Cause>,
    /// The records that are the counted operation's outcome (each one increment of the
    /// alert's counter).
    #[serde(rename = "outcome", default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<Outcome>,
    /// The user's redaction rules, beside the built-in detectors (see `redact.rs`).
    #[serde(rename = "redact", default, skip_serializing_if = "Vec::is_empty")]
    pub redact: Vec<RedactRule>,
}

/// A rule naming records that are the counted operation's outcome: each such record is one
/// increment of the counter the alert reads (`mcp_generation_errors_total` counts failed
/// generations, not error lines). When the input holds any, only they feed the alert.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(try_from = "toml::Table")]
pub struct Outcome {
    /// What the report calls the records this rule picks.
    pub name: String,
    #[serde(flatten)]
    pub when: Conditions,
}

impl TryFrom<toml::Table> for Outcome {
    type Error = String;

    /// `name` and the conditions side by side, unknown keys refused (serde's `flatten` would
    /// let a misspelt condition pass unnoticed).
    fn try_from(mut t: toml::Table) -> Result<Self, String> {
        let name = match t.remove("name") {
            Some(toml::Value::String(s)) if !s.trim().is_empty() => s,
            Some(_) => return Err("an [[outcome]]'s name must be a non-empty string".into()),
            None => return Err("an [[outcome]] needs a name".into()),
        };
        let when = Conditions::deserialize(toml::Value::Table(t))
            .map_err(|e| format!("[[outcome]] {name:?}: {}", e.message()))?;
        Ok(Outcome { name, when })
    }
}

/// One row of the table.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    pub id: String,
    pub title: String,
    /// `runbook` or `added`.
    #[serde(default = "default_source")]
    pub source: String,
    #[serde(default = "default_levels")]
    pub levels: Vec<Level>,
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Rules on the record's fields (logger, message, trace, HTTP status, JSON key paths);
    /// tried before any cause's patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Conditions>,
    /// Kubernetes event reasons and container termination reasons that point to this cause
    /// (`OOMKilled`, `BackOff`, ...), matched exactly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Errors the requests cause (invalid input, 4xx), not the service: ranked below the
    /// service's own failures among root causes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client: bool,
    #[serde(default)]
    pub symptoms: String,
    #[serde(default)]
    pub solution: String,
    #[serde(default)]
    pub actions: Vec<Action>,
}

/// A remediation step; `command` may use `{namespace}`, `{deployment}`, `{container}`, `{pod}`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

fn default_source() -> String {
    "added".into()
}

fn default_levels() -> Vec<Level> {
    vec![Level::Error, Level::Fatal]
}

/// What is wrong with a cause table, said so the user can fix the file.
/// The longest cause pattern accepted, and the compiled size one may take: a pattern is a
/// phrase of a message, not a program.
pub const MAX_PATTERN_BYTES: usize = 4096;
const PATTERN_SIZE_LIMIT: usize = 4 << 20;

/// A pattern as an error message shows it: its first 80 characters.
fn shown(p: &str) -> String {
    if p.chars().count() <= 80 {
        p.to_owned()
    } else {
        p.chars().take(80).collect::<String>() + "…"
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CauseTableError {
    #[error("{origin}: not a valid cause table: {message}")]
    Toml { origin: String, message: String },
    #[error("{origin}: the table has no [[cause]] entries")]
    Empty { origin: String },
    #[error("{origin}: cause id {id:?} appears twice; ids must be unique")]
    DuplicateId { origin: String, id: String },
    #[error("{origin}: cause id {id:?} is reserved for errors that match no cause")]
    ReservedId { origin: String, id: String },
    #[error("{origin}: cause {id:?} has an empty id, or no patterns, when rules or reasons")]
    Incomplete { origin: String, id: String },
    #[error("{origin}: cause {id:?}, pattern {pattern:?}: {message}")]
    BadPattern {
        origin: String,
        id: String,
        pattern: String,
        message: String,
    },
    #[error("{origin}: {source}")]
    BadRedact {
        origin: String,
        #[source]
        source: crate::redact::RuleError,
    },
    #[error("{origin}: {rule}: {condition}: {message}")]
    BadRule {
        origin: String,
        rule: String,
        condition: String,
        message: String,
    },
    #[error("{origin}: cause {id:?}: unknown placeholder {{{name}}} in a command (use namespace, deployment, container or pod)")]
    BadPlaceholder {
        origin: String,
        id: String,
        name: String,
    },
}

/// A validated, compiled cause table.
#[derive(Clone, Debug)]
pub struct CauseTable {
    pub causes: Vec<Cause>,
    /// The outcome rules as written (for `postmortem causes --toml`).
    pub outcome_rules: Vec<Outcome>,
    /// The user's redaction rules (validated).
    pub redact_rules: Vec<RedactRule>,
    /// Where it came from: `built-in` or the file's path.
    pub origin: String,
    set: RegexSet,
    /// For each pattern in `set`, the cause it belongs to.
    pattern_cause: Vec<CauseIdx>,
    /// Every cause's `when` rules, in table order.
    when: Vec<(CauseIdx, Rule)>,
    /// The outcome rules, in table order, with their names.
    pub outcomes: Vec<(String, Rule)>,
    /// The lowest level at which any cause counts; records below it are never classified.
    pub min_level: Level,
}

impl CauseTable {
    pub fn builtin() -> CauseTable {
        Self::from_toml(BUILTIN_TOML, "built-in").expect("the built-in cause table is valid")
    }

    pub fn from_toml(text: &str, origin: &str) -> Result<CauseTable, CauseTableError> {
        let origin = origin.to_owned();
        let file: CauseFile = toml::from_str(text).map_err(|e| CauseTableError::Toml {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        Self::compile(file, origin)
    }

    /// Checks one cause: an id that is its own, something to match, valid patterns and
    /// placeholders.
    fn check(
        cause: &Cause,
        seen: &mut HashSet<String>,
        origin: &str,
    ) -> Result<(), CauseTableError> {
        let origin = origin.to_owned();
        let id = cause.id.clone();
        if id.trim().is_empty()
            || cause.patterns.is_empty() && cause.when.is_empty() && cause.reasons.is_empty()
        {
            return Err(CauseTableError::Incomplete { origin, id });
        }
        if id == UNCLASSIFIED_ID {
            return Err(CauseTableError::ReservedId { origin, id });
        }
        if !seen.insert(id.clone()) {
            return Err(CauseTableError::DuplicateId { origin, id });
        }
        for p in &cause.patterns {
            let checked = if p.len() > MAX_PATTERN_BYTES {
                Err(format!(
                    "{} bytes; a pattern is at most {MAX_PATTERN_BYTES}: split it into several",
                    p.len()
                ))
            } else {
                regex::RegexBuilder::new(p)
                    .size_limit(PATTERN_SIZE_LIMIT)
                    .build()
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            };
            if let Err(message) = checked {
                return Err(CauseTableError::BadPattern {
                    origin,
                    id,
                    pattern: shown(p),
                    message,
                });
            }
        }
        let placeholder = Regex::new(r"\{([a-z_]+)\}").expect("static regex");
        for action in &cause.actions {
            for cap in placeholder.captures_iter(action.command.as_deref().unwrap_or("")) {
                let name = &cap[1];
                if !matches!(name, "namespace" | "deployment" | "container" | "pod") {
                    return Err(CauseTableError::BadPlaceholder {
                        origin,
                        id,
                        name: name.to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    fn compile(file: CauseFile, origin: String) -> Result<CauseTable, CauseTableError> {
        let causes = file.causes;
        if causes.is_empty() {
            return Err(CauseTableError::Empty { origin });
        }
        let bad_rule =
            |rule: String, (condition, message): (String, String)| CauseTableError::BadRule {
                origin: origin.clone(),
                rule,
                condition,
                message,
            };
        let mut seen = HashSet::new();
        let (mut patterns, mut pattern_cause, mut when) = (Vec::new(), Vec::new(), Vec::new());
        for (idx, cause) in causes.iter().enumerate() {
            Self::check(cause, &mut seen, &origin)?;
            for p in &cause.patterns {
                patterns.push(p.clone());
                pattern_cause.push(idx as CauseIdx);
            }
            for (k, c) in cause.when.iter().enumerate() {
                let rule = c.compile().map_err(|e| {
                    bad_rule(format!("cause {:?}, when rule {}", cause.id, k + 1), e)
                })?;
                when.push((idx as CauseIdx, rule));
            }
        }
        let mut outcomes = Vec::new();
        for o in &file.outcomes {
            let rule = o
                .when
                .compile()
                .map_err(|e| bad_rule(format!("outcome {:?}", o.name), e))?;
            outcomes.push((o.name.clone(), rule));
        }
        // Only the user's rules need checking (the built-in detectors are tested).
        if !file.redact.is_empty() {
            if let Err(source) = Redactor::new(&file.redact) {
                return Err(CauseTableError::BadRedact { origin, source });
            }
        }
        let set = RegexSet::new(&patterns).map_err(|e| CauseTableError::BadPattern {
            origin: origin.clone(),
            id: "(all)".into(),
            pattern: String::new(),
            message: e.to_string(),
        })?;
        let min_level = causes
            .iter()
            .flat_map(|c| c.levels.iter().copied())
            .filter(|l| *l != Level::Unknown)
            .chain([Level::Error])
            .min()
            .unwrap_or(Level::Error);
        Ok(CauseTable {
            causes,
            outcome_rules: file.outcomes,
            redact_rules: file.redact,
            origin,
            set,
            pattern_cause,
            when,
            outcomes,
            min_level,
        })
    }

    /// The id of a cause index (`unclassified` for [`UNCLASSIFIED`]).
    pub fn id(&self, idx: CauseIdx) -> &str {
        self.causes
            .get(idx as usize)
            .map_or(UNCLASSIFIED_ID, |c| c.id.as_str())
    }

    /// The title of a cause index.
    pub fn title(&self, idx: CauseIdx) -> &str {
        self.causes
            .get(idx as usize)
            .map_or("Errors matching no known cause", |c| c.title.as_str())
    }

    /// The first cause whose `reasons` list this Kubernetes event or termination reason.
    pub fn cause_for_reason(&self, reason: &str) -> Option<CauseIdx> {
        self.causes
            .iter()
            .position(|c| c.reasons.iter().any(|r| r == reason))
            .map(|i| i as CauseIdx)
    }

    /// The cause with this id ([`UNCLASSIFIED`] for `unclassified`).
    pub fn index(&self, id: &str) -> Option<CauseIdx> {
        if id == UNCLASSIFIED_ID {
            return Some(UNCLASSIFIED);
        }
        self.causes
            .iter()
            .position(|c| c.id == id)
            .map(|i| i as CauseIdx)
    }

    /// The cause at this index (`None` for [`UNCLASSIFIED`]).
    pub fn get(&self, idx: CauseIdx) -> Option<&Cause> {
        self.causes.get(idx as usize)
    }

    /// Whether a record at `level` could be an error at all (cheap pre-filter for the hot path).
    #[inline]
    pub fn may_count(&self, level: Level) -> bool {
        level >= self.min_level && level != Level::Unknown
            || level == Level::Unknown && self.counts_unknown()
    }

    fn counts_unknown(&self) -> bool {
        self.causes
            .iter()
            .any(|c| c.levels.contains(&Level::Unknown))
    }

    /// Classifies a record. `None`: not an error. `Some(UNCLASSIFIED)`: an error/fatal record no
    /// cause matched. `Some(i)`: the cause that matches first (every cause's `when` rules in
    /// table order, then every cause's patterns in table order on the message and then the
    /// trace) among those that count at the record's level.
    pub fn classify(&self, f: &Fields<'_>) -> Option<CauseIdx> {
        let level = f.level;
        let is_error = matches!(level, Level::Error | Level::Fatal);
        let counts = |c: CauseIdx| is_error || self.causes[c as usize].levels.contains(&level);
        if let Some(&(c, _)) = self
            .when
            .iter()
            .find(|(c, rule)| counts(*c) && rule.matches(f))
        {
            return Some(c);
        }
        for text in [f.message, f.trace] {
            if text.is_empty() {
                continue;
            }
            let hit = self
                .set
                .matches(text)
                .iter()
                .map(|p| self.pattern_cause[p])
                .find(|&c| counts(c));
            if hit.is_some() {
                return hit;
            }
        }
        is_error.then_some(UNCLASSIFIED)
    }

    /// The outcome rule (its index) that names this record, if any.
    pub fn outcome(&self, f: &Fields<'_>) -> Option<u8> {
        self.outcomes
            .iter()
            .position(|(_, rule)| rule.matches(f))
            .map(|i| i as u8)
    }

    /// Renders the table as TOML (what `postmortem causes --toml` prints).
    pub fn to_toml(&self) -> String {
        let file = CauseFile {
            causes: self.causes.clone(),
            outcomes: self.outcome_rules.clone(),
            redact: self.redact_rules.clone(),
        };
        toml::to_string_pretty(&file).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(t: &CauseTable, level: Level, msg: &str) -> Option<String> {
        t.classify(&Fields::new(level, msg, "", "", None))
            .map(|c| t.id(c).to_owned())
    }

    #[test]
    fn real_messages_from_system_md() {
        let t = CauseTable::builtin();
        let e = Level::Error;
        let cases = [
            (r#"529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, "anthropic_api_error"),
            (r#"429 {"type":"error","error":{"type":"rate_limit_error","message":"x"}}"#, "anthropic_api_error"),
            ("Anthropic API call failed: Anthropic API error: 529", "anthropic_api_error"),
            ("Graph execution failed: Connection error.", "anthropic_api_error"),
            ("Request timed out.", "anthropic_api_error"),
            ("connect ECONNREFUSED 10.96.44.12:5432", "database_error"),
            ("Graph execution failed: Connection terminated unexpectedly", "database_error"),
            ("sorry, too many clients already", "database_error"),
            ("timeout exceeded when trying to connect", "database_error"),
            ("[TypeOrmModule] Unable to connect to the database. Retrying (1)...", "database_error"),
            ("P1001 Can't reach database server at `mcp-postgres:5432`", "database_error"),
            ("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "memory_exhaustion"),
            ("API rate limit exceeded for user ID 1234567.", "github_api_error"),
            ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "github_api_error"),
            ("Bad Request Exception", "validation_error"),
            ("TypeError: Cannot read properties of undefined (reading 'map')", "unclassified"),
        ];
        for (msg, want) in cases {
            assert_eq!(id(&t, e, msg).as_deref(), Some(want), "{msg}");
        }
    }

    #[test]
    fn levels_decide_what_counts() {
        let t = CauseTable::builtin();
        // Validation failures are logged at warn and count there...
        assert_eq!(
            id(&t, Level::Warn, "githubUrl must be a URL address").as_deref(),
            Some("validation_error")
        );
        // ...but a retry warning is not an error, and info never is.
        assert_eq!(
            id(
                &t,
                Level::Warn,
                "Rate limit hit, waiting 2000ms before retry 1/3"
            ),
            None
        );
        assert_eq!(id(&t, Level::Info, "Bad Request Exception"), None);
        assert_eq!(t.min_level, Level::Warn);
    }

    #[test]
    fn trace_is_consulted_when_message_is_vague() {
        let t = CauseTable::builtin();
        let c = t.classify(&Fields::new(
            Level::Error,
            "Generation failed",
            "Error: x\n    at Foo (/app/node_modules/@anthropic-ai/sdk/core.js:1:1)",
            "",
            None,
        ));
        assert_eq!(t.id(c.unwrap()), "anthropic_api_error");
    }

    #[test]
    fn user_tables_are_validated() {
        let bad = "[[cause]]\nid = \"x\"\ntitle = \"X\"\npatterns = [\"(\"]\n";
        let err = CauseTable::from_toml(bad, "my.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("my.toml") && err.contains("pattern"), "{err}");
        let dup = "[[cause]]\nid = \"x\"\ntitle = \"X\"\npatterns = [\"a\"]\n[[cause]]\nid = \"x\"\ntitle = \"Y\"\npatterns = [\"b\"]\n";
        assert!(CauseTable::from_toml(dup, "d.toml")
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let ph = "[[cause]]\nid = \"x\"\ntitle = \"X\"\npatterns = [\"a\"]\n[[cause.actions]]\ntitle = \"t\"\ncommand = \"kubectl -n {nmspace}\"\n";
        assert!(CauseTable::from_toml(ph, "p.toml")
            .unwrap_err()
            .to_string()
            .contains("nmspace"));
    }

    fn classify_by(t: &CauseTable, logger: &str, msg: &str, json: Option<&str>) -> String {
        let f = Fields::new(Level::Error, msg, "", logger, json);
        t.id(t.classify(&f).unwrap()).to_owned()
    }

    #[test]
    fn the_logger_names_the_dependency_the_message_does_not() {
        let t = CauseTable::builtin();
        let msg = "Rate limit exceeded after 4 attempts";
        assert_eq!(
            classify_by(&t, "GitHubRepoProvider", msg, None),
            "github_api_error"
        );
        // The same words from another class say nothing about GitHub.
        assert_eq!(
            classify_by(&t, "RepositoryAnalysisService", msg, None),
            "unclassified"
        );
        assert_eq!(
            classify_by(&t, "TypeOrmModule", "Unable to start the module", None),
            "database_error"
        );
        assert_eq!(
            classify_by(&t, "AnthropicService", "Request failed", None),
            "anthropic_api_error"
        );
        // Rules on fields come before every cause's patterns: the GitHub client's timeout is
        // GitHub's, though `ETIMEDOUT` alone is a network error.
        assert_eq!(
            classify_by(
                &t,
                "GitHubRepoProvider",
                "connect ETIMEDOUT 140.82.112.6:443",
                None
            ),
            "github_api_error"
        );
        assert_eq!(
            classify_by(
                &t,
                "HttpService",
                "connect ETIMEDOUT 140.82.112.6:443",
                None
            ),
            "network_error"
        );
    }

    #[test]
    fn postgres_own_states_are_database_errors() {
        let t = CauseTable::builtin();
        for msg in [
            "MCP server generation failed: the database system is starting up",
            "error: the database system is shutting down",
            "terminating connection due to administrator command",
            "Health check failed: the database system is in recovery mode",
        ] {
            assert_eq!(
                classify_by(&t, "GenerationService", msg, None),
                "database_error",
                "{msg}"
            );
        }
    }

    #[test]
    fn an_anthropic_401_is_an_anthropic_issue_other_401s_are_credentials() {
        let t = CauseTable::builtin();
        let body = r#"401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
        assert_eq!(
            classify_by(
                &t,
                "GraphOrchestrationService",
                &format!("Graph execution failed: {body}"),
                None
            ),
            "anthropic_api_error"
        );
        assert_eq!(
            classify_by(
                &t,
                "StripeService",
                "401 Unauthorized: invalid x-api-key",
                None
            ),
            "auth_error"
        );
    }

    #[test]
    fn outcome_rules_name_the_counted_records() {
        let t = CauseTable::builtin();
        let rule = |logger: &str, msg: &str, json: Option<&str>| {
            let f = Fields::new(Level::Error, msg, "", logger, json);
            t.outcome(&f).map(|i| t.outcomes[i as usize].0.clone())
        };
        assert_eq!(
            rule("McpGenerationService", "MCP server generation failed: Repository analysis failed: Rate limit exceeded after 4 attempts", None).as_deref(),
            Some("generation failed")
        );
        assert_eq!(
            rule(
                "GraphOrchestrationService",
                "Graph execution failed: Request timed out.",
                None
            )
            .as_deref(),
            Some("graph execution failed")
        );
        // The error logger's echo, a health check and the analysis service are not outcomes.
        assert_eq!(
            rule(
                "ErrorLogger",
                "[GraphOrchestrationService::executeGraph] Request timed out.",
                None
            ),
            None
        );
        assert_eq!(
            rule(
                "HealthController",
                "Health check failed: connect ECONNREFUSED 10.96.44.12:5432",
                None
            ),
            None
        );
        // A 4xx counts when it rejected a generation request, not a chat message.
        let on = |path: &str| {
            format!(
                r#"{{"level":"warn","message":"Bad Request Exception: githubUrl must be a URL address","service":"AllExceptionsFilter","path":"{path}","statusCode":400}}"#
            )
        };
        let gen = on("/api/v1/mcp-servers/generate");
        let chat = on("/api/v1/chat/messages");
        let msg = "Bad Request Exception: githubUrl must be a URL address";
        assert_eq!(
            rule("AllExceptionsFilter", msg, Some(&gen)).as_deref(),
            Some("generation request rejected")
        );
        assert_eq!(rule("AllExceptionsFilter", msg, Some(&chat)), None);
    }

    #[test]
    fn misspelt_rules_are_refused() {
        let base = "[[cause]]\nid = \"x\"\ntitle = \"X\"\npatterns = [\"a\"]\n";
        let err = |extra: &str| {
            CauseTable::from_toml(&format!("{base}{extra}"), "r.toml")
                .unwrap_err()
                .to_string()
        };
        assert!(err("[[cause.when]]\nloger = 'GitHub'\n").contains("loger"));
        assert!(err("[[outcome]]\nname = 'n'\nmesage = 'x'\n").contains("mesage"));
        assert!(err("[[outcome]]\nmessage = 'x'\n").contains("needs a name"));
        let e = err("[[outcome]]\nname = 'n'\nmessage = '('\n");
        assert!(e.contains("outcome \"n\"") && e.contains("message"), "{e}");
        let e = err("[[cause.when]]\nlogger = '['\n");
        assert!(e.contains("cause \"x\", when rule 1"), "{e}");
        let ok = CauseTable::from_toml(
            &format!("{base}[[cause.when]]\nlogger = 'Git'\n[[outcome]]\nname = 'n'\nmessage = 'failed'\n[outcome.fields]\n'req.url' = 'generate'\n"),
            "ok.toml",
        )
        .unwrap();
        assert_eq!(ok.outcomes.len(), 1);
        let again = CauseTable::from_toml(&ok.to_toml(), "round-trip").unwrap();
        assert_eq!(again.outcome_rules, ok.outcome_rules);
    }

    #[test]
    fn builtin_round_trips_through_toml() {
        let t = CauseTable::builtin();
        let again = CauseTable::from_toml(&t.to_toml(), "round-trip").unwrap();
        assert_eq!(again.causes.len(), t.causes.len());
    }
}
