//! flow-import: host-side connection logs (kernel LOG lines from
//! iptables/nftables/UFW, ulogd2 conntrack text and JSON, `conntrack -E`,
//! anetcon) into NetFlow v5 flow records, written as native flow files in
//! flow-capture's 5-minute layout or as an ft stream, so that every query
//! tool works on them. The contract is `spec/conn-logs.md`.
//!
//! Main types: [`Config`] (what to import and how) and [`run`], which
//! returns a [`summary::Report`]; underneath, pure line parsers
//! ([`syslog`], [`iptables`], [`ulogd`], [`conntrack`], [`anetcon`]) that
//! return values or small `Copy` reject reasons, the event model and
//! connection pairing ([`model`]), and the writers ([`mod@write`]).
//! [`lookup`] answers "which inside host used public IP:port at time T"
//! from the NAT rows stored in the written files.
//!
//! The parsers do no I/O and never panic on any input; only [`run`] and
//! [`mod@write`] touch files. Command-line parsing lives in the binaries.
#![deny(missing_docs)]

use std::path::PathBuf;

pub mod anetcon;
mod bytescan;
pub mod conntrack;
mod engine;
pub mod input;
pub mod iptables;
pub mod lookup;
pub mod model;
pub mod summary;
pub mod syslog;
pub mod ulogd;
pub mod write;

/// A xorshift64 generator for the randomized tests (deterministic, so a
/// failure reproduces).
#[cfg(test)]
pub(crate) struct TestRng(pub(crate) u64);

#[cfg(test)]
impl TestRng {
    /// The next 64-bit value.
    pub(crate) fn next(&mut self) -> u64 {
        let x = &mut self.0;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// The next value below `n` (> 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub use engine::{detect_format, run};

/// Input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Kernel LOG lines behind any syslog header.
    Iptables,
    /// ulogd2 PRINTFLOW text (LOGEMU or syslog).
    UlogdText,
    /// ulogd2 JSON.
    UlogdJson,
    /// `conntrack -E` (`-o timestamp[,id]`).
    Conntrack,
    /// anetcon kernel LOG lines (prefix and namespace aware).
    Anetcon,
    /// Decide per file from its first lines.
    Auto,
}

impl Format {
    /// The name used on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Iptables => "iptables",
            Format::UlogdText => "ulogd-text",
            Format::UlogdJson => "ulogd-json",
            Format::Conntrack => "conntrack",
            Format::Anetcon => "anetcon",
            Format::Auto => "auto",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Format, Error> {
        Ok(match s {
            "iptables" | "kernel-log" | "nftables" | "ufw" => Format::Iptables,
            "ulogd-text" | "ulogd-emu" | "ulogd" => Format::UlogdText,
            "ulogd-json" => Format::UlogdJson,
            "conntrack" => Format::Conntrack,
            "anetcon" => Format::Anetcon,
            "auto" => Format::Auto,
            _ => {
                return Err(Error::Invalid {
                    option: "format",
                    given: s.to_string(),
                    expected: "iptables, ulogd-text, ulogd-json, conntrack, anetcon or auto",
                })
            }
        })
    }
}

/// Which records a connection becomes (spec §6.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatMode {
    /// Orig-direction and reply-direction records (default).
    Both,
    /// Orig direction only (inside view).
    Orig,
    /// Reply direction only (outside view).
    Reply,
}

impl std::str::FromStr for NatMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<NatMode, Error> {
        match s {
            "both" => Ok(NatMode::Both),
            "orig" => Ok(NatMode::Orig),
            "reply" => Ok(NatMode::Reply),
            _ => Err(Error::Invalid {
                option: "--nat",
                given: s.to_string(),
                expected: "both, orig or reply",
            }),
        }
    }
}

/// What year-less stamps are resolved against (spec §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The input file's modification time (now for stdin).
    Mtime,
    /// The last line falls in this year.
    Year(i32),
    /// An explicit time, µs since the epoch (UTC).
    At(i64),
}

/// Where records go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Native files in 5-minute slots under this directory.
    Dir(PathBuf),
    /// An ft stream on standard output.
    Stdout,
}

/// A validated import job.
#[derive(Clone, Debug)]
pub struct Config {
    /// Input format (or auto).
    pub format: Format,
    /// Input files; `-` is standard input.
    pub inputs: Vec<PathBuf>,
    /// Output.
    pub output: Output,
    /// Exporter address for hosts not in `exporter_map` and nameless inputs.
    pub exporter_default: Option<std::net::Ipv4Addr>,
    /// Host name -> exporter address.
    pub exporter_map: Vec<(String, std::net::Ipv4Addr)>,
    /// Zone of zone-less stamps, and of the output files' names and slots.
    pub tz: formats::time::Zone,
    /// Year resolution anchor.
    pub anchor: Anchor,
    /// Boot time (µs, UTC) for uptime-only stamps (plain dmesg).
    pub boot_time_us: Option<i64>,
    /// Records per connection.
    pub nat: NatMode,
    /// IPv6 records as text lines to this file.
    pub ipv6_out: Option<PathBuf>,
    /// Every malformed line (file:line: reason: excerpt) to this file.
    pub errors_out: Option<PathBuf>,
    /// anetcon `namespace.hash` file.
    pub namespace_hash: Option<PathBuf>,
    /// Drop exact duplicate lines.
    pub dedupe: bool,
    /// Directory nesting of output files (0..=3).
    pub nesting: u8,
}

impl Config {
    /// Defaults: auto format, UTC, mtime anchor, NAT both, dedupe, nesting 3.
    pub fn new(inputs: Vec<PathBuf>, output: Output) -> Config {
        Config {
            format: Format::Auto,
            inputs,
            output,
            exporter_default: None,
            exporter_map: Vec::new(),
            tz: formats::time::Zone::UTC,
            anchor: Anchor::Mtime,
            boot_time_us: None,
            nat: NatMode::Both,
            ipv6_out: None,
            errors_out: None,
            namespace_hash: None,
            dedupe: true,
            nesting: 3,
        }
    }
}

/// Everything that stops an import.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a path.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Writing a native file failed.
    #[error("{}: {source}", path.display())]
    Native {
        /// The file.
        path: PathBuf,
        /// What the native writer said.
        source: formats::native::NativeError,
    },
    /// A file in the output directory could not be created, finished or
    /// renamed into place.
    #[error(transparent)]
    Archive(#[from] formats::archive::ArchiveError),
    /// Writing the ft stream failed.
    #[error("ft output: {0}")]
    Ft(formats::ft::FtError),
    /// The output pipe was closed by the reader.
    #[error("broken pipe")]
    BrokenPipe,
    /// The input is not (mostly) of the chosen format; nothing was written.
    #[error("{path}: this does not look like {format} input: {detail}")]
    NotFormat {
        /// The input.
        path: String,
        /// The format tried.
        format: &'static str,
        /// Counts and the first lines.
        detail: String,
    },
    /// A bad option value.
    #[error("{option} {given:?}: expected {expected}")]
    Invalid {
        /// The option (`--nesting`) or what the value is (`format`).
        option: &'static str,
        /// The value given.
        given: String,
        /// What it takes.
        expected: &'static str,
    },
    /// A time argument the date parser refused.
    #[error("{option}: {source}")]
    Date {
        /// The option (`--anchor`).
        option: &'static str,
        /// Why.
        source: Box<filterlang::FilterError>,
    },
}

impl Error {
    fn native(path: &std::path::Path, e: formats::native::NativeError) -> Error {
        match e {
            formats::native::NativeError::Io(source) => Error::Io {
                path: path.to_path_buf(),
                source,
            },
            source => Error::Native {
                path: path.to_path_buf(),
                source,
            },
        }
    }

    fn ft(e: formats::ft::FtError) -> Error {
        match e {
            formats::ft::FtError::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
                Error::BrokenPipe
            }
            e => Error::Ft(e),
        }
    }
}
