//! Integration tests of native flow files: real files on disk (read while
//! being appended to, via `std::fs::read` and mmap), and the size target
//! against the golden flow-tools files.

use std::io::Read;
use std::path::Path;

use formats::native::{
    mmap_file, NativeError, NativeFile, NativeHeader, NativeWarning, NativeWriter, WriterOptions,
};
use formats::Record;

/// Deterministic synthetic records (splitmix64).
fn synthetic(n: usize) -> Vec<Record> {
    let mut s = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..n)
        .map(|i| {
            let uptime = 1_000_000 + i as u32 * 3;
            Record {
                unix_secs: 1_763_700_000 + i as u32 / 300,
                unix_nsecs: (i as u32 % 1000) * 1_000_000,
                sys_uptime_ms: uptime,
                exporter: 0x7f00_0001,
                src_addr: 0x0a01_0000 | (next() as u32 & 0xffff),
                dst_addr: 0xc0a8_0000 | (next() as u32 & 0x3ff),
                next_hop: 0,
                input_if: (next() % 4) as u16,
                output_if: (next() % 4) as u16,
                packets: 1 + (next() % 50) as u32,
                octets: 40 + (next() % 60_000) as u32,
                first_uptime_ms: uptime - 5_000 - (next() % 1000) as u32,
                last_uptime_ms: uptime - 1_000,
                src_port: next() as u16,
                dst_port: [80, 443, 53][(next() % 3) as usize],
                protocol: 6,
                tcp_flags: 0x1b,
                src_mask: 16,
                dst_mask: 22,
                ..Record::default()
            }
        })
        .collect()
}

fn header() -> NativeHeader {
    NativeHeader {
        export_version: 5,
        cap_start: 1_763_700_000,
        hostname: "test".into(),
        ..NativeHeader::default()
    }
}

fn decode_all<B: AsRef<[u8]>>(f: &NativeFile<B>) -> Vec<Record> {
    let mut out = Vec::new();
    for b in f.blocks() {
        f.decode_block(b, &mut out).unwrap();
    }
    out
}

#[test]
fn file_being_appended_to_is_readable_up_to_its_last_flushed_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tmp-live");
    let file = std::fs::File::create(&path).unwrap();
    let rs = synthetic(5000);
    let opts = WriterOptions {
        block_records: 1000,
        ..WriterOptions::default()
    };
    let mut w = NativeWriter::new(std::io::BufWriter::new(file), &header(), opts).unwrap();

    // Header only: a valid, empty, incomplete file.
    let f = NativeFile::open(std::fs::read(&path).unwrap()).unwrap();
    assert!(f.blocks().is_empty() && !f.header().complete);

    let mut sent = 0;
    for step in [300usize, 1200, 1, 2499] {
        w.write_all(&rs[sent..sent + step]).unwrap();
        sent += step;
        w.flush_block().unwrap();
        for bytes in [
            std::fs::read(&path).unwrap(),
            mmap_file(&std::fs::File::open(&path).unwrap())
                .unwrap()
                .to_vec(),
        ] {
            let f = NativeFile::open(bytes).unwrap();
            assert!(!f.header().complete);
            assert_eq!(f.header().flows, sent as u64);
            assert!(matches!(f.warnings(), [NativeWarning::Incomplete { .. }]));
            assert!(decode_all(&f) == rs[..sent]);
        }
        // Also straight from the map, the production path.
        let map = mmap_file(&std::fs::File::open(&path).unwrap()).unwrap();
        let f = NativeFile::open(map).unwrap();
        assert_eq!(f.total_records(), sent as u64);
    }
    // Unflushed records are not visible; finishing makes everything so.
    w.write_all(&rs[sent..]).unwrap();
    w.header_mut().flows = rs.len() as u64;
    w.header_mut().cap_end = 1_763_700_060;
    w.header_mut().exporters = vec![0x7f00_0001];
    let file = w
        .finish_durable()
        .unwrap()
        .into_inner()
        .map_err(|e| e.into_error())
        .unwrap();
    drop(file);
    let map = mmap_file(&std::fs::File::open(&path).unwrap()).unwrap();
    let f = NativeFile::open(map).unwrap();
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
    assert!(f.header().complete);
    assert_eq!(f.header().cap_end, 1_763_700_060);
    assert!(decode_all(&f) == rs);
}

#[test]
fn detect_knows_native_files() {
    let w = NativeWriter::new(Vec::new(), &header(), WriterOptions::default()).unwrap();
    let bytes = w.finish().unwrap();
    assert_eq!(formats::detect(&bytes), formats::Detected::Native);
}

#[test]
fn bumped_version_is_reported() {
    let w = NativeWriter::new(Vec::new(), &header(), WriterOptions::default()).unwrap();
    let mut bytes = w.finish().unwrap();
    bytes[8..10].copy_from_slice(&7u16.to_le_bytes());
    let e = NativeFile::open(bytes).unwrap_err();
    assert!(matches!(
        e,
        NativeError::Version {
            expected: 1,
            got: 7
        }
    ));
    assert_eq!(e.to_string(), "expected format version 1, got 7");
}

/// Reads a flow-tools ft file (stream v3, v5 records, little endian, zlib)
/// by hand, per spec §1.1, §1.5 and §1.7; only what this test needs.
fn read_ft(path: &Path) -> Vec<Record> {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..2], &[0xcf, 0x10], "ft magic");
    assert_eq!(b[2], 1, "little endian");
    assert_eq!(b[3], 3, "stream version 3");
    let hlen = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
    let mut raw = Vec::new();
    // A tmp file's stream may be unfinished: keep what inflated.
    let _ = flate2::read::ZlibDecoder::new(&b[hlen..]).read_to_end(&mut raw);
    let u32at = |r: &[u8], o: usize| u32::from_le_bytes(r[o..o + 4].try_into().unwrap());
    let u16at = |r: &[u8], o: usize| u16::from_le_bytes(r[o..o + 2].try_into().unwrap());
    raw.chunks_exact(64)
        .map(|r| Record {
            unix_secs: u32at(r, 0),
            unix_nsecs: u32at(r, 4),
            sys_uptime_ms: u32at(r, 8),
            exporter: u32at(r, 12),
            src_addr: u32at(r, 16),
            dst_addr: u32at(r, 20),
            next_hop: u32at(r, 24),
            input_if: u16at(r, 28),
            output_if: u16at(r, 30),
            packets: u32at(r, 32),
            octets: u32at(r, 36),
            first_uptime_ms: u32at(r, 40),
            last_uptime_ms: u32at(r, 44),
            src_port: u16at(r, 48),
            dst_port: u16at(r, 50),
            protocol: r[52],
            tos: r[53],
            tcp_flags: r[54],
            engine_type: r[56],
            engine_id: r[57],
            src_mask: r[58],
            dst_mask: r[59],
            src_as: u16at(r, 60),
            dst_as: u16at(r, 62),
        })
        .collect()
}

#[test]
fn golden_main_capture_takes_at_most_60_percent_of_ft() {
    let dir = crate::util::golden_input("main/2026/2026-11/2026-11-21");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ft-v05."))
        })
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 2, "{paths:?}");
    let ft_bytes: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let records: Vec<Record> = paths.iter().flat_map(|p| read_ft(p)).collect();
    assert_eq!(records.len(), 5106);

    let mut w = NativeWriter::new(
        Vec::new(),
        &NativeHeader {
            export_version: 5,
            hostname: "golden".into(),
            ..NativeHeader::default()
        },
        WriterOptions::default(),
    )
    .unwrap();
    w.write_all(&records).unwrap();
    w.header_mut().flows = records.len() as u64;
    let bytes = w.finish().unwrap();
    let f = NativeFile::open(&bytes[..]).unwrap();
    assert!(decode_all(&f) == records);

    let n = records.len() as f64;
    println!(
        "golden main: {} flows, ft {} bytes ({:.2} B/flow), native {} bytes ({:.2} B/flow, {:.1}% of ft)",
        records.len(),
        ft_bytes,
        ft_bytes as f64 / n,
        bytes.len(),
        bytes.len() as f64 / n,
        100.0 * bytes.len() as f64 / ft_bytes as f64
    );
    assert!(
        bytes.len() as f64 <= 0.6 * ft_bytes as f64,
        "native {} bytes > 60% of ft {} bytes",
        bytes.len(),
        ft_bytes
    );
}
