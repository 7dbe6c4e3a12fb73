//! `causes`: the cause table in effect, as a summary or as TOML to copy and extend.

use crate::classify::{self, CauseTable};

/// What `postmortem causes` prints.
pub fn describe(table: &CauseTable, as_toml: bool) -> String {
    if as_toml {
        return table.to_toml();
    }
    let mut out = format!(
        "cause table: {} ({} causes; first match in this order wins)\n\n",
        table.origin,
        table.causes.len()
    );
    for c in &table.causes {
        let levels: Vec<&str> = c.levels.iter().map(|l| l.as_str()).collect();
        out.push_str(&format!(
            "{:<22} {} [{}; counts at {}]\n",
            c.id,
            c.title,
            c.source,
            levels.join(", ")
        ));
        out.push_str(&format!("{:<22} solution: {}\n", "", c.solution));
        out.push_str(&format!(
            "{:<22} {} patterns, {} actions\n\n",
            "",
            c.patterns.len(),
            c.actions.len()
        ));
    }
    out.push_str(&format!("{:<22} errors that match none of the above\n\nPrint it as TOML to extend it: postmortem causes --toml > causes.toml\n", classify::UNCLASSIFIED_ID));
    out
}
