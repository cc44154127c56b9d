//! Any text as a filter.cfg: parse and compile give a config or an error
//! with a position, never a panic; every definition builds or errors, and
//! a built filter runs on a record.
#![no_main]

use filterlang::{FilterConfig, ParseOptions, Symbols};
use formats::Record;
use libfuzzer_sys::fuzz_target;

/// Built once: loading the builtin tables per input would dominate.
static SYMBOLS: std::sync::OnceLock<Symbols> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = ParseOptions {
        now: Some(1_767_225_600),
        zone: filterlang::Zone::UTC,
    };
    let vars = [("PORT".to_string(), "80".to_string())];
    if let Ok((cfg, _warnings)) = FilterConfig::parse_with(
        text,
        "fuzz.cfg",
        &vars,
        SYMBOLS.get_or_init(Symbols::builtin),
        &options,
    ) {
        let names: Vec<String> = cfg.definition_names().map(str::to_string).collect();
        let r = Record {
            protocol: 6,
            dst_port: 80,
            packets: 3,
            octets: 120,
            ..Record::default()
        };
        for n in names {
            if let Ok(f) = cfg.definition(&n) {
                let _ = f.matches(&r);
            }
        }
    }
});
