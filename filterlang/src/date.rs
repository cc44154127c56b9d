//! Free-form dates for `time-date` primitives, in the spirit of getdate:
//! absolute dates and times in the common spellings, an optional zone, and
//! relative items, evaluated in the local time zone unless a zone is
//! given.
//!
//! Accepted (case-insensitive, commas optional, any order getdate allows):
//! `2005-07-06 16:58:30`, `2005-07-06T16:58:30Z`, `07/06/2005 16:56`,
//! `2005/07/06`, `July 6, 2005 16:56:00`, `Jul 6 2005 4:56pm`,
//! `6 Jul 2005`, `6-Jul-2005`, `Wed Jul  6 16:55:00 2005`, `20050706`,
//! `@1120668900`, zones `UTC GMT UT Z EST EDT CST CDT MST MDT PST PDT CET
//! CEST BST JST +0000 -05:00`, relative items `now today yesterday
//! tomorrow`, `N unit [ago]`, `+N unit`, `last|next unit` with units
//! `sec min hour day week fortnight month year` (and plurals).
//! A date without a time is midnight; a time without a date is today;
//! two-digit years below 69 are 20xx, other two-digit years 19xx.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone as _, Timelike};

/// Which local time zone to use for dates written without a zone and for
/// the `time` primitive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LocalZone {
    /// The process's zone (`TZ`, else the system's), as `localtime()`.
    #[default]
    System,
    /// A fixed offset in seconds east of UTC (tests, reproducible runs).
    FixedOffset(i32),
}

impl LocalZone {
    /// Seconds east of UTC at the instant `utc_secs`.
    #[inline]
    pub fn offset_at(self, utc_secs: i64) -> i64 {
        match self {
            LocalZone::FixedOffset(o) => i64::from(o),
            LocalZone::System => match chrono::DateTime::from_timestamp(utc_secs, 0) {
                Some(dt) => i64::from(
                    chrono::Local
                        .offset_from_utc_datetime(&dt.naive_utc())
                        .fix()
                        .local_minus_utc(),
                ),
                None => 0,
            },
        }
    }

    /// The instant of local wall-clock time `naive` (the earlier one when
    /// the wall-clock time occurs twice, shifted forward across a gap).
    fn to_utc(self, naive: NaiveDateTime) -> i64 {
        let as_utc = naive.and_utc().timestamp();
        match self {
            LocalZone::FixedOffset(o) => as_utc - i64::from(o),
            LocalZone::System => match chrono::Local.from_local_datetime(&naive).earliest() {
                Some(dt) => dt.timestamp(),
                None => as_utc - self.offset_at(as_utc),
            },
        }
    }

    /// Local wall-clock time at `utc_secs`.
    fn local(self, utc_secs: i64) -> Option<NaiveDateTime> {
        let offset = self.offset_at(utc_secs);
        chrono::DateTime::from_timestamp(utc_secs + offset, 0).map(|d| d.naive_utc())
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num { value: u64, digits: usize },
    Word(String),
    Punct(char),
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let value = digits
                .parse::<u64>()
                .map_err(|_| format!("number \"{digits}\" is too long"))?;
            toks.push(Tok::Num {
                value,
                digits: i - start,
            });
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphabetic() || chars[i] == '.') {
                i += 1;
            }
            let word: String = chars[start..i]
                .iter()
                .collect::<String>()
                .to_ascii_lowercase();
            toks.push(Tok::Word(word.trim_end_matches('.').to_string()));
        } else if "+-:/,.@".contains(c) {
            toks.push(Tok::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(toks)
}

fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if word == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| *m == word || (word.len() == 3 && m.starts_with(word)))
        .map(|p| p as u32 + 1)
}

fn is_weekday(word: &str) -> bool {
    const DAYS: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    DAYS.iter()
        .any(|d| *d == word || (word.len() >= 3 && d.starts_with(word)))
        || matches!(word, "tues" | "wednes" | "thur" | "thurs")
}

fn zone_offset(word: &str) -> Option<i64> {
    let hours = match word {
        "utc" | "gmt" | "ut" | "z" | "wet" => 0,
        "bst" | "cet" | "met" | "west" => 1,
        "cest" | "mest" | "eet" => 2,
        "eest" => 3,
        "jst" => 9,
        "est" => -5,
        "edt" | "ast" => -4,
        "cst" => -6,
        "cdt" => -5,
        "mst" => -7,
        "mdt" => -6,
        "pst" => -8,
        "pdt" => -7,
        _ => return None,
    };
    Some(hours * 3600)
}

fn unit_seconds(word: &str) -> Option<Unit> {
    Some(match word {
        "sec" | "secs" | "second" | "seconds" => Unit::Seconds(1),
        "min" | "mins" | "minute" | "minutes" => Unit::Seconds(60),
        "hour" | "hours" => Unit::Seconds(3600),
        "day" | "days" => Unit::Days(1),
        "week" | "weeks" => Unit::Days(7),
        "fortnight" | "fortnights" => Unit::Days(14),
        "month" | "months" => Unit::Months(1),
        "year" | "years" => Unit::Months(12),
        _ => return None,
    })
}

#[derive(Clone, Copy)]
enum Unit {
    Seconds(i64),
    Days(i64),
    Months(i64),
}

#[derive(Default)]
struct Parts {
    year: Option<i64>,
    month: Option<u32>,
    day: Option<u32>,
    time: Option<(u32, u32, u32)>,
    meridian: Option<bool>, // true = pm
    zone: Option<i64>,
    epoch: Option<i64>,
    rel_secs: i64,
    rel_days: i64,
    rel_months: i64,
    relative: bool,
    /// Relative items since the last `ago`.
    pending: Vec<Unit>,
    pending_counts: Vec<i64>,
}

impl Parts {
    fn add_relative(&mut self, count: i64, unit: Unit) {
        self.relative = true;
        self.pending.push(unit);
        self.pending_counts.push(count);
    }

    fn flush(&mut self, sign: i64) {
        for (unit, count) in self.pending.drain(..).zip(self.pending_counts.drain(..)) {
            match unit {
                Unit::Seconds(s) => {
                    self.rel_secs = self
                        .rel_secs
                        .saturating_add(count.saturating_mul(s).saturating_mul(sign))
                }
                Unit::Days(d) => {
                    self.rel_days = self
                        .rel_days
                        .saturating_add(count.saturating_mul(d).saturating_mul(sign))
                }
                Unit::Months(m) => {
                    self.rel_months = self
                        .rel_months
                        .saturating_add(count.saturating_mul(m).saturating_mul(sign))
                }
            }
        }
    }

    fn set_date(&mut self, y: Option<i64>, m: u32, d: u32) -> Result<(), String> {
        if self.month.is_some() {
            return Err("more than one date".to_string());
        }
        self.year = y;
        self.month = Some(m);
        self.day = Some(d);
        Ok(())
    }
}

/// A count as i64, saturating (relative items are bounded later).
fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A small number (day, month, hour, ...) as u32; too large stays invalid.
fn small(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn year_of(value: u64, digits: usize) -> i64 {
    let v = clamp(value);
    if digits <= 2 {
        if v < 69 {
            v + 2000
        } else {
            v + 1900
        }
    } else {
        v
    }
}

/// Parses `text` into seconds since the epoch; `now` anchors relative
/// items, missing dates and missing years.
pub(crate) fn parse_date(text: &str, now: i64, zone: LocalZone) -> Result<i64, String> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err("empty date".to_string());
    }
    let mut p = Parts::default();
    let mut i = 0;
    let num = |i: usize| match toks.get(i) {
        Some(Tok::Num { value, digits }) => Some((*value, *digits)),
        _ => None,
    };
    let punct = |i: usize, c: char| toks.get(i) == Some(&Tok::Punct(c));
    let word = |i: usize| match toks.get(i) {
        Some(Tok::Word(w)) => Some(w.as_str()),
        _ => None,
    };
    while i < toks.len() {
        // @epoch
        if punct(i, '@') {
            let negative = punct(i + 1, '-');
            let k = if negative { i + 2 } else { i + 1 };
            let (v, _) = num(k).ok_or("expected seconds after '@'")?;
            let v = i64::try_from(v).map_err(|_| "epoch seconds out of range".to_string())?;
            p.epoch = Some(if negative { -v } else { v });
            i = k + 1;
            continue;
        }
        if let Some((v, digits)) = num(i) {
            // time hh:mm[:ss[.frac]]
            if punct(i + 1, ':') {
                let (m, _) = num(i + 2).ok_or("expected minutes after ':'")?;
                let mut s = 0;
                let mut k = i + 3;
                if punct(k, ':') {
                    s = num(k + 1).ok_or("expected seconds after ':'")?.0;
                    k += 2;
                    if punct(k, '.') && num(k + 1).is_some() {
                        k += 2; // fraction of a second: ignored
                    }
                }
                if p.time.is_some() {
                    return Err("more than one time of day".to_string());
                }
                p.time = Some((small(v), small(m), small(s)));
                i = k;
                if let Some(w) = word(i) {
                    if w == "am" || w == "pm" {
                        p.meridian = Some(w == "pm");
                        i += 1;
                    }
                }
                // numeric zone right after a time
                if (punct(i, '+') || punct(i, '-'))
                    && num(i + 1).is_some()
                    && word(i + 2).and_then(unit_seconds).is_none()
                {
                    let (z, consumed) = numeric_zone(&toks, i)?;
                    p.zone = Some(z);
                    i += consumed;
                }
                continue;
            }
            // hour with am/pm: "4pm"
            if let Some(w @ ("am" | "pm")) = word(i + 1) {
                if p.time.is_some() {
                    return Err("more than one time of day".to_string());
                }
                p.time = Some((small(v), 0, 0));
                p.meridian = Some(w == "pm");
                i += 2;
                continue;
            }
            // ISO yyyy-mm-dd, or dd-mon-yyyy
            if punct(i + 1, '-') {
                if let (Some((m, _)), true, Some((d, _))) =
                    (num(i + 2), punct(i + 3, '-'), num(i + 4))
                {
                    p.set_date(Some(year_of(v, digits)), small(m), small(d))?;
                    i += 5;
                    if word(i) == Some("t") {
                        i += 1;
                    }
                    continue;
                }
                if let Some(m) = word(i + 2).and_then(month_number) {
                    let mut k = i + 3;
                    let mut y = None;
                    if punct(k, '-') {
                        let (yv, yd) = num(k + 1).ok_or("expected a year after '-'")?;
                        y = Some(year_of(yv, yd));
                        k += 2;
                    }
                    p.set_date(y, m, small(v))?;
                    i = k;
                    continue;
                }
            }
            // m/d[/y] or yyyy/m/d
            if punct(i + 1, '/') {
                let (b, _) = num(i + 2).ok_or("expected a number after '/'")?;
                if punct(i + 3, '/') {
                    let (c, cd) = num(i + 4).ok_or("expected a number after '/'")?;
                    if digits == 4 {
                        p.set_date(Some(clamp(v)), small(b), small(c))?;
                    } else {
                        p.set_date(Some(year_of(c, cd)), small(v), small(b))?;
                    }
                    i += 5;
                } else {
                    p.set_date(None, small(v), small(b))?;
                    i += 3;
                }
                continue;
            }
            // relative: N unit [ago]
            if let Some(unit) = word(i + 1).and_then(unit_seconds) {
                p.add_relative(clamp(v), unit);
                i += 2;
                continue;
            }
            // day month [year]
            if let Some(m) = word(i + 1).and_then(month_number) {
                let mut k = i + 2;
                let mut y = None;
                if punct(k, ',') {
                    k += 1;
                }
                if let Some((yv, yd)) = num(k) {
                    if !punct(k + 1, ':') {
                        y = Some(year_of(yv, yd));
                        k += 1;
                    }
                }
                p.set_date(y, m, small(v))?;
                i = k;
                continue;
            }
            // yyyymmdd
            if digits == 8 && p.month.is_none() {
                p.set_date(
                    Some((v / 10000) as i64),
                    ((v / 100) % 100) as u32,
                    (v % 100) as u32,
                )?;
                i += 1;
                continue;
            }
            // a bare year after a month-day without year
            if p.month.is_some() && p.year.is_none() && digits == 4 {
                p.year = Some(clamp(v));
                i += 1;
                continue;
            }
            return Err(format!("unexpected number {v}"));
        }
        if let Some(w) = word(i) {
            if let Some(m) = month_number(w) {
                // month day [,] [year]
                let mut k = i + 1;
                if punct(k, '.') {
                    k += 1;
                }
                let (d, _) = num(k).ok_or_else(|| format!("expected a day after \"{w}\""))?;
                if punct(k + 1, ':') {
                    return Err(format!("expected a day after \"{w}\""));
                }
                k += 1;
                if punct(k, ',') {
                    k += 1;
                }
                let mut y = None;
                if let Some((yv, yd)) = num(k) {
                    if !punct(k + 1, ':') && !word(k + 1).is_some_and(|w| w == "am" || w == "pm") {
                        y = Some(year_of(yv, yd));
                        k += 1;
                    }
                }
                p.set_date(y, m, small(d))?;
                i = k;
                continue;
            }
            if is_weekday(w) {
                i += 1;
                if punct(i, ',') {
                    i += 1;
                }
                continue;
            }
            if let Some(z) = zone_offset(w) {
                p.zone = Some(z);
                i += 1;
                continue;
            }
            match w {
                "now" | "today" => {
                    p.relative = true;
                    i += 1;
                    continue;
                }
                "yesterday" => {
                    p.add_relative(-1, Unit::Days(1));
                    i += 1;
                    continue;
                }
                "tomorrow" => {
                    p.add_relative(1, Unit::Days(1));
                    i += 1;
                    continue;
                }
                "ago" => {
                    p.flush(-1);
                    i += 1;
                    continue;
                }
                "last" | "next" | "this" => {
                    let count = match w {
                        "last" => -1,
                        "next" => 1,
                        _ => 0,
                    };
                    let unit = word(i + 1)
                        .and_then(unit_seconds)
                        .ok_or_else(|| format!("expected a unit after \"{w}\""))?;
                    p.add_relative(count, unit);
                    i += 2;
                    continue;
                }
                _ => return Err(format!("unknown word \"{w}\"")),
            }
        }
        if punct(i, ',') {
            i += 1;
            continue;
        }
        if punct(i, '+') || punct(i, '-') {
            let sign = if punct(i, '-') { -1 } else { 1 };
            if let (Some((v, _)), Some(unit)) = (num(i + 1), word(i + 2).and_then(unit_seconds)) {
                p.add_relative(sign * clamp(v), unit);
                i += 3;
                continue;
            }
            if num(i + 1).is_some() {
                let (z, consumed) = numeric_zone(&toks, i)?;
                p.zone = Some(z);
                i += consumed;
                continue;
            }
        }
        return Err(match &toks[i] {
            Tok::Punct(c) => format!("unexpected '{c}'"),
            other => format!("unexpected {other:?}"),
        });
    }
    p.flush(1);
    resolve(&p, now, zone)
}

/// `+hhmm`, `-hh`, `+hh:mm` starting at `i`: (offset seconds, tokens used).
fn numeric_zone(toks: &[Tok], i: usize) -> Result<(i64, usize), String> {
    let sign = if toks.get(i) == Some(&Tok::Punct('-')) {
        -1
    } else {
        1
    };
    let Some(Tok::Num { value, digits }) = toks.get(i + 1) else {
        return Err("expected a zone offset".to_string());
    };
    let value = &(*value).min(9999);
    let (h, m, used) = if *digits > 2 {
        (*value / 100, *value % 100, 2)
    } else if toks.get(i + 2) == Some(&Tok::Punct(':')) {
        match toks.get(i + 3) {
            Some(Tok::Num { value: mm, .. }) => (*value, *mm, 4),
            _ => return Err("expected zone minutes after ':'".to_string()),
        }
    } else {
        (*value, 0, 2)
    };
    if h > 14 || m > 59 {
        return Err(format!("zone offset {h:02}{m:02} out of range"));
    }
    Ok((sign * (h as i64 * 3600 + m as i64 * 60), used))
}

fn resolve(p: &Parts, now: i64, zone: LocalZone) -> Result<i64, String> {
    if let Some(e) = p.epoch {
        return e
            .checked_add(p.rel_secs)
            .and_then(|t| t.checked_add(p.rel_days.checked_mul(86400)?))
            .ok_or_else(|| "date out of range".to_string());
    }
    let now_local = match p.zone {
        Some(z) => chrono::DateTime::from_timestamp(now + z, 0).map(|d| d.naive_utc()),
        None => zone.local(now),
    }
    .ok_or("the current time is out of range")?;
    let has_date = p.month.is_some();
    let has_time = p.time.is_some();
    if !has_date && !has_time && !p.relative {
        return Err("no date or time found".to_string());
    }
    let date = if has_date {
        let y = p.year.unwrap_or(i64::from(now_local.year()));
        let m = p.month.unwrap_or(1);
        let d = p.day.unwrap_or(1);
        i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
            .ok_or_else(|| format!("no such date {y:04}-{m:02}-{d:02}"))?
    } else {
        now_local.date()
    };
    let time = match p.time {
        Some((h, m, s)) => {
            let h = match p.meridian {
                Some(pm) if !(1..=12).contains(&h) => {
                    return Err(format!("hour {h} with {}", if pm { "pm" } else { "am" }))
                }
                Some(true) => h % 12 + 12,
                Some(false) => h % 12,
                None => h,
            };
            NaiveTime::from_hms_opt(h, m, s)
                .ok_or_else(|| format!("no such time {h:02}:{m:02}:{s:02}"))?
        }
        None if has_date => NaiveTime::MIN,
        None => now_local
            .time()
            .with_nanosecond(0)
            .unwrap_or(NaiveTime::MIN),
    };
    let mut date = date;
    if p.rel_months != 0 {
        let months = chrono::Months::new(p.rel_months.unsigned_abs().min(u32::MAX as u64) as u32);
        date = if p.rel_months > 0 {
            date.checked_add_months(months)
        } else {
            date.checked_sub_months(months)
        }
        .ok_or("relative date out of range")?;
    }
    date = date
        .checked_add_signed(
            chrono::TimeDelta::try_days(p.rel_days).ok_or("relative date out of range")?,
        )
        .ok_or("relative date out of range")?;
    let naive = NaiveDateTime::new(date, time);
    let secs = match p.zone {
        Some(z) => naive.and_utc().timestamp() - z,
        None => zone.to_utc(naive),
    };
    secs.checked_add(p.rel_secs)
        .ok_or_else(|| "date out of range".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const UTC: LocalZone = LocalZone::FixedOffset(0);
    // 2005-07-06 16:55:08 UTC, inside the golden capture
    const NOW: i64 = 1_120_668_908;

    fn utc(text: &str) -> i64 {
        parse_date(text, NOW, UTC).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn the_golden_forms() {
        assert_eq!(utc("July 6, 2005 16:56:00"), 1_120_668_960);
        assert_eq!(utc("2005-07-06 16:58:30"), 1_120_669_110);
    }

    #[test]
    fn common_forms_agree() {
        let t = 1_120_668_960; // 2005-07-06 16:56:00 UTC
        for text in [
            "2005-07-06 16:56:00",
            "2005-07-06T16:56:00Z",
            "2005-07-06T16:56:00+00:00",
            "2005-07-06 16:56",
            "07/06/2005 16:56",
            "7/6/05 16:56:00",
            "2005/07/06 16:56:00",
            "Jul 6 2005 16:56:00",
            "Jul 6 2005 4:56pm",
            "Wed Jul  6 16:56:00 2005",
            "Wed, 06 Jul 2005 16:56:00 +0000",
            "6 July 2005 16:56 GMT",
            "6-Jul-2005 16:56:00 UTC",
            "16:56:00 2005-07-06",
            "July 6 16:56:00",
            "@1120668960",
            "2005-07-06 12:56:00 EDT",
            "2005-07-06 18:56:00 +02:00",
            "2005-07-06 11:56:00 -0500",
        ] {
            assert_eq!(utc(text), t, "{text}");
        }
        assert_eq!(utc("20050706"), 1_120_608_000);
        assert_eq!(utc("2005-07-06"), 1_120_608_000);
    }

    #[test]
    fn relative_forms() {
        assert_eq!(utc("now"), NOW);
        assert_eq!(utc("1 hour ago"), NOW - 3600);
        assert_eq!(utc("+2 days"), NOW + 2 * 86400);
        assert_eq!(utc("yesterday"), NOW - 86400);
        assert_eq!(utc("last week"), NOW - 7 * 86400);
        assert_eq!(utc("16:00"), 1_120_665_600);
        assert_eq!(utc("2005-07-06 + 1 day"), 1_120_608_000 + 86400);
    }

    #[test]
    fn local_zone_applies_without_an_explicit_zone() {
        let ny = LocalZone::FixedOffset(-4 * 3600);
        assert_eq!(
            parse_date("2005-07-06 12:56:00", NOW, ny).unwrap(),
            1_120_668_960
        );
        assert_eq!(
            parse_date("2005-07-06 16:56:00 UTC", NOW, ny).unwrap(),
            1_120_668_960
        );
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        for text in [
            "@-9223372036854775808",
            "@18446744073709551615",
            "9223372036854775807 years ago",
            "18446744073709551615 seconds ago ago",
            "- 9999999999999999999 days",
            "4294967297:00",
            "2005-07-06 16:56 +99:99",
            "99999999999999999999",
        ] {
            let _ = parse_date(text, NOW, UTC);
        }
        assert!(parse_date("4294967297:00", NOW, UTC).is_err());
    }

    #[test]
    fn garbage_is_rejected() {
        for text in [
            "not a date at all",
            "",
            "   ",
            "2005-13-01",
            "2005-02-30",
            "25:00",
            "July",
            "13pm",
            "16:56 16:57",
            "2005-07-06 2005-07-07",
            "#",
            "99999999999999999999999",
        ] {
            assert!(parse_date(text, NOW, UTC).is_err(), "{text:?} should fail");
        }
    }
}
