//! Human-readable times, always in **local time** (the `TZ` environment
//! variable decides, as with flow-tools' `localtime()`).
//!
//! Two renderings exist: the flow-print column form `MMDD.HH:MM:SS.mmm`
//! (formats 1, 2 and 5), written into a byte buffer by [`Clock`], and the
//! `-p` header form `%a, %d %b %Y %H:%M:%S %z` ([`header_time`]).
//!
//! [`Clock`] caches the UTC offset per hour of UTC time, so printing a
//! million flows costs a million cache lookups, not a million time zone
//! searches. The cache is exact: an entry is only kept when the offset is
//! the same at both ends of its hour.

use chrono::{DateTime, Datelike, FixedOffset, Offset, TimeZone, Timelike, Utc};

/// Which zone a [`Clock`] renders in: the suite's one zone type, the
/// process's local zone (`TZ`, as flow-tools) or a fixed offset.
pub use formats::time::Zone;

/// Hour buckets each [`Clock`] cache keeps (direct-mapped by hour).
const SLOTS: usize = 64;

/// Renders flow times as `MMDD.HH:MM:SS.mmm` in a zone, with small
/// per-hour caches of the UTC offset and of the `MMDD.HH` text.
#[derive(Debug)]
pub struct Clock {
    zone: Zone,
    /// (UTC hour, its offset); an entry exists only when the offset is the
    /// same at both ends of the hour, so it is exact for the whole hour.
    offsets: [(i64, i32); SLOTS],
    /// (local hour, `MMDD.HH` of it).
    prefixes: [(i64, [u8; 7]); SLOTS],
}

impl Clock {
    /// A clock for the process's local zone.
    pub fn local() -> Self {
        Clock::new(Zone::Local)
    }

    /// A clock for `zone`.
    pub fn new(zone: Zone) -> Self {
        Clock {
            zone,
            offsets: [(i64::MIN, 0); SLOTS],
            prefixes: [(i64::MIN, [0; 7]); SLOTS],
        }
    }

    /// UTC offset in seconds at unix time `secs`.
    pub fn offset_at(&mut self, secs: i64) -> i32 {
        let hour = secs.div_euclid(3600);
        let slot = hour.rem_euclid(SLOTS as i64) as usize;
        if self.offsets[slot].0 == hour {
            return self.offsets[slot].1;
        }
        let off = self.zone.offset_at(secs);
        let start = hour.saturating_mul(3600);
        if self.zone.offset_at(start) == off
            && self.zone.offset_at(start.saturating_add(3599)) == off
        {
            self.offsets[slot] = (hour, off);
        }
        off
    }

    /// Appends `MMDD.HH:MM:SS.mmm` for `ms` milliseconds since the epoch.
    /// Every part is zero-padded: 2 digits, milliseconds 3.
    pub fn write_mmdd(&mut self, buf: &mut Vec<u8>, ms: i64) {
        let secs = ms.div_euclid(1000);
        let millis = ms.rem_euclid(1000) as u32;
        let local = secs.saturating_add(self.offset_at(secs) as i64);
        let hour = local.div_euclid(3600);
        let slot = hour.rem_euclid(SLOTS as i64) as usize;
        if self.prefixes[slot].0 != hour {
            let mut p = Vec::with_capacity(7);
            let (month, day, h) =
                match DateTime::<Utc>::from_timestamp(hour.saturating_mul(3600), 0) {
                    Some(t) => (t.month(), t.day(), t.hour()),
                    None => (0, 0, 0),
                };
            put2(&mut p, month);
            put2(&mut p, day);
            p.push(b'.');
            put2(&mut p, h);
            let mut text = [0u8; 7];
            text.copy_from_slice(&p);
            self.prefixes[slot] = (hour, text);
        }
        buf.extend_from_slice(&self.prefixes[slot].1);
        let in_hour = local.rem_euclid(3600) as u32;
        buf.push(b':');
        put2(buf, in_hour / 60);
        buf.push(b':');
        put2(buf, in_hour % 60);
        buf.push(b'.');
        buf.push(b'0' + (millis / 100) as u8);
        buf.push(b'0' + (millis / 10 % 10) as u8);
        buf.push(b'0' + (millis % 10) as u8);
    }
}

/// Two zero-padded digits (values are below 100).
#[inline]
fn put2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10 % 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// The `-p` header form of unix time `secs` in the local zone:
/// `Sun, 22 Nov 2026 02:19:20 +0000`.
pub fn header_time(secs: i64) -> String {
    header_time_in(Zone::Local, secs)
}

/// [`header_time`] in an explicit zone.
pub fn header_time_in(zone: Zone, secs: i64) -> String {
    let off = zone.offset_at(secs);
    let fixed = FixedOffset::east_opt(off).unwrap_or_else(|| Utc.fix());
    match fixed.timestamp_opt(secs, 0).single() {
        Some(t) => t.format("%a, %d %b %Y %H:%M:%S %z").to_string(),
        None => secs.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(secs: i32) -> Zone {
        Zone::Fixed(secs)
    }

    fn mmdd(zone: Zone, ms: i64) -> String {
        let mut b = Vec::new();
        Clock::new(zone).write_mmdd(&mut b, ms);
        String::from_utf8(b).unwrap()
    }

    // 2005-07-06 16:46:10.432 UTC, the first flow of small.ft.
    const MS: i64 = 1_120_668_370_432;

    #[test]
    fn mmdd_utc() {
        assert_eq!(mmdd(fixed(0), MS), "0706.16:46:10.432");
    }

    #[test]
    fn mmdd_new_york_summer() {
        assert_eq!(mmdd(fixed(-4 * 3600), MS), "0706.12:46:10.432");
    }

    #[test]
    fn mmdd_kolkata_half_hour() {
        assert_eq!(mmdd(fixed(5 * 3600 + 1800), MS), "0706.22:16:10.432");
    }

    #[test]
    fn mmdd_pads_milliseconds_and_crosses_midnight() {
        // 1970-01-01 00:00:00.007 UTC, shown one hour west.
        assert_eq!(mmdd(fixed(-3600), 7), "1231.23:00:00.007");
        assert_eq!(
            mmdd(fixed(0), 1_000 * 86_400 * 31 + 50),
            "0201.00:00:00.050"
        );
    }

    #[test]
    fn mmdd_negative_ms_does_not_panic() {
        assert_eq!(mmdd(fixed(0), -1), "1231.23:59:59.999");
        let mut b = Vec::new();
        Clock::new(fixed(0)).write_mmdd(&mut b, i64::MIN);
        Clock::new(fixed(0)).write_mmdd(&mut b, i64::MAX);
    }

    #[test]
    fn clock_caches_are_per_hour() {
        let mut c = Clock::new(fixed(3600));
        assert_eq!(c.offset_at(7200), 3600);
        assert_eq!(c.offset_at(7200 + 3599), 3600);
        assert_eq!(c.offsets[2], (2, 3600));
        // Alternating hours and slot collisions give the same text.
        let mut b = Vec::new();
        for ms in [0, 3_600_000 * 64 + 61_001, 5, 3_600_000 * 64 + 61_001] {
            b.clear();
            c.write_mmdd(&mut b, ms);
            assert_eq!(String::from_utf8(b.clone()).unwrap(), mmdd(fixed(3600), ms));
        }
        assert_eq!(
            mmdd(fixed(3600), 3_600_000 * 64 + 61_001),
            "0103.17:01:01.001"
        );
    }

    #[test]
    fn header_form() {
        assert_eq!(
            header_time_in(fixed(0), 1_795_313_960),
            "Sun, 22 Nov 2026 02:19:20 +0000"
        );
        assert_eq!(
            header_time_in(fixed(-5 * 3600), 1_795_313_960),
            "Sat, 21 Nov 2026 21:19:20 -0500"
        );
        assert_eq!(
            header_time_in(fixed(5 * 3600 + 1800), 0),
            "Thu, 01 Jan 1970 05:30:00 +0530"
        );
    }
}
