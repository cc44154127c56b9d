//! The query tools' logic: what is made of the flows [`flowio`] reads —
//! [`print`](mod@print) for flow-print's formats, [`stat`](mod@stat) for
//! flow-stat's reports (with the fast path and its memory bound), [`cat`],
//! [`nfilter`], [`dump`] and [`header_print`].
//!
//! Binaries stay thin: they parse arguments and call a `run` function here,
//! which writes to a buffered sink. Nothing in this crate does networking.
#![deny(missing_docs)]

pub mod cat;
pub mod dump;
pub mod header_print;
pub mod nfilter;
pub mod print;
pub mod stat;
pub mod timefmt;

use std::path::PathBuf;

/// Errors of the query tools. Each variant carries what went wrong as
/// values; its text is the message the tool prints after `prog: `.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the flows failed.
    #[error("{0}")]
    Read(#[from] flowio::Error),
    /// An ft stream could not be read.
    #[error("{0}")]
    Ft(#[from] formats::ft::FtError),
    /// Input/output failure (a broken pipe is handled by the caller).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// `-f` names a format the tool does not have (flow-print, flow-stat).
    /// The text carries flow-tools' trailing newline.
    #[error("No such format, {0}\n")]
    NoSuchFormat(i64),
    /// None of the inputs could be opened (flow-nfilter).
    #[error("no readable input")]
    NoReadableInput,
    /// An input's export version differs from the first input's, and one
    /// ft stream cannot hold both (flow-cat).
    #[error(
        "{input}: export version {got} differs from the first input's {first}; cannot mix them in one stream"
    )]
    MixedVersions {
        /// The input, as named.
        input: String,
        /// Its export version.
        got: u16,
        /// The first input's export version.
        first: u16,
    },
    /// An output file could not be created.
    #[error("{}: cannot create: {}", path.display(), flowio::input::io_reason(source))]
    Create {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `-b` is neither `big` nor `little`.
    #[error("-b {0}: expected \"big\" or \"little\"")]
    BadByteOrder(String),
    /// `-z` is above 9.
    #[error("-z {0}: compression level must be between 0 and 9")]
    BadZlibLevel(u32),
    /// A time option could not be read.
    #[error("{option}: {reason}")]
    BadTime {
        /// The option (`-t`).
        option: &'static str,
        /// What was given.
        given: String,
        /// Why it was refused.
        reason: String,
    },
    /// A `-v` binding is not `NAME=value`.
    #[error("-v {0}: expected NAME=value")]
    BadVariable(String),
}

impl flowio::cli::Failure for Error {
    fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Read(e) => e.is_broken_pipe(),
            Error::Io(e) | Error::Ft(formats::ft::FtError::Io(e)) => flowio::cli::is_broken_pipe(e),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowio::cli::Failure;

    fn enoent() -> std::io::Error {
        std::io::Error::from_raw_os_error(libc::ENOENT)
    }

    #[test]
    fn messages_keep_their_words() {
        let cases: Vec<(Error, &str)> = vec![
            (Error::NoSuchFormat(99), "No such format, 99\n"),
            (Error::NoReadableInput, "no readable input"),
            (
                Error::MixedVersions {
                    input: "a.ft".into(),
                    got: 7,
                    first: 5,
                },
                "a.ft: export version 7 differs from the first input's 5; cannot mix them in one stream",
            ),
            (
                Error::Create {
                    path: "/no/dir/out.ft".into(),
                    source: enoent(),
                },
                "/no/dir/out.ft: cannot create: No such file or directory",
            ),
            (
                Error::BadByteOrder("middle".into()),
                "-b middle: expected \"big\" or \"little\"",
            ),
            (
                Error::BadZlibLevel(12),
                "-z 12: compression level must be between 0 and 9",
            ),
            (
                Error::BadTime {
                    option: "-t",
                    given: "soon".into(),
                    reason: "cannot parse".into(),
                },
                "-t: cannot parse",
            ),
            (Error::BadVariable("X".into()), "-v X: expected NAME=value"),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want, "{e:?}");
        }
    }

    #[test]
    fn only_a_broken_pipe_is_quiet() {
        let pipe = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(Error::Io(pipe()).is_broken_pipe());
        assert!(Error::Ft(formats::ft::FtError::Io(pipe())).is_broken_pipe());
        assert!(Error::Read(flowio::Error::Io(pipe())).is_broken_pipe());
        assert!(!Error::Io(enoent()).is_broken_pipe());
        let create = Error::Create {
            path: "x".into(),
            source: pipe(),
        };
        assert!(!create.is_broken_pipe(), "an output file is not the reader");
        assert!(!Error::NoReadableInput.is_broken_pipe());
    }
}
