//! flow-print: prints the flows of an ft stream on stdin as text.
//!
//! `flow-print [-hlnpw] [-c char] [-d N] [-f format] < stream`, parsed the
//! way flow-tools' getopt loop does: `-h` and unknown options print the
//! usage and exit 0. As an extension, files and directories may be named
//! instead of the stream, with `--since/--until`, `--filter-file/--filter`
//! and `-e`.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use flowio::{cli, select};
use query::print::{self, PrintConfig};

use flowio::args as common;

const USAGE: &str = "Usage: flow-print [-hlnpw] [-d debug_level] [-f format]\n";

#[derive(Parser, Debug)]
#[command(
    name = "flow-print",
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true
)]
struct Args {
    /// Print the usage.
    #[arg(short = 'h')]
    help: bool,
    /// Flush after every line.
    #[arg(short = 'l')]
    line_flush: bool,
    /// Symbolic names for protocols, ports and AS numbers.
    #[arg(short = 'n')]
    names: bool,
    /// Print the stream header first.
    #[arg(short = 'p')]
    header: bool,
    /// Wide variants of formats 3 and 4.
    #[arg(short = 'w')]
    wide: bool,
    /// Comment character of the header block (its first character).
    #[arg(short = 'c', allow_hyphen_values = true)]
    comment: Option<OsString>,
    /// Debug level (accepted and ignored).
    #[arg(short = 'd', allow_hyphen_values = true)]
    debug: Option<OsString>,
    /// Output format number.
    #[arg(short = 'f', allow_hyphen_values = true)]
    format: Option<OsString>,
    /// Fast path: time window, filter, expression.
    #[command(flatten)]
    scan: common::ScanArgs,
    /// Files or directories to read (extension; default: the stream on stdin).
    extra: Vec<OsString>,
}

/// C `atoi` of an option value.
fn atoi(s: &OsString) -> i64 {
    cli::atoi(&s.to_string_lossy())
}

fn usage() {
    let _ = std::io::stderr().lock().write_all(USAGE.as_bytes());
}

fn main() -> ExitCode {
    cli::main_wrapper(|| -> Result<ExitCode, query::Error> {
        let args = match Args::try_parse() {
            Ok(a) => a,
            Err(e) => {
                cli::warn(common::getopt_complaint(&e));
                usage();
                return Ok(ExitCode::SUCCESS);
            }
        };
        if args.help {
            usage();
            return Ok(ExitCode::SUCCESS);
        }
        let comment_char = args
            .comment
            .as_ref()
            .and_then(|c| c.to_string_lossy().chars().next())
            .unwrap_or(if args.comment.is_some() { '\0' } else { '#' });
        let cfg = PrintConfig {
            format: args.format.as_ref().map(atoi),
            names: args.names,
            wide: args.wide,
            header: args.header,
            comment_char,
            line_flush: args.line_flush,
            symbol_dir: args.scan.symdir.clone(),
            warnings: cli::printed_warnings(),
        };
        print::check_format(cfg.format)?;
        let inputs = args
            .extra
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let mut src = select::open_source(&args.scan.options(inputs))?;
        let mut out = cli::stdout();
        let code = print::run(&cfg, src.as_mut(), &mut out, &mut std::io::stderr())?;
        out.flush()?;
        Ok(code)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("flow-print").chain(argv.iter().copied()))
    }

    #[test]
    fn getopt_forms() {
        let a = parse(&["-f5"]).unwrap();
        assert_eq!(a.format.as_ref().map(atoi), Some(5));
        let a = parse(&["-pnf", "4", "-w"]).unwrap();
        assert!(a.header && a.names && a.wide);
        assert_eq!(a.format.as_ref().map(atoi), Some(4));
        let a = parse(&["-f", "3", "-f", "6"]).unwrap();
        assert_eq!(a.format.as_ref().map(atoi), Some(6));
        let a = parse(&["-c", "%", "-d", "-1"]).unwrap();
        assert_eq!(a.comment, Some("%".into()));
        let a = parse(&["-f", "-1"]).unwrap();
        assert_eq!(a.format.as_ref().map(atoi), Some(-1));
        let a = parse(&["small.ft"]).unwrap();
        assert_eq!(a.extra, vec![OsString::from("small.ft")]);
    }

    #[test]
    fn bad_options() {
        let e = parse(&["-x"]).unwrap_err();
        assert_eq!(common::getopt_complaint(&e), "invalid option -- 'x'");
        assert!(parse(&["-f"]).is_err());
        assert!(parse(&["--help"]).is_err());
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi(&"12abc".into()), 12);
        assert_eq!(atoi(&"abc".into()), 0);
        assert_eq!(atoi(&"  -7".into()), -7);
        assert_eq!(atoi(&"".into()), 0);
    }
}
