//! Conventions every binary shares: the program name from `argv[0]`,
//! `prog: message` diagnostics, quiet exit on a broken pipe.

use std::io::{self, Write};
use std::process::ExitCode;

/// The basename of `argv[0]`, as flow-tools prefixes its messages with it.
pub fn prog_name() -> String {
    std::env::args_os()
        .next()
        .map(|a| {
            let s = a.to_string_lossy().into_owned();
            s.rsplit('/').next().unwrap_or(&s).to_string()
        })
        .unwrap_or_else(|| "flow-tools".to_string())
}

/// Prints `prog: msg` on stderr.
pub fn warn(msg: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{}: {}", prog_name(), msg);
}

/// True when `e` (or its cause) is a broken pipe: the reader went away
/// (`flow-print | head`), which is not an error.
pub fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// A buffered, locked stdout.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(256 * 1024, io::stdout().lock())
}

/// Runs a tool's body: errors are printed once, prefixed by the program
/// name, and give exit status 1; a broken pipe exits 0 quietly.
pub fn main_wrapper(body: impl FnOnce() -> Result<ExitCode, crate::Error>) -> ExitCode {
    match body() {
        Ok(code) => code,
        Err(crate::Error::Io(e)) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(crate::Error::Ft(formats::ft::FtError::Io(e))) if is_broken_pipe(&e) => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            warn(&e);
            ExitCode::from(1)
        }
    }
}
