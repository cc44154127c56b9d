//! Kernel LOG lines: syslog header + tag + uptime + LOG body must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(h) = import::syslog::parse_header(data) {
        let msg = import::syslog::split_tag(h.rest).map_or(h.rest, |(_, m)| m);
        let _ = import::syslog::repeat(msg);
        let (_, msg) = import::syslog::strip_uptime(msg);
        if let Ok(p) = import::iptables::parse(msg) {
            let _ = import::anetcon::classify(p.prefix);
        }
    }
    let _ = import::iptables::parse(data);
});
