//! flow-header: prints the header of flow files in flow-print `-p` form:
//! capture times, counters (flows, lost, corrupt, resets), exporters.
//!
//! `flow-header [-h] [-c comment_char] [-d debug_level] [file|directory|- ...]`
//!
//! Without arguments it reads the header of the ft stream on stdin and
//! prints exactly what flow-tools' flow-header prints. With arguments,
//! every file (directories are walked, `tmp` files included) gets its own
//! block, opened by a `file:` line; native files list their exporters.
//! An input whose header cannot be read is reported and skipped, and the
//! exit status is then 1.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use flowio::cli;
use flowio::input::{self, CollectOptions};
use query::header_print::{write_header_block, write_input_header};

const USAGE: &str = "Usage: flow-header [-h] [-c comment_char] [-d debug_level] [file ...]\n";

#[derive(Parser, Debug)]
#[command(
    name = "flow-header",
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true
)]
struct Args {
    /// Print the usage.
    #[arg(short = 'h')]
    help: bool,
    /// Comment character (its first character).
    #[arg(short = 'c', allow_hyphen_values = true)]
    comment: Option<OsString>,
    /// Debug level (accepted and ignored).
    #[arg(short = 'd', allow_hyphen_values = true)]
    debug: Option<OsString>,
    /// Files, directories, or `-` for stdin (default: stdin).
    inputs: Vec<OsString>,
}

fn usage() {
    let _ = std::io::stderr().lock().write_all(USAGE.as_bytes());
}

fn main() -> ExitCode {
    cli::main_wrapper(|| -> Result<ExitCode, query::Error> {
        let args = match Args::try_parse() {
            Ok(a) => a,
            Err(e) => {
                // getopt's '?' is help here too: usage, exit 0.
                let msg = e.to_string();
                let first = msg.lines().next().unwrap_or("invalid option");
                cli::warn(first.trim_start_matches("error: "));
                usage();
                return Ok(ExitCode::SUCCESS);
            }
        };
        if args.help {
            usage();
            return Ok(ExitCode::SUCCESS);
        }
        let cc = match &args.comment {
            Some(c) => c.to_string_lossy().chars().next().unwrap_or('\0'),
            None => '#',
        };
        let mut out = cli::stdout();
        let warnings = cli::printed_warnings();
        if args.inputs.is_empty() {
            let src = input::open_stdin(&warnings)?;
            use flowio::input::RecordSource;
            write_header_block(&mut out, src.header(), cc)?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        let opts = CollectOptions {
            include_tmp: true,
            global_sort: false,
            warnings: warnings.clone(),
        };
        let mut failed = false;
        for arg in &args.inputs {
            let arg = arg.to_string_lossy().into_owned();
            let list = input::collect(std::slice::from_ref(&arg), &opts);
            let inputs: Vec<_> = list.into_iter().flatten().collect();
            let is_dir = std::fs::metadata(&arg).map(|m| m.is_dir()).unwrap_or(false);
            if inputs.is_empty() && !is_dir {
                failed = true;
            }
            for inp in inputs {
                if inp.path.is_none() {
                    // "-": the stream on stdin.
                    match input::open_stdin(&warnings) {
                        Ok(src) => {
                            use flowio::input::RecordSource;
                            write_input_header(&mut out, Some("-"), src.header(), &[], cc)?;
                        }
                        Err(flowio::Error::Ft(e)) => {
                            cli::warn(format_args!("-: {e}"));
                            failed = true;
                        }
                        Err(e) => return Err(e.into()),
                    }
                    continue;
                }
                let exporters: &[u32] = match &inp.native {
                    Some(nf) => &nf.header().exporters,
                    None => &[],
                };
                write_input_header(&mut out, Some(&inp.display), &inp.header, exporters, cc)?;
            }
        }
        out.flush()?;
        Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}
