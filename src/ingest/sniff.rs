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

/// What a (decompressed) text input holds, judged from its first bytes.
pub fn content(head: &[u8]) -> InputKind {
    if head.iter().all(u8::is_ascii_whitespace) {
        return InputKind::Empty;
    }
    let sample = &head[..head.len().min(8192)];
    let control = sample
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0x1b | 0x0c))
        .count();
    if sample.contains(&0) || control * 20 > sample.len() {
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
