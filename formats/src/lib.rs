//! Every byte layout of the suite, and the directory the files live in:
//! NetFlow v5 export datagrams ([`v5`]), the one flow type [`Record`], the
//! native flow file format ([`native`], specified in `FORMAT.md`),
//! flow-tools ft files and streams ([`ft`]), the flow directory
//! ([`archive`]: slots, names, nesting, listing, tmp-then-rename, crash
//! recovery) and the one time-zone type ([`time::Zone`]).
//!
//! The main types are [`Record`], [`v5::Packet`], [`ft::FtReader`] /
//! [`ft::FtWriter`], [`native::NativeFile`] / [`native::NativeWriter`] and
//! [`archive::TmpFile`]. This crate does no networking, parses no command
//! lines and prints nothing: its readers return warnings as values for the
//! caller to show. The only files it touches on its own are the flow
//! directory's, in [`archive`].
#![deny(missing_docs)]

pub mod archive;
pub mod ft;
pub mod native;
pub mod record;
pub mod time;
pub mod v5;

pub use record::Record;

/// What a file or stream holds, judged from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    /// A native flow file (see `FORMAT.md`).
    Native,
    /// A flow-tools ft file or stream.
    Ft,
    /// Neither.
    Unknown,
}

/// Tells a native file from an ft file or stream by its magic bytes.
pub fn detect(prefix: &[u8]) -> Detected {
    if prefix.len() >= native::MAGIC.len() && prefix[..native::MAGIC.len()] == native::MAGIC {
        Detected::Native
    } else if prefix.len() >= 2 && prefix[0] == ft::MAGIC1 && prefix[1] == ft::MAGIC2 {
        Detected::Ft
    } else {
        Detected::Unknown
    }
}
