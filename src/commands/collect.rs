//! `collect`: a live collection into a bundle folder and a summary of it, without analysis
//! (the bundle is for the ticket; `postmortem analyze DIR` reads it).

use std::io::Write;

use anyhow::Result;

use crate::collect;
use crate::config::CollectConfig;
use crate::messages;
use crate::redact::{self, Redactor};

pub fn run(cfg: &CollectConfig) -> Result<()> {
    messages::set_quiet(cfg.live.quiet);
    redact::install(Redactor::new(&[])?);
    let c = collect::collect(&cfg.live, &cfg.out)?;
    if !cfg.live.quiet {
        let text = collect::summary(&c.record, &cfg.out);
        std::io::stdout()
            .lock()
            .write_all(messages::escape_controls(&text, true).as_bytes())?;
    }
    Ok(())
}
