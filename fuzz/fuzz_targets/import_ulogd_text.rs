//! ulogd PRINTFLOW text (LOGEMU) must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = import::ulogd::parse_text(data);
    if let Some(h) = import::syslog::parse_header(data) {
        let _ = import::ulogd::parse_text(h.rest);
    }
});
