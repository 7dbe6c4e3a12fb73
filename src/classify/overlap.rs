//! Lines exported twice. Two exports can hold the same container's output (a per-pod
//! `kubectl logs --timestamps` and a `kubectl logs -l app=... --prefix --since-time=...` of the
//! same pods): every repeated line must be counted once. A line repeats another when the same
//! container (pod and container, from the prefix or the file name) has a line with the same
//! kubelet time (all nine digits) and the same text in another export. Identical lines inside
//! one export are never repeats (a retry loop prints the same stack lines many times within a
//! millisecond, and one write gives several lines one time). Without `--timestamps` a repeat
//! cannot be proven, and nothing is dropped.
//!
//! The first pass notes where each input holds each container ([`Spans`], cheap); only the
//! inputs whose spans overlap another input's for the same container are read a second time
//! ([`Fingerprinter`]), and [`Duplicates::find`] matches their lines.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use crate::ingest::{Record, RecordSink, SinkFactory};
use crate::model::{Level, Millis};

/// Where one input holds one container's output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub first: Millis,
    pub last: Millis,
    /// Records with the kubelet's time (`--timestamps`), and without.
    pub with_kubelet_time: u64,
    pub without: u64,
}

impl Span {
    pub fn add(&mut self, ts: Millis, kubelet: bool) {
        if self.with_kubelet_time + self.without == 0 {
            (self.first, self.last) = (ts, ts);
        }
        self.first = self.first.min(ts);
        self.last = self.last.max(ts);
        if kubelet {
            self.with_kubelet_time += 1;
        } else {
            self.without += 1;
        }
    }

    pub fn absorb(&mut self, o: Span) {
        if o.with_kubelet_time + o.without == 0 {
            return;
        }
        if self.with_kubelet_time + self.without == 0 {
            *self = o;
            return;
        }
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.with_kubelet_time += o.with_kubelet_time;
        self.without += o.without;
    }
}

/// A container: pod and container names.
pub type Container = (String, String);

/// Spans by input and container.
pub type Spans = BTreeMap<(u32, Container), Span>;

/// Two inputs holding one container's output over the same time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    /// The earlier input (in the order inputs were found) and the later one.
    pub inputs: (u32, u32),
    /// Records of the container each of the two holds (in all, not only in the overlap).
    pub held: (u64, u64),
    pub container: Container,
    pub from: Millis,
    pub to: Millis,
    /// Whether repeats can be proven: both inputs have the kubelet's time on every line and
    /// can be read a second time.
    pub check: Check,
}

/// Whether an overlap's repeats can be found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    Provable,
    /// One of the two lacks `--timestamps`.
    NoKubeletTime,
    /// One of the two is stdin, which cannot be read again.
    ReadOnce,
}

impl Overlap {
    pub fn provable(&self) -> bool {
        self.check == Check::Provable
    }
}

/// The container of a record: a pod exported both with `--prefix` (container known) and by
/// file name alone (container unknown) is one container when the pod has only one known.
fn unify(spans: &Spans) -> HashMap<String, String> {
    let mut known: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (_, (pod, container)) in spans.keys() {
        if !container.is_empty() {
            known.entry(pod).or_default().insert(container);
        }
    }
    known
        .into_iter()
        .filter(|(_, c)| c.len() == 1)
        .map(|(p, c)| (p.to_owned(), (*c.iter().next().expect("one")).to_owned()))
        .collect()
}

/// Every pair of inputs holding one container's output over overlapping times.
pub fn overlaps(spans: &Spans) -> Vec<Overlap> {
    let only = unify(spans);
    let mut by_container: BTreeMap<Container, Vec<(u32, Span)>> = BTreeMap::new();
    for ((input, (pod, container)), span) in spans {
        let container = match (container.is_empty(), only.get(pod)) {
            (true, Some(c)) => c.clone(),
            _ => container.clone(),
        };
        if pod.is_empty() {
            continue;
        }
        by_container
            .entry((pod.clone(), container))
            .or_default()
            .push((*input, *span));
    }
    let mut out = Vec::new();
    for (container, list) in by_container {
        for (i, (a, sa)) in list.iter().enumerate() {
            for (b, sb) in &list[i + 1..] {
                let (from, to) = (sa.first.max(sb.first), sa.last.min(sb.last));
                if from > to || a == b {
                    continue;
                }
                let (na, nb) = (
                    sa.with_kubelet_time + sa.without,
                    sb.with_kubelet_time + sb.without,
                );
                out.push(Overlap {
                    inputs: ((*a).min(*b), (*a).max(*b)),
                    held: if a < b { (na, nb) } else { (nb, na) },
                    container: container.clone(),
                    from,
                    to,
                    check: if sa.without == 0 && sb.without == 0 {
                        Check::Provable
                    } else {
                        Check::NoKubeletTime
                    },
                });
            }
        }
    }
    out
}

/// One line's identity in the second pass.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Print {
    /// Index of its container in the fingerprinter's list.
    container: u32,
    nanos: i64,
    hash: u64,
    input: u32,
    line: u64,
    lines: u32,
}

/// One container of a pod: its name, its index, the times to fingerprint.
type ContainerWindows = (String, u32, Vec<(Millis, Millis)>);

/// The second pass's sinks: the records of the overlapping containers inside their overlaps,
/// fingerprinted (kubelet time in nanoseconds and a hash of the first line).
pub struct Fingerprinter {
    /// Per pod: (container, index, windows).
    windows: HashMap<String, Vec<ContainerWindows>>,
    containers: Vec<Container>,
    /// Records of each container (by index) each input holds: the input holding more keeps
    /// the lines it shares with another.
    held: HashMap<(u32, u32), u64>,
    prints: Mutex<Vec<Print>>,
}

impl Fingerprinter {
    /// Fingerprints the records inside the provable overlaps.
    pub fn new(overlaps: &[Overlap]) -> Fingerprinter {
        let mut containers: Vec<Container> = Vec::new();
        let mut windows: HashMap<String, Vec<ContainerWindows>> = HashMap::new();
        let mut held = HashMap::new();
        for o in overlaps.iter().filter(|o| o.provable()) {
            let (pod, container) = &o.container;
            let idx = match containers.iter().position(|c| c == &o.container) {
                Some(i) => i,
                None => {
                    containers.push(o.container.clone());
                    containers.len() - 1
                }
            } as u32;
            held.insert((o.inputs.0, idx), o.held.0);
            held.insert((o.inputs.1, idx), o.held.1);
            let list = windows.entry(pod.clone()).or_default();
            match list.iter_mut().find(|(c, ..)| c == container) {
                Some((_, _, w)) => w.push((o.from, o.to)),
                None => list.push((container.clone(), idx, vec![(o.from, o.to)])),
            }
        }
        Fingerprinter {
            windows,
            containers,
            held,
            prints: Mutex::new(Vec::new()),
        }
    }

    /// The inputs the second pass reads.
    pub fn inputs(overlaps: &[Overlap]) -> HashSet<u32> {
        overlaps
            .iter()
            .filter(|o| o.provable())
            .flat_map(|o| [o.inputs.0, o.inputs.1])
            .collect()
    }
}

/// One chunk's prints.
pub struct PrintSink<'f> {
    of: &'f Fingerprinter,
    input: u32,
    prints: Vec<Print>,
}

impl RecordSink for PrintSink<'_> {
    fn wants(&self, _level: Level) -> bool {
        true
    }

    fn record(&mut self, r: &Record<'_>) {
        let (Some(nanos), Some(list)) = (r.kubelet_nanos, self.of.windows.get(r.pod)) else {
            return;
        };
        // A record with no container (file name only) belongs to the pod's only one.
        let hit = list
            .iter()
            .find(|(c, ..)| c == r.container || r.container.is_empty());
        if let Some((_, idx, windows)) = hit {
            if windows.iter().any(|&(a, b)| r.ts >= a && r.ts <= b) {
                self.prints.push(Print {
                    container: *idx,
                    nanos,
                    hash: r.content_hash,
                    input: self.input,
                    line: r.line,
                    lines: r.lines,
                });
            }
        }
    }

    fn finish(&mut self) {
        if let Ok(mut all) = self.of.prints.lock() {
            all.append(&mut self.prints);
        }
    }
}

impl<'f> SinkFactory for &'f Fingerprinter {
    type Sink = PrintSink<'f>;
    fn make(&self, input: u32, _chunk: usize) -> PrintSink<'f> {
        PrintSink {
            of: self,
            input,
            prints: Vec::new(),
        }
    }
}

/// What one input repeats of the others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Repeats {
    pub lines: u64,
    pub records: u64,
    /// Lines repeated, by the input that had them first.
    pub of: BTreeMap<u32, u64>,
}

/// The repeated lines found.
#[derive(Debug, Default)]
pub struct Duplicates {
    /// The records dropped, by input and first line.
    pub records: foldhash::HashSet<(u32, u64)>,
    /// By input.
    pub inputs: BTreeMap<u32, Repeats>,
    /// Records dropped per container.
    pub containers: BTreeMap<Container, u64>,
    /// The overlaps that could not be checked (an input without `--timestamps`).
    pub unprovable: Vec<Overlap>,
}

impl Duplicates {
    /// Matches the second pass's prints: at each (container, kubelet time, text), the input
    /// holding most of the container's output keeps its lines (the fuller export, ties to the
    /// one found first); each other input's lines there repeat it, as many as the inputs
    /// ranked before it had.
    pub fn find(fp: Fingerprinter, overlaps: &[Overlap]) -> Duplicates {
        let mut prints = fp.prints.into_inner().unwrap_or_else(|e| e.into_inner());
        prints.sort_unstable();
        let mut d = Duplicates {
            unprovable: overlaps.iter().filter(|o| !o.provable()).cloned().collect(),
            ..Duplicates::default()
        };
        let mut i = 0;
        while i < prints.len() {
            let same = |p: &Print| {
                (p.container, p.nanos, p.hash)
                    == (prints[i].container, prints[i].nanos, prints[i].hash)
            };
            let j = i + prints[i..].iter().take_while(|p| same(p)).count();
            if prints[i..j].iter().any(|p| p.input != prints[i].input) {
                d.match_group(&prints[i..j], &fp.containers, &fp.held);
            }
            i = j;
        }
        d
    }

    /// One (container, time, text) group, sorted by input then line.
    fn match_group(
        &mut self,
        group: &[Print],
        containers: &[Container],
        held: &HashMap<(u32, u32), u64>,
    ) {
        let mut by_input: Vec<&[Print]> = group.chunk_by(|a, b| a.input == b.input).collect();
        let rank = |p: &[Print]| {
            let held = held
                .get(&(p[0].input, p[0].container))
                .copied()
                .unwrap_or(0);
            (std::cmp::Reverse(held), p[0].input)
        };
        by_input.sort_by_key(|p| rank(p));
        let keeper = by_input[0][0].input;
        let mut most_before = by_input[0].len() as u64;
        for copies in &by_input[1..] {
            for p in copies.iter().take(most_before as usize) {
                self.records.insert((p.input, p.line));
                let r = self.inputs.entry(p.input).or_default();
                r.lines += u64::from(p.lines);
                r.records += 1;
                *r.of.entry(keeper).or_default() += u64::from(p.lines);
                *self
                    .containers
                    .entry(containers[p.container as usize].clone())
                    .or_default() += 1;
            }
            most_before = most_before.max(copies.len() as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(first: Millis, last: Millis, kubelet: bool) -> Span {
        let mut s = Span::default();
        s.add(first, kubelet);
        s.add(last, kubelet);
        s
    }

    fn c(pod: &str, container: &str) -> Container {
        (pod.into(), container.into())
    }

    #[test]
    fn overlapping_spans_of_one_container() {
        let spans: Spans = [
            ((0, c("a", "backend")), span(100, 500, true)),
            ((1, c("a", "")), span(400, 900, true)),
            ((2, c("b", "backend")), span(100, 500, true)),
            ((3, c("b", "backend")), span(600, 900, true)),
            ((4, c("b", "backend")), span(450, 700, false)),
        ]
        .into_iter()
        .collect();
        let o = overlaps(&spans);
        let pairs: Vec<((u32, u32), Millis, Millis, bool)> = o
            .iter()
            .map(|o| (o.inputs, o.from, o.to, o.provable()))
            .collect();
        assert_eq!(
            pairs,
            [
                ((0, 1), 400, 500, true),
                ((2, 4), 450, 500, false),
                ((3, 4), 600, 700, false),
            ]
        );
        assert_eq!(Fingerprinter::inputs(&o), HashSet::from([0, 1]));
    }

    fn print(input: u32, line: u64, nanos: i64, hash: u64) -> Print {
        Print {
            container: 0,
            nanos,
            hash,
            input,
            line,
            lines: 1,
        }
    }

    #[test]
    fn later_inputs_repeat_earlier_ones_but_nothing_repeats_itself() {
        let fp = Fingerprinter {
            windows: HashMap::new(),
            containers: vec![c("a", "backend")],
            held: HashMap::from([((0, 0), 50), ((1, 0), 10)]),
            prints: Mutex::new(vec![
                // The same three lines in one write (one time) in both exports.
                print(0, 10, 5, 7),
                print(0, 11, 5, 7),
                print(0, 12, 5, 7),
                print(1, 3, 5, 7),
                print(1, 4, 5, 7),
                print(1, 5, 5, 7),
                // A line only the later export has, and one with the same text another time.
                print(1, 6, 6, 8),
                print(0, 13, 9, 8),
                print(1, 7, 10, 8),
            ]),
        };
        let d = Duplicates::find(fp, &[]);
        assert_eq!(
            d.records,
            [(1, 3), (1, 4), (1, 5)].into_iter().collect(),
            "only what the earlier export had, once per copy"
        );
        let r = &d.inputs[&1];
        assert_eq!((r.lines, r.records, r.of[&0]), (3, 3, 3));
        assert_eq!(d.containers[&c("a", "backend")], 3);
    }

    #[test]
    fn the_fuller_export_keeps_the_lines() {
        // Input 0 is a short `-l --since-time` export, input 1 the pod's whole log.
        let fp = Fingerprinter {
            windows: HashMap::new(),
            containers: vec![c("a", "backend")],
            held: HashMap::from([((0, 0), 10), ((1, 0), 900)]),
            prints: Mutex::new(vec![
                print(0, 1, 5, 7),
                print(1, 40, 5, 7),
                print(1, 41, 6, 7),
            ]),
        };
        let d = Duplicates::find(fp, &[]);
        assert_eq!(d.records, [(0, 1)].into_iter().collect());
        assert_eq!(d.inputs[&0].of[&1], 1);
    }
}
