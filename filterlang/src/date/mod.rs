//! The one date parser of the suite: every tool's time arguments
//! (flow-cat `-t/-T`, every `--since/--until`, flow-alert's `--now`,
//! flow-nat-lookup's `--at`, flow-import's `--anchor`) and the filter.cfg
//! `time-date` entries read dates with [`parse_date`].
//!
//! It takes the free-form dates of flow-tools' getdate (spec §11.1), in
//! the local zone unless one is written, relative items counting from a
//! `now` the caller passes in, plus our extensions:
//!
//! * dates: `2026-11-21`, `11/21/2026`, `11/21/26` (two-digit years:
//!   00-68 are 20xx, 69-99 19xx), `2026/11/21`, `20261121`,
//!   `November 21, 2026`, `Nov 21 2026`, `21 Nov 2026`, `21-Nov-2026`,
//!   `Sat, 21 Nov 2026`; a date alone is its local midnight;
//! * times: `20:35`, `20:35:29`, `20:35:29.25`, `8:35pm`, `8pm`; a time
//!   alone is the next such time (today, or tomorrow if it has passed);
//! * zones: `UTC`, `GMT`, `Z`, `CST`/`CDT`, `EST`/`EDT`, `MST`/`MDT`,
//!   `PST`/`PDT`, `HST`, `ADT`, `NZST`, `CET`, `JST` and more, the
//!   military letters, and offsets `-0600`, `+05:30`, `+02`, `UTC+2`;
//! * relative items: `now`, `today`, `yesterday`, `tomorrow`,
//!   `2 hours ago`, `+1 week`, `-30 minutes`, `last month`, `next year`
//!   (units `sec min hour day week fortnight month year`, plurals; days
//!   and weeks are 24 h and 7 × 24 h as in getdate);
//! * weekdays: `sunday 10:00` (the coming Sunday, today if it is Sunday),
//!   `last monday`, `next friday`, `third wednesday`;
//! * `@1795293329` (unix seconds, a fraction allowed);
//! * extensions flow-tools lacks: RFC 3339 (`2026-11-21T20:35:29Z`,
//!   `…-06:00`), relative `-1h`, `+30m`, `-1h30m` (units `s m h d w`),
//!   and bare unix seconds of 9 digits or more (`1795293329`).
//!
//! Where getdate reads a form in a way that is plainly a quirk this parser
//! reads it the sane way (README "Differences from flow-tools"): `next`
//! means 1, not 2; `Nov 21 2026` is that day, not 20:26; the `T` of
//! `2026-11-21T20:35:29` separates date and time and is not the military
//! zone T.
//!
//! A local time in the hour skipped when DST starts resolves like getdate
//! (with the offset after the gap: Chicago 2019-03-10 02:30 is 07:30Z);
//! one in the repeated autumn hour is its first occurrence. Results lie in
//! the years 0001..=9999 ([`MIN_SECS`]..=[`MAX_SECS`]); anything outside,
//! or too large to add up, is an error, never a wrapped value. The parser
//! does no I/O and reads no clock: `now` and the [`Zone`] are inputs.

mod grammar;
mod lex;
mod resolve;

pub use formats::time::Zone;

use crate::FilterError;

/// The earliest instant a date may name: 0001-01-01 00:00:00 UTC.
pub const MIN_SECS: i64 = -62_135_596_800;
/// The latest instant a date may name: 9999-12-31 23:59:59 UTC.
pub const MAX_SECS: i64 = 253_402_300_799;

/// A problem at a column of the input (1-based, in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    /// Where.
    pub col: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl Problem {
    pub(crate) fn at(col: usize, message: impl Into<String>) -> Problem {
        Problem {
            col,
            message: message.into(),
        }
    }
}

/// Reads the date `text` as unix seconds (a fraction is dropped).
/// Relative forms count from `now` (unix seconds); dates and times
/// without a zone are local times in `zone`.
///
/// ```
/// use filterlang::date::{parse_date, Zone};
/// let now = 1_795_313_960; // 2026-11-22 02:19:20 UTC
/// let cst = Zone::Fixed(-6 * 3600);
/// assert_eq!(parse_date("November 21, 2026 20:35:29", now, cst), Ok(1_795_314_929));
/// assert_eq!(parse_date("2 hours ago", now, cst), Ok(now - 7200));
/// assert!(parse_date("@9223372036854776", now, cst).is_err());
/// ```
pub fn parse_date(text: &str, now: i64, zone: Zone) -> Result<i64, FilterError> {
    parse_date_micros(text, now, zone).map(|us| us.div_euclid(1_000_000))
}

/// [`parse_date`] in microseconds, keeping a fraction of a second
/// (`20:35:29.25`, `@1795293329.5`, RFC 3339 fractions).
pub fn parse_date_micros(text: &str, now: i64, zone: Zone) -> Result<i64, FilterError> {
    let out_of_range = || FilterError::DateOutOfRange {
        input: text.to_string(),
    };
    let syntax = |p: Problem| FilterError::Date {
        input: text.to_string(),
        col: p.col,
        message: p.message,
    };
    let secs_to_micros = |secs: i64| -> Result<i64, FilterError> {
        if (MIN_SECS..=MAX_SECS).contains(&secs) {
            Ok(secs * 1_000_000)
        } else {
            Err(out_of_range())
        }
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(syntax(Problem::at(1, "no date given")));
    }
    // Extensions tried first: `-1h30m`, bare unix seconds.
    if let Some(secs) = compact_relative(trimmed) {
        let secs = secs.ok_or_else(out_of_range)?;
        return secs_to_micros(now.checked_add(secs).ok_or_else(out_of_range)?);
    }
    if trimmed.len() >= 9 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let secs = trimmed.parse::<i64>().map_err(|_| out_of_range())?;
        return secs_to_micros(secs);
    }
    let toks = lex::tokenize(text).map_err(syntax)?;
    let parts = grammar::parse(&toks).map_err(|e| match e {
        grammar::GrammarError::Syntax(p) => syntax(p),
        grammar::GrammarError::Overflow => out_of_range(),
    })?;
    let (secs, micros) = resolve::resolve(&parts, now, zone).map_err(|e| match e {
        resolve::ResolveError::Invalid(p) => syntax(p),
        resolve::ResolveError::OutOfRange => out_of_range(),
    })?;
    Ok(secs_to_micros(secs)? + i64::from(micros))
}

/// `-1h`, `+30m`, `-1h30m`, `+2d`, `-1w`: `Some(Some(seconds))`, or
/// `Some(None)` when it has that shape but does not fit; `None` for any
/// other text.
fn compact_relative(text: &str) -> Option<Option<i64>> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => return None,
    };
    if !is_duration(rest) {
        return None;
    }
    Some(parse_duration(rest).and_then(|s| s.checked_mul(sign)))
}

/// True when `s` is one or more `DIGITS UNIT` pairs, units `s m h d w`.
fn is_duration(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut pairs = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i == b.len() || !b"smhdw".contains(&b[i]) {
            return false;
        }
        i += 1;
        pairs += 1;
    }
    pairs > 0
}

/// A duration `90s`, `30m`, `1h`, `2d`, `1w` or a sum like `1h30m`, in
/// seconds; `None` when it is anything else or does not fit in an i64.
pub fn parse_duration(s: &str) -> Option<i64> {
    if !is_duration(s) {
        return None;
    }
    let mut total = 0i64;
    let mut n = 0i64;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            n = n.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
            continue;
        }
        let unit = match b {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            _ => 7 * 86_400,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        n = 0;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-22 02:19:20 UTC
    const NOW: i64 = 1_795_313_960;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("2d"), Some(172_800));
        assert_eq!(parse_duration("1w"), Some(604_800));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration("99999999999999999999s"), None);
        assert_eq!(parse_duration("9223372036854775807w"), None);
    }

    #[test]
    fn extensions() {
        let z = Zone::UTC;
        assert_eq!(parse_date("-1h", NOW, z), Ok(NOW - 3600));
        assert_eq!(parse_date("+30m", NOW, z), Ok(NOW + 1800));
        assert_eq!(parse_date("-1h30m", NOW, z), Ok(NOW - 5400));
        assert_eq!(parse_date("1795293329", NOW, z), Ok(1_795_293_329));
        assert_eq!(parse_date(" 1795293329 ", NOW, z), Ok(1_795_293_329));
        assert_eq!(
            parse_date("2026-11-21T20:35:29Z", NOW, z),
            Ok(1_795_293_329)
        );
        assert_eq!(
            parse_date("2026-11-21T20:35:29-06:00", NOW, z),
            Ok(1_795_314_929)
        );
        assert_eq!(
            parse_date_micros("2026-11-21T20:35:29.25Z", NOW, z),
            Ok(1_795_293_329_250_000)
        );
        assert_eq!(parse_date_micros("@-1.5", NOW, z), Ok(-1_500_000));
        assert_eq!(parse_date("@-1.5", NOW, z), Ok(-2));
    }

    #[test]
    fn out_of_range_is_an_error_never_a_wrap() {
        let z = Zone::UTC;
        for text in [
            "@9223372036854776",
            "@-9223372036854776",
            "@253402300800",
            "@-62135596801",
            "9223372036854775807",
            "99999999999999999999",
            "-9223372036854775807w",
            "-99999999999999999999s",
            "10000-01-01",
            "9999-12-31 23:59:59 -0100",
            "9223372036854775807 years ago",
            "9223372036854775807 seconds",
            "99999999999999999999 days ago",
            "@9223372036854775807 + 1 second",
            "now + 8000 years",
        ] {
            match parse_date(text, NOW, z) {
                Err(FilterError::DateOutOfRange { input }) => assert_eq!(input, text),
                other => panic!("{text:?}: expected out of range, got {other:?}"),
            }
        }
        assert_eq!(parse_date("@253402300799", NOW, z), Ok(MAX_SECS));
        assert_eq!(parse_date("@-62135596800", NOW, z), Ok(MIN_SECS));
        assert_eq!(parse_date("9999-12-31 23:59:59", NOW, z), Ok(MAX_SECS));
        assert_eq!(parse_date("0001-01-01", NOW, z), Ok(MIN_SECS));
        // "now" near the ends.
        assert!(parse_date("+1s", MAX_SECS, z).is_err());
        assert!(parse_date("tomorrow", i64::MAX, z).is_err());
        assert!(parse_date("20:35", i64::MIN, z).is_err());
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = parse_date("2026-11-21 blah", NOW, Zone::UTC).unwrap_err();
        let FilterError::Date {
            input,
            col,
            message,
        } = &e
        else {
            panic!("{e:?}");
        };
        assert_eq!((input.as_str(), *col), ("2026-11-21 blah", 12));
        assert!(message.contains("\"blah\""), "{message}");
        let text = e.to_string();
        assert!(
            text.starts_with(
                "cannot read the date \"2026-11-21 blah\" at column 12: unknown word \"blah\""
            ),
            "{text}"
        );
        assert!(
            text.contains("; dates look like \"2026-11-21 20:35:29\""),
            "{text}"
        );
        for bad in [
            "",
            "   ",
            "#",
            "2026-13-01",
            "2026-02-30",
            "25:00",
            "13pm",
            "0am",
        ] {
            assert!(
                matches!(
                    parse_date(bad, NOW, Zone::UTC),
                    Err(FilterError::Date { .. })
                ),
                "{bad:?}"
            );
        }
        let e = parse_date("@9223372036854776", NOW, Zone::UTC).unwrap_err();
        assert!(e.to_string().contains("0001-01-01"), "{e}");
    }
}
