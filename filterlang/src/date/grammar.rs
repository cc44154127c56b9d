//! The getdate grammar, by hand: a walk over the tokens that recognises
//! one item at a time (a time of day, a date in one of its spellings, a
//! zone, a weekday, a relative item) and records it in [`Parts`].
//! Nothing here knows the clock or the zone database; [`super::resolve`]
//! turns the parts into an instant.

use super::lex::{self, Kind, Tok, Unit};
use super::Problem;

/// A year as written: its value and how many digits it had (two-digit
/// years are 1969..2068, as getdate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Year {
    /// The number written.
    pub value: u64,
    /// Its digits.
    pub digits: usize,
}

impl Year {
    /// The calendar year: `00`..`68` are 2000..2068, `69`..`99` are
    /// 1969..1999, anything longer is literal.
    pub fn full(self) -> i64 {
        let v = i64::try_from(self.value).unwrap_or(i64::MAX);
        match (self.digits, v) {
            (..=2, 0..=68) => 2000 + v,
            (..=2, _) => 1900 + v,
            _ => v,
        }
    }
}

/// A time of day as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct TimeOfDay {
    /// Hour as written (0..=23, or 1..=12 with a meridian).
    pub hour: u64,
    /// Minutes.
    pub minute: u64,
    /// Seconds.
    pub second: u64,
    /// Microseconds of a fraction (`:29.25`), truncated.
    pub micros: u32,
    /// `Some(true)` for pm, `Some(false)` for am.
    pub pm: Option<bool>,
    /// Column, for messages.
    pub col: usize,
}

/// A date as written (year optional).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Date {
    /// The year, when given.
    pub year: Option<Year>,
    /// Month, 1..=12 when valid.
    pub month: u64,
    /// Day of the month.
    pub day: u64,
    /// Column, for messages.
    pub col: usize,
}

/// Everything a date string said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Parts {
    /// The calendar date.
    pub date: Option<Date>,
    /// The time of day.
    pub time: Option<TimeOfDay>,
    /// An explicit zone, seconds east of UTC.
    pub zone: Option<i32>,
    /// A weekday (0 = Sunday) and its ordinal (`last` -1, none 0, `next`
    /// 1, `third` 3).
    pub weekday: Option<(u32, i64)>,
    /// `@SECONDS[.FRACTION]`: seconds and microseconds.
    pub epoch: Option<(i64, u32)>,
    /// Relative seconds (`2 hours ago`, `yesterday`, `+1 week`).
    pub rel_seconds: i64,
    /// Relative calendar months (`next month`, `1 year ago`).
    pub rel_months: i64,
    /// Whether any relative item, `now` or `today` was given.
    pub relative: bool,
}

/// Set when a count, or the sum of relative items, cannot be held:
/// reported as out of range, not as a syntax error.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Overflow;

/// What went wrong: a syntax problem at a column, or an overflow.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum GrammarError {
    /// Not a date.
    Syntax(Problem),
    /// A date whose numbers are too large to add up.
    Overflow,
}

impl From<Problem> for GrammarError {
    fn from(p: Problem) -> Self {
        GrammarError::Syntax(p)
    }
}

impl From<Overflow> for GrammarError {
    fn from(_: Overflow) -> Self {
        GrammarError::Overflow
    }
}

type Step = Result<(), GrammarError>;

/// Walks the tokens, one item at a time.
struct Walker<'t, 'a> {
    toks: &'t [Tok<'a>],
    i: usize,
    parts: Parts,
    /// Relative items since the last `ago` (which negates them).
    pending: Vec<(i64, Unit)>,
}

/// Reads the items of `toks`.
pub(super) fn parse(toks: &[Tok<'_>]) -> Result<Parts, GrammarError> {
    let mut w = Walker {
        toks,
        i: 0,
        parts: Parts::default(),
        pending: Vec::new(),
    };
    while w.i < toks.len() {
        w.item()?;
    }
    w.flush(1)?;
    let p = &w.parts;
    if p.epoch.is_some() && (p.date.is_some() || p.time.is_some() || p.weekday.is_some()) {
        let col = toks.first().map_or(1, |t| t.col);
        return Err(Problem::at(
            col,
            "@SECONDS stands for a whole date; it cannot be combined with another date, \
             time or weekday",
        )
        .into());
    }
    Ok(w.parts)
}

impl<'a> Walker<'_, 'a> {
    fn tok(&self, k: usize) -> Option<&Tok<'a>> {
        self.toks.get(k)
    }

    fn num(&self, k: usize) -> Option<(&'a str, Option<u64>)> {
        match self.tok(k)?.kind {
            Kind::Num { text, value } => Some((text, value)),
            _ => None,
        }
    }

    fn word(&self, k: usize) -> Option<&str> {
        match &self.tok(k)?.kind {
            Kind::Word(w) => Some(w.as_str()),
            _ => None,
        }
    }

    fn punct(&self, k: usize, c: char) -> bool {
        matches!(self.tok(k), Some(Tok { kind: Kind::Punct(p), .. }) if *p == c)
    }

    /// True when token `k` ends exactly where `k + 1` starts.
    fn joined(&self, k: usize) -> bool {
        match (self.tok(k), self.tok(k + 1)) {
            (Some(a), Some(b)) => a.end == b.start,
            _ => false,
        }
    }

    /// The column of token `k`, or the column just past the input.
    fn col(&self, k: usize) -> usize {
        match (self.tok(k), self.toks.last()) {
            (Some(t), _) => t.col,
            // Tokens are ASCII: their length in bytes is their width.
            (None, Some(t)) => t.col + (t.end - t.start),
            (None, None) => 1,
        }
    }

    fn err(&self, k: usize, message: impl Into<String>) -> GrammarError {
        GrammarError::Syntax(Problem::at(self.col(k), message))
    }

    /// The value of the number at `k`, or an overflow.
    fn value(&self, k: usize) -> Result<u64, GrammarError> {
        match self.num(k) {
            Some((_, Some(v))) => Ok(v),
            Some((_, None)) => Err(GrammarError::Overflow),
            None => Err(self.err(k, "expected a number")),
        }
    }

    fn digits(&self, k: usize) -> usize {
        self.num(k).map_or(0, |(t, _)| t.len())
    }

    fn year(&self, k: usize) -> Result<Year, GrammarError> {
        Ok(Year {
            value: self.value(k)?,
            digits: self.digits(k),
        })
    }

    /// One item starting at `self.i`.
    fn item(&mut self) -> Step {
        let i = self.i;
        if self.num(i).is_some() {
            return self.number_item();
        }
        if let Some(word) = self.word(i).map(str::to_string) {
            return self.word_item(&word);
        }
        match self.tok(i).map(|t| &t.kind) {
            Some(Kind::Punct(',')) => {
                self.i += 1;
                Ok(())
            }
            Some(Kind::Punct(sign @ ('+' | '-'))) => {
                let sign = if *sign == '-' { -1 } else { 1 };
                if self.num(i + 1).is_some() {
                    if let Some(unit) = self.word(i + 2).and_then(lex::unit) {
                        let n = signed(self.value(i + 1)?, sign)?;
                        self.pending.push((n, unit));
                        self.parts.relative = true;
                        self.i += 3;
                        return Ok(());
                    }
                    return self.numeric_zone(i);
                }
                Err(self.err(
                    i,
                    "expected a number after the sign (a zone like -0600 or a relative item \
                     like -2 hours)",
                ))
            }
            Some(Kind::Punct('@')) => self.epoch(),
            Some(Kind::Punct(c)) => Err(self.err(i, format!("unexpected '{c}'"))),
            _ => Err(self.err(i, "unexpected end")),
        }
    }

    /// `@[-]SECONDS[.FRACTION]`.
    fn epoch(&mut self) -> Step {
        let i = self.i;
        if self.parts.epoch.is_some() {
            return Err(self.err(i, "a second @SECONDS"));
        }
        let (sign, k) = if self.punct(i + 1, '-') {
            (-1, i + 2)
        } else if self.punct(i + 1, '+') {
            (1, i + 2)
        } else {
            (1, i + 1)
        };
        if self.num(k).is_none() {
            return Err(self.err(k, "expected unix seconds after '@', e.g. @1795293329"));
        }
        let secs = signed(self.value(k)?, sign)?;
        let mut next = k + 1;
        let mut micros = 0;
        if self.punct(next, '.') {
            let Some((frac, _)) = self.num(next + 1) else {
                return Err(self.err(next + 1, "expected digits after the decimal point"));
            };
            micros = fraction_micros(frac);
            next += 2;
        }
        // -1.5 is 1.5 s before the epoch: -2 s + 0.5 s.
        let (secs, micros) = if sign < 0 && micros > 0 {
            (secs.checked_sub(1).ok_or(Overflow)?, 1_000_000 - micros)
        } else {
            (secs, micros)
        };
        self.parts.epoch = Some((secs, micros));
        self.i = next;
        Ok(())
    }

    /// An item that starts with a number.
    fn number_item(&mut self) -> Step {
        let i = self.i;
        let col = self.col(i);
        // H:MM[:SS[.frac]] [am|pm] [zone]
        if self.punct(i + 1, ':') {
            return self.clock_time();
        }
        // H am|pm
        if let Some(pm) = self.word(i + 1).and_then(lex::meridian) {
            let hour = self.value(i)?;
            self.i += 2;
            return self.set_time(TimeOfDay {
                hour,
                minute: 0,
                second: 0,
                micros: 0,
                pm: Some(pm),
                col,
            });
        }
        // Y-M-D (ISO 8601), D-Mon[-Y]
        if self.punct(i + 1, '-') {
            if self.num(i + 2).is_some() && self.punct(i + 3, '-') && self.num(i + 4).is_some() {
                let date = Date {
                    year: Some(self.year(i)?),
                    month: self.value(i + 2)?,
                    day: self.value(i + 4)?,
                    col,
                };
                self.i += 5;
                self.set_date(date, i)?;
                // 2026-11-21T20:35:29: `T` joined on both sides separates
                // date and time (RFC 3339), it is not the zone T.
                if self.word(self.i) == Some("t")
                    && self.joined(self.i - 1)
                    && self.joined(self.i)
                    && self.num(self.i + 1).is_some()
                {
                    self.i += 1;
                }
                return Ok(());
            }
            if let Some(month) = self.word(i + 2).and_then(lex::month) {
                let mut year = None;
                let mut k = i + 3;
                if self.punct(k, '-') && self.num(k + 1).is_some() {
                    year = Some(self.year(k + 1)?);
                    k += 2;
                }
                let date = Date {
                    year,
                    month: u64::from(month),
                    day: self.value(i)?,
                    col,
                };
                self.i = k;
                return self.set_date(date, i);
            }
        }
        // M/D[/Y], Y/M/D
        if self.punct(i + 1, '/') {
            if self.num(i + 2).is_none() {
                return Err(self.err(i + 2, "expected a number after '/'"));
            }
            let date = if self.punct(i + 3, '/') {
                if self.num(i + 4).is_none() {
                    return Err(self.err(i + 4, "expected a number after '/'"));
                }
                self.i += 5;
                if self.digits(i) >= 4 {
                    Date {
                        year: Some(self.year(i)?),
                        month: self.value(i + 2)?,
                        day: self.value(i + 4)?,
                        col,
                    }
                } else {
                    Date {
                        year: Some(self.year(i + 4)?),
                        month: self.value(i)?,
                        day: self.value(i + 2)?,
                        col,
                    }
                }
            } else {
                self.i += 3;
                Date {
                    year: None,
                    month: self.value(i)?,
                    day: self.value(i + 2)?,
                    col,
                }
            };
            return self.set_date(date, i);
        }
        // N unit: 2 hours
        if let Some(unit) = self.word(i + 1).and_then(lex::unit) {
            let n = signed(self.value(i)?, 1)?;
            self.pending.push((n, unit));
            self.parts.relative = true;
            self.i += 2;
            return Ok(());
        }
        // N weekday: 2 monday (the second Monday from now)
        if let Some(day) = self.word(i + 1).and_then(lex::weekday) {
            let n = signed(self.value(i)?, 1)?;
            self.i += 2;
            return self.set_weekday(day, n, i);
        }
        // D Mon [Y]
        if let Some(month) = self.word(i + 1).and_then(lex::month) {
            let mut k = i + 2;
            let mut year = None;
            if self.num(k).is_some() && !self.starts_time(k) {
                year = Some(self.year(k)?);
                k += 1;
            }
            let date = Date {
                year,
                month: u64::from(month),
                day: self.value(i)?,
                col,
            };
            self.i = k;
            return self.set_date(date, i);
        }
        self.bare_number()
    }

    /// True when the number at `k` begins a time of day (`20:35`, `8pm`).
    fn starts_time(&self, k: usize) -> bool {
        self.punct(k + 1, ':') || self.word(k + 1).and_then(lex::meridian).is_some()
    }

    /// A number standing alone: a year after a date without one, a date
    /// `YYYYMMDD` (more than 4 digits), else a time `H` or `HHMM`.
    fn bare_number(&mut self) -> Step {
        let i = self.i;
        let digits = self.digits(i);
        let v = self.value(i)?;
        let p = &self.parts;
        let year_missing = p.date.is_some_and(|d| d.year.is_none());
        if year_missing && !p.relative && (p.time.is_some() || digits > 2) {
            if let Some(d) = self.parts.date.as_mut() {
                d.year = Some(Year { value: v, digits });
            }
            self.i += 1;
            return Ok(());
        }
        let col = self.col(i);
        if digits > 4 {
            // YYYYMMDD (the year has digits - 4 digits: YYMMDD is 20YY).
            let date = Date {
                year: Some(Year {
                    value: v / 10_000,
                    digits: digits - 4,
                }),
                month: v / 100 % 100,
                day: v % 100,
                col,
            };
            self.i += 1;
            return self.set_date(date, i);
        }
        let (hour, minute) = if digits <= 2 {
            (v, 0)
        } else {
            (v / 100, v % 100)
        };
        self.i += 1;
        self.set_time(TimeOfDay {
            hour,
            minute,
            second: 0,
            micros: 0,
            pm: None,
            col,
        })
    }

    /// `H:MM[:SS[.frac]] [am|pm] [±hh[mm] | ±hh:mm]`.
    fn clock_time(&mut self) -> Step {
        let i = self.i;
        let col = self.col(i);
        let hour = self.value(i)?;
        if self.num(i + 2).is_none() {
            return Err(self.err(i + 2, "expected minutes after ':'"));
        }
        let minute = self.value(i + 2)?;
        let mut k = i + 3;
        let mut second = 0;
        let mut micros = 0;
        if self.punct(k, ':') {
            if self.num(k + 1).is_none() {
                return Err(self.err(k + 1, "expected seconds after ':'"));
            }
            second = self.value(k + 1)?;
            k += 2;
            if self.punct(k, '.') || (self.punct(k, ',') && self.joined(k)) {
                if let Some((frac, _)) = self.num(k + 1) {
                    micros = fraction_micros(frac);
                    k += 2;
                }
            }
        }
        let mut pm = None;
        if let Some(m) = self.word(k).and_then(lex::meridian) {
            pm = Some(m);
            k += 1;
        }
        self.i = k;
        self.set_time(TimeOfDay {
            hour,
            minute,
            second,
            micros,
            pm,
            col,
        })?;
        // A numeric zone right after the time: 20:35:29-06:00.
        if (self.punct(self.i, '+') || self.punct(self.i, '-'))
            && self.num(self.i + 1).is_some()
            && self.word(self.i + 2).and_then(lex::unit).is_none()
        {
            self.numeric_zone(self.i)?;
        }
        Ok(())
    }

    /// `±hhmm`, `±hh`, `±hh:mm` at `k`.
    fn numeric_zone(&mut self, k: usize) -> Step {
        let sign = if self.punct(k, '-') { -1 } else { 1 };
        let digits = self.digits(k + 1);
        let v = self.value(k + 1)?;
        let (h, m, used) = match digits {
            1 | 2 if self.punct(k + 2, ':') => {
                if self.num(k + 3).is_none() {
                    return Err(self.err(k + 3, "expected the zone's minutes after ':'"));
                }
                (v, self.value(k + 3)?, 4)
            }
            1 | 2 => (v, 0, 2),
            3 | 4 => (v / 100, v % 100, 2),
            _ => {
                return Err(self.err(
                    k,
                    "a zone offset has at most 4 digits: expected e.g. -0600, +05:30 or +02",
                ))
            }
        };
        if h > 24 || m > 59 || h * 60 + m > 24 * 60 {
            return Err(self.err(
                k,
                format!("zone offset {h:02}{m:02} is out of range; expected at most 24 hours"),
            ));
        }
        let offset = sign * (h as i32 * 3600 + m as i32 * 60);
        self.set_zone(offset, k)?;
        self.i = k + used;
        Ok(())
    }

    /// An item that starts with a word.
    fn word_item(&mut self, word: &str) -> Step {
        let i = self.i;
        // Mon[.] D[,] [Y], Mon-D-Y
        if let Some(month) = lex::month(word) {
            let col = self.col(i);
            let dashed = self.punct(i + 1, '-');
            let k = if dashed { i + 2 } else { i + 1 };
            if self.num(k).is_none() || self.punct(k + 1, ':') {
                return Err(self.err(
                    k,
                    format!("expected a day of the month after \"{word}\", e.g. {word} 21"),
                ));
            }
            let mut date = Date {
                year: None,
                month: u64::from(month),
                day: self.value(k)?,
                col,
            };
            let mut next = k + 1;
            if dashed && self.punct(next, '-') && self.num(next + 1).is_some() {
                date.year = Some(self.year(next + 1)?);
                next += 2;
            } else if self.punct(next, ',') && self.num(next + 1).is_some() {
                // `Nov 21, 2026`; but `Nov 21, 20:35` has no year.
                if !self.starts_time(next + 1) {
                    date.year = Some(self.year(next + 1)?);
                    next += 2;
                }
            }
            self.i = next;
            return self.set_date(date, i);
        }
        if let Some(day) = lex::weekday(word) {
            self.i += 1;
            return self.set_weekday(day, 0, i);
        }
        if let Some(n) = lex::ordinal(word) {
            if let Some(unit) = self.word(i + 1).and_then(lex::unit) {
                self.pending.push((n, unit));
                self.parts.relative = true;
                self.i += 2;
                return Ok(());
            }
            if let Some(day) = self.word(i + 1).and_then(lex::weekday) {
                self.i += 2;
                return self.set_weekday(day, n, i);
            }
            return Err(self.err(
                i + 1,
                format!("expected a unit (day, week, month...) or a weekday after \"{word}\""),
            ));
        }
        match word {
            "now" | "today" => {
                self.parts.relative = true;
                self.i += 1;
                return Ok(());
            }
            "yesterday" | "tomorrow" => {
                let n = if word == "yesterday" { -1 } else { 1 };
                self.pending.push((n, Unit::Seconds(86_400)));
                self.parts.relative = true;
                self.i += 1;
                return Ok(());
            }
            "ago" => {
                if self.pending.is_empty() {
                    return Err(self.err(
                        i,
                        "\"ago\" needs a relative item before it, e.g. 2 hours ago",
                    ));
                }
                self.flush(-1)?;
                self.i += 1;
                return Ok(());
            }
            _ => {}
        }
        if lex::meridian(word).is_some() {
            return Err(self.err(
                i,
                format!("\"{word}\" needs an hour before it, e.g. 8:35{word}"),
            ));
        }
        if let Some(offset) = lex::zone(word) {
            self.i += 1;
            // UTC+2, GMT-0600: the offset is east of the named zone.
            let k = self.i;
            if offset == 0
                && (self.punct(k, '+') || self.punct(k, '-'))
                && self.joined(k - 1)
                && self.num(k + 1).is_some()
                && self.word(k + 2).and_then(lex::unit).is_none()
            {
                return self.numeric_zone(k);
            }
            return self.set_zone(offset, i);
        }
        Err(self.err(
            i,
            format!(
                "unknown word \"{word}\"; expected a month, a weekday, a zone (UTC, CST, ...), \
                 a unit (hours, days, ...), am/pm, or one of now, today, yesterday, tomorrow, \
                 ago, last, this, next"
            ),
        ))
    }

    fn set_date(&mut self, date: Date, k: usize) -> Step {
        if self.parts.date.is_some() {
            return Err(self.err(k, "a second date; give one date"));
        }
        self.parts.date = Some(date);
        Ok(())
    }

    fn set_time(&mut self, time: TimeOfDay) -> Step {
        if self.parts.time.is_some() {
            return Err(GrammarError::Syntax(Problem::at(
                time.col,
                "a second time of day; give one time",
            )));
        }
        self.parts.time = Some(time);
        Ok(())
    }

    fn set_zone(&mut self, offset: i32, k: usize) -> Step {
        if self.parts.zone.is_some() {
            return Err(self.err(k, "a second time zone; give one zone"));
        }
        self.parts.zone = Some(offset);
        Ok(())
    }

    fn set_weekday(&mut self, day: u32, ordinal: i64, k: usize) -> Step {
        if self.parts.weekday.is_some() {
            return Err(self.err(k, "a second weekday; give one weekday"));
        }
        self.parts.weekday = Some((day, ordinal));
        // `Sat, 21 Nov`
        if self.punct(self.i, ',') {
            self.i += 1;
        }
        Ok(())
    }

    /// Adds the pending relative items, times `sign`.
    fn flush(&mut self, sign: i64) -> Result<(), Overflow> {
        for (n, unit) in self.pending.drain(..) {
            let n = n.checked_mul(sign).ok_or(Overflow)?;
            match unit {
                Unit::Seconds(s) => {
                    let add = n.checked_mul(s).ok_or(Overflow)?;
                    self.parts.rel_seconds =
                        self.parts.rel_seconds.checked_add(add).ok_or(Overflow)?;
                }
                Unit::Months(m) => {
                    let add = n.checked_mul(m).ok_or(Overflow)?;
                    self.parts.rel_months =
                        self.parts.rel_months.checked_add(add).ok_or(Overflow)?;
                }
            }
        }
        Ok(())
    }
}

/// `v` with `sign`, as an i64.
fn signed(v: u64, sign: i64) -> Result<i64, Overflow> {
    i64::try_from(v)
        .ok()
        .and_then(|v| v.checked_mul(sign))
        .ok_or(Overflow)
}

/// The microseconds of the digits after a decimal point (truncated).
fn fraction_micros(digits: &str) -> u32 {
    digits
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(6)
        .fold(0, |acc, b| acc * 10 + u32::from(b.wrapping_sub(b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Parts {
        let toks = lex::tokenize(text).unwrap();
        parse(&toks).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    fn problem(text: &str) -> Problem {
        let toks = lex::tokenize(text).unwrap();
        match parse(&toks) {
            Err(GrammarError::Syntax(p)) => p,
            other => panic!("{text:?}: expected a syntax error, got {other:?}"),
        }
    }

    fn ymd(p: &Parts) -> (Option<i64>, u64, u64) {
        let d = p.date.expect("a date");
        (d.year.map(Year::full), d.month, d.day)
    }

    fn hms(p: &Parts) -> (u64, u64, u64, Option<bool>) {
        let t = p.time.expect("a time");
        (t.hour, t.minute, t.second, t.pm)
    }

    #[test]
    fn two_digit_years_pivot_at_69() {
        assert_eq!(ymd(&parts("11/21/26")), (Some(2026), 11, 21));
        assert_eq!(ymd(&parts("11/21/68")), (Some(2068), 11, 21));
        assert_eq!(ymd(&parts("11/21/69")), (Some(1969), 11, 21));
        assert_eq!(ymd(&parts("11/21/00")), (Some(2000), 11, 21));
        assert_eq!(ymd(&parts("11/21/026")), (Some(26), 11, 21));
    }

    #[test]
    fn date_spellings() {
        for text in [
            "November 21, 2026",
            "Nov 21 2026",
            "Nov. 21, 2026",
            "21 Nov 2026",
            "21-Nov-2026",
            "Nov-21-2026",
            "2026-11-21",
            "11/21/2026",
            "2026/11/21",
            "20261121",
            "Sat, 21 Nov 2026",
            "Saturday November 21 2026",
        ] {
            assert_eq!(ymd(&parts(text)), (Some(2026), 11, 21), "{text}");
        }
        assert_eq!(ymd(&parts("Nov 21")), (None, 11, 21));
        assert_eq!(ymd(&parts("21 Nov")), (None, 11, 21));
        assert_eq!(ymd(&parts("11/21")), (None, 11, 21));
        assert_eq!(ymd(&parts("261121")), (Some(2026), 11, 21));
    }

    #[test]
    fn a_number_after_a_yearless_date() {
        // A year when it has more than two digits or a time came first.
        assert_eq!(ymd(&parts("Nov 21 2026")), (Some(2026), 11, 21));
        assert_eq!(ymd(&parts("Nov 21 20:35 2026")), (Some(2026), 11, 21));
        assert_eq!(ymd(&parts("Sat Nov 21 20:35:29 26")), (Some(2026), 11, 21));
        // Else an hour.
        let p = parts("Nov 21 10");
        assert_eq!(ymd(&p), (None, 11, 21));
        assert_eq!(hms(&p), (10, 0, 0, None));
        // HHMM
        assert_eq!(hms(&parts("2026-11-21 2035")), (20, 35, 0, None));
    }

    #[test]
    fn times_meridians_fractions_and_zones() {
        assert_eq!(hms(&parts("20:35:29")), (20, 35, 29, None));
        assert_eq!(hms(&parts("8:35pm")), (8, 35, 0, Some(true)));
        assert_eq!(hms(&parts("8:35 a.m.")), (8, 35, 0, Some(false)));
        assert_eq!(hms(&parts("8pm")), (8, 0, 0, Some(true)));
        let p = parts("20:35:29.25-06:00");
        assert_eq!(p.time.unwrap().micros, 250_000);
        assert_eq!(p.zone, Some(-6 * 3600));
        assert_eq!(parts("20:35 -0600").zone, Some(-6 * 3600));
        assert_eq!(parts("20:35 +0530").zone, Some(5 * 3600 + 1800));
        assert_eq!(parts("20:35 +02").zone, Some(7200));
        assert_eq!(parts("20:35 CST").zone, Some(-6 * 3600));
        assert_eq!(parts("20:35 UTC+2").zone, Some(7200));
        assert_eq!(parts("20:35 GMT-0600").zone, Some(-6 * 3600));
        assert_eq!(parts("20:35Z").zone, Some(0));
        assert_eq!(parts("20:35:29.123456789").time.unwrap().micros, 123_456);
    }

    #[test]
    fn the_t_of_rfc_3339_is_a_separator_only_when_joined() {
        let p = parts("2026-11-21T20:35:29");
        assert_eq!(p.zone, None);
        assert_eq!(hms(&p), (20, 35, 29, None));
        // Standing alone it is the military zone T (+7 h).
        assert_eq!(parts("2026-11-21 20:35:29 T").zone, Some(7 * 3600));
    }

    #[test]
    fn relative_items() {
        assert_eq!(parts("2 hours ago").rel_seconds, -7200);
        assert_eq!(parts("1 day 2 hours ago").rel_seconds, -(26 * 3600));
        assert_eq!(parts("1 day ago 2 hours").rel_seconds, -86_400 + 7200);
        assert_eq!(parts("+1 week").rel_seconds, 7 * 86_400);
        assert_eq!(parts("-30 minutes").rel_seconds, -1800);
        assert_eq!(parts("yesterday").rel_seconds, -86_400);
        assert_eq!(parts("tomorrow").rel_seconds, 86_400);
        assert_eq!(parts("next month").rel_months, 1);
        assert_eq!(parts("last year").rel_months, -12);
        assert_eq!(parts("3 fortnights").rel_seconds, 42 * 86_400);
        assert!(parts("now").relative);
        assert!(parts("today").relative);
        assert!(!parts("20:35").relative);
    }

    #[test]
    fn weekdays_and_their_ordinals() {
        assert_eq!(parts("sunday 10:00").weekday, Some((0, 0)));
        assert_eq!(parts("last monday").weekday, Some((1, -1)));
        assert_eq!(parts("next fri").weekday, Some((5, 1)));
        assert_eq!(parts("this tues").weekday, Some((2, 0)));
        assert_eq!(parts("third wednesday").weekday, Some((3, 3)));
        assert_eq!(parts("2 thursday").weekday, Some((4, 2)));
    }

    #[test]
    fn epoch_seconds() {
        assert_eq!(parts("@1795293329").epoch, Some((1_795_293_329, 0)));
        assert_eq!(parts("@-5").epoch, Some((-5, 0)));
        assert_eq!(parts("@1.5").epoch, Some((1, 500_000)));
        assert_eq!(parts("@-1.5").epoch, Some((-2, 500_000)));
        assert_eq!(parts("@10 + 1 hour").rel_seconds, 3600);
    }

    #[test]
    fn syntax_errors_point_at_the_word() {
        let p = problem("2026-11-21 20:35 blah");
        assert_eq!(p.col, 18);
        assert!(p.message.contains("unknown word \"blah\""), "{}", p.message);
        assert_eq!(problem("20:35 21:00").col, 7);
        assert_eq!(problem("Nov 21 Dec 22").col, 8);
        assert_eq!(problem("CST EST").col, 5);
        assert_eq!(problem("November").col, 9);
        assert_eq!(problem("Nov 20:35").col, 5);
        assert_eq!(problem("last").col, 5);
        assert!(problem("ago").message.contains("relative item"));
        assert!(problem("pm").message.contains("hour"));
        assert!(problem("@").message.contains("unix seconds"));
        assert!(problem("@5 2026-11-21").message.contains("@SECONDS"));
        assert!(problem("20:35 +123456")
            .message
            .contains("at most 4 digits"));
        assert!(problem("20:35 +2500").message.contains("out of range"));
        assert!(problem("20:").message.contains("minutes"));
        assert!(problem("20:35:").message.contains("seconds"));
        assert!(problem("1/").message.contains("after '/'"));
        assert!(problem("- x").message.contains("after the sign"));
        assert!(problem(":").message.contains("unexpected ':'"));
    }

    #[test]
    fn huge_counts_overflow_instead_of_wrapping() {
        for text in [
            "9223372036854775807 years",
            "9223372036854775807 hours",
            "99999999999999999999 days",
            "@99999999999999999999",
            "@-9223372036854775808",
            "4611686018427387904 seconds 4611686018427387904 seconds",
            "99999999999999999999:00",
        ] {
            let toks = lex::tokenize(text).unwrap();
            assert_eq!(parse(&toks), Err(GrammarError::Overflow), "{text}");
        }
    }
}
