//! flow-export: flows to CSV, JSON lines or Parquet (see the `export` crate).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use export::{Config, Format, Partition};

use flowio::args as common;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Json,
    /// Apache Parquet (needs -o).
    Parquet,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PartitionArg {
    /// date=YYYY-MM-DD/hour=HH/
    Hour,
    /// date=YYYY-MM-DD/
    Day,
}

/// Exports flows to CSV, JSON lines or Parquet for Spark, Trino, ClickHouse
/// and DuckDB.
///
/// Reads what every flow tool reads: native and ft files and directories
/// (in parallel), or an ft stream on stdin. Columns use the flow-tools v5
/// names (srcaddr, dstaddr, dpkts, doctets, prot, ...) plus start and end in
/// UTC. Output is written under a temporary name and renamed when complete.
#[derive(Debug, Parser)]
#[command(name = "flow-export", version)]
struct Args {
    /// Output format.
    #[arg(short = 'f', long = "format", value_enum)]
    format: FormatArg,
    /// Output file, or the table directory with --partition (default: stdout).
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    output: Option<PathBuf>,
    /// Hive-style partitions by flow start (UTC) under the -o directory.
    #[arg(long, value_enum, value_name = "BY")]
    partition: Option<PartitionArg>,
    /// Parquet rows per row group.
    #[arg(long, default_value_t = export::columnar::DEFAULT_ROW_GROUP_ROWS, value_name = "N")]
    row_group_rows: usize,
    /// Parquet: add dotted-quad string columns (exaddr_str, srcaddr_str,
    /// dstaddr_str, nexthop_str) beside the uint32 addresses.
    #[arg(long)]
    addr_strings: bool,
    /// Parquet: zstd compression level (1..22).
    #[arg(long, default_value_t = 1, value_name = "N")]
    zstd_level: i32,
    /// Partition file name prefix (default: part-UTCTIME-PID).
    #[arg(long, value_name = "PREFIX")]
    part_prefix: Option<String>,
    /// Time window, filter, expression, workers.
    #[command(flatten)]
    scan: common::ScanArgs,
    /// Files or directories to read (default: the ft stream on stdin).
    inputs: Vec<OsString>,
}

impl Args {
    fn config(self) -> Config {
        let format = match self.format {
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
            FormatArg::Parquet => Format::Parquet,
        };
        let inputs = self
            .inputs
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let mut cfg = Config::new(format, self.scan.options(inputs));
        cfg.output = self.output;
        cfg.partition = self.partition.map(|p| match p {
            PartitionArg::Hour => Partition::Hour,
            PartitionArg::Day => Partition::Day,
        });
        cfg.row_group_rows = self.row_group_rows;
        cfg.addr_strings = self.addr_strings;
        cfg.zstd_level = self.zstd_level;
        if let Some(p) = self.part_prefix {
            cfg.part_prefix = p;
        }
        cfg
    }
}

fn main() -> ExitCode {
    let cfg = Args::parse().config();
    match export::run(&cfg) {
        Ok(code) => code,
        Err(e) => {
            flowio::cli::warn(&e);
            ExitCode::from(1)
        }
    }
}
