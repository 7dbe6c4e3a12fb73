//! Log levels, normalised from every format the ingesters read (JSON strings, pino numbers,
//! Nest tokens, plain-text words).

use serde::{Deserialize, Serialize};

/// Severity of a log record, ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
    /// The record carries no level we could read (plain text without a level word).
    Unknown,
}

impl Level {
    /// Every level, in severity order (`Unknown` last).
    pub const ALL: [Level; 7] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
        Level::Unknown,
    ];

    /// Parses a level word as loggers write it (`error`, `ERR`, `Warning`, Nest's `LOG`,
    /// `verbose`, syslog's `crit`...). Case-insensitive; `None` for anything else.
    #[inline]
    pub fn from_word(word: &[u8]) -> Option<Level> {
        // The words nearly every line carries, as loggers write them, without the copy.
        match word {
            b"info" => return Some(Level::Info),
            b"error" => return Some(Level::Error),
            b"debug" => return Some(Level::Debug),
            b"warn" => return Some(Level::Warn),
            _ => {}
        }
        let mut buf = [0u8; 12];
        if word.is_empty() || word.len() > buf.len() {
            return None;
        }
        for (dst, src) in buf.iter_mut().zip(word) {
            *dst = src.to_ascii_lowercase();
        }
        Some(match &buf[..word.len()] {
            b"trace" | b"verbose" | b"silly" => Level::Trace,
            b"debug" | b"dbg" => Level::Debug,
            b"info" | b"log" | b"notice" | b"inf" | b"information" => Level::Info,
            b"warn" | b"warning" | b"wrn" => Level::Warn,
            b"error" | b"err" | b"eror" => Level::Error,
            b"fatal" | b"crit" | b"critical" | b"emerg" | b"alert" | b"panic" | b"dpanic" => {
                Level::Fatal
            }
            _ => return None,
        })
    }

    /// pino/bunyan numeric levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
    pub fn from_number(n: f64) -> Level {
        match n as i64 {
            i64::MIN..=10 => Level::Trace,
            11..=20 => Level::Debug,
            21..=30 => Level::Info,
            31..=40 => Level::Warn,
            41..=50 => Level::Error,
            _ => Level::Fatal,
        }
    }

    /// Lower-case name, as used in the cause table and the reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
            Level::Unknown => "unknown",
        }
    }
}

/// A set of levels (which ones a run's sink wants), small enough to copy anywhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Levels(u8);

impl Levels {
    /// The levels for which `f` says yes.
    pub fn from_fn(f: impl Fn(Level) -> bool) -> Levels {
        Levels(
            Level::ALL
                .iter()
                .enumerate()
                .filter(|(_, l)| f(**l))
                .fold(0, |set, (i, _)| set | 1 << i),
        )
    }

    pub fn contains(self, level: Level) -> bool {
        self.0 & 1 << (level as u8) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_numbers() {
        assert_eq!(Level::from_word(b"ERROR"), Some(Level::Error));
        assert_eq!(Level::from_word(b"LOG"), Some(Level::Info));
        assert_eq!(Level::from_word(b"Warning"), Some(Level::Warn));
        assert_eq!(Level::from_word(b"nonsense"), None);
        assert_eq!(Level::from_number(50.0), Level::Error);
        assert_eq!(Level::from_number(30.0), Level::Info);
        assert_eq!(Level::from_number(60.0), Level::Fatal);
    }
}
