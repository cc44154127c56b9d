//! Time bins and axes: the `--step` grammar, the automatic step, where the
//! bins of a window lie ([`BinRange`]), local-time tick positions and
//! labels, "nice" value ticks and SI-prefixed rates (`1.5 Mb/s`).
//!
//! Pure functions of their arguments; the time zone is a parameter
//! ([`query::timefmt::Zone`]), so tests pin it and the tool passes the
//! process's local zone (`TZ`).

use chrono::{FixedOffset, TimeZone};
use query::timefmt::Zone;

use crate::Error;

/// Steps the automatic choice and the time ticks pick from, in seconds.
const NICE_STEPS: [i64; 16] = [
    60,
    2 * 60,
    5 * 60,
    10 * 60,
    15 * 60,
    30 * 60,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
    14 * 86_400,
    28 * 86_400,
];

/// The automatic step aims at no more than this many bins.
pub const AUTO_BINS: i64 = 400;

/// An explicit `--step` may give at most this many bins.
pub const MAX_BINS: i64 = 20_000;

/// Parses `--step`: a positive number of seconds with an optional unit
/// `s`, `m`, `h` or `d` (`300`, `30s`, `5m`, `1h`, `1d`).
pub fn parse_step(text: &str) -> Result<i64, Error> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let mult = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(Error::BadStep(text.to_string())),
    };
    let n: i64 = digits
        .parse()
        .map_err(|_| Error::BadStep(text.to_string()))?;
    let secs = n.saturating_mul(mult);
    if secs <= 0 || secs > 28 * 86_400 {
        return Err(Error::StepOutOfRange(text.to_string()));
    }
    Ok(secs)
}

/// `a / b` rounded up, for `a >= 0` and `b > 0`.
pub fn div_ceil(a: i64, b: i64) -> i64 {
    a / b + i64::from(a % b != 0)
}

/// The smallest nice step (at least a minute) that cuts `span_ms` into at
/// most [`AUTO_BINS`] bins: 5 minutes for a day, 1 minute for an hour.
pub fn auto_step(span_ms: i64) -> i64 {
    let span = span_ms.max(1);
    NICE_STEPS
        .iter()
        .copied()
        .find(|s| div_ceil(span, s * 1000) <= AUTO_BINS)
        .unwrap_or(NICE_STEPS[NICE_STEPS.len() - 1])
}

/// A step in words for titles: `5m`, `1h`, `90s`.
pub fn step_text(secs: i64) -> String {
    if secs % 86_400 == 0 {
        format!("{}d", secs / 86_400)
    } else if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Where the bins of a chart lie: `nbins` bins of `step_ms` from `lo_ms`;
/// the plotted range ends at `hi_ms`, which may cut the last bin short
/// (a window whose length is not a multiple of the step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinRange {
    /// Start of the first bin (ms since the epoch).
    pub lo_ms: i64,
    /// End of the plotted range (exclusive).
    pub hi_ms: i64,
    /// Bin length.
    pub step_ms: i64,
    /// Number of bins (at least 1).
    pub nbins: usize,
}

impl BinRange {
    /// Bins from `lo_ms` to `hi_ms` (exclusive), `step_secs` long; the
    /// last one is cut at `hi_ms`. An empty range gets one bin.
    pub fn new(lo_ms: i64, hi_ms: i64, step_secs: i64) -> Result<BinRange, Error> {
        let step_ms = step_secs.max(1) * 1000;
        let hi_ms = hi_ms.max(lo_ms.saturating_add(1));
        let nbins = div_ceil(hi_ms - lo_ms, step_ms);
        if nbins > MAX_BINS {
            return Err(Error::TooManyBins {
                step_secs,
                span_ms: hi_ms - lo_ms,
                bins: nbins,
            });
        }
        Ok(BinRange {
            lo_ms,
            hi_ms,
            step_ms,
            nbins: nbins.max(1) as usize,
        })
    }

    /// Bins covering data seen from `min_ms` to `max_ms` (inclusive),
    /// with the first bin starting on a local-time multiple of the step.
    pub fn around(min_ms: i64, max_ms: i64, step_secs: i64, zone: Zone) -> Result<Self, Error> {
        let step_ms = step_secs.max(1) * 1000;
        let off = zone.offset_at(min_ms.div_euclid(1000)) as i64 * 1000;
        let lo = (min_ms + off).div_euclid(step_ms) * step_ms - off;
        let lo = if lo > min_ms { lo - step_ms } else { lo };
        let nbins = div_ceil((max_ms + 1 - lo).max(1), step_ms);
        BinRange::new(
            lo,
            lo.saturating_add(nbins.saturating_mul(step_ms)),
            step_secs,
        )
    }

    /// Start of bin `i`.
    pub fn bin_start(&self, i: usize) -> i64 {
        self.lo_ms + i as i64 * self.step_ms
    }

    /// End of bin `i` (cut at `hi_ms`).
    pub fn bin_end(&self, i: usize) -> i64 {
        (self.bin_start(i) + self.step_ms).min(self.hi_ms)
    }

    /// Length of bin `i` in seconds (the last one may be short).
    pub fn bin_secs(&self, i: usize) -> f64 {
        (self.bin_end(i) - self.bin_start(i)).max(1) as f64 / 1000.0
    }

    /// Spreads a flow over the bins its `[start_ms, end_ms)` covers, in
    /// proportion to the overlap; a flow with no duration (or a bogus
    /// end before its start) counts whole in the bin of its start.
    /// Calls `add(bin, fraction)`; returns the fraction that fell
    /// outside the range (0 when the flow lies inside it).
    #[inline]
    pub fn spread(&self, start_ms: i64, end_ms: i64, mut add: impl FnMut(usize, f64)) -> f64 {
        if end_ms <= start_ms {
            if start_ms >= self.lo_ms && start_ms < self.hi_ms {
                add(((start_ms - self.lo_ms) / self.step_ms) as usize, 1.0);
                return 0.0;
            }
            return 1.0;
        }
        let a = start_ms.max(self.lo_ms);
        let b = end_ms.min(self.hi_ms);
        if a >= b {
            return 1.0;
        }
        let first = ((a - self.lo_ms) / self.step_ms) as usize;
        let last = (((b - 1) - self.lo_ms) / self.step_ms) as usize;
        let dur = (end_ms - start_ms) as f64;
        if first == last {
            let f = (b - a) as f64 / dur;
            add(first, f);
            return 1.0 - f;
        }
        let mut inside = 0.0;
        for i in first..=last.min(self.nbins - 1) {
            let lo = self.bin_start(i).max(a);
            let hi = (self.bin_start(i) + self.step_ms).min(b);
            if hi > lo {
                let f = (hi - lo) as f64 / dur;
                inside += f;
                add(i, f);
            }
        }
        (1.0 - inside).max(0.0)
    }
}

/// A duration in words: `24h`, `3d 4h`, `90s`.
pub fn span_text(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Local time of unix `secs` in `zone`, formatted with chrono's `fmt`.
pub fn local_text(zone: Zone, secs: i64, fmt: &str) -> String {
    let off = zone.offset_at(secs);
    let fixed = FixedOffset::east_opt(off).unwrap_or(FixedOffset::east_opt(0).expect("UTC"));
    match fixed.timestamp_opt(secs, 0).single() {
        Some(t) => t.format(fmt).to_string(),
        None => secs.to_string(),
    }
}

/// A window in words, local time: `2026-11-22 00:00 – 2026-11-23 00:00 +0100`
/// (the zone of the end; the date of the end is left out on the same day).
pub fn window_text(zone: Zone, lo_ms: i64, hi_ms: i64) -> String {
    let (a, b) = (lo_ms.div_euclid(1000), hi_ms.div_euclid(1000));
    let same_day = local_text(zone, a, "%Y-%m-%d") == local_text(zone, b, "%Y-%m-%d");
    let with_secs = a % 60 != 0 || b % 60 != 0;
    let hm = if with_secs { "%H:%M:%S" } else { "%H:%M" };
    let start = local_text(zone, a, &format!("%Y-%m-%d {hm}"));
    let end = if same_day {
        local_text(zone, b, &format!("{hm} %z"))
    } else {
        local_text(zone, b, &format!("%Y-%m-%d {hm} %z"))
    };
    format!("{start} – {end}")
}

/// One labelled tick on the time axis.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeTick {
    /// Position (ms since the epoch).
    pub ms: i64,
    /// Label in local time: `HH:MM`, or the date (`MM-DD`) at local
    /// midnight (and everywhere when ticks are a day or more apart).
    pub label: String,
}

/// Ticks on local-time multiples of a nice interval between `lo_ms` and
/// `hi_ms`, at most `max_ticks` of them.
pub fn time_ticks(zone: Zone, lo_ms: i64, hi_ms: i64, max_ticks: usize) -> Vec<TimeTick> {
    let span = (hi_ms - lo_ms).max(1);
    let max_ticks = max_ticks.max(2) as i64;
    let every = NICE_STEPS
        .iter()
        .copied()
        .find(|s| span / (s * 1000) <= max_ticks)
        .unwrap_or(NICE_STEPS[NICE_STEPS.len() - 1])
        * 1000;
    let mut ticks = Vec::new();
    let lo_s = lo_ms.div_euclid(1000);
    // Walk local time: local = utc + offset; the offset may change (DST).
    let off = zone.offset_at(lo_s) as i64 * 1000;
    let mut local = (lo_ms + off).div_euclid(every) * every;
    if local - off < lo_ms {
        local += every;
    }
    let mut guard = 0;
    while guard < 10_000 {
        guard += 1;
        // Convert back with the offset in force at that instant.
        let guess = local - off;
        let o2 = zone.offset_at(guess.div_euclid(1000)) as i64 * 1000;
        let ms = local - o2;
        if ms > hi_ms {
            break;
        }
        if ms >= lo_ms && ticks.last().is_none_or(|t: &TimeTick| t.ms < ms) {
            let secs = ms.div_euclid(1000);
            let midnight = local_text(zone, secs, "%H:%M") == "00:00";
            let label = if every >= 86_400_000 || midnight {
                local_text(zone, secs, "%m-%d")
            } else {
                local_text(zone, secs, "%H:%M")
            };
            ticks.push(TimeTick { ms, label });
        }
        local += every;
    }
    ticks
}

/// Value ticks from 0: a 1-2-5 interval giving at most `max_ticks`
/// intervals up to (at least) `max`. Returns the ticks; the last is the
/// axis top. A zero or invalid `max` gives `[0, 1]`.
pub fn value_ticks(max: f64, max_ticks: usize) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0, 1.0];
    }
    let n = max_ticks.max(1) as f64;
    let raw = max / n;
    let mag = 10f64.powf(raw.log10().floor());
    let every = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| max / s <= n + 1e-9)
        .unwrap_or(10.0 * mag);
    let count = (max / every - 1e-9).ceil().max(1.0) as usize;
    (0..=count).map(|i| i as f64 * every).collect()
}

/// `v` with an SI prefix chosen for `scale` (so all ticks of an axis
/// share one prefix): `si(1_500_000.0, 2e6) == "1.5 M"`.
pub fn si(v: f64, scale: f64) -> String {
    let (div, prefix) = si_prefix(scale);
    let x = v / div;
    let text = if x == 0.0 {
        "0".to_string()
    } else if (x - x.round()).abs() < 1e-6 {
        format!("{}", x.round() as i64)
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if prefix.is_empty() || text == "0" {
        text
    } else {
        format!("{text} {prefix}")
    }
}

fn si_prefix(scale: f64) -> (f64, &'static str) {
    let a = scale.abs();
    if a >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    }
}

/// A byte count for people: `1.2 GB` (powers of 1000, like the rates).
pub fn bytes_text(octets: u64) -> String {
    let v = octets as f64;
    let s = si(v, v);
    if s.ends_with(['k', 'M', 'G', 'T']) {
        format!("{s}B")
    } else {
        format!("{s} B")
    }
}

/// A count for people: `20 M`, `1.5 k`, `950`.
pub fn count_text(n: u64) -> String {
    let v = n as f64;
    si(v, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Zone {
        Zone::UTC
    }

    #[test]
    fn steps_parse_with_units() {
        assert_eq!(parse_step("300").unwrap(), 300);
        assert_eq!(parse_step("5m").unwrap(), 300);
        assert_eq!(parse_step("1h").unwrap(), 3600);
        assert_eq!(parse_step("1d").unwrap(), 86_400);
        assert_eq!(parse_step("30s").unwrap(), 30);
        for bad in ["", "5x", "-5m", "m", "99999999999999999999"] {
            let e = parse_step(bad).expect_err(bad);
            assert!(matches!(&e, Error::BadStep(t) if t == bad), "{e:?}");
            assert_eq!(
                e.to_string(),
                format!(
                    "--step {bad}: expected a number with an optional unit s, m, h or d (e.g. 5m)"
                )
            );
        }
        for bad in ["0", "30d"] {
            let e = parse_step(bad).expect_err(bad);
            assert!(matches!(&e, Error::StepOutOfRange(t) if t == bad), "{e:?}");
            assert_eq!(
                e.to_string(),
                format!("--step {bad}: must be between 1 second and 28 days")
            );
        }
    }

    #[test]
    fn auto_step_targets_a_few_hundred_bins() {
        assert_eq!(auto_step(86_400_000), 300);
        assert_eq!(auto_step(3_600_000), 60);
        assert_eq!(auto_step(7 * 86_400_000), 1800);
        assert_eq!(auto_step(0), 60);
        assert_eq!(auto_step(i64::MAX / 4), 28 * 86_400);
    }

    #[test]
    fn too_many_bins_is_an_error_not_an_allocation() {
        let e = BinRange::new(0, 365 * 86_400_000, 60).unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooManyBins {
                    step_secs: 60,
                    bins: 525_600,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "--step 1m cuts {} into 525600 bins (at most 20000); choose a larger --step or a shorter --since/--until window",
                span_text(365 * 86_400_000)
            )
        );
    }

    #[test]
    fn spread_is_proportional_and_conserves_the_flow() {
        let r = BinRange::new(0, 600_000, 300).unwrap();
        assert_eq!(r.nbins, 2);
        let mut got = [0.0; 2];
        // 200 s before the boundary, 100 s after.
        let out = r.spread(100_000, 400_000, |i, f| got[i] += f);
        assert!((got[0] - 2.0 / 3.0).abs() < 1e-12 && (got[1] - 1.0 / 3.0).abs() < 1e-12);
        assert!(out.abs() < 1e-12);
        // A point flow lands whole; one outside is reported as outside.
        let mut got = [0.0; 2];
        assert_eq!(r.spread(300_000, 300_000, |i, f| got[i] += f), 0.0);
        assert_eq!(got, [0.0, 1.0]);
        assert_eq!(r.spread(600_000, 600_000, |_, _| panic!()), 1.0);
        // Half of it after the range.
        let mut got = [0.0; 2];
        let out = r.spread(500_000, 700_000, |i, f| got[i] += f);
        assert!((got[1] - 0.5).abs() < 1e-12 && (out - 0.5).abs() < 1e-12);
        // A bogus end before the start counts at the start.
        let mut got = [0.0; 2];
        r.spread(10_000, 5_000, |i, f| got[i] += f);
        assert_eq!(got, [1.0, 0.0]);
    }

    #[test]
    fn spread_over_the_whole_range_and_beyond() {
        let r = BinRange::new(0, 3_600_000, 300).unwrap();
        let mut sum = 0.0;
        let mut n = 0;
        let out = r.spread(-3_600_000, 7_200_000, |_, f| {
            sum += f;
            n += 1
        });
        assert_eq!(n, 12);
        assert!((sum - 1.0 / 3.0).abs() < 1e-9 && (out - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_short_last_bin() {
        let r = BinRange::new(0, 420_000, 300).unwrap();
        assert_eq!(r.nbins, 2);
        assert_eq!(r.bin_secs(1), 120.0);
    }

    #[test]
    fn around_aligns_to_local_step_multiples() {
        let r = BinRange::around(1_000_123, 1_500_000, 300, utc()).unwrap();
        assert_eq!(r.lo_ms, 900_000);
        assert_eq!(r.hi_ms, 1_500_000 + 300_000);
        let half = Zone::Fixed(1800);
        let r = BinRange::around(3_600_000 * 10 + 5, 3_600_000 * 11, 3600, half).unwrap();
        assert_eq!(r.lo_ms, 3_600_000 * 10 - 1_800_000);
    }

    #[test]
    fn ticks_are_local_and_dated_at_day_changes() {
        // 2026-11-22 00:00 UTC .. +24h.
        let lo = 1_795_305_600_000;
        let t = time_ticks(utc(), lo, lo + 86_400_000, 10);
        let labels: Vec<_> = t.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            ["11-22", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00", "11-23"]
        );
        let ny = Zone::Fixed(-5 * 3600);
        let t = time_ticks(ny, lo, lo + 86_400_000, 10);
        assert_eq!(t[0].label, "21:00");
        assert_eq!(t[1].label, "11-22");
        let kolkata = Zone::Fixed(5 * 3600 + 1800);
        let t = time_ticks(kolkata, lo, lo + 3_600_000, 8);
        assert_eq!(t[0].label, "05:30");
        let t = time_ticks(utc(), lo, lo + 7 * 86_400_000, 10);
        assert_eq!(t[1].label, "11-23");
        assert_eq!(t[0].ms, lo);
    }

    #[test]
    fn value_ticks_are_nice() {
        assert_eq!(value_ticks(7.3e6, 5), vec![0.0, 2e6, 4e6, 6e6, 8e6]);
        assert_eq!(
            value_ticks(1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(value_ticks(0.0, 5), vec![0.0, 1.0]);
        assert_eq!(value_ticks(f64::NAN, 5), vec![0.0, 1.0]);
        assert_eq!(value_ticks(100.0, 5).last(), Some(&100.0));
    }

    #[test]
    fn si_prefixes() {
        assert_eq!(si(1_500_000.0, 2e6), "1.5 M");
        assert_eq!(si(0.0, 2e6), "0");
        assert_eq!(si(250_000.0, 1e6), "0.25 M");
        assert_eq!(si(2e9, 8e9), "2 G");
        assert_eq!(si(12.5, 50.0), "12.5");
        assert_eq!(bytes_text(1_234_567_890), "1.23 GB");
        assert_eq!(bytes_text(999), "999 B");
        assert_eq!(count_text(20_000_000), "20 M");
    }

    #[test]
    fn window_words() {
        let lo = 1_795_305_600_000;
        assert_eq!(
            window_text(utc(), lo, lo + 86_400_000),
            "2026-11-22 00:00 – 2026-11-23 00:00 +0000"
        );
        assert_eq!(
            window_text(utc(), lo, lo + 3_600_000),
            "2026-11-22 00:00 – 01:00 +0000"
        );
        assert_eq!(span_text(86_400_000), "1d");
        assert_eq!(span_text(5_400_000), "1h 30m");
    }
}
