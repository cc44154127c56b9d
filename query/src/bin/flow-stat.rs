//! flow-stat: summary reports of an ft stream read on stdin (spec §7).
//!
//! Options follow getopt(3) as flow-tools uses it (`c:d:f:h?npPs:S:t:T:w`):
//! numbers are read with C `atoi`, the last `-s`/`-S` wins, `-h` (or an
//! unknown option) prints the usage and exits 0 once the options are read,
//! `-h -h` adds the format list. `-d` is accepted and ignored (flow-tools
//! prints profiling data with it).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{ArgAction, Parser};
use query::stat::{self, Sort, StatConfig, StatError};
use query::{cli, input, select};

mod common;

#[derive(Parser, Debug)]
#[command(
    name = "flow-stat",
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true
)]
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
    scan: common::ScanArgs,
    /// Files or directories to read (extension; default: the stream on stdin).
    extra: Vec<OsString>,
}

/// Prints the usage `calls` times the way flow-tools' `usage()` does: the
/// synopsis first, the format list on every later call.
fn usage(calls: u32) {
    for i in 0..calls {
        if i == 0 {
            eprint!("{}", stat::USAGE);
        } else {
            eprint!("{}", stat::formats_usage());
        }
    }
}

fn body() -> Result<ExitCode, query::Error> {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args = match Args::try_parse_from(&argv) {
        Ok(a) => a,
        Err(e) => {
            cli::warn(common::getopt_complaint(&e));
            usage(1);
            return Ok(ExitCode::SUCCESS);
        }
    };
    if args.help > 0 {
        usage(u32::from(args.help));
        return Ok(ExitCode::SUCCESS);
    }
    let format = args.format.as_deref().map_or(0, stat::atoi);
    if !(0..stat::FORMATS as i32).contains(&format) {
        return Err(query::Error::Msg(
            StatError::NoSuchFormat(format as i64).to_string(),
        ));
    }
    let sort = match (&args.sort_asc, &args.sort_desc) {
        (Some(f), _) => Some(Sort {
            descending: false,
            field: stat::atoi(f),
        }),
        (_, Some(f)) => Some(Sort {
            descending: true,
            field: stat::atoi(f),
        }),
        _ => None,
    };
    let mut cfg = StatConfig::new(format as u32);
    cfg.sort = sort;
    cfg.percent = args.percent;
    cfg.wide = args.wide;
    cfg.names = args.names;
    cfg.tally = args.tally.as_deref().map(|t| stat::atoi(t).max(0) as u32);
    cfg.title = args.title;
    cfg.header_block = args.header;
    if let Some(c) = &args.comment {
        use std::os::unix::ffi::OsStrExt;
        cfg.comment_char = c.as_bytes().first().copied().unwrap_or(0);
    }
    cfg.args = argv;
    if let Some(m) = args.memory {
        cfg.memory = m;
    }
    cfg.temp_dir = args.temp_dir;

    let inputs = args
        .extra
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = args.scan.options(inputs);
    let mut out = cli::stdout();
    if !opts.is_fast_path() {
        let mut src = select::open_source(&opts)?;
        return stat::run(&cfg, src.as_mut(), &mut out);
    }
    // The fast path: decode, filter and accumulate blocks on all cores;
    // partial reports merge into exactly what the pipe would print.
    let mut proto = stat::new_report(&cfg).map_err(|e| query::Error::Msg(e.to_string()))?;
    let workers = match opts.threads {
        0 => rayon::current_num_threads(),
        n => n,
    };
    proto.limit_memory(&cfg, workers);
    let prepared = select::prepare(&opts)?;
    let selection = &prepared.selection;
    let order = if proto.merges_in_any_order() {
        input::MergeOrder::Any
    } else {
        input::MergeOrder::Input
    };
    // Decode only what the report and the filters read.
    let fields = proto.fields() | selection.fields();
    let report = input::scan(
        &prepared.inputs,
        prepared.window,
        &|batch: &mut Vec<formats::Record>| selection.retain(batch),
        fields,
        opts.threads,
        order,
        || proto.clone(),
        |acc, base, recs| acc.add_batch(base, recs),
        |acc, later| acc.merge(later),
    )?;
    let mut err = std::io::BufWriter::new(std::io::stderr().lock());
    stat::write_report_owned(&cfg, &prepared.header, report, &mut out, &mut err)?;
    use std::io::Write;
    err.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    cli::return_big_frees_to_the_kernel();
    cli::main_wrapper(body)
}
