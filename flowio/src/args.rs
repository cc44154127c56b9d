//! The clap arguments of the fast path, shared by every reading tool
//! (feature `clap`; the library itself parses no command lines).

use std::path::PathBuf;

use crate::select::ScanOptions;
use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Fast-path options: time window, selection, workers.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ScanArgs {
    /// Only flows that started at or after TIME (e.g. "2026-11-22 03:00", RFC 3339, -1h).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub since: Option<String>,
    /// Only flows that started before TIME.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub until: Option<String>,
    /// A flow-tools filter.cfg to take --filter from.
    #[arg(long = "filter-file", value_name = "FILE")]
    pub filter_file: Option<PathBuf>,
    /// The filter definition to apply (from --filter-file).
    #[arg(long, value_name = "DEF")]
    pub filter: Option<String>,
    /// An inline expression, e.g. '6 ne $protocol && 17 ne $protocol'.
    #[arg(short = 'e', long = "expr", value_name = "EXPR")]
    pub expr: Option<String>,
    /// Worker threads for file inputs (0 = all cores).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Directory of flow-tools symbol tables (else FLOWTOOLS_SYMDIR).
    #[arg(long, value_name = "DIR")]
    pub symdir: Option<PathBuf>,
    /// Also read tmp- files that are still being written.
    #[arg(long = "include-tmp")]
    pub include_tmp: bool,
}

impl ScanArgs {
    /// The library's options for these arguments and `inputs`.
    pub fn options(&self, inputs: Vec<String>) -> ScanOptions {
        ScanOptions {
            inputs,
            since: self.since.clone(),
            until: self.until.clone(),
            filter_file: self.filter_file.clone(),
            filter: self.filter.clone(),
            expr: self.expr.clone(),
            vars: Vec::new(),
            threads: self.threads,
            symdir: self.symdir.clone(),
            include_tmp: self.include_tmp,
            warnings: crate::cli::printed_warnings(),
            progress: true,
        }
    }
}

/// getopt's complaint for a command line clap rejected, in the words
/// flow-tools' tools print before their usage text.
pub fn getopt_complaint(e: &clap::Error) -> String {
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let opt = arg.trim_start_matches('-');
    let opt = opt.split([' ', '=', '<']).next().unwrap_or(opt);
    match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::WrongNumberOfValues | ErrorKind::NoEquals => {
            format!("option requires an argument -- '{opt}'")
        }
        ErrorKind::InvalidUtf8 => "invalid argument encoding".to_string(),
        // A long option of ours with a value it cannot take: clap's words.
        ErrorKind::ValueValidation => {
            let msg = e.to_string();
            let line = msg.lines().next().unwrap_or_default();
            line.trim_start_matches("error: ").to_string()
        }
        _ if arg.starts_with("--") => format!("unrecognized option '{arg}'"),
        _ if arg.is_empty() => "invalid option".to_string(),
        _ => format!("invalid option -- '{opt}'"),
    }
}
