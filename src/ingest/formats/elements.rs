//! The elements of a top-level JSON array, found without parsing them: a reader thread reads
//! the document in blocks; each block is scanned for brackets and separators outside strings
//! on all cores, in pieces cut after line ends (a line end is never inside a JSON string, so
//! every piece but the first starts outside one; when a piece before ends inside a string
//! after all, the document is not valid there and the piece is scanned again from that
//! state, as a single pass would), and the pieces' events are replayed in order to follow
//! the depth and cut the elements. Memory holds two blocks and the element being read,
//! never the document; an element is never scanned twice, however long.

use std::io::{self, Read};

use super::structure::{structurals, StrState};

/// Takes a block of a document's elements.
pub type ElementsFn<'f> = dyn FnMut(&Block<'_>) + Send + 'f;

/// Whole elements of a document: the bytes, each element's range in them, and the objects
/// and arrays nested in each (to skip a value without scanning it again).
#[derive(Debug, Default)]
pub struct Found {
    pub ranges: Vec<(usize, usize)>,
    /// (open, one past close) of nested containers, relative to their element's start.
    nested: Vec<(usize, usize)>,
    /// Each element's slice of `nested`.
    nested_of: Vec<(usize, usize)>,
    /// Every byte of the block is ASCII (its elements need no UTF-8 check).
    pub ascii: bool,
}

/// A block of elements, as handed on.
pub struct Block<'a> {
    pub bytes: &'a [u8],
    pub found: &'a Found,
}

/// One element: its bytes, the containers nested in it (positions in those bytes), and
/// whether its bytes are known to be ASCII.
pub struct Element<'a> {
    pub bytes: &'a [u8],
    pub nested: &'a [(usize, usize)],
    pub ascii: bool,
}

impl Block<'_> {
    pub fn element(&self, k: usize) -> Element<'_> {
        let (s, e) = self.found.ranges[k];
        let (a, b) = self.found.nested_of[k];
        Element {
            bytes: &self.bytes[s..e],
            nested: &self.found.nested[a..b],
            ascii: self.found.ascii,
        }
    }
}

impl Found {
    fn element(&mut self, range: (usize, usize), nested_from: usize) {
        self.ranges.push(range);
        self.nested_of
            .push((nested_from.min(self.nested.len()), self.nested.len()));
    }
}

/// Bytes read at a time.
const BLOCK: usize = 4 << 20;
/// The smallest piece scanned on its own.
const PIECE: usize = 256 << 10;
/// How much may come before the array opens.
const MAX_HEAD: usize = 1 << 20;

/// A bracket outside strings, at `pos`; `blank` when the bytes since the bracket before it,
/// in the same piece, are known to be only blanks and commas (so the replay need not read
/// them: between elements, they are seldom in this core's cache any more).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Event {
    pos: usize,
    byte: u8,
    blank: bool,
}

/// Scans `b[from..to]` starting in `st`: its brackets, and the state at its end. (Commas are
/// not needed: elements that are objects or arrays end at their bracket, and what lies between
/// them is split where it has to be, see [`Stitch::gap`].)
fn scan(b: &[u8], from: usize, to: usize, mut st: StrState) -> Piece {
    let mut events = Vec::new();
    let mut prev = None;
    let ascii = structurals(b, from, to, &mut st, |pos, byte| {
        // Only short stretches are looked at (the bytes were just read).
        let blank = prev.is_some_and(|p: usize| {
            pos - p <= 16
                && b[p + 1..pos]
                    .iter()
                    .all(|c| c.is_ascii_whitespace() || *c == b',')
        });
        events.push(Event { pos, byte, blank });
        prev = Some(pos);
        true
    });
    Piece {
        events,
        end: st,
        ascii,
    }
}

/// What scanning a stretch found: its events, the string state at its end, and whether all
/// its bytes were ASCII.
struct Piece {
    events: Vec<Event>,
    end: StrState,
    ascii: bool,
}

/// Where the array stands between events.
#[derive(Debug, Default)]
struct Stitch {
    depth: usize,
    started: bool,
    /// Just after the array's `[` or the last element that was an object or array.
    after: usize,
    /// Where the element being read (an object or array) opened.
    open: Option<usize>,
    /// Containers open inside it, and where its nested ones start in [`Found`].
    stack: Vec<usize>,
    nested_from: usize,
}

/// What replaying a block's events found.
enum Replayed {
    /// The array closed.
    Closed,
    /// More to read.
    Open,
}

impl Stitch {
    /// The elements in `b[from..to]` that are no object or array (numbers, strings, literals,
    /// or what is no JSON), split at commas outside strings; usually there is only a comma and
    /// blanks. The piece after the last comma is an element too when `whole` (an element or
    /// the array's end follows), else it may go on in the next block. Returns where the
    /// unsplit rest starts.
    #[inline]
    fn gap(b: &[u8], from: usize, to: usize, whole: bool, found: &mut Found) -> usize {
        let g = &b[from.min(to)..to];
        if g.iter().all(|c| c.is_ascii_whitespace() || *c == b',') {
            return if whole {
                to
            } else {
                from + g.iter().rposition(|c| *c == b',').map_or(0, |p| p + 1)
            };
        }
        let mut push = |s: usize, e: usize| {
            let piece = &g[s..e];
            if let (Some(a), Some(z)) = (
                piece.iter().position(|c| !c.is_ascii_whitespace()),
                piece.iter().rposition(|c| !c.is_ascii_whitespace()),
            ) {
                found.element((from + s + a, from + s + z + 1), usize::MAX);
            }
        };
        let (mut start, mut quoted, mut escaped) = (0, false, false);
        for (i, &c) in g.iter().enumerate() {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if quoted {
                quoted = c != b'"';
            } else if c == b'"' {
                quoted = true;
            } else if c == b',' {
                push(start, i);
                start = i + 1;
            }
        }
        if whole {
            push(start, g.len());
            return to;
        }
        from + start
    }

    fn replay(
        &mut self,
        b: &[u8],
        events: &[Event],
        found: &mut Found,
    ) -> Result<Replayed, String> {
        let mut prev = usize::MAX - 1;
        for ev in events {
            match ev.byte {
                b'{' | b'[' => {
                    match self.depth {
                        0 => {
                            if ev.byte != b'[' {
                                return Err("not a JSON array".into());
                            }
                            self.started = true;
                            self.after = ev.pos + 1;
                        }
                        1 => {
                            // Nothing to read when only blanks and commas follow the bracket
                            // before, which `after` is just past.
                            if !(ev.blank && self.after == prev + 1) {
                                Self::gap(b, self.after, ev.pos, true, found);
                            }
                            self.open = Some(ev.pos);
                            self.stack.clear();
                            self.nested_from = found.nested.len();
                        }
                        _ => self.stack.push(ev.pos),
                    }
                    self.depth += 1;
                }
                b'}' | b']' => {
                    if self.depth >= 3 {
                        if let (Some(o), Some(el)) = (self.stack.pop(), self.open) {
                            found.nested.push((o - el, ev.pos + 1 - el));
                        }
                    }
                    self.depth = self.depth.saturating_sub(1);
                    match self.depth {
                        0 => {
                            Self::gap(b, self.after, ev.pos, true, found);
                            return Ok(Replayed::Closed);
                        }
                        1 => {
                            let (start, from) = match self.open.take() {
                                Some(o) => (o, self.nested_from),
                                None => (self.after, usize::MAX),
                            };
                            found.element((start, ev.pos + 1), from);
                            self.after = ev.pos + 1;
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            prev = ev.pos;
        }
        Ok(Replayed::Open)
    }
}

/// Scans `b[from..]` on all cores, in pieces cut after line ends, in order.
fn scan_par(b: &[u8], from: usize, st: StrState, piece: usize) -> Vec<Piece> {
    use rayon::prelude::*;
    let threads = rayon::current_num_threads();
    let target = ((b.len() - from) / (threads * 2)).max(piece);
    let mut cuts = vec![from];
    while let Some(&last) = cuts.last() {
        let want = last + target;
        if want >= b.len() {
            break;
        }
        match memchr::memchr(b'\n', &b[want..]) {
            Some(k) => cuts.push(want + k + 1),
            None => break,
        }
    }
    cuts.push(b.len());
    if cuts.len() == 2 {
        return vec![scan(b, from, b.len(), st)];
    }
    let mut pieces: Vec<Piece> = cuts
        .par_windows(2)
        .enumerate()
        .map(|(k, w)| scan(b, w[0], w[1], if k == 0 { st } else { StrState::default() }))
        .collect();
    for k in 1..pieces.len() {
        let before = pieces[k - 1].end;
        if before != StrState::default() {
            // A line end inside a string: not JSON there; scan as one pass would.
            pieces[k] = scan(b, cuts[k], cuts[k + 1], before);
        }
    }
    pieces
}

/// Calls `f` with the elements of a top-level JSON array, a block at a time (a buffer and the
/// elements' ranges in it). This thread reads the next block while another scans and handles
/// the one before.
pub fn array_elements(src: impl Read, f: &mut ElementsFn<'_>) -> Result<(), String> {
    array_elements_sized(src, BLOCK, PIECE, f)
}

/// [`array_elements`] reading `block` bytes at a time and scanning pieces of at least `piece`
/// bytes on their own (small sizes let tests and fuzzing reach every seam).
pub fn array_elements_sized(
    mut src: impl Read,
    block: usize,
    piece: usize,
    f: &mut ElementsFn<'_>,
) -> Result<(), String> {
    let (block, piece) = (block.max(1), piece.max(1));
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(1);
        let (found_tx, found_rx) = std::sync::mpsc::sync_channel::<Cut>(1);
        // Buffers handed back to be read into again (fresh memory costs page faults and
        // zeroing every time).
        let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let (found_back_tx, found_back_rx) = std::sync::mpsc::sync_channel::<Found>(4);
        // Three stages, each on its thread: read, find the elements, hand them on.
        let handler = s.spawn(move || elements(rx, piece, &found_tx, &found_back_rx));
        let consumer = s.spawn(move || {
            for (buf, start, found) in found_rx {
                f(&Block {
                    bytes: &buf[start..],
                    found: &found,
                });
                let _ = back_tx.try_send(buf);
                let _ = found_back_tx.try_send(found);
            }
        });
        loop {
            // Room before the bytes for the element the block before left unfinished.
            let mut buf = back_rx.try_recv().unwrap_or_default();
            buf.resize(HEAD + block, 0);
            let read = read_full(&mut src, &mut buf[HEAD..]).map(|n| {
                buf.truncate(HEAD + n);
                buf
            });
            let last = !matches!(&read, Ok(b) if b.len() > HEAD);
            // The handler stops listening once the array closes.
            if tx.send(read).is_err() || last {
                break;
            }
        }
        drop(tx);
        let found = handler
            .join()
            .unwrap_or_else(|_| Err("reading the document's elements failed".into()));
        match consumer.join() {
            Ok(()) => found,
            Err(_) => Err("handling the document's elements failed".into()),
        }
    })
}

/// Reads until `buf` is full or the input ends.
fn read_full(src: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A block's bytes, where its data starts in them, and the elements found.
type Cut = (Vec<u8>, usize, Found);

/// Room kept before each block's bytes for the unfinished element of the block before, so
/// that neither is copied to join them (a longer one is).
const HEAD: usize = 64 << 10;

/// Scans the blocks from `rx` (each after [`HEAD`] bytes of room) and sends on their
/// elements.
fn elements(
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    piece: usize,
    out: &std::sync::mpsc::SyncSender<Cut>,
    back: &std::sync::mpsc::Receiver<Found>,
) -> Result<(), String> {
    // The unfinished element (or what precedes the array), and its events.
    let mut carry: Vec<u8> = Vec::new();
    let mut carry_ascii = true;
    let mut events: Vec<Event> = Vec::new();
    let mut st = StrState::default();
    let mut stitch = Stitch::default();
    for read in rx {
        let mut buf = read.map_err(|e| e.to_string())?;
        if buf.len() <= HEAD {
            break;
        }
        let from = carry.len();
        let start = if from <= HEAD {
            buf[HEAD - from..HEAD].copy_from_slice(&carry);
            HEAD - from
        } else {
            carry.extend_from_slice(&buf[HEAD..]);
            buf = std::mem::take(&mut carry);
            0
        };
        let data = &buf[start..];
        let pieces = scan_par(data, from, st, piece);
        st = pieces.last().map_or(st, |p| p.end);
        let ascii = carry_ascii && pieces.iter().all(|p| p.ascii);
        // The lists of a block handed on before, emptied, else new ones.
        let mut found = back.try_recv().unwrap_or_default();
        found.ranges.clear();
        found.nested.clear();
        found.nested_of.clear();
        found.ascii = ascii;
        let mut replayed = stitch.replay(data, &events, &mut found)?;
        for p in &pieces {
            if let Replayed::Open = replayed {
                replayed = stitch.replay(data, &p.events, &mut found)?;
            }
        }
        if let Replayed::Closed = replayed {
            if !found.ranges.is_empty() {
                let _ = out.send((buf, start, found));
            }
            return Ok(());
        }
        if !stitch.started && data.len() > MAX_HEAD {
            return Err("not a JSON array".into());
        }
        // Scalar elements read so far go on now, so that an array of numbers or strings is
        // never held whole.
        if stitch.started && stitch.open.is_none() {
            stitch.after = Stitch::gap(data, stitch.after, data.len(), false, &mut found);
        }
        // Keep the element being read and its events, to replay them with the next block
        // from the state before it.
        let cut = match (stitch.started, stitch.open) {
            (false, _) => 0,
            (true, Some(open)) => open,
            (true, None) => stitch.after,
        };
        events.retain(|e| e.pos >= cut);
        for p in &pieces {
            let kept = p.events.partition_point(|e| e.pos < cut);
            events.extend_from_slice(&p.events[kept..]);
        }
        for e in &mut events {
            e.pos -= cut;
        }
        carry.clear();
        carry.extend_from_slice(&data[cut..]);
        carry_ascii = ascii;
        stitch = Stitch {
            depth: usize::from(stitch.started),
            started: stitch.started,
            ..Stitch::default()
        };
        // The block goes on; only what the next one needs stayed.
        if !found.ranges.is_empty() && out.send((buf, start, found)).is_err() {
            return Err("handling the document's elements failed".into());
        }
    }
    if !stitch.started {
        return Err("not a JSON array".into());
    }
    Err("the array is not closed: the document was cut".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The elements as `array_elements_sized` cuts them with blocks of `block` bytes.
    fn cut(doc: &str, block: usize) -> (Vec<String>, Result<(), String>) {
        let mut got = Vec::new();
        let r = array_elements_sized(doc.as_bytes(), block, 16, &mut |b| {
            for k in 0..b.found.ranges.len() {
                let e = b.element(k);
                let (el, nested) = (e.bytes, e.nested);
                assert_eq!(e.ascii, el.is_ascii() && e.ascii);
                // Every nested container is where the element has one.
                for &(o, c) in nested {
                    assert!(matches!((el[o], el[c - 1]), (b'{', b'}') | (b'[', b']')));
                }
                got.push(String::from_utf8_lossy(el).into_owned());
            }
        });
        (got, r)
    }

    /// Every element, as serde_json reads the document.
    fn truth(doc: &str) -> Vec<String> {
        let v: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(doc).unwrap();
        v.iter().map(|r| r.get().to_owned()).collect()
    }

    fn documents() -> Vec<String> {
        let entry = |i: usize| {
            format!(
                r#"{{"i":{i},"text":"a \"quoted\" [bracket] {{brace}}, comma\\\\","nested":{{"list":[1,[2,{{"x":"]"}}]],"e":{{}}}},"s":"{}"}}"#,
                "x".repeat(i % 40)
            )
        };
        let compact = format!("[{}]", (0..300).map(entry).collect::<Vec<_>>().join(","));
        let per_line = format!(
            "[\n{}\n]\n",
            (0..300).map(entry).collect::<Vec<_>>().join(",\n")
        );
        let values: Vec<serde_json::Value> = (0..300)
            .map(|i| serde_json::from_str(&entry(i)).unwrap())
            .collect();
        let pretty = serde_json::to_string_pretty(&values).unwrap();
        vec![
            compact,
            per_line,
            pretty,
            "[]".into(),
            " \n [ ] ".into(),
            r#"[1, "a,b", true, null, {"k":[]}, [1,2], -3.5e2 ,"]"]"#.into(),
            "[\n  \"line\\nbreak\",\n  {\"a\": \"\\\\\"}\n]".into(),
        ]
    }

    #[test]
    fn elements_as_a_json_parser_reads_them() {
        for doc in documents() {
            let want: Vec<String> = truth(&doc)
                .into_iter()
                .map(|e| e.trim().to_owned())
                .collect();
            for block in [1, 7, 64, 1000, 1 << 20] {
                if block == 1 && doc.len() > 2000 {
                    continue;
                }
                let (got, r) = cut(&doc, block);
                assert_eq!(r, Ok(()), "{doc:.60} / {block}");
                let got: Vec<String> = got.iter().map(|e| e.trim().to_owned()).collect();
                // serde_json's raw values keep the document's own bytes.
                assert_eq!(got.len(), want.len(), "{doc:.60} / {block}");
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g, w, "{doc:.60} / {block}");
                }
            }
        }
    }

    #[test]
    fn pieces_scanned_in_parallel_agree_with_one_pass() {
        // Big enough to be cut in pieces, with line ends between and inside elements.
        let values: Vec<serde_json::Value> = (0..20_000)
            .map(|i| serde_json::json!({"i": i, "t": "a,\"b\"{[", "n": {"k": [i, {"z": "}"}]}}))
            .collect();
        let doc = serde_json::to_string_pretty(&values).unwrap();
        let b = doc.as_bytes();
        let one = scan(b, 0, b.len(), StrState::default());
        let par = scan_par(b, 0, StrState::default(), PIECE);
        assert!(par.len() > 1);
        let (mut r1, mut r2) = (Found::default(), Found::default());
        Stitch::default().replay(b, &one.events, &mut r1).unwrap();
        let mut stitch = Stitch::default();
        for p in &par {
            stitch.replay(b, &p.events, &mut r2).unwrap();
        }
        assert_eq!(r1.ranges.len(), 20_000);
        assert_eq!(r1.ranges, r2.ranges);
        assert_eq!(r1.nested, r2.nested);
    }

    #[test]
    fn broken_documents_say_what_is_wrong() {
        assert_eq!(cut(r#"{"a":1}"#, 64).1, Err("not a JSON array".into()));
        assert_eq!(cut("hello", 64).1, Err("not a JSON array".into()));
        let (got, r) = cut(r#"[{"a":1},{"b":2},{"c":"#, 4);
        assert_eq!(got, [r#"{"a":1}"#, r#"{"b":2}"#]);
        assert_eq!(
            r,
            Err("the array is not closed: the document was cut".into())
        );
        // A raw line end inside a string (not JSON): read as a single pass would.
        let doc = "[{\"a\":\"x\n{\"}, {\"b\":1}\n,{\"c\":2}]";
        let (got, r) = cut(doc, 1 << 20);
        assert_eq!(r, Ok(()));
        assert_eq!(got, ["{\"a\":\"x\n{\"}", "{\"b\":1}", "{\"c\":2}"]);
    }
}
