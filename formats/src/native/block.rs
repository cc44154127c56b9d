//! The 48-byte block header that frames every block (records or trailer).

pub(crate) use super::columns::{max_raw_len, max_stored_len};
use super::MAX_BLOCK_RECORDS;

/// Sync marker opening every block header; a reader that lost its place
/// scans forward for it (see `FORMAT.md`, "Resynchronisation").
pub(crate) const SYNC: [u8; 8] = *b"\x89NFBLK\r\n";

/// Length of a block header.
pub(crate) const BLOCK_HEADER_LEN: usize = 48;

/// Block kind: records.
pub(crate) const KIND_RECORDS: u8 = 1;
/// Block kind: trailer (final header body).
pub(crate) const KIND_TRAILER: u8 = 2;

/// Codec: payload stored as is (trailer).
pub(crate) const CODEC_STORED: u8 = 0;
/// Codec: zstd over the byte-plane columnar layout.
pub(crate) const CODEC_ZSTD_PLANES: u8 = 1;

/// Where one block sits in the file and what it covers; found by
/// [`super::NativeFile::open`] without decompressing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// Byte offset of the block header in the file.
    pub offset: u64,
    /// Records in the block.
    pub records: u32,
    /// Smallest [`crate::Record::start_ms`] in the block.
    pub min_start_ms: i64,
    /// Largest [`crate::Record::end_ms`] in the block.
    pub max_end_ms: i64,
    /// Payload bytes stored on disk, after the 48-byte block header.
    pub stored_len: u32,
    /// Payload bytes after decompression.
    pub raw_len: u32,
    /// CRC-32 of the stored payload.
    pub payload_crc: u32,
    /// Codec byte (1 = zstd over byte planes).
    pub codec: u8,
}

impl BlockInfo {
    /// Total bytes the block takes in the file, header included.
    pub fn total_len(&self) -> u64 {
        BLOCK_HEADER_LEN as u64 + self.stored_len as u64
    }

    /// True when the block may hold a record whose time span
    /// `[start_ms, end_ms]` intersects `[from_ms, to_ms]`.
    pub fn overlaps(&self, from_ms: i64, to_ms: i64) -> bool {
        self.records > 0 && self.min_start_ms <= to_ms && self.max_end_ms >= from_ms
    }
}

/// A parsed block header: [`BlockInfo`] plus its kind.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawBlockHeader {
    pub kind: u8,
    pub info: BlockInfo,
}

/// Why a block header was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    NoSync,
    Checksum,
    Bounds,
}

pub(crate) fn encode_block_header(kind: u8, info: &BlockInfo) -> [u8; BLOCK_HEADER_LEN] {
    let mut h = [0u8; BLOCK_HEADER_LEN];
    h[0..8].copy_from_slice(&SYNC);
    h[8] = kind;
    h[9] = info.codec;
    // 10..12 reserved, zero
    h[12..16].copy_from_slice(&info.records.to_le_bytes());
    h[16..24].copy_from_slice(&info.min_start_ms.to_le_bytes());
    h[24..32].copy_from_slice(&info.max_end_ms.to_le_bytes());
    h[32..36].copy_from_slice(&info.stored_len.to_le_bytes());
    h[36..40].copy_from_slice(&info.raw_len.to_le_bytes());
    h[40..44].copy_from_slice(&info.payload_crc.to_le_bytes());
    let crc = crc32fast::hash(&h[..44]);
    h[44..48].copy_from_slice(&crc.to_le_bytes());
    h
}

fn le32(b: &[u8; BLOCK_HEADER_LEN], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8; BLOCK_HEADER_LEN], at: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    i64::from_le_bytes(a)
}

/// Parses and validates (sync, CRC, bounds) the block header at `offset`.
pub(crate) fn decode_block_header(
    b: &[u8; BLOCK_HEADER_LEN],
    offset: u64,
) -> Result<RawBlockHeader, HeaderProblem> {
    if b[0..8] != SYNC {
        return Err(HeaderProblem::NoSync);
    }
    if crc32fast::hash(&b[..44]) != le32(b, 44) {
        return Err(HeaderProblem::Checksum);
    }
    let kind = b[8];
    let info = BlockInfo {
        offset,
        records: le32(b, 12),
        min_start_ms: le64(b, 16),
        max_end_ms: le64(b, 24),
        stored_len: le32(b, 32),
        raw_len: le32(b, 36),
        payload_crc: le32(b, 40),
        codec: b[9],
    };
    let records = info.records as usize;
    let raw = info.raw_len as usize;
    let stored = info.stored_len as usize;
    let ok = match kind {
        KIND_RECORDS => {
            (1..=MAX_BLOCK_RECORDS).contains(&records)
                && raw <= max_raw_len(records)
                && stored <= max_stored_len(raw)
        }
        KIND_TRAILER => records == 0 && stored <= super::MAX_HEADER_BODY,
        // Unknown kinds (from a newer writer) are framed the same way; the
        // reader skips them, but their length is still bounded.
        _ => stored <= max_stored_len(max_raw_len(MAX_BLOCK_RECORDS)),
    };
    if !ok {
        return Err(HeaderProblem::Bounds);
    }
    Ok(RawBlockHeader { kind, info })
}
