//! The `postmortem` binary: parse flags, validate them into settings, run the command, and map
//! the outcome to an exit code (0 fine / not breached, 1 breached (`check`), 2 error). A
//! closed pipe (`postmortem check ... | head`) is not an error.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use postmortem::cli::{Cli, Command};
use postmortem::commands;
use postmortem::config::{self, CollectConfig, Config, Mode, QueryConfig};
use postmortem::messages;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            messages::error(&err);
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let wall_clock = chrono::Utc::now().timestamp_millis();
    match cli.command {
        Command::Causes(args) => {
            let table = config::load_causes(args.causes.as_deref())?;
            let text = commands::causes::describe(&table, args.toml);
            std::io::stdout().lock().write_all(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Analyze(args) => {
            let outcome = commands::analyze::run(&config(Mode::Analyze, args, wall_clock)?)?;
            Ok(exit_code(&outcome, 0))
        }
        Command::Merge(args) => {
            let outcome =
                commands::analyze::run(&Config::for_merge(Mode::Analyze, args, wall_clock)?)?;
            Ok(exit_code(&outcome, 0))
        }
        Command::Check(args) => {
            let outcome = commands::analyze::run(&config(Mode::Check, args, wall_clock)?)?;
            // With a baseline, regressions decide (a breach it also had is none).
            let failed = outcome.regressed.unwrap_or(outcome.breached);
            Ok(exit_code(&outcome, if failed { 1 } else { 0 }))
        }
        Command::Collect(args) => {
            let cfg = CollectConfig::from_args(args, wall_clock)?;
            commands::collect::run(&cfg)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Query(args) => {
            let text = commands::query::run(&QueryConfig::from_args(args)?)?;
            std::io::stdout().lock().write_all(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `analyze`'s or `check`'s settings (`--merge`: of a merge).
fn config(
    mode: Mode,
    args: postmortem::cli::AnalyzeArgs,
    wall_clock: postmortem::model::Millis,
) -> anyhow::Result<Config> {
    if args.merge {
        Config::for_merge(mode, args, wall_clock)
    } else {
        Config::from_args(mode, args, wall_clock)
    }
}

/// `code`, unless a named path could not be read: then 2 (as grep and ripgrep do), after
/// the report on the rest, even when the alert breached.
fn exit_code(outcome: &commands::analyze::Outcome, code: u8) -> ExitCode {
    if outcome.unreadable.is_empty() {
        ExitCode::from(code)
    } else {
        messages::unreadable_paths(&outcome.unreadable);
        ExitCode::from(2)
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
