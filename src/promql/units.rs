//! Durations and timestamps as users and Prometheus' test scripts write them: Prometheus
//! durations (`5m`, `1h30m`, `10s53ms`, or plain seconds such as `90` or `1.5`) and times
//! (RFC 3339, or Unix seconds such as `1700000000.5`).

use chrono::DateTime;

/// Milliseconds in a Prometheus duration: a sequence of `<integer><unit>` with units
/// `y w d h m s ms` in decreasing order (`1h30m`, `10s53ms`), or a plain number of seconds
/// (`90`, `1.5`). Negative durations are rejected.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return seconds_to_ms(secs).ok_or_else(|| format!("invalid duration {s:?}"));
    }
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1_000),
    ];
    let bad = || format!("invalid duration {s:?}");
    let mut rest = s;
    let mut total: i64 = 0;
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let (rank, (unit, ms)) = UNITS
            .iter()
            .enumerate()
            .find(|(_, (u, _))| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")))
            .ok_or_else(bad)?;
        // Units must come in decreasing order of size ("ms" ranks after "m" and "s" in the
        // table but is the smallest).
        let order = match *unit {
            "ms" => 7,
            "s" => 6,
            "m" => 5,
            _ => rank,
        };
        if last_rank != usize::MAX && order <= last_rank {
            return Err(bad());
        }
        last_rank = order;
        rest = &rest[unit.len()..];
        total = n
            .checked_mul(*ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    Ok(total)
}

/// Milliseconds since the Unix epoch for an RFC 3339 time (`2026-11-20T10:00:00Z`) or a
/// number of Unix seconds (`1763632800`, `1763632800.25`).
pub fn parse_time_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return signed_seconds_to_ms(secs).ok_or_else(|| format!("invalid time {s:?}"));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("invalid time {s:?}: {e}"))
}

fn seconds_to_ms(secs: f64) -> Option<i64> {
    if secs < 0.0 {
        return None;
    }
    signed_seconds_to_ms(secs)
}

fn signed_seconds_to_ms(secs: f64) -> Option<i64> {
    let ms = (secs * 1000.0).round();
    if ms.is_finite() && ms.abs() < 9.0e15 {
        Some(ms as i64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("5m"), Ok(300_000));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("10s53ms"), Ok(10_053));
        assert_eq!(parse_duration_ms("15m1s"), Ok(901_000));
        assert_eq!(parse_duration_ms("1ms"), Ok(1));
        assert_eq!(parse_duration_ms("0"), Ok(0));
        assert_eq!(parse_duration_ms("90"), Ok(90_000));
        assert!(parse_duration_ms("5x").is_err());
        assert!(parse_duration_ms("1s1h").is_err());
        assert!(parse_duration_ms("").is_err());
        assert!(parse_duration_ms("-5m").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time_ms("1700000000.5"), Ok(1_700_000_000_500));
        assert_eq!(parse_time_ms("1970-01-01T00:00:01Z"), Ok(1_000));
        assert_eq!(parse_time_ms("1970-01-01T02:00:01+02:00"), Ok(1_000));
        assert!(parse_time_ms("yesterday").is_err());
    }
}
