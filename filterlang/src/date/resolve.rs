//! From the [`Parts`] a date string said to an instant: fill in what was
//! left out from `now` in the zone, move by weekday and relative items,
//! and resolve the local wall-clock time through [`Zone::from_naive`].
//!
//! The order is getdate's: the wall-clock date and time first (the
//! weekday and calendar months move it on the wall clock), then the zone,
//! then relative seconds (so `yesterday` is exactly 24 h before now).

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, TimeDelta};

use super::grammar::{Parts, Year};
use super::{Problem, Zone};

/// Why the parts name no instant.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ResolveError {
    /// A date or time that does not exist (`2026-02-30`, `25:00`).
    Invalid(Problem),
    /// Past the years the suite handles, or too far to compute.
    OutOfRange,
}

use ResolveError::{Invalid, OutOfRange};

/// The instant of `p` as (unix seconds, microseconds), relative to `now`
/// and in `zone` unless `p` names a zone.
pub(super) fn resolve(p: &Parts, now: i64, zone: Zone) -> Result<(i64, u32), ResolveError> {
    let frame = p.zone.map_or(zone, Zone::Fixed);
    if let Some((secs, micros)) = p.epoch {
        let t = add_months(secs, p.rel_months, frame)?;
        return Ok((t.checked_add(p.rel_seconds).ok_or(OutOfRange)?, micros));
    }
    if p.date.is_none() && p.time.is_none() && p.weekday.is_none() {
        if !p.relative {
            return Err(Invalid(Problem::at(
                1,
                "no date, time or relative item in it (a zone alone names no instant)",
            )));
        }
        let t = add_months(now, p.rel_months, frame)?;
        return Ok((t.checked_add(p.rel_seconds).ok_or(OutOfRange)?, 0));
    }
    let now_local = frame.naive_datetime(now).ok_or(OutOfRange)?;
    let date = match p.date {
        Some(d) => {
            let year = d.year.map_or(i64::from(now_local.year()), Year::full);
            if !(1..=12).contains(&d.month) || !(1..=31).contains(&d.day) {
                return Err(Invalid(Problem::at(
                    d.col,
                    format!(
                        "there is no month {} day {}; expected a month 1-12 and a day 1-31",
                        d.month, d.day
                    ),
                )));
            }
            if !(1..=9999).contains(&year) {
                return Err(OutOfRange);
            }
            // In range: checked above.
            let (y, m, day) = (year as i32, d.month as u32, d.day as u32);
            NaiveDate::from_ymd_opt(y, m, day).ok_or_else(|| {
                Invalid(Problem::at(
                    d.col,
                    format!("there is no day {y:04}-{m:02}-{day:02}"),
                ))
            })?
        }
        None => now_local.date(),
    };
    let (hour, minute, second, micros) = match p.time {
        Some(t) => {
            let hour = match t.pm {
                Some(pm) if (1..=12).contains(&t.hour) => t.hour % 12 + if pm { 12 } else { 0 },
                Some(pm) => {
                    return Err(Invalid(Problem::at(
                        t.col,
                        format!(
                            "there is no hour {} {}; with am/pm the hour is 1-12",
                            t.hour,
                            if pm { "pm" } else { "am" }
                        ),
                    )))
                }
                None => t.hour,
            };
            if hour > 23 || t.minute > 59 || t.second > 59 {
                return Err(Invalid(Problem::at(
                    t.col,
                    format!(
                        "there is no time {:02}:{:02}:{:02}; expected hours 0-23, minutes and \
                         seconds 0-59",
                        t.hour, t.minute, t.second
                    ),
                )));
            }
            // In range: checked above.
            (hour as u32, t.minute as u32, t.second as u32, t.micros)
        }
        None => (0, 0, 0, 0),
    };
    let mut naive = date.and_hms_opt(hour, minute, second).ok_or(OutOfRange)?;
    if let (Some((day, ordinal)), None) = (p.weekday, p.date) {
        // The coming `day` (today counts), moved by whole weeks: `last`
        // is the one before, `next` the one after today, `third` two
        // weeks after the next.
        let today = naive.weekday().num_days_from_sunday();
        let ahead = i64::from((day + 7 - today) % 7);
        let weeks = ordinal - i64::from(ordinal > 0 && today != day);
        let days = weeks
            .checked_mul(7)
            .and_then(|d| d.checked_add(ahead))
            .ok_or(OutOfRange)?;
        naive = add_days(naive, days)?;
    }
    naive = shift_months(naive, p.rel_months)?;
    let mut t = frame.from_naive(naive.and_utc().timestamp()).earliest();
    let time_alone = p.time.is_some() && p.date.is_none() && p.weekday.is_none() && !p.relative;
    if time_alone && t < now {
        // `20:35` is the next 20:35: tomorrow's once today's has passed.
        naive = add_days(naive, 1)?;
        t = frame.from_naive(naive.and_utc().timestamp()).earliest();
    }
    Ok((t.checked_add(p.rel_seconds).ok_or(OutOfRange)?, micros))
}

fn add_days(naive: NaiveDateTime, days: i64) -> Result<NaiveDateTime, ResolveError> {
    let delta = TimeDelta::try_days(days).ok_or(OutOfRange)?;
    naive.checked_add_signed(delta).ok_or(OutOfRange)
}

/// `naive` moved by calendar months, the day clamped to the month's end.
fn shift_months(naive: NaiveDateTime, months: i64) -> Result<NaiveDateTime, ResolveError> {
    let n = u32::try_from(months.unsigned_abs()).map_err(|_| OutOfRange)?;
    if months >= 0 {
        naive.checked_add_months(Months::new(n))
    } else {
        naive.checked_sub_months(Months::new(n))
    }
    .ok_or(OutOfRange)
}

/// The instant `t` moved by calendar months on the wall clock of `zone`.
fn add_months(t: i64, months: i64, zone: Zone) -> Result<i64, ResolveError> {
    if months == 0 {
        return Ok(t);
    }
    let naive = zone.naive_datetime(t).ok_or(OutOfRange)?;
    let moved = shift_months(naive, months)?;
    Ok(zone.from_naive(moved.and_utc().timestamp()).earliest())
}

#[cfg(test)]
mod tests {
    use super::super::{grammar, lex};
    use super::*;

    // Saturday 2026-11-21 20:19:20 at -06:00.
    const NOW: i64 = 1_795_313_960;
    const CST: Zone = Zone::Fixed(-6 * 3600);

    fn at(text: &str) -> Result<(i64, u32), ResolveError> {
        let toks = lex::tokenize(text).unwrap();
        let parts = grammar::parse(&toks).unwrap();
        resolve(&parts, NOW, CST)
    }

    fn secs(text: &str) -> i64 {
        at(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}")).0
    }

    #[test]
    fn weekdays_count_from_today() {
        // Saturday itself is "this" Saturday; next/last are a week off.
        let sat_midnight = 1_795_240_800;
        assert_eq!(secs("saturday"), sat_midnight);
        assert_eq!(secs("this saturday"), sat_midnight);
        assert_eq!(secs("next saturday"), sat_midnight + 7 * 86_400);
        assert_eq!(secs("last saturday"), sat_midnight - 7 * 86_400);
        assert_eq!(secs("monday"), sat_midnight + 2 * 86_400);
        assert_eq!(secs("next monday"), sat_midnight + 2 * 86_400);
        assert_eq!(secs("last monday"), sat_midnight - 5 * 86_400);
        assert_eq!(secs("third monday"), sat_midnight + 16 * 86_400);
        // A weekday next to a date is ignored, as in getdate.
        assert_eq!(secs("Fri 2026-11-21"), sat_midnight);
    }

    #[test]
    fn a_time_alone_is_the_next_one() {
        assert_eq!(secs("20:35"), 1_795_314_900); // later today
        assert_eq!(secs("20:19:20"), NOW); // now counts as next
        assert_eq!(secs("20:00"), 1_795_312_800 + 86_400); // tomorrow
                                                           // Not with a relative item, a date or a weekday.
        assert_eq!(secs("today 20:00"), 1_795_312_800);
        assert_eq!(secs("20:00 yesterday"), 1_795_312_800 - 86_400);
    }

    #[test]
    fn months_keep_the_wall_clock_and_clamp() {
        assert_eq!(secs("2026-01-31 + 1 month"), secs("2026-02-28"));
        assert_eq!(secs("2024-02-29 + 1 year"), secs("2025-02-28"));
        assert_eq!(secs("next month"), NOW + 30 * 86_400);
    }

    #[test]
    fn invalid_dates_and_times_point_at_them() {
        for (text, col) in [
            ("2026-02-30", 1),
            ("2026-13-01", 1),
            ("on 2026-11-21", 0),
            ("Nov 32", 1),
            ("2026-11-21 25:00", 12),
            ("2026-11-21 20:60", 12),
            ("13pm", 1),
            ("0am", 1),
        ] {
            let toks = match lex::tokenize(text) {
                Ok(t) => t,
                Err(_) => continue,
            };
            let Ok(parts) = grammar::parse(&toks) else {
                assert_eq!(col, 0, "{text}");
                continue;
            };
            match resolve(&parts, NOW, CST) {
                Err(Invalid(p)) => assert_eq!(p.col, col, "{text}: {}", p.message),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        assert_eq!(at("0000-01-01"), Err(OutOfRange));
        assert_eq!(at("10000-01-01"), Err(OutOfRange));
        assert!(matches!(at("CST"), Err(Invalid(_))));
    }
}
