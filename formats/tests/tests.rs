//! Integration tests of the formats crate against the flow-tools golden
//! corpus in `testdata/golden/flowtools`.

mod native;
mod realworld;
mod util;

use formats::ft::{self, FtError, FtHeader, FtReader, FtWriter};
use util::*;

#[test]
fn small_ft_files_decode_to_the_truth_in_every_variant() {
    let want = truth("small.truth.jsonl");
    assert_eq!(want.len(), 296);
    for f in [
        "small.ft",
        "small-big.ft",
        "small-z9.ft",
        "small-cat.ft",
        "withtmp/ft-v05.2026-11-21.211920-0500",
    ] {
        assert_eq!(read_ft(f), want, "{f}");
    }
}

#[test]
fn main_capture_decodes_to_the_truth() {
    let want = truth("main.truth.jsonl.gz");
    let mut got = Vec::new();
    for f in main_files() {
        got.extend(read_ft(f));
    }
    assert_eq!(got.len(), 5106);
    assert_eq!(got, want);
}

#[test]
fn bad_capture_decodes_to_the_truth() {
    let got = read_ft("bad-capture.ft");
    let want = truth("bad.truth.jsonl");
    // The capture's last datagram re-sent the first flow with an old
    // sequence number (the sequence reset); flow-capture stores it anyway.
    assert_eq!(got.len(), want.len() + 1);
    assert_eq!(got[..want.len()], want[..]);
    assert_eq!(got[want.len()], want[0]);
    let bytes = std::fs::read(golden_input("bad-capture.ft")).unwrap();
    let h = ft::parse_header(&bytes).unwrap();
    assert_eq!(h.pkt_corrupt, Some(4));
    assert_eq!(h.seq_reset, Some(1));
    assert_eq!(h.flow_count, Some(got.len() as u32));
}

#[test]
fn live_tmp_file_is_a_header_without_done() {
    let bytes = std::fs::read(golden_input("withtmp/tmp-v05.2026-11-21.211937-0500")).unwrap();
    let mut r = FtReader::new(&bytes[..]).unwrap();
    assert_eq!(r.header().flags() & ft::FLAG_DONE, 0);
    assert_eq!(r.header().cap_end, Some(0));
    assert!(r.read_all().unwrap().is_empty());
}

#[test]
fn bad_inputs_give_errors_or_warnings_never_panics() {
    let read = |n: &str| -> Result<(usize, Option<ft::FtWarning>), FtError> {
        let bytes = std::fs::read(golden_input(&format!("bad/{n}"))).unwrap();
        let mut r = FtReader::new(&bytes[..])?;
        let mut out = Vec::new();
        loop {
            match r.read_batch(&mut out, 1000) {
                Ok(0) => return Ok((out.len(), r.warning())),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    };
    assert!(matches!(
        read("empty.ft"),
        Err(FtError::ShortPrefix { got: 0 })
    ));
    assert!(matches!(read("badmagic.ft"), Err(FtError::BadMagic { .. })));
    assert!(matches!(
        read("badversion.ft"),
        Err(FtError::BadStreamVersion(_))
    ));
    assert!(matches!(read("notflow.txt"), Err(FtError::BadMagic { .. })));
    assert!(matches!(
        read("trunc-header.ft"),
        Err(FtError::ShortHeader { .. })
    ));
    let small = truth("small.truth.jsonl");
    let (n, w) = read("trunc-uncompressed.ft").unwrap();
    assert!(n > 0 && n < small.len());
    assert!(matches!(w, Some(ft::FtWarning::PartialRecord { .. })));
    let (n, w) = read("trunc-compressed.ft").unwrap();
    assert!(n > 0 && n < small.len());
    assert!(
        matches!(w, Some(ft::FtWarning::PartialInflatedRecord { .. })),
        "{w:?}"
    );
}

#[test]
fn our_ft_writer_output_is_read_back_identically_with_capture_tlvs() {
    let want = truth("small.truth.jsonl");
    for level in [None, Some(6)] {
        let header = FtHeader {
            export_version: Some(5),
            cap_start: Some(1_795_313_960),
            cap_end: Some(0),
            flags: Some(0),
            flow_count: Some(0),
            flow_lost: Some(0),
            pkt_corrupt: Some(0),
            seq_reset: Some(0),
            hostname: Some("vm".into()),
            comments: Some("golden small capture".into()),
            ..FtHeader::default()
        };
        let mut w = FtWriter::new(std::io::Cursor::new(Vec::new()), &header, level).unwrap();
        w.write_all(&want).unwrap();
        let mut fin = header.clone();
        fin.cap_end = Some(1_795_313_961);
        fin.flow_count = Some(296);
        let bytes = w.finish_rewrite(&fin).unwrap().into_inner();
        if level.is_none() {
            // Same header bytes as flow-capture's, byte for byte.
            let golden = std::fs::read(golden_input("small.ft")).unwrap();
            assert_eq!(bytes.len(), golden.len());
            assert_eq!(&bytes[104..], &golden[104..]);
            let gh = ft::parse_header(&golden).unwrap();
            let oh = ft::parse_header(&bytes).unwrap();
            assert_eq!(oh.flags, gh.flags);
            assert_eq!(oh.header_len, 104);
        }
        let mut r = FtReader::new(&bytes[..]).unwrap();
        assert_eq!(r.header().flow_count, Some(296));
        assert_eq!(r.read_all().unwrap(), want);
    }
}

/// ft -> native -> ft is lossless: the records of every golden ft file,
/// written to a native file and back to an ft stream, are byte-identical.
#[test]
fn ft_to_native_to_ft_round_trip_is_byte_identical_in_records() {
    use formats::native::{NativeFile, NativeHeader, NativeWriter, WriterOptions};
    let files: Vec<&str> = ["small.ft", "small-big.ft", "small-z9.ft", "bad-capture.ft"]
        .into_iter()
        .chain(main_files())
        .collect();
    for f in files {
        let bytes = std::fs::read(golden_input(f)).unwrap();
        let mut r = FtReader::new(&bytes[..]).unwrap();
        let order = r.header().byte_order;
        let recs = r.read_all().unwrap();
        let mut w = NativeWriter::new(
            Vec::new(),
            &NativeHeader {
                export_version: 5,
                ..NativeHeader::default()
            },
            WriterOptions {
                block_records: 100,
                ..WriterOptions::default()
            },
        )
        .unwrap();
        w.write_all(&recs).unwrap();
        let native = w.finish().unwrap();
        let nf = NativeFile::open(native).unwrap();
        assert!(nf.warnings().is_empty(), "{f}: {:?}", nf.warnings());
        let mut back = Vec::new();
        assert!(nf.decode_all(&mut back).is_empty());
        assert_eq!(back, recs, "{f}");
        // and the stored record bytes equal the original file's
        let mut out = FtWriter::new(Vec::new(), r.header(), None).unwrap();
        out.write_all(&back).unwrap();
        let written = out.finish().unwrap();
        let orig_body = if r.header().compressed() {
            let mut raw = Vec::new();
            for rec in &recs {
                let mut b = [0u8; ft::V5_RECORD_LEN];
                ft::encode_v5(rec, order, &mut b);
                raw.extend_from_slice(&b);
            }
            raw
        } else {
            bytes[r.header().header_len as usize..].to_vec()
        };
        let hl = ft::parse_header(&written).unwrap().header_len as usize;
        assert_eq!(&written[hl..], &orig_body[..], "{f}");
    }
}
