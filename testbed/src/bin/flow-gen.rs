//! flow-gen: deterministic synthetic NetFlow v5 flows (see `testbed::gen`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use testbed::gen::{self, Config, GenConfig, Output, Prefix};
use testbed::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// flow-tools ft stream or file.
    Ft,
    /// Native flow file.
    Native,
}

/// Generates realistic synthetic NetFlow v5 flows, deterministically.
///
/// Writes an uncompressed ft stream to stdout (when it is not a terminal),
/// an ft or native file with -o, or one native file per 5-minute slot with
/// --split-5min -o DIR.
#[derive(Debug, Parser)]
#[command(name = "flow-gen", version)]
struct Args {
    /// PRNG seed: the same seed and options give the same flows.
    #[arg(long, default_value_t = gen::DEFAULT_SEED)]
    seed: u64,
    /// Number of flows.
    #[arg(short = 'n', long, default_value_t = gen::DEFAULT_COUNT)]
    count: u64,
    /// Exporters: a count (127.0.0.2, 127.0.0.3, ...) or a list of addresses.
    #[arg(long, default_value = "4")]
    exporters: String,
    /// Source networks, e.g. 10.0.0.0/16,192.168.0.0/20 (default: inside and
    /// Internet traffic in both directions).
    #[arg(long)]
    src_pool: Option<String>,
    /// Destination networks (default: see --src-pool).
    #[arg(long)]
    dst_pool: Option<String>,
    /// Export time of the first flow: unix seconds or 'YYYY-MM-DD HH:MM:SS' (UTC).
    #[arg(long, default_value = "2026-01-01 00:00:00")]
    start: String,
    /// Flows per second of simulated time.
    #[arg(long, default_value_t = gen::DEFAULT_RATE)]
    rate: f64,
    /// Output file (or directory with --split-5min).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Output format for -o.
    #[arg(long, value_enum, default_value = "ft")]
    format: Format,
    /// Same as --format native.
    #[arg(long)]
    native: bool,
    /// Write one native file per 5-minute slot under the -o directory,
    /// named like the collector's files.
    #[arg(long)]
    split_5min: bool,
    /// zlib level 1..9 for an ft file (-o); 0 or absent: uncompressed.
    #[arg(short = 'z', long)]
    zlib: Option<u32>,
}

fn config(a: Args) -> Result<Config, Error> {
    let start = gen::parse_start(&a.start)?;
    let gen = GenConfig {
        seed: a.seed,
        count: a.count,
        exporters: gen::parse_exporters(&a.exporters)?,
        src_pool: a.src_pool.as_deref().map(Prefix::parse_list).transpose()?,
        dst_pool: a.dst_pool.as_deref().map(Prefix::parse_list).transpose()?,
        start_ns: start as u64 * 1_000_000_000,
        rate: a.rate,
    };
    let native = a.native || a.format == Format::Native;
    let output = match (a.output, a.split_5min) {
        (Some(dir), true) => Output::Split { dir },
        (None, true) => return Err(Error::SplitNeedsDir),
        (Some(path), false) if native => Output::Native { path },
        (Some(path), false) => Output::FtFile { path, zlib: a.zlib },
        (None, false) if native => return Err(Error::NativeNeedsFile),
        (None, false) => Output::Stream,
    };
    if let Some(z) = a.zlib {
        if z > 9 || !matches!(output, Output::FtFile { .. }) {
            return Err(Error::BadZlib(z));
        }
    }
    Ok(Config { gen, output })
}

fn main() -> ExitCode {
    let args = Args::parse();
    flowio::cli::main_wrapper(|| {
        let cfg = config(args)?;
        let files = gen::run(&cfg)?;
        if let Output::Split { dir } = &cfg.output {
            flowio::cli::warn(format_args!("wrote {files} files under {}", dir.display()));
        }
        Ok::<_, Error>(ExitCode::SUCCESS)
    })
}
