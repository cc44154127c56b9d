//! The one time-zone type of the suite. File names, rotation slots, the
//! times flow-print shows and the dates filters and `--since` take are all
//! computed in a [`Zone`]: the process's local zone (`TZ`, as flow-tools'
//! `localtime()`), or a fixed offset (tests, reproducible runs, `--tz`).
//!
//! Every function here is pure in its inputs apart from [`Zone::Local`]
//! reading the process's zone database; nothing reads the clock.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A time zone: the process's local one, or a fixed offset from UTC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Zone {
    /// The process's local zone (`TZ`, else the system's), DST-aware.
    #[default]
    Local,
    /// A fixed offset in seconds east of UTC.
    Fixed(i32),
}

/// Where a local wall-clock time falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalTime {
    /// It happens exactly once: this instant (unix seconds).
    Single(i64),
    /// It happens twice (the repeated hour when DST ends): the earlier and
    /// the later instant.
    Ambiguous(i64, i64),
    /// It does not happen (it falls in the hour skipped when DST starts).
    /// Two readings, earlier first: the wall time read with the offset in
    /// force *after* the gap, an instant before the gap that reads as the
    /// wall time moved back by the gap's length (flow-tools' getdate
    /// reading: Chicago 2019-03-10 02:30 is 07:30Z, i.e. 01:30 CST); and
    /// read with the offset *before* the gap, an instant after it that
    /// reads as the wall time moved forward (03:30 CDT, 08:30Z).
    Gap(i64, i64),
}

impl LocalTime {
    /// The earlier instant: the first occurrence of a repeated time, and
    /// for a time in a gap the reading with the offset after the gap (what
    /// flow-tools' getdate resolves such a time to).
    pub fn earliest(self) -> i64 {
        match self {
            LocalTime::Single(t) | LocalTime::Ambiguous(t, _) | LocalTime::Gap(t, _) => t,
        }
    }
}

/// Why a zone name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad zone {given:?}: expected UTC, local or an offset like +02:00 (for a named zone, run with TZ=Area/City and use local)")]
pub struct ZoneError {
    /// What was given.
    pub given: String,
}

impl Zone {
    /// UTC.
    pub const UTC: Zone = Zone::Fixed(0);

    /// Offset from UTC in seconds east, at unix time `t`.
    pub fn offset_at(self, t: i64) -> i32 {
        match self {
            Zone::Fixed(off) => off,
            Zone::Local => match DateTime::<Utc>::from_timestamp(t, 0) {
                Some(utc) => chrono::Local
                    .offset_from_utc_datetime(&utc.naive_utc())
                    .fix()
                    .local_minus_utc(),
                None => 0,
            },
        }
    }

    /// The local wall-clock time at unix time `t`, as seconds since
    /// 1970-01-01 00:00 *local* ("naive" seconds).
    pub fn to_naive(self, t: i64) -> i64 {
        t.saturating_add(i64::from(self.offset_at(t)))
    }

    /// The local wall-clock time at unix time `t`, or `None` out of
    /// chrono's range.
    pub fn naive_datetime(self, t: i64) -> Option<NaiveDateTime> {
        DateTime::from_timestamp(self.to_naive(t), 0).map(|d| d.naive_utc())
    }

    /// Where the naive local time `naive` (seconds since 1970-01-01 00:00
    /// local) falls in this zone.
    pub fn from_naive(self, naive: i64) -> LocalTime {
        match self {
            Zone::Fixed(off) => LocalTime::Single(naive - i64::from(off)),
            Zone::Local => {
                let Some(ndt) = DateTime::from_timestamp(naive, 0).map(|d| d.naive_utc()) else {
                    return LocalTime::Single(naive - i64::from(self.offset_at(naive)));
                };
                match chrono::Local.from_local_datetime(&ndt) {
                    LocalResult::Single(t) => LocalTime::Single(t.timestamp()),
                    LocalResult::Ambiguous(a, b) => {
                        // chrono does not promise an order (its Local
                        // gives the later one first on Linux).
                        let (a, b) = (a.timestamp(), b.timestamp());
                        LocalTime::Ambiguous(a.min(b), a.max(b))
                    }
                    LocalResult::None => {
                        // Gaps last at most a day (Samoa skipped one):
                        // a day either side of the guess is on either
                        // side of the jump.
                        let guess = naive.saturating_sub(i64::from(self.offset_at(naive)));
                        let before = self.offset_at(guess.saturating_sub(DAY));
                        let after = self.offset_at(guess.saturating_add(DAY));
                        let (a, b) = (
                            naive.saturating_sub(i64::from(after)),
                            naive.saturating_sub(i64::from(before)),
                        );
                        LocalTime::Gap(a.min(b), a.max(b))
                    }
                }
            }
        }
    }

    /// The local midnight starting the day that contains `t` (a midnight
    /// that does not exist, DST starting at 00:00, maps to the first
    /// instant of the day).
    pub fn midnight_before(self, t: i64) -> i64 {
        let naive = self.to_naive(t);
        let midnight = naive - naive.rem_euclid(DAY);
        match self.from_naive(midnight) {
            // A midnight inside a DST gap (the clock jumps from 00:00 to
            // 01:00): read with the offset before the gap, it is the
            // instant the gap ends, the first instant of that day.
            LocalTime::Gap(_, after_gap) => after_gap,
            other => other.earliest(),
        }
    }
}

impl std::str::FromStr for Zone {
    type Err = ZoneError;
    /// `UTC` (or `Z`, `GMT`), `local`, or an offset `+hh`, `+hhmm`,
    /// `+hh:mm` (either sign).
    fn from_str(s: &str) -> Result<Zone, ZoneError> {
        let bad = || ZoneError {
            given: s.to_string(),
        };
        match s {
            "UTC" | "utc" | "Z" | "GMT" => return Ok(Zone::UTC),
            "local" | "LOCAL" => return Ok(Zone::Local),
            _ => {}
        }
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'+') => (1, &s[1..]),
            Some(b'-') => (-1, &s[1..]),
            _ => return Err(bad()),
        };
        let digits: String = rest.chars().filter(|&c| c != ':').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (h, m) = match digits.len() {
            2 => (digits.parse::<i32>().map_err(|_| bad())?, 0),
            4 => (
                digits[..2].parse::<i32>().map_err(|_| bad())?,
                digits[2..].parse::<i32>().map_err(|_| bad())?,
            ),
            _ => return Err(bad()),
        };
        if h > 18 || m >= 60 {
            return Err(bad());
        }
        Ok(Zone::Fixed(sign * (h * 3600 + m * 60)))
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Zone::Local => f.write_str("local"),
            Zone::Fixed(0) => f.write_str("UTC"),
            Zone::Fixed(o) => {
                let s = if o < 0 { '-' } else { '+' };
                write!(f, "{s}{:02}:{:02}", o.abs() / 3600, o.abs() % 3600 / 60)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_zones_are_plain_arithmetic() {
        let z = Zone::Fixed(-6 * 3600);
        assert_eq!(z.offset_at(0), -21600);
        assert_eq!(z.to_naive(21600), 0);
        assert_eq!(z.from_naive(0), LocalTime::Single(21600));
        // 2026-11-22 05:15 UTC is 2026-11-21 23:15 at -06:00; midnight
        // before is 2026-11-21 00:00 -06:00 = 06:00 UTC.
        assert_eq!(z.midnight_before(1_795_324_500), 1_795_240_800);
    }

    #[test]
    fn zone_names_parse_and_print() {
        assert_eq!("UTC".parse(), Ok(Zone::UTC));
        assert_eq!("local".parse(), Ok(Zone::Local));
        assert_eq!("+02:00".parse(), Ok(Zone::Fixed(7200)));
        assert_eq!("-0530".parse(), Ok(Zone::Fixed(-19800)));
        assert_eq!("+05".parse(), Ok(Zone::Fixed(18000)));
        assert!("Europe/Paris".parse::<Zone>().is_err());
        assert!("+19:00".parse::<Zone>().is_err());
        assert!("+1".parse::<Zone>().is_err());
        assert!("+ab".parse::<Zone>().is_err());
        assert_eq!(Zone::Fixed(-19800).to_string(), "-05:30");
        assert_eq!(Zone::UTC.to_string(), "UTC");
    }
}
