//! The `postmortem` binary: parse flags, validate them into a `Config`, run the pipeline,
//! and map the outcome to an exit code (0 fine / not breached, 1 breached (`check`), 2 error).
//! A closed pipe (`postmortem check ... | head`) is not an error.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use postmortem::cli::{Cli, Command};
use postmortem::config::{self, Config, Mode};
use postmortem::pipeline;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "postmortem: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let wall_clock = chrono::Utc::now().timestamp_millis();
    match cli.command {
        Command::Causes(args) => {
            let table = config::causes_only(args.causes.as_deref())?;
            let mut out = std::io::stdout().lock();
            out.write_all(pipeline::describe_causes(&table, args.toml).as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Analyze(args) => {
            let config = Config::from_args(Mode::Analyze, args, wall_clock)?;
            pipeline::run(&config)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Query(args) => {
            let q = config::QueryConfig::from_args(args)?;
            let text = pipeline::query(&q)?;
            std::io::stdout().lock().write_all(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(args) => {
            let config = Config::from_args(Mode::Check, args, wall_clock)?;
            let outcome = pipeline::run(&config)?;
            Ok(ExitCode::from(if outcome.breached { 1 } else { 0 }))
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
