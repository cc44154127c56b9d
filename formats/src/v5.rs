//! NetFlow v5 export datagrams (spec §2.1): a 24-byte header and 1..=30
//! 48-byte records, big endian on the wire.
//!
//! [`decode`] checks the length once and then reads fields with explicit
//! `from_be_bytes`; [`encode`] is its exact inverse (pad bytes included).
//! Errors are a small `Copy` enum so the receive path never allocates.

use crate::record::Record;

/// Length of the datagram header.
pub const HEADER_LEN: usize = 24;
/// Length of one flow record on the wire.
pub const RECORD_LEN: usize = 48;
/// Most records one v5 datagram may carry.
pub const MAX_RECORDS: usize = 30;
/// The version field of a v5 datagram.
pub const VERSION: u16 = 5;
/// Largest valid v5 datagram.
pub const MAX_DATAGRAM_LEN: usize = HEADER_LEN + RECORD_LEN * MAX_RECORDS;

/// Why a datagram is not a valid NetFlow v5 export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum V5Error {
    /// Fewer bytes than the version and count fields need.
    #[error("datagram of {len} bytes is too short for a NetFlow header")]
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// The version field is not 5.
    #[error("NetFlow version {version} is not supported (expected 5)")]
    BadVersion {
        /// Version found.
        version: u16,
    },
    /// The record count is 0 or above 30.
    #[error("record count {count} is out of range 1..=30")]
    BadCount {
        /// Count found.
        count: u16,
    },
    /// The datagram length does not equal 24 + 48 * count.
    #[error("datagram is {got} bytes but its count of {count} records needs {expected}")]
    LengthMismatch {
        /// Records announced by the header.
        count: u16,
        /// 24 + 48 * count.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
}

/// The datagram header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Number of records that follow.
    pub count: u16,
    /// Milliseconds since the exporter booted.
    pub sys_uptime_ms: u32,
    /// Seconds since the epoch at export.
    pub unix_secs: u32,
    /// Residual nanoseconds at export.
    pub unix_nsecs: u32,
    /// Sequence number of the first flow in this datagram.
    pub flow_sequence: u32,
    /// Type of flow-switching engine.
    pub engine_type: u8,
    /// Slot number of the flow-switching engine.
    pub engine_id: u8,
    /// Sampling mode and interval (ignored by flow-tools).
    pub sampling: u16,
}

/// One record as it sits on the wire, pad bytes included so that
/// encode and decode are exact inverses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)] // the fields are the wire fields of spec §2.1
pub struct WireRecord {
    pub src_addr: u32,
    pub dst_addr: u32,
    pub next_hop: u32,
    pub input_if: u16,
    pub output_if: u16,
    pub packets: u32,
    pub octets: u32,
    pub first_uptime_ms: u32,
    pub last_uptime_ms: u32,
    pub src_port: u16,
    pub dst_port: u16,
    pub pad1: u8,
    pub tcp_flags: u8,
    pub protocol: u8,
    pub tos: u8,
    pub src_as: u16,
    pub dst_as: u16,
    pub src_mask: u8,
    pub dst_mask: u8,
    pub pad2: u16,
}

/// A validated datagram borrowing its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// The decoded header.
    pub header: Header,
    body: &'a [u8],
}

#[inline(always)]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
#[inline(always)]
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Validates a datagram and decodes its header. Records are decoded lazily
/// by [`Packet::records`] or in bulk by [`Packet::push_records`].
pub fn decode(buf: &[u8]) -> Result<Packet<'_>, V5Error> {
    if buf.len() < 4 {
        return Err(V5Error::TooShort { len: buf.len() });
    }
    let version = be16(buf, 0);
    if version != VERSION {
        return Err(V5Error::BadVersion { version });
    }
    let count = be16(buf, 2);
    if count == 0 || count as usize > MAX_RECORDS {
        return Err(V5Error::BadCount { count });
    }
    let expected = HEADER_LEN + RECORD_LEN * count as usize;
    if buf.len() != expected {
        return Err(V5Error::LengthMismatch {
            count,
            expected,
            got: buf.len(),
        });
    }
    let header = Header {
        count,
        sys_uptime_ms: be32(buf, 4),
        unix_secs: be32(buf, 8),
        unix_nsecs: be32(buf, 12),
        flow_sequence: be32(buf, 16),
        engine_type: buf[20],
        engine_id: buf[21],
        sampling: be16(buf, 22),
    };
    Ok(Packet {
        header,
        body: &buf[HEADER_LEN..],
    })
}

#[inline(always)]
fn record_bytes(chunk: &[u8]) -> &[u8; RECORD_LEN] {
    // only ever called on `chunks_exact(RECORD_LEN)` pieces
    chunk
        .try_into()
        .expect("chunks_exact yields RECORD_LEN bytes")
}

#[inline(always)]
fn decode_record(r: &[u8]) -> WireRecord {
    let r = record_bytes(r);
    WireRecord {
        src_addr: be32(r, 0),
        dst_addr: be32(r, 4),
        next_hop: be32(r, 8),
        input_if: be16(r, 12),
        output_if: be16(r, 14),
        packets: be32(r, 16),
        octets: be32(r, 20),
        first_uptime_ms: be32(r, 24),
        last_uptime_ms: be32(r, 28),
        src_port: be16(r, 32),
        dst_port: be16(r, 34),
        pad1: r[36],
        tcp_flags: r[37],
        protocol: r[38],
        tos: r[39],
        src_as: be16(r, 40),
        dst_as: be16(r, 42),
        src_mask: r[44],
        dst_mask: r[45],
        pad2: be16(r, 46),
    }
}

impl<'a> Packet<'a> {
    /// The wire records, in datagram order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = WireRecord> + 'a {
        self.body.chunks_exact(RECORD_LEN).map(decode_record)
    }

    /// Appends this datagram's flows as [`Record`]s, stamped with the
    /// header times and `exporter` (the datagram's source address).
    pub fn push_records(&self, exporter: u32, out: &mut Vec<Record>) {
        // Hot path: fixed-size views let the compiler drop every bounds
        // check, and `extend` over an exact-size iterator reserves once.
        let h = self.header;
        out.extend(
            self.body
                .chunks_exact(RECORD_LEN)
                .map(|c| record_from_wire(&h, record_bytes(c), exporter)),
        );
    }
}

/// [`to_record`] straight from the 48 wire bytes (what `push_records` uses).
#[inline(always)]
fn record_from_wire(h: &Header, r: &[u8; RECORD_LEN], exporter: u32) -> Record {
    Record {
        unix_secs: h.unix_secs,
        unix_nsecs: h.unix_nsecs,
        sys_uptime_ms: h.sys_uptime_ms,
        exporter,
        src_addr: be32(r, 0),
        dst_addr: be32(r, 4),
        next_hop: be32(r, 8),
        input_if: be16(r, 12),
        output_if: be16(r, 14),
        packets: be32(r, 16),
        octets: be32(r, 20),
        first_uptime_ms: be32(r, 24),
        last_uptime_ms: be32(r, 28),
        src_port: be16(r, 32),
        dst_port: be16(r, 34),
        protocol: r[38],
        tos: r[39],
        tcp_flags: r[37],
        engine_type: h.engine_type,
        engine_id: h.engine_id,
        src_mask: r[44],
        dst_mask: r[45],
        src_as: be16(r, 40),
        dst_as: be16(r, 42),
    }
}

/// Builds the stored record from a header, a wire record and the exporter.
#[inline]
pub fn to_record(h: &Header, w: &WireRecord, exporter: u32) -> Record {
    Record {
        unix_secs: h.unix_secs,
        unix_nsecs: h.unix_nsecs,
        sys_uptime_ms: h.sys_uptime_ms,
        exporter,
        src_addr: w.src_addr,
        dst_addr: w.dst_addr,
        next_hop: w.next_hop,
        input_if: w.input_if,
        output_if: w.output_if,
        packets: w.packets,
        octets: w.octets,
        first_uptime_ms: w.first_uptime_ms,
        last_uptime_ms: w.last_uptime_ms,
        src_port: w.src_port,
        dst_port: w.dst_port,
        protocol: w.protocol,
        tos: w.tos,
        tcp_flags: w.tcp_flags,
        engine_type: h.engine_type,
        engine_id: h.engine_id,
        src_mask: w.src_mask,
        dst_mask: w.dst_mask,
        src_as: w.src_as,
        dst_as: w.dst_as,
    }
}

/// The wire form of a stored record (pads zero).
#[inline]
pub fn from_record(r: &Record) -> WireRecord {
    WireRecord {
        src_addr: r.src_addr,
        dst_addr: r.dst_addr,
        next_hop: r.next_hop,
        input_if: r.input_if,
        output_if: r.output_if,
        packets: r.packets,
        octets: r.octets,
        first_uptime_ms: r.first_uptime_ms,
        last_uptime_ms: r.last_uptime_ms,
        src_port: r.src_port,
        dst_port: r.dst_port,
        pad1: 0,
        tcp_flags: r.tcp_flags,
        protocol: r.protocol,
        tos: r.tos,
        src_as: r.src_as,
        dst_as: r.dst_as,
        src_mask: r.src_mask,
        dst_mask: r.dst_mask,
        pad2: 0,
    }
}

/// Encodes a datagram into `out` (cleared first). `header.count` is
/// ignored and written as `records.len()`, which must be 1..=30.
pub fn encode_into(
    header: &Header,
    records: &[WireRecord],
    out: &mut Vec<u8>,
) -> Result<(), V5Error> {
    if records.is_empty() || records.len() > MAX_RECORDS {
        return Err(V5Error::BadCount {
            count: records.len().min(u16::MAX as usize) as u16,
        });
    }
    out.clear();
    out.reserve(HEADER_LEN + RECORD_LEN * records.len());
    let mut hb = [0u8; HEADER_LEN];
    hb[0..2].copy_from_slice(&VERSION.to_be_bytes());
    hb[2..4].copy_from_slice(&(records.len() as u16).to_be_bytes());
    hb[4..8].copy_from_slice(&header.sys_uptime_ms.to_be_bytes());
    hb[8..12].copy_from_slice(&header.unix_secs.to_be_bytes());
    hb[12..16].copy_from_slice(&header.unix_nsecs.to_be_bytes());
    hb[16..20].copy_from_slice(&header.flow_sequence.to_be_bytes());
    hb[20] = header.engine_type;
    hb[21] = header.engine_id;
    hb[22..24].copy_from_slice(&header.sampling.to_be_bytes());
    out.extend_from_slice(&hb);
    for w in records {
        let mut b = [0u8; RECORD_LEN];
        b[0..4].copy_from_slice(&w.src_addr.to_be_bytes());
        b[4..8].copy_from_slice(&w.dst_addr.to_be_bytes());
        b[8..12].copy_from_slice(&w.next_hop.to_be_bytes());
        b[12..14].copy_from_slice(&w.input_if.to_be_bytes());
        b[14..16].copy_from_slice(&w.output_if.to_be_bytes());
        b[16..20].copy_from_slice(&w.packets.to_be_bytes());
        b[20..24].copy_from_slice(&w.octets.to_be_bytes());
        b[24..28].copy_from_slice(&w.first_uptime_ms.to_be_bytes());
        b[28..32].copy_from_slice(&w.last_uptime_ms.to_be_bytes());
        b[32..34].copy_from_slice(&w.src_port.to_be_bytes());
        b[34..36].copy_from_slice(&w.dst_port.to_be_bytes());
        b[36] = w.pad1;
        b[37] = w.tcp_flags;
        b[38] = w.protocol;
        b[39] = w.tos;
        b[40..42].copy_from_slice(&w.src_as.to_be_bytes());
        b[42..44].copy_from_slice(&w.dst_as.to_be_bytes());
        b[44] = w.src_mask;
        b[45] = w.dst_mask;
        b[46..48].copy_from_slice(&w.pad2.to_be_bytes());
        out.extend_from_slice(&b);
    }
    Ok(())
}

/// Encodes a datagram into a new buffer; see [`encode_into`].
pub fn encode(header: &Header, records: &[WireRecord]) -> Result<Vec<u8>, V5Error> {
    let mut out = Vec::new();
    encode_into(header, records, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> (Header, Vec<WireRecord>) {
        let h = Header {
            count: n as u16,
            sys_uptime_ms: 123_456,
            unix_secs: 1_120_668_900,
            unix_nsecs: 999_999_999,
            flow_sequence: u32::MAX - 3,
            engine_type: 1,
            engine_id: 2,
            sampling: 0x4001,
        };
        let recs = (0..n)
            .map(|i| WireRecord {
                src_addr: 0x0a00_0001 + i as u32,
                dst_addr: 0xc0a8_0101,
                next_hop: 7,
                input_if: 3,
                output_if: 65535,
                packets: i as u32 + 1,
                octets: 40 * (i as u32 + 1),
                first_uptime_ms: 100,
                last_uptime_ms: 200,
                src_port: 1024 + i as u16,
                dst_port: 25,
                pad1: 9,
                tcp_flags: 0x1b,
                protocol: 6,
                tos: 0xb8,
                src_as: 65001,
                dst_as: 3,
                src_mask: 24,
                dst_mask: 32,
                pad2: 0xbeef,
            })
            .collect();
        (h, recs)
    }

    #[test]
    fn encode_then_decode_is_identity_for_every_count() {
        for n in 1..=MAX_RECORDS {
            let (h, recs) = sample(n);
            let bytes = encode(&h, &recs).unwrap();
            assert_eq!(bytes.len(), HEADER_LEN + RECORD_LEN * n);
            let p = decode(&bytes).unwrap();
            assert_eq!(p.header, h);
            assert_eq!(p.records().collect::<Vec<_>>(), recs);
            // and back to the same bytes
            assert_eq!(
                encode(&p.header, &p.records().collect::<Vec<_>>()).unwrap(),
                bytes
            );
        }
    }

    #[test]
    fn wire_field_order_is_flags_then_protocol_then_tos() {
        let (h, recs) = sample(1);
        let bytes = encode(&h, &recs).unwrap();
        assert_eq!(
            &bytes[HEADER_LEN + 36..HEADER_LEN + 40],
            &[9, 0x1b, 6, 0xb8]
        );
    }

    #[test]
    fn malformed_datagrams_are_typed_errors() {
        assert_eq!(
            decode(&[0, 5, 0]).unwrap_err(),
            V5Error::TooShort { len: 3 }
        );
        assert_eq!(
            decode(&[0, 9, 0, 1]).unwrap_err(),
            V5Error::BadVersion { version: 9 }
        );
        assert_eq!(
            decode(&[0, 5, 0, 0]).unwrap_err(),
            V5Error::BadCount { count: 0 }
        );
        assert_eq!(
            decode(&[0, 5, 0, 31]).unwrap_err(),
            V5Error::BadCount { count: 31 }
        );
        let (h, recs) = sample(2);
        let bytes = encode(&h, &recs).unwrap();
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]).unwrap_err(),
            V5Error::LengthMismatch {
                count: 2,
                expected: 120,
                got: 119
            }
        );
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(decode(&long), Err(V5Error::LengthMismatch { .. })));
        assert!(encode(&h, &[]).is_err());
    }

    #[test]
    fn push_records_copies_header_fields_and_exporter() {
        let (h, recs) = sample(3);
        let bytes = encode(&h, &recs).unwrap();
        let mut out = Vec::new();
        decode(&bytes).unwrap().push_records(0x7f00_0002, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].exporter, 0x7f00_0002);
        assert_eq!(out[2].unix_nsecs, 999_999_999);
        assert_eq!(out[2].engine_id, 2);
        assert_eq!(out[2].src_port, 1026);
        assert_eq!(from_record(&out[2]).src_port, 1026);
    }
}
