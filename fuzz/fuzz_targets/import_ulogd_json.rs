//! ulogd JSON lines must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = import::ulogd::parse_json(data);
});
