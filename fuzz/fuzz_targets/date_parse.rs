//! Any text as a time argument (`--since`, flow-cat `-t`, a `time-date`
//! entry), at any "now" and in a fixed or the local zone: the date parser
//! gives an instant inside 0001..=9999 or an error, never a panic, a hang
//! or a wrapped value.
#![no_main]

use filterlang::date::{parse_date, parse_date_micros, Zone, MAX_SECS, MIN_SECS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // 8 bytes of "now", 2 of a zone offset in minutes, then the text.
    let Some((head, rest)) = data.split_first_chunk::<10>() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mut now = [0u8; 8];
    now.copy_from_slice(&head[..8]);
    let now = i64::from_le_bytes(now);
    let minutes = i32::from(i16::from_le_bytes([head[8], head[9]])) % (24 * 60);
    for zone in [Zone::UTC, Zone::Fixed(minutes * 60), Zone::Local] {
        let micros = parse_date_micros(text, now, zone);
        let secs = parse_date(text, now, zone);
        match (micros, secs) {
            (Ok(us), Ok(s)) => {
                assert!((MIN_SECS..=MAX_SECS).contains(&s), "{text:?} -> {s}");
                assert_eq!(us.div_euclid(1_000_000), s, "{text:?}");
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            (a, b) => panic!("{text:?}: micros {a:?} but seconds {b:?}"),
        }
    }
});
