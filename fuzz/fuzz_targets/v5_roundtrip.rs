//! decode and encode are exact inverses: whatever decodes re-encodes to
//! the same bytes (pad bytes and sampling field included).
#![no_main]

use formats::v5;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = v5::decode(data) {
        let records: Vec<v5::WireRecord> = p.records().collect();
        let again = v5::encode(&p.header, &records).expect("a decoded packet re-encodes");
        assert_eq!(again, data);
    }
});
