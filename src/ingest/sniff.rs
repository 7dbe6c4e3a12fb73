//! Deciding what an input is from its first bytes, never from its name: gzip and tar
//! containers, binary files, Prometheus dumps, Kubernetes objects, and logs.

use memchr::memmem;

use crate::model::InputKind;

/// Container formats, recognised by their magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Gzip,
    Tar,
    Plain,
}

pub fn container(head: &[u8]) -> Container {
    if head.starts_with(&[0x1f, 0x8b]) {
        Container::Gzip
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Container::Tar
    } else {
        Container::Plain
    }
}

/// Binary by proportion, not by one byte: a log with a stray NUL or a few Latin-1 bytes is
/// text. Counts NULs and other control characters (not newline, tab, CR, form feed, ESC)
/// and bytes that are not valid UTF-8; text has few, compressed or machine data has many
/// (random bytes: about half).
pub fn looks_binary(sample: &[u8]) -> bool {
    if sample.is_empty() {
        return false;
    }
    let control = sample
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0x1b | 0x0c))
        .count();
    let invalid: usize = sample.utf8_chunks().map(|c| c.invalid().len()).sum();
    // A chunk cut in the middle of a character is not evidence.
    let invalid = invalid.saturating_sub(3);
    (control + invalid) * 100 > sample.len() * 15 || control * 100 > sample.len() * 5
}

/// What a (decompressed) text input holds, judged from its first bytes.
pub fn content(head: &[u8]) -> InputKind {
    if head.iter().all(u8::is_ascii_whitespace) {
        return InputKind::Empty;
    }
    if looks_binary(&head[..head.len().min(8192)]) {
        return InputKind::Binary;
    }
    let text = &head[head
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(0)..];
    let first_line = text
        .split(|&c| c == b'\n')
        .next()
        .unwrap_or(b"")
        .trim_ascii();
    let window = &text[..text.len().min(4096)];
    let has = |needle: &[u8]| memmem::find(window, needle).is_some();
    if text.starts_with(b"{__name__=") {
        // `promtool tsdb dump`: `{__name__="up", job="x"} 1 1700000000000`.
        return InputKind::PrometheusDump;
    }
    if is_rules(first_line, window) {
        return InputKind::AlertRules;
    }
    if super::prom::sniff(&String::from_utf8_lossy(window)).is_some() {
        return InputKind::PrometheusDump;
    }
    let json_array = text.starts_with(b"[")
        && text[1..]
            .iter()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|c| matches!(c, b'{' | b'[' | b'"' | b']'));
    if text.starts_with(b"{") || json_array {
        let one_object_line = first_line.len() > 1 && first_line.ends_with(b"}");
        if has(b"\"resultType\"") {
            return InputKind::PrometheusDump;
        }
        if has(b"\"kind\": \"PostmortemCollection\"") || has(b"\"kind\":\"PostmortemCollection\"") {
            return InputKind::CollectionRecord;
        }
        if has(b"\"apiVersion\"")
            && has(b"\"kind\"")
            && !has(b"\"kind\":\"Status\"")
            && !has(b"\"kind\": \"Status\"")
        {
            return InputKind::KubernetesObjects;
        }
        if !one_object_line && !text.starts_with(b"{\"") {
            // A pretty-printed JSON document that is neither: not line-delimited logs either.
            return InputKind::Unreadable;
        }
        return InputKind::Logs;
    }
    let head_text = String::from_utf8_lossy(&text[..text.len().min(4096)]);
    if super::k8s::is_event_table(&head_text) || super::k8s::describe::is_describe(&head_text) {
        return InputKind::KubernetesObjects;
    }
    if first_line.starts_with(b"apiVersion:")
        || first_line.starts_with(b"kind:")
        || first_line == b"---" && has(b"\napiVersion:")
    {
        return InputKind::KubernetesObjects;
    }
    if first_line.starts_with(b"# HELP ")
        || first_line.starts_with(b"# TYPE ")
        || first_line.starts_with(b"{__name__=")
    {
        return InputKind::PrometheusDump;
    }
    InputKind::Logs
}

/// Alerting rules: a rules file (`groups:` first), a PrometheusRule, or a ConfigMap whose
/// data holds one.
fn is_rules(first_line: &[u8], window: &[u8]) -> bool {
    let has = |needle: &[u8]| memmem::find(window, needle).is_some();
    first_line.starts_with(b"groups:")
        || (first_line.starts_with(b"apiVersion:")
            || first_line.starts_with(b"kind:")
            || first_line == b"---")
            && (has(b"kind: PrometheusRule") || has(b"kind: ConfigMap") && has(b"groups:"))
}

#[cfg(test)]
mod binary_tests {
    use super::*;

    #[test]
    fn one_nul_in_a_log_is_still_text() {
        let mut log = b"2026-11-20T09:40:05.830Z ERROR Anthropic API call failed\n".repeat(100);
        log[300] = 0;
        assert!(!looks_binary(&log));
        let latin1 = b"2026-11-20 ERROR Benutzer M\xfcller nicht gefunden\n".repeat(100);
        assert!(!looks_binary(&latin1));
    }

    #[test]
    fn compressed_and_machine_data_are_binary() {
        let mut x: u32 = 12345;
        let random: Vec<u8> = (0..8192)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        assert!(looks_binary(&random));
        assert!(looks_binary(&[0u8; 4096]));
        let utf16: Vec<u8> = "error: connection refused\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<_>>()
            .repeat(50);
        assert!(looks_binary(&utf16));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(content(b""), InputKind::Empty);
        assert_eq!(content(b"\0\x01\x02garbage\x03\x04"), InputKind::Binary);
        assert_eq!(
            content(b"{\"timestamp\":\"2026-11-20T09:00:00Z\",\"level\":\"info\"}\n"),
            InputKind::Logs
        );
        assert_eq!(
            content(b"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}"),
            InputKind::PrometheusDump
        );
        assert_eq!(
            content(
                b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [],\n    \"kind\": \"List\"\n}"
            ),
            InputKind::KubernetesObjects
        );
        assert_eq!(
            content(b"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\"}\n"),
            InputKind::Logs
        );
        assert_eq!(
            content(b"{__name__=\"up\", job=\"x\"} 1 1700000000000\n"),
            InputKind::PrometheusDump
        );
        assert_eq!(
            content(b"2026-11-20T09:00:00.123456789Z hello\n"),
            InputKind::Logs
        );
        assert_eq!(
            content(b"caf\xc3 invalid utf8 is still text\n"),
            InputKind::Logs
        );
        assert_eq!(
            content(b"Name:         mcp-backend-7c9d5b8f6d-x2kqp\nNamespace:    mcp-everything\nStatus:       Running\nContainers:\n  backend:\n"),
            InputKind::KubernetesObjects
        );
        assert_eq!(container(&[0x1f, 0x8b, 8, 0]), Container::Gzip);
        assert_eq!(
            content(b"[Nest] 1  - 11/20/2026, 9:41:02 AM     LOG [NestFactory] Starting\n"),
            InputKind::Logs
        );
        assert_eq!(
            content(b"[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:00:00Z x\n"),
            InputKind::Logs
        );
    }
}
