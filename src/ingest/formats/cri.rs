//! The node's own container logs, as the kubelet's CRI runtime writes them under
//! `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log`: `TIME STREAM P|F TEXT`, a long
//! line cut into `P` (partial) pieces ended by an `F`. Pieces are joined per stream into the
//! line they were cut from (its first piece's time); the path gives pod, container and
//! namespace, and the file number orders a container's restarts (see `hints.rs`).

use super::{format_ns, parse_rfc3339_ns, Stats};

/// A CRI line's parts.
struct Parts<'a> {
    ts: &'a [u8],
    stream: &'a [u8],
    full: bool,
    text: &'a [u8],
}

fn split(line: &[u8]) -> Option<Parts<'_>> {
    let mut it = line.splitn(4, |&c| c == b' ');
    let (ts, stream, tag) = (it.next()?, it.next()?, it.next()?);
    let text = it.next().unwrap_or(b"");
    if ts.len() < 20 || !ts[0].is_ascii_digit() || ts[10] != b'T' {
        return None;
    }
    if stream != b"stdout" && stream != b"stderr" {
        return None;
    }
    // A tag may carry more fields after `:` (`F:x`); the first says partial or full.
    let full = match tag.split(|&c| c == b':').next()? {
        b"F" => true,
        b"P" => false,
        _ => return None,
    };
    Some(Parts {
        ts,
        stream,
        full,
        text,
    })
}

pub fn is_line(line: &str) -> bool {
    split(line.as_bytes()).is_some()
}

/// Partial pieces waiting for their `F`, per stream.
#[derive(Default)]
pub struct Joiner {
    pending: [Option<(Vec<u8>, Vec<u8>)>; 2],
}

fn emit(ts: &[u8], text: &[u8], out: &mut Vec<u8>) {
    match std::str::from_utf8(ts).ok().and_then(parse_rfc3339_ns) {
        Some(ns) => out.extend_from_slice(format_ns(ns).as_bytes()),
        None => out.extend_from_slice(ts),
    }
    out.push(b' ');
    out.extend_from_slice(text);
    out.push(b'\n');
}

impl Joiner {
    pub fn line(&mut self, line: &[u8], stats: &Stats, out: &mut Vec<u8>) -> bool {
        let Some(Parts {
            ts,
            stream,
            full,
            text,
        }) = split(line)
        else {
            return false;
        };
        let slot = &mut self.pending[usize::from(stream == b"stderr")];
        if !full {
            match slot {
                Some((_, buf)) => buf.extend_from_slice(text),
                None => *slot = Some((ts.to_vec(), text.to_vec())),
            }
            // Its text continues in the line that ends it: one line of the two.
            stats
                .folded
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return true;
        }
        match slot.take() {
            Some((first_ts, mut buf)) => {
                buf.extend_from_slice(text);
                emit(&first_ts, &buf, out);
            }
            None => emit(ts, text, out),
        }
        true
    }

    /// Pieces never ended (the file was cut): written as they are.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        for slot in &mut self.pending {
            if let Some((ts, buf)) = slot.take() {
                emit(&ts, &buf, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_pieces_are_joined_per_stream() {
        let stats = Stats::default();
        let mut j = Joiner::default();
        let mut out = Vec::new();
        for l in [
            "2026-11-20T09:40:05.000000001Z stdout P {\"level\":\"error\",",
            "2026-11-20T09:40:05.000000002Z stderr F warning on stderr",
            "2026-11-20T09:40:05.000000003Z stdout P \"message\":\"long",
            "2026-11-20T09:40:05.000000004Z stdout F \"}",
        ] {
            assert!(j.line(l.as_bytes(), &stats, &mut out));
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-11-20T09:40:05.000000002Z warning on stderr\n2026-11-20T09:40:05.000000001Z {\"level\":\"error\",\"message\":\"long\"}\n"
        );
        assert_eq!(stats.folded.load(std::sync::atomic::Ordering::Relaxed), 2);
        assert!(!is_line("2026-11-20T09:40:05Z hello world P"));
    }
}
