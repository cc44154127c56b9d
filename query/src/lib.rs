//! The query suite's logic, shared by the `flow-*` binaries: where flows
//! come from ([`input`]: stdin streams, files, directories, time windows),
//! and what is made of them ([`print`](mod@print) for flow-print's formats, [`stat`](mod@stat)
//! for flow-stat's reports, [`cat`], [`nfilter`]).
//!
//! Binaries stay thin: they parse arguments and call a `run` function here,
//! which writes to a buffered sink. Nothing in this crate does networking.
#![deny(missing_docs)]

pub mod alert;
pub mod cat;
pub mod cli;
pub mod dump;
pub mod gen;
pub mod header_print;
pub mod input;
pub mod nfilter;
pub mod print;
pub mod select;
pub mod stat;
pub mod timefmt;
pub mod timeparse;

/// Errors of the query tools.
#[derive(Debug, thiserror::Error)]
pub enum Error {
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
