//! anetcon prefixes and namespace.hash text must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = import::anetcon::classify(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let (m, _) = import::anetcon::NamespaceMap::parse(s);
        let _ = m.lookup(data.get(..8).and_then(|h| <&[u8; 8]>::try_from(h).ok()));
    }
});
