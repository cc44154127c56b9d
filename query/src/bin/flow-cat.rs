//! flow-cat: concatenate flow files, directories and streams into one ft
//! stream (spec §5).

use std::process::ExitCode;

use clap::Parser;
use flowio::cli;
use flowio::input::CollectOptions;
use query::cat::{self, CatConfig};

const USAGE: &str = "Usage: flow-cat [-aghmp] [-b byte_order] [-C comment] [-d debug_level]
       [-o filename] [-t start_time] [-T end_time] [-z z_level]
       file|directory ...";

#[derive(Parser, Debug)]
#[command(disable_help_flag = true, disable_version_flag = true)]
struct Args {
    /// Include tmp* files.
    #[arg(short = 'a')]
    all: bool,
    /// Sort all inputs by capture start in one list.
    #[arg(short = 'g')]
    global: bool,
    /// Help.
    #[arg(short = 'h')]
    help: bool,
    /// Read without mmap (accepted; reading never uses mmap for ft files).
    #[arg(short = 'm')]
    no_mmap: bool,
    /// Preload header counters and times.
    #[arg(short = 'p')]
    preload: bool,
    /// Output byte order: big or little.
    #[arg(short = 'b')]
    byte_order: Option<String>,
    /// Comment for the output header.
    #[arg(short = 'C')]
    comment: Option<String>,
    /// Debug level (accepted, ignored).
    #[arg(short = 'd')]
    debug: Option<u32>,
    /// Output file.
    #[arg(short = 'o')]
    output: Option<std::path::PathBuf>,
    /// Keep files whose capture starts at or before TIME (with -T: the window's low end).
    #[arg(short = 't')]
    t_low: Option<String>,
    /// Keep files whose capture ends at or after TIME (with -t: the window's high end).
    #[arg(short = 'T')]
    t_high: Option<String>,
    /// zlib level 0..9 for the output (0 = none).
    #[arg(short = 'z')]
    zlib: Option<u32>,
    /// Only flows that started at or after TIME: "2026-11-22 03:00", RFC 3339, or -1h (extension).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    since: Option<String>,
    /// Only flows that started before TIME (extension).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    until: Option<String>,
    /// Only flows this expression permits, e.g. '6 eq $protocol' (extension).
    #[arg(short = 'e', long = "expr", value_name = "EXPR")]
    expr: Option<String>,
    /// Files, directories, or - for stdin.
    inputs: Vec<String>,
}

fn usage_exit() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            cli::warn(e.kind());
            return usage_exit();
        }
    };
    if args.help {
        return usage_exit();
    }
    cli::main_wrapper(|| -> Result<ExitCode, query::Error> {
        let byte_order = match args.byte_order.as_deref() {
            None => None,
            Some("big") => Some(formats::ft::ByteOrder::Big),
            Some("little") => Some(formats::ft::ByteOrder::Little),
            Some(other) => return Err(query::Error::BadByteOrder(other.to_string())),
        };
        let zlib_level = args.zlib.unwrap_or(0);
        if zlib_level > 9 {
            return Err(query::Error::BadZlibLevel(zlib_level));
        }
        let now = chrono::Utc::now().timestamp();
        let parse = |s: &Option<String>,
                     option: &'static str|
         -> Result<Option<i64>, query::Error> {
            s.as_deref()
                .map(|t| {
                    flowio::timeparse::parse_time(t, now).map_err(|reason| query::Error::BadTime {
                        option,
                        given: t.to_string(),
                        reason: reason.to_string(),
                    })
                })
                .transpose()
        };
        let cfg = CatConfig {
            inputs: args.inputs.clone(),
            collect: CollectOptions {
                include_tmp: args.all,
                global_sort: args.global,
                warnings: flowio::cli::printed_warnings(),
            },
            preload: args.preload,
            byte_order,
            comment: args.comment.clone(),
            output: args.output.clone(),
            zlib_level,
            t_low: parse(&args.t_low, "-t")?,
            t_high: parse(&args.t_high, "-T")?,
            window: flowio::select::ScanOptions {
                since: args.since.clone(),
                until: args.until.clone(),
                ..Default::default()
            }
            .window()?,
            selection: args
                .expr
                .as_deref()
                .map(|e| {
                    let warnings = flowio::cli::printed_warnings();
                    flowio::select::load_selection(None, None, Some(e), &[], None, &warnings)
                })
                .transpose()?,
        };
        let _ = (args.no_mmap, args.debug);
        cat::run(&cfg)
    })
}
