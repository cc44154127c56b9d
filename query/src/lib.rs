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

/// Errors of the query tools.
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
    /// Anything else, already worded for the user.
    #[error("{0}")]
    Msg(String),
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
