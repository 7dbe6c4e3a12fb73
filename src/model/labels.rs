//! Label sets (`{error_type="...", pod="..."}`) and the one way each form of them is written:
//! as Prometheus prints a metric (`name{a="1", b="2"}`), as a braced set in messages
//! (`{a="1", b="2"}`), and as a plain list for tables (`a=1, b=2`). Values are quoted as Go's
//! `%q` quotes them, so a hostile value cannot break out of its quotes.

use std::collections::BTreeMap;

/// A series' or an alert's labels, `__name__` included where there is one, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// A label set from (name, value) pairs.
pub fn from_pairs(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A label value quoted like Go's `%q` (what Prometheus prints).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `k="v", ...` for the labels `keep` accepts.
fn pairs(labels: &Labels, keep: impl Fn(&str) -> bool) -> String {
    labels
        .iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// As Prometheus' `model.Metric.String()` (and `promtool query`): `name{a="1", b="2"}`,
/// `name` alone, or `{}`.
pub fn metric(labels: &Labels) -> String {
    let rest = pairs(labels, |k| k != "__name__");
    match (labels.get("__name__"), rest.is_empty()) {
        (Some(n), true) => n.clone(),
        (None, true) => "{}".into(),
        (n, false) => format!("{}{{{rest}}}", n.map_or("", String::as_str)),
    }
}

/// Every label braced, as Prometheus' messages show a set: `{a="1", b="2"}`.
pub fn braced(labels: &Labels) -> String {
    format!("{{{}}}", pairs(labels, |_| true))
}

/// A plain list for tables: `a=1, b=2` (values as they are).
pub fn plain(labels: &Labels) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        from_pairs(pairs)
    }

    #[test]
    fn the_three_forms() {
        let l = labels(&[("__name__", "up"), ("job", "a\"b"), ("pod", "p\n")]);
        assert_eq!(metric(&l), r#"up{job="a\"b", pod="p\n"}"#);
        assert_eq!(metric(&labels(&[("__name__", "up")])), "up");
        assert_eq!(metric(&Labels::new()), "{}");
        assert_eq!(
            braced(&labels(&[("a", "1"), ("b", "2")])),
            r#"{a="1", b="2"}"#
        );
        assert_eq!(braced(&Labels::new()), "{}");
        assert_eq!(plain(&labels(&[("a", "1"), ("b", "2")])), "a=1, b=2");
        assert_eq!(quote("\u{1b}[31m"), "\"\\x1b[31m\"");
    }
}
