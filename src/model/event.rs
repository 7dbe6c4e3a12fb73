//! Classified error records: the compact row each one becomes once ingest and classify have
//! seen it, and the interner that lets millions of rows share pod names and message
//! signatures. A row is 64 bytes whatever the length of the log line; rows beyond a budget go
//! to disk (`classify::spill`), so memory does not grow with the size of the input.

use std::collections::HashMap;

use super::{Level, Millis};

/// Index of a cause in the cause table in effect; `UNCLASSIFIED` for errors no cause matched.
pub type CauseIdx = u16;
pub const UNCLASSIFIED: CauseIdx = u16::MAX;

/// Index into an [`Interner`].
pub type Sym = u32;

/// One error record (an error/fatal record, or a lower-level record matching a cause that
/// counts at that level).
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorEvent {
    /// When it was logged. Records without a time of their own take the previous record's.
    pub ts: Millis,
    pub cause: CauseIdx,
    pub level: Level,
    /// Pod, container and namespace names (interned; the empty string when unknown).
    pub pod: Sym,
    pub container: Sym,
    pub namespace: Sym,
    /// Which input it came from (index into the pipeline's list of inputs) and its line there.
    pub input: u32,
    pub line: u64,
    /// Physical lines the record spans (its first line and continuation lines).
    pub lines: u32,
    /// The message with numbers, ids and hosts masked (interned), for "top messages".
    pub signature: Sym,
    /// Hash of the underlying error (wrappers such as `Graph execution failed: ` and
    /// `[Class::method] ` removed): records with the same key on the same pod within the
    /// dedup window are one error event.
    pub error_key: u64,
    /// The cause table's outcome rule that names it (the counted operation failed here).
    pub outcome: Option<u8>,
    /// `false` for the second and later records of one failure (see `classify::failures`).
    pub first_of_event: bool,
    /// The alert's counter counts it (an outcome record, else a failure's first record).
    pub counted: bool,
    /// The counter would count it if the run's basis were outcomes (set whatever the basis:
    /// a partial of one shard keeps both, the basis being decided over all shards).
    pub counted_as_outcome: bool,
}

#[cfg(test)]
impl ErrorEvent {
    /// An error record at `ts` of `cause` on `pod` with `signature`, the first of its event
    /// (tests build the rest by hand).
    pub fn at(ts: Millis, cause: CauseIdx, pod: Sym, signature: Sym) -> ErrorEvent {
        ErrorEvent {
            ts,
            cause,
            level: Level::Error,
            pod,
            container: 0,
            namespace: 0,
            input: 0,
            line: 0,
            lines: 1,
            signature,
            error_key: 0,
            outcome: None,
            first_of_event: true,
            counted: true,
            counted_as_outcome: false,
        }
    }
}

/// A string table: each distinct string stored once, referred to by its index.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    index: HashMap<String, Sym>,
    strings: Vec<String>,
}

impl Interner {
    pub fn new() -> Self {
        let mut me = Self::default();
        me.intern("");
        me
    }

    /// A table holding `strings` at their index (the first must be the empty string; a
    /// string twice keeps its first symbol).
    pub fn from_strings(strings: Vec<String>) -> Self {
        let mut me = Self::default();
        for (i, s) in strings.iter().enumerate() {
            me.index.entry(s.clone()).or_insert(i as Sym);
        }
        me.strings = strings;
        if me.strings.is_empty() {
            me.intern("");
        }
        me
    }

    /// Returns the symbol for `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.index.get(s) {
            return sym;
        }
        let sym = self.strings.len() as Sym;
        self.strings.push(s.to_owned());
        self.index.insert(s.to_owned(), sym);
        sym
    }

    /// The symbol for `s`, if it was interned.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.index.get(s).copied()
    }

    /// Every string, indexed by its symbol.
    pub fn strings(&self) -> &[String] {
        &self.strings
    }

    /// The string behind a symbol (the empty string for an unknown symbol).
    pub fn get(&self, sym: Sym) -> &str {
        self.strings.get(sym as usize).map_or("", String::as_str)
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Symbols of `other` re-interned here, indexed by `other`'s symbol.
    pub fn absorb(&mut self, other: &Interner) -> Vec<Sym> {
        other.strings.iter().map(|s| self.intern(s)).collect()
    }
}
