//! The Prometheus text grammar shared by `promtool tsdb dump`, exposition text and Grafana's
//! series headers: metric names, label sets (`{a="b", "utf8.name"="c"}` with Go/Prometheus
//! escapes inside the quotes), sample values (`NaN`, `+Inf`, `-Inf`, `1e+10`) and timestamps
//! (integer milliseconds, or seconds with a fraction).

use crate::model::labels::Labels;
use crate::model::Millis;

/// One `name{labels} value [timestamp] [# exemplar]` or `{labels} value timestamp` line.
#[derive(Debug, PartialEq)]
pub(crate) struct SampleLine<'a> {
    /// The label set, `__name__` included.
    pub labels: Labels,
    /// Whether the line began with `{` (promtool's `tsdb dump` form).
    pub braces_first: bool,
    pub value: &'a str,
    pub timestamp: Option<&'a str>,
    /// The value was a `{...}` native histogram (promtool prints them so).
    pub histogram: bool,
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

fn is_label_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_label_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether `line` reads as a `promtool tsdb dump` line (`{labels} value timestamp`).
pub(crate) fn looks_like_dump_line(line: &str) -> bool {
    matches!(parse_sample_line(line), Ok(s) if s.braces_first && s.timestamp.is_some())
}

struct Cur<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let st = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        &self.s[st..self.i]
    }
}

/// Reads a quoted string starting at the opening `"`; returns the unescaped text.
fn quoted(c: &mut Cur<'_>) -> Result<String, String> {
    debug_assert_eq!(c.peek(), Some(b'"'));
    c.i += 1;
    let mut out: Vec<u8> = Vec::new();
    loop {
        let Some(ch) = c.peek() else {
            return Err("unterminated quoted string".to_owned());
        };
        c.i += 1;
        match ch {
            b'"' => break,
            b'\\' => {
                let Some(e) = c.peek() else {
                    return Err("unterminated quoted string".to_owned());
                };
                c.i += 1;
                match e {
                    b'\\' => out.push(b'\\'),
                    b'"' => out.push(b'"'),
                    b'\'' => out.push(b'\''),
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'a' => out.push(0x07),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'v' => out.push(0x0b),
                    b'x' | b'u' | b'U' => {
                        let n = match e {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let hex =
                            c.s.get(c.i..c.i + n)
                                .ok_or("short escape in quoted string")?;
                        let v = u32::from_str_radix(hex, 16)
                            .map_err(|_| format!("bad escape \\{}{hex}", e as char))?;
                        c.i += n;
                        if e == b'x' {
                            out.push(v as u8);
                        } else {
                            let ch = char::from_u32(v).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                    other => {
                        // Not an escape Prometheus or Go writes: keep it as it stands.
                        out.push(b'\\');
                        out.push(other);
                    }
                }
            }
            _ => out.push(ch),
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Reads `{...}` starting at `{`: labels, and a bare quoted metric name (Prometheus 3).
fn label_block(
    c: &mut Cur<'_>,
    labels: &mut Labels,
    name: &mut Option<String>,
) -> Result<(), String> {
    c.i += 1;
    loop {
        c.ws();
        match c.peek() {
            None => return Err("label set not closed with '}'".to_owned()),
            Some(b'}') => {
                c.i += 1;
                return Ok(());
            }
            _ => {}
        }
        let (key, was_quoted) = match c.peek() {
            Some(b'"') => (quoted(c)?, true),
            Some(ch) if is_label_start(ch) => (c.take_while(is_label_char).to_owned(), false),
            Some(ch) => {
                return Err(format!("unexpected {:?} in label set", ch as char));
            }
            None => unreachable!(),
        };
        c.ws();
        if c.peek() == Some(b'=') {
            c.i += 1;
            c.ws();
            if c.peek() != Some(b'"') {
                return Err(format!("label {key} has no quoted value"));
            }
            let v = quoted(c)?;
            if key == "__name__" {
                if name.is_some() {
                    return Err("two metric names".to_owned());
                }
                *name = Some(v);
            } else if labels.insert(key.clone(), v).is_some() {
                return Err(format!("label {key} given twice"));
            }
        } else if was_quoted {
            if name.is_some() {
                return Err("two metric names".to_owned());
            }
            *name = Some(key);
        } else {
            return Err(format!("label {key} has no value"));
        }
        c.ws();
        match c.peek() {
            Some(b',') => c.i += 1,
            Some(b'}') => {}
            Some(ch) => {
                return Err(format!(
                    "expected ',' or '}}' in label set, found {:?}",
                    ch as char
                ))
            }
            None => return Err("label set not closed with '}'".to_owned()),
        }
    }
}

/// Parses a label set `{a="b", ...}` (optionally `name{...}`), the whole string.
pub(crate) fn parse_label_set(s: &str) -> Result<Labels, String> {
    let s = s.trim();
    let mut c = Cur {
        s,
        b: s.as_bytes(),
        i: 0,
    };
    let mut labels = Labels::new();
    let mut name = None;
    if c.peek().is_some_and(is_name_start) {
        name = Some(c.take_while(is_name_char).to_owned());
    }
    if c.peek() != Some(b'{') {
        return Err("no label set".to_owned());
    }
    label_block(&mut c, &mut labels, &mut name)?;
    c.ws();
    if c.i != s.len() {
        return Err("text after the label set".to_owned());
    }
    if let Some(n) = name {
        labels.insert("__name__".to_owned(), n);
    }
    Ok(labels)
}

/// Parses one sample line. The error says what is wrong with it.
pub(crate) fn parse_sample_line(line: &str) -> Result<SampleLine<'_>, String> {
    let s = line.trim();
    let mut c = Cur {
        s,
        b: s.as_bytes(),
        i: 0,
    };
    let mut labels = Labels::new();
    let mut name: Option<String> = None;
    let braces_first = c.peek() == Some(b'{');
    if c.peek().is_some_and(is_name_start) {
        name = Some(c.take_while(is_name_char).to_owned());
    } else if !braces_first {
        return Err("does not start with a metric name or '{'".to_owned());
    }
    if c.peek() == Some(b'{') {
        label_block(&mut c, &mut labels, &mut name)?;
    }
    let Some(name) = name else {
        return Err("no metric name".to_owned());
    };
    labels.insert("__name__".to_owned(), name);
    let before = c.i;
    c.ws();
    if c.i == before || c.i >= s.len() {
        return Err("no value after the series".to_owned());
    }
    let mut histogram = false;
    let value = if c.peek() == Some(b'{') {
        histogram = true;
        let st = c.i;
        let mut depth = 0i32;
        while let Some(ch) = c.peek() {
            c.i += 1;
            match ch {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        if depth != 0 {
            return Err("histogram value not closed with '}'".to_owned());
        }
        &s[st..c.i]
    } else {
        c.take_while(|b| b != b' ' && b != b'\t')
    };
    c.ws();
    let mut timestamp = None;
    if c.peek().is_some_and(|b| b != b'#') {
        timestamp = Some(c.take_while(|b| b != b' ' && b != b'\t'));
        c.ws();
    }
    if c.peek().is_some_and(|b| b != b'#') {
        return Err("unexpected text after the timestamp".to_owned());
    }
    Ok(SampleLine {
        labels,
        braces_first,
        value,
        timestamp,
        histogram,
    })
}

/// A sample value as Prometheus, Go and JavaScript write it: a decimal number, `NaN`,
/// `+Inf`/`Inf`/`-Inf`, `Infinity`/`-Infinity`. `None` for anything else.
pub(crate) fn parse_value(s: &str) -> Option<f64> {
    let s = s.trim();
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let ok = !body.is_empty()
        && body.as_bytes()[0] != b'+'
        && body.as_bytes()[0] != b'-'
        && body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !ok {
        return None;
    }
    s.parse::<f64>().ok()
}

/// An integer number of milliseconds (Prometheus text and `tsdb dump` timestamps).
pub(crate) fn parse_ms(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.parse().ok()
}

/// Seconds, possibly with a fraction or an exponent (`1700215884.373`, `1.7e9`), to
/// milliseconds, exactly for plain decimals and rounded otherwise.
pub(crate) fn parse_seconds(s: &str) -> Option<Millis> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let plain = !int.is_empty()
        && int.len() <= 12
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if plain {
        let secs: i64 = int.parse().ok()?;
        let fb = frac.as_bytes();
        let mut ms = 0i64;
        for k in 0..3 {
            ms = ms * 10 + fb.get(k).map_or(0, |d| (d - b'0') as i64);
        }
        if fb.get(3).is_some_and(|&d| d >= b'5') {
            ms += 1;
        }
        let v = secs * 1000 + ms;
        return Some(if neg { -v } else { v });
    }
    let f = parse_value(s)?;
    seconds_f64_to_ms(f)
}

/// `f` seconds to milliseconds, when finite and within ±10^14 s.
pub(crate) fn seconds_f64_to_ms(f: f64) -> Option<Millis> {
    (f.is_finite() && f.abs() < 1e14).then(|| (f * 1000.0).round() as Millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_line_with_escapes() {
        let l = parse_sample_line(
            r#"{__name__="mcp_generation_errors_total", error_type="a\"b,c}", pod="p\\x"} 5 1700000000000"#,
        )
        .unwrap();
        assert!(l.braces_first);
        assert_eq!(l.labels["error_type"], "a\"b,c}");
        assert_eq!(l.labels["pod"], "p\\x");
        assert_eq!(l.labels["__name__"], "mcp_generation_errors_total");
        assert_eq!((l.value, l.timestamp), ("5", Some("1700000000000")));
    }

    #[test]
    fn exposition_forms() {
        let l = parse_sample_line("up 1").unwrap();
        assert_eq!((l.value, l.timestamp), ("1", None));
        let l = parse_sample_line(r#"a{b="c",} 2 3 # {trace_id="x"} 1 2"#).unwrap();
        assert_eq!((l.value, l.timestamp), ("2", Some("3")));
        let l = parse_sample_line(r#"{"my.metric", "x.y"="z"} 2"#).unwrap();
        assert_eq!(l.labels["__name__"], "my.metric");
        assert_eq!(l.labels["x.y"], "z");
        let l = parse_sample_line(r#"{__name__="h"} {count:5, sum:10, [0,1):2} 100"#).unwrap();
        assert!(l.histogram);
        assert_eq!(l.timestamp, Some("100"));
        assert!(parse_sample_line(r#"{"status": "success"}"#).is_err());
        assert!(parse_sample_line("2026-11-20T09:00:00Z hello").is_err());
        assert!(parse_sample_line("level=info msg=x").is_err());
        assert!(parse_sample_line("up 1 2 3").is_err());
        assert!(parse_sample_line(r#"up{a="b} 1"#).is_err());
    }

    #[test]
    fn values_and_times() {
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("1.0267820369e+10"), Some(1.0267820369e10));
        assert_eq!(parse_value("abc"), None);
        assert_eq!(parse_value(""), None);
        assert_eq!(parse_value("--1"), None);
        assert_eq!(parse_seconds("1700215884.373"), Some(1_700_215_884_373));
        assert_eq!(parse_seconds("0.000"), Some(0));
        assert_eq!(parse_seconds("1756099500"), Some(1_756_099_500_000));
        assert_eq!(parse_seconds("1.7e9"), Some(1_700_000_000_000));
        assert_eq!(parse_seconds("12.3456"), Some(12_346));
        assert_eq!(parse_ms("-5"), Some(-5));
        assert_eq!(parse_ms("5.0"), None);
    }
}
