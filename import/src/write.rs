//! Output: native flow files rotated into 5-minute slots by flow time (the
//! record's Last = export time), named and nested like flow-capture's
//! (`YYYY/YYYY-MM/YYYY-MM-DD/nf-v05.YYYY-MM-DD.HHMMSS+ZZZZ`, written as
//! `tmp-…`, finished, fsynced, renamed), or one ft stream (`-o -`).
//!
//! Slots, names, nesting and the tmp-then-rename are
//! [`formats::archive`]'s, the same code flow-capture uses; a slot written
//! twice (again in this run, or by an earlier import) gets a numbered
//! sibling (`….+0000.1`) instead of being overwritten.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use formats::archive::{nest_dir, FileKind, FileName, Schedule, Slot, TmpFile};
use formats::ft::{ByteOrder, FtHeader, FtWriter};
use formats::native::{NativeHeader, NativeWriter, WriterOptions};
use formats::time::Zone;
use formats::Record;

use crate::Error;

/// Rotation period, seconds.
pub const SLOT_SECS: u32 = 300;

/// Files kept open at once; the oldest slot is finished beyond this.
pub const MAX_OPEN_FILES: usize = 16;

/// Largest total size of NAT rows stored in one file's header metadata.
pub const MAX_NAT_BYTES_PER_FILE: usize = 900 * 1024;

/// Metadata key of one NAT translation row (see [`crate::lookup`]).
pub const META_NAT: &str = "import.nat";

struct OpenFile {
    w: NativeWriter<BufWriter<File>>,
    file: TmpFile,
    exporters: BTreeSet<u32>,
    last_exporter: Option<u32>,
    first_secs: u32,
    last_secs: u32,
    nat: Vec<String>,
    nat_bytes: usize,
}

/// Writes records into slotted native files under a directory.
pub struct SlotWriter {
    dir: PathBuf,
    schedule: Schedule,
    nesting: i8,
    hostname: String,
    comment: String,
    open: BTreeMap<i64, OpenFile>,
    finished: HashSet<i64>,
    files: Vec<PathBuf>,
    /// The slot of the last record (consecutive records nearly always
    /// share one, so the zone is not consulted per record).
    last_slot: Option<Slot>,
    /// Metadata written into every file (interface map, exporters,
    /// prefixes…); the caller keeps it current, it is read at finish.
    pub meta: Vec<(String, String)>,
    nat_dropped: u64,
}

impl std::fmt::Debug for SlotWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotWriter")
            .field("dir", &self.dir)
            .field("open", &self.open.len())
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

impl SlotWriter {
    /// A writer into `dir` (created when the first file is): 5-minute
    /// slots and names in `zone`, `nesting` levels of
    /// `YYYY/YYYY-MM/YYYY-MM-DD` (0..=3).
    pub fn new(dir: &Path, zone: Zone, nesting: u8, comment: String) -> SlotWriter {
        let hostname = std::fs::read_to_string("/etc/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        SlotWriter {
            dir: dir.to_path_buf(),
            schedule: Schedule::new(SLOT_SECS, zone),
            nesting: nesting.min(3) as i8,
            hostname,
            comment,
            open: BTreeMap::new(),
            finished: HashSet::new(),
            files: Vec::new(),
            last_slot: None,
            meta: Vec::new(),
            nat_dropped: 0,
        }
    }

    fn slot_of(&mut self, secs: u32) -> Slot {
        let t = i64::from(secs);
        match self.last_slot {
            Some(s) if s.contains(t) => s,
            _ => {
                let s = self.schedule.slot(t);
                self.last_slot = Some(s);
                s
            }
        }
    }

    fn file_for(&mut self, secs: u32) -> Result<&mut OpenFile, Error> {
        let slot = self.slot_of(secs).start;
        let f = match self.open.remove(&slot) {
            Some(f) => f,
            None => {
                while self.open.len() >= MAX_OPEN_FILES {
                    let Some((&oldest, _)) = self.open.iter().next() else {
                        break;
                    };
                    self.finish_slot(oldest)?;
                }
                self.create(slot)?
            }
        };
        Ok(self.open.entry(slot).or_insert(f))
    }

    fn create(&mut self, slot: i64) -> Result<OpenFile, Error> {
        let zone = self.schedule.zone;
        let dir = self.dir.join(nest_dir(self.nesting, slot, zone));
        // A slot already written (earlier in this run, or by a previous
        // import) gets a numbered sibling instead of being overwritten.
        let base = FileName::new(FileKind::Native, 5, slot, zone);
        let again = usize::from(self.finished.contains(&slot));
        let (file, _) = TmpFile::create_free(&dir, base.numbered().skip(again))?;
        let header = NativeHeader {
            export_version: 5,
            cap_start: clamp_u32(slot),
            hostname: self.hostname.clone(),
            comment: self.comment.clone(),
            metadata: self.meta.clone(),
            ..NativeHeader::default()
        };
        let w = match file.writer().map_err(Error::Archive).and_then(|f| {
            NativeWriter::new(
                BufWriter::with_capacity(256 * 1024, f),
                &header,
                WriterOptions::default(),
            )
            .map_err(|e| Error::native(file.path(), e))
        }) {
            Ok(w) => w,
            Err(e) => {
                let _ = file.abort();
                return Err(e);
            }
        };
        Ok(OpenFile {
            w,
            file,
            exporters: BTreeSet::new(),
            last_exporter: None,
            first_secs: u32::MAX,
            last_secs: 0,
            nat: Vec::new(),
            nat_bytes: 0,
        })
    }

    /// Writes one record into the file of its slot (by export time = Last).
    pub fn write(&mut self, r: &Record) -> Result<(), Error> {
        let slot = self.slot_of(r.unix_secs).start;
        let f = match self.open.get_mut(&slot) {
            Some(f) => f,
            None => self.file_for(r.unix_secs)?,
        };
        if f.last_exporter != Some(r.exporter) {
            f.exporters.insert(r.exporter);
            f.last_exporter = Some(r.exporter);
        }
        f.first_secs = f.first_secs.min(r.unix_secs);
        f.last_secs = f.last_secs.max(r.unix_secs);
        match f.w.write(r) {
            Ok(()) => Ok(()),
            Err(e) => Err(Error::native(f.file.path(), e)),
        }
    }

    /// Stores a NAT translation row with the file holding time `secs`
    /// (written right after that connection's records).
    pub fn write_nat(&mut self, secs: u32, row: String) -> Result<(), Error> {
        let f = self.file_for(secs)?;
        if f.nat_bytes + row.len() > MAX_NAT_BYTES_PER_FILE {
            self.nat_dropped += 1;
            return Ok(());
        }
        f.nat_bytes += row.len() + META_NAT.len() + 8;
        f.nat.push(row);
        Ok(())
    }

    fn finish_slot(&mut self, slot: i64) -> Result<(), Error> {
        let Some(mut f) = self.open.remove(&slot) else {
            return Ok(());
        };
        self.finished.insert(slot);
        let flows = f.w.records_written();
        let h = f.w.header_mut();
        h.flows = flows;
        h.cap_start = clamp_u32(slot);
        h.cap_end = f.last_secs.max(h.cap_start);
        h.exporters = f.exporters.iter().copied().collect();
        h.metadata = self.meta.clone();
        h.metadata
            .extend(f.nat.drain(..).map(|r| (META_NAT.to_string(), r)));
        f.w.finish().map_err(|e| Error::native(f.file.path(), e))?;
        let path = f.file.commit()?;
        self.files.push(path);
        Ok(())
    }

    /// Finishes every open file; returns the files written, in order.
    pub fn finish(mut self) -> Result<(Vec<PathBuf>, u64), Error> {
        let slots: Vec<i64> = self.open.keys().copied().collect();
        for s in slots {
            self.finish_slot(s)?;
        }
        self.files.sort();
        Ok((self.files, self.nat_dropped))
    }
}

fn clamp_u32(t: i64) -> u32 {
    t.clamp(0, i64::from(u32::MAX)) as u32
}

/// An ft stream of v5 records on a writer (stdout for `-o -`).
pub struct FtStream<W: Write> {
    w: FtWriter<W>,
    batch: Vec<Record>,
}

impl<W: Write> std::fmt::Debug for FtStream<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtStream")
            .field("batch", &self.batch.len())
            .finish_non_exhaustive()
    }
}

impl<W: Write> FtStream<W> {
    /// Writes the stream header.
    pub fn new(w: W, comment: &str) -> Result<Self, Error> {
        let h = FtHeader {
            byte_order: ByteOrder::host(),
            stream_version: 3,
            export_version: Some(5),
            flags: Some(formats::ft::FLAG_STREAMING),
            comments: Some(comment.to_string()),
            ..FtHeader::default()
        };
        let w = FtWriter::new(w, &h, None).map_err(Error::ft)?;
        Ok(FtStream {
            w,
            batch: Vec::with_capacity(1024),
        })
    }

    /// Queues one record.
    pub fn write(&mut self, r: &Record) -> Result<(), Error> {
        self.batch.push(*r);
        if self.batch.len() >= 1024 {
            self.w.write_all(&self.batch).map_err(Error::ft)?;
            self.batch.clear();
        }
        Ok(())
    }

    /// Writes what is queued and ends the stream.
    pub fn finish(mut self) -> Result<W, Error> {
        self.w.write_all(&self.batch).map_err(Error::ft)?;
        self.w.finish().map_err(Error::ft)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(unix_secs: u32) -> Record {
        Record {
            unix_secs,
            exporter: 0x0a00_0001,
            packets: 1,
            octets: 40,
            ..Record::default()
        }
    }

    fn rels(dir: &Path) -> Vec<String> {
        let opts = formats::archive::ListOptions {
            include_tmp: true,
            ..Default::default()
        };
        let l = formats::archive::list(dir, opts).unwrap();
        l.files.into_iter().map(|f| f.rel).collect()
    }

    #[test]
    fn slots_and_names_like_the_collector() {
        let t = 1_767_225_600 + 301; // 2026-01-01 00:05:01 UTC
        for (zone, nesting, want) in [
            (
                Zone::UTC,
                3,
                "2026/2026-01/2026-01-01/nf-v05.2026-01-01.000500+0000",
            ),
            (
                Zone::Fixed(-5 * 3600),
                1,
                "2025/nf-v05.2025-12-31.190500-0500",
            ),
            (
                Zone::Fixed(5 * 3600 + 1800),
                0,
                "nf-v05.2026-01-01.053500+0530",
            ),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let mut w = SlotWriter::new(dir.path(), zone, nesting, String::new());
            w.write(&rec(t)).unwrap();
            w.write(&rec(t + 200)).unwrap();
            assert_eq!(rels(dir.path()), [want.replace("nf-", "tmp-nf-")]);
            let (files, _) = w.finish().unwrap();
            assert_eq!(files, [dir.path().join(want)], "{zone}");
            assert_eq!(rels(dir.path()), [want]);
        }
    }

    #[test]
    fn a_slot_written_again_gets_a_numbered_sibling() {
        let dir = tempfile::tempdir().unwrap();
        let t = 1_767_225_600 + 301;
        let mut w = SlotWriter::new(dir.path(), Zone::UTC, 0, String::new());
        w.write(&rec(t)).unwrap();
        // 17 more slots: the first one is finished early (MAX_OPEN_FILES).
        for k in 1..=MAX_OPEN_FILES as u32 {
            w.write(&rec(t + 300 * k)).unwrap();
        }
        w.write(&rec(t + 1)).unwrap();
        let (files, _) = w.finish().unwrap();
        assert_eq!(files.len(), MAX_OPEN_FILES + 2);
        let mut w = SlotWriter::new(dir.path(), Zone::UTC, 0, String::new());
        w.write(&rec(t)).unwrap();
        w.finish().unwrap();
        let names = rels(dir.path());
        let first: Vec<&String> = names
            .iter()
            .filter(|n| n.starts_with("nf-v05.2026-01-01.000500+0000"))
            .collect();
        assert_eq!(
            first,
            [
                "nf-v05.2026-01-01.000500+0000",
                "nf-v05.2026-01-01.000500+0000.1",
                "nf-v05.2026-01-01.000500+0000.2"
            ]
        );
    }
}
