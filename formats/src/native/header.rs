//! The file header and the trailer body: [`NativeHeader`] and its encoding.
//!
//! The same body encoding is used twice: once in the file header written
//! when the file is created, and once in the trailer block written by
//! `finish()` with the final counters.

use super::{NativeError, FORMAT_VERSION, MAGIC, MAX_HEADER_BODY};

/// Bytes before the header body: magic, version, flags, body length, CRC.
pub(crate) const PREAMBLE_LEN: usize = 20;

/// Descriptive data and counters of one native flow file.
///
/// In the file header it holds the values known when the file was created;
/// the trailer written by [`super::NativeWriter::finish`] holds the final
/// values. [`super::NativeFile::header`] returns the trailer's copy when the
/// file is complete.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NativeHeader {
    /// NetFlow export version of the records (5).
    pub export_version: u16,
    /// IPv4 addresses (host order) of the exporters seen.
    pub exporters: Vec<u32>,
    /// Capture start, seconds since the epoch.
    pub cap_start: u32,
    /// Capture end, seconds since the epoch; 0 while the file is open.
    pub cap_end: u32,
    /// Flows stored in the file (set by the caller before `finish()`; for an
    /// incomplete file the reader fills in the records of the indexed blocks).
    pub flows: u64,
    /// Flows the exporters reported but that never arrived (sequence gaps).
    pub lost_flows: u64,
    /// Datagrams that could not be decoded.
    pub corrupt_packets: u64,
    /// Times an exporter's sequence number went backwards.
    pub seq_resets: u64,
    /// Name of the host that captured the flows.
    pub hostname: String,
    /// Free-form comment.
    pub comment: String,
    /// Free-form key/value metadata (for example an interface-name map
    /// written by an importer), in order.
    pub metadata: Vec<(String, String)>,
    /// True when the file has its trailer: the writer finished it. Not
    /// stored in the body; the reader sets it.
    pub complete: bool,
}

impl NativeHeader {
    /// Appends the body encoding of `self` to `out` (see `FORMAT.md`).
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.export_version.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // reserved
        out.extend_from_slice(&self.cap_start.to_le_bytes());
        out.extend_from_slice(&self.cap_end.to_le_bytes());
        for v in [
            self.flows,
            self.lost_flows,
            self.corrupt_packets,
            self.seq_resets,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(self.exporters.len() as u32).to_le_bytes());
        for e in &self.exporters {
            out.extend_from_slice(&e.to_le_bytes());
        }
        put_str(out, &self.hostname);
        put_str(out, &self.comment);
        out.extend_from_slice(&(self.metadata.len() as u32).to_le_bytes());
        for (k, v) in &self.metadata {
            put_str(out, k);
            put_str(out, v);
        }
    }

    /// Decodes a body; `offset` is where it sits in the file (for errors).
    /// Bytes after the known fields are ignored (room for additions).
    pub(crate) fn decode_body(body: &[u8], offset: u64) -> Result<Self, NativeError> {
        let mut c = Cursor {
            b: body,
            pos: 0,
            offset,
        };
        let export_version = c.u16()?;
        let _reserved = c.u16()?;
        let cap_start = c.u32()?;
        let cap_end = c.u32()?;
        let flows = c.u64()?;
        let lost_flows = c.u64()?;
        let corrupt_packets = c.u64()?;
        let seq_resets = c.u64()?;
        let n = c.count(4, "exporter count")?;
        let mut exporters = Vec::with_capacity(n);
        for _ in 0..n {
            exporters.push(c.u32()?);
        }
        let hostname = c.string()?;
        let comment = c.string()?;
        let n = c.count(8, "metadata count")?;
        let mut metadata = Vec::with_capacity(n);
        for _ in 0..n {
            let k = c.string()?;
            let v = c.string()?;
            metadata.push((k, v));
        }
        Ok(NativeHeader {
            export_version,
            exporters,
            cap_start,
            cap_end,
            flows,
            lost_flows,
            corrupt_packets,
            seq_resets,
            hostname,
            comment,
            metadata,
            complete: false,
        })
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Bounds-checked little-endian reads from a body.
struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    offset: u64,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], NativeError> {
        let s = self
            .pos
            .checked_add(n)
            .and_then(|end| self.b.get(self.pos..end))
            .ok_or(NativeError::Malformed {
                what: "header body (field runs past its end)",
                offset: self.offset + self.pos as u64,
            })?;
        self.pos += n;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], NativeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u16(&mut self) -> Result<u16, NativeError> {
        Ok(u16::from_le_bytes(self.arr()?))
    }
    fn u32(&mut self) -> Result<u32, NativeError> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Result<u64, NativeError> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    /// A count of items taking at least `min_item` bytes each, bounded by
    /// the bytes left so that it never drives a large allocation.
    fn count(&mut self, min_item: usize, what: &'static str) -> Result<usize, NativeError> {
        let at = self.offset + self.pos as u64;
        let n = self.u32()? as usize;
        let max = (self.b.len() - self.pos) / min_item;
        if n > max {
            return Err(NativeError::Length {
                what,
                offset: at,
                got: n as u64,
                max: max as u64,
            });
        }
        Ok(n)
    }
    fn string(&mut self) -> Result<String, NativeError> {
        let at = self.offset + self.pos as u64;
        let n = self.count(1, "string length")?;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| NativeError::Malformed {
            what: "header string (not UTF-8)",
            offset: at,
        })
    }
}

/// Encodes the file header: preamble + body.
pub(crate) fn encode_file_header(h: &NativeHeader) -> Result<Vec<u8>, NativeError> {
    let mut body = Vec::new();
    h.encode_body(&mut body);
    if body.len() > MAX_HEADER_BODY {
        return Err(NativeError::Length {
            what: "header body length",
            offset: 0,
            got: body.len() as u64,
            max: MAX_HEADER_BODY as u64,
        });
    }
    let mut out = Vec::with_capacity(PREAMBLE_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // flags, reserved
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&out[..16]);
    crc.update(&body);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Parses the file header; returns it and the offset of the first block.
pub(crate) fn decode_file_header(b: &[u8]) -> Result<(NativeHeader, usize), NativeError> {
    let mut got = [0u8; 8];
    let n = b.len().min(8);
    got[..n].copy_from_slice(&b[..n]);
    if n < 8 || got != MAGIC {
        // A strict prefix of the magic is a truncated file, not a foreign one.
        if n < 8 && b == &MAGIC[..n] {
            return Err(truncated("file header", 0, PREAMBLE_LEN, b.len()));
        }
        return Err(NativeError::BadMagic { got });
    }
    if b.len() < 10 {
        return Err(truncated("file header", 0, PREAMBLE_LEN, b.len()));
    }
    let version = u16::from_le_bytes([b[8], b[9]]);
    if version != FORMAT_VERSION {
        return Err(NativeError::Version {
            expected: FORMAT_VERSION,
            got: version,
        });
    }
    let Some(pre) = b.get(..PREAMBLE_LEN) else {
        return Err(truncated("file header", 0, PREAMBLE_LEN, b.len()));
    };
    let body_len = u32::from_le_bytes([pre[12], pre[13], pre[14], pre[15]]) as usize;
    if body_len > MAX_HEADER_BODY {
        return Err(NativeError::Length {
            what: "header body length",
            offset: 12,
            got: body_len as u64,
            max: MAX_HEADER_BODY as u64,
        });
    }
    let end = PREAMBLE_LEN + body_len;
    let Some(body) = b.get(PREAMBLE_LEN..end) else {
        return Err(truncated("file header", 0, end, b.len()));
    };
    let stored = u32::from_le_bytes([pre[16], pre[17], pre[18], pre[19]]);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&pre[..16]);
    crc.update(body);
    let computed = crc.finalize();
    if computed != stored {
        return Err(NativeError::Checksum {
            what: "file header",
            offset: 0,
            expected: stored,
            got: computed,
        });
    }
    let h = NativeHeader::decode_body(body, PREAMBLE_LEN as u64)?;
    Ok((h, end))
}

fn truncated(what: &'static str, offset: u64, needed: usize, available: usize) -> NativeError {
    NativeError::Truncated {
        what,
        offset,
        needed: needed as u64,
        available: available as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NativeHeader {
        NativeHeader {
            export_version: 5,
            exporters: vec![0x7f000001, 0x0a000001],
            cap_start: 1_700_000_000,
            cap_end: 1_700_000_300,
            flows: 12345,
            lost_flows: 30,
            corrupt_packets: 2,
            seq_resets: 1,
            hostname: "collector-1".into(),
            comment: "golden é capture".into(),
            metadata: vec![("ifname.1".into(), "eth0".into()), ("k".into(), "".into())],
            complete: false,
        }
    }

    #[test]
    fn header_round_trip() {
        let h = sample();
        let bytes = encode_file_header(&h).unwrap();
        let (back, end) = decode_file_header(&bytes).unwrap();
        assert_eq!(back, h);
        assert_eq!(end, bytes.len());
    }

    #[test]
    fn header_cut_anywhere_is_an_error_not_a_panic() {
        let bytes = encode_file_header(&sample()).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode_file_header(&bytes[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn huge_counts_in_a_body_are_rejected_before_allocating() {
        let mut body = Vec::new();
        NativeHeader::default().encode_body(&mut body);
        // exporter count sits after 2+2+4+4+32 bytes
        body[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = NativeHeader::decode_body(&body, 20).unwrap_err();
        assert!(matches!(e, NativeError::Length { .. }), "{e}");
    }
}
