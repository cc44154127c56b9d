//! Whole-input paths: format detection and year resolution on any bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = import::detect_format(data);
    let stamps: Vec<(u8, u8, u32, u32)> = data
        .chunks_exact(4)
        .map(|c| (c[0] % 13, c[1] % 32, u32::from(c[2]) * 339, u32::from(c[3])))
        .collect();
    let _ = import::syslog::resolve_years(&stamps, 1_700_000_000_000_000);
});
