//! Annotation templates as Prometheus expands them for an alert (`{{ $value }}`,
//! `{{ $labels.pod }}`, `printf`, the `humanize*` functions) and Go's number formatting they
//! rest on (`%v`, `%g`, `%.4g`), so that what the report shows is what Alertmanager would
//! have received.

use std::collections::BTreeMap;

/// Expands an annotation's Go template as Prometheus does for the cases rules use:
/// `{{ $value }}`, `{{ $labels.name }}` (also `$labels.name` inside `printf`),
/// `{{ $value | humanize }}` (and `humanize1024`, `humanizePercentage`, `humanizeDuration`),
/// `{{ printf "%.2f" $value }}` (`%f`, `%g`, `%e`, `%v`), with Go's number formatting. Anything
/// else is left as written.
pub fn expand_template(text: &str, value: f64, labels: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let action = rest[open + 2..open + close]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        match expand_action(action, value, labels) {
            Some(s) => out.push_str(&s),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

fn expand_action(action: &str, value: f64, labels: &BTreeMap<String, String>) -> Option<String> {
    let mut parts = action.split('|').map(str::trim);
    let head = parts.next()?;
    let mut v: Result<f64, String> = if head == "$value" || head == ".Value" {
        Ok(value)
    } else if let Some(name) = head
        .strip_prefix("$labels.")
        .or_else(|| head.strip_prefix(".Labels."))
    {
        Err(labels.get(name).cloned().unwrap_or_default())
    } else if let Some(args) = head.strip_prefix("printf ") {
        let args = args.trim();
        let (fmt, arg) = args.strip_prefix('"')?.split_once('"')?;
        let arg = arg.trim();
        let x = if arg == "$value" || arg == ".Value" {
            value
        } else {
            return None;
        };
        Err(printf_float(fmt, x)?)
    } else {
        return None;
    };
    for f in parts {
        let x = match &v {
            Ok(x) => *x,
            Err(s) => s.parse::<f64>().ok()?,
        };
        v = Err(match f {
            "humanize" => humanize(x),
            "humanize1024" => humanize1024(x),
            "humanizePercentage" => format!("{}%", sig4(x * 100.0)),
            "humanizeDuration" => humanize_duration(x),
            _ => return None,
        });
    }
    Some(match v {
        Ok(x) => fmt_g(x),
        Err(s) => s,
    })
}

/// Go's `%v` for a float64 as Prometheus prints `$value`: the shortest representation, in
/// exponent form when the exponent is below -4 or at least 6 (`1e+06`, `1.610612736e+09`).
fn fmt_g(x: f64) -> String {
    go_g(x, None)
}

/// Go's `%g` (`prec: None`, shortest) and `%.Ng` (`Some(N)`) of a float64: N significant
/// digits without trailing zeros, exponent form when the exponent is below -4 or at least the
/// precision (6 for the shortest), the exponent with a sign and at least two digits.
fn go_g(x: f64, prec: Option<usize>) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` gives the digits, rounded half to even on the exact value as Go does.
    let sci = match prec {
        Some(p) => format!("{:.*e}", p.max(1) - 1, x.abs()),
        None => format!("{:e}", x.abs()),
    };
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` has a numeric exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let eprec = match prec {
        None => 6,
        Some(p) => p.max(1) as i32,
    };
    let sign = if x < 0.0 { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
    }
}

/// `printf "%.Nf"` (and `%f`, `%g`, `%v`) of a float.
fn printf_float(fmt: &str, x: f64) -> Option<String> {
    let at = fmt.find('%')?;
    let spec_end = fmt[at + 1..].find(|c: char| c.is_ascii_alphabetic())? + at + 1;
    let spec = &fmt[at + 1..spec_end];
    let verb = &fmt[spec_end..spec_end + 1];
    if !x.is_finite() {
        return Some(format!(
            "{}{}{}",
            &fmt[..at],
            go_g(x, None),
            &fmt[spec_end + 1..]
        ));
    }
    let body = match verb {
        "f" => match spec.strip_prefix('.') {
            Some(p) => format!("{x:.*}", p.parse::<usize>().ok()?),
            None => format!("{x:.6}"),
        },
        "g" => match spec.strip_prefix('.') {
            Some(p) => go_g(x, Some(p.parse::<usize>().ok()?)),
            None => fmt_g(x),
        },
        "v" => fmt_g(x),
        "e" => {
            let p = match spec.strip_prefix('.') {
                Some(p) => p.parse::<usize>().ok()?,
                None => 6,
            };
            let e = format!("{x:.p$e}");
            let (m, exp) = e.split_once('e')?;
            let exp: i32 = exp.parse().ok()?;
            format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
        }
        _ => return None,
    };
    Some(format!("{}{body}{}", &fmt[..at], &fmt[spec_end + 1..]))
}

/// Prometheus' `humanize`: SI prefixes (dividing by 1000 step by step, as it does), 4
/// significant digits.
fn humanize(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return sig4(x);
    }
    if x.abs() >= 1.0 {
        scaled(x, 1000.0, &["k", "M", "G", "T", "P", "E", "Z", "Y"])
    } else {
        scaled_up(x)
    }
}

/// `x` divided by `base` while it is at least `base`, step by step as Prometheus does, with
/// the prefix of the last division: `%.4g` and the prefix.
fn scaled(x: f64, base: f64, prefixes: &[&str]) -> String {
    let mut v = x;
    let mut prefix = "";
    for p in prefixes {
        if v.abs() < base {
            break;
        }
        prefix = p;
        v /= base;
    }
    format!("{}{prefix}", sig4(v))
}

/// `x` (below 1 in magnitude) multiplied by 1000 until it is at least 1, with the SI prefix
/// that says so (`m`, `u`, ...): `%.4g` and the prefix.
fn scaled_up(x: f64) -> String {
    let mut v = x;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}", sig4(v))
}

/// Prometheus' `humanize1024`: binary prefixes (`ki`, `Mi`, ...), 4 significant digits.
fn humanize1024(x: f64) -> String {
    if x.abs() <= 1.0 || !x.is_finite() {
        return sig4(x);
    }
    scaled(x, 1024.0, &["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"])
}

/// Prometheus' `humanizeDuration`: seconds as `1d 2h 3m 4s`, `3m 4s`, `4.5s` or `12.34ms`.
fn humanize_duration(x: f64) -> String {
    if !x.is_finite() {
        return sig4(x);
    }
    if x == 0.0 {
        return format!("{}s", sig4(x));
    }
    if x.abs() >= 1.0 {
        let sign = if x < 0.0 { "-" } else { "" };
        let v = x.abs();
        let d = v as i64;
        let (s, m, h, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86_400);
        return if days != 0 {
            format!("{sign}{days}d {h}h {m}m {s}s")
        } else if h != 0 {
            format!("{sign}{h}h {m}m {s}s")
        } else if m != 0 {
            format!("{sign}{m}m {s}s")
        } else {
            format!("{sign}{}s", sig4(v))
        };
    }
    format!("{}s", scaled_up(x))
}

/// Go's `%.4g`.
fn sig4(x: f64) -> String {
    go_g(x, Some(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_printed_as_go_and_prometheus_print_them() {
        assert_eq!(fmt_g(1e6), "1e+06");
        assert_eq!(fmt_g(123_456.0), "123456");
        assert_eq!(fmt_g(1_610_612_736.0), "1.610612736e+09");
        assert_eq!(fmt_g(0.0001), "0.0001");
        assert_eq!(fmt_g(0.00001), "1e-05");
        assert_eq!(fmt_g(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(fmt_g(-2.5), "-2.5");
        assert_eq!(go_g(100.0, Some(4)), "100");
        assert_eq!(go_g(12.550_222, Some(4)), "12.55");
        assert_eq!(go_g(123_456.0, Some(4)), "1.235e+05");
        assert_eq!(go_g(0.000_123_456, Some(4)), "0.0001235");
        assert_eq!(humanize(1_234_567.0), "1.235M");
        assert_eq!(humanize(0.00123), "1.23m");
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize1024(1_610_612_736.0), "1.5Gi");
        assert_eq!(humanize_duration(3723.0), "1h 2m 3s");
        assert_eq!(humanize_duration(90_061.0), "1d 1h 1m 1s");
        assert_eq!(humanize_duration(4.5), "4.5s");
        assert_eq!(humanize_duration(0.0123), "12.3ms");
        let labels = BTreeMap::new();
        assert_eq!(
            expand_template(
                "{{ $value | humanizePercentage }}",
                0.125_502_223_932_455_83,
                &labels
            ),
            "12.55%"
        );
        assert_eq!(
            expand_template("{{ printf \"%.3f\" $value }}", f64::INFINITY, &labels),
            "+Inf"
        );
    }

    #[test]
    fn annotation_templates() {
        let labels = BTreeMap::from([("pod".to_owned(), "x2kqp".to_owned())]);
        assert_eq!(
            expand_template("rate {{ $value }} on {{ $labels.pod }}", 0.1234, &labels),
            "rate 0.1234 on x2kqp"
        );
        assert_eq!(
            expand_template("{{ printf \"%.2f\" $value }}/s", 0.1234, &labels),
            "0.12/s"
        );
        assert_eq!(
            expand_template("{{ $value | humanize }}B", 1_610_612_736.0, &labels),
            "1.611GB"
        );
        assert_eq!(
            expand_template("{{ $value | humanizePercentage }}", 0.0712, &labels),
            "7.12%"
        );
        assert_eq!(
            expand_template("{{ .Unknown }}", 1.0, &labels),
            "{{ .Unknown }}"
        );
    }
}
