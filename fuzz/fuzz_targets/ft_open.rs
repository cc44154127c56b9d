//! Any bytes as an ft stream: the reader returns records, a warning or an
//! error, never panics. The first byte picks the path: as given, or with
//! the tail behind a valid header and zlib-compressed, so the inflate path
//! sees well-formed and (after the data is cut) unfinished zlib streams.
#![no_main]

use std::io::Write;

use formats::ft::{encode_header, ByteOrder, FtHeader, FtReader, FLAG_COMPRESS};
use libfuzzer_sys::fuzz_target;

fn read_all(bytes: &[u8]) {
    if let Ok(mut r) = FtReader::new(bytes) {
        let mut out = Vec::new();
        // small batches exercise the refill logic
        while let Ok(n) = r.read_batch(&mut out, 17) {
            if n == 0 {
                break;
            }
            if out.len() > 1 << 16 {
                out.clear();
            }
        }
        let _ = r.warning();
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        read_all(data);
        return;
    };
    match mode % 4 {
        0 => read_all(data),
        1 => read_all(rest),
        m => {
            let h = FtHeader {
                byte_order: if m == 2 {
                    ByteOrder::Little
                } else {
                    ByteOrder::Big
                },
                export_version: Some(5),
                flags: Some(FLAG_COMPRESS),
                ..FtHeader::default()
            };
            let mut bytes = encode_header(&h);
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = z.write_all(rest);
            let compressed = z.finish().unwrap_or_default();
            // a cut given by the data's length: finished or unfinished stream
            let cut = compressed.len() - (rest.len() % 7).min(compressed.len());
            bytes.extend_from_slice(&compressed[..cut]);
            read_all(&bytes);
            // and the raw tail as a "compressed" body
            let mut raw = encode_header(&h);
            raw.extend_from_slice(rest);
            read_all(&raw);
        }
    }
});
