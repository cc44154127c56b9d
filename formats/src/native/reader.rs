//! [`NativeFile`]: indexes and decodes a native flow file held in memory.

use std::cell::RefCell;
use std::fmt;

use super::block::{
    decode_block_header, BlockInfo, RawBlockHeader, BLOCK_HEADER_LEN, CODEC_ZSTD_PLANES,
    KIND_RECORDS, KIND_TRAILER, SYNC,
};
use super::columns::{self, Fields, Scratch};
use super::header::decode_file_header;
use super::{NativeError, NativeHeader};
use crate::Record;

/// Something wrong with a file that did not stop the reader: every block
/// not named here is still readable. Each names byte offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NativeWarning {
    /// The file ends inside a block header.
    TruncatedBlockHeader {
        /// Offset where the block header starts.
        offset: u64,
        /// Bytes present (of 48).
        available: u64,
    },
    /// The file ends inside a block's payload.
    TruncatedBlock {
        /// Offset of the block header.
        offset: u64,
        /// Bytes the block takes, header included.
        needed: u64,
        /// Bytes present from `offset` to the end of the file.
        available: u64,
    },
    /// Bytes that are not a valid block header where one was expected
    /// (bad sync marker, checksum or bounds). The reader scanned forward
    /// for the next valid block header.
    CorruptBlockHeader {
        /// Offset where a block header was expected.
        offset: u64,
        /// Offset of the next valid block header, or `None` if none follows.
        resumed_at: Option<u64>,
    },
    /// A valid block header whose payload runs past the next valid block
    /// header (or past the end of the file while a valid block header
    /// follows): bytes are missing. The reader dropped the block.
    BlockOverrun {
        /// Offset of the block header.
        offset: u64,
        /// Offset of the next valid block header.
        resumed_at: u64,
    },
    /// The trailer's payload does not verify; the file counts as incomplete.
    CorruptTrailer {
        /// Offset of the trailer block header.
        offset: u64,
    },
    /// A block of a kind this version does not know (from a newer writer);
    /// skipped.
    UnknownBlockKind {
        /// Offset of the block header.
        offset: u64,
        /// Its kind byte.
        kind: u8,
    },
    /// Bytes after the trailer; ignored.
    TrailingData {
        /// Offset of the first ignored byte.
        offset: u64,
        /// Number of ignored bytes.
        len: u64,
    },
    /// No trailer: the file is still being written, or its writer stopped
    /// before `finish()`. Counters in the header are the initial ones.
    Incomplete {
        /// Offset where the trailer was expected (end of the last valid block).
        offset: u64,
        /// Blocks readable.
        blocks: usize,
    },
}

impl fmt::Display for NativeWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NativeWarning::TruncatedBlockHeader { offset, available } => write!(
                f,
                "truncated block header at byte offset {offset}: {available} of {BLOCK_HEADER_LEN} bytes"
            ),
            NativeWarning::TruncatedBlock {
                offset,
                needed,
                available,
            } => write!(
                f,
                "truncated block at byte offset {offset}: {needed} bytes expected, {available} present"
            ),
            NativeWarning::CorruptBlockHeader {
                offset,
                resumed_at: Some(at),
            } => write!(
                f,
                "corrupt block header at byte offset {offset}: skipped {} bytes to the next block at byte offset {at}",
                at - offset
            ),
            NativeWarning::CorruptBlockHeader {
                offset,
                resumed_at: None,
            } => write!(
                f,
                "corrupt block header at byte offset {offset}: no valid block after it"
            ),
            NativeWarning::BlockOverrun { offset, resumed_at } => write!(
                f,
                "block at byte offset {offset} is missing bytes (it overruns the block at byte offset {resumed_at}); dropped"
            ),
            NativeWarning::CorruptTrailer { offset } => write!(
                f,
                "corrupt trailer at byte offset {offset}: final counters lost, file treated as incomplete"
            ),
            NativeWarning::UnknownBlockKind { offset, kind } => write!(
                f,
                "skipped block of unknown kind {kind} at byte offset {offset}"
            ),
            NativeWarning::TrailingData { offset, len } => write!(
                f,
                "{len} bytes after the trailer at byte offset {offset} ignored"
            ),
            NativeWarning::Incomplete { offset, blocks } => write!(
                f,
                "file incomplete (no trailer at byte offset {offset}; still being written or not finished): {blocks} blocks readable"
            ),
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new());
}

/// A native flow file read from bytes: `Vec<u8>` in tests, an mmap from
/// [`super::mmap_file`] in production.
///
/// `open` indexes block headers only; decoding is per block and takes
/// `&self`, so a `NativeFile<Mmap>` can be shared by worker threads.
#[derive(Debug)]
pub struct NativeFile<B: AsRef<[u8]>> {
    bytes: B,
    header: NativeHeader,
    blocks: Vec<BlockInfo>,
    warnings: Vec<NativeWarning>,
}

/// Scans forward from `from` for the next sync marker opening a valid
/// block header.
fn resync(b: &[u8], from: usize) -> Option<(usize, RawBlockHeader)> {
    let mut from = from;
    loop {
        let rest = b.get(from..)?;
        let rel = rest.windows(SYNC.len()).position(|w| w == SYNC)?;
        let at = from + rel;
        let hb: &[u8; BLOCK_HEADER_LEN] = b.get(at..at + BLOCK_HEADER_LEN)?.try_into().ok()?;
        if let Ok(h) = decode_block_header(hb, at as u64) {
            return Some((at, h));
        }
        from = at + 1;
    }
}

/// True when the stored payload of an indexed block fails its checksum.
fn payload_bad(b: &[u8], info: &BlockInfo) -> bool {
    let start = info.offset as usize + BLOCK_HEADER_LEN;
    match b.get(start..start + info.stored_len as usize) {
        Some(p) => crc32fast::hash(p) != info.payload_crc,
        None => true,
    }
}

impl<B: AsRef<[u8]>> NativeFile<B> {
    /// Parses the header and indexes every block header, without
    /// decompressing. Fails only if the file header itself is unusable
    /// (bad magic, other version, truncated, bad checksum); problems after
    /// it become [`warnings`](Self::warnings).
    pub fn open(bytes: B) -> Result<Self, NativeError> {
        let b = bytes.as_ref();
        let (initial, mut pos) = decode_file_header(b)?;
        let len = b.len();
        let mut blocks = Vec::new();
        let mut warnings = Vec::new();
        let mut trailer: Option<NativeHeader> = None;
        let mut good_end = pos;
        while pos < len {
            let avail = len - pos;
            let Some(hb) = b
                .get(pos..pos + BLOCK_HEADER_LEN)
                .and_then(|s| <&[u8; BLOCK_HEADER_LEN]>::try_from(s).ok())
            else {
                warnings.push(NativeWarning::TruncatedBlockHeader {
                    offset: pos as u64,
                    available: avail as u64,
                });
                break;
            };
            let h = match decode_block_header(hb, pos as u64) {
                Ok(h) => h,
                Err(_) => {
                    // If the previous block's payload is damaged, its length
                    // may be wrong (bytes missing): look inside it too.
                    if let Some(prev) = blocks.last().copied().filter(|p| payload_bad(b, p)) {
                        let from = prev.offset as usize + 1;
                        if let Some((at, _)) = resync(b, from).filter(|&(at, _)| at < pos) {
                            blocks.pop();
                            warnings.push(NativeWarning::BlockOverrun {
                                offset: prev.offset,
                                resumed_at: at as u64,
                            });
                            pos = at;
                            continue;
                        }
                    }
                    let next = resync(b, pos + 1);
                    warnings.push(NativeWarning::CorruptBlockHeader {
                        offset: pos as u64,
                        resumed_at: next.map(|(at, _)| at as u64),
                    });
                    match next {
                        Some((at, _)) => {
                            pos = at;
                            continue;
                        }
                        None => break,
                    }
                }
            };
            let total = BLOCK_HEADER_LEN + h.info.stored_len as usize;
            if total > avail {
                if let Some((at, _)) = resync(b, pos + 1) {
                    warnings.push(NativeWarning::BlockOverrun {
                        offset: pos as u64,
                        resumed_at: at as u64,
                    });
                    pos = at;
                    continue;
                }
                warnings.push(NativeWarning::TruncatedBlock {
                    offset: pos as u64,
                    needed: total as u64,
                    available: avail as u64,
                });
                break;
            }
            let end = pos + total;
            match h.kind {
                KIND_RECORDS => blocks.push(h.info),
                KIND_TRAILER => {
                    let payload = &b[pos + BLOCK_HEADER_LEN..end];
                    let parsed = if crc32fast::hash(payload) == h.info.payload_crc {
                        NativeHeader::decode_body(payload, (pos + BLOCK_HEADER_LEN) as u64).ok()
                    } else {
                        None
                    };
                    match parsed {
                        Some(t) => {
                            trailer = Some(t);
                            good_end = end;
                            if end < len {
                                warnings.push(NativeWarning::TrailingData {
                                    offset: end as u64,
                                    len: (len - end) as u64,
                                });
                            }
                            break;
                        }
                        None => warnings.push(NativeWarning::CorruptTrailer { offset: pos as u64 }),
                    }
                }
                kind => warnings.push(NativeWarning::UnknownBlockKind {
                    offset: pos as u64,
                    kind,
                }),
            }
            pos = end;
            good_end = end;
        }
        let header = match trailer {
            Some(mut t) => {
                t.complete = true;
                t
            }
            None => {
                warnings.push(NativeWarning::Incomplete {
                    offset: good_end as u64,
                    blocks: blocks.len(),
                });
                let mut h = initial;
                h.complete = false;
                h.flows = blocks.iter().map(|b| b.records as u64).sum();
                h
            }
        };
        Ok(NativeFile {
            bytes,
            header,
            blocks,
            warnings,
        })
    }

    /// The header: the trailer's final copy if the file is complete, else
    /// the initial one with `complete` false and `flows` set to the records
    /// of the indexed blocks.
    pub fn header(&self) -> &NativeHeader {
        &self.header
    }

    /// The records blocks, in file order.
    pub fn blocks(&self) -> &[BlockInfo] {
        &self.blocks
    }

    /// The blocks that may hold flows overlapping `[from_ms, to_ms]`
    /// (absolute ms since the epoch); the others can be skipped unread.
    pub fn blocks_overlapping(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> impl Iterator<Item = &BlockInfo> + '_ {
        self.blocks
            .iter()
            .filter(move |b| b.overlaps(from_ms, to_ms))
    }

    /// Records in all indexed blocks.
    pub fn total_records(&self) -> u64 {
        self.blocks.iter().map(|b| b.records as u64).sum()
    }

    /// Problems met while indexing, in file order.
    pub fn warnings(&self) -> &[NativeWarning] {
        &self.warnings
    }

    /// The underlying bytes.
    pub fn bytes(&self) -> &B {
        &self.bytes
    }

    /// Decodes block `b`, appending its records to `out`. Verifies the
    /// block header and the payload checksum first; on error nothing is
    /// appended. Uses a per-thread [`Scratch`].
    pub fn decode_block(&self, b: &BlockInfo, out: &mut Vec<Record>) -> Result<(), NativeError> {
        self.decode_block_fields(b, out, Fields::ALL)
    }

    /// [`decode_block`](Self::decode_block) of only the columns that carry
    /// `fields` (the other fields of the records are unspecified): less
    /// to decompress for a report that needs a few fields.
    pub fn decode_block_fields(
        &self,
        b: &BlockInfo,
        out: &mut Vec<Record>,
        fields: Fields,
    ) -> Result<(), NativeError> {
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => self.decode_block_projected(b, &mut s, out, fields),
            Err(_) => self.decode_block_projected(b, &mut Scratch::new(), out, fields),
        })
    }

    /// [`decode_block`](Self::decode_block) with a caller-held scratch.
    pub fn decode_block_with(
        &self,
        b: &BlockInfo,
        scratch: &mut Scratch,
        out: &mut Vec<Record>,
    ) -> Result<(), NativeError> {
        self.decode_block_projected(b, scratch, out, Fields::ALL)
    }

    fn decode_block_projected(
        &self,
        b: &BlockInfo,
        scratch: &mut Scratch,
        out: &mut Vec<Record>,
        fields: Fields,
    ) -> Result<(), NativeError> {
        let bytes = self.bytes.as_ref();
        let offset = b.offset;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        // Re-read the header from the bytes: `b` may come from anywhere.
        let hb = start
            .checked_add(BLOCK_HEADER_LEN)
            .and_then(|end| bytes.get(start..end))
            .and_then(|s| <&[u8; BLOCK_HEADER_LEN]>::try_from(s).ok())
            .ok_or(NativeError::Truncated {
                what: "block header",
                offset,
                needed: BLOCK_HEADER_LEN as u64,
                available: bytes.len().saturating_sub(start) as u64,
            })?;
        let h = match decode_block_header(hb, offset) {
            Ok(h) if h.kind == KIND_RECORDS => h.info,
            _ => {
                return Err(NativeError::Malformed {
                    what: "block header",
                    offset,
                })
            }
        };
        let pstart = start + BLOCK_HEADER_LEN;
        let payload =
            bytes
                .get(pstart..pstart + h.stored_len as usize)
                .ok_or(NativeError::Truncated {
                    what: "block",
                    offset,
                    needed: h.total_len(),
                    available: (bytes.len() - start) as u64,
                })?;
        let crc = crc32fast::hash(payload);
        if crc != h.payload_crc {
            return Err(NativeError::Checksum {
                what: "block payload",
                offset,
                expected: h.payload_crc,
                got: crc,
            });
        }
        if h.codec != CODEC_ZSTD_PLANES {
            return Err(NativeError::UnknownCodec {
                offset,
                codec: h.codec,
            });
        }
        columns::decode(
            payload,
            offset,
            h.records as usize,
            h.raw_len as usize,
            scratch,
            out,
            fields,
        )
    }

    /// Decodes every block into `out`, skipping bad ones; returns the errors
    /// of the blocks that failed (each names its offset).
    pub fn decode_all(&self, out: &mut Vec<Record>) -> Vec<NativeError> {
        let mut errors = Vec::new();
        SCRATCH.with(|s| {
            let mut own;
            let mut guard;
            let scratch: &mut Scratch = match s.try_borrow_mut() {
                Ok(g) => {
                    guard = g;
                    &mut guard
                }
                Err(_) => {
                    own = Scratch::new();
                    &mut own
                }
            };
            for b in &self.blocks {
                if let Err(e) = self.decode_block_with(b, scratch, out) {
                    errors.push(e);
                }
            }
        });
        errors
    }
}
