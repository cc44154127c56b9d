//! flow-stat: summary reports of flows (spec §7); the logic is
//! `query::stat`.
//!
//! Options follow getopt(3) as flow-tools uses it (`c:d:f:h?npPs:S:t:T:w`):
//! numbers are read with C `atoi`, the last `-s`/`-S` wins, `-h` (or an
//! unknown option) prints the usage and exits 0, `-h -h` adds the format
//! list. `-d` is accepted and ignored.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{ArgAction, Parser};
use flowio::{args::ScanArgs, cli};
use query::stat::{self, Flags, StatConfig};

#[derive(Parser, Debug)]
#[command(
    name = "flow-stat",
    disable_help_flag = true,
    disable_version_flag = true
)]
#[command(args_override_self = true)]
struct Args {
    /// Comment character.
    #[arg(short = 'c', allow_hyphen_values = true)]
    comment: Option<OsString>,
    /// Debug level (accepted, ignored).
    #[arg(short = 'd', allow_hyphen_values = true)]
    debug: Option<OsString>,
    /// Report format.
    #[arg(short = 'f', allow_hyphen_values = true)]
    format: Option<String>,
    /// Help; twice also lists the formats.
    #[arg(short = 'h', action = ArgAction::Count)]
    help: u8,
    /// Symbolic names.
    #[arg(short = 'n')]
    names: bool,
    /// Print the stream header.
    #[arg(short = 'p')]
    header: bool,
    /// Percentages.
    #[arg(short = 'P')]
    percent: bool,
    /// Sort ascending on a field.
    #[arg(short = 's', allow_hyphen_values = true, overrides_with = "sort_desc")]
    sort_asc: Option<String>,
    /// Sort descending on a field.
    #[arg(short = 'S', allow_hyphen_values = true, overrides_with = "sort_asc")]
    sort_desc: Option<String>,
    /// Tally lines.
    #[arg(short = 't', allow_hyphen_values = true)]
    tally: Option<String>,
    /// Report title.
    #[arg(short = 'T', allow_hyphen_values = true)]
    title: Option<OsString>,
    /// Wide output.
    #[arg(short = 'w')]
    wide: bool,
    /// Memory for a hash report's table before it spills to a temporary
    /// file (K, M, G; 0 = no limit).
    #[arg(long, value_name = "SIZE", value_parser = cli::parse_bytes)]
    memory: Option<usize>,
    /// Directory for spill files (default: $TMPDIR, else /tmp).
    #[arg(long = "temp-dir", value_name = "DIR")]
    temp_dir: Option<std::path::PathBuf>,
    /// Fast path: time window, filter, expression, workers.
    #[command(flatten)]
    scan: ScanArgs,
    /// Files or directories to read (extension; default: the stream on stdin).
    extra: Vec<OsString>,
}

fn body() -> Result<ExitCode, query::Error> {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args = match Args::try_parse_from(&argv) {
        Ok(a) if a.help == 0 => a,
        Ok(a) => return Ok(usage(u32::from(a.help))),
        Err(e) => {
            cli::warn(flowio::args::getopt_complaint(&e));
            return Ok(usage(1));
        }
    };
    let flags = Flags {
        format: args.format,
        sort_asc: args.sort_asc,
        sort_desc: args.sort_desc,
        percent: args.percent,
        wide: args.wide,
        names: args.names,
        tally: args.tally,
        title: args.title,
        header: args.header,
        comment: args.comment,
        memory: args.memory,
        temp_dir: args.temp_dir,
        argv,
    };
    let mut cfg = StatConfig::from_flags(flags)?;
    cfg.warnings = cli::printed_warnings();
    let inputs = args.extra.iter().map(|a| a.to_string_lossy().into_owned());
    let opts = args.scan.options(inputs.collect());
    // Not locked: worker threads print warnings while the report runs.
    let mut err = std::io::BufWriter::new(std::io::stderr());
    stat::run(&cfg, &opts, &mut cli::stdout(), &mut err)
}

fn usage(calls: u32) -> ExitCode {
    eprint!("{}", stat::usage(calls));
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    cli::return_big_frees_to_the_kernel();
    cli::main_wrapper(body)
}
