//! `causes`: the cause table in effect, as a summary or as TOML to copy and extend.

use crate::classify::{self, CauseTable};

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What `postmortem causes` prints.
pub fn describe(table: &CauseTable, as_toml: bool) -> String {
    if as_toml {
        return table.to_toml();
    }
    let mut out = format!(
        "cause table: {} ({})\n\
         A record takes the first cause that matches at its level: every cause's rules on\n\
         fields (\"when\": logger, message, trace, HTTP status, JSON key paths) in this order,\n\
         then every cause's patterns in this order, on the message and then the trace. A record\n\
         no cause matches takes the cause of the failure it wraps or echoes.\n\n",
        table.origin,
        plural(table.causes.len(), "cause", "causes"),
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
        for w in &c.when {
            out.push_str(&format!("{:<22} when {}\n", "", w.describe()));
        }
        let mut counts = vec![plural(c.patterns.len(), "pattern", "patterns")];
        if !c.reasons.is_empty() {
            counts.push(format!("reasons {}", c.reasons.join(", ")));
        }
        counts.push(plural(c.actions.len(), "action", "actions"));
        out.push_str(&format!("{:<22} {}\n\n", "", counts.join(", ")));
    }
    out.push_str(&format!(
        "{:<22} errors that match none of the above\n\n",
        classify::UNCLASSIFIED_ID
    ));
    if table.outcome_rules.is_empty() {
        out.push_str(
            "No outcome rules: the log-derived alert counts each failure (the records of one \
             cascade on one pod) once.\n\n",
        );
    } else {
        out.push_str(
            "Outcomes: the records that are the counted operation's result, each one increment of\n\
             the alert's counter. When the input holds any, only they feed the log-derived alert.\n",
        );
        for o in &table.outcome_rules {
            out.push_str(&format!("  {:<30} when {}\n", o.name, o.when.describe()));
        }
        out.push('\n');
    }
    out.push_str("Print it as TOML to extend it: postmortem causes --toml > causes.toml\n");
    out
}
