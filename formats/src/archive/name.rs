//! File names and nesting directories.
//!
//! A name is `<prefix>v<VV>.<YYYY>-<MM>-<DD>.<HHMMSS><±hhmm>[.<N>]`: the
//! local time of the file's start in the zone whose offset follows it
//! (spec §4.2). Prefixes: `ft-` / `tmp-` for ft files (flow-tools' own
//! names), `nf-` / `tmp-nf-` for native files. `.N` (N ≥ 1) marks a
//! further file of the same start, for writers that number their files
//! instead of moving the time (flow-import).

use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::{ArchiveError, Op};
use crate::time::Zone;
use crate::Detected;

/// The nesting levels `-N` takes (spec §4.2).
pub const NESTING: RangeInclusive<i8> = -3..=3;

/// How many seconds past its time [`FileName::later`] looks for a free
/// name (an hour: a second file per second for a whole hour).
pub const SPAN_LATER: u32 = 3600;

/// Which on-disk format a file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// Native flow file (zstd blocks, `FORMAT.md`).
    Native,
    /// flow-tools ft file.
    Ft,
}

impl FileKind {
    /// Name prefix of a finished file: `nf-` or `ft-`.
    pub fn final_prefix(self) -> &'static str {
        match self {
            FileKind::Native => "nf-",
            FileKind::Ft => "ft-",
        }
    }

    /// Name prefix of a file being written: `tmp-nf-` or `tmp-`.
    pub fn tmp_prefix(self) -> &'static str {
        match self {
            FileKind::Native => "tmp-nf-",
            FileKind::Ft => "tmp-",
        }
    }

    /// The kind of a file whose first bytes [`crate::detect`] judged.
    pub fn from_detected(d: Detected) -> Option<FileKind> {
        match d {
            Detected::Native => Some(FileKind::Native),
            Detected::Ft => Some(FileKind::Ft),
            Detected::Unknown => None,
        }
    }

    /// `native` or `ft`, as the command lines spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Native => "native",
            FileKind::Ft => "ft",
        }
    }
}

/// A flow file's name, as its parts. [`fmt::Display`] writes it and
/// [`FileName::parse`] reads it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileName {
    /// Native or ft.
    pub kind: FileKind,
    /// Still being written (`tmp-` prefix).
    pub tmp: bool,
    /// Export version (two digits at least in the name).
    pub version: u16,
    /// The time in the name, unix seconds.
    pub time: i64,
    /// The UTC offset written in the name, seconds east (whole minutes).
    pub offset: i32,
    /// The `.N` suffix; 0 for none.
    pub seq: u32,
}

/// The local broken-down time of `t` at `offset`, `None` out of range.
fn local(t: i64, offset: i32) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp(t.checked_add(i64::from(offset))?, 0).map(|d| d.naive_utc())
}

impl FileName {
    /// The finished name of a `kind` file for time `t`, written in
    /// `zone`'s local time.
    pub fn new(kind: FileKind, version: u16, t: i64, zone: Zone) -> FileName {
        FileName {
            kind,
            tmp: false,
            version,
            time: t,
            offset: zone.offset_at(t) / 60 * 60,
            seq: 0,
        }
    }

    /// The `tmp-` form of this name.
    pub fn as_tmp(self) -> FileName {
        FileName { tmp: true, ..self }
    }

    /// The finished form of this name.
    pub fn as_finished(self) -> FileName {
        FileName { tmp: false, ..self }
    }

    /// The same name for another format.
    pub fn with_kind(self, kind: FileKind) -> FileName {
        FileName { kind, ..self }
    }

    /// The same name with suffix `.seq` (0: none).
    pub fn with_seq(self, seq: u32) -> FileName {
        FileName { seq, ..self }
    }

    /// This name, then the names of each following second, up to
    /// [`SPAN_LATER`] seconds on (each written in `zone`): the candidates
    /// for a second file that starts in the same second as another.
    pub fn later(self, zone: Zone) -> impl Iterator<Item = FileName> {
        (0..=i64::from(SPAN_LATER)).map(move |k| FileName {
            time: self.time + k,
            offset: if k == 0 {
                self.offset
            } else {
                zone.offset_at(self.time + k) / 60 * 60
            },
            ..self
        })
    }

    /// This name, then `.1`, `.2`, ... (up to `.9999`): the candidates for
    /// a further file of the same time.
    pub fn numbered(self) -> impl Iterator<Item = FileName> {
        (0..=9999).map(move |seq| FileName { seq, ..self })
    }

    /// Reads a name written by [`fmt::Display`]; `None` for anything else
    /// (other prefixes, `v5`, a non-canonical number, a bad date, a
    /// trailing `.recovering`, ...).
    pub fn parse(name: &str) -> Option<FileName> {
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
        let version: u16 = canonical(ver, 2)?.try_into().ok()?;
        // YYYY-MM-DD.HHMMSS±hhmm = 10 + 1 + 6 + 5 = 22 bytes, then `.N`.
        let (stamp, seq) = match rest.get(22..) {
            Some("") => (rest, 0),
            Some(s) => (
                &rest[..22],
                canonical(s.strip_prefix('.')?, 1).filter(|&n| n > 0)?,
            ),
            None => return None,
        };
        let b = stamp.as_bytes();
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'.' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = stamp.get(r)?;
            if s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse().ok()
            } else {
                None
            }
        };
        let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
        let dt = date.and_hms_opt(num(11..13)?, num(13..15)?, num(15..17)?)?;
        let sign = match b[17] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (oh, om) = (num(18..20)?, num(20..22)?);
        if om >= 60 {
            return None;
        }
        let offset = sign * (oh as i32 * 3600 + om as i32 * 60);
        Some(FileName {
            kind,
            tmp,
            version,
            time: dt.and_utc().timestamp() - i64::from(offset),
            offset,
            seq,
        })
    }
}

/// `s` as a number if it is written the way `{:0width$}` writes it.
fn canonical(s: &str, width: usize) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = s.parse().ok()?;
    (format!("{n:0width$}") == s).then_some(n)
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.tmp {
            self.kind.tmp_prefix()
        } else {
            self.kind.final_prefix()
        };
        write!(f, "{prefix}v{:02}.", self.version)?;
        let Some(lt) = local(self.time, self.offset) else {
            return f.write_str("invalid-time");
        };
        let sign = if self.offset < 0 { '-' } else { '+' };
        let a = self.offset.unsigned_abs();
        write!(
            f,
            "{:04}-{:02}-{:02}.{:02}{:02}{:02}{sign}{:02}{:02}",
            lt.year(),
            lt.month(),
            lt.day(),
            lt.hour(),
            lt.minute(),
            lt.second(),
            a / 3600,
            (a / 60) % 60
        )?;
        if self.seq > 0 {
            write!(f, ".{}", self.seq)?;
        }
        Ok(())
    }
}

/// The directory (relative to the flow directory) of a file for time `t`
/// at nesting level `level` (spec §4.2), dates in `zone`: 0 none, 1
/// `YYYY`, 2 `YYYY/YYYY-MM`, 3 (and -3) `YYYY/YYYY-MM/YYYY-MM-DD`, -1
/// `YYYY-MM-DD`, -2 `YYYY-MM/YYYY-MM-DD`. Other levels are treated as 0.
pub fn nest_dir(level: i8, t: i64, zone: Zone) -> PathBuf {
    let mut p = PathBuf::new();
    let Some(lt) = local(t, zone.offset_at(t)) else {
        return p;
    };
    let y = format!("{:04}", lt.year());
    let ym = format!("{y}-{:02}", lt.month());
    let ymd = format!("{ym}-{:02}", lt.day());
    let parts: &[&String] = match level {
        1 => &[&y],
        2 => &[&y, &ym],
        3 | -3 => &[&y, &ym, &ymd],
        -1 => &[&ymd],
        -2 => &[&ym, &ymd],
        _ => &[],
    };
    p.extend(parts.iter().map(|s| s.as_str()));
    p
}

/// True if nothing (not even a dangling link) is at `p`.
pub(super) fn vacant(p: &Path) -> Result<bool, ArchiveError> {
    match std::fs::symlink_metadata(p) {
        Ok(_) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(ArchiveError::io(p, Op::Stat, e)),
    }
}

/// The first of `candidates` (finished names) whose finished and `tmp-`
/// forms are both absent from `dir`, so that a new file never takes the
/// name of one being written or finished.
pub fn first_free(
    dir: &Path,
    candidates: impl IntoIterator<Item = FileName>,
) -> Result<FileName, ArchiveError> {
    let mut first = None;
    for c in candidates {
        let c = c.as_finished();
        first.get_or_insert(c);
        if vacant(&dir.join(c.to_string()))? && vacant(&dir.join(c.as_tmp().to_string()))? {
            return Ok(c);
        }
    }
    Err(ArchiveError::NoFreeName {
        dir: dir.to_path_buf(),
        first: first.map(|c| c.to_string()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_313_964; // 2026-11-22 02:19:24 UTC

    fn name(kind: FileKind, tmp: bool, off: i32) -> String {
        let n = FileName::new(kind, 5, T, Zone::Fixed(off));
        if tmp { n.as_tmp() } else { n }.to_string()
    }

    #[test]
    fn names_follow_the_flow_tools_pattern() {
        // The golden capture: TZ=America/New_York at 02:19:24 UTC.
        assert_eq!(
            name(FileKind::Ft, false, -5 * 3600),
            "ft-v05.2026-11-21.211924-0500"
        );
        assert_eq!(
            name(FileKind::Ft, true, -5 * 3600),
            "tmp-v05.2026-11-21.211924-0500"
        );
        assert_eq!(
            name(FileKind::Native, false, 0),
            "nf-v05.2026-11-22.021924+0000"
        );
        assert_eq!(
            name(FileKind::Native, true, 19800),
            "tmp-nf-v05.2026-11-22.074924+0530"
        );
        let n = FileName::new(FileKind::Native, 5, T, Zone::UTC).with_seq(2);
        assert_eq!(n.to_string(), "nf-v05.2026-11-22.021924+0000.2");
        assert_eq!(
            FileName::new(FileKind::Ft, 1005, T, Zone::UTC).to_string(),
            "ft-v1005.2026-11-22.021924+0000"
        );
    }

    #[test]
    fn names_round_trip() {
        for kind in [FileKind::Native, FileKind::Ft] {
            for tmp in [false, true] {
                for off in [0, -5 * 3600, 19800, -9 * 3600 - 30 * 60, 14 * 3600] {
                    for seq in [0, 1, 12] {
                        let mut n = FileName::new(kind, 5, T, Zone::Fixed(off)).with_seq(seq);
                        n.tmp = tmp;
                        let text = n.to_string();
                        assert_eq!(FileName::parse(&text), Some(n), "{text}");
                        assert_eq!(n.time, T);
                    }
                }
            }
        }
    }

    #[test]
    fn foreign_names_do_not_parse() {
        for bad in [
            "ft-v05.2026-11-21.211924",
            "flows.txt",
            "ft-v05.2026-13-21.211924-0500",
            "nf-vxx.2026-11-21.211924-0500",
            "nf-v5.2026-11-21.211924-0500",
            "nf-v005.2026-11-21.211924-0500",
            "tmp-v05.2026-11-21.211924-0500.recovering",
            "nf-v05.2026-11-21.211924-0500.0",
            "nf-v05.2026-11-21.211924-0500.01",
            "nf-v05.2026-11-21.211924-0500.",
            "nf-v05.2026-11-21.211924-0560",
            "nf-v05.2026-11-21.211924*0500",
            "nf-v05.2026-11-21.251924-0500",
            "tmp-notes.txt",
            "",
        ] {
            assert_eq!(FileName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_in_a_zone_carry_its_offset_at_that_time() {
        // Zone::Local is the process's zone; a fixed zone is what tests and
        // --tz give. The offset written is the zone's at the file's time.
        let n = FileName::new(FileKind::Native, 5, T, Zone::Fixed(-4 * 3600));
        assert_eq!(n.offset, -4 * 3600);
        assert_eq!(n.to_string(), "nf-v05.2026-11-21.221924-0400");
    }

    #[test]
    fn nesting_levels() {
        let d = |l| {
            nest_dir(l, T, Zone::Fixed(-5 * 3600))
                .to_string_lossy()
                .into_owned()
        };
        assert_eq!(d(0), "");
        assert_eq!(d(1), "2026");
        assert_eq!(d(2), "2026/2026-11");
        assert_eq!(d(3), "2026/2026-11/2026-11-21");
        assert_eq!(d(-3), "2026/2026-11/2026-11-21");
        assert_eq!(d(-1), "2026-11-21");
        assert_eq!(d(-2), "2026-11/2026-11-21");
        assert_eq!(d(7), "");
    }

    #[test]
    fn a_free_name_skips_finished_and_tmp_files() {
        let dir = tempfile::tempdir().unwrap();
        let n = FileName::new(FileKind::Native, 5, T, Zone::UTC);
        assert_eq!(first_free(dir.path(), n.later(Zone::UTC)).unwrap(), n);
        std::fs::write(dir.path().join(n.to_string()), "").unwrap();
        std::fs::write(
            dir.path()
                .join(FileName { time: T + 1, ..n }.as_tmp().to_string()),
            "",
        )
        .unwrap();
        let free = first_free(dir.path(), n.later(Zone::UTC)).unwrap();
        assert_eq!(free.time, T + 2);
        assert_eq!(free.to_string(), "nf-v05.2026-11-22.021926+0000");
        let free = first_free(dir.path(), n.numbered()).unwrap();
        assert_eq!(free.to_string(), "nf-v05.2026-11-22.021924+0000.1");
        let e = first_free(dir.path(), [n]).unwrap_err();
        assert!(
            matches!(e, ArchiveError::NoFreeName { ref first, .. } if first == "nf-v05.2026-11-22.021924+0000"),
            "{e}"
        );
    }
}
