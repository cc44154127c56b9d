//! Finalizing the `tmp-` files a killed writer left behind.
//!
//! A `tmp-` file holds everything its writer flushed: a native file every
//! complete block, an ft file every complete record. Recovery reads what
//! is readable and writes it into a finished file of **the format the
//! bytes are in** (the magic decides, not the name: an ft file that was
//! given a `tmp-nf-` name becomes `ft-…`), under the name's time; a file
//! that is already complete is only renamed. The new file is written as
//! `<tmp name>.recovering` and renamed like any [`TmpFile`], then the
//! `tmp-` file is removed, so a crash during recovery loses nothing.
//!
//! A file whose lock is held (its writer is alive) is left alone, and so
//! is anything that is not a flow file.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::name::vacant;
use super::tmp::try_lock;
use super::TmpFile;
use super::{first_free, list, sync_dir, ArchiveError, FileKind, FileName, ListOptions, Op};
use crate::ft::{FtError, FtReader, FtWriter, FLAG_DONE};
use crate::native::{NativeError, NativeFile, NativeWriter, WriterOptions};
use crate::time::Zone;
use crate::Record;

/// Suffix of the work file a recovery writes before renaming it.
pub const RECOVERING: &str = ".recovering";

/// A file shorter than this whose header is cut off holds no flows and is
/// removed rather than reported.
const SMALL: usize = 4096;

/// What recovery did with one `tmp-` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovered {
    /// It was complete (its writer finished it but did not rename it):
    /// renamed.
    Complete {
        /// The `tmp-` file.
        tmp: PathBuf,
        /// Its final path.
        path: PathBuf,
    },
    /// Its readable records were written into a finished file.
    Rewritten {
        /// The `tmp-` file (removed).
        tmp: PathBuf,
        /// The finished file.
        path: PathBuf,
        /// Flows kept.
        flows: u64,
        /// Native blocks that could not be read (skipped).
        bad_blocks: usize,
        /// An ft file marked complete turned out cut off: only the flows
        /// before the cut are kept.
        cut_off: bool,
    },
    /// It held nothing (empty, or a header cut off before any flow):
    /// removed.
    Removed {
        /// The `tmp-` file (removed).
        tmp: PathBuf,
        /// Why it held nothing.
        why: &'static str,
    },
}

impl Recovered {
    /// The finished file, unless the `tmp-` file was removed.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Recovered::Complete { path, .. } | Recovered::Rewritten { path, .. } => Some(path),
            Recovered::Removed { .. } => None,
        }
    }
}

impl fmt::Display for Recovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recovered::Complete { tmp, path } => write!(
                f,
                "recovered {} as {} (it was complete)",
                tmp.display(),
                path.display()
            ),
            Recovered::Rewritten {
                tmp,
                path,
                flows,
                bad_blocks,
                cut_off,
            } => {
                write!(
                    f,
                    "recovered {} as {} ({flows} flows",
                    tmp.display(),
                    path.display()
                )?;
                if *bad_blocks > 0 {
                    write!(f, ", {bad_blocks} unreadable blocks skipped")?;
                }
                if *cut_off {
                    f.write_str(", marked complete but cut off: the flows after the cut are lost")?;
                }
                f.write_str(")")
            }
            Recovered::Removed { tmp, why } => write!(f, "removed {}: {why}", tmp.display()),
        }
    }
}

fn remove(p: &Path) -> Result<(), ArchiveError> {
    std::fs::remove_file(p).map_err(|e| ArchiveError::io(p, Op::Remove, e))
}

/// Finalizes one `tmp-` file (see the module docs). Fails, leaving the
/// file alone, if its name is not a `tmp-` name of ours, if a writer holds
/// its lock, if it is not a flow file, or on an I/O error.
pub fn recover_file(tmp: &Path) -> Result<Recovered, ArchiveError> {
    let not_tmp = || ArchiveError::NotTmpName {
        path: tmp.to_path_buf(),
    };
    let tmp_name = tmp
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(not_tmp)?;
    let name = FileName::parse(tmp_name)
        .filter(|n| n.tmp)
        .ok_or_else(not_tmp)?;
    let dir = tmp.parent().unwrap_or(Path::new(""));
    let mut file = File::open(tmp).map_err(|e| ArchiveError::io(tmp, Op::Open, e))?;
    if !try_lock(&file) {
        return Err(ArchiveError::Locked {
            path: tmp.to_path_buf(),
        });
    }
    let mtime = file
        .metadata()
        .ok()
        .and_then(|m| m.modified().ok())
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs().min(u64::from(u32::MAX)) as u32);
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| ArchiveError::io(tmp, Op::Read, e))?;
    let Some(kind) = FileKind::from_detected(crate::detect(&bytes)) else {
        if bytes.is_empty() {
            remove(tmp)?;
            return Ok(Recovered::Removed {
                tmp: tmp.to_path_buf(),
                why: "empty",
            });
        }
        return Err(ArchiveError::NotFlowFile {
            path: tmp.to_path_buf(),
        });
    };
    // The finished name of the format the bytes are in; if it is taken,
    // the next free second (in the name's own offset).
    let want = name.with_kind(kind).as_finished();
    let final_name = if vacant(&dir.join(want.to_string()))? {
        want
    } else {
        first_free(dir, want.later(Zone::Fixed(want.offset)).skip(1))?
    };
    let final_path = dir.join(final_name.to_string());
    let job = Job {
        tmp,
        tmp_name,
        dir,
        final_path,
        mtime,
    };
    match kind {
        FileKind::Native => job.native(&bytes),
        FileKind::Ft => job.ft(&bytes),
    }
}

/// One recovery: where from, where to.
struct Job<'a> {
    tmp: &'a Path,
    tmp_name: &'a str,
    dir: &'a Path,
    final_path: PathBuf,
    mtime: u32,
}

impl Job<'_> {
    fn removed(&self, why: &'static str) -> Result<Recovered, ArchiveError> {
        remove(self.tmp)?;
        Ok(Recovered::Removed {
            tmp: self.tmp.to_path_buf(),
            why,
        })
    }

    fn renamed(self) -> Result<Recovered, ArchiveError> {
        std::fs::rename(self.tmp, &self.final_path).map_err(|source| ArchiveError::Rename {
            from: self.tmp.to_path_buf(),
            to: self.final_path.clone(),
            source,
        })?;
        sync_dir(self.dir)?;
        Ok(Recovered::Complete {
            tmp: self.tmp.to_path_buf(),
            path: self.final_path,
        })
    }

    /// Writes the new file through `write` as `<tmp>.recovering`, commits
    /// it under the final name and removes the `tmp-` file.
    fn rewrite(
        self,
        flows: u64,
        bad_blocks: usize,
        cut_off: bool,
        write: impl FnOnce(&TmpFile) -> Result<(), ArchiveError>,
    ) -> Result<Recovered, ArchiveError> {
        let work = self.dir.join(format!("{}{RECOVERING}", self.tmp_name));
        match std::fs::remove_file(&work) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ArchiveError::io(&work, Op::Remove, e)),
        }
        let out = TmpFile::create(&work, &self.final_path)?;
        if let Err(e) = write(&out) {
            let _ = out.abort();
            return Err(e);
        }
        let path = out.commit()?;
        remove(self.tmp)?;
        sync_dir(self.dir)?;
        Ok(Recovered::Rewritten {
            tmp: self.tmp.to_path_buf(),
            path,
            flows,
            bad_blocks,
            cut_off,
        })
    }

    fn native(self, bytes: &[u8]) -> Result<Recovered, ArchiveError> {
        let nf = match NativeFile::open(bytes) {
            Ok(nf) => nf,
            Err(NativeError::Truncated { .. }) if bytes.len() < SMALL => {
                return self.removed("no complete header, no flows")
            }
            Err(e) => return Err(ArchiveError::native(self.tmp, e)),
        };
        if nf.header().complete {
            return self.renamed();
        }
        let mut records = Vec::new();
        let bad_blocks = nf.decode_all(&mut records).len();
        let mut h = nf.header().clone();
        h.complete = false;
        let (tmp_name, mtime) = (self.tmp_name, self.mtime);
        self.rewrite(records.len() as u64, bad_blocks, false, |out| {
            let work = out.path();
            let err = |e| ArchiveError::native(work, e);
            let mut w =
                NativeWriter::new(BufWriter::new(out.writer()?), &h, WriterOptions::default())
                    .map_err(err)?;
            w.write_all(&records).map_err(err)?;
            let hm = w.header_mut();
            hm.flows = records.len() as u64;
            hm.cap_end = mtime.max(h.cap_start);
            hm.exporters = exporters(&records);
            hm.metadata
                .push(("recovered_from".into(), tmp_name.to_string()));
            w.finish().map(|_| ()).map_err(err)
        })
    }

    fn ft(self, bytes: &[u8]) -> Result<Recovered, ArchiveError> {
        let mut rd = match FtReader::new(bytes) {
            Ok(r) => r,
            Err(
                FtError::ShortHeader { .. } | FtError::ShortHeaderLen | FtError::ShortPrefix { .. },
            ) if bytes.len() < SMALL => return self.removed("no complete header, no flows"),
            Err(e) => return Err(ArchiveError::ft(self.tmp, e)),
        };
        let mut h = rd.header().clone();
        let mut records = Vec::new();
        let mut cut = false;
        loop {
            match rd.read_batch(&mut records, 8192) {
                Ok(0) => break,
                Ok(_) => {}
                Err(_) => {
                    cut = true;
                    break;
                }
            }
        }
        cut |= rd.warning().is_some();
        let done = h.flags() & FLAG_DONE != 0;
        let counted = h
            .flow_count
            .is_none_or(|c| u64::from(c) == (records.len() as u64).min(u64::from(u32::MAX)));
        if done && !cut && counted {
            return self.renamed();
        }
        // Marked done but short: its counters and end time are the
        // writer's, only the flow count changes.
        let cap_end = match h.cap_end {
            Some(e) if done && e > 0 => e,
            _ => self.mtime.max(h.cap_start.unwrap_or(0)),
        };
        let level = if h.compressed() { 6 } else { 0 };
        // Every counter TLV exists from the start, so that the rewrite at
        // the end keeps the header's size.
        h.cap_end = Some(0);
        h.flow_count = Some(0);
        h.flow_lost = Some(h.flow_lost.unwrap_or(0));
        h.pkt_corrupt = Some(h.pkt_corrupt.unwrap_or(0));
        h.seq_reset = Some(h.seq_reset.unwrap_or(0));
        h.flags = Some(0);
        self.rewrite(records.len() as u64, 0, done, |out| {
            let work = out.path();
            let err = |e| ArchiveError::ft(work, e);
            let mut w =
                FtWriter::new(BufWriter::new(out.writer()?), &h, Some(level)).map_err(err)?;
            w.write_all(&records).map_err(err)?;
            h.cap_end = Some(cap_end);
            h.flow_count = Some(records.len().min(u32::MAX as usize) as u32);
            let mut bw = w.finish_rewrite(&h).map_err(err)?;
            bw.flush().map_err(|e| ArchiveError::io(work, Op::Write, e))
        })
    }
}

fn exporters(records: &[Record]) -> Vec<u32> {
    let set: BTreeSet<u32> = records.iter().map(|r| r.exporter).collect();
    set.into_iter().collect()
}

/// Finalizes every `tmp-` flow file under `root` ([`recover_file`], oldest
/// first) after removing the work files of an interrupted recovery.
/// Returns one result per file, and an error per directory that could not
/// be read.
pub fn recover_dir(root: &Path) -> Vec<Result<Recovered, ArchiveError>> {
    let opts = ListOptions {
        include_tmp: true,
        ..ListOptions::default()
    };
    let listing = match list(root, opts) {
        Ok(l) => l,
        Err(e) => return vec![Err(e)],
    };
    let mut out: Vec<Result<Recovered, ArchiveError>> =
        listing.unreadable.into_iter().map(Err).collect();
    for p in &listing.recovering {
        if let Err(e) = remove(p) {
            out.push(Err(e));
        }
    }
    for f in listing.files.iter().filter(|f| f.name.tmp) {
        out.push(recover_file(&f.path));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ft::{ByteOrder, FtHeader, FLAG_COMPRESS};
    use crate::native::NativeHeader;

    const T: i64 = 1_795_313_700; // 2026-11-22 02:15:00 UTC

    fn recs(n: u32) -> Vec<Record> {
        (0..n)
            .map(|i| Record {
                unix_secs: T as u32,
                sys_uptime_ms: 100_000,
                exporter: 7 + i % 2,
                src_addr: 0x0a00_0000 + i,
                packets: i + 1,
                octets: 40 * (i + 1),
                protocol: 6,
                ..Record::default()
            })
            .collect()
    }

    fn name(kind: FileKind) -> FileName {
        FileName::new(kind, 5, T, Zone::UTC)
    }

    /// A native file as a killed collector leaves it: blocks, no trailer.
    fn native_tmp(dir: &Path, name: FileName, n: u32, finish: bool) -> PathBuf {
        let p = dir.join(name.as_tmp().to_string());
        let h = NativeHeader {
            export_version: 5,
            cap_start: T as u32,
            comment: "kept".into(),
            ..NativeHeader::default()
        };
        let mut w = NativeWriter::new(Vec::new(), &h, WriterOptions::default()).unwrap();
        w.write_all(&recs(n)).unwrap();
        w.flush_block().unwrap();
        let bytes = if finish {
            w.header_mut().flows = u64::from(n);
            w.finish().unwrap()
        } else {
            w.get_ref().clone()
        };
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// An ft file; `done` rewrites its header as finished.
    fn ft_bytes(n: u32, level: u32, done: bool) -> Vec<u8> {
        let mut h = FtHeader {
            byte_order: ByteOrder::Little,
            stream_version: 3,
            export_version: Some(5),
            cap_start: Some(T as u32),
            cap_end: Some(0),
            flags: Some(0),
            flow_count: Some(0),
            flow_lost: Some(3),
            pkt_corrupt: Some(0),
            seq_reset: Some(0),
            hostname: Some("h".into()),
            ..FtHeader::default()
        };
        let mut w = FtWriter::new(std::io::Cursor::new(Vec::new()), &h, Some(level)).unwrap();
        w.write_all(&recs(n)).unwrap();
        if done {
            h.cap_end = Some(T as u32 + 300);
            h.flow_count = Some(n);
            w.finish_rewrite(&h).unwrap().into_inner()
        } else {
            w.flush().unwrap();
            w.finish().unwrap().into_inner()
        }
    }

    fn read_ft(p: &Path) -> (FtHeader, Vec<Record>) {
        let mut rd = FtReader::new(File::open(p).unwrap()).unwrap();
        let r = rd.read_all().unwrap();
        assert!(rd.warning().is_none(), "{:?}", rd.warning());
        (rd.header().clone(), r)
    }

    /// Every entry of `dir`, flow file or not, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_killed_native_writers_file_is_rewritten_complete() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = native_tmp(dir.path(), name(FileKind::Native), 20, false);
        let r = recover_file(&tmp).unwrap();
        let want = dir.path().join("nf-v05.2026-11-22.021500+0000");
        assert_eq!(
            r,
            Recovered::Rewritten {
                tmp: tmp.clone(),
                path: want.clone(),
                flows: 20,
                bad_blocks: 0,
                cut_off: false
            }
        );
        assert!(r.to_string().ends_with("(20 flows)"), "{r}");
        assert_eq!(names(dir.path()), ["nf-v05.2026-11-22.021500+0000"]);
        let nf = NativeFile::open(std::fs::read(&want).unwrap()).unwrap();
        let h = nf.header();
        assert!(h.complete);
        assert_eq!((h.flows, h.comment.as_str()), (20, "kept"));
        assert_eq!(h.exporters, [7, 8]);
        assert!(h.metadata.contains(&(
            "recovered_from".into(),
            "tmp-nf-v05.2026-11-22.021500+0000".into()
        )));
        let mut out = Vec::new();
        assert!(nf.decode_all(&mut out).is_empty());
        assert_eq!(out, recs(20));
    }

    #[test]
    fn a_finished_but_unrenamed_file_is_only_renamed() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = native_tmp(dir.path(), name(FileKind::Native), 5, true);
        let before = std::fs::read(&tmp).unwrap();
        let r = recover_file(&tmp).unwrap();
        assert!(matches!(r, Recovered::Complete { .. }), "{r}");
        assert!(r.to_string().ends_with("(it was complete)"));
        let p = dir.path().join("nf-v05.2026-11-22.021500+0000");
        assert_eq!(std::fs::read(p).unwrap(), before);
        let tmp = dir.path().join("tmp-v05.2026-11-22.021500+0000");
        std::fs::write(&tmp, ft_bytes(4, 6, true)).unwrap();
        let r = recover_file(&tmp).unwrap();
        assert!(matches!(r, Recovered::Complete { .. }), "{r}");
        assert_eq!(
            names(dir.path()),
            [
                "ft-v05.2026-11-22.021500+0000",
                "nf-v05.2026-11-22.021500+0000"
            ]
        );
    }

    /// Regression: the final name used to come from the tmp- name, so ft
    /// bytes under `tmp-nf-` became an `nf-` file (and native bytes under
    /// `tmp-` an `ft-` file).
    #[test]
    fn the_final_name_follows_the_bytes_not_the_tmp_name() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp-nf-v05.2026-11-22.021500+0000");
        std::fs::write(&tmp, ft_bytes(3, 0, false)).unwrap();
        let r = recover_file(&tmp).unwrap();
        assert_eq!(
            r.path(),
            Some(dir.path().join("ft-v05.2026-11-22.021500+0000").as_path())
        );
        let (h, got) = read_ft(r.path().unwrap());
        assert_eq!(got, recs(3));
        assert_eq!(h.flow_count, Some(3));
        assert_eq!(h.flow_lost, Some(3));
        let tmp = native_tmp(dir.path(), name(FileKind::Ft), 2, false);
        assert_eq!(tmp.file_name().unwrap(), "tmp-v05.2026-11-22.021500+0000");
        let r = recover_file(&tmp).unwrap();
        assert_eq!(
            r.path(),
            Some(dir.path().join("nf-v05.2026-11-22.021500+0000").as_path())
        );
    }

    /// Regression: an ft file whose header says DONE but whose records are
    /// cut off used to be renamed "(it was complete)" with a flow count
    /// larger than what it holds.
    #[test]
    fn a_cut_off_ft_file_marked_done_is_rewritten_with_what_it_holds() {
        for level in [0, 6] {
            let dir = tempfile::tempdir().unwrap();
            let full = ft_bytes(200, level, true);
            let tmp = dir.path().join("tmp-v05.2026-11-22.021500+0000");
            std::fs::write(&tmp, &full[..full.len() - 100]).unwrap();
            let r = recover_file(&tmp).unwrap();
            let Recovered::Rewritten { flows, cut_off, .. } = &r else {
                panic!("level {level}: {r}");
            };
            assert!(*cut_off, "{r}");
            assert!(*flows < 200, "{r}");
            assert!(!r.to_string().contains("it was complete"), "{r}");
            let (h, got) = read_ft(r.path().unwrap());
            assert_eq!(got.len() as u64, *flows);
            assert_eq!(got[..], recs(200)[..got.len()]);
            assert_eq!(h.flow_count, Some(*flows as u32));
            assert_ne!(h.flags() & FLAG_DONE, 0);
            assert_eq!(h.flags() & FLAG_COMPRESS != 0, level > 0);
            assert_eq!(
                h.cap_end,
                Some(T as u32 + 300),
                "the writer's end time is kept"
            );
            assert_eq!(h.flow_lost, Some(3));
            assert!(!tmp.exists());
        }
    }

    #[test]
    fn empty_headerless_foreign_and_locked_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let empty = d.join("tmp-nf-v05.2026-11-22.021500+0000");
        std::fs::write(&empty, "").unwrap();
        assert_eq!(
            recover_file(&empty).unwrap(),
            Recovered::Removed {
                tmp: empty.clone(),
                why: "empty"
            }
        );
        let short = d.join("tmp-v05.2026-11-22.021500+0000");
        std::fs::write(&short, &ft_bytes(0, 0, false)[..10]).unwrap();
        let r = recover_file(&short).unwrap();
        assert!(
            r.to_string().ends_with("no complete header, no flows"),
            "{r}"
        );
        let short = d.join("tmp-nf-v05.2026-11-22.022000+0000");
        std::fs::write(&short, crate::native::MAGIC).unwrap();
        assert!(matches!(
            recover_file(&short).unwrap(),
            Recovered::Removed { .. }
        ));
        let foreign = d.join("tmp-v05.2026-11-22.022500+0000");
        std::fs::write(&foreign, "not a flow file").unwrap();
        let e = recover_file(&foreign).unwrap_err();
        assert!(matches!(e, ArchiveError::NotFlowFile { .. }), "{e}");
        assert!(e.to_string().contains("not a flow file"));
        let e = recover_file(&d.join("tmp-notes.txt")).unwrap_err();
        assert!(matches!(e, ArchiveError::NotTmpName { .. }), "{e}");
        let live =
            TmpFile::for_name(d, FileName::new(FileKind::Native, 5, T + 900, Zone::UTC)).unwrap();
        let e = recover_file(live.path()).unwrap_err();
        assert!(matches!(e, ArchiveError::Locked { .. }), "{e}");
        assert!(e
            .to_string()
            .contains("in use by another running collector"));
        assert_eq!(
            names(d),
            [
                "tmp-nf-v05.2026-11-22.023000+0000",
                "tmp-v05.2026-11-22.022500+0000"
            ]
        );
    }

    #[test]
    fn a_taken_final_name_moves_to_the_next_free_second() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nf-v05.2026-11-22.021500+0000"), "older").unwrap();
        let tmp = native_tmp(dir.path(), name(FileKind::Native), 1, false);
        let r = recover_file(&tmp).unwrap();
        assert_eq!(
            r.path(),
            Some(dir.path().join("nf-v05.2026-11-22.021501+0000").as_path())
        );
        assert_eq!(
            std::fs::read(dir.path().join("nf-v05.2026-11-22.021500+0000")).unwrap(),
            b"older"
        );
    }

    #[test]
    fn recover_dir_walks_the_nesting_and_clears_interrupted_work() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("2026/2026-11/2026-11-22");
        std::fs::create_dir_all(&nested).unwrap();
        native_tmp(&nested, name(FileKind::Native), 3, false);
        let stale = nested.join(format!("tmp-nf-v05.2026-11-22.021500+0000{RECOVERING}"));
        std::fs::write(&stale, "half").unwrap();
        std::fs::write(dir.path().join("keep.recovering"), "not ours").unwrap();
        let results = recover_dir(dir.path());
        assert_eq!(results.len(), 1);
        let r = results[0].as_ref().unwrap();
        assert_eq!(
            r.path(),
            Some(nested.join("nf-v05.2026-11-22.021500+0000").as_path())
        );
        assert_eq!(names(&nested), ["nf-v05.2026-11-22.021500+0000"]);
        assert!(dir.path().join("keep.recovering").exists());
        let e = recover_dir(&dir.path().join("missing"));
        assert!(matches!(e[..], [Err(ArchiveError::Io { .. })]));
    }
}
