//! The flow directory as flow-capture leaves it: which files exist, which
//! are finished, and which 5-minute slots they cover. Names, slots and the
//! directory walk are [`formats::archive`]'s; only names are read here,
//! opening files is the caller's business.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use formats::archive::{self, ArchiveError, FileName, ListOptions, Schedule, DEFAULT_PERIOD};
use formats::time::Zone;

use crate::Error;

/// Length of a rotation slot, in seconds (flow-capture's default period).
pub const SLOT_SECS: i64 = DEFAULT_PERIOD as i64;

/// The slots of times that are not file names (`--since`, the first
/// run's look-back): flow-capture's default, 5-minute slots from midnight
/// in the local zone (the collector's default zone, on the host it runs).
pub const SCHEDULE: Schedule = Schedule {
    period: DEFAULT_PERIOD,
    zone: Zone::Local,
};

/// Start of the slot holding unix time `t` ([`SCHEDULE`]).
pub fn slot_of(t: i64) -> i64 {
    SCHEDULE.slot(t).start
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
    /// The name, as [`FileName`] reads it.
    pub name: FileName,
}

impl FlowFile {
    /// Start of the slot the file belongs to: 5-minute slots from midnight
    /// in the zone the name was written in (its own offset), whatever the
    /// zone of this process.
    pub fn slot(&self) -> i64 {
        Schedule::new(DEFAULT_PERIOD, Zone::Fixed(self.name.offset))
            .slot(self.name.time)
            .start
    }
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

/// Lists the flow files under `dir` ([`archive::list`]: recursively,
/// following the collector's nesting and linked directories; finished and
/// `tmp-` files). Fails when `dir` itself cannot be read.
pub fn list(dir: &Path) -> Result<Listing, Error> {
    let opts = ListOptions {
        include_tmp: true,
        follow_dir_links: true,
    };
    let listing = archive::list(dir, opts).map_err(|e| match e {
        ArchiveError::NotADirectory { .. } => Error::NotADirectory(dir.to_path_buf()),
        source => Error::Listing {
            path: dir.to_path_buf(),
            source,
        },
    })?;
    let files = listing
        .files
        .into_iter()
        .map(|f| FlowFile {
            rel: f.rel,
            path: f.path,
            time: f.name.time,
            open: f.name.tmp,
            name: f.name,
        })
        .collect();
    let unreadable_dirs = listing
        .unreadable
        .iter()
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
            let rel = match rel.to_string_lossy() {
                r if r.is_empty() => ".".to_string(),
                r => r.into_owned(),
            };
            let why = e
                .io_error()
                .map_or_else(|| e.to_string(), archive::io_reason);
            (rel, why)
        })
        .collect();
    Ok(Listing {
        files,
        unreadable_dirs,
    })
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

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"").unwrap();
    }

    #[test]
    fn the_listing_has_finished_and_open_files_at_their_utc_time() {
        let t = 1_795_313_700; // 2026-11-22 02:15:00 UTC
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("2026/2026-11/2026-11-22/nf-v05.2026-11-22.021500+0000"));
        touch(&d.join("2026/2026-11/2026-11-22/tmp-nf-v05.2026-11-22.074500+0530"));
        touch(&d.join("ft-v05.2026-11-21.211500-0500"));
        touch(&d.join("tmp-v05.2026-11-21.211500-0500"));
        touch(&d.join("nf-v05.2026-11-22.021500+0000.bak"));
        touch(&d.join("README"));
        touch(&d.join("nf-v05.2026-13-22.021500+0000"));
        let l = list(d).unwrap();
        let got: Vec<(&str, i64, bool)> = l
            .files
            .iter()
            .map(|f| (f.rel.as_str(), f.time, f.open))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "2026/2026-11/2026-11-22/nf-v05.2026-11-22.021500+0000",
                    t,
                    false
                ),
                (
                    "2026/2026-11/2026-11-22/tmp-nf-v05.2026-11-22.074500+0530",
                    t,
                    true
                ),
                ("ft-v05.2026-11-21.211500-0500", t, false),
                ("tmp-v05.2026-11-21.211500-0500", t, true),
            ]
        );
        assert!(l.files.iter().all(|f| f.path == d.join(&f.rel)));
        assert_eq!(l.covered_slots().into_iter().collect::<Vec<_>>(), [t]);
        assert!(l.unreadable_dirs.is_empty());
    }

    /// A file's slot comes from its own name: its offset's midnight, not
    /// the epoch (they differ for an offset that is not a whole number of
    /// slots) and not this process's zone.
    #[test]
    fn a_file_belongs_to_the_slot_of_its_own_zone() {
        let dir = tempfile::tempdir().unwrap();
        // 10:07 at +00:02 (a whole-minute offset off the 5-minute grid) is
        // in that zone's 10:05 slot, i.e. 10:03 UTC, not 10:05 UTC.
        touch(&dir.path().join("nf-v05.2026-11-22.100700+0002"));
        let l = list(dir.path()).unwrap();
        let utc_midnight = 1_795_305_600; // 2026-11-22 00:00 UTC
        assert_eq!(l.files[0].time, utc_midnight + 10 * 3600 + 5 * 60);
        assert_eq!(l.files[0].slot(), utc_midnight + 10 * 3600 + 3 * 60);
    }

    #[test]
    fn unreadable_subdirectories_are_reported_not_fatal() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("2026");
        touch(&locked.join("nf-v05.2026-11-22.021500+0000"));
        touch(&dir.path().join("nf-v05.2026-11-22.022000+0000"));
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let readable_anyway = std::fs::read_dir(&locked).is_ok(); // root
        let l = list(dir.path());
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        let l = l.unwrap();
        if readable_anyway {
            assert!(l.unreadable_dirs.is_empty());
            assert_eq!(l.files.len(), 2);
        } else {
            assert_eq!(l.files.len(), 1);
            assert_eq!(
                l.unreadable_dirs,
                [("2026".to_string(), "Permission denied".to_string())]
            );
        }
    }

    #[test]
    fn a_missing_or_plain_flow_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let e = list(&missing).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}: cannot read the flow directory: No such file or directory",
                missing.display()
            )
        );
        let plain = dir.path().join("file");
        touch(&plain);
        let e = list(&plain).unwrap_err().to_string();
        assert!(
            e.ends_with(": not a directory (-d wants the collector's flow directory)"),
            "{e}"
        );
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
