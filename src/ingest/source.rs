//! Finding and reading inputs: paths, folders (recursively, in name order), stdin, gzip,
//! tar and tar.gz archives (any nesting the content reveals). One reader thread does all I/O and
//! decompression and sends whole-record chunks down a bounded channel to the parallel parsers,
//! so reading overlaps parsing and memory stays bounded whatever the input size. Kubernetes
//! objects documents (small) are read whole and parsed here (`k8s.rs`).

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use super::logs::chunker::{last_time, BufferPool, Chunk, Chunker};
use super::logs::hints::{self, PathHints};
use super::logs::line::starts_record;
use super::logs::scan::{line_time, FileCtx};
use super::sniff::{self, Container};
use crate::model::time::Zone;
use crate::model::{InputKind, Millis};

/// The largest Kubernetes objects document read (they are parsed whole).
/// The largest Kubernetes objects document or rules file read whole.
const MAX_DOCUMENT_BYTES: usize = 256 << 20;
/// The largest metric dump read whole.
const MAX_DUMP_BYTES: usize = 1 << 30;

/// How far an input is read to decide what it is.
const SNIFF_BYTES: usize = 64 * 1024;
/// `--max-input-bytes` when not given: far above any export, far below a compression bomb.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 16 << 30;
/// Compression and archive layers read inside one another at most (a `.tar.gz` is two).
const MAX_LAYERS: u8 = 8;
/// Inputs one run reads at most (files, archive entries): each costs its accounting.
pub const MAX_INPUTS: u32 = 50_000;
/// A binary input is not read further than this: its lines mean nothing.
const MAX_BINARY_BYTES: u64 = 64 << 20;

/// What the reader tells the parsers, in order per input.
pub enum Msg {
    /// A new input starts.
    Begin {
        input: u32,
        name: String,
        kind: InputKind,
        ctx: Arc<FileCtx>,
    },
    /// A chunk of a log input, with the last record time before it.
    Chunk {
        input: u32,
        chunk: Chunk,
        carry: Option<Millis>,
        ctx: Arc<FileCtx>,
    },
    /// A document read whole and parsed (Kubernetes objects, a metric dump, alert rules): its
    /// line count and what it held.
    Document {
        input: u32,
        lines: u64,
        doc: Document,
        /// Its bytes as read, when the run keeps documents ([`ReadSettings::keep_documents`]).
        kept: Option<Kept>,
    },
    /// A foreign export (stern, Loki, ...) was read into kubectl's lines: what that found.
    Foreign {
        input: u32,
        layout: super::formats::Layout,
        stats: Arc<super::formats::Stats>,
    },
    /// The input ended. `lines` counts the lines of inputs that were not parsed as logs.
    End {
        input: u32,
        lines: u64,
        error: Option<String>,
    },
}

/// A whole-document input, parsed.
pub enum Document {
    Cluster(Result<super::k8s::Parsed, super::k8s::DocError>),
    Metrics(Result<super::prom::Dump, super::prom::DumpError>),
    Rules(Result<crate::model::rules::RuleSet, super::rules::RulesError>),
    Collection(Result<Box<crate::model::collection::Collection>, String>),
}

/// Settings the reader applies to every input.
#[derive(Clone, Debug)]
pub struct ReadSettings {
    pub zone: Zone,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    pub max_line: usize,
    /// Decompressed bytes read of one input at most (`--max-input-bytes`).
    pub max_input_bytes: u64,
    /// When relative-age event tables were captured (else each file's modification time).
    pub captured_at: Option<Millis>,
    /// Read only these inputs (numbered as a full run numbers them); `None`: all.
    pub only: Option<std::collections::HashSet<u32>>,
    /// The levels the run's sink wants, when it tells (`None`: it wants every record whole,
    /// as the second pass over overlapping exports does). Documents then hand on the entries
    /// at other levels as stubs the scanner counts the same way.
    pub wanted: Option<crate::model::Levels>,
    /// Keep each whole document's bytes (Kubernetes objects, metric dumps, rules, collection
    /// records) in its result, to be read again later (a shard's partial holds them).
    pub keep_documents: bool,
}

/// A document's bytes as read, and the modification time its event tables count back from.
#[derive(Clone, Debug, Default)]
pub struct Kept {
    pub bytes: Vec<u8>,
    pub mtime: Option<Millis>,
}

/// A whole document's lines and what it holds, from the bytes read of it (at most one byte
/// past its kind's limit: beyond that it is refused as too big). The same bytes always give
/// the same result, so a kept document read again in `merge` gives what the shard read.
pub fn parse_document(
    kind: InputKind,
    bytes: &[u8],
    settings: &ReadSettings,
    mtime: Option<Millis>,
) -> (u64, Document) {
    let limit = if kind == InputKind::PrometheusDump {
        MAX_DUMP_BYTES
    } else {
        MAX_DOCUMENT_BYTES
    };
    let lines = memchr::memchr_iter(b'\n', bytes).count() as u64
        + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
    let too_big = (bytes.len() > limit).then(|| {
        format!(
            "larger than {} MB: not read; export less per file (one namespace, a shorter range)",
            limit >> 20
        )
    });
    let text = String::from_utf8_lossy(bytes);
    let captured = match (settings.captured_at, mtime) {
        (Some(t), _) => Some((t, "--captured-at")),
        (None, Some(t)) => Some((t, "the file's modification time")),
        (None, None) => None,
    };
    let doc = match kind {
        InputKind::PrometheusDump => Document::Metrics(match too_big {
            Some(m) => Err(super::prom::DumpError {
                message: m,
                line: None,
            }),
            None => match super::prom::sniff(&text[..text.len().min(64 * 1024)]) {
                Some(format) => super::prom::parse(&text, format, settings.captured_at)
                    .map(|d| in_zone(d, settings.zone)),
                None => Err(super::prom::DumpError {
                    message: "not a metric dump this version reads".into(),
                    line: None,
                }),
            },
        }),
        InputKind::CollectionRecord => Document::Collection(match too_big {
            Some(m) => Err(m),
            None => serde_json::from_str(&text)
                .map(Box::new)
                .map_err(|e| e.to_string()),
        }),
        InputKind::AlertRules => Document::Rules(match too_big {
            Some(m) => Err(super::rules::RulesError {
                message: m,
                line: None,
            }),
            None => super::rules::parse(&text),
        }),
        _ => Document::Cluster(match too_big {
            Some(m) => Err(super::k8s::DocError {
                message: format!("Kubernetes objects document {m}"),
                line: None,
                format: super::k8s::DocFormat::Json,
            }),
            None if super::k8s::is_event_table(&text) => {
                super::k8s::parse_event_table(&text, captured)
            }
            None if super::k8s::describe::is_describe(&text) => {
                Ok(super::k8s::describe::parse_describe(&text, captured))
            }
            None => super::k8s::parse(&text),
        }),
    };
    (lines, doc)
}

/// Walks `paths` and sends every input's messages to `tx`, taking chunk buffers from `pool`.
/// Returns when all are read (or the receiver hung up).
pub fn read_all(
    paths: &[PathBuf],
    settings: &ReadSettings,
    tx: SyncSender<Msg>,
    pool: Arc<BufferPool>,
) {
    let mut reader = Reader {
        settings,
        tx,
        next_input: 0,
        pool,
        mtime: None,
        plausible: None,
    };
    for path in paths {
        if path.as_os_str() == "-" {
            let stdin = io::stdin().lock();
            if reader
                .input(Box::new(stdin), "-", PathHints::default())
                .is_err()
            {
                return;
            }
            continue;
        }
        if path.is_dir() {
            let mut files = 0;
            // Symbolic links are followed (walkdir reports a loop as an error, named below);
            // FIFOs, sockets and devices inside a folder are named and passed over: reading
            // one could wait forever or never end.
            // One walk: regular files are read as found; symbolic links to files wait until
            // the end, and a link to a file the folder also holds is that file, read once
            // under its own name (which may name the pod).
            let mut real: std::collections::HashSet<PathBuf> = Default::default();
            let mut links: Vec<PathBuf> = Vec::new();
            let walk = walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name();
            for entry in walk {
                match entry {
                    Ok(e) if e.file_type().is_file() && e.path_is_symlink() => {
                        links.push(e.into_path());
                    }
                    Ok(e) if e.file_type().is_file() => {
                        files += 1;
                        if let Ok(rel) = e.path().strip_prefix(path) {
                            real.insert(rel.to_owned());
                        }
                        if reader.file(e.path()).is_err() {
                            return;
                        }
                    }
                    Ok(e) if e.file_type().is_dir() => {}
                    Ok(e) => {
                        let name = e.path().display().to_string();
                        let what = special_file(&e.file_type());
                        if reader
                            .failed(
                                &name,
                                InputKind::Unreadable,
                                format!("{what}, not a regular file: passed over (name it on the command line to read it)"),
                            )
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        let name = e.path().map_or_else(
                            || path.display().to_string(),
                            |p| p.display().to_string(),
                        );
                        let why = if e.loop_ancestor().is_some() {
                            "a symbolic link loop: passed over".to_owned()
                        } else {
                            format!("cannot read: {e}")
                        };
                        if reader.failed(&name, InputKind::Unreadable, why).is_err() {
                            return;
                        }
                    }
                }
            }
            let root = std::fs::canonicalize(path).ok();
            let mut targets: std::collections::HashSet<PathBuf> = Default::default();
            for link in links {
                let target = std::fs::canonicalize(&link).ok();
                let same = target
                    .as_ref()
                    .zip(root.as_ref())
                    .and_then(|(t, r)| t.strip_prefix(r).ok())
                    .filter(|rel| real.contains(*rel))
                    .map(|rel| path.join(rel));
                let again = target.is_some_and(|t| !targets.insert(t));
                if same.is_some() || again {
                    let to = same.map_or_else(
                        || "a file already read".to_owned(),
                        |p| p.display().to_string(),
                    );
                    let said = reader.failed(
                        &link.display().to_string(),
                        InputKind::Empty,
                        format!("a symbolic link to {to}: read once, as that file"),
                    );
                    if said.is_err() {
                        return;
                    }
                    continue;
                }
                files += 1;
                if reader.file(&link).is_err() {
                    return;
                }
            }
            if files == 0 {
                let name = path.display().to_string();
                if reader
                    .failed(&name, InputKind::Empty, "folder contains no files".into())
                    .is_err()
                {
                    return;
                }
            }
            continue;
        }
        if reader.file(path).is_err() {
            return;
        }
    }
}

/// What a folder entry that is not a file or folder is, in words.
fn special_file(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    let _ = t;
    "a special file"
}

/// A reader that fails once more than `limit` bytes came through it.
struct Capped<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Exactly at the limit is fine if the input ends there.
            if self.inner.read(&mut [0u8; 1])? == 0 {
                return Ok(0);
            }
            return Err(io::Error::other(format!(
                "more than {} bytes (--max-input-bytes): the rest was not read",
                self.limit
            )));
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

struct Reader<'a> {
    settings: &'a ReadSettings,
    tx: SyncSender<Msg>,
    next_input: u32,
    pool: Arc<BufferPool>,
    /// Modification time of the file (or archive entry) being read, for event tables.
    mtime: Option<Millis>,
    /// The times the log being read may have (from its first lines), for its context.
    plausible: Option<(Millis, Millis)>,
}

/// The receiver hung up; stop reading.
struct Hangup;

/// Reads up to `n` bytes, keeping what was read before an error.
fn read_head(reader: &mut dyn Read, n: usize) -> (Vec<u8>, Option<io::Error>) {
    let mut head = Vec::with_capacity(n);
    let mut limited = reader.take(n as u64);
    match limited.read_to_end(&mut head) {
        Ok(_) => (head, None),
        Err(e) => (head, Some(e)),
    }
}

/// A reader that yields `head` and then, unless reading it already failed, the rest.
fn rejoin<'r>(
    head: Vec<u8>,
    err: &Option<io::Error>,
    rest: Box<dyn Read + 'r>,
) -> Box<dyn Read + 'r> {
    if err.is_some() {
        Box::new(Cursor::new(head))
    } else {
        Box::new(Cursor::new(head).chain(rest))
    }
}

fn describe_read_error(e: &io::Error, compressed: bool) -> String {
    format!(
        "{}: the lines before it were analysed",
        read_error_cause(e, compressed)
    )
}

/// What went wrong reading, in words.
fn read_error_cause(e: &io::Error, compressed: bool) -> String {
    if compressed
        && matches!(
            e.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
        )
    {
        format!("truncated or corrupt gzip stream ({e})")
    } else {
        format!("read error ({e})")
    }
}

impl Reader<'_> {
    fn send(&self, msg: Msg) -> Result<(), Hangup> {
        self.tx.send(msg).map_err(|_| Hangup)
    }

    fn new_input(&mut self) -> u32 {
        self.next_input += 1;
        self.next_input - 1
    }

    fn ctx(&self, hints: PathHints) -> Arc<FileCtx> {
        Arc::new(FileCtx {
            hints,
            zone: self.settings.zone,
            since: self.settings.since,
            until: self.settings.until,
            max_line: self.settings.max_line,
            plausible: None,
        })
    }

    /// An input that could not be read at all.
    /// Whether this run reads input number `input`.
    fn reads(&self, input: u32) -> bool {
        self.settings
            .only
            .as_ref()
            .is_none_or(|o| o.contains(&input))
    }

    fn failed(&mut self, name: &str, kind: InputKind, error: String) -> Result<(), Hangup> {
        let input = self.new_input();
        if !self.reads(input) {
            return Ok(());
        }
        let ctx = self.ctx(PathHints::default());
        self.send(Msg::Begin {
            input,
            name: name.to_owned(),
            kind,
            ctx,
        })?;
        self.send(Msg::End {
            input,
            lines: 0,
            error: Some(error),
        })
    }

    fn file(&mut self, path: &Path) -> Result<(), Hangup> {
        let name = path.display().to_string();
        match File::open(path) {
            Ok(f) => {
                self.mtime = f
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_millis() as Millis);
                let done = self.input(Box::new(f), &name, hints::from_path(&name));
                self.mtime = None;
                done
            }
            Err(e) => self.failed(&name, InputKind::Unreadable, format!("cannot open: {e}")),
        }
    }

    /// Reads one input whose container (gzip, tar, plain) is told by its first bytes.
    fn input(
        &mut self,
        mut reader: Box<dyn Read + '_>,
        name: &str,
        hints: PathHints,
    ) -> Result<(), Hangup> {
        if self.next_input >= MAX_INPUTS {
            return self.too_many(name);
        }
        self.input_inner(&mut reader, name, hints, false, 0)
    }

    /// `reader` capped at `--max-input-bytes` when it is the outermost layer (the cap counts
    /// decompressed bytes once, where they come out).
    fn capped<'r>(&self, reader: Box<dyn Read + 'r>, layers: u8) -> Box<dyn Read + 'r> {
        if layers > 0 {
            return reader;
        }
        Box::new(Capped {
            inner: reader,
            left: self.settings.max_input_bytes,
            limit: self.settings.max_input_bytes,
        })
    }

    /// Past [`MAX_INPUTS`]: the input is named once and not read.
    fn too_many(&mut self, name: &str) -> Result<(), Hangup> {
        if self.next_input > MAX_INPUTS {
            return Ok(());
        }
        self.failed(
            name,
            InputKind::Unreadable,
            format!("more than {MAX_INPUTS} inputs: this one and those after it were not read; analyze fewer files (one namespace, the pods involved)"),
        )
    }

    fn input_inner(
        &mut self,
        reader: &mut dyn Read,
        name: &str,
        hints: PathHints,
        compressed: bool,
        layers: u8,
    ) -> Result<(), Hangup> {
        let (head, err) = read_head(reader, SNIFF_BYTES);
        let container = sniff::container(&head);
        if container != Container::Plain && layers >= MAX_LAYERS {
            return self.failed(
                name,
                InputKind::Unreadable,
                format!("more than {MAX_LAYERS} layers of compression or archives inside one another: not read"),
            );
        }
        match container {
            Container::Gzip => {
                let joined = rejoin(head, &err, Box::new(reader));
                let mut gz = self.capped(Box::new(MultiGzDecoder::new(joined)), layers);
                self.input_inner(&mut gz, name, hints, true, layers + 1)
            }
            Container::Tar => {
                let joined = rejoin(head, &err, Box::new(reader));
                let capped = self.capped(joined, layers);
                self.tar(capped, name, compressed, layers + 1)
            }
            Container::Plain => {
                if let Some(layout) = super::formats::sniff(&head) {
                    let joined = rejoin(head, &err, Box::new(reader));
                    let capped = self.capped(joined, layers);
                    return self.foreign(capped, name, hints, layout, err, compressed);
                }
                let kind = sniff::content(&head);
                let plausible = if kind == InputKind::Logs {
                    super::logs::scan::bulk_window(&head, self.settings.zone)
                } else {
                    None
                };
                let joined = rejoin(head, &err, Box::new(reader));
                let capped = self.capped(joined, layers);
                self.plausible = plausible;
                self.text(capped, name, hints, kind, err, compressed)
            }
        }
    }

    fn tar(
        &mut self,
        reader: Box<dyn Read + '_>,
        name: &str,
        compressed: bool,
        layers: u8,
    ) -> Result<(), Hangup> {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                return self.failed(
                    name,
                    InputKind::Unreadable,
                    format!("corrupt tar archive: {e}"),
                )
            }
        };
        let mut count = 0;
        let mut last_entry = String::from("(none)");
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let why = if compressed {
                        read_error_cause(&e, true)
                    } else {
                        e.to_string()
                    };
                    return self.failed(name, InputKind::Unreadable, format!("corrupt tar archive after entry {last_entry}: {why}; the entries before it were analysed"));
                }
            };
            let path = entry
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "?".into());
            let kind = entry.header().entry_type();
            if kind.is_hard_link() || kind.is_symlink() {
                // A link's lines are those of the entry it names, read as that entry.
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map_or_else(|| "?".to_owned(), |p| p.display().to_string());
                count += 1;
                self.failed(
                    &format!("{name}:{path}"),
                    InputKind::Empty,
                    format!(
                        "a {} link to {target}: its lines are read as that entry",
                        if kind.is_hard_link() {
                            "hard"
                        } else {
                            "symbolic"
                        }
                    ),
                )?;
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            if self.next_input >= MAX_INPUTS {
                return self.too_many(&format!("{name}:{path}"));
            }
            last_entry = path.clone();
            count += 1;
            let entry_name = format!("{name}:{path}");
            let outer_mtime = self.mtime;
            self.mtime = entry
                .header()
                .mtime()
                .ok()
                .filter(|&m| m > 0)
                .map(|m| m as Millis * 1000);
            let done = self.input_inner(
                &mut entry,
                &entry_name,
                hints::from_path(&path),
                compressed,
                layers,
            );
            self.mtime = outer_mtime;
            done?;
        }
        if count == 0 {
            return self.failed(name, InputKind::Empty, "archive contains no files".into());
        }
        Ok(())
    }

    /// A document read whole (up to [`MAX_DOCUMENT_BYTES`], a metric dump up to
    /// [`MAX_DUMP_BYTES`]) and parsed here: Kubernetes objects, a metric dump or alert rules.
    fn document(
        &mut self,
        reader: Box<dyn Read + '_>,
        input: u32,
        kind: InputKind,
        sniff_err: Option<io::Error>,
        compressed: bool,
    ) -> Result<(), Hangup> {
        let limit = if kind == InputKind::PrometheusDump {
            MAX_DUMP_BYTES
        } else {
            MAX_DOCUMENT_BYTES
        };
        let mut bytes = Vec::new();
        let mut error = sniff_err.map(|e| describe_read_error(&e, compressed));
        let read = reader.take(limit as u64 + 1).read_to_end(&mut bytes);
        if let Err(e) = read {
            error.get_or_insert_with(|| describe_read_error(&e, compressed));
        }
        let (lines, doc) = parse_document(kind, &bytes, self.settings, self.mtime);
        let kept = self.settings.keep_documents.then_some(Kept {
            bytes,
            mtime: self.mtime,
        });
        self.send(Msg::Document {
            input,
            lines,
            doc,
            kept,
        })?;
        self.send(Msg::End {
            input,
            lines: 0,
            error,
        })
    }

    /// An export of another tool than kubectl, read into kubectl's lines and then as those.
    fn foreign(
        &mut self,
        reader: Box<dyn Read + '_>,
        name: &str,
        mut hints: PathHints,
        layout: super::formats::Layout,
        sniff_err: Option<io::Error>,
        compressed: bool,
    ) -> Result<(), Hangup> {
        let year = self
            .settings
            .until
            .or(self.settings.since)
            .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        let year = chrono::DateTime::from_timestamp_millis(year)
            .map_or(1970, |d| chrono::Datelike::year(&d));
        let ctx = super::formats::LineCtx {
            zone: self.settings.zone,
            year,
            wanted: self.settings.wanted,
            max_line: self.settings.max_line,
        };
        let t = match super::formats::transcode(layout, reader, ctx) {
            Ok(t) => t,
            Err(e) => {
                return self.failed(
                    name,
                    InputKind::Unreadable,
                    format!("{}: {}", layout.name(), describe_read_error(&e, compressed)),
                )
            }
        };
        // Entries name their pod and container; a file name does not (the node's CRI files
        // are named by theirs).
        if layout != super::formats::Layout::Cri {
            hints.pod = None;
            hints.container = None;
        }
        if hints.namespace.is_none() {
            hints.namespace = t
                .stats
                .namespace
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
        }
        // The plausible span of its times, judged on the first lines as kubectl's.
        let mut reader = t.reader;
        let mut first = Vec::new();
        let read = reader
            .by_ref()
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut first);
        self.plausible = super::logs::scan::bulk_window(&first, self.settings.zone);
        let sniff_err = sniff_err.or(read.err());
        let joined: Box<dyn Read + '_> = Box::new(io::Cursor::new(first).chain(reader));
        let input = self.next_input;
        self.text(joined, name, hints, InputKind::Logs, sniff_err, compressed)?;
        if self.reads(input) {
            self.send(Msg::Foreign {
                input,
                layout,
                stats: t.stats,
            })?;
        }
        Ok(())
    }

    fn text(
        &mut self,
        reader: Box<dyn Read + '_>,
        name: &str,
        hints: PathHints,
        kind: InputKind,
        sniff_err: Option<io::Error>,
        compressed: bool,
    ) -> Result<(), Hangup> {
        let plausible = self.plausible.take();
        let input = self.new_input();
        if !self.reads(input) {
            return Ok(());
        }
        let mut ctx = self.ctx(hints);
        Arc::get_mut(&mut ctx).expect("a new context").plausible = plausible;
        self.send(Msg::Begin {
            input,
            name: name.to_owned(),
            kind,
            ctx: ctx.clone(),
        })?;
        if matches!(
            kind,
            InputKind::KubernetesObjects
                | InputKind::PrometheusDump
                | InputKind::AlertRules
                | InputKind::CollectionRecord
        ) {
            return self.document(reader, input, kind, sniff_err, compressed);
        }
        if kind != InputKind::Logs {
            // Not parsed: count its lines so the data-quality section can account for them.
            let mut lines = 0u64;
            let mut last = b'\n';
            let mut error = sniff_err.map(|e| describe_read_error(&e, compressed));
            // Binary content is counted up to a bound: its lines mean nothing, and an endless
            // device (`/dev/zero`) must end.
            let bound = if kind == InputKind::Binary {
                MAX_BINARY_BYTES
            } else {
                u64::MAX
            };
            let mut reader = reader.take(bound);
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
                        last = buf[n - 1];
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        error.get_or_insert_with(|| describe_read_error(&e, compressed));
                        break;
                    }
                }
            }
            lines += u64::from(last != b'\n');
            if kind == InputKind::Binary && reader.limit() == 0 {
                error.get_or_insert_with(|| {
                    format!(
                        "binary content: not read past its first {} MiB",
                        MAX_BINARY_BYTES >> 20
                    )
                });
            }
            return self.send(Msg::End {
                input,
                lines,
                error,
            });
        }
        let mut chunker = Chunker::new(
            reader,
            self.settings.max_line,
            starts_record,
            self.pool.clone(),
        );
        let zone = self.settings.zone;
        let mut carry = None;
        for chunk in chunker.by_ref() {
            let next_carry = last_time(&chunk.data, |l| line_time(l, zone)).or(carry);
            self.send(Msg::Chunk {
                input,
                chunk,
                carry,
                ctx: ctx.clone(),
            })?;
            carry = next_carry;
        }
        let error = sniff_err
            .or(chunker.error.take())
            .map(|e| describe_read_error(&e, compressed));
        self.send(Msg::End {
            input,
            lines: 0,
            error,
        })
    }
}

/// A dump whose times carried no zone (Grafana's CSV writes the dashboard's wall-clock time)
/// was read as UTC: read it in `--tz` instead, and say which zone was used.
fn in_zone(mut d: super::prom::Dump, zone: Zone) -> super::prom::Dump {
    if !d.times_without_zone {
        return d;
    }
    if zone == Zone::Utc {
        d.notes.push(
            "its times carry no zone and were read as UTC; pass --tz (the dashboard's zone) \
             if they were not"
                .into(),
        );
        return d;
    }
    let mut folded = 0;
    for s in &mut d.series {
        for x in &mut s.samples {
            x.t_ms = zone.local_to_utc(x.t_ms);
        }
        // The hour a DST change repeats reads twice as one: keep the samples in order, one
        // per time, and say how many were dropped.
        s.samples.sort_by_key(|x| x.t_ms);
        let before = s.samples.len();
        s.samples.dedup_by_key(|x| x.t_ms);
        folded += before - s.samples.len();
    }
    d.notes.push(format!(
        "its times carry no zone and were read in --tz {}{}",
        zone.name(),
        if folded > 0 {
            format!(
                "; {folded} sample(s) in the hour the change from summer time repeats fell on \
                 a time already taken and were dropped"
            )
        } else {
            String::new()
        }
    ));
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_capped(data: &[u8], limit: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Capped {
            inner: data,
            left: limit,
            limit,
        }
        .read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn the_input_cap_stops_past_the_limit_not_at_it() {
        assert_eq!(read_capped(b"12345", 5).unwrap(), b"12345");
        assert_eq!(read_capped(b"1234", 5).unwrap(), b"1234");
        let err = read_capped(b"123456", 5).unwrap_err();
        assert!(err.to_string().contains("--max-input-bytes"), "{err}");
    }
}
