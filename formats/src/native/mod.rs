//! Native flow files: a small self-describing header, then independently
//! zstd-compressed blocks of records in a byte-plane columnar layout, then a
//! trailer carrying the final counters. The layout is specified in
//! `formats/FORMAT.md`; this module is its only implementation.
//!
//! Writing: [`NativeWriter`] buffers records and emits one block every
//! [`WriterOptions::block_records`] records or on [`NativeWriter::flush_block`];
//! [`NativeWriter::finish`] appends the trailer and hands the sink back so the
//! caller can fsync and rename. The file is only ever appended to, so a
//! reader never sees a torn header.
//!
//! Reading: [`NativeFile::open`] parses the header and indexes every block
//! header (no decompression), collecting [`NativeWarning`]s for truncation
//! and corruption; [`NativeFile::decode_block`] decodes one block and takes
//! `&self`, so blocks can be decoded in parallel. Nothing here panics on
//! malformed input, and every length read from disk is bounded first.

mod block;
mod columns;
mod header;
mod reader;
mod runs;
mod writer;

pub use block::BlockInfo;
pub use columns::{Fields, Scratch};
pub use header::NativeHeader;
pub use reader::{NativeFile, NativeWarning};
pub use writer::{NativeWriter, SyncData, WriterOptions};

/// Magic bytes at offset 0 of every native flow file.
///
/// PNG-style: the high-bit first byte catches 7-bit transports, the CR LF
/// pair catches newline translation.
pub const MAGIC: [u8; 8] = *b"\x89NFLOW\r\n";

/// The format version this code writes and the only one it reads.
pub const FORMAT_VERSION: u16 = 1;

/// Largest accepted encoded header (or trailer) body, in bytes.
pub const MAX_HEADER_BODY: usize = 1 << 20;

/// Largest number of records one block may hold (writers clamp to it,
/// readers reject block headers claiming more).
pub const MAX_BLOCK_RECORDS: usize = 1 << 17;

/// Default number of records per block.
pub const DEFAULT_BLOCK_RECORDS: usize = 8192;

/// Default zstd compression level.
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;

/// Opens a read-only memory map of `file`, for [`NativeFile::open`].
///
/// This is the crate's one `unsafe` mmap. Its safety rule, which the whole
/// suite keeps: a flow file is never truncated or rewritten in place. The
/// collector only appends to its `tmp-` file, `finish()`es it, then renames
/// it to its final name, after which nobody writes to it again; pruning
/// deletes files (an unlink keeps the mapped pages alive). Appending while
/// mapped is fine: the map covers the length seen at mapping time and bytes
/// inside it are never changed afterwards. A file truncated by someone
/// outside the suite while mapped can make the process die with SIGBUS; a
/// caller that cannot rule that out reads the file with `std::fs::read`
/// instead (the reader is generic over its bytes).
pub fn mmap_file(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: see the rule above: mapped bytes of a flow file are never
    // modified or truncated while the map lives (files are append-only and
    // replaced by rename, never rewritten).
    unsafe { memmap2::Mmap::map(file) }
}

/// Everything that can go wrong writing or reading a native flow file.
///
/// Truncation and corruption met while indexing blocks are not errors but
/// [`NativeWarning`]s: the reader keeps every block it can.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// An I/O error from the underlying sink or source.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The file does not start with [`MAGIC`].
    #[error("not a native flow file: bad magic {got:02x?}")]
    BadMagic {
        /// The first bytes found (zero-padded if the file is shorter).
        got: [u8; 8],
    },
    /// The file's format version is not one this code reads.
    #[error("expected format version {expected}, got {got}")]
    Version {
        /// The version this code reads ([`FORMAT_VERSION`]).
        expected: u16,
        /// The version found in the file.
        got: u16,
    },
    /// The file ends before a structure that must be complete.
    #[error(
        "truncated {what} at byte offset {offset}: need {needed} bytes, {available} available"
    )]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset of the structure.
        offset: u64,
        /// Bytes needed.
        needed: u64,
        /// Bytes present.
        available: u64,
    },
    /// A length or count read from disk is out of its allowed range.
    #[error("{what} at byte offset {offset} is {got}, more than the maximum {max}")]
    Length {
        /// Which length.
        what: &'static str,
        /// Byte offset of the structure holding it.
        offset: u64,
        /// The value found.
        got: u64,
        /// The largest accepted value.
        max: u64,
    },
    /// A checksum does not match (header, block header or block payload).
    #[error("{what} checksum mismatch at byte offset {offset}: expected {expected:#010x}, got {got:#010x}")]
    Checksum {
        /// What the checksum covers.
        what: &'static str,
        /// Byte offset of the checksummed structure.
        offset: u64,
        /// The checksum stored in the file.
        expected: u32,
        /// The checksum computed over the bytes read.
        got: u32,
    },
    /// A structure is malformed in a way no length or checksum explains.
    #[error("malformed {what} at byte offset {offset}")]
    Malformed {
        /// What is malformed.
        what: &'static str,
        /// Byte offset of the structure.
        offset: u64,
    },
    /// A block's codec byte names no codec this code knows.
    #[error("block at byte offset {offset} uses unknown codec {codec}")]
    UnknownCodec {
        /// Byte offset of the block header.
        offset: u64,
        /// The codec byte found.
        codec: u8,
    },
    /// zstd refused to decompress a payload whose checksum was correct.
    #[error("block at byte offset {offset} does not decompress: {reason}")]
    Decompress {
        /// Byte offset of the block header.
        offset: u64,
        /// zstd's explanation.
        reason: String,
    },
    /// A writer option is out of range.
    #[error("invalid writer option {what}: {got}")]
    Option {
        /// Which option.
        what: &'static str,
        /// The value given.
        got: i64,
    },
}

#[cfg(test)]
mod tests;
