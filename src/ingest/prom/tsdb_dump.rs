//! `promtool tsdb dump` output: one sample per line, `{__name__="x", a="b"} value timestamp_ms`
//! (label values quoted the Go way, so they may hold escaped quotes, commas and braces; values
//! printed with `%g`, so `NaN` and `+Inf` appear, and a staleness marker shows as `NaN`, so a
//! `NaN` is read back as a staleness marker), and its newer `dump-openmetrics` form
//! `x{a="b"} value seconds.mmm` ending in `# EOF`. Native histograms (`{count:..., ...}`
//! values) are skipped. All samples are raw.

use super::collect::Collector;
use super::exposition::{read_lines, TsUnit};
use super::lines::Ctx;
use super::{Dump, DumpError, DumpKind};
use crate::model::metrics::Resolution;

pub(crate) fn parse(text: &str, captured_at: Option<i64>) -> Result<Dump, DumpError> {
    let mut ctx = Ctx::new(text);
    let mut col = Collector::default();
    col.nan_is_stale = true;
    // The unit is decided from the file: `dump-openmetrics` writes `%.3f` seconds and `# EOF`.
    let seen = read_lines(&mut ctx, &mut col, None, captured_at);
    if seen.samples == 0 && seen.without_ts == 0 && seen.metadata == 0 && !seen.eof {
        return Err(DumpError::new(
            "no `{labels} value timestamp` line in this file: not a promtool tsdb dump",
            None,
        ));
    }
    ctx.notes.push(match seen.unit {
        Some(TsUnit::Seconds) => {
            "promtool tsdb dump-openmetrics output (timestamps in seconds): raw samples".to_owned()
        }
        _ => "promtool tsdb dump output (timestamps in ms): raw samples".to_owned(),
    });
    let series = col.finish(&mut ctx, |_| Resolution::Raw);
    Ok(ctx.finish(series, DumpKind::TsdbDump, None))
}
