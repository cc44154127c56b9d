//! flow-tools ft files and streams, stream version 3 (spec §1).
//!
//! An ft stream is an 8-byte prefix (magic `CF 10`, byte order, stream
//! version, header length), a block of TLVs ([`FtHeader`]), then 64-byte v5
//! records in the header's byte order — raw, or as one zlib stream when the
//! COMPRESS flag is set. [`FtReader`] reads either byte order, compressed or
//! not, tolerates an unterminated zlib stream (a live `tmp-` file) and a
//! truncated tail (complete records, then a warning). [`FtWriter`] writes
//! streams for pipes and files whose header is rewritten at close.

use std::io::{self, Read, Seek, SeekFrom, Write};

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use crate::record::Record;

/// First magic byte.
pub const MAGIC1: u8 = 0xCF;
/// Second magic byte.
pub const MAGIC2: u8 = 0x10;
/// Byte-order code for little endian.
pub const LITTLE_ENDIAN: u8 = 1;
/// Byte-order code for big endian.
pub const BIG_ENDIAN: u8 = 2;
/// The only stream version written.
pub const STREAM_VERSION: u8 = 3;
/// Bytes of one stored v5 record.
pub const V5_RECORD_LEN: usize = 64;
/// Longest header accepted (flow-tools' own limit is far lower in practice).
pub const MAX_HEADER_LEN: u32 = 1 << 20;

/// Header flag: the file is complete (set on the rewrite at close).
pub const FLAG_DONE: u32 = 0x01;
/// Header flag: records are one zlib stream.
pub const FLAG_COMPRESS: u32 = 0x02;
/// Header flag: unused multi-PDU marker.
pub const FLAG_MULT_PDU: u32 = 0x04;
/// Header flag: written to a pipe; header not rewritten.
pub const FLAG_STREAMING: u32 = 0x08;
/// Header flag: synthesized from a stream-v1 header.
pub const FLAG_XLATE: u32 = 0x10;
/// Header flag: streaming, but counters and times filled in beforehand.
pub const FLAG_PRELOADED: u32 = 0x20;

mod tlv {
    pub const VENDOR: u16 = 0x01;
    pub const EX_VER: u16 = 0x02;
    pub const AGG_VER: u16 = 0x03;
    pub const AGG_METHOD: u16 = 0x04;
    pub const EXPORTER_IP: u16 = 0x05;
    pub const CAP_START: u16 = 0x06;
    pub const CAP_END: u16 = 0x07;
    pub const HEADER_FLAGS: u16 = 0x08;
    pub const ROT_SCHEDULE: u16 = 0x09;
    pub const FLOW_COUNT: u16 = 0x0A;
    pub const FLOW_LOST: u16 = 0x0B;
    pub const FLOW_MISORDERED: u16 = 0x0C;
    pub const PKT_CORRUPT: u16 = 0x0D;
    pub const SEQ_RESET: u16 = 0x0E;
    pub const CAP_HOSTNAME: u16 = 0x0F;
    pub const COMMENTS: u16 = 0x10;
}

/// Byte order of an ft stream's header integers and records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first (flow-tools' default on x86).
    #[default]
    Little,
    /// Most significant byte first.
    Big,
}

impl ByteOrder {
    /// The order of the machine we run on.
    pub fn host() -> Self {
        if cfg!(target_endian = "big") {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        }
    }
    fn code(self) -> u8 {
        match self {
            ByteOrder::Little => LITTLE_ENDIAN,
            ByteOrder::Big => BIG_ENDIAN,
        }
    }
    #[inline(always)]
    fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            ByteOrder::Little => u16::from_le_bytes(b),
            ByteOrder::Big => u16::from_be_bytes(b),
        }
    }
    #[inline(always)]
    fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            ByteOrder::Little => u32::from_le_bytes(b),
            ByteOrder::Big => u32::from_be_bytes(b),
        }
    }
    #[inline(always)]
    fn put16(self, v: u16) -> [u8; 2] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }
    #[inline(always)]
    fn put32(self, v: u32) -> [u8; 4] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }
}

/// The TLV header of an ft stream. `None` means the TLV is absent, which
/// matters: flow-print `-p` shows a line only for fields present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FtHeader {
    /// Byte order of the stream.
    pub byte_order: ByteOrder,
    /// Stream version (3).
    pub stream_version: u8,
    /// Header length announced by the prefix (0 for a header not yet written).
    pub header_len: u32,
    /// VENDOR TLV.
    pub vendor: Option<u8>,
    /// EX_VER TLV: export version (5 for v5).
    pub export_version: Option<u16>,
    /// AGG_VER TLV (v8 only).
    pub agg_version: Option<u8>,
    /// AGG_METHOD TLV (v8 only).
    pub agg_method: Option<u8>,
    /// EXPORTER_IP TLV.
    pub exporter_ip: Option<u32>,
    /// CAP_START TLV: capture start, unix seconds.
    pub cap_start: Option<u32>,
    /// CAP_END TLV: capture end, unix seconds (0 while open).
    pub cap_end: Option<u32>,
    /// HEADER_FLAGS TLV.
    pub flags: Option<u32>,
    /// ROT_SCHEDULE TLV.
    pub rot_schedule: Option<u32>,
    /// FLOW_COUNT TLV.
    pub flow_count: Option<u32>,
    /// FLOW_LOST TLV.
    pub flow_lost: Option<u32>,
    /// FLOW_MISORDERED TLV.
    pub flow_misordered: Option<u32>,
    /// PKT_CORRUPT TLV.
    pub pkt_corrupt: Option<u32>,
    /// SEQ_RESET TLV.
    pub seq_reset: Option<u32>,
    /// CAP_HOSTNAME TLV.
    pub hostname: Option<String>,
    /// COMMENTS TLV.
    pub comments: Option<String>,
}

impl FtHeader {
    /// The header flags, 0 when the TLV is absent.
    pub fn flags(&self) -> u32 {
        self.flags.unwrap_or(0)
    }
    /// Whether the records are zlib-compressed.
    pub fn compressed(&self) -> bool {
        self.flags() & FLAG_COMPRESS != 0
    }
}

/// Why an ft stream cannot be read. The variants mirror the reasons
/// flow-tools distinguishes (spec §1.6); the wording is ours.
#[derive(Debug, thiserror::Error)]
pub enum FtError {
    /// Fewer than 4 bytes: empty input or not even a prefix.
    #[error(
        "short read while loading the header prefix ({got} of 4 bytes): empty or not a flow file"
    )]
    ShortPrefix {
        /// Bytes available.
        got: usize,
    },
    /// The first two bytes are not CF 10.
    #[error(
        "bad magic number {got0:#04x} {got1:#04x} (expected 0xcf 0x10): not a flow-tools file"
    )]
    BadMagic {
        /// First byte.
        got0: u8,
        /// Second byte.
        got1: u8,
    },
    /// Byte order code not 1 or 2.
    #[error("bad byte order code {0} at offset 2 (expected 1 or 2)")]
    BadByteOrder(u8),
    /// Stream version other than 3 (1 is legacy and not supported).
    #[error("stream format must be 3, not {0}")]
    BadStreamVersion(u8),
    /// The 4-byte header length is missing.
    #[error("short read while loading the header length at offset 4")]
    ShortHeaderLen,
    /// Header length out of range.
    #[error("header length {0} is out of range (8..={MAX_HEADER_LEN})")]
    BadHeaderLen(u32),
    /// The announced header is longer than the data.
    #[error("short read while loading header: announced {expected} bytes, got {got}")]
    ShortHeader {
        /// Announced length.
        expected: u32,
        /// Bytes available.
        got: usize,
    },
    /// The export version has no record layout here.
    #[error("export version {0} is not supported (only NetFlow v5 records)")]
    UnsupportedExportVersion(u16),
    /// zlib reported corrupt data.
    #[error("inflate failed at record {record}: {source}")]
    Inflate {
        /// Records successfully read before the failure.
        record: u64,
        /// The zlib error.
        source: io::Error,
    },
    /// Any other I/O error.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The header grew between the first write and the rewrite.
    #[error("header size changed during rewrite ({old} -> {new} bytes)")]
    HeaderSizeChanged {
        /// Size first written.
        old: usize,
        /// Size of the rewrite.
        new: usize,
    },
}

/// Parses a complete header (prefix and TLVs) from `buf`, which must hold
/// at least `header_len` bytes.
pub fn parse_header(buf: &[u8]) -> Result<FtHeader, FtError> {
    if buf.len() < 4 {
        return Err(FtError::ShortPrefix { got: buf.len() });
    }
    if buf[0] != MAGIC1 || buf[1] != MAGIC2 {
        return Err(FtError::BadMagic {
            got0: buf[0],
            got1: buf[1],
        });
    }
    let byte_order = match buf[2] {
        LITTLE_ENDIAN => ByteOrder::Little,
        BIG_ENDIAN => ByteOrder::Big,
        other => return Err(FtError::BadByteOrder(other)),
    };
    if buf[3] != STREAM_VERSION {
        return Err(FtError::BadStreamVersion(buf[3]));
    }
    if buf.len() < 8 {
        return Err(FtError::ShortHeaderLen);
    }
    let header_len = byte_order.u32([buf[4], buf[5], buf[6], buf[7]]);
    if !(8..=MAX_HEADER_LEN).contains(&header_len) {
        return Err(FtError::BadHeaderLen(header_len));
    }
    if buf.len() < header_len as usize {
        return Err(FtError::ShortHeader {
            expected: header_len,
            got: buf.len(),
        });
    }
    let mut h = FtHeader {
        byte_order,
        stream_version: buf[3],
        header_len,
        ..FtHeader::default()
    };
    let tlvs = &buf[8..header_len as usize];
    let mut at = 0usize;
    while tlvs.len() - at >= 4 {
        let t = byte_order.u16([tlvs[at], tlvs[at + 1]]);
        let len = byte_order.u16([tlvs[at + 2], tlvs[at + 3]]) as usize;
        at += 4;
        if len > tlvs.len() - at {
            break;
        }
        let v = &tlvs[at..at + len];
        at += len;
        let u32v = || (v.len() >= 4).then(|| byte_order.u32([v[0], v[1], v[2], v[3]]));
        let u16v = || (v.len() >= 2).then(|| byte_order.u16([v[0], v[1]]));
        let u8v = || v.first().copied();
        let strv = || {
            let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
            Some(String::from_utf8_lossy(&v[..end]).into_owned())
        };
        match t {
            tlv::VENDOR => h.vendor = u8v(),
            tlv::EX_VER => h.export_version = u16v(),
            tlv::AGG_VER => h.agg_version = u8v(),
            tlv::AGG_METHOD => h.agg_method = u8v(),
            tlv::EXPORTER_IP => h.exporter_ip = u32v(),
            tlv::CAP_START => h.cap_start = u32v(),
            tlv::CAP_END => h.cap_end = u32v(),
            tlv::HEADER_FLAGS => h.flags = u32v(),
            tlv::ROT_SCHEDULE => h.rot_schedule = u32v(),
            tlv::FLOW_COUNT => h.flow_count = u32v(),
            tlv::FLOW_LOST => h.flow_lost = u32v(),
            tlv::FLOW_MISORDERED => h.flow_misordered = u32v(),
            tlv::PKT_CORRUPT => h.pkt_corrupt = u32v(),
            tlv::SEQ_RESET => h.seq_reset = u32v(),
            tlv::CAP_HOSTNAME => h.hostname = strv(),
            tlv::COMMENTS => h.comments = strv(),
            _ => {}
        }
    }
    Ok(h)
}

/// Encodes a header: prefix, the present TLVs in flow-tools' fixed order,
/// zero padding to a multiple of 4. The header length field is computed.
pub fn encode_header(h: &FtHeader) -> Vec<u8> {
    let bo = h.byte_order;
    let mut out = vec![MAGIC1, MAGIC2, bo.code(), STREAM_VERSION, 0, 0, 0, 0];
    let mut put = |t: u16, v: &[u8]| {
        out.extend_from_slice(&bo.put16(t));
        out.extend_from_slice(&bo.put16(v.len() as u16));
        out.extend_from_slice(v);
    };
    let s = |x: &str| {
        let mut v: Vec<u8> = x.bytes().take(u16::MAX as usize - 1).collect();
        v.push(0);
        v
    };
    if let Some(v) = h.vendor {
        put(tlv::VENDOR, &[v]);
    }
    if let Some(v) = h.export_version {
        put(tlv::EX_VER, &bo.put16(v));
    }
    if let Some(v) = h.agg_version {
        put(tlv::AGG_VER, &[v]);
    }
    if let Some(v) = h.agg_method {
        put(tlv::AGG_METHOD, &[v]);
    }
    let words = [
        (tlv::EXPORTER_IP, h.exporter_ip),
        (tlv::CAP_START, h.cap_start),
        (tlv::CAP_END, h.cap_end),
        (tlv::HEADER_FLAGS, h.flags),
        (tlv::ROT_SCHEDULE, h.rot_schedule),
        (tlv::FLOW_COUNT, h.flow_count),
        (tlv::FLOW_LOST, h.flow_lost),
        (tlv::FLOW_MISORDERED, h.flow_misordered),
        (tlv::PKT_CORRUPT, h.pkt_corrupt),
        (tlv::SEQ_RESET, h.seq_reset),
    ];
    for (t, v) in words {
        if let Some(v) = v {
            put(t, &bo.put32(v));
        }
    }
    if let Some(v) = &h.hostname {
        put(tlv::CAP_HOSTNAME, &s(v));
    }
    if let Some(v) = &h.comments {
        put(tlv::COMMENTS, &s(v));
    }
    while out.len() % 4 != 0 {
        out.push(0);
    }
    let len = out.len() as u32;
    out[4..8].copy_from_slice(&bo.put32(len));
    out
}

/// Decodes one stored 64-byte v5 record.
#[inline]
pub fn decode_v5(b: &[u8; V5_RECORD_LEN], bo: ByteOrder) -> Record {
    let u32_at = |i: usize| bo.u32([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let u16_at = |i: usize| bo.u16([b[i], b[i + 1]]);
    Record {
        unix_secs: u32_at(0),
        unix_nsecs: u32_at(4),
        sys_uptime_ms: u32_at(8),
        exporter: u32_at(12),
        src_addr: u32_at(16),
        dst_addr: u32_at(20),
        next_hop: u32_at(24),
        input_if: u16_at(28),
        output_if: u16_at(30),
        packets: u32_at(32),
        octets: u32_at(36),
        first_uptime_ms: u32_at(40),
        last_uptime_ms: u32_at(44),
        src_port: u16_at(48),
        dst_port: u16_at(50),
        protocol: b[52],
        tos: b[53],
        tcp_flags: b[54],
        engine_type: b[56],
        engine_id: b[57],
        src_mask: b[58],
        dst_mask: b[59],
        src_as: u16_at(60),
        dst_as: u16_at(62),
    }
}

/// Encodes one record in the stored 64-byte v5 layout (pad byte zero).
#[inline]
pub fn encode_v5(r: &Record, bo: ByteOrder, b: &mut [u8; V5_RECORD_LEN]) {
    let words = [
        (0, r.unix_secs),
        (4, r.unix_nsecs),
        (8, r.sys_uptime_ms),
        (12, r.exporter),
        (16, r.src_addr),
        (20, r.dst_addr),
        (24, r.next_hop),
        (32, r.packets),
        (36, r.octets),
        (40, r.first_uptime_ms),
        (44, r.last_uptime_ms),
    ];
    for (i, v) in words {
        b[i..i + 4].copy_from_slice(&bo.put32(v));
    }
    let halves = [
        (28, r.input_if),
        (30, r.output_if),
        (48, r.src_port),
        (50, r.dst_port),
        (60, r.src_as),
        (62, r.dst_as),
    ];
    for (i, v) in halves {
        b[i..i + 2].copy_from_slice(&bo.put16(v));
    }
    b[52] = r.protocol;
    b[53] = r.tos;
    b[54] = r.tcp_flags;
    b[55] = 0;
    b[56] = r.engine_type;
    b[57] = r.engine_id;
    b[58] = r.src_mask;
    b[59] = r.dst_mask;
}

/// A non-fatal problem found while reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FtWarning {
    /// The input ended inside a record (uncompressed).
    PartialRecord {
        /// Complete records read.
        records: u64,
        /// Bytes of the incomplete record.
        leftover: usize,
    },
    /// The inflated data ended inside a record (compressed).
    PartialInflatedRecord {
        /// Complete records read.
        records: u64,
        /// Bytes of the incomplete record.
        leftover: usize,
    },
}

impl std::fmt::Display for FtWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FtWarning::PartialRecord { records, leftover } => write!(
                f,
                "warning: partial record before EOF ({leftover} stray bytes after {records} complete records; the file is truncated)"
            ),
            FtWarning::PartialInflatedRecord { records, leftover: 0 } => write!(
                f,
                "warning: the compressed stream ends early after {records} complete records (the file is truncated or still being written)"
            ),
            FtWarning::PartialInflatedRecord { records, leftover } => write!(
                f,
                "warning: partial inflated record before EOF ({leftover} stray bytes after {records} complete records; the compressed file is truncated)"
            ),
        }
    }
}

enum Body<R: Read> {
    Plain(R),
    Zlib(ZlibDecoder<R>),
}

impl<R: Read> Read for Body<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Body::Plain(r) => r.read(buf),
            Body::Zlib(r) => r.read(buf),
        }
    }
}

const READ_BUF: usize = 64 * 1024;

/// Reads an ft stream: the header on construction, then records in batches.
pub struct FtReader<R: Read> {
    header: FtHeader,
    body: Body<R>,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    records: u64,
    warning: Option<FtWarning>,
    unterminated: bool,
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads just the header of a stream, leaving `r` positioned at the first
/// record. Returns the header and its raw bytes.
pub fn read_header<R: Read>(r: &mut R) -> Result<(FtHeader, Vec<u8>), FtError> {
    let mut raw = vec![0u8; 8];
    let n = read_full(r, &mut raw[..4])?;
    if n < 4 {
        return Err(FtError::ShortPrefix { got: n });
    }
    // validate magic/order/version before trusting the length
    if let Err(e) = parse_header(&raw[..4]) {
        if !matches!(e, FtError::ShortHeaderLen) {
            return Err(e);
        }
    }
    if read_full(r, &mut raw[4..8])? < 4 {
        return Err(FtError::ShortHeaderLen);
    }
    let bo = if raw[2] == BIG_ENDIAN {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
    let len = bo.u32([raw[4], raw[5], raw[6], raw[7]]);
    if !(8..=MAX_HEADER_LEN).contains(&len) {
        return Err(FtError::BadHeaderLen(len));
    }
    raw.resize(len as usize, 0);
    let got = read_full(r, &mut raw[8..])?;
    if got < len as usize - 8 {
        return Err(FtError::ShortHeader {
            expected: len,
            got: got + 8,
        });
    }
    Ok((parse_header(&raw)?, raw))
}

impl<R: Read> FtReader<R> {
    /// Reads and checks the header. Fails on anything that is not a v3
    /// stream of v5 records.
    pub fn new(mut r: R) -> Result<Self, FtError> {
        let (header, _) = read_header(&mut r)?;
        let ver = header.export_version.unwrap_or(0);
        if ver != 5 {
            return Err(FtError::UnsupportedExportVersion(ver));
        }
        let body = if header.compressed() {
            Body::Zlib(ZlibDecoder::new(r))
        } else {
            Body::Plain(r)
        };
        Ok(FtReader {
            header,
            body,
            buf: vec![0u8; READ_BUF].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            records: 0,
            warning: None,
            unterminated: false,
        })
    }

    /// The stream header.
    pub fn header(&self) -> &FtHeader {
        &self.header
    }

    /// Records returned so far.
    pub fn records_read(&self) -> u64 {
        self.records
    }

    /// The truncation warning, once the end has been reached.
    pub fn warning(&self) -> Option<FtWarning> {
        self.warning
    }

    fn fill(&mut self) -> Result<(), FtError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end < self.buf.len() && !self.eof {
            match self.body.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.end += n;
                    if self.end - self.start >= V5_RECORD_LEN {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if e.kind() == io::ErrorKind::UnexpectedEof
                        && matches!(self.body, Body::Zlib(_)) =>
                {
                    // An unfinished zlib stream: a truncated file, or a live
                    // tmp- file. Everything inflated so far is good.
                    self.eof = true;
                    self.unterminated = true;
                }
                Err(e) => {
                    if matches!(self.body, Body::Zlib(_)) {
                        self.eof = true;
                        return Err(FtError::Inflate {
                            record: self.records + ((self.end - self.start) / V5_RECORD_LEN) as u64,
                            source: e,
                        });
                    }
                    return Err(FtError::Io(e));
                }
            }
        }
        Ok(())
    }

    /// Appends up to `max` records to `out`; returns how many. 0 means the
    /// end of the stream (check [`FtReader::warning`] then). On an inflate
    /// error, the records decoded before it have already been returned by
    /// earlier calls.
    pub fn read_batch(&mut self, out: &mut Vec<Record>, max: usize) -> Result<usize, FtError> {
        if self.end - self.start < V5_RECORD_LEN && !self.eof {
            self.fill()?;
        }
        let avail = (self.end - self.start) / V5_RECORD_LEN;
        let n = avail.min(max);
        let bo = self.header.byte_order;
        out.reserve(n);
        for chunk in
            self.buf[self.start..self.start + n * V5_RECORD_LEN].chunks_exact(V5_RECORD_LEN)
        {
            let arr: &[u8; V5_RECORD_LEN] = chunk.try_into().expect("chunks_exact");
            out.push(decode_v5(arr, bo));
        }
        self.start += n * V5_RECORD_LEN;
        self.records += n as u64;
        if n == 0 && self.eof {
            let leftover = self.end - self.start;
            if (leftover > 0 || self.unterminated) && self.warning.is_none() {
                self.warning = Some(if self.header.compressed() {
                    FtWarning::PartialInflatedRecord {
                        records: self.records,
                        leftover,
                    }
                } else {
                    FtWarning::PartialRecord {
                        records: self.records,
                        leftover,
                    }
                });
            }
        }
        Ok(n)
    }

    /// Reads every remaining record.
    pub fn read_all(&mut self) -> Result<Vec<Record>, FtError> {
        let mut out = Vec::new();
        while self.read_batch(&mut out, usize::MAX)? > 0 {}
        Ok(out)
    }
}

enum Sink<W: Write> {
    Plain(io::BufWriter<W>),
    Zlib(ZlibEncoder<io::BufWriter<W>>),
}

/// Writes an ft stream of v5 records.
///
/// The header is written at construction. [`FtWriter::finish`] ends a
/// stream (pipes); [`FtWriter::finish_rewrite`] also rewrites the header
/// in place with the DONE flag (files), which requires the header to keep
/// its size — create every numeric TLV up front with a placeholder.
pub struct FtWriter<W: Write> {
    sink: Sink<W>,
    byte_order: ByteOrder,
    header_len: usize,
    records: u64,
    scratch: Vec<u8>,
}

impl<W: Write> FtWriter<W> {
    /// Writes `header` (its COMPRESS flag is set or cleared to match
    /// `zlib_level`: `None` or `Some(0)` means uncompressed).
    pub fn new(w: W, header: &FtHeader, zlib_level: Option<u32>) -> Result<Self, FtError> {
        let mut h = header.clone();
        let level = zlib_level.filter(|&l| l > 0).map(|l| l.min(9));
        let flags = h.flags.unwrap_or(0);
        h.flags = Some(if level.is_some() {
            flags | FLAG_COMPRESS
        } else {
            flags & !FLAG_COMPRESS
        });
        h.stream_version = STREAM_VERSION;
        let bytes = encode_header(&h);
        let mut bw = io::BufWriter::with_capacity(64 * 1024, w);
        bw.write_all(&bytes)?;
        let sink = match level {
            Some(l) => Sink::Zlib(ZlibEncoder::new(bw, Compression::new(l))),
            None => Sink::Plain(bw),
        };
        Ok(FtWriter {
            sink,
            byte_order: h.byte_order,
            header_len: bytes.len(),
            records: 0,
            scratch: Vec::with_capacity(64 * 1024),
        })
    }

    /// Records written so far.
    pub fn records_written(&self) -> u64 {
        self.records
    }

    /// Writes a batch of records.
    pub fn write_all(&mut self, rs: &[Record]) -> Result<(), FtError> {
        self.scratch.clear();
        let mut b = [0u8; V5_RECORD_LEN];
        for r in rs {
            encode_v5(r, self.byte_order, &mut b);
            self.scratch.extend_from_slice(&b);
        }
        match &mut self.sink {
            Sink::Plain(w) => w.write_all(&self.scratch)?,
            Sink::Zlib(w) => w.write_all(&self.scratch)?,
        }
        self.records += rs.len() as u64;
        Ok(())
    }

    /// Writes one record.
    pub fn write(&mut self, r: &Record) -> Result<(), FtError> {
        self.write_all(std::slice::from_ref(r))
    }

    /// Pushes buffered plain output to the underlying writer (compressed
    /// output is flushed only at finish, as flow-tools does).
    pub fn flush(&mut self) -> Result<(), FtError> {
        match &mut self.sink {
            Sink::Plain(w) => w.flush()?,
            Sink::Zlib(w) => w.get_mut().flush()?,
        }
        Ok(())
    }

    /// Ends the stream (finishing the zlib stream) and returns the writer.
    pub fn finish(self) -> Result<W, FtError> {
        let bw = match self.sink {
            Sink::Plain(w) => w,
            Sink::Zlib(z) => z.finish()?,
        };
        bw.into_inner().map_err(|e| FtError::Io(e.into_error()))
    }
}

impl<W: Write + Seek> FtWriter<W> {
    /// Ends the stream, then rewrites the header at offset 0 with the DONE
    /// flag ORed in and STREAMING cleared. Fails if the new header's size
    /// differs from the first one.
    pub fn finish_rewrite(self, header: &FtHeader) -> Result<W, FtError> {
        let compressed = matches!(self.sink, Sink::Zlib(_));
        let old = self.header_len;
        let mut w = self.finish()?;
        let mut h = header.clone();
        let mut flags = (h.flags.unwrap_or(0) | FLAG_DONE) & !FLAG_STREAMING;
        if compressed {
            flags |= FLAG_COMPRESS;
        } else {
            flags &= !FLAG_COMPRESS;
        }
        h.flags = Some(flags);
        let bytes = encode_header(&h);
        if bytes.len() != old {
            return Err(FtError::HeaderSizeChanged {
                old,
                new: bytes.len(),
            });
        }
        w.seek(SeekFrom::Start(0))?;
        w.write_all(&bytes)?;
        w.flush()?;
        w.seek(SeekFrom::End(0))?;
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recs(n: u32) -> Vec<Record> {
        (0..n)
            .map(|i| Record {
                unix_secs: 1_120_668_900 + i,
                unix_nsecs: i * 7,
                sys_uptime_ms: 5_000_000 + i,
                exporter: 0x7f00_0002,
                src_addr: 0x0a00_0000 + i,
                dst_addr: 0xc000_0200 + (i % 7),
                next_hop: i,
                input_if: 1,
                output_if: i as u16,
                packets: i + 1,
                octets: 40 * (i + 1),
                first_uptime_ms: 4_000_000 + i,
                last_uptime_ms: 4_500_000 + i,
                src_port: 1024 + i as u16,
                dst_port: 80,
                protocol: 6,
                tos: 0x10,
                tcp_flags: 0x1b,
                engine_type: 0,
                engine_id: 3,
                src_mask: 24,
                dst_mask: 16,
                src_as: 65000,
                dst_as: 1,
            })
            .collect()
    }

    fn header(bo: ByteOrder) -> FtHeader {
        FtHeader {
            byte_order: bo,
            export_version: Some(5),
            cap_start: Some(1),
            cap_end: Some(0),
            flags: Some(0),
            flow_count: Some(0),
            flow_lost: Some(0),
            pkt_corrupt: Some(0),
            seq_reset: Some(0),
            hostname: Some("vm".into()),
            comments: Some("golden small capture".into()),
            ..FtHeader::default()
        }
    }

    #[test]
    fn capture_style_header_is_104_bytes_and_parses_back() {
        let h = header(ByteOrder::Little);
        let b = encode_header(&h);
        assert_eq!(b.len(), 104);
        let mut back = parse_header(&b).unwrap();
        back.header_len = 0;
        back.stream_version = 0;
        assert_eq!(back, h);
    }

    #[test]
    fn write_then_read_every_byte_order_and_compression() {
        let rs = recs(3000);
        for bo in [ByteOrder::Little, ByteOrder::Big] {
            for level in [None, Some(1), Some(9)] {
                let mut w = FtWriter::new(io::Cursor::new(Vec::new()), &header(bo), level).unwrap();
                w.write_all(&rs[..10]).unwrap();
                w.write_all(&rs[10..]).unwrap();
                let mut final_h = header(bo);
                final_h.flow_count = Some(rs.len() as u32);
                let cur = w.finish_rewrite(&final_h).unwrap();
                let bytes = cur.into_inner();
                let mut r = FtReader::new(&bytes[..]).unwrap();
                assert_eq!(r.header().flow_count, Some(3000));
                assert_eq!(r.header().flags() & FLAG_DONE, FLAG_DONE);
                assert_eq!(r.header().compressed(), level.is_some());
                assert_eq!(r.read_all().unwrap(), rs);
                assert_eq!(r.warning(), None);
            }
        }
    }

    #[test]
    fn truncated_streams_give_complete_records_and_a_warning() {
        let rs = recs(100);
        for level in [None, Some(6)] {
            let w = {
                let mut w = FtWriter::new(Vec::new(), &header(ByteOrder::Little), level).unwrap();
                w.write_all(&rs).unwrap();
                w.finish().unwrap()
            };
            let hl = parse_header(&w).unwrap().header_len as usize;
            for cut in (hl..w.len()).step_by(13) {
                let mut r = FtReader::new(&w[..cut]).unwrap();
                let mut got = Vec::new();
                let res = loop {
                    match r.read_batch(&mut got, 7) {
                        Ok(0) => break Ok(()),
                        Ok(_) => {}
                        Err(e) => break Err(e),
                    }
                };
                assert_eq!(&got[..], &rs[..got.len()]);
                if level.is_none() {
                    res.unwrap();
                    assert_eq!(got.len(), (cut - hl) / 64);
                    if (cut - hl) % 64 != 0 {
                        assert!(r.warning().is_some());
                    }
                }
            }
        }
    }

    #[test]
    fn header_errors() {
        assert!(matches!(
            FtReader::new(&[][..]),
            Err(FtError::ShortPrefix { got: 0 })
        ));
        assert!(matches!(
            FtReader::new(&b"hello world"[..]),
            Err(FtError::BadMagic { .. })
        ));
        assert!(matches!(
            FtReader::new(&[0xcf, 0x10, 1, 4, 8, 0, 0, 0][..]),
            Err(FtError::BadStreamVersion(4))
        ));
        assert!(matches!(
            FtReader::new(&[0xcf, 0x10, 1, 3, 0xff, 0, 0, 0][..]),
            Err(FtError::ShortHeader { .. })
        ));
        assert!(matches!(
            FtReader::new(&[0xcf, 0x10, 1, 3, 0xff, 0xff, 0xff, 0xff][..]),
            Err(FtError::BadHeaderLen(_))
        ));
    }

    #[test]
    fn header_rewrite_must_keep_size() {
        let mut w = FtWriter::new(
            io::Cursor::new(Vec::new()),
            &header(ByteOrder::Little),
            None,
        )
        .unwrap();
        w.write_all(&recs(1)).unwrap();
        let mut h = header(ByteOrder::Little);
        h.comments = Some("a much longer comment than before, which grows the header".into());
        assert!(matches!(
            w.finish_rewrite(&h),
            Err(FtError::HeaderSizeChanged { .. })
        ));
    }
}
