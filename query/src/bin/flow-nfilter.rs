//! flow-nfilter: keep the flows a filter.cfg definition permits (spec §8).

use std::process::ExitCode;

use clap::Parser;
use flowio::cli;
use query::nfilter::{self, NfilterConfig};

const USAGE: &str = "Usage: flow-nfilter [hk] [-b big|little] [-C comment]
       [-d debug_level] [-f filter_fname] [-F filter_definition]
       [-z z_level]";

/// Where flow-tools installs its filter.cfg.
const DEFAULT_CONFIG: &str = "/usr/local/flow-tools/etc/cfg/filter.cfg";

#[derive(Parser, Debug)]
#[command(disable_help_flag = true, disable_version_flag = true)]
struct Args {
    #[arg(short = 'h')]
    help: bool,
    /// Keep the input's capture times in the output header.
    #[arg(short = 'k')]
    keep: bool,
    #[arg(short = 'b')]
    byte_order: Option<String>,
    #[arg(short = 'C')]
    comment: Option<String>,
    #[arg(short = 'd')]
    debug: Option<u32>,
    /// Filter configuration file.
    #[arg(short = 'f')]
    config: Option<std::path::PathBuf>,
    /// Filter definition.
    #[arg(short = 'F')]
    definition: Option<String>,
    /// Variable for the configuration: NAME=value.
    #[arg(short = 'v')]
    vars: Vec<String>,
    #[arg(short = 'z')]
    zlib: Option<u32>,
    /// Inline expression (extension), e.g. '6 ne $protocol'.
    #[arg(short = 'e')]
    expr: Option<String>,
    /// Only flows that started at or after TIME (extension).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    since: Option<String>,
    /// Only flows that started before TIME (extension).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    until: Option<String>,
    /// Symbol table directory (else FLOWTOOLS_SYMDIR).
    #[arg(long = "symdir")]
    symdir: Option<std::path::PathBuf>,
    /// Input files or directories (extension; default stdin).
    inputs: Vec<String>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            cli::warn(e.kind());
            eprintln!("{USAGE}");
            return ExitCode::from(1);
        }
    };
    if args.help {
        eprintln!("{USAGE}");
        return ExitCode::from(1);
    }
    cli::main_wrapper(|| -> Result<ExitCode, query::Error> {
        let byte_order = match args.byte_order.as_deref() {
            None => None,
            Some("big") => Some(formats::ft::ByteOrder::Big),
            Some("little") => Some(formats::ft::ByteOrder::Little),
            Some(o) => return Err(query::Error::BadByteOrder(o.to_string())),
        };
        let mut vars = Vec::new();
        for v in &args.vars {
            match v.split_once('=') {
                Some((k, val)) => vars.push((k.to_string(), val.to_string())),
                None => return Err(query::Error::BadVariable(v.clone())),
            }
        }
        let zlib_level = args.zlib.unwrap_or(0);
        if zlib_level > 9 {
            return Err(query::Error::BadZlibLevel(zlib_level));
        }
        let _ = args.debug;
        let cfg = NfilterConfig {
            config_file: args.config.clone().unwrap_or_else(|| DEFAULT_CONFIG.into()),
            definition: args.definition.clone().unwrap_or_else(|| "default".into()),
            use_definition: args.definition.is_some()
                || args.config.is_some()
                || (args.expr.is_none() && args.since.is_none() && args.until.is_none()),
            expression: args.expr.clone(),
            vars,
            byte_order,
            comment: args.comment.clone(),
            zlib_level,
            warnings: flowio::cli::printed_warnings(),
            keep_times: args.keep,
            window: flowio::select::ScanOptions {
                since: args.since.clone(),
                until: args.until.clone(),
                ..Default::default()
            }
            .window()?,
            symdir: args.symdir.clone(),
            inputs: args.inputs.clone(),
        };
        nfilter::run(&cfg)
    })
}
