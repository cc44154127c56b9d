//! Any bytes: `v5::decode` returns a packet or a typed error, never
//! panics; a valid packet's records all decode.
#![no_main]

use formats::v5;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = v5::decode(data) {
        assert_eq!(p.records().len(), p.header.count as usize);
        let mut out = Vec::new();
        p.push_records(0x7f00_0001, &mut out);
        assert_eq!(out.len(), p.header.count as usize);
        assert!(out
            .iter()
            .all(|r| r.exporter == 0x7f00_0001 && r.sys_uptime_ms == p.header.sys_uptime_ms));
    }
});
