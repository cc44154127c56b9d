//! The test bed: what tests and benchmarks feed the suite with.
//!
//! - [`gen`]: deterministic synthetic NetFlow v5 flows (`flow-gen`), a pure
//!   function of a seed and a datagram index, written as ft streams, ft
//!   files or native files per 5-minute slot.
//! - [`send`]: stored flows played back to a collector as v5 datagrams
//!   over UDP (`flow-send`), loopback only unless explicitly allowed.
//!
//! - [`Error`]: why either tool stopped, one variant per cause.
//!
//! Nothing in the collector or the query tools depends on this crate; it
//! depends on theirs (`formats`, `flowio`) the way a user's tools would.
#![deny(missing_docs)]

pub mod gen;
pub mod send;

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;

use formats::ft::FtError;
use formats::native::NativeError;

/// Why flow-gen or flow-send stopped. Each variant carries what went wrong
/// as values; its text is the message the tool prints.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file of the flow directory (`--split-5min`) could not be written.
    #[error("{0}")]
    Archive(#[from] formats::archive::ArchiveError),
    // flow-gen's options and model.
    /// A `--src-pool`/`--dst-pool` prefix has a bad address.
    #[error("bad address '{addr}' in prefix '{prefix}'")]
    BadPrefixAddress {
        /// The address part.
        addr: String,
        /// The whole prefix.
        prefix: String,
    },
    /// A prefix has a length that is not 0..=32.
    #[error("bad prefix length '{len}' in '{prefix}' (0..=32)")]
    BadPrefixLength {
        /// The length part.
        len: String,
        /// The whole prefix.
        prefix: String,
    },
    /// A prefix list without a prefix.
    #[error("empty prefix list '{0}'")]
    EmptyPrefixList(String),
    /// `--exporters N` out of range.
    #[error("--exporters {0}: need 1..=65536")]
    ExporterCount(u32),
    /// An `--exporters` entry is not an IPv4 address.
    #[error("--exporters: bad address '{0}'")]
    BadExporter(String),
    /// `--exporters` lists nothing.
    #[error("--exporters: empty list")]
    EmptyExporterList,
    /// A generator without exporters.
    #[error("at least one exporter is needed")]
    NoExporters,
    /// `--start` is a date outside what `unix_secs` holds.
    #[error("--start '{0}' is outside 1970..2106")]
    StartOutOfRange(String),
    /// `--start` is neither unix seconds nor a date and time.
    #[error("--start '{0}': expected unix seconds or 'YYYY-MM-DD HH:MM:SS' (UTC)")]
    BadStart(String),
    /// `--rate` is not a positive number.
    #[error("--rate {0}: must be a positive number")]
    BadRate(f64),
    /// The flows would run past what `unix_secs` holds.
    #[error(
        "{count} flows at {rate} flows/s from the start time run past the year 2106 (unix_secs is 32 bits)"
    )]
    PastYear2106 {
        /// `--count`.
        count: u64,
        /// `--rate`.
        rate: f64,
    },
    /// `--split-5min` without `-o DIR`.
    #[error("--split-5min needs -o DIR")]
    SplitNeedsDir,
    /// Native output without `-o FILE`.
    #[error("native output needs -o FILE (it is not a stream format)")]
    NativeNeedsFile,
    /// `-z` above 9, or for an output that is not an ft file.
    #[error("-z 0..9 applies to ft files (-o FILE) only")]
    BadZlib(u32),
    /// flow-gen's stdout is a terminal.
    #[error("refusing to write binary flows to a terminal; redirect stdout or use -o FILE")]
    Terminal,

    // flow-gen's output.
    /// An ft stream or file could not be written.
    #[error("{0}")]
    FtWrite(FtError),
    /// A native file could not be written.
    #[error("{0}")]
    NativeWrite(NativeError),
    /// An output file or directory operation failed.
    #[error("{}: {source}", path.display())]
    Output {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Writing the output failed (a broken pipe is handled by the caller).
    #[error("{0}")]
    Io(#[from] io::Error),

    // flow-send.
    /// The destination is not `host:port`, `host/port` or `local/remote/port`.
    #[error("bad destination '{given}': {why}")]
    BadDestination {
        /// What was given.
        given: String,
        /// What is wrong with it.
        why: String,
    },
    /// The destination is not a loopback address and remote sending was
    /// not allowed.
    #[error(
        "refusing to send to {dest}: not a loopback address (use --allow-remote to send elsewhere)"
    )]
    NotLoopback {
        /// The destination.
        dest: SocketAddrV4,
    },
    /// A numeric option is out of range.
    #[error("{what} {got}: {why}")]
    BadOption {
        /// The option.
        what: &'static str,
        /// The value given.
        got: f64,
        /// The accepted range.
        why: &'static str,
    },
    /// A `--from` address list entry is not an IPv4 address.
    #[error("bad source address '{0}' in --from")]
    BadSource(String),
    /// A UDP socket could not be bound to a source address.
    #[error("cannot bind a UDP socket to {addr}: {source}")]
    Bind {
        /// The source address.
        addr: Ipv4Addr,
        /// The OS error.
        source: io::Error,
    },
    /// Sending a datagram failed.
    #[error("send from {from} to {to} failed: {source}")]
    Send {
        /// Source address.
        from: Ipv4Addr,
        /// Destination.
        to: SocketAddrV4,
        /// The OS error.
        source: io::Error,
    },
    /// An input could not be opened or read.
    #[error("{path}: {source}")]
    Input {
        /// The input (`-` for stdin).
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// An input is neither an ft stream nor a native file.
    #[error("{path}: not a flow file (neither an ft stream nor a native flow file)")]
    UnknownFormat {
        /// The input.
        path: String,
    },
    /// An ft input is malformed.
    #[error("{path}: {source}")]
    Ft {
        /// The input.
        path: String,
        /// The reader's error.
        source: FtError,
    },
    /// A native input is malformed.
    #[error("{path}: {source}")]
    Native {
        /// The input.
        path: String,
        /// The reader's error.
        source: NativeError,
    },
    /// A line of a hex dump is malformed.
    #[error("{path}:{line}: {why}")]
    HexLine {
        /// The dump file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: String,
    },
}

impl flowio::cli::Failure for Error {
    fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Io(e) | Error::FtWrite(FtError::Io(e)) => flowio::cli::is_broken_pipe(e),
            _ => false,
        }
    }
}
