//! Any bytes as a native flow file: open indexes what it can, every block
//! decodes or reports an error, nothing panics.
#![no_main]

use formats::native::NativeFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = NativeFile::open(data) {
        let _ = f.header();
        let _ = f.warnings();
        let mut out = Vec::new();
        for b in f.blocks() {
            out.clear();
            if f.decode_block(b, &mut out).is_ok() {
                assert_eq!(out.len(), b.records as usize);
            }
        }
    }
});
