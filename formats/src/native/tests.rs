//! Unit tests of the native format: round trips, truncation at every byte,
//! corruption, bounds, and random mutation (must never panic).

use super::block::{BLOCK_HEADER_LEN, SYNC};
use super::*;
use crate::Record;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn records(n: usize, seed: u64) -> Vec<Record> {
    let mut g = Rng(seed | 1);
    let mut secs = 1_700_000_000u32;
    let mut uptime = u32::MAX - 50_000; // wraps during the run
    (0..n)
        .map(|i| {
            if i % 30 == 0 {
                secs += g.below(2) as u32;
                uptime = uptime.wrapping_add(g.below(1500) as u32);
            }
            let last = uptime.wrapping_sub(g.below(20_000) as u32);
            let first = last.wrapping_sub(g.below(60_000) as u32);
            let bits = g.below(20);
            Record {
                unix_secs: secs,
                unix_nsecs: (g.below(1000) * 1_000_000) as u32,
                sys_uptime_ms: uptime,
                exporter: 0x7f00_0001 + g.below(3) as u32,
                src_addr: 0x0a00_0000 | g.below(1 << 16) as u32,
                dst_addr: g.next() as u32,
                next_hop: if g.below(2) == 0 { 0 } else { 0xc0a8_0001 },
                input_if: g.below(8) as u16,
                output_if: g.below(8) as u16,
                packets: 1 + g.below(1 << bits) as u32,
                octets: g.next() as u32,
                first_uptime_ms: first,
                last_uptime_ms: last,
                src_port: g.next() as u16,
                dst_port: [80, 443, 53, 22][g.below(4) as usize],
                protocol: [6, 17, 1][g.below(3) as usize],
                tos: g.below(4) as u8,
                tcp_flags: g.next() as u8,
                engine_type: 0,
                engine_id: g.below(2) as u8,
                src_mask: g.below(33) as u8,
                dst_mask: 24,
                src_as: g.next() as u16,
                dst_as: 0,
            }
        })
        .collect()
}

fn header() -> NativeHeader {
    NativeHeader {
        export_version: 5,
        exporters: vec![0x7f00_0001],
        cap_start: 1_700_000_000,
        hostname: "host".into(),
        comment: "test".into(),
        metadata: vec![("ifname.3".into(), "xe-0/0/0".into())],
        ..NativeHeader::default()
    }
}

fn write_file(rs: &[Record], block: usize, finish: bool) -> Vec<u8> {
    let opts = WriterOptions {
        block_records: block,
        ..WriterOptions::default()
    };
    let mut w = NativeWriter::new(Vec::new(), &header(), opts).unwrap();
    w.write_all(rs).unwrap();
    if finish {
        let h = w.header_mut();
        h.flows = rs.len() as u64;
        h.cap_end = 1_700_000_300;
        h.lost_flows = 7;
        h.exporters.push(0x7f00_0002);
        w.finish().unwrap()
    } else {
        w.flush_block().unwrap();
        w.get_ref().clone()
    }
}

fn read_all(f: &NativeFile<impl AsRef<[u8]>>) -> (Vec<Record>, Vec<NativeError>) {
    let mut out = Vec::new();
    let errs = f.decode_all(&mut out);
    (out, errs)
}

#[test]
fn round_trip_many_blocks() {
    let rs = records(10_000, 42);
    let bytes = write_file(&rs, 1000, true);
    let f = NativeFile::open(&bytes[..]).unwrap();
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
    assert_eq!(f.blocks().len(), 10);
    let h = f.header();
    assert!(h.complete);
    assert_eq!(h.flows, 10_000);
    assert_eq!(h.lost_flows, 7);
    assert_eq!(h.cap_end, 1_700_000_300);
    assert_eq!(h.exporters, vec![0x7f00_0001, 0x7f00_0002]);
    assert_eq!(h.metadata, header().metadata);
    let (out, errs) = read_all(&f);
    assert!(errs.is_empty());
    assert!(out == rs);
    for (b, chunk) in f.blocks().iter().zip(rs.chunks(1000)) {
        assert_eq!(b.records, 1000);
        assert_eq!(
            b.min_start_ms,
            chunk.iter().map(|r| r.start_ms()).min().unwrap()
        );
        assert_eq!(
            b.max_end_ms,
            chunk.iter().map(|r| r.end_ms()).max().unwrap()
        );
    }
}

#[test]
fn round_trip_extremes_and_single_record_blocks() {
    let mut rs = records(5, 1);
    rs.push(Record::default());
    rs.push(Record {
        unix_secs: u32::MAX,
        unix_nsecs: u32::MAX,
        sys_uptime_ms: 0,
        exporter: u32::MAX,
        src_addr: u32::MAX,
        dst_addr: u32::MAX,
        next_hop: u32::MAX,
        input_if: u16::MAX,
        output_if: u16::MAX,
        packets: u32::MAX,
        octets: u32::MAX,
        first_uptime_ms: u32::MAX,
        last_uptime_ms: 1,
        src_port: u16::MAX,
        dst_port: u16::MAX,
        protocol: 255,
        tos: 255,
        tcp_flags: 255,
        engine_type: 255,
        engine_id: 255,
        src_mask: 255,
        dst_mask: 255,
        src_as: u16::MAX,
        dst_as: u16::MAX,
    });
    for block in [1, 2, 3, 64, 65, 8192] {
        let bytes = write_file(&rs, block, true);
        let f = NativeFile::open(bytes).unwrap();
        assert!(f.warnings().is_empty());
        assert!(read_all(&f).0 == rs, "block size {block}");
    }
}

#[test]
fn empty_file_round_trips() {
    let bytes = write_file(&[], 10, true);
    let f = NativeFile::open(bytes).unwrap();
    assert!(f.header().complete);
    assert!(f.blocks().is_empty());
    assert!(f.warnings().is_empty());
}

#[test]
fn unfinished_file_is_readable_and_incomplete() {
    let rs = records(2500, 3);
    let bytes = write_file(&rs, 1000, false);
    let f = NativeFile::open(bytes).unwrap();
    assert!(!f.header().complete);
    assert_eq!(f.header().flows, 2500);
    assert_eq!(f.header().cap_end, 0);
    assert!(matches!(
        f.warnings(),
        [NativeWarning::Incomplete { blocks: 3, .. }]
    ));
    assert!(read_all(&f).0 == rs);
}

#[test]
fn cut_at_every_byte_keeps_complete_blocks() {
    let rs = records(300, 5);
    let bytes = write_file(&rs, 100, true);
    let full = NativeFile::open(&bytes[..]).unwrap();
    let blocks = full.blocks().to_vec();
    let header_end = blocks[0].offset as usize;
    for cut in 0..bytes.len() {
        let part = &bytes[..cut];
        match NativeFile::open(part) {
            Err(e) => assert!(cut < header_end, "cut {cut}: {e}"),
            Ok(f) => {
                assert!(cut >= header_end);
                assert!(!f.header().complete, "cut {cut}");
                assert!(!f.warnings().is_empty(), "cut {cut}");
                let whole = blocks
                    .iter()
                    .filter(|b| b.offset + b.total_len() <= cut as u64)
                    .count();
                assert_eq!(f.blocks().len(), whole, "cut {cut}");
                let (out, errs) = read_all(&f);
                assert!(errs.is_empty());
                assert!(out[..] == rs[..whole * 100]);
                for w in f.warnings() {
                    assert!(w.to_string().contains("byte offset"), "{w}");
                }
            }
        }
    }
}

#[test]
fn flipped_byte_in_a_block_names_its_offset_and_later_blocks_read() {
    let rs = records(400, 9);
    let bytes = write_file(&rs, 100, true);
    let blocks = NativeFile::open(&bytes[..]).unwrap().blocks().to_vec();
    let victim = blocks[1];
    let mut bad = bytes.clone();
    let at = victim.offset as usize + BLOCK_HEADER_LEN + victim.stored_len as usize / 2;
    bad[at] ^= 0x40;
    let f = NativeFile::open(&bad[..]).unwrap();
    assert!(f.header().complete);
    assert_eq!(f.blocks().len(), 4);
    let mut out = Vec::new();
    let e = f.decode_block(&f.blocks()[1], &mut out).unwrap_err();
    assert!(matches!(e, NativeError::Checksum { offset, .. } if offset == victim.offset));
    assert!(e.to_string().contains(&victim.offset.to_string()), "{e}");
    assert!(out.is_empty());
    let (out, errs) = read_all(&f);
    assert_eq!(errs.len(), 1);
    assert_eq!(out.len(), 300);
    assert!(out[100..] == rs[200..]);
}

#[test]
fn corrupt_block_header_resyncs_to_the_next_block() {
    let rs = records(400, 11);
    let bytes = write_file(&rs, 100, true);
    let blocks = NativeFile::open(&bytes[..]).unwrap().blocks().to_vec();
    // Corrupt the length field of block 1: its header checksum fails.
    let mut bad = bytes.clone();
    bad[blocks[1].offset as usize + 33] ^= 0x7f;
    let f = NativeFile::open(&bad[..]).unwrap();
    assert_eq!(
        f.warnings(),
        &[NativeWarning::CorruptBlockHeader {
            offset: blocks[1].offset,
            resumed_at: Some(blocks[2].offset)
        }]
    );
    assert!(f.header().complete);
    let (out, errs) = read_all(&f);
    assert!(errs.is_empty());
    assert_eq!(out[..100], rs[..100]);
    assert!(out[100..] == rs[200..]);
}

#[test]
fn missing_bytes_in_the_middle_resync() {
    let rs = records(400, 12);
    let bytes = write_file(&rs, 100, true);
    let blocks = NativeFile::open(&bytes[..]).unwrap().blocks().to_vec();
    // Drop 10 bytes out of block 2's payload: its header is valid but its
    // length now overruns into block 3.
    let cut = blocks[2].offset as usize + BLOCK_HEADER_LEN + 5;
    let mut bad = bytes[..cut].to_vec();
    bad.extend_from_slice(&bytes[cut + 10..]);
    let f = NativeFile::open(&bad[..]).unwrap();
    assert!(f.header().complete, "{:?}", f.warnings());
    assert_eq!(
        f.warnings(),
        &[NativeWarning::BlockOverrun {
            offset: blocks[2].offset,
            resumed_at: blocks[3].offset - 10
        }]
    );
    let (out, errs) = read_all(&f);
    assert!(errs.is_empty());
    assert_eq!(out.len(), 300);
    assert!(out[..200] == rs[..200]);
    assert!(out[200..] == rs[300..]);
}

#[test]
fn version_and_magic_errors() {
    let mut bytes = write_file(&records(10, 1), 100, true);
    bytes[8] = 7;
    let e = NativeFile::open(&bytes[..]).unwrap_err();
    assert_eq!(e.to_string(), "expected format version 1, got 7");
    bytes[0] = b'X';
    assert!(matches!(
        NativeFile::open(&bytes[..]),
        Err(NativeError::BadMagic { .. })
    ));
    assert!(matches!(
        NativeFile::open(&[0xcf, 0x10, 1, 3][..]),
        Err(NativeError::BadMagic { .. })
    ));
}

#[test]
fn header_checksum_is_checked() {
    let mut bytes = write_file(&records(10, 1), 100, true);
    bytes[22] ^= 1; // inside the header body
    assert!(matches!(
        NativeFile::open(&bytes[..]),
        Err(NativeError::Checksum { offset: 0, .. })
    ));
}

/// Re-seals a block header after editing it, so only the bounds can reject it.
fn reseal(h: &mut [u8]) {
    let crc = crc32fast::hash(&h[..44]);
    h[44..48].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn block_header_claiming_4_gb_is_bounded() {
    let rs = records(100, 2);
    let bytes = write_file(&rs, 100, false);
    let blocks = NativeFile::open(&bytes[..]).unwrap().blocks().to_vec();
    let o = blocks[0].offset as usize;
    for (field, value) in [(32usize, u32::MAX), (36, u32::MAX), (12, u32::MAX)] {
        let mut bad = bytes.clone();
        bad[o + field..o + field + 4].copy_from_slice(&value.to_le_bytes());
        reseal(&mut bad[o..o + BLOCK_HEADER_LEN]);
        let f = NativeFile::open(&bad[..]).unwrap();
        assert!(f.blocks().is_empty(), "field {field}");
        assert!(matches!(
            f.warnings()[0],
            NativeWarning::CorruptBlockHeader { .. }
        ));
        // A forged BlockInfo does not get past decode either.
        let forged = BlockInfo {
            raw_len: u32::MAX,
            stored_len: u32::MAX,
            ..blocks[0]
        };
        assert!(f.decode_block(&forged, &mut Vec::new()).is_err());
    }
    // A header whose raw length is plausible but wrong fails cleanly.
    let mut bad = bytes.clone();
    let raw = blocks[0].raw_len - 1;
    bad[o + 36..o + 40].copy_from_slice(&raw.to_le_bytes());
    reseal(&mut bad[o..o + BLOCK_HEADER_LEN]);
    let f = NativeFile::open(&bad[..]).unwrap();
    assert!(f.decode_block(&f.blocks()[0], &mut Vec::new()).is_err());
}

#[test]
fn reader_is_sync_for_parallel_decode() {
    fn is_sync<T: Sync + Send>() {}
    is_sync::<NativeFile<Vec<u8>>>();
    is_sync::<NativeFile<memmap2::Mmap>>();
    let rs = records(4000, 77);
    let f = NativeFile::open(write_file(&rs, 500, true)).unwrap();
    let parts: Vec<Vec<Record>> = std::thread::scope(|s| {
        let handles: Vec<_> = f
            .blocks()
            .iter()
            .map(|b| {
                let f = &f;
                s.spawn(move || {
                    let mut v = Vec::new();
                    f.decode_block(b, &mut v).unwrap();
                    v
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(parts.concat() == rs);
}

#[test]
fn time_skipping_uses_block_bounds() {
    let rs = records(1000, 8);
    let f = NativeFile::open(write_file(&rs, 100, true)).unwrap();
    let b3 = f.blocks()[3];
    let hits: Vec<_> = f
        .blocks_overlapping(b3.min_start_ms, b3.min_start_ms)
        .collect();
    assert!(hits.contains(&&b3));
    assert_eq!(f.blocks_overlapping(i64::MIN, i64::MIN + 1).count(), 0);
}

#[test]
fn writer_options_are_validated() {
    for opts in [
        WriterOptions {
            block_records: 0,
            zstd_level: 3,
        },
        WriterOptions {
            block_records: MAX_BLOCK_RECORDS + 1,
            zstd_level: 3,
        },
        WriterOptions {
            block_records: 10,
            zstd_level: 1000,
        },
    ] {
        assert!(matches!(
            NativeWriter::new(Vec::new(), &header(), opts),
            Err(NativeError::Option { .. })
        ));
    }
}

#[test]
fn random_mutations_never_panic() {
    let rs = records(600, 21);
    let base = write_file(&rs, 100, true);
    let mut g = Rng(0x5eed);
    for round in 0..3000 {
        let mut b = base.clone();
        match round % 5 {
            0 => {
                for _ in 0..1 + g.below(4) {
                    let i = g.below(b.len() as u64) as usize;
                    b[i] = g.next() as u8;
                }
            }
            1 => {
                let i = g.below(b.len() as u64) as usize;
                b.truncate(i);
            }
            2 => {
                // Forge sync markers with random content after them.
                let i = g.below(b.len() as u64) as usize;
                for (k, s) in SYNC.iter().enumerate() {
                    if let Some(x) = b.get_mut(i + k) {
                        *x = *s;
                    }
                }
            }
            3 => {
                let i = g.below(b.len() as u64) as usize;
                let n = g.below(64) as usize;
                b.drain(i..(i + n).min(b.len()));
            }
            _ => {
                let n = g.below(200) as usize;
                b = (0..n).map(|_| g.next() as u8).collect();
                if round % 2 == 0 {
                    b.splice(
                        0..0,
                        base[..BLOCK_HEADER_LEN.min(base.len())].iter().copied(),
                    );
                }
            }
        }
        if let Ok(f) = NativeFile::open(&b[..]) {
            let mut out = Vec::new();
            let _ = f.decode_all(&mut out);
            for w in f.warnings() {
                let _ = w.to_string();
            }
        }
    }
}

#[test]
fn projected_decoding_gives_the_fields_asked_for() {
    let rs = records(5000, 77);
    let bytes = write_file(&rs, 1024, true);
    let f = NativeFile::open(&bytes[..]).unwrap();
    let decode = |fields: Fields| {
        let mut out = Vec::new();
        for b in f.blocks() {
            f.decode_block_fields(b, &mut out, fields).unwrap();
        }
        out
    };
    type Get = fn(&Record) -> Vec<u64>;
    let cases: [(Fields, Get); 9] = [
        (Fields::EXPORT, |r| {
            vec![
                r.unix_secs as u64,
                r.unix_nsecs as u64,
                r.sys_uptime_ms as u64,
                r.exporter as u64,
                r.engine_type as u64,
                r.engine_id as u64,
            ]
        }),
        (Fields::PATH, |r| {
            vec![
                r.next_hop as u64,
                r.input_if as u64,
                r.output_if as u64,
                r.src_mask as u64,
                r.dst_mask as u64,
                r.src_as as u64,
                r.dst_as as u64,
            ]
        }),
        (Fields::KIND, |r| {
            vec![r.protocol as u64, r.tos as u64, r.tcp_flags as u64]
        }),
        (Fields::SRC_ADDR, |r| vec![r.src_addr as u64]),
        (Fields::DST_ADDR, |r| vec![r.dst_addr as u64]),
        (Fields::PORTS, |r| {
            vec![r.src_port as u64, r.dst_port as u64]
        }),
        (Fields::PACKETS | Fields::OCTETS, |r| {
            vec![r.packets as u64, r.octets as u64]
        }),
        (Fields::DURATION, |r| vec![r.duration_ms() as u64]),
        (Fields::TIMES, |r| {
            vec![
                r.first_uptime_ms as u64,
                r.last_uptime_ms as u64,
                r.start_ms() as u64,
            ]
        }),
    ];
    for (fields, get) in cases {
        let got = decode(fields);
        assert_eq!(got.len(), rs.len());
        for (a, b) in got.iter().zip(&rs) {
            assert_eq!(get(a), get(b), "{fields:?}");
        }
    }
    assert!(decode(Fields::ALL) == rs);
    assert!(Fields::ALL.contains(Fields::PORTS | Fields::TIMES));
    assert!(!Fields::PORTS.contains(Fields::OCTETS));
}
