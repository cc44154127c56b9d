//! flow-export: flows to CSV, JSON lines and Parquet, for the cluster
//! engines (Spark, Trino, ClickHouse, DuckDB) that take over when one
//! machine is not enough.
//!
//! The crate owns the exported column set ([`columns`]), the row encoders
//! ([`text`] for CSV and JSON lines, [`columnar`] for Parquet) and the
//! output files with their all-or-nothing rename ([`output`]). Its entry
//! point is [`export`] (or [`run`] for the binary) with a [`Config`].
//!
//! Input is `flowio`'s: files, directories, ft streams on stdin, time
//! windows and filters ([`flowio::select`]), read by its ordered parallel
//! scan ([`flowio::ordered`]); nothing here parses flow files or filter
//! languages, and nothing here parses arguments (see `bin/flow-export.rs`).
//!
//! # How the work is split
//!
//! The ordered scan hands each worker a task (runs of native blocks, or
//! records read from an ft file or stream) in input order; the worker
//! splits the task's rows by partition and encodes them: CSV/JSON text, or
//! a complete compressed Parquet row group. The calling thread writes the
//! results strictly in task order, so the output order is the input order
//! (flow-cat's), whatever the thread count, and at most a few tasks are in
//! memory at once.
#![deny(missing_docs)]

pub mod columnar;
pub mod columns;
pub mod output;
pub mod text;
pub mod time;

use std::path::PathBuf;
use std::process::ExitCode;

use flowio::input::RecordSource;
use flowio::ordered::Ordered;
use flowio::select::ScanOptions;
use formats::Record;

use crate::columnar::RowGroupEncoder;
use crate::output::{Output, PartKey, Payload, Target, Written};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Json,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The file name extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Parquet => "parquet",
        }
    }
}

/// Hive-style partitioning by flow start time (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    /// `date=YYYY-MM-DD/hour=HH/`
    Hour,
    /// `date=YYYY-MM-DD/`
    Day,
}

/// Rows per task for the text formats: big enough to amortize the
/// hand-off, small enough that a few in flight cost little memory.
pub const TEXT_TASK_ROWS: usize = 1 << 16;

/// Everything that shapes an export.
#[derive(Clone, Debug)]
pub struct Config {
    /// Output format.
    pub format: Format,
    /// Inputs, time window, filter, threads (empty inputs: stdin stream).
    pub scan: ScanOptions,
    /// `-o`: a file, or the table directory with `partition`; `None` (or
    /// `-`): standard output (text formats only).
    pub output: Option<PathBuf>,
    /// `--partition`: Hive layout under the `output` directory.
    pub partition: Option<Partition>,
    /// Parquet rows per row group (an upper bound: a group also ends with
    /// its task, and holds one partition).
    pub row_group_rows: usize,
    /// Parquet: add dotted-quad string columns for the addresses
    /// (`exaddr_str`, `srcaddr_str`, `dstaddr_str`, `nexthop_str`); they
    /// cost about a third more time and 30% more bytes.
    pub addr_strings: bool,
    /// Parquet: zstd level (1 is fast and already small).
    pub zstd_level: i32,
    /// Partition file names: `PREFIX-00000.parquet`; unique per run.
    pub part_prefix: String,
}

impl Config {
    /// Defaults for `format` reading `scan`, to standard output.
    pub fn new(format: Format, scan: ScanOptions) -> Self {
        Config {
            format,
            scan,
            output: None,
            partition: None,
            row_group_rows: columnar::DEFAULT_ROW_GROUP_ROWS,
            addr_strings: false,
            zstd_level: 1,
            part_prefix: default_part_prefix(),
        }
    }

    /// Where the rows go, after checking the combination of options.
    pub fn target(&self) -> Result<Target, Error> {
        let out = self.output.as_ref().filter(|p| p.as_os_str() != "-");
        match (out, self.partition, self.format) {
            (None, Some(_), _) => Err(Error::PartitionNeedsDir),
            (None, None, Format::Parquet) => Err(Error::ParquetNeedsFile),
            (None, None, _) => Ok(Target::Stdout),
            (Some(p), Some(_), _) => Ok(Target::Dir(p.clone())),
            (Some(p), None, _) => Ok(Target::File(p.clone())),
        }
    }
}

/// `part-YYYYMMDDTHHMMSSZ-PID`: sorts by export time, unique per run.
pub fn default_part_prefix() -> String {
    format!(
        "part-{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    )
}

/// Errors of an export.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the inputs, the filter or the time window failed.
    #[error("{0}")]
    Input(#[from] flowio::Error),
    /// A file or directory operation failed.
    #[error("{}: {action}: {reason}", path.display())]
    Io {
        /// The file (its final name) or directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS reason.
        reason: String,
    },
    /// The Parquet writer of a file failed for another reason than the OS.
    #[error("{}: cannot write Parquet: {source}", path.display())]
    ParquetWrite {
        /// The file (its final name).
        path: PathBuf,
        /// The writer's error.
        source: parquet::errors::ParquetError,
    },
    /// Writing to standard output failed (a broken pipe exits quietly).
    #[error("standard output: {}", flowio::input::io_reason(.0))]
    Stdout(std::io::Error),
    /// Encoding a Parquet row group failed.
    #[error("Parquet encoding: {0}")]
    Encode(#[from] parquet::errors::ParquetError),
    /// `--partition` without `-o DIR`.
    #[error("--partition needs -o DIR, the table directory")]
    PartitionNeedsDir,
    /// Parquet to standard output (no `-o`).
    #[error("Parquet output needs -o FILE (or -o DIR with --partition)")]
    ParquetNeedsFile,
    /// `--part-prefix` is not a plain file name.
    #[error("--part-prefix {0:?}: must be a plain file name that does not start with '.'")]
    BadPartPrefix(String),
    /// `--row-group-rows 0`.
    #[error("--row-group-rows must be at least 1")]
    ZeroRowGroupRows,
    /// `--zstd-level` is outside what zstd accepts.
    #[error("--zstd-level {level}: {source}")]
    BadZstdLevel {
        /// The level given.
        level: i32,
        /// What the Parquet writer said about it.
        source: parquet::errors::ParquetError,
    },
    /// `-o FILE` names a directory.
    #[error("{}: is a directory (name a file, or use --partition)", .0.display())]
    OutputIsDirectory(PathBuf),
    /// `-o DIR` with `--partition` names something that is not a directory.
    #[error("{}: exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// Parquet row groups were handed to standard output.
    #[error("Parquet cannot go to standard output")]
    ParquetToStdout,
    /// A payload of one format was handed to a file of another (a bug).
    #[error("internal: payload does not match the format")]
    PayloadMismatch,
    /// A partition key without `--partition`, or none with it (a bug).
    #[error("internal: partition key without --partition")]
    UnexpectedPartition,
    /// A worker thread stopped (it panicked).
    #[error("{0}")]
    Workers(#[from] flowio::ordered::WorkersGone),
}

/// What [`export`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Flows written.
    pub flows: u64,
    /// Files written (final names; empty for standard output).
    pub files: Vec<PathBuf>,
}

/// Runs an export for the binary: errors come back for
/// `flowio::cli::main_wrapper`-style printing, a broken pipe on standard
/// output ends quietly with success.
pub fn run(cfg: &Config) -> Result<ExitCode, Error> {
    match export(cfg) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(Error::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(e),
    }
}

/// Exports the flows `cfg` selects. Nothing appears under a final name
/// unless the whole export succeeded.
pub fn export(cfg: &Config) -> Result<Summary, Error> {
    let target = cfg.target()?;
    if cfg.part_prefix.is_empty()
        || cfg.part_prefix.starts_with('.')
        || cfg.part_prefix.contains(['/', '\0'])
    {
        return Err(Error::BadPartPrefix(cfg.part_prefix.clone()));
    }
    if cfg.row_group_rows == 0 {
        return Err(Error::ZeroRowGroupRows);
    }
    let schema = columnar::schema(cfg.addr_strings)?;
    let props = columnar::properties(cfg.addr_strings, cfg.zstd_level).map_err(|source| {
        Error::BadZstdLevel {
            level: cfg.zstd_level,
            source,
        }
    })?;
    let threads = match cfg.scan.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let task_rows = match cfg.format {
        Format::Parquet => cfg.row_group_rows,
        _ => TEXT_TASK_ROWS,
    };
    // Resolve inputs, filter and window before creating any file.
    let (inputs, window, selection, warnings, stream) = if cfg.scan.is_fast_path() {
        let p = flowio::select::prepare(&cfg.scan)?;
        (p.inputs, p.window, p.selection, p.warnings, None)
    } else {
        let window = cfg.scan.window()?;
        let selection = cfg.scan.selection()?;
        let warnings = cfg.scan.warnings.clone();
        let src: Box<dyn RecordSource> = Box::new(flowio::input::open_stdin(&warnings)?);
        (Vec::new(), window, selection, warnings, Some(src))
    };
    let mut out = Output::new(
        cfg.format,
        target,
        cfg.partition,
        cfg.part_prefix.clone(),
        schema.clone(),
        props.clone(),
    )?;
    let work = Worker {
        format: cfg.format,
        partition: cfg.partition,
        schema: &schema,
        props: &props,
        addr_strings: cfg.addr_strings,
    };
    let keep = |recs: &mut Vec<Record>| selection.retain(recs);
    let scan = Ordered {
        inputs: &inputs,
        stream,
        window,
        keep: &keep,
        fields: formats::native::Fields::ALL,
        threads,
        task_rows,
        // A Parquet task is a whole row group: one per worker plus one
        // waiting to be written keeps the cores busy with the least memory.
        in_flight: match cfg.format {
            Format::Parquet => threads + 1,
            _ => 2 * threads + 2,
        },
        warnings: &warnings,
    };
    let mut flows = 0u64;
    let result = flowio::ordered::scan_ordered(scan, &work, |done: TaskOutput| {
        flows += done.rows;
        for (key, payload) in done.parts {
            out.write(key, payload)?;
        }
        Ok(())
    });
    match result {
        Ok(()) => {
            let Written { files } = out.commit()?;
            Ok(Summary { flows, files })
        }
        Err(e) => {
            out.abort();
            Err(e)
        }
    }
}

/// What a worker made of a task.
struct TaskOutput {
    rows: u64,
    parts: Vec<(PartKey, Payload)>,
}

/// What every worker shares.
struct Worker<'a> {
    format: Format,
    partition: Option<Partition>,
    schema: &'a parquet::schema::types::SchemaDescPtr,
    props: &'a parquet::file::properties::WriterPropertiesPtr,
    addr_strings: bool,
}

enum Encoder {
    Csv(Vec<u8>, text::Clocks),
    Json(Vec<u8>, text::Clocks),
    Parquet(Box<RowGroupEncoder>),
}

impl flowio::ordered::Work for Worker<'_> {
    type Partial = (u64, Vec<(PartKey, Encoder)>);
    type Output = TaskOutput;
    type Error = Error;

    fn start(&self) -> Self::Partial {
        (0, Vec::new())
    }

    fn add(&self, (rows, parts): &mut Self::Partial, recs: &[Record]) -> Result<(), Error> {
        *rows += recs.len() as u64;
        self.encode(parts, recs)
    }

    fn finish(&self, (rows, parts): Self::Partial) -> Result<TaskOutput, Error> {
        let mut out = Vec::with_capacity(parts.len());
        for (key, enc) in parts {
            out.push((
                key,
                match enc {
                    Encoder::Csv(t, _) | Encoder::Json(t, _) => Payload::Text(t),
                    Encoder::Parquet(e) => Payload::RowGroup(e.finish()?),
                },
            ));
        }
        Ok(TaskOutput { rows, parts: out })
    }
}

impl Worker<'_> {
    /// Feeds `recs` to the encoders of their partitions, in runs of equal
    /// partition (flows come roughly in time order, so runs are long).
    fn encode(&self, parts: &mut Vec<(PartKey, Encoder)>, recs: &[Record]) -> Result<(), Error> {
        let Some(p) = self.partition else {
            return self.encoder(parts, None).push(recs);
        };
        let mut start = 0;
        while start < recs.len() {
            let key = p.key(recs[start].start_ms());
            let mut end = start + 1;
            while end < recs.len() && p.key(recs[end].start_ms()) == key {
                end += 1;
            }
            self.encoder(parts, Some(key)).push(&recs[start..end])?;
            start = end;
        }
        Ok(())
    }

    fn encoder<'p>(&self, parts: &'p mut Vec<(PartKey, Encoder)>, key: PartKey) -> &'p mut Encoder {
        let i = match parts.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                let enc = match self.format {
                    Format::Parquet => Encoder::Parquet(Box::new(RowGroupEncoder::new(
                        self.schema,
                        self.props,
                        self.addr_strings,
                    ))),
                    Format::Csv => Encoder::Csv(Vec::new(), text::Clocks::default()),
                    Format::Json => Encoder::Json(Vec::new(), text::Clocks::default()),
                };
                parts.push((key, enc));
                parts.len() - 1
            }
        };
        &mut parts[i].1
    }
}

impl Encoder {
    fn push(&mut self, recs: &[Record]) -> Result<(), Error> {
        match self {
            Encoder::Csv(buf, t) => {
                buf.reserve(recs.len() * 200);
                for r in recs {
                    text::csv_row(buf, r, t);
                }
            }
            Encoder::Json(buf, t) => {
                buf.reserve(recs.len() * 450);
                for r in recs {
                    text::json_row(buf, r, t);
                }
            }
            Encoder::Parquet(e) => e.write(recs)?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(format: Format) -> Config {
        Config::new(format, ScanOptions::default())
    }

    #[test]
    fn option_combinations_are_refused_by_name() {
        let mut c = config(Format::Csv);
        c.partition = Some(Partition::Day);
        let e = c.target().expect_err("partition to stdout");
        assert!(matches!(e, Error::PartitionNeedsDir), "{e:?}");
        assert_eq!(
            e.to_string(),
            "--partition needs -o DIR, the table directory"
        );
        let e = config(Format::Parquet)
            .target()
            .expect_err("Parquet to stdout");
        assert!(matches!(e, Error::ParquetNeedsFile), "{e:?}");
        assert_eq!(
            e.to_string(),
            "Parquet output needs -o FILE (or -o DIR with --partition)"
        );
        assert_eq!(config(Format::Json).target().ok(), Some(Target::Stdout));
    }

    #[test]
    fn bad_values_are_refused_before_reading() {
        let mut c = config(Format::Csv);
        c.part_prefix = ".hidden".into();
        let e = export(&c).expect_err("dot prefix");
        assert!(
            matches!(&e, Error::BadPartPrefix(p) if p == ".hidden"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "--part-prefix \".hidden\": must be a plain file name that does not start with '.'"
        );
        let mut c = config(Format::Csv);
        c.row_group_rows = 0;
        let e = export(&c).expect_err("no rows per group");
        assert!(matches!(e, Error::ZeroRowGroupRows), "{e:?}");
        assert_eq!(e.to_string(), "--row-group-rows must be at least 1");
        let mut c = config(Format::Csv);
        c.zstd_level = 99;
        let e = export(&c).expect_err("zstd level out of range");
        assert!(matches!(e, Error::BadZstdLevel { level: 99, .. }), "{e:?}");
        assert!(e.to_string().starts_with("--zstd-level 99: "), "{e}");
    }

    #[test]
    fn messages_keep_their_words() {
        let cases: Vec<(Error, &str)> = vec![
            (
                Error::OutputIsDirectory("/tmp".into()),
                "/tmp: is a directory (name a file, or use --partition)",
            ),
            (
                Error::NotADirectory("/etc/passwd".into()),
                "/etc/passwd: exists and is not a directory",
            ),
            (
                Error::ParquetToStdout,
                "Parquet cannot go to standard output",
            ),
            (
                Error::PayloadMismatch,
                "internal: payload does not match the format",
            ),
            (
                Error::UnexpectedPartition,
                "internal: partition key without --partition",
            ),
            (
                Error::ParquetWrite {
                    path: "t.parquet".into(),
                    source: parquet::errors::ParquetError::General("bad page".into()),
                },
                "t.parquet: cannot write Parquet: Parquet error: bad page",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want, "{e:?}");
        }
    }
}
