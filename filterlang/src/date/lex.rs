//! Splitting a date into tokens, and the word tables the grammar looks
//! words up in: months, weekdays, zones, units and ordinals.
//!
//! Tokens are runs of digits, runs of letters (with inner dots, so `a.m.`
//! and `Nov.` are one word each), and the punctuation `+ - : / , . @`.
//! Whitespace only separates; a parenthesised comment (`(CST)` in a mail
//! `Date:` line) is skipped, as getdate does.

use super::Problem;

/// One token with its place in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Tok<'a> {
    /// What it is.
    pub kind: Kind<'a>,
    /// 1-based character column of its first character.
    pub col: usize,
    /// Byte offsets of its first and one past its last byte.
    pub start: usize,
    /// See `start`.
    pub end: usize,
}

/// The kinds of token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind<'a> {
    /// A run of ASCII digits: the digits as written and their value
    /// (`None` when it does not fit in a u64).
    Num {
        /// The digits.
        text: &'a str,
        /// Their value.
        value: Option<u64>,
    },
    /// A run of letters, lowercased, trailing dot dropped (`Nov.` ->
    /// `nov`, `p.m.` -> `p.m`).
    Word(String),
    /// One punctuation character.
    Punct(char),
}

/// Splits `text` into tokens; fails on a character no date uses.
pub(super) fn tokenize(text: &str) -> Result<Vec<Tok<'_>>, Problem> {
    let mut toks = Vec::new();
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((n, (start, c))) = chars.next() {
        let col = n + 1;
        if c.is_whitespace() {
            continue;
        }
        if c == '(' {
            // A comment, possibly nested, to the matching ')'.
            let mut depth = 1usize;
            for (_, (_, c)) in chars.by_ref() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
            if depth != 0 {
                return Err(Problem::at(col, "\"(\" opens a comment that never closes"));
            }
            continue;
        }
        if c.is_ascii_digit() {
            let mut end = start + 1;
            while let Some(&(_, (i, d))) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = i + 1;
                chars.next();
            }
            let digits = &text[start..end];
            toks.push(Tok {
                kind: Kind::Num {
                    text: digits,
                    value: digits.parse().ok(),
                },
                col,
                start,
                end,
            });
            continue;
        }
        if c.is_ascii_alphabetic() {
            let mut end = start + 1;
            while let Some(&(_, (i, d))) = chars.peek() {
                if !(d.is_ascii_alphabetic() || d == '.') {
                    break;
                }
                end = i + 1;
                chars.next();
            }
            let word = text[start..end].to_ascii_lowercase();
            toks.push(Tok {
                kind: Kind::Word(word.trim_end_matches('.').to_string()),
                col,
                start,
                end,
            });
            continue;
        }
        if "+-:/,.@".contains(c) {
            toks.push(Tok {
                kind: Kind::Punct(c),
                col,
                start,
                end: start + 1,
            });
            continue;
        }
        return Err(Problem::at(
            col,
            format!(
                "unexpected character '{c}'; dates use letters, digits, spaces and + - : / , . @"
            ),
        ));
    }
    Ok(toks)
}

/// The month of a month name (`november`, `nov`, `sept`): 1..=12.
pub(super) fn month(word: &str) -> Option<u32> {
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

/// The weekday of a day name (`sunday`, `sun`, `tues`), 0 = Sunday.
pub(super) fn weekday(word: &str) -> Option<u32> {
    const DAYS: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    let extra = match word {
        "tues" => Some(2),
        "wednes" => Some(3),
        "thur" | "thurs" => Some(4),
        _ => None,
    };
    extra.or_else(|| {
        DAYS.iter()
            .position(|d| *d == word || (word.len() == 3 && d.starts_with(word)))
            .map(|p| p as u32)
    })
}

/// The offset (seconds east of UTC) of a zone word: the abbreviations
/// getdate knows and a few more, and the military letters with the signs
/// getdate (and RFC 822) gives them (`a` = -1 h ... `m` = -12 h, `n` =
/// +1 h ... `y` = +12 h, `z` = UTC; `j` is not a zone).
pub(super) fn zone(word: &str) -> Option<i32> {
    const H: i32 = 3600;
    let named = match word {
        "utc" | "ut" | "gmt" | "z" | "wet" | "zulu" => 0,
        "bst" | "cet" | "met" | "west" | "wat" => H,
        "cest" | "mest" | "eet" | "sast" => 2 * H,
        "eest" | "msk" => 3 * H,
        "hkt" | "awst" | "sgt" => 8 * H,
        "jst" | "kst" => 9 * H,
        "acst" => 9 * H + H / 2,
        "aest" => 10 * H,
        "acdt" => 10 * H + H / 2,
        "aedt" => 11 * H,
        "nzst" => 12 * H,
        "nzdt" => 13 * H,
        "ndt" => -2 * H - H / 2,
        "adt" => -3 * H,
        "nst" => -3 * H - H / 2,
        "ast" | "edt" => -4 * H,
        "est" | "cdt" => -5 * H,
        "cst" | "mdt" => -6 * H,
        "mst" | "pdt" => -7 * H,
        "pst" | "akdt" => -8 * H,
        "akst" | "hdt" => -9 * H,
        "hst" => -10 * H,
        _ => {
            let &[letter] = word.as_bytes() else {
                return None;
            };
            return match letter {
                b'a'..=b'i' => Some(-i32::from(letter - b'a' + 1) * H),
                b'k'..=b'm' => Some(-i32::from(letter - b'k' + 10) * H),
                b'n'..=b'y' => Some(i32::from(letter - b'n' + 1) * H),
                _ => None,
            };
        }
    };
    Some(named)
}

/// A relative unit: a fixed number of seconds (days and weeks are 24 h
/// and 7 × 24 h, as in getdate) or calendar months.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unit {
    /// This many seconds.
    Seconds(i64),
    /// This many calendar months (the day of the month kept, clamped to
    /// the month's length).
    Months(i64),
}

/// The unit of a unit word (`hour`, `hrs`, `fortnight`, `months`).
pub(super) fn unit(word: &str) -> Option<Unit> {
    Some(match word {
        "sec" | "secs" | "second" | "seconds" => Unit::Seconds(1),
        "min" | "mins" | "minute" | "minutes" => Unit::Seconds(60),
        "hour" | "hours" | "hr" | "hrs" => Unit::Seconds(3600),
        "day" | "days" => Unit::Seconds(86_400),
        "week" | "weeks" => Unit::Seconds(7 * 86_400),
        "fortnight" | "fortnights" => Unit::Seconds(14 * 86_400),
        "month" | "months" => Unit::Months(1),
        "year" | "years" => Unit::Months(12),
        _ => return None,
    })
}

/// The count of an ordinal word: `last` -1, `this` 0, `next` and `first`
/// 1, `third` 3 ... `twelfth` 12 (`second` is the unit).
pub(super) fn ordinal(word: &str) -> Option<i64> {
    Some(match word {
        "last" => -1,
        "this" => 0,
        "next" | "first" => 1,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "seventh" => 7,
        "eighth" => 8,
        "ninth" => 9,
        "tenth" => 10,
        "eleventh" => 11,
        "twelfth" => 12,
        _ => return None,
    })
}

/// `Some(true)` for pm, `Some(false)` for am (`am`, `a.m`, `pm`, `p.m`).
pub(super) fn meridian(word: &str) -> Option<bool> {
    match word {
        "am" | "a.m" => Some(false),
        "pm" | "p.m" => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind<'_>> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn tokens_and_columns() {
        let toks = tokenize("Nov. 21, 2026 8:35p.m.").unwrap();
        let cols: Vec<usize> = toks.iter().map(|t| t.col).collect();
        assert_eq!(cols, [1, 6, 8, 10, 15, 16, 17, 19]);
        assert_eq!(toks[0].kind, Kind::Word("nov".into()));
        assert_eq!(toks[7].kind, Kind::Word("p.m".into()));
        assert_eq!(
            toks[1].kind,
            Kind::Num {
                text: "21",
                value: Some(21)
            }
        );
    }

    #[test]
    fn comments_are_skipped_and_must_close() {
        assert_eq!(kinds("1 (CST (really)) 2").len(), 2);
        let e = tokenize("20:35 (CST").unwrap_err();
        assert_eq!(e.col, 7);
        assert!(e.message.contains("never closes"), "{}", e.message);
    }

    #[test]
    fn long_numbers_keep_their_text() {
        assert_eq!(
            kinds("123456789012345678901234"),
            [Kind::Num {
                text: "123456789012345678901234",
                value: None
            }]
        );
    }

    #[test]
    fn odd_characters_are_refused_with_their_column() {
        let e = tokenize("2026-11-21 é").unwrap_err();
        assert_eq!(e.col, 12);
        assert!(e.message.contains("'é'"), "{}", e.message);
        assert!(tokenize("#").is_err());
    }

    #[test]
    fn word_tables() {
        assert_eq!(month("sept"), Some(9));
        assert_eq!(month("nov"), Some(11));
        assert_eq!(month("no"), None);
        assert_eq!(weekday("sun"), Some(0));
        assert_eq!(weekday("thurs"), Some(4));
        assert_eq!(weekday("saturday"), Some(6));
        assert_eq!(weekday("sa"), None);
        assert_eq!(zone("cst"), Some(-6 * 3600));
        assert_eq!(zone("nzst"), Some(12 * 3600));
        assert_eq!(zone("t"), Some(7 * 3600));
        assert_eq!(zone("a"), Some(-3600));
        assert_eq!(zone("m"), Some(-12 * 3600));
        assert_eq!(zone("y"), Some(12 * 3600));
        assert_eq!(zone("j"), None);
        assert_eq!(unit("hrs"), Some(Unit::Seconds(3600)));
        assert_eq!(unit("years"), Some(Unit::Months(12)));
        assert_eq!(ordinal("next"), Some(1));
        assert_eq!(ordinal("second"), None);
        assert_eq!(meridian("p.m"), Some(true));
    }
}
