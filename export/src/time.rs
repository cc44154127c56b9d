//! UTC calendar arithmetic for the text boundary: RFC 3339 stamps in CSV
//! and JSON rows, and the Hive partition directories of `--partition`.
//!
//! Pure functions of a millisecond timestamp; no time zone, no clock.

/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// The proleptic Gregorian (year, month, day) of a day count since
/// 1970-01-01 (negative before it).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days_from_civil inverse, in 400-year eras.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Writes `YYYY-MM-DD` for a day count (years outside 0..=9999 are
/// clamped; a u32 export time never leaves 1901..2107).
pub fn push_date(out: &mut Vec<u8>, days: i64) {
    let (y, m, d) = civil_from_days(days);
    let y = y.clamp(0, 9999) as u32;
    push_digits(out, y, 4);
    out.push(b'-');
    push_digits(out, m, 2);
    out.push(b'-');
    push_digits(out, d, 2);
}

/// Appends `v` as exactly `width` decimal digits (zero-padded).
#[inline]
pub fn push_digits(out: &mut Vec<u8>, v: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut v = v;
    for i in (0..width).rev() {
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

/// Formats millisecond timestamps as RFC 3339 UTC with milliseconds
/// (`2026-11-22T03:04:05.678Z`), remembering the last minute's
/// `YYYY-MM-DDTHH:MM:` prefix: consecutive flows mostly start (and end)
/// in the same minute, which then costs one division and a few table
/// lookups; a new minute of the same day rewrites `HH:MM`; the calendar
/// arithmetic runs once a day.
#[derive(Debug, Clone)]
pub struct Rfc3339 {
    /// First second (since the epoch) of the cached minute.
    minute: i64,
    /// Day (since the epoch) of the cached date.
    day: i64,
    prefix: [u8; 17],
}

impl Default for Rfc3339 {
    fn default() -> Self {
        Self::new()
    }
}

/// "00".."59" (and on to 99) as digit pairs.
const PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

impl Rfc3339 {
    /// A formatter with an empty cache.
    pub fn new() -> Self {
        Rfc3339 {
            minute: i64::MIN,
            day: i64::MIN,
            prefix: [0; 17],
        }
    }

    /// Appends the stamp of `ms` (milliseconds since the epoch) to `out`.
    pub fn push(&mut self, out: &mut Vec<u8>, ms: i64) {
        let mut s = [0u8; 24];
        self.write(&mut s, ms);
        out.extend_from_slice(&s);
    }

    /// Caches the `YYYY-MM-DDTHH:MM:` prefix of the minute holding `secs`;
    /// the date part only changes (and costs the calendar arithmetic) with
    /// the day.
    #[cold]
    fn set_minute(&mut self, secs: i64) {
        let day = secs.div_euclid(86_400);
        if day != self.day {
            let mut v = Vec::with_capacity(10);
            push_date(&mut v, day);
            self.prefix[..10].copy_from_slice(&v);
            self.prefix[10] = b'T';
            self.prefix[13] = b':';
            self.prefix[16] = b':';
            self.day = day;
        }
        let in_day = (secs - day * 86_400) as usize;
        self.prefix[11..13].copy_from_slice(&PAIRS[in_day / 3600]);
        self.prefix[14..16].copy_from_slice(&PAIRS[in_day / 60 % 60]);
        self.minute = secs - (in_day % 60) as i64;
    }

    /// Writes the 24-byte stamp of `ms` into `s`.
    #[inline]
    pub fn write(&mut self, s: &mut [u8; 24], ms: i64) {
        let secs = ms.div_euclid(1000);
        let frac = ms.rem_euclid(1000) as usize;
        let mut sec = secs.wrapping_sub(self.minute) as u64;
        if sec >= 60 {
            self.set_minute(secs);
            sec = secs.wrapping_sub(self.minute) as u64;
        }
        s[..17].copy_from_slice(&self.prefix);
        s[17..19].copy_from_slice(&PAIRS[(sec % 60) as usize]);
        s[19] = b'.';
        s[20] = b'0' + (frac / 100) as u8;
        s[21..23].copy_from_slice(&PAIRS[frac % 100]);
        s[23] = b'Z';
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, SecondsFormat, Utc};

    fn chrono_stamp(ms: i64) -> String {
        DateTime::<Utc>::from_timestamp_millis(ms)
            .expect("in range")
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    #[test]
    fn rfc3339_matches_chrono_across_eras_and_leap_days() {
        let mut f = Rfc3339::new();
        let samples = [
            0i64,
            -1,
            -86_400_001,
            951_782_400_000,    // 2000-02-29
            4_107_542_399_999,  // 2100-02-28T23:59:59.999
            4_294_967_295_999,  // u32::MAX seconds
            1_767_225_600_123,  // 2026-01-01
            -2_147_483_648_000, // i32::MIN seconds
            1_120_668_900_250,
        ];
        for ms in samples {
            let mut out = Vec::new();
            f.push(&mut out, ms);
            assert_eq!(String::from_utf8(out).unwrap(), chrono_stamp(ms), "{ms}");
        }
        // every minute of a day and a half, forwards and backwards
        for m in (-1000..1200i64).chain((-1000..1200).rev()) {
            let ms = m * 60_000 + (m * 7919).rem_euclid(60_000);
            let mut out = Vec::new();
            f.push(&mut out, ms);
            assert_eq!(String::from_utf8(out).unwrap(), chrono_stamp(ms), "{ms}");
        }
        // every day of four years, through the cache and without it
        for day in -800..2000i64 {
            let ms = day * DAY_MS + 12_345_678;
            let mut out = Vec::new();
            f.push(&mut out, ms);
            assert_eq!(String::from_utf8(out).unwrap(), chrono_stamp(ms));
        }
    }
}
