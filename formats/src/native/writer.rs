//! [`NativeWriter`]: appends blocks to any [`Write`] sink.

use std::io::Write;

use super::block::{
    encode_block_header, max_raw_len, max_stored_len, BlockInfo, BLOCK_HEADER_LEN, CODEC_STORED,
    CODEC_ZSTD_PLANES, KIND_RECORDS, KIND_TRAILER,
};
use super::header::encode_file_header;
use super::{
    columns, NativeError, NativeHeader, DEFAULT_BLOCK_RECORDS, DEFAULT_ZSTD_LEVEL,
    MAX_BLOCK_RECORDS, MAX_HEADER_BODY,
};
use crate::Record;

/// How a [`NativeWriter`] cuts and compresses blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterOptions {
    /// Records per block, 1..=[`MAX_BLOCK_RECORDS`] (default 8192).
    pub block_records: usize,
    /// zstd level (default 1; zstd accepts negative "fast" levels up to 22).
    pub zstd_level: i32,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            block_records: DEFAULT_BLOCK_RECORDS,
            zstd_level: DEFAULT_ZSTD_LEVEL,
        }
    }
}

/// A sink that can make written data durable: implemented for files (fsync)
/// and for in-memory sinks (nothing to do). Used by
/// [`NativeWriter::finish_durable`].
pub trait SyncData: Write {
    /// Flushes buffers and makes written data durable.
    fn sync_data_now(&mut self) -> std::io::Result<()>;
}

impl SyncData for std::fs::File {
    fn sync_data_now(&mut self) -> std::io::Result<()> {
        self.flush()?;
        self.sync_all()
    }
}

impl<W: SyncData> SyncData for std::io::BufWriter<W> {
    fn sync_data_now(&mut self) -> std::io::Result<()> {
        self.flush()?;
        self.get_mut().sync_data_now()
    }
}

impl SyncData for Vec<u8> {
    fn sync_data_now(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<T> SyncData for std::io::Cursor<T>
where
    std::io::Cursor<T>: Write,
{
    fn sync_data_now(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes a native flow file: header at creation, one block per
/// `block_records` records (or per [`flush_block`](Self::flush_block)),
/// and a trailer with the final counters at [`finish`](Self::finish).
///
/// The file is only ever appended to (no seeking), so `W` can be a file, a
/// `BufWriter`, a pipe or a `Vec<u8>`. Dropping a writer without calling
/// `finish` leaves a file that reads fine up to its last written block and
/// reports itself incomplete. After an error the writer should be dropped.
pub struct NativeWriter<W: Write> {
    w: W,
    header: NativeHeader,
    opts: WriterOptions,
    pending: Vec<Record>,
    records_written: u64,
    bytes_written: u64,
    encoder: columns::Encoder,
    block: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for NativeWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeWriter")
            .field("opts", &self.opts)
            .field("pending", &self.pending.len())
            .field("records_written", &self.records_written)
            .field("bytes_written", &self.bytes_written)
            .finish_non_exhaustive()
    }
}

impl<W: Write> NativeWriter<W> {
    /// Writes the file header (with `complete` false and the counters as
    /// given) to `w`, flushes it, and returns a writer.
    pub fn new(mut w: W, header: &NativeHeader, opts: WriterOptions) -> Result<Self, NativeError> {
        if opts.block_records == 0 || opts.block_records > MAX_BLOCK_RECORDS {
            return Err(NativeError::Option {
                what: "block_records",
                got: opts.block_records as i64,
            });
        }
        let (min, max) = (
            zstd::zstd_safe::min_c_level(),
            zstd::zstd_safe::max_c_level(),
        );
        if opts.zstd_level < min || opts.zstd_level > max {
            return Err(NativeError::Option {
                what: "zstd_level",
                got: opts.zstd_level as i64,
            });
        }
        let bytes = encode_file_header(header)?;
        w.write_all(&bytes)?;
        w.flush()?;
        let mut header = header.clone();
        header.complete = false;
        Ok(NativeWriter {
            w,
            header,
            opts,
            pending: Vec::with_capacity(opts.block_records),
            records_written: 0,
            bytes_written: bytes.len() as u64,
            encoder: columns::Encoder::new(opts.zstd_level)?,
            block: Vec::new(),
        })
    }

    /// Buffers one record; writes a block when `block_records` are pending.
    pub fn write(&mut self, r: &Record) -> Result<(), NativeError> {
        self.pending.push(*r);
        if self.pending.len() >= self.opts.block_records {
            self.write_block()?;
        }
        Ok(())
    }

    /// Buffers many records, writing full blocks as they fill.
    pub fn write_all(&mut self, rs: &[Record]) -> Result<(), NativeError> {
        let mut rest = rs;
        while !rest.is_empty() {
            let room = self.opts.block_records - self.pending.len();
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.pending.extend_from_slice(now);
            if self.pending.len() >= self.opts.block_records {
                self.write_block()?;
            }
            rest = later;
        }
        Ok(())
    }

    /// Writes the pending records (if any) as a block now and flushes `W`,
    /// so that a reader opening the file sees them. The collector calls
    /// this at least every second.
    pub fn flush_block(&mut self) -> Result<(), NativeError> {
        if !self.pending.is_empty() {
            self.write_block()?;
        }
        self.w.flush()?;
        Ok(())
    }

    /// Records written so far, pending ones included.
    pub fn records_written(&self) -> u64 {
        self.records_written + self.pending.len() as u64
    }

    /// Bytes handed to `W` so far (pending records not included).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// The header that [`finish`](Self::finish) will write in the trailer:
    /// update counters, exporters and `cap_end` here before finishing.
    pub fn header_mut(&mut self) -> &mut NativeHeader {
        &mut self.header
    }

    /// The sink, e.g. to inspect a `Vec<u8>` while writing.
    pub fn get_ref(&self) -> &W {
        &self.w
    }

    /// Writes the last block, then the trailer holding the final header
    /// (the reader will report `complete`), flushes and returns `W`. The
    /// caller fsyncs (see [`finish_durable`](Self::finish_durable)) and
    /// renames.
    pub fn finish(mut self) -> Result<W, NativeError> {
        if !self.pending.is_empty() {
            self.write_block()?;
        }
        let mut body = Vec::new();
        self.header.encode_body(&mut body);
        if body.len() > MAX_HEADER_BODY {
            return Err(NativeError::Length {
                what: "trailer body length",
                offset: self.bytes_written,
                got: body.len() as u64,
                max: MAX_HEADER_BODY as u64,
            });
        }
        let info = BlockInfo {
            offset: self.bytes_written,
            records: 0,
            min_start_ms: 0,
            max_end_ms: 0,
            stored_len: body.len() as u32,
            raw_len: body.len() as u32,
            payload_crc: crc32fast::hash(&body),
            codec: CODEC_STORED,
        };
        let mut out = encode_block_header(KIND_TRAILER, &info).to_vec();
        out.extend_from_slice(&body);
        self.w.write_all(&out)?;
        self.w.flush()?;
        self.bytes_written += out.len() as u64;
        Ok(self.w)
    }

    /// [`finish`](Self::finish), then make the data durable (fsync for a
    /// file) before returning `W`, ready to be renamed.
    pub fn finish_durable(self) -> Result<W, NativeError>
    where
        W: SyncData,
    {
        let mut w = self.finish()?;
        w.sync_data_now()?;
        Ok(w)
    }

    fn write_block(&mut self) -> Result<(), NativeError> {
        let rs = &self.pending;
        let n = rs.len();
        debug_assert!(n > 0 && n <= MAX_BLOCK_RECORDS);
        self.block.clear();
        self.block.resize(BLOCK_HEADER_LEN, 0);
        let raw_len = self.encoder.encode(rs, &mut self.block)?;
        let (min_start, max_end) = self.encoder.bounds();
        let stored = self.block.len() - BLOCK_HEADER_LEN;
        debug_assert!(raw_len <= max_raw_len(n) && stored <= max_stored_len(raw_len));
        let info = BlockInfo {
            offset: self.bytes_written,
            records: n as u32,
            min_start_ms: min_start,
            max_end_ms: max_end,
            stored_len: stored as u32,
            raw_len: raw_len as u32,
            payload_crc: crc32fast::hash(&self.block[BLOCK_HEADER_LEN..]),
            codec: CODEC_ZSTD_PLANES,
        };
        self.block[..BLOCK_HEADER_LEN].copy_from_slice(&encode_block_header(KIND_RECORDS, &info));
        self.w.write_all(&self.block)?;
        self.bytes_written += self.block.len() as u64;
        self.records_written += n as u64;
        self.pending.clear();
        Ok(())
    }
}
