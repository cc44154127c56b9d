//! The flow directory as flow-capture leaves it: which files exist, which
//! are finished, and which 5-minute slots they cover. Only names are read
//! here; opening files is the caller's business.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::Error;

/// Length of a rotation slot, in seconds (flow-capture's default period).
pub const SLOT_SECS: i64 = 300;

/// Start of the slot holding unix time `t`. Slots are anchored at local
/// midnight, which for every zone offset that is a multiple of five
/// minutes is the same as anchoring at the epoch.
pub fn slot_of(t: i64) -> i64 {
    t - t.rem_euclid(SLOT_SECS)
}

/// One flow file found under the flow directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowFile {
    /// Path relative to the flow directory, `/`-separated: the file's
    /// identity in the state file.
    pub rel: String,
    /// Full path.
    pub path: PathBuf,
    /// The time in the name (the capture start), unix seconds.
    pub time: i64,
    /// Still being written (`tmp-` prefix).
    pub open: bool,
}

impl FlowFile {
    /// Start of the slot the file belongs to.
    pub fn slot(&self) -> i64 {
        slot_of(self.time)
    }
}

/// What [`parse_name`] reads from a collector file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameInfo {
    /// `tmp-` prefix: the collector is still writing it.
    pub open: bool,
    /// The time in the name, unix seconds.
    pub time: i64,
}

/// Parses the collector's names: `nf-v05.YYYY-MM-DD.HHMMSS+ZZZZ` (native),
/// `ft-v05.…` (ft) and their `tmp-nf-v05.…` / `tmp-v05.…` forms; `None`
/// for anything else.
pub fn parse_name(name: &str) -> Option<NameInfo> {
    let (open, rest) = if let Some(r) = name.strip_prefix("tmp-nf-") {
        (true, r)
    } else if let Some(r) = name.strip_prefix("nf-") {
        (false, r)
    } else if let Some(r) = name.strip_prefix("tmp-") {
        (true, r)
    } else if let Some(r) = name.strip_prefix("ft-") {
        (false, r)
    } else {
        return None;
    };
    let rest = rest.strip_prefix('v')?;
    let (version, stamp) = rest.split_once('.')?;
    if version.len() < 2 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // YYYY-MM-DD.HHMMSS±hhmm
    let b = stamp.as_bytes();
    if b.len() != 22 || b[4] != b'-' || b[7] != b'-' || b[10] != b'.' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        let s = stamp.get(from..to)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let local = date.and_hms_opt(num(11, 13)?, num(13, 15)?, num(15, 17)?)?;
    let sign = match b[17] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset = sign * (i64::from(num(18, 20)?) * 3600 + i64::from(num(20, 22)?) * 60);
    Some(NameInfo {
        open,
        time: local.and_utc().timestamp() - offset,
    })
}

/// Everything under a flow directory that looks like a flow file, sorted
/// by name time then path, plus the subdirectories that could not be
/// read (their files are unknown, which the report must say).
#[derive(Debug, Default)]
pub struct Listing {
    /// Finished and open flow files.
    pub files: Vec<FlowFile>,
    /// `(directory, reason)` for each unreadable subdirectory.
    pub unreadable_dirs: Vec<(String, String)>,
}

impl Listing {
    /// The slots that have at least one file, finished or still open.
    pub fn covered_slots(&self) -> BTreeSet<i64> {
        self.files.iter().map(FlowFile::slot).collect()
    }
}

/// Lists the flow files under `dir` (recursively, following the
/// collector's nesting). Fails when `dir` itself cannot be read.
pub fn list(dir: &Path) -> Result<Listing, Error> {
    let unreadable = |source| Error::File {
        path: dir.to_path_buf(),
        action: "read the flow directory",
        source,
    };
    let meta = std::fs::metadata(dir).map_err(unreadable)?;
    if !meta.is_dir() {
        return Err(Error::NotADirectory(dir.to_path_buf()));
    }
    let mut out = Listing::default();
    walk(dir, "", &mut out, 0).map_err(unreadable)?;
    out.files
        .sort_by(|a, b| (a.time, &a.rel).cmp(&(b.time, &b.rel)));
    Ok(out)
}

/// Deepest nesting followed (the collector uses at most three levels).
const MAX_DEPTH: usize = 16;

fn walk(dir: &Path, prefix: &str, out: &mut Listing, depth: usize) -> std::io::Result<()> {
    let entries = std::fs::read_dir(dir)?;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.contains('\n') {
            continue;
        }
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let is_dir = if kind.is_symlink() {
            std::fs::metadata(&path)
                .map(|m| m.is_dir())
                .unwrap_or(false)
        } else {
            kind.is_dir()
        };
        if is_dir {
            if depth < MAX_DEPTH {
                if let Err(e) = walk(&path, &rel, out, depth + 1) {
                    out.unreadable_dirs
                        .push((rel, flowio::input::io_reason(&e)));
                }
            }
            continue;
        }
        if let Some(info) = parse_name(name) {
            out.files.push(FlowFile {
                rel,
                path,
                time: info.time,
                open: info.open,
            });
        }
    }
    Ok(())
}

/// A run of consecutive slots with no file at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    /// Start of the first missing slot.
    pub from: i64,
    /// Start of the last missing slot.
    pub to: i64,
}

impl Gap {
    /// Number of missing slots.
    pub fn slots(&self) -> i64 {
        (self.to - self.from) / SLOT_SECS + 1
    }
}

/// The slots in `[first, last]` (slot starts) that `covered` lacks, as
/// runs.
pub fn gaps(covered: &BTreeSet<i64>, first: i64, last: i64) -> Vec<Gap> {
    let mut out = Vec::new();
    if last < first {
        return out;
    }
    let mut expect = first;
    for &s in covered.range(first..=last) {
        if s > expect {
            out.push(Gap {
                from: expect,
                to: s - SLOT_SECS,
            });
        }
        expect = s + SLOT_SECS;
    }
    if expect <= last {
        out.push(Gap {
            from: expect,
            to: last,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_names_parse_to_their_utc_time() {
        let t = 1_795_313_700; // 2026-11-22 02:15:00 UTC
        let n = parse_name("nf-v05.2026-11-22.021500+0000");
        assert_eq!(
            n,
            Some(NameInfo {
                open: false,
                time: t
            })
        );
        let n = parse_name("tmp-nf-v05.2026-11-22.074500+0530");
        assert_eq!(
            n,
            Some(NameInfo {
                open: true,
                time: t
            })
        );
        let n = parse_name("ft-v05.2026-11-21.211500-0500");
        assert_eq!(
            n,
            Some(NameInfo {
                open: false,
                time: t
            })
        );
        let n = parse_name("tmp-v05.2026-11-21.211500-0500");
        assert_eq!(
            n,
            Some(NameInfo {
                open: true,
                time: t
            })
        );
        assert_eq!(parse_name("nf-v05.2026-11-22.021500+0000.bak"), None);
        assert_eq!(parse_name("README"), None);
        assert_eq!(parse_name("nf-v05.2026-13-22.021500+0000"), None);
    }

    #[test]
    fn gaps_are_runs_of_uncovered_slots() {
        let covered: BTreeSet<i64> = [0, 300, 1200, 1500].into_iter().collect();
        assert_eq!(
            gaps(&covered, 0, 2100),
            vec![
                Gap { from: 600, to: 900 },
                Gap {
                    from: 1800,
                    to: 2100
                }
            ]
        );
        assert_eq!(gaps(&covered, 300, 300), vec![]);
        assert_eq!(gaps(&covered, 600, 600)[0].slots(), 1);
    }
}
