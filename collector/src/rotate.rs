//! Rotation slots and file names: pure functions of a timestamp and a time
//! zone.
//!
//! A slot is a period of `period` seconds anchored at **local midnight**
//! (flow-tools' rule, spec §4.2); with the default 300 s the boundaries are
//! the wall-clock 00:00, 00:05, ... The last slot of a day ends at the next
//! local midnight even when a DST change makes the day 23 or 25 hours long.
//!
//! File names follow flow-tools' pattern `<prefix>v05.YYYY-MM-DD.HHMMSS±hhmm`
//! in local time: `ft-v05.` / `tmp-v05.` for ft files (exactly flow-tools'
//! names), `nf-v05.` / `tmp-nf-v05.` for native files.

use std::path::PathBuf;

use chrono::{DateTime, Datelike, Local, NaiveDate, Offset, TimeZone, Timelike, Utc};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// The default rotation period: 5-minute files.
pub const DEFAULT_PERIOD: u32 = 300;

/// The time zone names and slots are computed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// The process's local zone (`TZ`, else the system's), as flow-tools.
    Local,
    /// A fixed offset from UTC in seconds (tests).
    Fixed(i32),
}

impl Zone {
    /// Offset from UTC in seconds at unix time `t`.
    pub fn offset_at(self, t: i64) -> i32 {
        match self {
            Zone::Fixed(off) => off,
            Zone::Local => match DateTime::<Utc>::from_timestamp(t, 0) {
                Some(utc) => Local
                    .offset_from_utc_datetime(&utc.naive_utc())
                    .fix()
                    .local_minus_utc(),
                None => 0,
            },
        }
    }

    /// The local midnight starting the day that contains `t`.
    pub fn midnight_before(self, t: i64) -> i64 {
        let off = self.offset_at(t) as i64;
        let guess = t - (t + off).rem_euclid(DAY);
        match self {
            Zone::Fixed(_) => guess,
            Zone::Local => {
                let Some(date) =
                    DateTime::<Utc>::from_timestamp(t + off, 0).map(|d| d.date_naive())
                else {
                    return guess;
                };
                let Some(naive) = date.and_hms_opt(0, 0, 0) else {
                    return guess;
                };
                // A midnight that does not exist (DST jump at 00:00) maps to
                // the first instant after the gap.
                match Local.from_local_datetime(&naive).earliest() {
                    Some(dt) => dt.timestamp(),
                    None => guess,
                }
            }
        }
    }
}

/// How files are cut in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Slot length in seconds (60..=86400).
    pub period: u32,
    /// Zone whose midnight anchors the slots and whose clock names files.
    pub zone: Zone,
}

/// One rotation slot: `[start, end)` in unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// First second of the slot.
    pub start: i64,
    /// First second after the slot.
    pub end: i64,
}

impl Schedule {
    /// flow-tools' `-n N` rotations per day: a period of 86400/(N+1) s.
    pub fn period_for_rotations(n: u32) -> u32 {
        (DAY as u32) / (n + 1)
    }

    /// The slot containing unix time `t`.
    pub fn slot(&self, t: i64) -> Slot {
        let period = self.period.max(1) as i64;
        let midnight = self.zone.midnight_before(t);
        // 26 h after one midnight always lies in the next local day
        // (days are 23..=25 h long).
        let next_midnight = self.zone.midnight_before(midnight + 26 * 3600);
        let start = midnight + (t - midnight).div_euclid(period) * period;
        let end = (start + period).min(next_midnight);
        Slot { start, end }
    }
}

/// Which on-disk format a file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Native flow file (zstd blocks).
    Native,
    /// flow-tools ft file.
    Ft,
}

impl FileKind {
    /// Name prefix of a finished file.
    pub fn final_prefix(self) -> &'static str {
        match self {
            FileKind::Native => "nf-",
            FileKind::Ft => "ft-",
        }
    }

    /// Name prefix of a file being written.
    pub fn tmp_prefix(self) -> &'static str {
        match self {
            FileKind::Native => "tmp-nf-",
            FileKind::Ft => "tmp-",
        }
    }
}

/// Local broken-down time of `t` in a zone with offset `offset` seconds.
fn local(t: i64, offset: i32) -> Option<chrono::NaiveDateTime> {
    DateTime::<Utc>::from_timestamp(t + offset as i64, 0).map(|d| d.naive_utc())
}

/// The name part after the prefix: `v05.YYYY-MM-DD.HHMMSS±hhmm`.
pub fn name_stem(version: u16, t: i64, offset: i32) -> String {
    let Some(lt) = local(t, offset) else {
        return format!("v{version:02}.invalid-time");
    };
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    format!(
        "v{version:02}.{:04}-{:02}-{:02}.{:02}{:02}{:02}{sign}{:02}{:02}",
        lt.year(),
        lt.month(),
        lt.day(),
        lt.hour(),
        lt.minute(),
        lt.second(),
        a / 3600,
        (a / 60) % 60
    )
}

/// The file name for time `t` (local offset `offset`), final or temporary.
pub fn file_name(kind: FileKind, tmp: bool, version: u16, t: i64, offset: i32) -> String {
    let prefix = if tmp {
        kind.tmp_prefix()
    } else {
        kind.final_prefix()
    };
    format!("{prefix}{}", name_stem(version, t, offset))
}

/// The directory (relative to the workdir) for time `t` at nesting level
/// `level` (spec §4.2): 0 none, 1 `YYYY`, 2 `YYYY/YYYY-MM`, 3 (and -3)
/// `YYYY/YYYY-MM/YYYY-MM-DD`, -1 `YYYY-MM-DD`, -2 `YYYY-MM/YYYY-MM-DD`.
pub fn nest_dir(level: i8, t: i64, offset: i32) -> PathBuf {
    let mut p = PathBuf::new();
    let Some(lt) = local(t, offset) else {
        return p;
    };
    let y = format!("{:04}", lt.year());
    let ym = format!("{:04}-{:02}", lt.year(), lt.month());
    let ymd = format!("{:04}-{:02}-{:02}", lt.year(), lt.month(), lt.day());
    match level {
        1 => p.push(y),
        2 => {
            p.push(y);
            p.push(ym);
        }
        3 | -3 => {
            p.push(y);
            p.push(ym);
            p.push(ymd);
        }
        -1 => p.push(ymd),
        -2 => {
            p.push(ym);
            p.push(ymd);
        }
        _ => {}
    }
    p
}

/// What a file name says about a file of ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedName {
    /// Native or ft.
    pub kind: FileKind,
    /// Still being written (`tmp-` prefix).
    pub tmp: bool,
    /// Export version from the name.
    pub version: u16,
    /// The time in the name, as unix seconds.
    pub time: i64,
}

/// Parses a name made by [`file_name`]; `None` for anything else.
pub fn parse_name(name: &str) -> Option<ParsedName> {
    let (kind, tmp, rest) = if let Some(r) = name.strip_prefix("tmp-nf-") {
        (FileKind::Native, true, r)
    } else if let Some(r) = name.strip_prefix("nf-") {
        (FileKind::Native, false, r)
    } else if let Some(r) = name.strip_prefix("tmp-") {
        (FileKind::Ft, true, r)
    } else if let Some(r) = name.strip_prefix("ft-") {
        (FileKind::Ft, false, r)
    } else {
        return None;
    };
    let rest = rest.strip_prefix('v')?;
    let (ver, rest) = rest.split_once('.')?;
    if ver.len() < 2 || !ver.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let version: u16 = ver.parse().ok()?;
    // YYYY-MM-DD.HHMMSS±hhmm = 10 + 1 + 6 + 5 = 22 bytes exactly.
    let b = rest.as_bytes();
    if b.len() != 22 || b[4] != b'-' || b[7] != b'-' || b[10] != b'.' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = rest.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let dt = date.and_hms_opt(num(11..13)?, num(13..15)?, num(15..17)?)?;
    let sign: i64 = match b[17] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let off = sign * (num(18..20)? as i64 * 3600 + num(20..22)? as i64 * 60);
    Some(ParsedName {
        kind,
        tmp,
        version,
        time: dt.and_utc().timestamp() - off,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_313_964; // 2026-11-22 02:19:24 UTC

    #[test]
    fn five_minute_slots_align_to_the_wall_clock() {
        let s = Schedule {
            period: DEFAULT_PERIOD,
            zone: Zone::Fixed(0),
        };
        let slot = s.slot(T);
        assert_eq!(slot.start, T - 264); // 02:15:00
        assert_eq!(slot.end, T - 264 + 300);
        assert_eq!(s.slot(slot.end).start, slot.end);
        assert_eq!(s.slot(slot.end - 1).start, slot.start);
    }

    #[test]
    fn slots_anchor_at_local_midnight() {
        // flow-tools' default -n 95: 900 s slots from local midnight; in a
        // +05:45 zone the boundaries fall at :00/:15/:30/:45 local time.
        let s = Schedule {
            period: Schedule::period_for_rotations(95),
            zone: Zone::Fixed(5 * 3600 + 45 * 60),
        };
        assert_eq!(s.period, 900);
        let slot = s.slot(T);
        let local_start = (slot.start + 5 * 3600 + 45 * 60).rem_euclid(DAY);
        assert_eq!(local_start % 900, 0);
        assert!(slot.start <= T && T < slot.end);
    }

    #[test]
    fn daily_rotation_ends_at_next_midnight() {
        let s = Schedule {
            period: Schedule::period_for_rotations(0),
            zone: Zone::Fixed(-5 * 3600),
        };
        let slot = s.slot(T);
        assert_eq!(slot.end - slot.start, DAY);
        assert_eq!((slot.start - 5 * 3600).rem_euclid(DAY), 0);
    }

    #[test]
    fn an_uneven_period_ends_the_day_with_a_short_slot() {
        let s = Schedule {
            period: 7 * 3600,
            zone: Zone::Fixed(0),
        };
        let m = Zone::Fixed(0).midnight_before(T);
        let last = s.slot(m + DAY - 1);
        assert_eq!(last.start, m + 21 * 3600);
        assert_eq!(last.end, m + DAY);
    }

    #[test]
    fn names_follow_the_flow_tools_pattern() {
        // The golden capture: TZ=America/New_York at 02:19:24 UTC.
        assert_eq!(
            file_name(FileKind::Ft, false, 5, T, -5 * 3600),
            "ft-v05.2026-11-21.211924-0500"
        );
        assert_eq!(
            file_name(FileKind::Ft, true, 5, T, -5 * 3600),
            "tmp-v05.2026-11-21.211924-0500"
        );
        assert_eq!(
            file_name(FileKind::Native, false, 5, T, 0),
            "nf-v05.2026-11-22.021924+0000"
        );
        assert_eq!(
            file_name(FileKind::Native, true, 5, T, 19800),
            "tmp-nf-v05.2026-11-22.074924+0530"
        );
    }

    #[test]
    fn names_parse_back() {
        for (kind, tmp, off) in [
            (FileKind::Ft, false, -5 * 3600),
            (FileKind::Ft, true, 0),
            (FileKind::Native, false, 19800),
            (FileKind::Native, true, -9 * 3600 - 30 * 60),
        ] {
            let n = file_name(kind, tmp, 5, T, off);
            assert_eq!(
                parse_name(&n),
                Some(ParsedName {
                    kind,
                    tmp,
                    version: 5,
                    time: T
                }),
                "{n}"
            );
        }
        for bad in [
            "ft-v05.2026-11-21.211924",
            "flows.txt",
            "ft-v05.2026-13-21.211924-0500",
            "nf-vxx.2026-11-21.211924-0500",
            "tmp-v05.2026-11-21.211924-0500.recovering",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn nesting_levels() {
        let d = |l| nest_dir(l, T, -5 * 3600).to_string_lossy().into_owned();
        assert_eq!(d(0), "");
        assert_eq!(d(1), "2026");
        assert_eq!(d(2), "2026/2026-11");
        assert_eq!(d(3), "2026/2026-11/2026-11-21");
        assert_eq!(d(-3), "2026/2026-11/2026-11-21");
        assert_eq!(d(-1), "2026-11-21");
        assert_eq!(d(-2), "2026-11/2026-11-21");
    }
}
