//! Everything postmortem writes on stderr, in one place (as ripgrep's `messages` module): the
//! error that ends a run, the problems found in the input (naming the file and line), and
//! notes. Every line starts with `postmortem: `. A failed write (stderr closed) is ignored:
//! messages never end a run. Text from the input is redacted and its control characters are
//! written escaped (`\x1b`), so a hostile line cannot drive the terminal.

use std::borrow::Cow;
use std::io::Write;

use crate::model::FileQuality;

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `-q`: from now on only errors are written (notes and input problems go to the report only).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

/// Writes one line unless `-q` is in effect.
fn emit(text: std::fmt::Arguments<'_>) {
    if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        emit_always(text);
    }
}

/// Writes one line, `postmortem: ` and `text` (redacted, control characters escaped).
fn emit_always(text: std::fmt::Arguments<'_>) {
    let text = text.to_string();
    let text = crate::redact::text(&text);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "postmortem: {}", escape_controls(&text, false));
}

/// `s` with control characters written as escapes (`\x1b`, `\u{9b}`): escape sequences (CSI,
/// OSC, OSC 8 links) in input text reach the terminal as text. Newlines are kept when
/// `keep_newlines` (a multi-line summary).
pub fn escape_controls(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| c.is_control() && !(keep_newlines && c == '\n'))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' if keep_newlines => out.push(c),
            c if c.is_control() && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The error that ends the run (exit code 2), with its chain of causes.
pub fn error(err: &anyhow::Error) {
    emit_always(format_args!("error: {err:#}"));
}

/// Named paths that could not be read: the run reported on the rest, and exits 2.
pub fn unreadable_paths(paths: &[String]) {
    emit_always(format_args!(
        "error: {} named path{} could not be read: {} (the report covers the rest)",
        paths.len(),
        if paths.len() == 1 { "" } else { "s" },
        paths.join(", ")
    ));
}

/// A warning shown even with `-q` (the run's output is not what the user may assume).
pub fn warning(text: &str) {
    emit_always(format_args!("warning: {text}"));
}

/// A note about how the run went (what it assumed, which semantics it used).
pub fn note(text: &str) {
    emit(format_args!("{text}"));
}

/// Every problem found in the inputs, naming the file and line, and how many more were
/// counted than kept.
pub fn input_problems(files: &[FileQuality]) {
    for f in files {
        for p in &f.problems {
            match p.line {
                Some(l) => emit(format_args!("{}:{l}: {}", f.name, p.message)),
                None => emit(format_args!("{}: {}", f.name, p.message)),
            }
        }
        let more = f.problem_count.saturating_sub(f.problems.len() as u64);
        if more > 0 {
            emit(format_args!(
                "{}: {more} more problems (counted in the report's data-quality section)",
                f.name
            ));
        }
    }
}

/// A rule that could not be evaluated (the others were), and where the rules came from.
pub fn rule_not_evaluated(rules_from: &str, why: &str) {
    emit(format_args!("{rules_from}: {why}"));
}

/// More distinct pods than the collector keeps: the rest were counted together.
pub fn pods_folded(n: u64, kept: usize, under: &str) {
    emit(format_args!(
        "{n} more distinct pods than the {kept} kept: their records are counted under {under:?} (is the input really one incident's pods?)"
    ));
}

/// The temporary directory could not take the error records beyond the memory budget.
pub fn spill_failed(why: &str) {
    // About the machine, not the input: shown even with -q.
    emit_always(format_args!(
        "could not write to the temporary directory ({why}); kept every error record in memory instead (set TMPDIR to a writable place with room)"
    ));
}
