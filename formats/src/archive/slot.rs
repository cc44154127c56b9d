//! Rotation slots: periods of `period` seconds anchored at local midnight.
//!
//! With the default 300 s the boundaries are the wall-clock 00:00, 00:05,
//! ... of the zone; flow-tools' `-n N` gives a period of 86400/(N+1) s. A
//! period that does not divide the day ends the day with a short slot, and
//! so does a DST day: the last slot always ends at the next local midnight.

use crate::time::{Zone, DAY};

/// The default rotation period: 5-minute files.
pub const DEFAULT_PERIOD: u32 = 300;

/// How files are cut in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Slot length in seconds (the collector allows 60..=86400).
    pub period: u32,
    /// Zone whose midnight anchors the slots and whose clock names files.
    pub zone: Zone,
}

/// One rotation slot: `[start, end)` in unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    /// First second of the slot.
    pub start: i64,
    /// First second after the slot.
    pub end: i64,
}

impl Slot {
    /// True when unix time `t` lies in the slot.
    pub fn contains(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

impl Default for Schedule {
    /// 5-minute slots in the process's local zone.
    fn default() -> Self {
        Schedule {
            period: DEFAULT_PERIOD,
            zone: Zone::Local,
        }
    }
}

impl Schedule {
    /// Slots of `period` seconds in `zone`.
    pub fn new(period: u32, zone: Zone) -> Self {
        Schedule { period, zone }
    }

    /// flow-tools' `-n N` rotations per day: a period of 86400/(N+1) s.
    pub fn period_for_rotations(n: u32) -> u32 {
        (DAY as u32) / n.saturating_add(1)
    }

    /// The slot containing unix time `t`.
    pub fn slot(&self, t: i64) -> Slot {
        slot_from_midnights(t, self.period, |t| self.zone.midnight_before(t))
    }

    /// The slot right after `slot`.
    pub fn next(&self, slot: Slot) -> Slot {
        self.slot(slot.end)
    }

    /// The slots from the one holding `from` to the one holding `to`
    /// (inclusive), in order; empty when `to < from`.
    pub fn slots(&self, from: i64, to: i64) -> impl Iterator<Item = Slot> + '_ {
        let first = (from <= to).then(|| self.slot(from));
        std::iter::successors(first, move |s| Some(self.next(*s)))
            .take_while(move |s| s.start <= to)
    }
}

/// The slot holding `t`, given where local days start (`midnight(t)`: the
/// local midnight starting the day holding `t`). Kept apart from [`Zone`]
/// so that days of any length can be tested without a zone database.
fn slot_from_midnights(t: i64, period: u32, midnight: impl Fn(i64) -> i64) -> Slot {
    let period = i64::from(period.max(1));
    let day_start = midnight(t);
    // 26 h after one midnight always lies in the next local day (days are
    // 23..=25 h long).
    let next_day = midnight(day_start + 26 * 3600);
    let start = day_start + (t - day_start).div_euclid(period) * period;
    let end = (start + period).min(next_day);
    Slot { start, end }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_313_964; // 2026-11-22 02:19:24 UTC

    #[test]
    fn five_minute_slots_align_to_the_wall_clock() {
        let s = Schedule::new(DEFAULT_PERIOD, Zone::UTC);
        let slot = s.slot(T);
        assert_eq!(slot.start, T - 264); // 02:15:00
        assert_eq!(slot.end, T - 264 + 300);
        assert_eq!(s.slot(slot.end).start, slot.end);
        assert_eq!(s.slot(slot.end - 1).start, slot.start);
        assert!(slot.contains(T) && !slot.contains(slot.end));
        assert_eq!(s.next(slot).start, slot.end);
    }

    #[test]
    fn slots_anchor_at_local_midnight() {
        // flow-tools' default -n 95: 900 s slots from local midnight; in a
        // +05:45 zone the boundaries fall at :00/:15/:30/:45 local time.
        let off = 5 * 3600 + 45 * 60;
        let s = Schedule::new(Schedule::period_for_rotations(95), Zone::Fixed(off));
        assert_eq!(s.period, 900);
        let slot = s.slot(T);
        assert_eq!((slot.start + i64::from(off)).rem_euclid(DAY) % 900, 0);
        assert!(slot.contains(T));
    }

    #[test]
    fn daily_rotation_ends_at_next_midnight() {
        let s = Schedule::new(Schedule::period_for_rotations(0), Zone::Fixed(-5 * 3600));
        let slot = s.slot(T);
        assert_eq!(slot.end - slot.start, DAY);
        assert_eq!((slot.start - 5 * 3600).rem_euclid(DAY), 0);
    }

    #[test]
    fn an_uneven_period_ends_the_day_with_a_short_slot() {
        let s = Schedule::new(7 * 3600, Zone::UTC);
        let m = Zone::UTC.midnight_before(T);
        let last = s.slot(m + DAY - 1);
        assert_eq!(last.start, m + 21 * 3600);
        assert_eq!(last.end, m + DAY);
    }

    /// The days around the 2026 DST changes of America/New_York (spring
    /// forward 2026-03-08 07:00 UTC, fall back 2026-11-01 06:00 UTC) read
    /// in the two fixed offsets the zone uses: each is plain 24-hour days,
    /// and the boundaries sit at that offset's wall-clock :00/:05.
    #[test]
    fn fixed_zones_keep_24_hour_days_across_dst_dates() {
        let spring = 1_772_953_200; // 2026-03-08 07:00 UTC
        let fall = 1_793_512_800; // 2026-11-01 06:00 UTC
        for t in [spring, fall] {
            for off in [-5 * 3600, -4 * 3600] {
                let s = Schedule::new(DEFAULT_PERIOD, Zone::Fixed(off));
                let m = Zone::Fixed(off).midnight_before(t);
                assert_eq!((m + i64::from(off)).rem_euclid(DAY), 0);
                let first = s.slot(m);
                let last = s.slot(m + DAY - 1);
                assert_eq!(
                    first,
                    Slot {
                        start: m,
                        end: m + 300
                    }
                );
                assert_eq!(
                    last,
                    Slot {
                        start: m + DAY - 300,
                        end: m + DAY
                    }
                );
                assert_eq!(s.slots(m, m + DAY - 1).count(), 288);
                let slot = s.slot(t + 1);
                assert_eq!((slot.start + i64::from(off)).rem_euclid(300), 0);
            }
        }
    }

    /// A 23-hour and a 25-hour local day (midnights given by hand, as a
    /// DST zone would): slots still start at midnight, keep their period,
    /// and the last one stops at the next midnight.
    #[test]
    fn dst_days_end_at_the_next_midnight() {
        // Day 0 starts at 0 and lasts 23 h; day 1 starts at 23 h and lasts
        // 25 h; day 2 starts at 48 h.
        let midnight = |t: i64| match t {
            t if t < 23 * 3600 => 0,
            t if t < 48 * 3600 => 23 * 3600,
            _ => 48 * 3600,
        };
        let period = 7 * 3600;
        let s = slot_from_midnights(22 * 3600, period, midnight);
        assert_eq!(
            s,
            Slot {
                start: 21 * 3600,
                end: 23 * 3600
            }
        );
        let s = slot_from_midnights(23 * 3600, period, midnight);
        assert_eq!(
            s,
            Slot {
                start: 23 * 3600,
                end: 30 * 3600
            }
        );
        let s = slot_from_midnights(47 * 3600, period, midnight);
        assert_eq!(
            s,
            Slot {
                start: 44 * 3600,
                end: 48 * 3600
            }
        );
        // 5-minute slots: 276 on the short day, 300 on the long one.
        let count = |from: i64, to: i64| {
            let mut n = 0;
            let mut t = from;
            while t < to {
                t = slot_from_midnights(t, 300, midnight).end;
                n += 1;
            }
            n
        };
        assert_eq!(count(0, 23 * 3600), 276);
        assert_eq!(count(23 * 3600, 48 * 3600), 300);
    }

    /// The real thing: `Zone::Local` under TZ=America/New_York on the 2026
    /// DST days. TZ is process-wide, so the checks run in a child process
    /// (this test binary, this test only, with TZ set).
    #[test]
    fn local_dst_days_in_new_york() {
        const CHILD: &str = "FORMATS_ARCHIVE_TZ_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let tzfile = std::path::Path::new("/usr/share/zoneinfo/America/New_York");
            assert!(
                tzfile.exists(),
                "{} is missing: this test needs the time zone database (Debian package tzdata)",
                tzfile.display()
            );
            let exe = std::env::current_exe().unwrap();
            let out = std::process::Command::new(exe)
                .args([
                    "--exact",
                    "archive::slot::tests::local_dst_days_in_new_york",
                ])
                .args(["--nocapture", "--test-threads", "1"])
                .env("TZ", "America/New_York")
                .env(CHILD, "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("1 passed"),
                "{text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let s = Schedule::new(DEFAULT_PERIOD, Zone::Local);
        let spring = 1_772_953_200; // 2026-03-08 07:00 UTC = 03:00 EDT
        let m = Zone::Local.midnight_before(spring);
        assert_eq!(m, 1_772_946_000); // 00:00 EST = 05:00 UTC
        let next = 1_773_028_800; // 2026-03-09 00:00 EDT
        assert_eq!(Zone::Local.midnight_before(m + 26 * 3600), next);
        let slots: Vec<Slot> = s.slots(m, next - 1).collect();
        assert_eq!(slots.len(), 276, "a 23-hour day");
        assert_eq!(slots.last().unwrap().end, next);
        // The slot after 01:55 EST is 03:00 EDT: names show the jump.
        let before = s.slot(spring - 1);
        assert_eq!(
            before,
            Slot {
                start: spring - 300,
                end: spring
            }
        );
        let name = |t| {
            super::super::FileName::new(super::super::FileKind::Ft, 5, t, Zone::Local).to_string()
        };
        assert_eq!(name(before.start), "ft-v05.2026-03-08.015500-0500");
        assert_eq!(name(spring), "ft-v05.2026-03-08.030000-0400");
        let fall = 1_793_512_800; // 2026-11-01 06:00 UTC = 01:00 EST (again)
        let m = Zone::Local.midnight_before(fall);
        assert_eq!(m, 1_793_505_600); // 00:00 EDT = 04:00 UTC
        let next = Zone::Local.midnight_before(m + 26 * 3600);
        assert_eq!(next - m, 25 * 3600, "a 25-hour day");
        assert_eq!(s.slots(m, next - 1).count(), 300);
        // 01:30 happens twice; each is its own slot, named by its offset.
        assert_eq!(name(fall - 1800), "ft-v05.2026-11-01.013000-0400");
        assert_eq!(name(fall + 1800), "ft-v05.2026-11-01.013000-0500");
        assert_ne!(s.slot(fall - 1800), s.slot(fall + 1800));
        // Daily files (-n 0) rotate at midnight + 86400 s, as flow-tools
        // does; the 25th hour is a slot of its own, ending at midnight.
        let daily = Schedule::new(Schedule::period_for_rotations(0), Zone::Local);
        assert_eq!(
            daily.slot(fall),
            Slot {
                start: m,
                end: m + DAY
            }
        );
        assert_eq!(
            daily.slot(m + DAY),
            Slot {
                start: m + DAY,
                end: next
            }
        );
    }

    #[test]
    fn slots_between_two_times_come_in_order() {
        let s = Schedule::new(DEFAULT_PERIOD, Zone::UTC);
        let v: Vec<Slot> = s.slots(T, T + 600).collect();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].start, T - 264);
        assert!(v.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(s.slots(T, T - 1).count(), 0);
    }
}
