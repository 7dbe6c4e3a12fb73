//! The cause table: loading it (the built-in TOML embedded in the binary, or the user's
//! `--causes FILE`), validating it, and compiling every pattern into one `RegexSet` so a record
//! is classified in a single pass over its text.

use std::collections::HashSet;

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

use crate::model::event::{CauseIdx, UNCLASSIFIED};
use crate::model::Level;

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
    /// Kubernetes event reasons and container termination reasons that point to this cause
    /// (`OOMKilled`, `BackOff`, ...), matched exactly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
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
    #[error("{origin}: cause {id:?} has an empty id, or neither patterns nor reasons")]
    Incomplete { origin: String, id: String },
    #[error("{origin}: cause {id:?}, pattern {pattern:?}: {message}")]
    BadPattern {
        origin: String,
        id: String,
        pattern: String,
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
    /// Where it came from: `built-in` or the file's path.
    pub origin: String,
    set: RegexSet,
    /// For each pattern in `set`, the cause it belongs to.
    pattern_cause: Vec<CauseIdx>,
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
        Self::compile(file.causes, origin)
    }

    fn compile(causes: Vec<Cause>, origin: String) -> Result<CauseTable, CauseTableError> {
        if causes.is_empty() {
            return Err(CauseTableError::Empty { origin });
        }
        let placeholder = Regex::new(r"\{([a-z_]+)\}").expect("static regex");
        let mut seen = HashSet::new();
        let mut patterns = Vec::new();
        let mut pattern_cause = Vec::new();
        for (idx, cause) in causes.iter().enumerate() {
            if cause.id.trim().is_empty() || cause.patterns.is_empty() && cause.reasons.is_empty() {
                return Err(CauseTableError::Incomplete {
                    origin,
                    id: cause.id.clone(),
                });
            }
            if cause.id == UNCLASSIFIED_ID {
                return Err(CauseTableError::ReservedId {
                    origin,
                    id: cause.id.clone(),
                });
            }
            if !seen.insert(cause.id.clone()) {
                return Err(CauseTableError::DuplicateId {
                    origin,
                    id: cause.id.clone(),
                });
            }
            for p in &cause.patterns {
                if let Err(e) = Regex::new(p) {
                    return Err(CauseTableError::BadPattern {
                        origin,
                        id: cause.id.clone(),
                        pattern: p.clone(),
                        message: e.to_string(),
                    });
                }
                patterns.push(p.clone());
                pattern_cause.push(idx as CauseIdx);
            }
            for action in &cause.actions {
                for cap in placeholder.captures_iter(action.command.as_deref().unwrap_or("")) {
                    let name = &cap[1];
                    if !matches!(name, "namespace" | "deployment" | "container" | "pod") {
                        return Err(CauseTableError::BadPlaceholder {
                            origin,
                            id: cause.id.clone(),
                            name: name.to_owned(),
                        });
                    }
                }
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
            origin,
            set,
            pattern_cause,
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
    /// cause matched. `Some(i)`: the first cause in table order that matches the message (or,
    /// failing that, the trace) and counts at this level.
    pub fn classify(&self, level: Level, message: &str, trace: &str) -> Option<CauseIdx> {
        let is_error = matches!(level, Level::Error | Level::Fatal);
        for text in [message, trace] {
            if text.is_empty() {
                continue;
            }
            let matches = self.set.matches(text);
            let hit = matches
                .iter()
                .map(|p| self.pattern_cause[p])
                .find(|&c| is_error || self.causes[c as usize].levels.contains(&level));
            if hit.is_some() {
                return hit;
            }
        }
        is_error.then_some(UNCLASSIFIED)
    }

    /// Renders the table as TOML (what `postmortem causes --toml` prints).
    pub fn to_toml(&self) -> String {
        let file = CauseFile {
            causes: self.causes.clone(),
        };
        toml::to_string_pretty(&file).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(t: &CauseTable, level: Level, msg: &str) -> Option<String> {
        t.classify(level, msg, "").map(|c| t.id(c).to_owned())
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
        let c = t.classify(
            Level::Error,
            "Generation failed",
            "Error: x\n    at Foo (/app/node_modules/@anthropic-ai/sdk/core.js:1:1)",
        );
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

    #[test]
    fn builtin_round_trips_through_toml() {
        let t = CauseTable::builtin();
        let again = CauseTable::from_toml(&t.to_toml(), "round-trip").unwrap();
        assert_eq!(again.causes.len(), t.causes.len());
    }
}
