//! Message signatures and error keys, both computed on bytes in one pass.
//!
//! A *signature* is the message with every token that varies from run to run masked (`<*>`),
//! so that `connect ECONNREFUSED 10.96.44.12:5432` and `... 10.96.44.13:5432` group together
//! in "top messages", users see which errors their cause table misses, and a run compared
//! with a baseline finds no "new" message only because ids changed. A token (letters, digits,
//! `_-.:@`) is masked when it carries a digit (numbers, ids, UUIDs, IPs, ports, durations such
//! as `4210ms`, versions, hashes, most generated names), when it is a Kubernetes generated name
//! (a last `-` part of 5 characters, or a part of 9-10, from the vowel-less alphabet Kubernetes
//! draws them from: `mcp-backend-kqzxw`), or a hex run of 12 or more letters (`deadbeefcafe`).
//! Hosts without digits (`api.anthropic.com`) and words stay. Deterministic: the same message
//! always gives the same signature.
//!
//! An *error key* identifies the underlying error of a record: wrappers such as
//! `Graph execution failed: ` and the error logger's `[GraphOrchestrationService::executeGraph] `
//! are peeled off, so a failure and its echo share a key.

/// Longest message prefix a signature looks at.
const SIGNATURE_MAX: usize = 160;

/// The masked form of a message's first line: tokens containing a digit become `<*>`,
/// whitespace runs become one space, and the result is cut at 160 bytes.
pub fn signature(message: &str) -> String {
    let line = message.lines().next().unwrap_or("");
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(bytes.len().min(SIGNATURE_MAX) + 8);
    let mut i = 0;
    let is_tok = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':' | b'@');
    while i < bytes.len() && out.len() < SIGNATURE_MAX {
        let c = bytes[i];
        if is_tok(c) {
            let start = i;
            let mut has_digit = false;
            while i < bytes.len() && is_tok(bytes[i]) {
                has_digit |= bytes[i].is_ascii_digit();
                i += 1;
            }
            let tok = &line[start..i];
            let has_digit = has_digit || generated(tok);
            // Keep sentence punctuation outside the mask: "Retrying (1)..." -> "Retrying (<*>)...".
            let trail = tok.len() - tok.trim_end_matches(['.', ':']).len();
            if has_digit {
                out.push_str("<*>");
                out.push_str(&line[i - trail..i]);
            } else {
                out.push_str(tok);
            }
        } else if c.is_ascii_whitespace() {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            out.push(' ');
        } else {
            let ch_len = line[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&line[i..i + ch_len]);
            i += ch_len;
        }
    }
    if i < bytes.len() {
        out.push('…');
    }
    out.trim().to_owned()
}

/// Kubernetes' generated names (`mcp-backend-kqzxw`, `web-bcdfghjklm-xzqwp`) and long hex runs,
/// digits or not.
fn generated(tok: &str) -> bool {
    // Kubernetes' name suffixes: "bcdfghjklmnpqrstvwxz2456789" (no vowels, no 0/1/3).
    let k8s = |part: &str| {
        part.bytes()
            .all(|c| b"bcdfghjklmnpqrstvwxz2456789".contains(&c))
    };
    let mut parts = tok.split('-');
    let last = parts.next_back().unwrap_or("");
    let named = tok.contains('-')
        && ((last.len() == 5 && k8s(last))
            || tok
                .split('-')
                .any(|p| (p.len() == 9 || p.len() == 10) && k8s(p)));
    let hex = tok.len() >= 12 && tok.bytes().all(|c| matches!(c, b'a'..=b'f' | b'A'..=b'F'));
    named || hex
}

/// The message with leading `[Context] ` tags and `<Some words>: ` wrappers removed:
/// `MCP server generation failed: Repository analysis failed: Rate limit exceeded` and
/// `[GitHubRepoProvider] Rate limit exceeded` both come down to `Rate limit exceeded`. A
/// wrapper is up to 80 bytes of letters, digits, spaces and `_-.` starting with a letter; text
/// after it must remain (`Error: ` alone is the message).
pub fn underlying_error(message: &str) -> &str {
    let mut rest = message.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix('[') {
            if let Some(end) = after.find(']').filter(|&e| e <= 120) {
                rest = after[end + 1..].trim_start();
                continue;
            }
        }
        if let Some(pos) = rest.find(": ").filter(|&p| p <= 80) {
            let head = &rest.as_bytes()[..pos];
            let wrapper = head.first().is_some_and(u8::is_ascii_alphabetic)
                && head
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b' ' | b'_' | b'-' | b'.'));
            let inner = rest[pos + 2..].trim_start();
            if wrapper && !inner.is_empty() {
                rest = inner;
                continue;
            }
        }
        return rest;
    }
}

/// Hash of the underlying error's first line (see [`underlying_error`]).
pub fn error_key(message: &str) -> u64 {
    let core = underlying_error(message);
    let first = core.lines().next().unwrap_or("").trim_end();
    xxhash_rust::xxh3::xxh3_64(first.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_numbers_ids_and_hosts() {
        assert_eq!(
            signature("connect ECONNREFUSED 10.96.44.12:5432"),
            "connect ECONNREFUSED <*>"
        );
        assert_eq!(
            signature("API rate limit exceeded for user ID 1234567."),
            "API rate limit exceeded for user ID <*>."
        );
        assert_eq!(
            signature("[TypeOrmModule] Unable to connect to the database. Retrying (1)..."),
            "[TypeOrmModule] Unable to connect to the database. Retrying (<*>)..."
        );
        assert_eq!(
            signature("Unexpected token < in JSON at position 0"),
            "Unexpected token < in JSON at position <*>"
        );
        assert_eq!(signature("a\n   at b"), "a");
        // Generated names without a digit, and hex runs.
        assert_eq!(
            signature(
                "pod mcp-backend-kqzxw not ready; job web-bcdfghjklm-xzqwp; key deadbeefcafebabe"
            ),
            "pod <*> not ready; job <*>; key <*>"
        );
        // Words and hosts stay.
        assert_eq!(
            signature("request to api.anthropic.com failed: read-only file-system"),
            "request to api.anthropic.com failed: read-only file-system"
        );
    }

    #[test]
    fn a_failure_and_its_echo_share_a_key() {
        let a = "Graph execution failed: 529 {\"type\":\"error\"}";
        let b = "[GraphOrchestrationService::executeGraph] 529 {\"type\":\"error\"}";
        assert_eq!(error_key(a), error_key(b));
        assert_eq!(
            underlying_error("Anthropic API call failed: Anthropic API error: 529"),
            "529"
        );
        // The three services of one GitHub failure and the error logger's echo.
        let inner = "Rate limit exceeded after 4 attempts";
        for m in [
            "Rate limit exceeded after 4 attempts",
            "Failed to analyze repository: Rate limit exceeded after 4 attempts",
            "MCP server generation failed: Repository analysis failed: Rate limit exceeded after 4 attempts",
            "[McpGenerationService::generate] Repository analysis failed: Rate limit exceeded after 4 attempts",
        ] {
            assert_eq!(underlying_error(m), inner, "{m}");
        }
        // JSON bodies and addresses are not wrappers.
        assert_eq!(underlying_error(a), "529 {\"type\":\"error\"}");
        assert_eq!(underlying_error("Error: "), "Error: ");
        assert_eq!(
            underlying_error("connect ECONNREFUSED 10.96.44.12:5432"),
            "connect ECONNREFUSED 10.96.44.12:5432"
        );
        assert_ne!(
            error_key("connect ECONNREFUSED 10.96.44.12:5432"),
            error_key(a)
        );
    }
}
