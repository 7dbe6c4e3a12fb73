//! The plain data every stage shares: times, log levels, classified error events, per-input
//! data-quality accounting and alert episodes. Nothing here does I/O or knows about the CLI.

pub mod alert;
pub mod cluster;
pub mod collection;
pub mod event;
pub mod labels;
pub mod level;
pub mod metrics;
pub mod quality;
pub mod rules;
pub mod time;

pub use alert::{AlertInstance, AlertSource, AlertState};
pub use event::{ErrorEvent, Interner};
pub use level::{Level, Levels};
pub use quality::{FileQuality, InputKind, Problem, SkipReason};
pub use time::Millis;

/// A DNS-1123 subdomain: what Kubernetes accepts as the name of a pod, a Deployment, a
/// namespace or a container (the last two are the stricter label: no dots, 63 characters).
pub fn is_kubernetes_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 253
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// `value` as one shell word: as is when it holds only characters no shell treats specially,
/// else in single quotes (a quote inside written `'\''`), control characters shown as `?`.
pub fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._/:=@%+,".contains(&b));
    if plain {
        value.to_owned()
    } else {
        let one_line: String = value
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        format!("'{}'", one_line.replace('\'', r"'\''"))
    }
}
