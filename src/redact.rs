//! Redaction: credentials never leave the process. Every piece of text taken from the input
//! passes through [`text`] before it is stored where an output could show it (a message's
//! example and signature, a Kubernetes event's message, a metric's label value, a rule's
//! annotation, a problem quoting the input, a line on stderr). A secret is replaced by
//! `«redacted:KIND#abcd»`: the kind says what it was, the short keyed hash tells two secrets
//! apart (the same password gets the same tag) without revealing either. The hash is 16 bits of
//! a keyed xxh3: `POSTMORTEM_REDACT_KEY` sets the key; without it a fixed key keeps reports
//! reproducible, and 16 bits are too few to confirm a guessed secret.
//!
//! Built-in detectors (each unit-tested with near-misses that must survive): URL userinfo
//! passwords, `Authorization`/`Bearer`/`Basic` values, JWTs, provider keys (Anthropic, OpenAI,
//! GitHub, Slack, AWS with the secret key beside it, Google, Stripe), PEM private keys,
//! `password=`/`token=`/`secret=`/`api_key=` pairs, and JSON fields whose key names a secret.
//! Users add `[[redact]]` rules (a pattern, or a JSON key) in the cause table.
//!
//! The redactor in effect is process-wide (like `messages`): set once by the command from its
//! settings ([`install`]), the built-in one until then. `--no-redact` installs one that keeps
//! everything.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock, RwLock};

use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};

/// A user's redaction rule from the cause table (`[[redact]]`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RedactRule {
    /// The kind shown in the tag (`«redacted:NAME#...»`).
    pub name: String,
    /// A regular expression: the whole match (or its group `secret`) is redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// A JSON key whose string value is redacted wherever it appears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Longest pattern a user rule may have (a regex this long is a mistake or an attack).
pub const MAX_RULE_PATTERN: usize = 4096;

/// One detector: what it finds and which part of the match is the secret.
struct Detector {
    kind: String,
    re: Regex,
    /// The capture group holding the secret (0: the whole match).
    group: usize,
}

/// The redactor in effect.
pub struct Redactor {
    detectors: Vec<Detector>,
    /// Every detector's pattern, to find in one pass which ones can match at all.
    any: regex::RegexSet,
    enabled: bool,
    key: u64,
    counts: Mutex<BTreeMap<String, u64>>,
}

/// What is wrong with a user's redaction rule.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("[[redact]] {name:?}: give a pattern or a key (one of them)")]
    Incomplete { name: String },
    #[error("[[redact]] {name:?}: the pattern is {len} bytes; the limit is {MAX_RULE_PATTERN}")]
    TooLong { name: String, len: usize },
    #[error("[[redact]] {name:?}: {message}")]
    BadPattern { name: String, message: String },
}

/// Key names whose values are secrets (JSON keys and `key=value` text).
const SECRET_KEYS: &str = r"[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth|authorization|credentials?|private[_-]?key|session[_-]?id|cookie)";

fn builtin_detectors() -> Vec<Detector> {
    let d = |kind: &str, re: &str, group: usize| Detector {
        kind: kind.to_owned(),
        re: Regex::new(re).expect("built-in redaction pattern"),
        group,
    };
    vec![
        d(
            "private-key",
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            0,
        ),
        d(
            "jwt",
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
            0,
        ),
        d(
            "url-password",
            r#"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'"\\<>]*:([^\s@/'"\\<>]+)@"#,
            1,
        ),
        d("anthropic-key", r"\bsk-ant-[A-Za-z0-9_-]{16,}", 0),
        d(
            "openai-key",
            r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}",
            0,
        ),
        d(
            "github-token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
            0,
        ),
        d("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", 0),
        d(
            "aws-secret-key",
            r#"(?i)(?:aws_?secret_?access_?key|secret_?access_?key|aws_?secret)\\?"?\s*[=:]\s*\\?"?([A-Za-z0-9/+]{40})"#,
            1,
        ),
        d("aws-access-key", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", 0),
        d("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}", 0),
        d("stripe-key", r"\b(?:sk|rk)_live_[0-9A-Za-z]{16,}", 0),
        d(
            "authorization",
            r"(?i)\b(?:bearer|basic|token)\s+([A-Za-z0-9._~+/-]{16,}=*)",
            1,
        ),
        // JSON fields whose key names a secret, escaped inside another string too.
        d(
            "secret-field",
            &format!(r#"(?i)\\?"{SECRET_KEYS}\\?"\s*:\s*\\?"((?:[^"\\]|\\[^"])+)\\?""#),
            1,
        ),
        // `password=...`, `token: ...` in text and query strings.
        d(
            "secret-value",
            &format!(
                r#"(?i)\b{SECRET_KEYS}\s*[=:]\s*(?:(?:bearer|basic|token)\s+)?([^\s&"',;}}\]\\<>]{{4,}})"#
            ),
            1,
        ),
    ]
}

/// A 40-character AWS secret key standing beside an access key id in the same text.
fn aws_secret_beside() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])")
            .expect("static regex")
    })
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("enabled", &self.enabled)
            .field("detectors", &self.detectors.len())
            .finish()
    }
}

impl Redactor {
    /// The built-in detectors plus the user's rules.
    pub fn new(rules: &[RedactRule]) -> Result<Redactor, RuleError> {
        let mut detectors = builtin_detectors();
        for r in rules {
            let name = r.name.clone();
            let (re, group) = match (&r.pattern, &r.key) {
                (Some(p), None) => {
                    if p.len() > MAX_RULE_PATTERN {
                        return Err(RuleError::TooLong { name, len: p.len() });
                    }
                    let re = compile(p).map_err(|message| RuleError::BadPattern {
                        name: name.clone(),
                        message,
                    })?;
                    let group = re
                        .capture_names()
                        .position(|n| n == Some("secret"))
                        .unwrap_or(0);
                    (re, group)
                }
                (None, Some(k)) => {
                    let p = format!(
                        r#"\\?"{}\\?"\s*:\s*\\?"((?:[^"\\]|\\[^"])+)\\?""#,
                        regex::escape(k)
                    );
                    (
                        compile(&p).map_err(|message| RuleError::BadPattern {
                            name: name.clone(),
                            message,
                        })?,
                        1,
                    )
                }
                _ => return Err(RuleError::Incomplete { name }),
            };
            detectors.push(Detector {
                kind: name,
                re,
                group,
            });
        }
        let any = regex::RegexSetBuilder::new(detectors.iter().map(|d| d.re.as_str()))
            .size_limit(1 << 24)
            .build()
            .map_err(|e| RuleError::BadPattern {
                name: "(all rules together)".into(),
                message: e.to_string(),
            })?;
        Ok(Redactor {
            detectors,
            any,
            enabled: true,
            key: key_from_env(),
            counts: Mutex::new(BTreeMap::new()),
        })
    }

    /// One that keeps everything (`--no-redact`).
    pub fn disabled() -> Redactor {
        Redactor {
            detectors: Vec::new(),
            any: regex::RegexSet::empty(),
            enabled: false,
            key: 0,
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// What has been redacted so far, by kind.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Adds what another process redacted (a shard's map step, for the merge's report).
    pub fn add_counts(&self, more: &BTreeMap<String, u64>) {
        if let Ok(mut counts) = self.counts.lock() {
            for (k, n) in more {
                *counts.entry(k.clone()).or_default() += n;
            }
        }
    }

    /// The tag replacing `secret`.
    fn tag(&self, kind: &str, secret: &str) -> String {
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(secret.as_bytes(), self.key);
        format!("«redacted:{kind}#{:04x}»", h & 0xffff)
    }

    /// `text` with every secret replaced.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.enabled || text.len() < 8 {
            return Cow::Borrowed(text);
        }
        let hits = self.any.matches(text);
        if !hits.matched_any() {
            return Cow::Borrowed(text);
        }
        let mut out: Cow<'a, str> = Cow::Borrowed(text);
        let mut found: Vec<String> = Vec::new();
        for d in hits.iter().map(|i| &self.detectors[i]) {
            if !d.re.is_match(&out) {
                continue;
            }
            let replaced =
                d.re.replace_all(&out, |c: &Captures<'_>| self.replace(d, c, &mut found))
                    .into_owned();
            out = Cow::Owned(replaced);
        }
        if found.iter().any(|k| k == "aws-access-key") {
            let replaced = aws_secret_beside()
                .replace_all(&out, |c: &Captures<'_>| {
                    let whole = &c[0];
                    let secret = &c[1];
                    let at = c.get(1).map_or(0, |m| m.start()) - c.get(0).map_or(0, |m| m.start());
                    found.push("aws-secret-key".into());
                    format!(
                        "{}{}{}",
                        &whole[..at],
                        self.tag("aws-secret-key", secret),
                        &whole[at + secret.len()..]
                    )
                })
                .into_owned();
            out = Cow::Owned(replaced);
        }
        if !found.is_empty() {
            if let Ok(mut counts) = self.counts.lock() {
                for k in found {
                    *counts.entry(k).or_default() += 1;
                }
            }
        }
        out
    }

    fn replace(&self, d: &Detector, c: &Captures<'_>, found: &mut Vec<String>) -> String {
        let whole = c.get(0).expect("a match");
        let Some(secret) = c.get(d.group) else {
            return whole.as_str().to_owned();
        };
        // Already a tag (a second detector over the same text): leave it.
        if secret.as_str().starts_with('«') || secret.as_str().contains("redacted:") {
            return whole.as_str().to_owned();
        }
        found.push(d.kind.clone());
        let (a, b) = (secret.start() - whole.start(), secret.end() - whole.start());
        let w = whole.as_str();
        format!(
            "{}{}{}",
            &w[..a],
            self.tag(&d.kind, secret.as_str()),
            &w[b..]
        )
    }
}

fn compile(p: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(p)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string())
}

fn key_from_env() -> u64 {
    match std::env::var("POSTMORTEM_REDACT_KEY") {
        Ok(k) if !k.is_empty() => xxhash_rust::xxh3::xxh3_64(k.as_bytes()),
        _ => 0x7057_6d6f_7274_656d,
    }
}

static CURRENT: RwLock<Option<&'static Redactor>> = RwLock::new(None);

/// Makes `r` the redactor in effect for the rest of the process.
pub fn install(r: Redactor) {
    let r: &'static Redactor = Box::leak(Box::new(r));
    if let Ok(mut cur) = CURRENT.write() {
        *cur = Some(r);
    }
}

/// The redactor in effect (the built-in one until a command installs another).
pub fn current() -> &'static Redactor {
    if let Some(r) = CURRENT.read().ok().and_then(|c| *c) {
        return r;
    }
    static BUILTIN: OnceLock<Redactor> = OnceLock::new();
    BUILTIN.get_or_init(|| Redactor::new(&[]).expect("the built-in redactor"))
}

/// `s` with every secret replaced, by the redactor in effect.
pub fn text(s: &str) -> Cow<'_, str> {
    current().redact(s)
}

/// [`text`], owned.
pub fn owned(s: &str) -> String {
    text(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::new(&[]).unwrap()
    }

    /// Redacts and checks that `secret` is gone and the tag says `kind`.
    fn gone(text: &str, secret: &str, kind: &str) -> String {
        let out = r().redact(text).into_owned();
        assert!(!out.contains(secret), "{kind}: {out}");
        assert!(out.contains(&format!("«redacted:{kind}#")), "{kind}: {out}");
        out
    }

    fn kept(text: &str) {
        assert_eq!(r().redact(text), text, "must survive");
    }

    #[test]
    fn urls_keep_user_and_host_lose_the_password() {
        let out = gone(
            "connect failed: postgres://admin:S3cr3t!Pass@mcp-postgres:5432/app",
            "S3cr3t!Pass",
            "url-password",
        );
        assert!(
            out.contains("postgres://admin:«redacted:url-password#")
                && out.contains("@mcp-postgres:5432/app")
        );
        kept("connect ECONNREFUSED mcp-postgres:5432");
        kept("see https://status.anthropic.com/incidents/abc for details");
        kept("GET http://10.52.2.9:3000/api/v1/health/ready: dial tcp");
    }

    #[test]
    fn tokens_and_provider_keys() {
        gone("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "jwt");
        gone(
            "Authorization: Bearer 0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d",
            "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d",
            "authorization",
        );
        gone(
            "Basic YWRtaW46c3VwZXJzZWNyZXRwYXNz",
            "YWRtaW46c3VwZXJzZWNyZXRwYXNz",
            "authorization",
        );
        gone(
            "x-api-key: sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEf",
            "sk-ant-api03-AbCdEfGhIjKlMnOp",
            "anthropic-key",
        );
        gone(
            "OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
            "abcdefghijklmnopqrstuvwxyz0123456789",
            "openai-key",
        );
        gone(
            "token ghp_0123456789abcdefghijABCDEFGHIJ012345 rejected",
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            "github-token",
        );
        gone(
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            "github_pat_11ABCDEFG",
            "github-token",
        );
        gone(
            "slack xoxb-123456789012-abcdefghijklmnop",
            "xoxb-123456789012-abcdefghijklmnop",
            "slack-token",
        );
        gone(
            "key AIzaSyA-0123456789abcdefghijklmnopqrstu used",
            "AIzaSyA-0123456789abcdefghijklmnopqrstu",
            "google-api-key",
        );
        gone(
            "stripe sk_live_0123456789abcdefABCDEF failed",
            "sk_live_0123456789abcdefABCDEF",
            "stripe-key",
        );
        kept("Bearer of bad news");
        kept("the task-1234 risk-free sk-8 budget");
        kept("Number of request tokens has exceeded your per-minute rate limit");
        kept("API rate limit exceeded for user ID 1234567.");
    }

    #[test]
    fn a_key_glued_inside_a_longer_word_is_no_key() {
        // Found by the redact fuzz target: the planted key (standing alone) was redacted, the
        // same characters inside a longer token were not, rightly.
        let text = "{5.000ZF  mOAKIAIOSFODNN7EXAMPLE95167663.5 AKIAIOSFODNN7EXAMPLE x";
        let out = r().redact(text).into_owned();
        assert!(out.contains("mOAKIAIOSFODNN7EXAMPLE95167663"), "{out}");
        assert_eq!(out.matches("AKIAIOSFODNN7EXAMPLE").count(), 1, "{out}");
        assert!(out.contains("«redacted:aws-access-key#"), "{out}");
    }

    #[test]
    fn aws_keys_with_the_secret_beside_them() {
        let out = gone(
            "credentials AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY rejected",
            "AKIAIOSFODNN7EXAMPLE",
            "aws-access-key",
        );
        assert!(!out.contains("wJalrXUtnFEMI"), "{out}");
        gone(
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI",
            "aws-secret-key",
        );
        // A 40-character word without an access key beside it is not a secret.
        kept("sha1 0123456789abcdef0123456789abcdef01234567 deployed");
    }

    #[test]
    fn pem_keys_and_key_value_pairs() {
        gone(
            "loaded -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY----- ok",
            "MIIEpAIBAAKCAQEA7",
            "private-key",
        );
        gone(
            "login failed password=hunter2hunter user=bob",
            "hunter2hunter",
            "secret-value",
        );
        gone(
            "GET /cb?code=1&token=abcd1234efgh&x=1",
            "abcd1234efgh",
            "secret-value",
        );
        gone("api_key: 9f8e7d6c5b4a", "9f8e7d6c5b4a", "secret-value");
        kept("password must be at least 8 characters");
        kept("githubUrl must be a URL address");
        kept("Rate limit hit, waiting 2000ms before retry 1/3");
    }

    #[test]
    fn json_fields_whose_key_names_a_secret_nested_and_escaped() {
        let out = gone(
            r#"{"user":"bob","db":{"password":"pa55word!"},"apiKey":"k-123456"}"#,
            "pa55word!",
            "secret-field",
        );
        assert!(
            !out.contains("k-123456") && out.contains(r#""user":"bob""#),
            "{out}"
        );
        gone(
            r#"body {\"client_secret\":\"zzTopSecret99\"} rejected"#,
            "zzTopSecret99",
            "secret-field",
        );
        kept(
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
        );
        kept(r#"{"max_tokens":1024,"input_tokens":12}"#);
    }

    #[test]
    fn the_same_secret_gets_the_same_tag_and_signatures_keep_no_fragment() {
        let r = r();
        let a = r.redact("postgres://u:abc123xyz@h/db").into_owned();
        let b = r.redact("mysql://v:abc123xyz@h/db").into_owned();
        let tag = |s: &str| s[s.find('«').unwrap()..].to_owned();
        assert_eq!(tag(&a).split('»').next(), tag(&b).split('»').next());
        let sig = crate::classify::signature::signature(&a);
        assert!(!sig.contains("abc123"), "{sig}");
        assert_eq!(r.counts()["url-password"], 2);
    }

    #[test]
    fn user_rules_by_pattern_and_by_key() {
        let rules = [
            RedactRule {
                name: "customer-id".into(),
                pattern: Some(r"CUST-\d{6}".into()),
                key: None,
            },
            RedactRule {
                name: "ssn".into(),
                pattern: None,
                key: Some("ssn".into()),
            },
        ];
        let r = Redactor::new(&rules).unwrap();
        let out = r
            .redact(r#"order for CUST-123456 {"ssn":"123-45-6789"}"#)
            .into_owned();
        assert!(
            !out.contains("CUST-123456") && !out.contains("123-45-6789"),
            "{out}"
        );
        assert!(out.contains("«redacted:customer-id#") && out.contains("«redacted:ssn#"));
        let bad = [RedactRule {
            name: "x".into(),
            pattern: Some("(".into()),
            key: None,
        }];
        assert!(Redactor::new(&bad)
            .unwrap_err()
            .to_string()
            .contains("\"x\""));
        let long = [RedactRule {
            name: "y".into(),
            pattern: Some("a".repeat(MAX_RULE_PATTERN + 1)),
            key: None,
        }];
        assert!(Redactor::new(&long)
            .unwrap_err()
            .to_string()
            .contains("limit"));
        assert_eq!(
            Redactor::disabled().redact("password=hunter2hunter"),
            "password=hunter2hunter"
        );
    }
}
