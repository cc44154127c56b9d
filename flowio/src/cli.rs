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

/// Makes the C allocator hand big blocks (256 KiB and up: hash-table
/// shards, row lists, batches) straight back to the kernel when they are
/// freed. glibc otherwise raises its mmap threshold after the first such
/// free and keeps later big blocks in its heaps, so a report that frees
/// its partial tables as it merges them would not get smaller.
pub fn return_big_frees_to_the_kernel() {
    // SAFETY: mallopt only changes a glibc tunable; it is called before
    // any thread starts.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// An error a tool's body can end with.
pub trait Failure: std::fmt::Display {
    /// True when it is only the reader of our output going away
    /// (`flow-print | head`): the tool then exits 0 quietly.
    fn is_broken_pipe(&self) -> bool;
}

impl Failure for crate::Error {
    fn is_broken_pipe(&self) -> bool {
        crate::Error::is_broken_pipe(self)
    }
}

/// Runs a tool's body: errors are printed once, prefixed by the program
/// name, and give exit status 1; a broken pipe exits 0 quietly.
pub fn main_wrapper<E: Failure>(body: impl FnOnce() -> Result<ExitCode, E>) -> ExitCode {
    match body() {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            warn(&e);
            ExitCode::from(1)
        }
    }
}

/// Warnings printed as they happen, `prog: input: message`.
pub fn printed_warnings() -> crate::Warnings {
    crate::Warnings::live(|w| warn(w))
}

/// C `atoi` as flow-tools' option parsing uses it: leading whitespace, an
/// optional sign, decimal digits up to the first other character (so
/// `abc` is 0). Out-of-range values saturate at the 64-bit limits, like
/// glibc's `strtol`; callers that want an `int` truncate with `as i32`.
pub fn atoi(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add((c - b'0') as i64);
    }
    if neg {
        v.saturating_neg()
    } else {
        v
    }
}

/// A byte count as typed for `--memory`: a number (a fraction allowed)
/// with an optional unit, where `K`, `M`, `G`, `T` are powers of 1024 and
/// `KiB`, `MB`, `1.5G`, `64k` and the like are accepted too. The `parse-size`
/// crate reads it (set to binary units); a value that does not fit is an
/// error, never a wrapped one.
pub fn parse_bytes(s: &str) -> Result<usize, crate::Error> {
    let bad = |why: &dyn std::fmt::Display| crate::Error::Size {
        given: s.to_string(),
        reason: why.to_string(),
    };
    let n = parse_size::Config::new()
        .with_binary()
        .parse_size(s.trim())
        .map_err(|e| bad(&e))?;
    usize::try_from(n).map_err(|e| bad(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        let ok = |s: &str| parse_bytes(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(ok("256M"), 256 << 20);
        assert_eq!(ok("1 GiB"), 1 << 30);
        assert_eq!(ok("0"), 0);
        assert_eq!(ok("64k"), 64 << 10);
        assert_eq!(ok("512"), 512);
        assert_eq!(ok("1MB"), 1 << 20);
        assert_eq!(ok("1.5G"), 3 << 29);
        assert_eq!(ok(" 2g "), 2 << 30);
        for bad in ["lots", "12X", "", "-5", "99999999999999999999G"] {
            let e = parse_bytes(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("bad size {bad:?} (")), "{e}");
            assert!(e.contains("e.g. 256M"), "{e}");
        }
    }
}
