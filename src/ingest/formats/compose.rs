//! `docker compose logs [-t]`: `SERVICE-N  | [TIME ]TEXT`, colours and `ESC[2K` stripped. The
//! service instance (`web-1`) stands for the pod, the service (`web`) for the container.

use super::{parse_rfc3339_ns, strip_ansi, write_entry, Entry};

/// (instance, the rest) of a compose line.
fn split(line: &str) -> Option<(&str, &str)> {
    let bar = line
        .find(" | ")
        .or_else(|| line.find(" |").filter(|&i| i + 2 == line.len()))?;
    let name = line[..bar].trim_end();
    // A compose instance ends in its number (`web-1`, v1's `project_web_1`).
    let numbered = name.rsplit_once(['-', '_']).is_some_and(|(s, n)| {
        !s.is_empty() && !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit())
    });
    let ok = numbered
        && name.len() <= 63
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    ok.then(|| (name, line.get(bar + 3..).unwrap_or("")))
}

pub fn is_line(line: &str) -> bool {
    split(line).is_some()
}

pub fn line(raw: &[u8], out: &mut Vec<u8>) -> bool {
    let clean = strip_ansi(raw);
    let text = String::from_utf8_lossy(&clean);
    let Some((name, rest)) = split(&text) else {
        return false;
    };
    let pod: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == '_' || c == '.' { '-' } else { c })
        .collect();
    let service = match pod.rsplit_once('-') {
        Some((s, n)) if n.bytes().all(|c| c.is_ascii_digit()) && !s.is_empty() => s.to_owned(),
        _ => pod.clone(),
    };
    let (ts, text) = match rest.split_once(' ') {
        Some((t, r)) if t.len() >= 20 && t.as_bytes()[10] == b'T' => match parse_rfc3339_ns(t) {
            Some(ns) => (Some(ns), r),
            None => (None, rest),
        },
        _ => (None, rest),
    };
    write_entry(
        &Entry {
            namespace: None,
            pod: Some(pod),
            container: Some(service),
            ts,
            text: text.to_owned(),
        },
        out,
    );
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn lnav_sample() {
        let mut out = Vec::new();
        assert!(super::line(
            b"\x1b[2Kweb-1  | 2024-04-25T05:32:35.584725130Z  * Serving Flask app 'app.py'",
            &mut out
        ));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[pod/web-1/web] 2024-04-25T05:32:35.584725130Z  * Serving Flask app 'app.py'\n"
        );
        assert!(!super::is_line("2026-11-20T09:40:05Z a | b"));
        assert!(!super::is_line("INFO | request served"));
    }
}
