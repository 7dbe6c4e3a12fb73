//! `gen-fixtures`: writes the bundled example incident, the per-format fixtures and bulk files
//! for benchmarks, deterministically (the same bytes on every run and machine).

mod bulk;
mod cluster;
mod exports;
mod formats;
mod incident;
mod metrics;
mod services;
mod shapes;

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Write postmortem's deterministic fixtures")]
struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// The example incident bundle.
    Incident {
        #[arg(long, default_value = "fixtures/incident")]
        out: PathBuf,
    },
    /// Small per-format fixtures, good and bad.
    Formats {
        #[arg(long, default_value = "fixtures/formats")]
        out: PathBuf,
    },
    /// Both, under fixtures/.
    All,
    /// A large `--timestamps --prefix` JSON log for throughput benchmarks.
    Bulk {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 100)]
        size_mb: u64,
        #[arg(long, default_value_t = 1.0)]
        error_pct: f64,
        #[arg(long)]
        gzip: bool,
    },
}

fn main() -> std::io::Result<()> {
    match Args::parse().what {
        What::Incident { out } => incident::generate(&out),
        What::Formats { out } => formats::generate(&out),
        What::All => {
            incident::generate(&PathBuf::from("fixtures/incident"))?;
            formats::generate(&PathBuf::from("fixtures/formats"))
        }
        What::Bulk {
            out,
            size_mb,
            error_pct,
            gzip,
        } => {
            let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
            let size = size_mb * 1_000_000;
            if gzip {
                let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
                bulk::write_bulk(&mut gz, size, error_pct, 42)?;
                gz.finish()?.flush()
            } else {
                let mut file = file;
                bulk::write_bulk(&mut file, size, error_pct, 42)?;
                file.flush()
            }
        }
    }
}
