//! Syslog envelopes (spec §1.2) and time (spec §6.3): recognises the
//! header of a line, returns its stamp, host and the rest; resolves the
//! year of year-less stamps against an anchor. Zone-less local stamps are
//! converted to UTC by the caller, in a [`formats::time::Zone`].
//!
//! Header variants: traditional `Mmm dd HH:MM:SS[.ffffff] host …` (with an
//! optional `<PRI>`), RFC 3339 / journalctl short-iso
//! `YYYY-MM-DDTHH:MM:SS[.f](Z|±hh[:]mm) host …`, RFC 5424
//! `<PRI>1 TS host app procid msgid SD msg`, `dmesg -T`
//! `[Www Mmm dd HH:MM:SS YYYY] msg`, and uptime-only `[12345.678901] …`
//! (plain `dmesg`, journalctl short-monotonic). Pure functions, no I/O.

/// A time stamp as written in a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// `Mmm dd HH:MM:SS[.ffffff]`: no year, no zone.
    YearLess {
        /// Month 1..=12.
        month: u8,
        /// Day 1..=31.
        day: u8,
        /// Seconds since local midnight.
        sod: u32,
        /// Microseconds.
        micros: u32,
    },
    /// Absolute, µs since the epoch (UTC): the stamp carried an offset.
    Utc(i64),
    /// Local wall time with a year but no zone (`dmesg -T`), as µs since
    /// the epoch if it were UTC ("naive").
    Naive(i64),
    /// Kernel uptime only, µs since boot.
    Uptime(i64),
}

/// A recognised header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The stamp.
    pub stamp: Stamp,
    /// Host name as written (empty for dmesg forms).
    pub host: &'a [u8],
    /// Program tag when the header form has a separate field (RFC 5424
    /// app-name); otherwise `None` and the tag is still inside `rest`.
    pub app: Option<&'a [u8]>,
    /// Everything after the header (tag and message).
    pub rest: &'a [u8],
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn month_of(s: &[u8]) -> Option<u8> {
    let &[a, b, c] = s else {
        return None;
    };
    let m = match [a, b, c] {
        [b'J', b'a', b'n'] => 1,
        [b'F', b'e', b'b'] => 2,
        [b'M', b'a', b'r'] => 3,
        [b'A', b'p', b'r'] => 4,
        [b'M', b'a', b'y'] => 5,
        [b'J', b'u', b'n'] => 6,
        [b'J', b'u', b'l'] => 7,
        [b'A', b'u', b'g'] => 8,
        [b'S', b'e', b'p'] => 9,
        [b'O', b'c', b't'] => 10,
        [b'N', b'o', b'v'] => 11,
        [b'D', b'e', b'c'] => 12,
        _ => return None,
    };
    debug_assert_eq!(MONTHS[m as usize - 1], &[a, b, c]);
    Some(m)
}

fn digits(s: &[u8], n: usize) -> Option<u32> {
    let d = s.get(..n)?;
    let mut v = 0u32;
    for &c in d {
        let x = c.wrapping_sub(b'0');
        if x > 9 {
            return None;
        }
        v = v * 10 + x as u32;
    }
    Some(v)
}

/// `HH:MM:SS` at the start of `s` -> seconds of day.
fn hms(s: &[u8]) -> Option<u32> {
    if s.len() < 8 || s[2] != b':' || s[5] != b':' {
        return None;
    }
    let (h, m, sec) = (digits(s, 2)?, digits(&s[3..], 2)?, digits(&s[6..], 2)?);
    (h < 24 && m < 60 && sec < 61).then_some(h * 3600 + m * 60 + sec)
}

/// Optional `.ffffff` fraction: (microseconds, bytes consumed).
fn fraction(s: &[u8]) -> (u32, usize) {
    if s.first() != Some(&b'.') {
        return (0, 0);
    }
    let n = s[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return (0, 0);
    }
    let mut us = 0u32;
    for i in 0..6 {
        us = us * 10
            + s.get(1 + i)
                .filter(|_| i < n)
                .map_or(0, |c| (c - b'0') as u32);
    }
    (us, 1 + n)
}

/// Splits `host rest` at the first space; host must be non-empty.
fn host_rest(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let sp = s.iter().position(|&c| c == b' ')?;
    if sp == 0 {
        return None;
    }
    Some((&s[..sp], &s[sp + 1..]))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// True for a valid calendar date.
pub fn valid_date(y: i64, m: u32, d: u32) -> bool {
    if !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    d <= days[m as usize - 1]
}

/// Year of a naive µs value.
pub fn year_of(naive_us: i64) -> i64 {
    let days = naive_us.div_euclid(86_400_000_000);
    // civil_from_days, year only
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(m <= 2)
}

fn rfc3339(s: &[u8]) -> Option<(i64, usize)> {
    // YYYY-MM-DDTHH:MM:SS
    if s.len() < 20 || s[4] != b'-' || s[7] != b'-' || !(s[10] == b'T' || s[10] == b' ') {
        return None;
    }
    let (y, mo, d) = (digits(s, 4)?, digits(&s[5..], 2)?, digits(&s[8..], 2)?);
    if !valid_date(y as i64, mo, d) {
        return None;
    }
    let sod = hms(&s[11..])?;
    let mut i = 19;
    let (us, n) = fraction(&s[i..]);
    i += n;
    let naive = (days_from_civil(y as i64, mo, d) * 86_400 + sod as i64) * 1_000_000 + us as i64;
    let off_secs: i64 = match s.get(i) {
        Some(b'Z') => {
            i += 1;
            0
        }
        Some(&c @ (b'+' | b'-')) => {
            let hh = digits(s.get(i + 1..)?, 2)? as i64;
            let (mm, len) = if s.get(i + 3) == Some(&b':') {
                (digits(s.get(i + 4..)?, 2)? as i64, 6)
            } else {
                (digits(s.get(i + 3..)?, 2)? as i64, 5)
            };
            i += len;
            let o = hh * 3600 + mm * 60;
            if c == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    Some((naive - off_secs * 1_000_000, i))
}

/// Parses an RFC 3339 time with an offset (`2025-01-01T00:20:00Z`,
/// `…+02:00`, `…+0200`, fraction optional) to µs since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    match rfc3339(s.as_bytes()) {
        Some((t, n)) if n == s.len() => Some(t),
        _ => None,
    }
}

/// The stamp of the common traditional header `Mmm dd HH:MM:SS ` (no
/// fraction) from its first 16 bytes: (month, day, second of day).
/// `None` when they are anything else, including a bad stamp.
#[inline]
pub(crate) fn traditional_stamp(b: &[u8; 16]) -> Option<(u8, u8, u32)> {
    if b[3] != b' ' || b[6] != b' ' || b[9] != b':' || b[12] != b':' || b[15] != b' ' {
        return None;
    }
    let d = |i: usize| b[i].wrapping_sub(b'0') as u32;
    // day: " d" or "dd"; then HH MM SS
    let d4 = if b[4] == b' ' { 0 } else { d(4) };
    if [d4, d(5), d(7), d(8), d(10), d(11), d(13), d(14)]
        .iter()
        .any(|&x| x > 9)
    {
        return None;
    }
    let day = d4 * 10 + d(5);
    let (h, m, sec) = (d(7) * 10 + d(8), d(10) * 10 + d(11), d(13) * 10 + d(14));
    if day == 0 || day > 31 || h >= 24 || m >= 60 || sec >= 61 {
        return None;
    }
    let month = month_of(&b[..3])?;
    Some((month, day as u8, h * 3600 + m * 60 + sec))
}

/// True when `s` (what follows a header's stamp and its space) starts
/// with a host name and a space, as every header needs.
#[inline]
pub(crate) fn host_follows(s: &[u8]) -> bool {
    host_rest(s).is_some()
}

/// The common traditional header `Mmm dd HH:MM:SS host rest` (no
/// fraction) from its first 16 bytes at once. `None` when the line is
/// anything else, including a bad stamp: the general code then decides,
/// so that this only ever gives the answer it would give (and a line with
/// the same first 16 bytes as one it accepted gets the same stamp, or
/// `None` from both, depending only on [`host_follows`]).
#[inline]
fn traditional_fast(s: &[u8]) -> Option<Header<'_>> {
    let stamp = traditional_stamp(s.first_chunk::<16>()?)?;
    yearless_header(stamp, &s[16..])
}

/// The header of a traditional line whose stamp was read: the host and
/// the rest follow the 16 stamp bytes (`after`); without a host, no
/// header at all.
#[inline]
fn yearless_header((month, day, sod): (u8, u8, u32), after: &[u8]) -> Option<Header<'_>> {
    let (host, rest) = host_rest(after)?;
    Some(Header {
        stamp: Stamp::YearLess {
            month,
            day,
            sod,
            micros: 0,
        },
        host,
        app: None,
        rest,
    })
}

/// The first 16 bytes of the last header [`parse_header_cached`] read
/// with the traditional fast path, and their stamp.
#[derive(Clone, Copy, Debug, Default)]
pub struct StampCache(Option<([u8; 16], (u8, u8, u32))>);

/// [`parse_header`] for consecutive lines of one input: a line whose first
/// 16 bytes repeat those of the last traditional header (same second)
/// reuses its stamp. Same answers as [`parse_header`].
#[inline]
pub fn parse_header_cached<'a>(line: &'a [u8], cache: &mut StampCache) -> Option<Header<'a>> {
    let Some(head) = line.first_chunk::<16>() else {
        return parse_header_general(line);
    };
    let stamp = match cache.0 {
        Some((prev, stamp)) if prev == *head => stamp,
        _ => match traditional_stamp(head) {
            Some(stamp) => {
                cache.0 = Some((*head, stamp));
                stamp
            }
            None => return parse_header_general(line),
        },
    };
    yearless_header(stamp, &line[16..])
}

/// Recognises the header of `line`. `None`: no known header.
#[inline]
pub fn parse_header(line: &[u8]) -> Option<Header<'_>> {
    if let Some(h) = traditional_fast(line) {
        return Some(h);
    }
    parse_header_general(line)
}

/// [`parse_header`] without the fast path.
fn parse_header_general(line: &[u8]) -> Option<Header<'_>> {
    let mut s = line;
    // <PRI>
    let mut had_pri = false;
    if s.first() == Some(&b'<') {
        let close = s.iter().take(5).position(|&c| c == b'>')?;
        digits(&s[1..], close - 1)?;
        s = &s[close + 1..];
        had_pri = true;
    }
    // RFC 5424: "1 TS host app procid msgid SD msg"
    if had_pri && s.starts_with(b"1 ") {
        let (t, n) = rfc3339(&s[2..])?;
        let r = s.get(2 + n..)?.strip_prefix(b" ")?;
        let (host, r) = host_rest(r)?;
        let (app, r) = host_rest(r)?;
        let (_procid, r) = host_rest(r)?;
        let (_msgid, r) = host_rest(r).unwrap_or((r, b""));
        let msg = skip_structured_data(r);
        return Some(Header {
            stamp: Stamp::Utc(t),
            host,
            app: Some(app),
            rest: msg,
        });
    }
    let first = *s.first()?;
    if first.is_ascii_uppercase() {
        // Mmm dd HH:MM:SS[.ffffff] host rest
        let month = month_of(s.get(..3)?)?;
        if s.get(3) != Some(&b' ') {
            return None;
        }
        let day = match (s.get(4)?, s.get(5)?) {
            (b' ', d) if d.is_ascii_digit() => (d - b'0') as u32,
            (a, b) if a.is_ascii_digit() && b.is_ascii_digit() => digits(&s[4..], 2)?,
            _ => return None,
        };
        if s.get(6) != Some(&b' ') || day == 0 || day > 31 {
            return None;
        }
        let sod = hms(s.get(7..)?)?;
        let (micros, n) = fraction(&s[15..]);
        let r = s.get(15 + n..)?.strip_prefix(b" ")?;
        let (host, rest) = host_rest(r)?;
        return Some(Header {
            stamp: Stamp::YearLess {
                month,
                day: day as u8,
                sod,
                micros,
            },
            host,
            app: None,
            rest,
        });
    }
    if first.is_ascii_digit() {
        let (t, n) = rfc3339(s)?;
        let r = s.get(n..)?.strip_prefix(b" ")?;
        let (host, rest) = host_rest(r)?;
        return Some(Header {
            stamp: Stamp::Utc(t),
            host,
            app: None,
            rest,
        });
    }
    if first == b'[' {
        let close = s.iter().position(|&c| c == b']')?;
        let inner = &s[1..close];
        let after = s.get(close + 1..)?;
        let after = after.strip_prefix(b" ").unwrap_or(after);
        if let Some(up) = parse_uptime(inner) {
            // dmesg: "[up] msg"; short-monotonic: "[up] host kernel: msg"
            if let Some((host, rest)) = host_rest(after) {
                if rest.starts_with(b"kernel:") {
                    return Some(Header {
                        stamp: Stamp::Uptime(up),
                        host,
                        app: None,
                        rest,
                    });
                }
            }
            return Some(Header {
                stamp: Stamp::Uptime(up),
                host: b"",
                app: Some(b"kernel"),
                rest: after,
            });
        }
        // dmesg -T: [Sat Feb 22 11:59:43 2025]
        if inner.len() == 24 && inner[3] == b' ' {
            let month = month_of(&inner[4..7])?;
            let day = match inner[8] {
                b' ' => digits(&inner[9..], 1)?,
                _ => digits(&inner[8..], 2)?,
            };
            let sod = hms(&inner[11..])?;
            let y = digits(&inner[20..], 4)? as i64;
            if !valid_date(y, month as u32, day) {
                return None;
            }
            let naive = (days_from_civil(y, month as u32, day) * 86_400 + sod as i64) * 1_000_000;
            return Some(Header {
                stamp: Stamp::Naive(naive),
                host: b"",
                app: Some(b"kernel"),
                rest: after,
            });
        }
    }
    None
}

fn skip_structured_data(r: &[u8]) -> &[u8] {
    if let Some(m) = r.strip_prefix(b"- ") {
        return m;
    }
    if r == b"-" {
        return b"";
    }
    let mut i = 0;
    while r.get(i) == Some(&b'[') {
        // SD element; values may contain escaped ']' (\])
        let mut j = i + 1;
        while j < r.len() {
            match r[j] {
                b'\\' => j += 2,
                b']' => break,
                _ => j += 1,
            }
        }
        i = j + 1;
    }
    let m = r.get(i..).unwrap_or(b"");
    m.strip_prefix(b" ").unwrap_or(m)
}

/// `   12.345678` or `158144.383443` -> µs.
pub fn parse_uptime(s: &[u8]) -> Option<i64> {
    let s = &s[s.iter().take_while(|&&c| c == b' ').count()..];
    let dot = s.iter().position(|&c| c == b'.')?;
    let secs = crate::model::parse_uint(&s[..dot], 1 << 40)? as i64;
    let frac = &s[dot + 1..];
    if frac.is_empty() || frac.len() > 9 {
        return None;
    }
    let f = crate::model::parse_uint(frac, u64::MAX)? as i64;
    const POW10: [i64; 10] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
        1_000_000_000,
    ];
    let n = frac.len();
    let us = f * POW10[6usize.saturating_sub(n)] / POW10[n.saturating_sub(6)];
    Some(secs * 1_000_000 + us)
}

/// Splits a syslog tag (`kernel:`, `ulogd[123]:`) off `rest`.
/// Returns (tag without pid, message) or `None` when there is no tag.
pub fn split_tag(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    // the kernel's tag, nearly every line of a kernel log (same answer
    // as the general code below)
    if let Some(msg) = rest.strip_prefix(b"kernel: ") {
        return Some((b"kernel", msg));
    }
    let n = rest
        .iter()
        .take_while(|&&c| !(c == b' ' || c == b'\t' || c == b':' || c == b'['))
        .count();
    if n == 0 {
        return None;
    }
    let mut i = n;
    if rest.get(i) == Some(&b'[') {
        let d = rest[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if d == 0 || rest.get(i + 1 + d) != Some(&b']') {
            return None;
        }
        i += d + 2;
    }
    if rest.get(i) != Some(&b':') {
        return None;
    }
    let msg = &rest[i + 1..];
    Some((&rest[..n], msg.strip_prefix(b" ").unwrap_or(msg)))
}

/// Strips a leading kernel uptime stamp `[%5lu.%06lu] `, returning it.
pub fn strip_uptime(msg: &[u8]) -> (Option<i64>, &[u8]) {
    if msg.first() == Some(&b'[') {
        // the kernel's own form, `[%5lu.%06lu] `, in one pass: spaces,
        // 1..=13 digits, '.', six digits, ']' within the first 24 bytes
        let mut i = 1;
        while msg.get(i) == Some(&b' ') {
            i += 1;
        }
        let (mut secs, start) = (0u64, i);
        while let Some(d) = msg.get(i).map(|c| c.wrapping_sub(b'0')).filter(|&d| d <= 9) {
            secs = secs * 10 + d as u64;
            i += 1;
            if i - start > 13 {
                break;
            }
        }
        let n = i - start;
        if (1..=13).contains(&n)
            && secs <= 1 << 40
            && msg.get(i) == Some(&b'.')
            && i + 7 < 24
            && msg.get(i + 7) == Some(&b']')
        {
            if let Some(us) = digits(&msg[i + 1..], 6) {
                let r = &msg[i + 8..];
                return (
                    Some(secs as i64 * 1_000_000 + us as i64),
                    r.strip_prefix(b" ").unwrap_or(r),
                );
            }
        }
        if let Some(close) = msg.iter().take(24).position(|&c| c == b']') {
            if let Some(up) = parse_uptime(&msg[1..close]) {
                let r = &msg[close + 1..];
                return (Some(up), r.strip_prefix(b" ").unwrap_or(r));
            }
        }
    }
    (None, msg)
}

/// rsyslog repeat summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat<'a> {
    /// `message repeated N times: [ msg]`: N more copies of `msg`.
    Inline(u64, &'a [u8]),
    /// `last message repeated N times`: N more copies of this host's
    /// previous message.
    Previous(u64),
}

/// Recognises an rsyslog/sysklogd repeat summary.
pub fn repeat(msg: &[u8]) -> Option<Repeat<'_>> {
    let (last, r) = match msg.strip_prefix(b"message repeated ") {
        Some(r) => (false, r),
        None => (true, msg.strip_prefix(b"last message repeated ")?),
    };
    let sp = r.iter().position(|&c| c == b' ')?;
    let n = crate::model::parse_uint(&r[..sp], 1 << 32)?;
    let r = &r[sp..];
    if last {
        return r.starts_with(b" times").then_some(Repeat::Previous(n));
    }
    let r = r.strip_prefix(b" times: [")?;
    let r = r.strip_prefix(b" ").unwrap_or(r);
    let r = r.strip_suffix(b"]")?;
    Some(Repeat::Inline(n, r))
}

/// Naive µs of a year-less stamp placed in `year`, if that date exists.
pub fn place(year: i64, month: u8, day: u8, sod: u32, micros: u32) -> Option<i64> {
    valid_date(year, month as u32, day as u32).then(|| {
        (days_from_civil(year, month as u32, day as u32) * 86_400 + sod as i64) * 1_000_000
            + micros as i64
    })
}

/// Year resolution (spec §6.3): `stamps` are (month, day, sod, micros) of
/// the year-less lines in file order; `anchor_naive` the anchor (file
/// mtime) as naive local µs. The last line gets the latest year that puts
/// it at or before the anchor + 1 day; walking back, each earlier line
/// gets the year that puts it closest to the line after it (Feb 29 only in
/// leap years). Returns one year per stamp.
pub fn resolve_years(stamps: &[(u8, u8, u32, u32)], anchor_naive: i64) -> Vec<i64> {
    let mut years = vec![0i64; stamps.len()];
    let Some(&(m, d, s, us)) = stamps.last() else {
        return years;
    };
    let limit = anchor_naive + 86_400_000_000;
    let ay = year_of(anchor_naive);
    let mut reference = None;
    for y in (ay - 8..=ay + 1).rev() {
        if let Some(t) = place(y, m, d, s, us) {
            if t <= limit {
                reference = Some((y, t));
                break;
            }
        }
    }
    let (mut ry, mut rt) = reference.unwrap_or((ay, anchor_naive));
    for i in (0..stamps.len()).rev() {
        let (m, d, s, us) = stamps[i];
        let mut best: Option<(i64, i64)> = None;
        // Feb 29 may need the nearest leap year; other dates are within ±1
        let span = if m == 2 && d == 29 { 4 } else { 1 };
        for y in ry - span..=ry + span {
            if let Some(t) = place(y, m, d, s, us) {
                if best.is_none_or(|(_, bt)| (t - rt).abs() < (bt - rt).abs()) {
                    best = Some((y, t));
                }
            }
        }
        let (y, t) = best.unwrap_or((ry, rt));
        years[i] = y;
        ry = y;
        rt = t;
    }
    years
}

/// A year-less stamp: (month, day, seconds of day, microseconds).
pub type YearLessStamp = (u8, u8, u32, u32);

/// Streaming form of [`resolve_years`] for inputs too large to keep: fed
/// the year-less stamps in file order, it keeps only the places where the
/// year can change, then turns them into year segments.
///
/// Walking back, a line keeps the year of the line after it unless the two
/// stamps are more than ~half a year apart or the earlier one is Feb 29;
/// only those pairs ("jumps") are stored, so memory grows with the number
/// of year changes (one per new year in a real log), not with the lines.
/// Stamps whose date exists in no year (`Apr 31`) are skipped exactly as
/// [`resolve_years`] skips them. The result equals
/// [`resolve_years`]' years for every line with a valid date.
#[derive(Clone, Debug, Default)]
pub struct YearScan {
    /// First line with a year-less stamp.
    first_line: Option<u64>,
    /// Last stamp with a date that exists in some year: (line, stamp).
    last_valid: Option<(u64, (u8, u8, u32, u32))>,
    /// The last year-less stamp has a date that exists in no year.
    last_is_invalid: bool,
    /// Pairs of consecutive valid stamps that may change the year:
    /// (earlier line, earlier stamp, later line, later stamp).
    jumps: Vec<(u64, YearLessStamp, u64, YearLessStamp)>,
}

/// Position of a stamp in a leap year, µs (for the half-year test).
fn leap_position(s: (u8, u8, u32, u32)) -> i64 {
    place(2000, s.0, s.1, s.2, s.3).unwrap_or(0)
}

impl YearScan {
    /// Adds the year-less stamp of line `line` (lines in ascending order).
    pub fn push(&mut self, line: u64, stamp: (u8, u8, u32, u32)) {
        self.first_line.get_or_insert(line);
        if let Some((_, p)) = &mut self.last_valid {
            // the same day as the valid line before: no jump possible
            if (p.0, p.1) == (stamp.0, stamp.1) && !(stamp.0 == 2 && stamp.1 == 29) {
                self.last_is_invalid = false;
                self.last_valid = Some((line, stamp));
                return;
            }
        }
        // 2000 is a leap year: a date that does not exist then never does
        if !valid_date(2000, stamp.0 as u32, stamp.1 as u32) {
            self.last_is_invalid = true;
            return;
        }
        self.last_is_invalid = false;
        if let Some((pl, p)) = self.last_valid {
            // Within 180 days (181 in a common year) the line after is
            // closer than any other year (>= 184 days away): no jump.
            const NEAR_US: i64 = 180 * 86_400_000_000;
            let far = (leap_position(p) - leap_position(stamp)).abs() > NEAR_US;
            if far || (p.0 == 2 && p.1 == 29) {
                self.jumps.push((pl, p, line, stamp));
            }
        }
        self.last_valid = Some((line, stamp));
    }

    /// Year segments `(first line, year)`, ascending, for `anchor_naive`
    /// (as in [`resolve_years`]); empty when no stamp was pushed.
    pub fn finish(&self, anchor_naive: i64) -> Vec<(u64, i64)> {
        let Some(first_line) = self.first_line else {
            return Vec::new();
        };
        let limit = anchor_naive + 86_400_000_000;
        let ay = year_of(anchor_naive);
        let (mut ry, mut rt) = (ay, anchor_naive);
        if !self.last_is_invalid {
            if let Some((_, (m, d, s, us))) = self.last_valid {
                for y in (ay - 8..=ay + 1).rev() {
                    if let Some(t) = place(y, m, d, s, us) {
                        if t <= limit {
                            (ry, rt) = (y, t);
                            break;
                        }
                    }
                }
            }
        }
        let closest = |stamp: (u8, u8, u32, u32), ry: i64, rt: i64| -> (i64, i64) {
            let (m, d, s, us) = stamp;
            let span = if m == 2 && d == 29 { 4 } else { 1 };
            let mut best: Option<(i64, i64)> = None;
            for y in ry - span..=ry + span {
                if let Some(t) = place(y, m, d, s, us) {
                    if best.is_none_or(|(_, bt)| (t - rt).abs() < (bt - rt).abs()) {
                        best = Some((y, t));
                    }
                }
            }
            best.unwrap_or((ry, rt))
        };
        // segments, built backwards: (first line, year)
        let mut back: Vec<(u64, i64)> = Vec::new();
        let Some((last_line, last)) = self.last_valid else {
            return vec![(first_line, ry)];
        };
        let _ = last_line;
        let (mut year, _) = closest(last, ry, rt);
        for &(_, p, nl, n) in self.jumps.iter().rev() {
            // every valid line from `nl` up to the next jump has `year`
            let rt = place(year, n.0, n.1, n.2, n.3).unwrap_or(rt);
            let (y, _) = closest(p, year, rt);
            if y != year {
                back.push((nl, year));
                year = y;
            }
        }
        back.push((first_line, year));
        back.reverse();
        back
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        (days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64) * 1_000_000
    }

    #[test]
    fn traditional_with_uptime() {
        let l = b"Dec 31 23:40:06 dev07 kernel: [ 3523.844849] [UFW ALLOW] IN= OUT=x";
        let h = parse_header(l).unwrap();
        assert_eq!(h.host, b"dev07");
        assert_eq!(
            h.stamp,
            Stamp::YearLess {
                month: 12,
                day: 31,
                sod: 85206,
                micros: 0
            }
        );
        let (tag, msg) = split_tag(h.rest).unwrap();
        assert_eq!(tag, b"kernel");
        let (up, msg) = strip_uptime(msg);
        assert_eq!(up, Some(3_523_844_849));
        assert_eq!(msg, b"[UFW ALLOW] IN= OUT=x");
    }

    #[test]
    fn fast_header_equals_general() {
        let seeds: [&[u8]; 5] = [
            b"Jan  1 00:00:01 gw kernel: x",
            b"Feb 29 23:59:60 h k",
            b"Dec 31 09:08:07 web03 kernel: [1.000000] IN= OUT=",
            b"Oct 10 10:10:10.5 h x",
            b"Sep  9 24:00:00 h x",
        ];
        let mut rng = crate::TestRng(0x1234_5678_9ABC_DEF1);
        let mut rnd = move |n: usize| rng.below(n as u64) as usize;
        let alphabet = b" :.0123456789JanFebx\t";
        let mut cache = StampCache::default();
        for seed in seeds {
            assert_eq!(parse_header(seed), parse_header_general(seed));
            for _ in 0..20_000 {
                let mut m = seed.to_vec();
                for _ in 0..1 + rnd(2) {
                    let at = rnd(m.len() + 1);
                    match rnd(3) {
                        0 if at < m.len() => m[at] = alphabet[rnd(alphabet.len())],
                        1 => m.truncate(at),
                        _ => m.insert(at, alphabet[rnd(alphabet.len())]),
                    }
                }
                assert_eq!(
                    parse_header(&m),
                    parse_header_general(&m),
                    "{}",
                    String::from_utf8_lossy(&m)
                );
                // the cache carries over from line to line
                assert_eq!(
                    parse_header_cached(&m, &mut cache),
                    parse_header_general(&m),
                    "{}",
                    String::from_utf8_lossy(&m)
                );
                assert_eq!(
                    parse_header_cached(seed, &mut cache),
                    parse_header_general(seed)
                );
            }
        }
    }

    #[test]
    fn header_variants() {
        let h = parse_header(b"<4>Jan  1 00:00:01.250000 gw kernel: x").unwrap();
        assert_eq!(
            h.stamp,
            Stamp::YearLess {
                month: 1,
                day: 1,
                sod: 1,
                micros: 250_000
            }
        );
        let h = parse_header(b"2024-03-31T03:05:07.123456+02:00 web05 kernel: x").unwrap();
        assert_eq!(h.stamp, Stamp::Utc(utc(2024, 3, 31, 1, 5, 7) + 123_456));
        let h = parse_header(b"2024-03-31T03:05:07+0200 web05 kernel: x").unwrap();
        assert_eq!(h.stamp, Stamp::Utc(utc(2024, 3, 31, 1, 5, 7)));
        let h = parse_header(b"<4>1 2024-03-31T03:05:07.5Z host kernel - - - IN= OUT=").unwrap();
        assert_eq!((h.app, h.rest), (Some(&b"kernel"[..]), &b"IN= OUT="[..]));
        assert_eq!(h.stamp, Stamp::Utc(utc(2024, 3, 31, 3, 5, 7) + 500_000));
        let h = parse_header(b"[Sat Feb 22 11:59:43 2025] IN= OUT=").unwrap();
        assert_eq!(h.stamp, Stamp::Naive(utc(2025, 2, 22, 11, 59, 43)));
        let h = parse_header(b"[158144.383443] IN= OUT=").unwrap();
        assert_eq!(h.stamp, Stamp::Uptime(158_144_383_443));
        let h = parse_header(b"[  158.3] gw kernel: IN=").unwrap();
        assert_eq!((h.host, h.stamp), (&b"gw"[..], Stamp::Uptime(158_300_000)));
        assert!(parse_header(b"garbage").is_none());
        assert!(parse_header(b"2024-03-31T03:05:07+0").is_none());
        assert!(parse_header(b"2024-03-31T03:05:07.5+").is_none());
        assert!(parse_header(b"Foo 31 23:40:06 h x").is_none());
    }

    #[test]
    fn year_rollover_and_skew() {
        // Dec 31 23:59:50, Jan 1 00:00:01, Dec 31 23:59:58 (skewed), Jan 1 00:10
        let st = [
            (12, 31, 86_390, 0),
            (1, 1, 1, 0),
            (12, 31, 86_398, 0),
            (1, 1, 600, 0),
        ];
        let ys = resolve_years(&st, utc(2025, 1, 1, 0, 20, 0));
        assert_eq!(ys, vec![2024, 2025, 2024, 2025]);
    }

    /// The streaming scan gives every valid line the year of the
    /// whole-file resolution, on random walks with jumps, skew, Feb 29
    /// and impossible dates.
    #[test]
    fn year_scan_equals_resolve_years() {
        let mut rng = crate::TestRng(0x9E37_79B9_7F4A_7C15);
        let mut next = move |n: u64| rng.below(n);
        for round in 0..3000 {
            let n = 1 + next(40) as usize;
            let mut day: i64 = next(366) as i64;
            let mut stamps = Vec::new();
            for _ in 0..n {
                day += match next(10) {
                    0 => next(400) as i64 - 200,
                    1 => -(next(3) as i64),
                    _ => next(2) as i64,
                };
                let d = day.rem_euclid(366);
                // month/day in a leap year, sometimes an impossible date
                let (m, dd) = match next(30) {
                    0 => (2, 29),
                    1 => (4, 31),
                    2 => (2, 30),
                    _ => {
                        let mut m = 1u8;
                        let mut left = d;
                        let len = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
                        while left >= len[m as usize - 1] {
                            left -= len[m as usize - 1];
                            m += 1;
                        }
                        (m, left as u8 + 1)
                    }
                };
                stamps.push((m, dd, next(86_400) as u32, next(3) as u32));
            }
            let anchor = utc(
                2020 + next(12) as i64,
                1 + next(12) as u32,
                1 + next(28) as u32,
                0,
                0,
                0,
            ) + (round % 3) as i64 * 43_200_000_000;
            let want = resolve_years(&stamps, anchor);
            let mut scan = YearScan::default();
            for (i, s) in stamps.iter().enumerate() {
                scan.push(i as u64 + 1, *s);
            }
            let plan = scan.finish(anchor);
            assert_eq!(plan.first().map(|p| p.0), Some(1));
            for (i, s) in stamps.iter().enumerate() {
                if !valid_date(2000, s.0 as u32, s.1 as u32) {
                    continue;
                }
                let line = i as u64 + 1;
                let y = plan.iter().rev().find(|p| p.0 <= line).map(|p| p.1);
                assert_eq!(y, Some(want[i]), "line {line} of {stamps:?} at {anchor}");
            }
        }
    }

    #[test]
    fn feb29_picks_a_leap_year() {
        let ys = resolve_years(&[(2, 29, 0, 0)], utc(2025, 3, 10, 0, 0, 0));
        assert_eq!(ys, vec![2024]);
    }

    #[test]
    fn repeats() {
        assert_eq!(
            repeat(b"message repeated 2 times: [ abc ]"),
            Some(Repeat::Inline(2, b"abc "))
        );
        assert_eq!(
            repeat(b"last message repeated 3 times"),
            Some(Repeat::Previous(3))
        );
        assert_eq!(repeat(b"message repeated x times: [ a]"), None);
    }

    #[test]
    fn years_of_utc_times() {
        assert_eq!(year_of(utc(2024, 12, 31, 23, 59, 59)), 2024);
        assert_eq!(year_of(utc(2025, 1, 1, 0, 0, 0)), 2025);
        assert_eq!(year_of(utc(1969, 6, 1, 0, 0, 0)), 1969);
    }
}
