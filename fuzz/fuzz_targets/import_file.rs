//! Whole-input paths: format detection and year resolution on any bytes;
//! the streaming year scan must agree with the whole-file resolution.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = import::detect_format(data);
    let stamps: Vec<(u8, u8, u32, u32)> = data
        .chunks_exact(4)
        .map(|c| (c[0] % 13, c[1] % 32, u32::from(c[2]) * 339, u32::from(c[3])))
        .collect();
    let anchor = 1_700_000_000_000_000;
    let years = import::syslog::resolve_years(&stamps, anchor);
    let mut scan = import::syslog::YearScan::default();
    for (i, s) in stamps.iter().enumerate() {
        scan.push(i as u64 + 1, *s);
    }
    let plan = scan.finish(anchor);
    for (i, s) in stamps.iter().enumerate() {
        if import::syslog::valid_date(2000, s.0 as u32, s.1 as u32) {
            let line = i as u64 + 1;
            let y = plan.iter().rev().find(|p| p.0 <= line).map(|p| p.1);
            assert_eq!(y, Some(years[i]));
        }
    }
});
