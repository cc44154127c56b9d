//! Any text as an inline expression: compile gives a filter or an error,
//! never a panic; a compiled filter runs on a record.
#![no_main]

use formats::Record;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = filterlang::parse_expr(text);
    if let Ok(f) = filterlang::compile_expr(text) {
        let r = Record {
            src_addr: 0x0a00_0001,
            protocol: 17,
            dst_port: 53,
            packets: 1,
            octets: 80,
            ..Record::default()
        };
        let _ = f.matches(&r);
    }
});
